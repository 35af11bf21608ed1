//! The application: its routes, state, settings and exception handlers.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::{HeaderMap, Method, Uri};

use crate::RequestValidationError;
use crate::error::ValidationCarrier;
use crate::extract::OperationDoc;
use crate::handler::{BoxFuture, BoxedHandler, Handler, erase};
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

    fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        self.values.retain(|(t, _, _)| *t != id);
        self.values
            .push((id, std::any::type_name::<T>(), Box::new(value)));
    }

    fn contains(&self, id: TypeId) -> bool {
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
#[derive(Debug, Default)]
pub(crate) struct AppShared {
    pub(crate) state: StateMap,
    pub(crate) config: Config,
    /// Requests whose background tasks are still running.
    pub(crate) background: Arc<crate::background::Pending>,
}

/// What is known of one route: its template, parameters, limits and documentation.
#[derive(Debug)]
pub(crate) struct RouteInfo {
    pub(crate) method: Method,
    pub(crate) template: String,
    pub(crate) params: Vec<String>,
    pub(crate) body_limit: Option<usize>,
    pub(crate) doc: OperationDoc,
    pub(crate) blocking: bool,
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

/// A group of routes under a common prefix, with common settings (FastAPI's `APIRouter`),
/// added to an application with [`App::include`].
///
/// # Examples
///
/// ```
/// use portico_http::{App, Path, Router};
///
/// async fn read(Path(id): Path<u64>) -> String {
///     id.to_string()
/// }
///
/// let items = Router::new().prefix("/items").body_limit(64 * 1024).get("/{id}", read);
/// let app = App::new().include(items);
/// # drop(app);
/// ```
#[derive(Debug, Default)]
pub struct Router {
    prefix: String,
    routes: Vec<Route>,
    body_limit: Option<usize>,
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
        assert!(
            prefix.is_empty() || (prefix.starts_with('/') && !prefix.ends_with('/')),
            "a prefix must start with `/` and not end with one, got `{prefix}`"
        );
        self.prefix = prefix;
        self
    }

    /// The body limit of this router's routes that set none themselves.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// Adds a route.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds every route of `other`, under this router's prefix.
    pub fn include(mut self, other: Router) -> Self {
        self.routes.extend(other.into_routes());
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

    /// The routes with the prefix and the router's settings applied.
    fn into_routes(self) -> impl Iterator<Item = Route> {
        let Router {
            prefix,
            routes,
            body_limit,
        } = self;
        routes.into_iter().map(move |mut route| {
            if !prefix.is_empty() {
                route.path = if route.path == "/" {
                    prefix.clone()
                } else {
                    format!("{prefix}{}", route.path)
                };
            }
            route.body_limit = route.body_limit.or(body_limit);
            route
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
        self.router.routes.extend(router.into_routes());
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

    pub(crate) fn into_parts(self) -> (Vec<Route>, AppShared, ErrorHandlers) {
        let App {
            router,
            shared,
            handlers,
        } = self;
        (router.into_routes().collect(), shared, handlers)
    }
}

/// Builds the route infos of `routes`, collecting every mistake.
pub(crate) fn describe_routes(
    routes: Vec<Route>,
    shared: &AppShared,
) -> (Vec<DescribedRoute>, Vec<String>) {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(routes.len());
    for route in routes {
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
        for problem in &doc.problems {
            problems.push(format!("{} {}: {problem}", route.method, route.path));
        }
        for (id, name) in &doc.states {
            if !shared.state.contains(*id) {
                problems.push(format!(
                    "{} {}: the handler reads State<{name}>, but no state of that type was registered with App::state",
                    route.method, route.path
                ));
            }
        }
        let info = RouteInfo {
            method: route.method.clone(),
            template: route.path,
            params,
            body_limit: route.body_limit,
            doc,
            blocking: route.blocking,
        };
        out.push((route.method, route.handler, Arc::new(info)));
    }
    (out, problems)
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
