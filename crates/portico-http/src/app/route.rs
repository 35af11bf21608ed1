//! Routes and routers: path operations with their settings, groups of them under a prefix,
//! and services mounted at a prefix.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::{Method, StatusCode};

use super::App;
use crate::depends::{Need, Plan};
use crate::extract::{OperationDoc, ResponseDoc};
use crate::handler::{BoxFuture, BoxedHandler, Handler, erase};
use crate::response::IntoResponse;
use crate::router::parse_template;
use crate::service::AppService;

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
    /// Its name for `url_for`: set on the route, or its handler function's name.
    pub(crate) name: Option<String>,
    /// Whether it is a WebSocket route (a `GET` route that opens WebSockets).
    pub(crate) websocket: bool,
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
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) handler: BoxedHandler,
    pub(super) describe: fn(&mut OperationDoc),
    /// The handler's type name: a function's path, for its name and doc comment.
    pub(crate) handler_type: &'static str,
    pub(super) blocking: bool,
    pub(super) body_limit: Option<usize>,
    pub(super) meta: RouteMeta,
    pub(super) details: RouteDetails,
    /// Its own middleware then its routers', innermost first.
    pub(crate) middleware: Vec<crate::middleware::Wrap>,
    /// Whether it is a WebSocket route.
    pub(crate) websocket: bool,
}

/// What only a route sets about its operation.
#[derive(Debug, Default, Clone)]
pub(super) struct RouteDetails {
    pub(super) summary: Option<String>,
    pub(super) description: Option<String>,
    pub(super) operation_id: Option<String>,
    pub(super) status: Option<StatusCode>,
    pub(super) response_description: Option<String>,
    pub(super) name: Option<String>,
}

/// What a route, or a router for all of its routes, adds to the handler: dependencies run for
/// their effect, tags, documented responses, scopes and visibility in the document.
#[derive(Debug, Default, Clone)]
pub(super) struct RouteMeta {
    pub(super) needs: Vec<Need>,
    pub(super) tags: Vec<String>,
    pub(super) responses: Vec<ResponseDoc>,
    pub(super) scopes: Vec<String>,
    pub(super) deprecated: bool,
    pub(super) hidden: bool,
}

