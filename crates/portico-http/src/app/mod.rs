//! The application: its routes, state, settings and exception handlers.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode, Uri};

use crate::RequestValidationError;
use crate::depends::{IntoProvider, Need, Registry};
use crate::error::ValidationCarrier;
use crate::extract::ResponseDoc;
use crate::handler::{BoxFuture, BoxedHandler, Handler};
use crate::lifespan::Lifespan;
use crate::openapi::DocsConfig;
use crate::response::IntoResponse;
use crate::service::AppService;

mod build;
mod docs;
#[macro_use]
mod route;

pub(crate) use build::{check_lifespan_states, describe_routes, merge_provider_docs};
pub use route::{IntoMount, Route, Router};
pub(crate) use route::{Mount, MountService, RouteInfo};

/// The default body limit: 2 MiB, for JSON, forms and raw bodies alike.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Limits on urlencoded and multipart forms. The defaults are those Starlette adopted after
/// its denial-of-service advisories: 1,000 fields, 1,000 files and 1 MiB per text part.
///
/// # Examples
///
/// ```
/// use portico_http::{App, FormLimits};
///
/// let app = App::new().form_limits(FormLimits::default().max_files(10));
/// # drop(app);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormLimits {
    pub(crate) max_fields: usize,
    pub(crate) max_files: usize,
    pub(crate) max_part_size: usize,
}

impl Default for FormLimits {
    fn default() -> Self {
        FormLimits {
            max_fields: 1000,
            max_files: 1000,
            max_part_size: 1024 * 1024,
        }
    }
}

impl FormLimits {
    /// The most fields (text parts, or urlencoded pairs) a form may have.
    pub fn max_fields(mut self, max: usize) -> Self {
        self.max_fields = max;
        self
    }

    /// The most files a multipart form may have.
    pub fn max_files(mut self, max: usize) -> Self {
        self.max_files = max;
        self
    }

    /// The largest text part of a multipart form, in bytes (files are bounded by the body
    /// limit).
    pub fn max_part_size(mut self, bytes: usize) -> Self {
        self.max_part_size = bytes;
        self
    }
}

/// Application settings every request can read.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) body_limit: usize,
    pub(crate) form_limits: FormLimits,
    pub(crate) redirect_slashes: bool,
    /// The prefix the application is served under (no trailing slash; empty for none).
    pub(crate) root_path: String,
    pub(crate) websocket: crate::websocket::WebSocketConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            body_limit: DEFAULT_BODY_LIMIT,
            form_limits: FormLimits::default(),
            redirect_slashes: true,
            root_path: String::new(),
            websocket: crate::websocket::WebSocketConfig::default(),
        }
    }
}

/// Values shared with every request, by type (a short list: scanning beats hashing).
#[derive(Default)]
pub(crate) struct StateMap {
    values: Vec<(TypeId, &'static str, Box<dyn Any + Send + Sync>)>,
}

impl StateMap {
    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.values
            .iter()
            .find(|(t, _, _)| *t == id)
            .and_then(|(_, _, value)| value.downcast_ref())
    }

    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        self.values.retain(|(t, _, _)| *t != id);
        self.values
            .push((id, std::any::type_name::<T>(), Box::new(value)));
    }

    pub(crate) fn contains(&self, id: TypeId) -> bool {
        self.values.iter().any(|(t, _, _)| *t == id)
    }
}

impl fmt::Debug for StateMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.values.iter().map(|(_, name, _)| name))
            .finish()
    }
}

/// What every request of an application shares: state and settings.
#[derive(Debug)]
pub(crate) struct AppShared {
    pub(crate) state: StateMap,
    /// The state the lifespan shared once it started.
    pub(crate) lifespan_state: std::sync::OnceLock<StateMap>,
    pub(crate) config: Config,
    /// Requests whose background tasks are still running.
    pub(crate) background: Arc<crate::background::Pending>,
    /// The threads plain `fn` cleanups of dependencies run on.
    pub(crate) cleanup_limiter: portico_tasks::CapacityLimiter,
    /// Named routes and mounts, for `url_for`; set when the application is built.
    pub(crate) urls: std::sync::OnceLock<Arc<crate::templates::UrlMap>>,
}

