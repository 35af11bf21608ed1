//! [`AppService`]: a built application answering requests, the one code path behind the server
//! and the test client.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use http::header::ALLOW;
use http::{Method, StatusCode};
use tracing::Span;

use crate::app::{
    App, AppParts, AppShared, BuildError, ErrorHandlers, Mount, MountService, RequestHead,
    RouteInfo, check_lifespan_states, describe_routes,
};
use crate::background::AfterResponse;
use crate::depends::{IntoProvider, Overrides, Registry, Replan, RequestDeps};
use crate::error::{HttpError, carry, internal_error};
use crate::extract::RequestContext;
use crate::handler::BoxFuture;
use crate::lifespan::{LifespanRunner, StartupError};
use crate::middleware::{Carry, Chain, Locals};
use crate::response::file::Conditions;
use crate::response::{IntoResponse, Redirect};
use crate::router::{self, Endpoint, Match, Table};

mod future;

pub use future::ResponseFuture;
use future::{Finish, State};

/// An application ready to answer requests: what [`App::into_service`] builds, what the server
/// runs on every connection and what the test client calls. Cloning it is cheap.
#[derive(Clone)]
pub struct AppService {
    inner: Arc<AppInner>,
}

struct AppInner {
    shared: Arc<AppShared>,
    table: Table,
    handlers: ErrorHandlers,
    mounts: Vec<Mount>,
    /// The providers as built.
    registry: Registry,
    /// Providers swapped for tests.
    overrides: Overrides,
    lifespan: Option<LifespanRunner>,
    docs: crate::openapi::DocsConfig,
    /// The OpenAPI document, built on first use (at once when a route serves it).
    openapi: std::sync::OnceLock<serde_json::Value>,
    /// The application's middleware, ending in its routes, when it has some.
    middleware: Option<Arc<dyn Chain>>,
    /// The prefix the application is served under, when it has one.
    root_path: Option<crate::proxy::RootPath>,
}

impl fmt::Debug for AppService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppService")
            .field("table", &self.inner.table)
            .field("state", &self.inner.shared.state)
            .finish_non_exhaustive()
    }
}

impl AppService {
    pub(crate) fn build(app: App) -> Result<Self, BuildError> {
        let AppParts {
            routes,
            mounts,
            shared,
            handlers,
            registry,
            lifespan,
            docs,
            document,
            middleware,
        } = app.into_parts();
        let (described, mut problems) =
            describe_routes(routes, &shared, &registry, lifespan.is_some());
        let endpoints = described
            .into_iter()
            .map(|(method, handler, route, chain)| {
                (
                    method,
                    Endpoint {
                        handler,
                        route,
                        chain,
                    },
                )
            })
            .collect();
        let table = router::build(endpoints, shared.config.redirect_slashes);
        match table {
            Ok(table) if problems.is_empty() => {
                let urls = crate::templates::UrlMap {
                    root_path: shared.config.root_path.clone(),
                    routes: table
                        .endpoints()
                        .filter_map(|(_, e)| {
                            Some((e.route.name.clone()?, e.route.template.clone()))
                        })
                        .collect(),
                    mounts: mounts
                        .iter()
                        .filter_map(|m| Some((m.name.clone()?, m.prefix.clone())))
                        .collect(),
                };
                let _ = shared.urls.set(Arc::new(urls));
                let root_path = (!shared.config.root_path.is_empty())
                    .then(|| crate::proxy::RootPath(shared.config.root_path.as_str().into()));
                let service = AppService {
                    inner: Arc::new_cyclic(|app| AppInner {
                        middleware: (!middleware.is_empty()).then(|| {
                            let routes = Arc::new(Dispatch { app: app.clone() });
                            crate::middleware::wrap_all(routes, &middleware)
                        }),
                        root_path,
                        shared: Arc::new(shared),
                        table,
                        handlers,
                        mounts,
                        registry,
                        overrides: Overrides::default(),
                        lifespan: lifespan.map(LifespanRunner::new),
                        docs,
                        openapi: std::sync::OnceLock::new(),
                    }),
                };
                if service.inner.docs.openapi_url.is_some() {
                    let bytes = serde_json::to_vec(service.openapi()).unwrap_or_default();
                    let _ = document.set(bytes.into());
                }
                Ok(service)
            }
            Ok(_) => Err(BuildError { problems }),
            Err(problem) => {
                problems.push(problem);
                Err(BuildError { problems })
            }
        }
    }

