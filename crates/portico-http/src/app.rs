//! The application: its routes, state, settings and exception handlers.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::{HeaderMap, Method, Uri};

use http::StatusCode;

use crate::RequestValidationError;
use crate::depends::{IntoProvider, Need, Plan, Registry};
use crate::error::ValidationCarrier;
use crate::extract::{OperationDoc, ResponseDoc};
use crate::handler::{BoxFuture, BoxedHandler, Handler, erase};
use crate::lifespan::Lifespan;
use crate::response::IntoResponse;
use crate::router::parse_template;
use crate::service::AppService;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            body_limit: DEFAULT_BODY_LIMIT,
            form_limits: FormLimits::default(),
            redirect_slashes: true,
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
}

impl Default for AppShared {
    fn default() -> Self {
        AppShared {
            state: StateMap::default(),
            lifespan_state: std::sync::OnceLock::new(),
            config: Config::default(),
            background: Arc::default(),
            cleanup_limiter: portico_tasks::CapacityLimiter::new(DEFAULT_CLEANUP_THREADS),
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

/// What is known of one route: its template, parameters, limits and documentation.
#[derive(Debug)]
pub(crate) struct RouteInfo {
    pub(crate) method: Method,
    pub(crate) template: String,
    pub(crate) params: Vec<String>,
    pub(crate) body_limit: Option<usize>,
    pub(crate) doc: OperationDoc,
    pub(crate) blocking: bool,
    /// The dependencies the route, its routers and its handler take, in that order.
    pub(crate) roots: Vec<Need>,
    /// How its dependencies are produced, when it has some.
    pub(crate) plan: Option<Arc<Plan>>,
    /// Its place among the application's routes.
    pub(crate) index: usize,
}

/// One path operation: a method, a path template and a handler, with its settings.
///
/// `App::get(path, handler)` and its siblings cover the common case; build a `Route` to set
/// more, such as its own body limit.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use portico_http::{App, Route};
///
/// async fn upload(body: Bytes) -> String {
///     format!("{} bytes", body.len())
/// }
///
/// let app = App::new().route(Route::post("/upload", upload).body_limit(64 * 1024 * 1024));
/// # drop(app);
/// ```
pub struct Route {
    method: Method,
    path: String,
    handler: BoxedHandler,
    describe: fn(&mut OperationDoc),
    blocking: bool,
    body_limit: Option<usize>,
    meta: RouteMeta,
}

/// What a route, or a router for all of its routes, adds to the handler: dependencies run for
/// their effect, tags and documented responses.
#[derive(Debug, Default, Clone)]
struct RouteMeta {
    needs: Vec<Need>,
    tags: Vec<String>,
    responses: Vec<ResponseDoc>,
}

impl RouteMeta {
    /// Puts `outer` (an including router's) before these: its dependencies run first and its
    /// tags come first, as in FastAPI; a response documented here wins over the outer one.
    fn inherit(&mut self, outer: &RouteMeta) {
        let mut needs = outer.needs.clone();
        needs.extend(
            self.needs
                .drain(..)
                .filter(|need| !outer.needs.contains(need)),
        );
        self.needs = needs;
        let mut tags = outer.tags.clone();
        tags.extend(self.tags.drain(..).filter(|tag| !outer.tags.contains(tag)));
        self.tags = tags;
        for response in &outer.responses {
            if !self.responses.iter().any(|r| r.status == response.status) {
                self.responses.push(response.clone());
            }
        }
    }

    fn tag(&mut self, tag: impl Into<String>) {
        let tag = tag.into();
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }

    fn response(&mut self, response: ResponseDoc) {
        self.responses.retain(|r| r.status != response.status);
        self.responses.push(response);
    }
}

/// Adds the builder methods of [`RouteMeta`] to `Route`, `Router` and `App`.
macro_rules! meta_methods {
    ($what:literal, $($meta:ident).+) => {
        #[doc = concat!("Runs the dependency `T` for ", $what, " for its effect (an auth check, a rate")]
        /// limit) before the handler, without a handler parameter: FastAPI's
        /// `dependencies=[Depends(...)]`. Its failure answers the request; its value is cached for
        /// the request like any other.
        pub fn dependency<T: Send + Sync + 'static>(mut self) -> Self {
            let need = Need::of::<T>(false);
            if !self.$($meta).+.needs.contains(&need) {
                self.$($meta).+.needs.push(need);
            }
            self
        }

        #[doc = concat!("Tags ", $what, " in the OpenAPI document (FastAPI's `tags`).")]
        pub fn tag(mut self, tag: impl Into<String>) -> Self {
            self.$($meta).+.tag(tag);
            self
        }

        #[doc = concat!("Documents a response ", $what, " may give besides its own (FastAPI's `responses`),")]
        /// such as a 404 raised by a dependency.
        pub fn response(mut self, status: StatusCode, description: impl Into<String>) -> Self {
            self.$($meta).+.response(ResponseDoc {
                status,
                description: description.into(),
                schema: None,
            });
            self
        }

        /// As [`response`](Self::response), with the JSON Schema of its body.
        pub fn response_json<B: schemars::JsonSchema>(
            mut self,
            status: StatusCode,
            description: impl Into<String>,
        ) -> Self {
            self.$($meta).+.response(ResponseDoc {
                status,
                description: description.into(),
                schema: Some(crate::validate::schema_for::<B>()),
            });
            self
        }
    };
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("blocking", &self.blocking)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

macro_rules! route_constructors {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Panics
            ///
            /// If `path` is not a valid template (see [`Route::new`]).
            #[track_caller]
            pub fn $name<H: Handler<M>, M: 'static>(path: impl Into<String>, handler: H) -> Self {
                Self::new(Method::$method, path, handler)
            }
        )*
    };
}