impl Default for AppShared {
    fn default() -> Self {
        AppShared {
            state: StateMap::default(),
            lifespan_state: std::sync::OnceLock::new(),
            config: Config::default(),
            background: Arc::default(),
            cleanup_limiter: portico_tasks::CapacityLimiter::new(DEFAULT_CLEANUP_THREADS),
            urls: std::sync::OnceLock::new(),
        }
    }
}

impl AppShared {
    /// The state of type `T`, registered with `App::state` or shared by the lifespan.
    pub(crate) fn state<T: 'static>(&self) -> Option<&T> {
        self.state
            .get::<T>()
            .or_else(|| self.lifespan_state.get()?.get::<T>())
    }
}

/// How many plain `fn` cleanups may run at once by default, on threads apart from the shared
/// limiter's.
pub const DEFAULT_CLEANUP_THREADS: usize = 40;

/// The request an exception handler answers: its method, URI, headers and the route that
/// matched.
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) route: Option<Arc<RouteInfo>>,
}

impl RequestHead {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URI as sent.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The route template that matched, if one did.
    pub fn route(&self) -> Option<&str> {
        self.route.as_deref().map(|r| r.template.as_str())
    }
}

/// Exception handlers by error type, with the type's name for debugging.
pub(crate) type ErrorHandlers = Vec<(TypeId, &'static str, ErrorHandler)>;

/// A route ready for the table: method, handler and what is known of it.
pub(crate) type DescribedRoute = (
    Method,
    BoxedHandler,
    Arc<RouteInfo>,
    Option<Arc<dyn crate::middleware::Chain>>,
);

/// An exception handler, type-erased: it takes the error if it has the right type.
pub(crate) type ErrorHandler = Arc<
    dyn Fn(Box<dyn Any + Send>, RequestHead) -> Result<BoxFuture, Box<dyn Any + Send>>
        + Send
        + Sync,
>;

/// A web application: routes, shared state, settings and exception handlers.
///
/// Build it, then serve it with [`App::serve`] or test it with
/// [`TestClient`](crate::TestClient).
///
/// # Examples
///
/// ```
/// use portico_http::{App, Json, Path};
///
/// async fn read_item(Path(item_id): Path<u64>) -> Json<serde_json::Value> {
///     Json(serde_json::json!({ "item_id": item_id }))
/// }
///
/// let app = App::new().get("/items/{item_id}", read_item);
/// # drop(app);
/// ```
#[derive(Default)]
pub struct App {
    router: Router,
    shared: AppShared,
    handlers: ErrorHandlers,
    registry: Registry,
    lifespan: Option<crate::lifespan::LifespanFn>,
    docs: DocsConfig,
    /// Middleware around every request, the first added innermost.
    pub(crate) middleware: Vec<crate::middleware::Wrap>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("routes", &self.router.routes)
            .field("state", &self.shared.state)
            .field("config", &self.shared.config)
            .field("middleware", &self.middleware.len())
            .field(
                "exception_handlers",
                &self
                    .handlers
                    .iter()
                    .map(|(_, name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl App {
    /// An application with no routes and the default settings.
    pub fn new() -> Self {
        App::default()
    }

    /// Adds a route.
    pub fn route(mut self, route: Route) -> Self {
        self.router.routes.push(route);
        self
    }

    /// Adds every route of `router` (FastAPI's `include_router`).
    pub fn include(mut self, router: Router) -> Self {
        self.router = self.router.include(router);
        self
    }

    /// Hands every request under `prefix` to `service` (see [`Router::mount`]).
    ///
    /// # Panics
    ///
    /// As [`Router::mount`].
    #[track_caller]
    pub fn mount<M>(mut self, prefix: impl Into<String>, service: impl IntoMount<M>) -> Self {
        self.router = self.router.mount(prefix, service);
        self
    }

    /// Mounts `service` with a name for `url_for` (see [`Router::mount_as`]).
    ///
    /// # Panics
    ///
    /// As [`Router::mount`].
    #[track_caller]
    pub fn mount_as<M>(
        mut self,
        prefix: impl Into<String>,
        name: impl Into<String>,
        service: impl IntoMount<M>,
    ) -> Self {
        self.router = self.router.mount_as(prefix, name, service);
        self
    }

    /// Registers how the dependency `T` is produced: an `async fn` or a plain `fn` returning
    /// `Result<T, E>`, or a [`Provider`](crate::Provider) with a cleanup, a scope or a
    /// concurrency cap. Path operations and other providers then take it as
    /// [`Depends<T>`](crate::Depends). One provider per type; a second replaces the first.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Depends, HttpError};
    ///
    /// struct Settings {
    ///     greeting: String,
    /// }
    ///
    /// async fn settings() -> Result<Settings, HttpError> {
    ///     Ok(Settings { greeting: "hello".into() })
    /// }
    ///
    /// async fn hello(Depends(settings): Depends<Settings>) -> String {
    ///     settings.greeting.clone()
    /// }
    ///
    /// let app = App::new().provide(settings).get("/", hello);
    /// # drop(app);
    /// ```
    pub fn provide<M, P: IntoProvider<M>>(mut self, provider: P) -> Self {
        self.registry.insert(provider.into_provider().into_node());
        self
    }

    meta_methods!("every route of the application", router.meta);

    /// The application's lifespan: `f` runs once when the server (or the test client) starts,
    /// shares state and starts background services through its [`Lifespan`], then awaits
    /// [`Lifespan::serve`] while the application serves, and tears down after it. An `Err`
    /// before `serve` stops the server before it accepts a connection. A second call replaces
    /// the first.
    ///
    /// State shared by the lifespan is checked against what handlers read once it has
    /// started, instead of when the application is built.
    pub fn lifespan<F, Fut, E>(mut self, f: F) -> Self
    where
        F: FnOnce(Lifespan) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<crate::BoxError>,
    {
        self.lifespan = Some(Box::new(move |life| {
            let fut = f(life);
            Box::pin(async move { fut.await.map_err(Into::into) })
        }));
        self
    }

    /// How many plain `fn` cleanups of dependencies may run at once (40 by default). They run
    /// on threads apart from the shared limiter's, so that a cleanup giving a resource back
    /// never waits behind work waiting for that resource.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    #[track_caller]
    pub fn cleanup_threads(mut self, n: usize) -> Self {
        assert!(n > 0, "cleanup_threads must be at least 1");
        self.shared.cleanup_limiter = portico_tasks::CapacityLimiter::new(n);
        self
    }

    method_shortcuts! {
        /// Adds a `GET` route (which answers `HEAD` too).
        get;
        /// Adds a `POST` route.
        post;
        /// Adds a `PUT` route.
        put;
        /// Adds a `DELETE` route.
        delete;
        /// Adds a `PATCH` route.
        patch;
        /// Adds a `HEAD` route.
        head;
        /// Adds an `OPTIONS` route.
        options;
        /// Adds a `TRACE` route.
        trace;
    }

    /// Shares `value` with every request, read with [`State<T>`](crate::State). One value per
    /// type; a second one of the same type replaces the first.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.shared.state.insert(value);
        self
    }

    /// The largest request body any route accepts unless it or its router says otherwise, in
    /// bytes (2 MiB by default). Bodies are counted as they arrive, whatever `Content-Length`
    /// claims; past the limit the answer is 413 `Content Too Large`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.shared.config.body_limit = bytes;
        self
    }

    /// The limits on forms (see [`FormLimits`]).
    pub fn form_limits(mut self, limits: FormLimits) -> Self {
        self.shared.config.form_limits = limits;
        self
    }

    /// The path prefix the application is served under when a proxy strips it before
    /// forwarding (FastAPI's `root_path`): `"/api"` for an app reached at
    /// `https://example.com/api/...` whose requests arrive as `/...`. Routes still match
    /// without it; redirects, `url_for` and the OpenAPI `servers` list put it back.
    pub fn root_path(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.shared.config.root_path = prefix.trim_end_matches('/').to_owned();
        self.docs.root_path = self.shared.config.root_path.clone();
        self
    }

    /// Whether a path that only exists with (or without) a trailing slash is redirected there
    /// with 307, as FastAPI does (on by default).
    pub fn redirect_slashes(mut self, on: bool) -> Self {
        self.shared.config.redirect_slashes = on;
        self
    }

    /// Answers every error of type `E` returned by a handler (`Err(e)` from a handler returning
    /// `Result<_, E>`) with `handler` instead of `E`'s own response: FastAPI's
    /// `@app.exception_handler(E)`.
    ///
    /// Registering one for [`HttpError`](crate::HttpError) also covers the framework's own 404
    /// and 405; one for [`RequestValidationError`] replaces the 422 renderer (with RFC 9457
    /// problem details, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::StatusCode;
    /// use portico_http::{App, Json, RequestHead};
    ///
    /// #[derive(Debug)]
    /// struct OutOfStock(String);
    ///
    /// impl portico_http::IntoResponse for OutOfStock {
    ///     fn into_response(self) -> portico_http::Response {
    ///         (StatusCode::CONFLICT, self.0).into_response()
    ///     }
    /// }
    ///
    /// async fn buy() -> Result<&'static str, OutOfStock> {
    ///     Err(OutOfStock("teapot".into()))
    /// }
    ///
    /// let app = App::new().get("/buy", buy).exception_handler(|err: OutOfStock, head: RequestHead| async move {
    ///     (StatusCode::IM_A_TEAPOT, Json(serde_json::json!({"sold_out": err.0, "path": head.uri().path()})))
    /// });
    /// # drop(app);
    /// ```
    pub fn exception_handler<E, F, Fut, R>(mut self, handler: F) -> Self
    where
        E: Send + 'static,
        F: Fn(E, RequestHead) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        // Validation errors travel as their carrier (see `error::carry`).
        let key = if TypeId::of::<E>() == TypeId::of::<RequestValidationError>() {
            TypeId::of::<ValidationCarrier>()
        } else {
            TypeId::of::<E>()
        };
        let erased: ErrorHandler =
            Arc::new(move |error: Box<dyn Any + Send>, head: RequestHead| {
                let error = match error.downcast::<ValidationCarrier>() {
                    Ok(carrier) => Box::new(carrier.0) as Box<dyn Any + Send>,
                    Err(other) => other,
                };
                let error = error.downcast::<E>()?;
                let fut = handler(*error, head);
                Ok(Box::pin(async move { fut.await.into_response() }) as BoxFuture)
            });
        self.handlers.retain(|(id, _, _)| *id != key);
        self.handlers
            .push((key, std::any::type_name::<E>(), erased));
        self
    }

    /// Checks the application and makes it ready to answer requests.
    ///
    /// # Errors
    ///
    /// Every mistake found, in one message: two handlers for one method and path, overlapping
    /// templates, parameters that do not fit their route, state that was never registered.
    pub fn try_into_service(self) -> Result<AppService, BuildError> {
        AppService::build(self)
    }

    /// As [`try_into_service`](Self::try_into_service).
    ///
    /// # Panics
    ///
    /// With every mistake found, if there is one.
    #[track_caller]
    pub fn into_service(self) -> AppService {
        match self.try_into_service() {
            Ok(service) => service,
            Err(err) => panic!("{err}"),
        }
    }

    /// The settings, for builder methods defined in other modules.
    pub(crate) fn config_mut(&mut self) -> &mut Config {
        &mut self.shared.config
    }

    pub(crate) fn into_parts(self) -> AppParts {
        let App {
            mut router,
            shared,
            handlers,
            registry,
            lifespan,
            docs,
            middleware,
        } = self;
        let document = crate::openapi::ui::DocumentCell::default();
        router
            .routes
            .extend(crate::openapi::ui::routes(&docs, &document));
        let (routes, mounts) = router.flatten();
        AppParts {
            routes,
            mounts,
            shared,
            handlers,
            registry,
            lifespan,
            docs,
            document,
            middleware,
        }
    }
}

/// An application taken apart to be built.
pub(crate) struct AppParts {
    pub(crate) routes: Vec<Route>,
    pub(crate) mounts: Vec<Mount>,
    pub(crate) shared: AppShared,
    pub(crate) handlers: ErrorHandlers,
    pub(crate) registry: Registry,
    pub(crate) lifespan: Option<crate::lifespan::LifespanFn>,
    pub(crate) docs: DocsConfig,
    /// Filled with the document once the routes are described, for the route serving it.
    pub(crate) document: crate::openapi::ui::DocumentCell,
    pub(crate) middleware: Vec<crate::middleware::Wrap>,
}

/// Why an application could not be built: every mistake found.
#[derive(Debug, Clone)]
pub struct BuildError {
    pub(crate) problems: Vec<String>,
}

impl BuildError {
    /// Each mistake, as a sentence naming its route.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the application has {} mistake(s):", self.problems.len())?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}
