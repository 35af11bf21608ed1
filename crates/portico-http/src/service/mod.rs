//! [`AppService`]: a built application answering requests, the one code path behind the server
//! and the test client. It routes a request (inside the application's middleware, if any) to
//! its endpoint, a mounted service, or an answer of its own (404, 405, the other-slash
//! redirect); [`ResponseFuture`] then sees the request through to its end.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use http::header::ALLOW;
use http::{Method, StatusCode};
use portico_openapi::OperationDoc;
use tracing::Span;

use crate::app::WebhookDoc;
use crate::context::RouteSpec;
use crate::context::{AppShared, Locals, RequestContext};
use crate::depends::{Overrides, Plan, Registry, RequestDeps};
use crate::error::{HttpError, RequestHead, caught};
use crate::lifespan::{LifespanFn, LifespanRunner};
use crate::middleware::{Carry, Chain, Wrap};
use crate::response::unfinished::{Conditions, Finishing, finish};
use crate::response::{BoxFuture, IntoResponse, Redirect, Reply, Response, Unfinished};
use crate::routing::{Match, Mount, MountPrefix, MountService, RootPath, Table, redirect_url};
use crate::teardown::{Teardown, Watch};

mod future;
mod routes;
#[cfg(feature = "tower")]
mod tower;

#[cfg(feature = "otel")]
pub(crate) use future::Panicked;
pub use future::ResponseFuture;
use future::{Finish, State};
pub use routes::RouteRef;
#[cfg(feature = "tower")]
pub use tower::ServiceFuture;

/// An application ready to answer requests: what [`App::into_service`](crate::App::into_service)
/// builds, what the server runs on every connection and what the test client calls. Cloning it
/// is cheap.
#[derive(Clone)]
pub struct AppService {
    inner: Arc<AppInner>,
}

struct AppInner {
    shared: Arc<AppShared>,
    table: Table<Endpoint>,
    /// What each route documents, by its index.
    route_docs: Vec<OperationDoc>,
    /// The webhooks the document shows.
    webhooks: Vec<WebhookDoc>,
    mounts: Vec<Mount>,
    /// The providers as built.
    registry: Registry,
    /// Providers swapped for tests.
    overrides: Overrides,
    lifespan: Option<LifespanRunner>,
    /// What the document says of the API.
    info: portico_openapi::Info,
    /// Whether a route serves the document.
    serves_document: bool,
    /// The OpenAPI document, built on first use (at once when a route serves it).
    openapi: OnceLock<serde_json::Value>,
    /// The application's middleware, ending in its routes, when it has some.
    middleware: Option<Arc<dyn Chain>>,
    /// The prefix the application is served under, when it has one.
    root_path: Option<RootPath>,
    /// Whether a middleware of the application reads the [`MatchedRoute`] of responses.
    ///
    /// [`MatchedRoute`]: crate::middleware::MatchedRoute
    reads_route: bool,
}

/// A route as the table holds it: its handler inside its middleware, what it needs to run, and
/// how its dependencies are produced.
pub(crate) struct Endpoint {
    /// The route's template, shared with the responses that carry it as a `MatchedRoute`.
    pub(crate) template: Arc<str>,
    /// The route's middleware, innermost last, ending in its handler.
    pub(crate) chain: Arc<dyn Chain>,
    /// Whether the route has middleware (which may leave its response unfinished).
    pub(crate) middleware: bool,
    pub(crate) spec: Arc<RouteSpec>,
    pub(crate) plan: Option<Arc<Plan>>,
}

