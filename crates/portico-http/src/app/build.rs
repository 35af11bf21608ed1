//! Building an application: each route's documentation, dependency plan and checks.

use std::sync::Arc;

use http::Method;

use super::route::{Route, RouteMeta};
use super::{AppShared, DescribedRoute, RouteInfo};
use crate::depends::{Plan, Registry};
use crate::extract::OperationDoc;
use crate::router::parse_template;

/// Builds the route infos of `routes`, collecting every mistake.
pub(crate) fn describe_routes(
    routes: Vec<Route>,
    shared: &AppShared,
    registry: &Registry,
    lifespan: bool,
) -> (Vec<DescribedRoute>, Vec<String>) {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(routes.len());
    for (index, route) in routes.into_iter().enumerate() {
        let Some(documented) = document_route(&route, registry, &mut problems) else {
            continue;
        };
        check_states(
            &documented.doc,
            shared,
            lifespan,
            &route.method,
            &route.path,
            &mut problems,
        );
        let info =
            RouteInfo {
                method: route.method.clone(),
                template: route.path,
                params: documented.params,
                body_limit: route.body_limit,
                doc: documented.doc,
                blocking: route.blocking,
                roots: documented.roots,
                plan: documented.plan,
                index,
                name: route.details.name.clone().or_else(|| {
                    crate::openapi::handler_name(route.handler_type).map(str::to_owned)
                }),
                websocket: route.websocket,
            };
        let chain = (!route.middleware.is_empty())
            .then(|| crate::middleware::route_chain(route.handler.clone(), &route.middleware));
        out.push((route.method, route.handler, Arc::new(info), chain));
    }
    (out, problems)
}

/// A route's documentation and dependency plan.
pub(crate) struct Documented {
    pub(crate) params: Vec<String>,
    pub(crate) doc: OperationDoc,
    pub(crate) roots: Vec<crate::depends::Need>,
    pub(crate) plan: Option<Arc<Plan>>,
}

/// Describes one route: what its handler, its settings and its dependencies read and answer.
/// Mistakes go to `problems`; `None` when its template is not valid.
pub(crate) fn document_route(
    route: &Route,
    registry: &Registry,
    problems: &mut Vec<String>,
) -> Option<Documented> {
    let params = match parse_template(&route.path) {
        Ok((_, params)) => params,
        Err(err) => {
            problems.push(err);
            return None;
        }
    };
    let mut doc = OperationDoc {
        path_params: params.clone(),
        handler: Some(route.handler_type),
        ..OperationDoc::default()
    };
    (route.describe)(&mut doc);
    let RouteMeta {
        needs,
        tags,
        responses,
        scopes,
        deprecated,
        hidden,
    } = route.meta.clone();
    let mut roots = needs;
    for need in &doc.needs {
        if !roots.contains(need) {
            roots.push(*need);
        }
    }
    doc.tags = tags;
    doc.responses = responses;
    doc.scopes = scopes;
    doc.deprecated = deprecated;
    doc.hidden = hidden;
    let details = route.details.clone();
    doc.summary = details.summary;
    doc.description = details.description;
    doc.operation_id = details.operation_id;
    doc.status = details.status;
    doc.response_description = details.response_description;
    let plan = match registry.plan(&roots) {
        Ok(plan) => plan,
        Err(found) => {
            for problem in found {
                problems.push(format!("{} {}: {problem}", route.method, route.path));
            }
            None
        }
    };
    if let Some(plan) = &plan {
        merge_provider_docs(&mut doc, plan);
    }
    for problem in &doc.problems {
        problems.push(format!("{} {}: {problem}", route.method, route.path));
    }
    Some(Documented {
        params,
        doc,
        roots,
        plan,
    })
}

/// Adds what the route's providers read to its documentation: their parameters (once each),
/// the state they need and the mistakes in their declarations.
pub(crate) fn merge_provider_docs(doc: &mut OperationDoc, plan: &Plan) {
    for node in &plan.nodes {
        let mut own = OperationDoc {
            path_params: doc.path_params.clone(),
            ..OperationDoc::default()
        };
        (node.provider.describe)(&mut own);
        for param in own.params {
            if !doc
                .params
                .iter()
                .any(|p| p.name == param.name && p.source == param.source)
            {
                doc.param(param);
            }
        }
        for requirement in own.security {
            doc.security(requirement);
        }
        for scope in own.scopes.iter().chain(&node.provider.scopes) {
            if !doc.scopes.contains(scope) {
                doc.scopes.push(scope.clone());
            }
        }
        for state in own.states {
            if !doc.states.contains(&state) {
                doc.states.push(state);
            }
        }
        for problem in own.problems {
            doc.problem(format!(
                "the provider of `{}`: {problem}",
                node.provider.type_name
            ));
        }
    }
}

/// Checks that the state a route reads was registered. With a lifespan, the check waits for
/// it to start (see [`check_lifespan_states`]).
fn check_states(
    doc: &OperationDoc,
    shared: &AppShared,
    lifespan: bool,
    method: &Method,
    path: &str,
    problems: &mut Vec<String>,
) {
    if lifespan {
        return;
    }
    for (id, name) in &doc.states {
        if !shared.state.contains(*id) {
            problems.push(format!(
                "{method} {path}: the handler reads State<{name}>, but no state of that type was registered with App::state"
            ));
        }
    }
}

/// The state routes read that neither `App::state` nor the lifespan provided.
pub(crate) fn check_lifespan_states<'a>(
    routes: impl Iterator<Item = &'a RouteInfo>,
    shared: &AppShared,
) -> Vec<String> {
    let mut problems = Vec::new();
    for route in routes {
        for (id, name) in &route.doc.states {
            let in_lifespan = shared
                .lifespan_state
                .get()
                .is_some_and(|state| state.contains(*id));
            if !shared.state.contains(*id) && !in_lifespan {
                problems.push(format!(
                    "{} {}: the handler reads State<{name}>, but neither App::state nor the lifespan provided that type",
                    route.method, route.template
                ));
            }
        }
    }
    problems
}