impl Route {
    /// A route for `method` on `path`, answered by `handler`.
    ///
    /// Path templates use FastAPI's syntax: `/items/{item_id}` for one segment,
    /// `/files/{rest:path}` (or `/files/{*rest}`) for the rest of the path; `{{` and `}}` are
    /// literal braces. Static segments win over parameters.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid template: it must start with `/`, close every brace, and name
    /// each parameter once.
    #[track_caller]
    pub fn new<H: Handler<M>, M: 'static>(
        method: Method,
        path: impl Into<String>,
        handler: H,
    ) -> Self {
        let path = path.into();
        if let Err(err) = parse_template(&path) {
            panic!("{err}");
        }
        Route {
            method,
            path,
            handler: erase(handler),
            describe: H::describe,
            blocking: H::is_blocking(),
            body_limit: None,
            meta: RouteMeta::default(),
        }
    }

    route_constructors! {
        /// A `GET` route (which answers `HEAD` too).
        get => GET;
        /// A `POST` route.
        post => POST;
        /// A `PUT` route.
        put => PUT;
        /// A `DELETE` route.
        delete => DELETE;
        /// A `PATCH` route.
        patch => PATCH;
        /// A `HEAD` route (a `GET` route answers `HEAD` already).
        head => HEAD;
        /// An `OPTIONS` route.
        options => OPTIONS;
        /// A `TRACE` route.
        trace => TRACE;
    }

    /// The largest body this route accepts, in bytes, instead of the router's or the
    /// application's (2 MiB by default). Past it the request is answered 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    meta_methods!("this route", meta);

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Adds the per-method shortcuts to a type that has `fn route(self, Route) -> Self`.
macro_rules! method_shortcuts {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Panics
            ///
            /// If `path` is not a valid template (see [`Route::new`]).
            #[track_caller]
            pub fn $name<H: Handler<M>, M: 'static>(self, path: impl Into<String>, handler: H) -> Self {
                self.route(Route::$name(path, handler))
            }
        )*
    };
}

/// A group of routes under a common prefix, with common settings (FastAPI's `APIRouter`):
/// tags, dependencies run for every route, documented responses and a body limit. Include it in
/// an application with [`App::include`], or in another router, to any depth; the outer
/// router's prefix, tags and dependencies come first.
///
/// # Examples
///
/// ```
/// use http::StatusCode;
/// use portico_http::{App, Path, Router};
///
/// struct Admin;
///
/// async fn require_admin() -> Result<Admin, portico_http::HttpError> {
///     Ok(Admin)
/// }
///
/// async fn read(Path(id): Path<u64>) -> String {
///     id.to_string()
/// }
///
/// let items = Router::new()
///     .prefix("/items")
///     .tag("items")
///     .response(StatusCode::NOT_FOUND, "No such item")
///     .get("/{id}", read);
/// let admin = Router::new().prefix("/admin").dependency::<Admin>().include(items);
/// let app = App::new().provide(require_admin).include(admin); // GET /admin/items/{id}
/// # drop(app);
/// ```
#[derive(Debug, Default)]
pub struct Router {
    prefix: String,
    routes: Vec<Route>,
    mounts: Vec<Mount>,
    body_limit: Option<usize>,
    meta: RouteMeta,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    /// Puts every route of this router under `prefix` (which starts with `/` and does not end
    /// with one; it may hold path parameters).
    ///
    /// # Panics
    ///
    /// If the prefix does not start with `/` or ends with one.
    #[track_caller]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        check_prefix(&prefix);
        self.prefix = prefix;
        self
    }

    /// The body limit of this router's routes that set none themselves.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    meta_methods!("every route of this router", meta);

    /// Adds a route.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds every route (and mount) of `other`, under this router's prefix and with its
    /// settings.
    pub fn include(mut self, other: Router) -> Self {
        let (routes, mounts) = other.flatten();
        self.routes.extend(routes);
        self.mounts.extend(mounts);
        self
    }

    /// Hands every request under `prefix` to `service` (FastAPI's `mount`): another
    /// application, or any async function from request to response. The service sees the path
    /// without the prefix; routes of this application win over a mount.
    ///
    /// # Panics
    ///
    /// If the prefix does not start with `/`, ends with one or is empty, or if `service` is an
    /// [`App`] with mistakes.
    #[track_caller]
    pub fn mount<M>(mut self, prefix: impl Into<String>, service: impl IntoMount<M>) -> Self {
        let prefix = prefix.into();
        check_prefix(&prefix);
        assert!(!prefix.is_empty(), "a mount needs a prefix");
        self.mounts.push(Mount {
            prefix,
            service: service.into_mount(),
        });
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

    /// The routes and mounts with the prefix and the router's settings applied.
    fn flatten(self) -> (Vec<Route>, Vec<Mount>) {
        let Router {
            prefix,
            routes,
            mounts,
            body_limit,
            meta,
        } = self;
        let routes = routes
            .into_iter()
            .map(|mut route| {
                if !prefix.is_empty() {
                    route.path = if route.path == "/" {
                        prefix.clone()
                    } else {
                        format!("{prefix}{}", route.path)
                    };
                }
                route.body_limit = route.body_limit.or(body_limit);
                route.meta.inherit(&meta);
                route
            })
            .collect();
        let mounts = mounts
            .into_iter()
            .map(|mut mount| {
                mount.prefix = format!("{prefix}{}", mount.prefix);
                mount
            })
            .collect();
        (routes, mounts)
    }
}