/// An application once built, for [`AppService::new`].
pub(crate) struct Built {
    pub(crate) shared: AppShared,
    pub(crate) table: Table<Endpoint>,
    pub(crate) route_docs: Vec<OperationDoc>,
    pub(crate) webhooks: Vec<WebhookDoc>,
    pub(crate) mounts: Vec<Mount>,
    pub(crate) registry: Registry,
    pub(crate) lifespan: Option<LifespanFn>,
    pub(crate) info: portico_openapi::Info,
    pub(crate) serves_document: bool,
    pub(crate) middleware: Vec<Wrap>,
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
    pub(crate) fn new(built: Built) -> Self {
        let Built {
            shared,
            table,
            route_docs,
            webhooks,
            mounts,
            registry,
            lifespan,
            info,
            serves_document,
            middleware,
        } = built;
        let root_path = (!shared.config.root_path.is_empty())
            .then(|| RootPath(shared.config.root_path.as_str().into()));
        let reads_route = middleware.iter().any(Wrap::reads_route);
        AppService {
            inner: Arc::new_cyclic(|app| AppInner {
                middleware: (!middleware.is_empty()).then(|| {
                    let routes = Arc::new(Dispatch { app: app.clone() });
                    crate::middleware::wrap_all(routes, &middleware)
                }),
                root_path,
                reads_route,
                shared: Arc::new(shared),
                table,
                route_docs,
                webhooks,
                mounts,
                registry,
                overrides: Overrides::default(),
                lifespan: lifespan.map(LifespanRunner::new),
                info,
                serves_document,
                openapi: OnceLock::new(),
            }),
        }
    }

    /// Whether a route serves the OpenAPI document (then it is built at once).
    pub(crate) fn serves_document(&self) -> bool {
        self.inner.serves_document
    }

    /// What every request of the application shares.
    pub(crate) fn shared(&self) -> &Arc<AppShared> {
        &self.inner.shared
    }

    /// Answers one request. The future never fails: every error, a panic included, becomes a
    /// response.
    pub fn call(&self, request: crate::Request) -> ResponseFuture {
        self.call_from(request, None)
    }

    /// As [`call`](Self::call), for a request from `peer`: the server's way in.
    pub(crate) fn call_from(
        &self,
        request: crate::Request,
        peer: Option<std::net::SocketAddr>,
    ) -> ResponseFuture {
        self.call_with(
            request,
            Locals {
                peer,
                ..Locals::default()
            },
        )
    }

    /// As [`call_from`](Self::call_from), with a way to wait for the request's after-response
    /// work: the test client's way in.
    pub(crate) fn call_watched(
        &self,
        request: crate::Request,
        peer: Option<std::net::SocketAddr>,
    ) -> (ResponseFuture, impl Future<Output = ()> + Send + use<>) {
        let watch = Watch::default();
        let locals = Locals {
            peer,
            request_id: None,
            watch: Some(watch.clone()),
        };
        let response = self.call_with(request, locals);
        (response, async move { watch.done().await })
    }

