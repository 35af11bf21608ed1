//! [`AppService`]: a built application answering requests, the one code path behind the server
//! and the test client.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{ALLOW, CONTENT_LENGTH, HeaderValue};
use http::{Method, StatusCode};
use http_body::Body as _;
use tracing::Span;

use crate::app::{
    App, AppParts, AppShared, BuildError, ErrorHandlers, Mount, MountService, RequestHead,
    RouteInfo, check_lifespan_states, describe_routes,
};
use crate::background::{AfterBody, AfterHandle, AfterResponse};
use crate::body::ResponseBody;
use crate::depends::{IntoProvider, Outcome, Overrides, Registry, Replan, RequestDeps};
use crate::error::{Carried, HttpError, carry, internal_error};
use crate::extract::RequestContext;
use crate::handler::BoxFuture;
use crate::lifespan::{LifespanRunner, StartupError};
use crate::middleware::Chain;
use crate::response::file::{Conditions, PendingFile};
use crate::response::{IntoResponse, Redirect, Response};
use crate::router::{self, Endpoint, Match, Table};

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
    /// Whether every request needs the client's address at once: the application's
    /// middleware or a mounted service might read it. Otherwise only requests for routes that
    /// read it (or have middleware) get that extension.
    client_addr_at_entry: bool,
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
                let client_addr_at_entry = !middleware.is_empty() || !mounts.is_empty();
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
                        client_addr_at_entry,
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
        mut peer: Option<crate::proxy::ClientAddr>,
    ) -> ResponseFuture {
        let inner = &self.inner;
        if inner.client_addr_at_entry
            && let Some(peer) = peer.take()
        {
            request.extensions_mut().insert(peer);
        }
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
            None => self.dispatch(request, span, start, peer),
            Some(chain) => ResponseFuture {
                state: State::Running(chain.call(request, None)),
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
        peer: Option<crate::proxy::ClientAddr>,
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
        match inner.table.find(request.method(), request.uri().path()) {
            Match::Endpoint { endpoint, params } => {
                let route = &endpoint.route;
                span.record("route", tracing::field::display(&route.template));
                if let Some(peer) = peer
                    && (route.doc.client_addr || endpoint.chain.is_some())
                {
                    request.extensions_mut().insert(peer);
                }
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
                };
                let fut = match &endpoint.chain {
                    None => endpoint.handler.call(request, ctx),
                    Some(chain) => chain.call(request, Some(ctx)),
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
                    request
                        .extensions_mut()
                        .insert(crate::staticfiles::MountPrefix(prefix));
                    return ResponseFuture {
                        state: State::Running(service(request)),
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

/// The end of the application's middleware: its routes.
struct Dispatch {
    app: std::sync::Weak<AppInner>,
}

impl Chain for Dispatch {
    fn call(&self, request: crate::Request, _ctx: Option<RequestContext>) -> BoxFuture {
        match self.app.upgrade() {
            Some(inner) => {
                Box::pin(AppService { inner }.dispatch(request, Span::current(), None, None))
            }
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

/// The future of one response, from [`AppService::call`].
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture {
    state: State,
    finish: Finish,
    span: Span,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

enum State {
    /// The handler (extraction included).
    Running(BoxFuture),
    /// An exception handler or a file being opened.
    After(BoxFuture),
    /// Cleanups of function scope, before the response goes out.
    Cleanup(BoxFuture<()>, Option<Box<Response>>),
    /// An answer known at once (404, 405, a redirect), boxed so that the usual future, a
    /// handler's, stays small.
    Ready(Option<Box<Response>>),
}

/// What is needed once the handler has answered.
struct Finish {
    /// The application, when it has exception handlers.
    app: Option<Arc<AppInner>>,
    request_head: Option<Box<RequestHead>>,
    is_head: bool,
    conditions: Option<Box<Conditions>>,
    route: Option<Arc<RouteInfo>>,
    start: Option<Instant>,
    /// The request's background tasks and cleanups, started once the response body is done
    /// with.
    after: Option<Arc<AfterResponse>>,
    /// Whether the handler or a dependency answered with an error.
    failed: bool,
}

impl Drop for Finish {
    /// A request dropped before its response was ready (the client went away): its cleanups
    /// still run, its background tasks do not.
    fn drop(&mut self) {
        if let Some(after) = self.after.take() {
            after.fail(Outcome::Disconnected);
            after.start();
        }
    }
}

enum Next {
    Done(Response),
    More(BoxFuture),
}

impl Finish {
    /// What the application's middleware needs: errors rendered, the request logged.
    fn outer(start: Option<Instant>) -> Self {
        Finish {
            app: None,
            request_head: None,
            is_head: false,
            conditions: None,
            route: None,
            start,
            after: None,
            failed: false,
        }
    }

    fn start_after(mut self, response: Response, span: Span) -> ResponseFuture {
        let state = match self.after(response) {
            Next::Done(response) => State::Ready(Some(Box::new(response))),
            Next::More(fut) => State::After(fut),
        };
        ResponseFuture {
            state,
            finish: self,
            span,
        }
    }

    /// Routes an error to its exception handler and opens a file response; most responses
    /// need neither and are done at once.
    fn after(&mut self, mut response: Response) -> Next {
        if response.status() == StatusCode::OK
            && let Some(status) = self.route.as_ref().and_then(|route| route.doc.status)
            && response.extensions().get::<Carried>().is_none()
        {
            // The route's `status_code`, for a handler that answered plain 200.
            *response.status_mut() = status;
        }
        if let Some(carried) = response.extensions_mut().remove::<Carried>() {
            // A request that ended in an error runs no background tasks, as in FastAPI; its
            // cleanups see the failure (with the status of the response it gets).
            self.failed = true;
            let handler = self.app.as_ref().and_then(|app| {
                app.handlers
                    .iter()
                    .find(|(id, _, _)| *id == carried.type_id)
                    .map(|(_, _, h)| h.clone())
            });
            match (handler, carried.take_any(), self.request_head.take()) {
                (Some(handler), Some(error), Some(head)) => match handler(error, *head) {
                    Ok(fut) => {
                        let conditions = self.conditions.take().unwrap_or_default();
                        return Next::More(Box::pin(async move {
                            let response = fut.await;
                            settle(response, &conditions).await
                        }));
                    }
                    Err(error) => response = carried.render_boxed(error),
                },
                (_, Some(error), _) => response = carried.render_boxed(error),
                (_, None, _) => response = internal_error(),
            }
        }
        if response.extensions().get::<PendingFile>().is_some() {
            let conditions = self.conditions.take().unwrap_or_default();
            return Next::More(Box::pin(async move {
                crate::response::file::finish(response, &conditions).await
            }));
        }
        Next::Done(response)
    }

    /// The last touches: no body for `HEAD`, and the request's span closed with its status.
    fn done(&mut self, span: &Span, mut response: Response) -> Response {
        if self.is_head {
            let body = std::mem::take(response.body_mut());
            if let Some(len) = body.size_hint().exact()
                && !response.headers().contains_key(CONTENT_LENGTH)
            {
                response
                    .headers_mut()
                    .insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
            *response.body_mut() = ResponseBody::empty();
        }
        if let Some(after) = self.after.take() {
            let body = std::mem::take(response.body_mut());
            *response.body_mut() = AfterBody::wrap(body, after.clone());
            response.extensions_mut().insert(AfterHandle(after));
        }
        if let Some(start) = self.start {
            let latency = start.elapsed().as_micros() as u64;
            let status = response.status().as_u16();
            span.record("status", status);
            span.record("latency_us", latency);
            tracing::info!(parent: span, status, latency_us = latency, "answered");
        }
        response
    }

    /// Records how the request went, and starts its cleanups of
    /// [`Scope::Function`](crate::Scope::Function) if it has some: they run before the response
    /// is sent.
    fn before_done(&mut self, response: &Response) -> Option<BoxFuture<()>> {
        let after = self.after.as_ref()?;
        if self.failed {
            after.fail(Outcome::Error(response.status()));
        }
        after
            .run_function_scope()
            .map(|wait| Box::pin(wait) as BoxFuture<()>)
    }

    fn panicked(&mut self, payload: &(dyn std::any::Any + Send)) -> Response {
        if let Some(after) = &self.after {
            after.fail(Outcome::Panicked);
        }
        let message = portico_rt::panic_message(payload).unwrap_or("(no message)");
        match &self.route {
            Some(route) => {
                tracing::error!(method = %route.method, route = %route.template, "a handler panicked: {message}")
            }
            None => tracing::error!("a middleware or exception handler panicked: {message}"),
        }
        internal_error()
    }
}

/// Renders what an exception handler answered: its own errors get their default response,
/// files are opened.
async fn settle(mut response: Response, conditions: &Conditions) -> Response {
    if let Some(carried) = response.extensions_mut().remove::<Carried>() {
        response = carried.render().unwrap_or_else(internal_error);
    }
    if response.extensions().get::<PendingFile>().is_some() {
        response = crate::response::file::finish(response, conditions).await;
    }
    response
}

impl Future for ResponseFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        loop {
            match &mut this.state {
                State::Running(fut) => {
                    let response = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(response)) => response,
                        Err(payload) => this.finish.panicked(payload.as_ref()),
                    };
                    match this.finish.after(response) {
                        Next::Done(response) => {
                            if let Some(wait) = this.finish.before_done(&response) {
                                this.state = State::Cleanup(wait, Some(Box::new(response)));
                                continue;
                            }
                            this.state = State::Ready(None);
                            return Poll::Ready(this.finish.done(&this.span, response));
                        }
                        Next::More(fut) => this.state = State::After(fut),
                    }
                }
                State::After(fut) => {
                    let response = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(response)) => response,
                        Err(payload) => {
                            this.finish.route = None;
                            this.finish.panicked(payload.as_ref())
                        }
                    };
                    if let Some(wait) = this.finish.before_done(&response) {
                        this.state = State::Cleanup(wait, Some(Box::new(response)));
                        continue;
                    }
                    this.state = State::Ready(None);
                    return Poll::Ready(this.finish.done(&this.span, response));
                }
                State::Cleanup(wait, response) => {
                    if wait.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let response = response.take().map_or_else(internal_error, |r| *r);
                    this.state = State::Ready(None);
                    return Poll::Ready(this.finish.done(&this.span, response));
                }
                State::Ready(response) => {
                    let response = response.take().map_or_else(internal_error, |r| *r);
                    return Poll::Ready(this.finish.done(&this.span, response));
                }
            }
        }
    }
}