impl RouteMeta {
    /// Puts `outer` (an including router's) before these: its dependencies and tags are listed
    /// first, as in FastAPI; a response documented here wins over the outer one.
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
        let mut scopes = outer.scopes.clone();
        scopes.extend(
            self.scopes
                .drain(..)
                .filter(|scope| !outer.scopes.contains(scope)),
        );
        self.scopes = scopes;
        self.deprecated |= outer.deprecated;
        self.hidden |= outer.hidden;
    }

    pub(super) fn tag(&mut self, tag: impl Into<String>) {
        let tag = tag.into();
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }

    pub(super) fn response(&mut self, response: ResponseDoc) {
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

        #[doc = concat!("Requires the OAuth2 `scopes` for ", $what, ": they join the scopes of its")]
        /// security requirements in the OpenAPI document and what [`SecurityScopes`] gives the
        /// security dependencies that check them (FastAPI's `Security(..., scopes=[...])`).
        ///
        /// [`SecurityScopes`]: crate::security::SecurityScopes
        pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
            for scope in scopes {
                let scope = scope.into();
                if !self.$($meta).+.scopes.contains(&scope) {
                    self.$($meta).+.scopes.push(scope);
                }
            }
            self
        }

        #[doc = concat!("Marks ", $what, " deprecated in the OpenAPI document.")]
        pub fn deprecated(mut self) -> Self {
            self.$($meta).+.deprecated = true;
            self
        }

        #[doc = concat!("Leaves ", $what, " out of the OpenAPI document (FastAPI's")]
        /// `include_in_schema=False`); it still answers requests.
        pub fn include_in_schema(mut self, include: bool) -> Self {
            self.$($meta).+.hidden = !include;
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
            handler_type: std::any::type_name::<H>(),
            blocking: H::is_blocking(),
            body_limit: None,
            meta: RouteMeta::default(),
            details: RouteDetails::default(),
            middleware: Vec::new(),
            websocket: false,
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

    /// The route's name for `url_for` in templates and
    /// [`AppService::url_path_for`](crate::AppService::url_path_for), instead of its handler
    /// function's name (FastAPI's `name=`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.details.name = Some(name.into());
        self
    }

    /// The operation's summary in the OpenAPI document, instead of the first paragraph of the
    /// handler's doc comment (or its name).
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.details.summary = Some(summary.into());
        self
    }

    /// The operation's description (Markdown), instead of the rest of the handler's doc
    /// comment.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.details.description = Some(description.into());
        self
    }

    /// The operation's `operationId`, instead of FastAPI's `{name}{path}_{method}`
    /// (`read_item_items__item_id__get`). It must be unique in the document.
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.details.operation_id = Some(id.into());
        self
    }

    /// The status of a successful response (FastAPI's `status_code`): documented, and given to
    /// the handler's response when it answers 200 (a handler that sets another status, or
    /// fails, keeps its own).
    ///
    /// ```
    /// use http::StatusCode;
    /// use portico_http::{App, Json, Route};
    ///
    /// async fn create(Json(name): Json<String>) -> Json<String> {
    ///     Json(name)
    /// }
    ///
    /// let app = App::new().route(Route::post("/items", create).status_code(StatusCode::CREATED));
    /// let client = portico::testing::blocking_client(app);
    /// assert_eq!(client.post("/items").json(&"pen").send().status(), 201);
    /// ```
    pub fn status_code(mut self, status: StatusCode) -> Self {
        self.details.status = Some(status);
        self
    }

    /// The description of the successful response ("Successful Response" by default).
    pub fn response_description(mut self, description: impl Into<String>) -> Self {
        self.details.response_description = Some(description.into());
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

/// A group of routes under a common prefix, with common settings (FastAPI's `APIRouter`):
/// tags, dependencies run for every route, documented responses and a body limit. Include it in
/// an application with [`App::include`], or in another router, to any depth; the outer
/// router's prefix and tags come first, and every level's dependencies run for each route
/// (concurrently, when they do not depend on each other).
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
#[derive(Default)]
pub struct Router {
    pub(super) prefix: String,
    pub(super) routes: Vec<Route>,
    pub(super) mounts: Vec<Mount>,
    pub(super) body_limit: Option<usize>,
    pub(super) meta: RouteMeta,
    /// Middleware around each of its routes, innermost first.
    pub(crate) middleware: Vec<crate::middleware::Wrap>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("prefix", &self.prefix)
            .field("routes", &self.routes)
            .field("mounts", &self.mounts)
            .field("body_limit", &self.body_limit)
            .field("meta", &self.meta)
            .field("middleware", &self.middleware.len())
            .finish()
    }
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
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Request, Router};
    ///
    /// let legacy = App::new().get("/users", || async { "the old users" });
    /// let echo = |request: Request| async move { request.uri().path().to_owned() };
    /// let app = App::new().mount("/v1", legacy).include(Router::new().mount("/echo", echo));
    ///
    /// let client = portico::testing::blocking_client(app);
    /// assert_eq!(client.get("/v1/users").send().text(), "the old users");
    /// assert_eq!(client.get("/echo/a/b").send().text(), "/a/b");
    /// ```
    #[track_caller]
    pub fn mount<M>(mut self, prefix: impl Into<String>, service: impl IntoMount<M>) -> Self {
        let prefix = prefix.into();
        check_prefix(&prefix);
        assert!(!prefix.is_empty(), "a mount needs a prefix");
        self.mounts.push(Mount {
            prefix,
            name: None,
            service: service.into_mount(),
        });
        self
    }

    /// As [`mount`](Self::mount), with a name for `url_for` (FastAPI's
    /// `mount(path, app, name=...)`): `url_for('static', path='/app.css')` in a template
    /// gives `/static/app.css`.
    ///
    /// # Panics
    ///
    /// As [`mount`](Self::mount).
    #[track_caller]
    pub fn mount_as<M>(
        mut self,
        prefix: impl Into<String>,
        name: impl Into<String>,
        service: impl IntoMount<M>,
    ) -> Self {
        self = self.mount(prefix, service);
        if let Some(mount) = self.mounts.last_mut() {
            mount.name = Some(name.into());
        }
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
    pub(super) fn flatten(self) -> (Vec<Route>, Vec<Mount>) {
        let Router {
            prefix,
            routes,
            mounts,
            body_limit,
            meta,
            middleware,
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
                route.middleware.extend(middleware.iter().cloned());
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
    /// Its name for `url_for`, if it has one.
    pub(crate) name: Option<String>,
    pub(crate) service: MountService,
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("prefix", &self.prefix)
            .field("name", &self.name)
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