    fn call_with(&self, mut request: crate::Request, locals: Locals) -> ResponseFuture {
        let inner = &self.inner;
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
                finish: Finish::new(start, true),
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
        let mut finish = Finish::new(start, false);
        finish.is_head = request.method() == Method::HEAD;
        finish.watch = locals.watch.take();
        match inner
            .table
            .find(request.method(), request.uri().path(), request.headers())
        {
            Match::Endpoint { endpoint, params } => {
                let spec = &endpoint.spec;
                span.record("route", tracing::field::display(&spec.template));
                let plan = inner.overrides.plan(spec, endpoint.plan.as_ref());
                let teardown = (spec.after_response
                    || plan.as_ref().is_some_and(|plan| plan.needs_after))
                .then(|| {
                    Arc::new(Teardown::new(
                        inner.shared.running.work().clone(),
                        inner.shared.cleanup_limiter.clone(),
                    ))
                });
                finish.route = Some(spec.clone());
                if inner.reads_route {
                    finish.matched = Some(endpoint.template.clone());
                }
                finish.teardown = teardown.clone();
                finish.chained = endpoint.middleware;
                let ctx = RequestContext {
                    app: inner.shared.clone(),
                    route: spec.clone(),
                    params,
                    teardown,
                    deps: plan.map(|plan| Arc::new(RequestDeps::new(plan))),
                    locals,
                };
                let fut = guarded(&span, || endpoint.chain.call(request, Carry::Route(ctx)));
                ResponseFuture {
                    state: State::Running(fut),
                    finish,
                    span,
                }
            }
            Match::MethodNotAllowed { allow, template } => {
                span.record("route", tracing::field::display(template));
                if inner.reads_route {
                    finish.matched = Some(Arc::from(template));
                }
                let error =
                    HttpError::new(StatusCode::METHOD_NOT_ALLOWED).header(ALLOW, allow.clone());
                let head = self.head_for_handlers(&request, Some(template));
                self.answer(caught(error), head, None, finish, span)
            }
            Match::NotFound { other_slash } => {
                if let Some((service, uri, prefix)) = inner.mount_of(request.uri()) {
                    let head = self.head_for_handlers(&request, None);
                    let conditions = Conditions::capture(request.method(), request.headers());
                    *request.uri_mut() = uri;
                    // A mounted service reads what it needs from the extensions.
                    crate::middleware::move_locals(&mut locals, request.extensions_mut());
                    // Under a mount of a mounted application, the prefixes add up.
                    let prefix = match request.extensions().get::<MountPrefix>() {
                        Some(outer) => format!("{}{prefix}", outer.0),
                        None => prefix,
                    };
                    request.extensions_mut().insert(MountPrefix(prefix));
                    let app = inner.clone();
                    let mounted = guarded_reply(&span, || service(request));
                    let fut = Box::pin(async move {
                        let reply = mounted.await;
                        app.settle(reply, head, conditions).await
                    });
                    return ResponseFuture {
                        state: State::Running(fut),
                        finish,
                        span,
                    };
                }
                match other_slash {
                    Some(path) => {
                        let location = match request.uri().query() {
                            Some(query) => redirect_url(&request, &format!("{path}?{query}")),
                            None => redirect_url(&request, &path),
                        };
                        finish.ready(Redirect::to(location).into_response(), span)
                    }
                    None => {
                        let head = self.head_for_handlers(&request, None);
                        self.answer(caught(HttpError::not_found()), head, None, finish, span)
                    }
                }
            }
        }
    }

    /// The request's head, for the application's exception handlers when it has some.
    fn head_for_handlers(
        &self,
        request: &crate::Request,
        route: Option<&str>,
    ) -> Option<RequestHead> {
        (!self.inner.shared.errors.is_empty())
            .then(|| RequestHead::of(request, route.map(Into::into)))
    }

    /// Answers with a response of the application's own, once its exception handlers had
    /// their say.
    fn answer(
        &self,
        mut response: Response,
        head: Option<RequestHead>,
        conditions: Option<Box<Conditions>>,
        finish: Finish,
        span: Span,
    ) -> ResponseFuture {
        if head.is_none() {
            // No handler to replace it: the response stands as it is.
            let _ = Unfinished::take_error(&mut response);
            if !Unfinished::is_on(&response) {
                return finish.ready(response, span);
            }
        }
        let app = self.inner.clone();
        let fut = Box::pin(async move {
            app.settle(Reply::Response(response), head, conditions)
                .await
        });
        ResponseFuture {
            state: State::Running(fut),
            finish,
            span,
        }
    }
}

impl AppInner {
    /// Finishes a reply of the application's own (a mounted service's, a 404): its errors to
    /// the exception handlers, its deferred work done.
    async fn settle(
        &self,
        reply: Reply,
        head: Option<RequestHead>,
        conditions: Option<Box<Conditions>>,
    ) -> Response {
        let handle = |caught| self.shared.errors.handle(caught, head.as_ref());
        let cx = Finishing {
            conditions: conditions.as_deref(),
            draining: Some(self.shared.running.draining()),
            handle: &handle,
        };
        finish(reply, &cx).await.response
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

/// As [`guarded`], for a mounted service.
fn guarded_reply(span: &Span, start: impl FnOnce() -> BoxFuture<Reply>) -> BoxFuture<Reply> {
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
            None => Box::pin(async { crate::response::internal_error() }),
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