    /// Answers one request. The future never fails: every error, a panic included, becomes a
    /// response.
    pub fn call(&self, request: crate::Request) -> ResponseFuture {
        self.call_from(request, None)
    }

    /// As [`call`](Self::call), for a request from `peer`: the server's way in.
    pub(crate) fn call_from(
        &self,
        mut request: crate::Request,
        peer: Option<crate::proxy::ClientAddr>,
    ) -> ResponseFuture {
        let inner = &self.inner;
        let locals = Locals {
            peer,
            request_id: None,
        };
        if let Some(root) = &inner.root_path {
            strip_root_path(&mut request, &root.0);
            request.extensions_mut().insert(root.clone());
        }
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            route = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_us = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let start = (!span.is_disabled()).then(Instant::now);
        match &inner.middleware {
            None => self.dispatch(request, span, start, locals),
            Some(chain) => ResponseFuture {
                state: State::Running(guarded(&span, || chain.call(request, Carry::Entry(locals)))),
                finish: Finish::outer(start),
                span,
            },
        }
    }

    /// Routes a request (inside the application's middleware, if any) and answers it.
    fn dispatch(
        &self,
        mut request: crate::Request,
        span: Span,
        start: Option<Instant>,
        mut locals: Locals,
    ) -> ResponseFuture {
        let inner = &self.inner;
        let head = (!inner.handlers.is_empty()).then(|| {
            Box::new(RequestHead {
                method: request.method().clone(),
                uri: request.uri().clone(),
                headers: request.headers().clone(),
                route: None,
            })
        });
        let mut finish = Finish {
            app: head.is_some().then(|| self.inner.clone()),
            request_head: head,
            is_head: request.method() == Method::HEAD,
            conditions: None,
            route: None,
            start,
            after: None,
            failed: false,
        };
        match inner
            .table
            .find(request.method(), request.uri().path(), request.headers())
        {
            Match::Endpoint { endpoint, params } => {
                let route = &endpoint.route;
                span.record("route", tracing::field::display(&route.template));
                // Only `GET` and `HEAD` have conditions or ranges that a file response honours.
                if matches!(*request.method(), Method::GET | Method::HEAD) {
                    finish.conditions = Conditions::capture(request.headers());
                }
                finish.route = Some(route.clone());
                if let Some(head) = &mut finish.request_head {
                    head.route = Some(route.clone());
                }
                let plan = inner.overrides.plan(route);
                let after = (route.doc.after_response
                    || plan.as_ref().is_some_and(|plan| plan.needs_after))
                .then(|| {
                    Arc::new(AfterResponse::new(
                        inner.shared.background.clone(),
                        inner.shared.cleanup_limiter.clone(),
                    ))
                });
                finish.after = after.clone();
                let ctx = RequestContext {
                    app: inner.shared.clone(),
                    route: route.clone(),
                    params,
                    after,
                    deps: plan.map(|plan| Arc::new(RequestDeps::new(plan))),
                    locals,
                };
                let fut = match &endpoint.chain {
                    None => guarded(&span, || endpoint.handler.call(request, ctx)),
                    Some(chain) => guarded(&span, || chain.call(request, Carry::Route(ctx))),
                };
                ResponseFuture {
                    state: State::Running(fut),
                    finish,
                    span,
                }
            }
            Match::MethodNotAllowed { allow, template } => {
                span.record("route", tracing::field::display(template));
                let error =
                    HttpError::new(StatusCode::METHOD_NOT_ALLOWED).header(ALLOW, allow.clone());
                finish.start_after(carry(error), span)
            }
            Match::NotFound { other_slash } => {
                if let Some((service, uri, prefix)) = inner.mount_of(request.uri()) {
                    if matches!(*request.method(), Method::GET | Method::HEAD) {
                        finish.conditions = Conditions::capture(request.headers());
                    }
                    *request.uri_mut() = uri;
                    // A mounted service reads what it needs from the extensions.
                    locals.move_into(request.extensions_mut());
                    request
                        .extensions_mut()
                        .insert(crate::staticfiles::MountPrefix(prefix));
                    return ResponseFuture {
                        state: State::Running(guarded(&span, || service(request))),
                        finish,
                        span,
                    };
                }
                match other_slash {
                    Some(path) => {
                        let root = &inner.shared.config.root_path;
                        let location = match request.uri().query() {
                            Some(query) => format!("{root}{path}?{query}"),
                            None => format!("{root}{path}"),
                        };
                        finish.start_after(Redirect::to(location).into_response(), span)
                    }
                    None => finish.start_after(carry(HttpError::not_found()), span),
                }
            }
        }
    }

