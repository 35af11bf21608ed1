//! The dependency graph of each route, worked out when the application is built: which
//! providers run, in what order, what waits for what; cycles and missing providers are found
//! here, not at request time.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use http::request::Parts;
use smallvec::SmallVec;

use super::ProviderNode;
use super::provider::AnyValue;
use crate::context::Need;
use crate::extract::{Rejection, RequestContext};
use crate::teardown::CleanupScope;

/// Every provider of an application, by the type it produces.
#[derive(Debug, Default, Clone)]
pub(crate) struct Registry {
    providers: HashMap<TypeId, Arc<ProviderNode>>,
    /// The types given a second provider: a mistake the application reports when it is built
    /// (the second would silently replace the first).
    duplicates: Vec<&'static str>,
}

/// One provider in a route's plan.
#[derive(Debug)]
pub(crate) struct PlanNode {
    pub(crate) provider: Arc<ProviderNode>,
    /// The nodes that must be produced before this one starts.
    pub(crate) waits: Vec<usize>,
    /// Produced up front and cached (something takes it as `Depends`); a node only taken
    /// `Fresh` is produced where it is asked for.
    pub(crate) eager: bool,
    /// A plain `fn` that only plain `fn`s (or the handler) depend on: for a plain-`fn`
    /// handler, produced on the handler's trip to the thread pool, with the other such nodes,
    /// rather than on a trip of its own.
    pub(crate) deferrable: bool,
}

/// A route's providers, dependencies before their dependents.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) nodes: Vec<PlanNode>,
    /// Whether a request must keep cleanups or permits until after its response.
    pub(crate) needs_after: bool,
}

impl Registry {
    /// Adds the provider of its type; a second provider of one type is recorded as a mistake.
    pub(crate) fn insert(&mut self, node: ProviderNode) {
        if self.providers.contains_key(&node.type_id) && !self.duplicates.contains(&node.type_name)
        {
            self.duplicates.push(node.type_name);
        }
        self.insert_shared(Arc::new(node));
    }

    /// The mistakes of registration: one line per type given two providers.
    pub(crate) fn problems(&self) -> impl Iterator<Item = String> + '_ {
        self.duplicates.iter().map(|name| {
            format!(
                "two providers of `{name}`: one type has one provider (the second would replace the first; tests swap one with dependency overrides)"
            )
        })
    }

    /// Adds or replaces the provider of its type, shared with another registry (an override).
    pub(crate) fn insert_shared(&mut self, node: Arc<ProviderNode>) {
        self.providers.insert(node.type_id, node);
    }

    /// The plan for a route needing `roots`, or every mistake found.
    pub(crate) fn plan(&self, roots: &[Need]) -> Result<Option<Arc<Plan>>, Vec<String>> {
        if roots.is_empty() {
            return Ok(None);
        }
        let mut builder = Builder {
            registry: self,
            index: HashMap::new(),
            stack: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            problems: Vec::new(),
        };
        for need in roots {
            builder.visit(*need, "the handler");
        }
        if !builder.problems.is_empty() {
            return Err(builder.problems);
        }
        let Builder { nodes, edges, .. } = builder;
        // Eager: taken as `Depends` by someone (or by the route itself).
        let mut eager = vec![false; nodes.len()];
        for need in roots {
            if !need.fresh {
                eager[builder.index[&need.type_id]] = true;
            }
        }
        for list in &edges {
            for &(target, fresh) in list {
                if !fresh {
                    eager[target] = true;
                }
            }
        }
        // Waits: what it takes as `Depends`, and what its `Fresh` ones wait for (they are
        // produced while it extracts its parameters). Dependencies come first, so one pass.
        let mut waits: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
        for list in &edges {
            let mut mine = Vec::new();
            for &(target, fresh) in list {
                if fresh {
                    mine.extend(waits[target].iter().copied());
                } else {
                    mine.push(target);
                }
            }
            mine.sort_unstable();
            mine.dedup();
            waits.push(mine);
        }
        // Deferrable: a plain `fn` whose dependents are all deferrable. Dependents come after
        // their dependencies, so one pass from the end settles each node before its own.
        let mut deferrable: Vec<bool> = nodes.iter().map(|node| node.blocking).collect();
        for (node, list) in edges.iter().enumerate().rev() {
            if !deferrable[node] {
                for &(target, _) in list {
                    deferrable[target] = false;
                }
            }
        }
        let needs_after = nodes
            .iter()
            .any(|node| node.needs_teardown() || node.holds_permit());
        let nodes = nodes
            .into_iter()
            .zip(waits)
            .zip(eager)
            .zip(deferrable)
            .map(|(((provider, waits), eager), deferrable)| PlanNode {
                provider,
                waits,
                eager,
                deferrable,
            })
            .collect();
        Ok(Some(Arc::new(Plan { nodes, needs_after })))
    }
}

