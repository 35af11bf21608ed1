//! Building an application: the [`App`] and its settings, its [`Route`]s and [`Router`]s, and
//! how it becomes an [`AppService`] (`build`).

use std::fmt;
use std::future::Future;

use crate::context::{AppShared, FormLimits};
use crate::depends::{IntoProvider, Registry};
use crate::error::{BuildError, RequestHead};
use crate::lifespan::Lifespan;
use crate::middleware::Wrap;
use crate::response::IntoResponse;
use crate::routing::IntoMount;
use crate::service::AppService;

#[macro_use]
mod route;
#[macro_use]
mod router;
mod build;
mod docs;
mod hooks;

pub(crate) use docs::DocsConfig;
pub(crate) use hooks::WebhookDoc;
pub use hooks::{Callback, Webhook};
#[cfg(feature = "websocket")]
pub(crate) use route::Declare;
pub use route::Route;
pub use router::Router;

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
    /// Operations documented under the document's `webhooks`, never served.
    webhooks: Vec<Webhook>,
    shared: AppShared,
    registry: Registry,
    lifespan: Option<crate::lifespan::LifespanFn>,
    docs: DocsConfig,
    /// Middleware around every request, the first added innermost.
    middleware: Vec<Wrap>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("routes", &self.router.routes)
            .field("webhooks", &self.webhooks)
            .field("state", &self.shared.state)
            .field("config", &self.shared.config)
            .field("middleware", &self.middleware.len())
            .field("exception_handlers", &self.shared.errors)
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

    /// Documents `webhook` in the document's top-level `webhooks` (FastAPI's
    /// `@app.webhooks.post(...)`): a request the application sends to the servers its users
    /// register. No route answers it. See [`Webhook`] for an example.
    ///
    /// Building the application reports two webhooks with one method and name.
    pub fn webhook(mut self, webhook: Webhook) -> Self {
        self.webhooks.push(webhook);
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

    settings_methods!("every route of the application", router.settings);

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
        self.docs.info.root_path = self.shared.config.root_path.clone();
        self
    }

    /// Whether a path that only exists with (or without) a trailing slash is redirected there
    /// with 307, as FastAPI does (on by default).
    pub fn redirect_slashes(mut self, on: bool) -> Self {
        self.shared.config.redirect_slashes = on;
        self
    }

    /// Answers every error of type `E` returned by a handler or a dependency provider (`Err(e)`
    /// from one returning `Result<_, E>`) with `handler` instead of `E`'s own response:
    /// FastAPI's `@app.exception_handler(E)`, which also sees what dependencies raise.
    ///
    /// Registering one for [`HttpError`](crate::HttpError) also covers the framework's own 404
    /// and 405; one for [`RequestValidationError`](crate::RequestValidationError) replaces the 422 renderer (with RFC 9457
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
        self.shared.errors.insert(handler);
        self
    }

    /// Checks the application and makes it ready to answer requests.
    ///
    /// # Errors
    ///
    /// Every mistake found, in one message: two handlers for one method and path, overlapping
    /// templates, parameters that do not fit their route, state that was never registered.
    pub fn try_into_service(self) -> Result<AppService, BuildError> {
        build::build(self)
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
}
