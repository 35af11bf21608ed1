//! Providers swapped for tests (FastAPI's `app.dependency_overrides`), and the route plans they
//! lead to.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Plan, ProviderNode, Registry};
use crate::context::AppShared;
use crate::context::RouteSpec;

/// The overrides of one application.
#[derive(Default)]
pub(crate) struct Overrides {
    /// Whether some provider is overridden, checked before taking the lock: an application
    /// without overrides pays one atomic load per request.
    active: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    providers: Vec<Arc<ProviderNode>>,
    /// By route index.
    plans: Vec<Option<Arc<Plan>>>,
}

/// What planning the routes again needs of the application.
pub(crate) struct Replan<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) routes: Vec<&'a RouteSpec>,
    pub(crate) shared: &'a AppShared,
    pub(crate) lifespan: bool,
}

impl Overrides {
    /// The plan of `route`, with the overrides in place.
    pub(crate) fn plan(&self, route: &RouteSpec, built: Option<&Arc<Plan>>) -> Option<Arc<Plan>> {
        if !self.active.load(Ordering::Acquire) {
            return built.cloned();
        }
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .plans
            .get(route.index)
            .cloned()
            .unwrap_or_else(|| built.cloned())
    }

    /// Changes the overriding providers with `change`, and plans every route again.
    ///
    /// # Errors
    ///
    /// Every mistake the new providers make (nothing changes then).
    pub(crate) fn update(
        &self,
        app: Replan<'_>,
        change: impl FnOnce(&mut Vec<Arc<ProviderNode>>),
    ) -> Result<(), Vec<String>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut providers = state.providers.clone();
        change(&mut providers);
        if providers.is_empty() {
            self.active.store(false, Ordering::Release);
            *state = State::default();
            return Ok(());
        }
        let mut registry = app.registry.clone();
        for provider in &providers {
            registry.insert_shared(provider.clone());
        }
        let mut problems = Vec::new();
        let mut plans = Vec::new();
        for route in &app.routes {
            let plan = match registry.plan(&route.needs) {
                Ok(plan) => plan,
                Err(found) => {
                    for problem in found {
                        problems.push(format!("{} {}: {problem}", route.method, route.template));
                    }
                    None
                }
            };
            if let Some(plan) = &plan {
                check_states(route, plan, &app, &mut problems);
            }
            if plans.len() <= route.index {
                plans.resize(route.index + 1, None);
            }
            plans[route.index] = plan;
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        *state = State { providers, plans };
        self.active.store(true, Ordering::Release);
        Ok(())
    }
}

/// Checks the state an overriding provider reads (with a lifespan, at startup instead).
fn check_states(route: &RouteSpec, plan: &Plan, app: &Replan<'_>, problems: &mut Vec<String>) {
    if app.lifespan {
        return;
    }
    for node in &plan.nodes {
        for (id, name) in &node.provider.spec.states {
            if !app.shared.state.contains(*id) {
                problems.push(format!(
                    "{} {}: the override reads State<{name}>, which was never registered",
                    route.method, route.template
                ));
            }
        }
    }
}