    /// Replaces the provider of a dependency for every route, as FastAPI's
    /// `app.dependency_overrides[original] = fake` does: for tests, without touching handler
    /// code. Requests that start from now on use it; [`remove_override`](Self::remove_override)
    /// or [`clear_overrides`](Self::clear_overrides) go back to the original.
    ///
    /// # Panics
    ///
    /// If the replacement needs a dependency that has no provider, makes a cycle, or reads
    /// state nobody registered: the message names every mistake.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Depends, HttpError};
    ///
    /// struct Db(&'static str);
    ///
    /// async fn db() -> Result<Db, HttpError> {
    ///     Ok(Db("production"))
    /// }
    ///
    /// async fn which(Depends(db): Depends<Db>) -> &'static str {
    ///     db.0
    /// }
    ///
    /// let client = portico::testing::blocking_client(App::new().provide(db).get("/", which));
    /// client.service().override_dependency(|| async { Ok::<_, HttpError>(Db("fake")) });
    /// assert_eq!(client.get("/").send().text(), "fake");
    /// client.service().clear_overrides();
    /// assert_eq!(client.get("/").send().text(), "production");
    /// ```
    #[track_caller]
    pub fn override_dependency<M, P: IntoProvider<M>>(&self, provider: P) {
        let node = Arc::new(provider.into_provider().into_node());
        if let Err(err) = self.inner.overrides.update(self.replan(), |providers| {
            providers.retain(|p| p.type_id != node.type_id);
            providers.push(node);
        }) {
            panic!("{err}");
        }
    }

    /// Goes back to the original provider of `T`.
    pub fn remove_override<T: 'static>(&self) {
        // Removing an override cannot make a mistake the original app did not have.
        let _ = self.inner.overrides.update(self.replan(), |providers| {
            providers.retain(|p| p.type_id != std::any::TypeId::of::<T>());
        });
    }

    /// Goes back to every original provider.
    pub fn clear_overrides(&self) {
        let _ = self.inner.overrides.update(self.replan(), Vec::clear);
    }

    /// What the overrides need to plan every route again.
    fn replan(&self) -> Replan<'_> {
        let inner = &self.inner;
        Replan {
            registry: &inner.registry,
            routes: inner.table.endpoints().map(|(_, e)| &*e.route).collect(),
            shared: &inner.shared,
            lifespan: inner.lifespan.is_some(),
        }
    }

    /// Runs the application's lifespan up to [`Lifespan::serve`](crate::Lifespan::serve): what
    /// the server does before it accepts connections and the test client before its first
    /// request. Runs once; later calls return what the first one came to. Does nothing for an
    /// application without a lifespan.
    ///
    /// # Errors
    ///
    /// The lifespan's own error, or state read by handlers that it did not provide.
    pub async fn startup(&self) -> Result<(), StartupError> {
        let Some(runner) = &self.inner.lifespan else {
            return Ok(());
        };
        let inner = &self.inner;
        runner
            .startup(&inner.shared, || {
                check_lifespan_states(
                    inner.table.endpoints().map(|(_, e)| &*e.route),
                    &inner.shared,
                )
            })
            .await
    }

    /// Ends the lifespan: [`Lifespan::serve`](crate::Lifespan::serve) returns, background
    /// services are cancelled and the teardown runs; resolves when the lifespan function has
    /// returned. What the server does after its last request; a test calls it to see the
    /// teardown. Does nothing if the lifespan never started.
    pub async fn shutdown(&self) {
        if let Some(runner) = &self.inner.lifespan {
            runner.shutdown().await;
        }
    }

    /// Requests whose background tasks are still running.
    pub(crate) fn background(&self) -> &crate::background::Pending {
        &self.inner.shared.background
    }

    /// The application's OpenAPI 3.1 document (see [`App::openapi`]), built once.
    pub fn openapi(&self) -> &serde_json::Value {
        self.inner.openapi.get_or_init(|| {
            let mut routes: Vec<RouteRef<'_>> = self.routes().collect();
            routes.sort_by_key(|route| route.info.index);
            crate::openapi::document(
                &self.inner.docs,
                routes.iter().map(|route| crate::openapi::Operation {
                    method: route.method,
                    template: &route.info.template,
                    doc: &route.info.doc,
                }),
            )
        })
    }

    /// The path of the route named `name` with `params` filled in (percent-encoded), or of
    /// `params`' `path` under the mount named `name`, after the root path: Starlette's
    /// `url_path_for`. `None` if nothing has that name or a parameter is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Path, Route};
    ///
    /// async fn read_item(Path(id): Path<u32>) -> String {
    ///     id.to_string()
    /// }
    ///
    /// let app = App::new()
    ///     .get("/items/{id}", read_item)
    ///     .route(Route::get("/about", || async { "us" }).name("about"))
    ///     .into_service();
    /// assert_eq!(app.url_path_for("read_item", &[("id", "a b")]).as_deref(), Some("/items/a%20b"));
    /// assert_eq!(app.url_path_for("about", &[]).as_deref(), Some("/about"));
    /// assert_eq!(app.url_path_for("read_item", &[]), None);
    /// ```
    pub fn url_path_for(&self, name: &str, params: &[(&str, &str)]) -> Option<String> {
        let urls = self.inner.shared.urls.get()?;
        let values: std::collections::HashMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let path = if let Some(prefix) = urls.mounts.get(name) {
            let rest = values.get("path").map_or("", String::as_str);
            format!("{prefix}{}", crate::templates::mount_path(rest))
        } else {
            crate::templates::fill(urls.routes.get(name)?, &values).ok()?
        };
        Some(format!("{}{path}", urls.root_path))
    }

    /// Every route: method, path template and what it documents, in the order they were
    /// added.
    pub fn routes(&self) -> impl Iterator<Item = RouteRef<'_>> {
        self.inner
            .table
            .endpoints()
            .map(|(method, endpoint)| RouteRef {
                method,
                info: &endpoint.route,
            })
    }
}