#[track_caller]
fn check_prefix(prefix: &str) {
    assert!(
        prefix.is_empty() || (prefix.starts_with('/') && !prefix.ends_with('/')),
        "a prefix must start with `/` and not end with one, got `{prefix}`"
    );
}

/// A service mounted at a path prefix.
pub(crate) struct Mount {
    pub(crate) prefix: String,
    pub(crate) service: MountService,
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A mounted service, type-erased.
pub(crate) type MountService = Arc<dyn Fn(crate::Request) -> BoxFuture + Send + Sync>;

/// What [`Router::mount`] and [`App::mount`] accept: an [`App`] (built when mounted), an
/// [`AppService`], or an async function from [`Request`](crate::Request) to something
/// [`IntoResponse`].
pub trait IntoMount<M> {
    /// The service, type-erased.
    #[doc(hidden)]
    fn into_mount(self) -> MountService;
}

/// The marker of applications mounted in others.
#[doc(hidden)]
#[derive(Debug)]
pub enum MountApp {}

/// The marker of functions mounted as services.
#[doc(hidden)]
#[derive(Debug)]
pub enum MountFn {}

impl IntoMount<MountApp> for AppService {
    fn into_mount(self) -> MountService {
        Arc::new(move |request| Box::pin(self.call(request)) as BoxFuture)
    }
}

impl IntoMount<MountApp> for App {
    #[track_caller]
    fn into_mount(self) -> MountService {
        self.into_service().into_mount()
    }
}

impl<F, Fut, R> IntoMount<MountFn> for F
where
    F: Fn(crate::Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn into_mount(self) -> MountService {
        Arc::new(move |request| {
            let fut = self(request);
            Box::pin(async move { fut.await.into_response() }) as BoxFuture
        })
    }
}

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
pub(crate) type DescribedRoute = (Method, BoxedHandler, Arc<RouteInfo>);

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
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("routes", &self.router.routes)
            .field("state", &self.shared.state)
            .field("config", &self.shared.config)
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

    pub(crate) fn into_parts(self) -> AppParts {
        let App {
            router,
            shared,
            handlers,
            registry,
            lifespan,
        } = self;
        let (routes, mounts) = router.flatten();
        AppParts {
            routes,
            mounts,
            shared,
            handlers,
            registry,
            lifespan,
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
}

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
        let params = match parse_template(&route.path) {
            Ok((_, params)) => params,
            Err(err) => {
                problems.push(err);
                continue;
            }
        };
        let mut doc = OperationDoc {
            path_params: params.clone(),
            ..OperationDoc::default()
        };
        (route.describe)(&mut doc);
        let RouteMeta {
            needs,
            tags,
            responses,
        } = route.meta;
        let mut roots = needs;
        for need in &doc.needs {
            if !roots.contains(need) {
                roots.push(*need);
            }
        }
        doc.tags = tags;
        doc.responses = responses;
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
        check_states(
            &doc,
            shared,
            lifespan,
            &route.method,
            &route.path,
            &mut problems,
        );
        let info = RouteInfo {
            method: route.method.clone(),
            template: route.path,
            params,
            body_limit: route.body_limit,
            doc,
            blocking: route.blocking,
            roots,
            plan,
            index,
        };
        out.push((route.method, route.handler, Arc::new(info)));
    }
    (out, problems)
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
