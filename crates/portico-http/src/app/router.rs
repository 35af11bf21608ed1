//! [`Router`]: routes under a common prefix with common settings, and services mounted at a
//! prefix; an [`App`] or an [`AppService`] can be mounted.

use std::fmt;
use std::sync::Arc;

use super::App;
use super::route::{Route, RouteSettings};
use crate::middleware::Wrap;
use crate::response::{BoxFuture, Reply};
use crate::routing::{IntoMount, Mount, MountApp, Mounted};
use crate::service::AppService;

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
            pub fn $name<H: crate::handler::Handler<M>, M: 'static>(self, path: impl Into<String>, handler: H) -> Self {
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
    pub(super) settings: RouteSettings,
    /// Middleware around each of its routes, innermost first.
    pub(super) middleware: Vec<Wrap>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("prefix", &self.prefix)
            .field("routes", &self.routes)
            .field("mounts", &self.mounts)
            .field("body_limit", &self.body_limit)
            .field("settings", &self.settings)
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
    /// Paths are joined as FastAPI joins them: under the prefix `/items`, the route `/` is
    /// `/items/` and the route `""` (the empty path, allowed in a router with a prefix) is
    /// `/items`. A request for the other one is redirected (307) when `redirect_slashes` is on,
    /// as it is by default.
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

    settings_methods!("every route of this router", settings);

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
        let Mounted(service, running) = service.into_mount();
        self.mounts.push(Mount {
            prefix,
            name: None,
            service,
            running,
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
            settings,
            middleware,
        } = self;
        let routes = routes
            .into_iter()
            .map(|mut route| {
                // Joined as FastAPI joins them: `/items` and `/` make `/items/`.
                if !prefix.is_empty() {
                    route.path = format!("{prefix}{}", route.path);
                }
                route.body_limit = route.body_limit.or(body_limit);
                route.settings.inherit(&settings);
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

impl IntoMount<MountApp> for AppService {
    fn into_mount(self) -> Mounted {
        // A mounted application is stopped with the one it is mounted in.
        let running = self.shared().running.clone();
        Mounted(
            Arc::new(move |request| {
                let response = self.call(request);
                Box::pin(async move { Reply::Response(response.await) }) as BoxFuture<Reply>
            }),
            Some(running),
        )
    }
}

impl IntoMount<MountApp> for App {
    #[track_caller]
    fn into_mount(self) -> Mounted {
        self.into_service().into_mount()
    }
}