/// Calls `start`, the synchronous first step of a handler, a chain of middleware or a mounted
/// service (a middleware's code before its future), in the request's span, as the rest runs.
/// A panic there is raised again from the future it returns, where the response future turns
/// it into a 500 as any other.
fn guarded(span: &Span, start: impl FnOnce() -> BoxFuture) -> BoxFuture {
    span.in_scope(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(start)))
        .unwrap_or_else(|payload| Box::pin(async move { std::panic::resume_unwind(payload) }))
}

/// The end of the application's middleware: its routes.
struct Dispatch {
    app: std::sync::Weak<AppInner>,
}

impl Chain for Dispatch {
    fn call(&self, request: crate::Request, carry: Carry) -> BoxFuture {
        match self.app.upgrade() {
            Some(inner) => Box::pin(AppService { inner }.dispatch(
                request,
                Span::current(),
                None,
                carry.into_locals(),
            )),
            None => Box::pin(async { internal_error() }),
        }
    }
}

/// Routes a request that arrived with the root path still in front (a proxy that does not
/// strip it) as if it had been stripped, as FastAPI does.
fn strip_root_path(request: &mut crate::Request, root: &str) {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(root) else {
        return;
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

impl AppInner {
    /// The mount a request path falls under, and the URI the mounted service sees.
    fn mount_of(&self, uri: &http::Uri) -> Option<(MountService, http::Uri, String)> {
        let path = uri.path();
        let mount = self.mounts.iter().find(|mount| {
            path.strip_prefix(mount.prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })?;
        let rest = &path[mount.prefix.len()..];
        let rest = if rest.is_empty() { "/" } else { rest };
        let path_and_query = match uri.query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_owned(),
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(path_and_query.parse().ok()?);
        let uri = http::Uri::from_parts(parts).ok()?;
        Some((mount.service.clone(), uri, mount.prefix.clone()))
    }
}

/// One route of an [`AppService`], as the OpenAPI generator reads it.
#[derive(Debug, Clone, Copy)]
pub struct RouteRef<'a> {
    method: &'a Method,
    info: &'a RouteInfo,
}

impl<'a> RouteRef<'a> {
    /// The method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The path template, in FastAPI's syntax.
    pub fn path(&self) -> &'a str {
        &self.info.template
    }

    /// What the operation reads.
    pub fn doc(&self) -> &'a crate::OperationDoc {
        &self.info.doc
    }

    /// Whether the handler is a plain `fn`, run on the thread pool.
    pub fn is_blocking(&self) -> bool {
        self.info.blocking
    }
}
