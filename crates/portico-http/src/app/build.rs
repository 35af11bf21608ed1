//! Building an application into its service, once: each route declares itself (its
//! documentation and what it needs to run), its dependencies are planned, the route table is
//! made, and every mistake found along the way is reported together.

use std::sync::Arc;

use portico_openapi::{OperationDoc, Source};

use super::App;
use super::docs::{self, DocumentCell};
use super::hooks;
use super::route::{PathKind, Route, RouteSettings};
use crate::context::AppShared;
use crate::context::RouteSpec;
use crate::depends::{Plan, Registry};
use crate::error::BuildError;
use crate::routing::{self, Entry, Mount, UrlMap, parse_callback, parse_template};
use crate::service::{AppService, Built, Endpoint};

/// Builds `app` into its service.
pub(super) fn build(app: App) -> Result<AppService, BuildError> {
    let App {
        router,
        webhooks,
        shared,
        registry,
        lifespan,
        docs,
        middleware,
    } = app;
    let document = DocumentCell::default();
    // The docs' own routes are not the application's operations: as in FastAPI, its
    // dependencies, tags and responses leave them alone (its middleware still wraps them).
    let app_middleware = router.middleware.clone();
    let (mut routes, mounts) = router.flatten();
    for mut route in docs::routes(&docs, &document) {
        route.middleware.extend(app_middleware.iter().cloned());
        routes.push(route);
    }
    for mount in &mounts {
        if let Some(child) = &mount.running {
            shared.running.adopt(child.clone());
        }
    }
    let mut problems: Vec<String> = registry.problems().collect();
    let mut entries = Vec::with_capacity(routes.len());
    let mut route_docs = Vec::with_capacity(routes.len());
    for (index, route) in routes.into_iter().enumerate() {
        let Some(Declared { spec, doc, plan }) =
            declare(&route, None, index, &registry, &mut problems)
        else {
            continue;
        };
        if lifespan.is_none() {
            problems.extend(shared.missing_states(
                &spec,
                "no state of that type was registered with App::state",
            ));
        }
        let spec = Arc::new(spec);
        // The handler is the innermost link of the route's chain.
        let middleware = !route.middleware.is_empty();
        let chain = crate::middleware::wrap_all(route.handler, &route.middleware);
        let template: Arc<str> = Arc::from(route.path.as_str());
        entries.push(Entry {
            method: route.method,
            template: template.clone(),
            websocket: route.websocket,
            endpoint: Endpoint {
                template,
                chain,
                middleware,
                spec,
                plan,
            },
        });
        route_docs.push(doc);
    }
    // Webhooks are documented, never served: they stay out of the route table.
    let webhooks = hooks::declare_webhooks(&webhooks, &registry, &mut problems);
    let table = match routing::build(entries, shared.config.redirect_slashes) {
        Ok(table) => table,
        Err(problem) => {
            problems.push(problem);
            return Err(BuildError { problems });
        }
    };
    if !problems.is_empty() {
        return Err(BuildError { problems });
    }
    let urls = url_map(&table, &mounts, &shared);
    let _ = shared.urls.set(Arc::new(urls));
    let service = AppService::new(Built {
        shared,
        table,
        route_docs,
        webhooks,
        mounts,
        registry,
        lifespan,
        serves_document: docs.openapi_url.is_some(),
        info: docs.info,
        middleware,
    });
    if service.serves_document() {
        let bytes = serde_json::to_vec(service.openapi()).unwrap_or_default();
        let _ = document.set(bytes.into());
    }
    Ok(service)
}

/// The named routes and mounts, for `url_for`.
fn url_map(table: &routing::Table<Endpoint>, mounts: &[Mount], shared: &AppShared) -> UrlMap {
    UrlMap {
        root_path: shared.config.root_path.clone(),
        routes: table
            .endpoints()
            .filter_map(|(_, e)| Some((e.spec.name.clone()?, e.spec.template.clone())))
            .collect(),
        mounts: mounts
            .iter()
            .filter_map(|m| Some((m.name.clone()?, m.prefix.clone())))
            .collect(),
    }
}

/// What a route declares of itself once built.
pub(crate) struct Declared {
    pub(crate) spec: RouteSpec,
    pub(crate) doc: OperationDoc,
    pub(crate) plan: Option<Arc<Plan>>,
}