struct Builder<'r> {
    registry: &'r Registry,
    index: HashMap<TypeId, usize>,
    /// The providers being visited, for cycles.
    stack: Vec<(TypeId, &'static str)>,
    nodes: Vec<Arc<ProviderNode>>,
    /// Per node: its targets and whether each is taken `Fresh`.
    edges: Vec<Vec<(usize, bool)>>,
    problems: Vec<String>,
}

impl Builder<'_> {
    fn visit(&mut self, need: Need, by: &str) -> Option<usize> {
        if let Some(&i) = self.index.get(&need.type_id) {
            return Some(i);
        }
        if let Some(at) = self.stack.iter().position(|(id, _)| *id == need.type_id) {
            let cycle: Vec<&str> = self.stack[at..]
                .iter()
                .map(|(_, name)| *name)
                .chain([need.name])
                .collect();
            let problem = format!("dependency cycle: {}", cycle.join(" -> "));
            if !self.problems.contains(&problem) {
                self.problems.push(problem);
            }
            return None;
        }
        let Some(provider) = self.registry.providers.get(&need.type_id) else {
            let problem = format!(
                "{by} needs `{}`, but no provider of it was registered with App::provide",
                need.name
            );
            if !self.problems.contains(&problem) {
                self.problems.push(problem);
            }
            return None;
        };
        let provider = provider.clone();
        self.stack.push((need.type_id, need.name));
        let by = format!("the provider of `{}`", provider.type_name);
        let mut targets = Vec::new();
        for sub in &provider.spec.needs {
            if let Some(target) = self.visit(*sub, &by) {
                let dependency = &self.nodes[target];
                if provider.has_cleanup()
                    && provider.scope == CleanupScope::Request
                    && dependency.has_cleanup()
                    && dependency.scope == CleanupScope::Function
                {
                    self.problems.push(format!(
                        "`{}` is cleaned up after the response but depends on `{}`, which is cleaned up before it (CleanupScope::Function)",
                        provider.type_name, dependency.type_name
                    ));
                }
                targets.push((target, sub.fresh));
            }
        }
        self.stack.pop();
        let i = self.nodes.len();
        self.nodes.push(provider);
        self.edges.push(targets);
        self.index.insert(need.type_id, i);
        Some(i)
    }
}

/// One request's dependency state: the plan, and the cached values.
pub(crate) struct RequestDeps {
    pub(crate) plan: Arc<Plan>,
    /// One per node of the plan; inline for the usual handful, so that a request's cache is
    /// one allocation.
    pub(crate) slots: SmallVec<[OnceLock<AnyValue>; 4]>,
}

impl RequestDeps {
    pub(crate) fn new(plan: Arc<Plan>) -> Self {
        let slots = plan.nodes.iter().map(|_| OnceLock::new()).collect();
        RequestDeps { plan, slots }
    }

    fn index_of(&self, type_id: TypeId) -> Option<usize> {
        self.plan
            .nodes
            .iter()
            .position(|node| node.provider.type_id == type_id)
    }

    /// The cached value of `T`, when it was produced.
    pub(crate) fn cached<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let i = self.index_of(TypeId::of::<T>())?;
        self.slots[i].get()?.clone().downcast::<T>().ok()
    }

    /// Drops the cached values of the providers a plain-`fn` handler produced on its trip to
    /// the thread pool (see [`PlanNode::deferrable`]), once the handler has run: on that
    /// thread, which made them, rather than on the event loop when the request ends. A value
    /// whose drop blocks (a connection handed back to a pool) then does not block the event
    /// loop, and the allocator frees each on the thread it came from. A value a cleanup or
    /// the handler's result still holds lives on in them.
    pub(crate) fn release_deferred(&mut self) {
        for (node, slot) in self.plan.nodes.iter().zip(&mut self.slots) {
            if node.deferrable {
                drop(slot.take());
            }
        }
    }

    /// Produces a value of `type_id` for one parameter, bypassing the cache.
    pub(crate) async fn produce_fresh(
        &self,
        type_id: TypeId,
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<AnyValue, Rejection> {
        let Some(i) = self.index_of(type_id) else {
            tracing::error!("a dependency was asked for that is not in the route's plan");
            return Err(Rejection::Response(crate::response::internal_error()));
        };
        let provider = &self.plan.nodes[i].provider;
        let (value, permit) = (provider.produce(parts, ctx).await?).map_err(Rejection::Error)?;
        provider.settle(&value, permit, ctx);
        Ok(value)
    }
}

impl std::fmt::Debug for RequestDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestDeps")
            .field("providers", &self.plan.nodes.len())
            .finish_non_exhaustive()
    }
}
