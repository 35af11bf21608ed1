//! What a request carries besides itself ([`RequestContext`]): the application it belongs to
//! ([`AppShared`]: state, settings, exception handlers), the route that matched, its path
//! parameters, its dependencies and its teardown.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use schemars::JsonSchema;

use crate::error::ErrorHandlers;
use crate::routing::{Params, UrlMap};
use crate::spec::RouteSpec;
use crate::teardown::{Pending, Teardown};
use crate::validate::Shapes;

/// The default body limit: 2 MiB, for JSON, forms and raw bodies alike.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// How many plain `fn` cleanups may run at once by default, on threads apart from the shared
/// limiter's.
pub const DEFAULT_CLEANUP_THREADS: usize = 40;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            body_limit: DEFAULT_BODY_LIMIT,
            form_limits: FormLimits::default(),
            redirect_slashes: true,
            root_path: String::new(),
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

/// What every request of an application shares: state, settings and exception handlers.
#[derive(Debug)]
pub(crate) struct AppShared {
    pub(crate) state: StateMap,
    /// The state the lifespan shared once it started.
    pub(crate) lifespan_state: OnceLock<StateMap>,
    pub(crate) config: Config,
    /// The application's answers to errors of a type.
    pub(crate) errors: ErrorHandlers,
    /// Requests whose background tasks are still running.
    pub(crate) background: Arc<Pending>,
    /// The threads plain `fn` handlers and providers run on: the serving runtime's default
    /// thread limiter, found once.
    pub(crate) threads: OnceLock<portico_tasks::CapacityLimiter>,
    /// The threads plain `fn` cleanups of dependencies run on.
    pub(crate) cleanup_limiter: portico_tasks::CapacityLimiter,
    /// Named routes and mounts, for `url_for`; set when the application is built.
    pub(crate) urls: OnceLock<Arc<UrlMap>>,
    /// Set once the server serving the application starts shutting down: event streams end
    /// and WebSockets close.
    pub(crate) draining: Arc<portico_tasks::Event>,
}

impl Default for AppShared {
    fn default() -> Self {
        AppShared {
            state: StateMap::default(),
            lifespan_state: OnceLock::new(),
            config: Config::default(),
            errors: ErrorHandlers::default(),
            background: Arc::default(),
            threads: OnceLock::new(),
            cleanup_limiter: portico_tasks::CapacityLimiter::new(DEFAULT_CLEANUP_THREADS),
            urls: OnceLock::new(),
            draining: Arc::default(),
        }
    }
}

impl AppShared {
    /// The capacity limiter plain `fn` handlers and providers run under: the default thread
    /// limiter of the runtime the application first runs on (AnyIO's), kept so that no
    /// request looks it up again.
    pub(crate) fn thread_limiter(&self) -> &portico_tasks::CapacityLimiter {
        self.threads.get_or_init(|| {
            portico_tasks::default_thread_limiter().unwrap_or_else(|_| {
                portico_tasks::CapacityLimiter::new(portico_tasks::DEFAULT_THREAD_TOKENS)
            })
        })
    }

    /// The state of type `T`, registered with `App::state` or shared by the lifespan.
    pub(crate) fn state<T: 'static>(&self) -> Option<&T> {
        self.state
            .get::<T>()
            .or_else(|| self.lifespan_state.get()?.get::<T>())
    }
}

/// What Portico carries beside a request, out of its extensions (whose map costs allocations
/// on the first entry): the client's address and the request id. Middleware that reads the
/// request's extensions (function middleware, tower layers, mounted services, and types that
/// set [`Middleware::READS_EXTENSIONS`](crate::middleware::Middleware::READS_EXTENSIONS)) gets
/// them moved there first; extractors look in both.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locals {
    /// The connection's peer, for [`ClientAddr`](crate::proxy::ClientAddr).
    pub(crate) peer: Option<crate::extract::ClientAddr>,
    /// The id [`SetRequestId`](crate::middleware::SetRequestId) gave the request.
    pub(crate) request_id: Option<crate::middleware::RequestId>,
}

impl Locals {
    /// Moves what it holds into the request's extensions, for code that reads them there.
    pub(crate) fn move_into(&mut self, extensions: &mut http::Extensions) {
        if let Some(peer) = self.peer.take() {
            extensions.insert(peer);
        }
        if let Some(id) = self.request_id.take() {
            extensions.insert(id);
        }
    }
}

/// What one request carries besides itself: the matched route, its path parameters, its
/// dependencies and teardown, and the application's state and settings.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) app: Arc<AppShared>,
    pub(crate) route: Arc<RouteSpec>,
    /// Byte ranges of the path parameters in the request path, in the route's order.
    pub(crate) params: Params,
    /// Where the request's background tasks and cleanups go, for routes that have them.
    pub(crate) teardown: Option<Arc<Teardown>>,
    /// The request's dependencies, for routes that have some.
    pub(crate) deps: Option<Arc<crate::depends::RequestDeps>>,
    /// What travels beside the request: the connection's peer, the request id.
    pub(crate) locals: Locals,
}

impl RequestContext {
    /// The route template that matched, e.g. `/items/{item_id}`.
    pub fn route(&self) -> &str {
        &self.route.template
    }

    /// The body size limit for this route, in bytes.
    pub fn body_limit(&self) -> usize {
        self.route.body_limit.unwrap_or(self.app.config.body_limit)
    }

    /// The raw (still percent-encoded) path parameters, as `(name, value)`.
    pub(crate) fn raw_params<'p>(
        &'p self,
        path: &'p str,
    ) -> impl Iterator<Item = (&'p str, &'p str)> {
        self.route
            .path_params
            .iter()
            .zip(self.params.iter())
            .map(move |(name, range)| (name.as_str(), path.get(range).unwrap_or_default()))
    }

    /// The validation shapes of `T`, compiled when the route (or the provider reading it) was
    /// built. A parameter whose shapes nobody declared (a custom parameter that reads a
    /// `Query<T>` without passing `spec` on) gets them compiled now, for this request only.
    pub(crate) fn shapes<T: JsonSchema + 'static>(&self) -> Cow<'_, Shapes> {
        if let Some(shapes) = self.route.shapes::<T>() {
            return Cow::Borrowed(shapes);
        }
        if let Some(shapes) = self.deps.as_deref().and_then(|deps| deps.shapes::<T>()) {
            return Cow::Borrowed(shapes);
        }
        tracing::debug!(
            r#type = std::any::type_name::<T>(),
            route = %self.route.template,
            "validation shapes compiled for one request: the parameter's `spec` was not called when the route was built"
        );
        Cow::Owned(Shapes::compile_or_accept_all::<T>())
    }
}