/// Has one route declare itself: what its handler, its settings and its dependencies read,
/// answer and need, under the settings `outer` of what holds it (the application's own, for a
/// route not flattened yet). Mistakes go to `problems`; `None` when its template is not valid.
pub(crate) fn declare(
    route: &Route,
    outer: Option<&RouteSettings>,
    index: usize,
    registry: &Registry,
    problems: &mut Vec<String>,
) -> Option<Declared> {
    let parsed = match route.kind {
        PathKind::Served => parse_template(&route.path).map(|(_, params)| params),
        // A webhook's name is no template: it has no parameters.
        PathKind::Webhook => Ok(Vec::new()),
        PathKind::Callback => parse_callback(&route.path).map(|(_, params)| params),
    };
    let params = match parsed {
        Ok(params) => params,
        Err(err) => {
            problems.push(err);
            return None;
        }
    };
    let label = route.label();
    let mut doc = OperationDoc::default();
    doc.path_params = params.clone();
    (route.declare.describe)(&mut doc);
    let mut spec = RouteSpec::new(route.method.clone(), route.path.clone(), params);
    (route.declare.spec)(&mut spec);

    let inherited;
    let settings = match outer {
        Some(outer) => {
            let mut settings = route.settings.clone();
            settings.inherit(outer);
            inherited = settings;
            &inherited
        }
        None => &route.settings,
    };
    let recorded = crate::handler::recorded(route.declare.type_id);
    let function = recorded
        .map(|(name, _)| name)
        .or_else(|| function_name(route.declare.type_name));
    doc.handler_name = function.map(str::to_owned);
    doc.handler_doc = recorded.and_then(|(_, doc)| doc).map(str::to_owned);
    doc.tags = settings.tags.clone();
    doc.responses = settings.responses.clone();
    doc.scopes = settings.scopes.clone();
    doc.deprecated = settings.deprecated;
    doc.hidden = settings.hidden;
    doc.summary = settings.summary.clone();
    doc.description = settings.description.clone();
    doc.operation_id = settings.operation_id.clone();
    doc.status = settings.status;
    doc.response_description = settings.response_description.clone();
    doc.callbacks = hooks::declare_callbacks(&settings.callbacks, registry, problems);

    // The route's and its routers' dependencies come first, then the handler's.
    let mut needs = settings.needs.clone();
    for need in spec.needs.drain(..) {
        if !needs.contains(&need) {
            needs.push(need);
        }
    }
    spec.needs = needs;
    spec.index = index;
    spec.name = settings.name.clone().or(function.map(str::to_owned));
    spec.body_limit = route.body_limit;
    spec.content_type_check = settings.content_type_check;
    spec.response_fields =
        (!settings.response_fields.keeps_all()).then(|| Arc::new(settings.response_fields.clone()));
    spec.status = settings.status;
    spec.blocking = route.blocking;
    spec.websocket = route.websocket;

    let plan = match registry.plan(&spec.needs) {
        Ok(plan) => plan,
        Err(found) => {
            for problem in found {
                problems.push(format!("{label}: {problem}"));
            }
            None
        }
    };
    if let Some(plan) = &plan {
        for node in &plan.nodes {
            let mut own = OperationDoc::default();
            own.path_params = doc.path_params.clone();
            (node.provider.describe)(&mut own);
            own.scopes.extend(node.provider.scopes.iter().cloned());
            doc.merge(
                own,
                &format!("the provider of `{}`", node.provider.type_name),
            );
            spec.absorb(&node.provider.spec);
            for problem in &node.provider.spec.problems {
                spec.problem(format!(
                    "the provider of `{}`: {problem}",
                    node.provider.type_name
                ));
            }
        }
    }
    spec.scopes = doc.scopes.clone();
    unread_path_params(&doc, &mut spec);
    for problem in doc.problems.iter().chain(&spec.problems) {
        problems.push(format!("{label}: {problem}"));
    }
    Some(Declared { spec, doc, plan })
}

/// Reports each of the template's parameters that no `Path` of the handler or of its
/// dependencies reads: `async fn read(item_id: String)` on `/items/{item_id}` would take the
/// body for `item_id` and never see the path.
fn unread_path_params(doc: &OperationDoc, spec: &mut RouteSpec) {
    if spec.reads_path {
        return;
    }
    let unread: Vec<String> = spec
        .path_params
        .iter()
        .filter(|name| {
            !doc.params
                .iter()
                .any(|p| p.source == Source::Path && p.name == **name)
        })
        .cloned()
        .collect();
    for name in unread {
        spec.problem(format!(
            "the path parameter `{name}` is read by no parameter of the handler or of its dependencies; take it with `Path<T>` (or `#[path] {name}: T` under #[portico::handler])"
        ));
    }
}

/// The name of a handler without `#[portico::handler]`: the last segment of its type's name
/// when that is a function's path (`todo::app::list_todos`), nothing for a closure. The type
/// name is the only place Rust tells a function's name; `#[portico::handler]` records it
/// exactly instead, and a route's `name` or `operation_id` overrides both.
fn function_name(type_name: &str) -> Option<&str> {
    let last = type_name.rsplit("::").next()?;
    let is_ident = last
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && last.chars().all(|c| c.is_alphanumeric() || c == '_');
    is_ident.then_some(last)
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn names_come_from_functions_not_closures() {
        assert_eq!(function_name("todo::app::list_todos"), Some("list_todos"));
        assert_eq!(function_name("todo::app::main::{{closure}}"), None);
    }
}
