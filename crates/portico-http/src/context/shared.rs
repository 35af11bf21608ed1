//! [`AppShared`]: what every request of an application shares (state, settings, exception
//! handlers), and the settings themselves.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};

use super::RouteSpec;
use crate::error::ErrorHandlers;
use crate::routing::UrlMap;
use crate::running::Running;

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

/// What a body parameter ([`Json`](crate::Json), [`Form`](crate::Form)) does with a request
/// whose `Content-Type` is not one it reads: FastAPI's `strict_content_type`, and a 415 for
/// those who prefer it. Set on the app, a router or a route.
///
/// | request | `Strict` (default) | `Lax` | `Refuse` |
/// | --- | --- | --- | --- |
/// | JSON body, no `Content-Type` (`curl -d`) | 422 | read as JSON | 415 |
/// | JSON route, `text/plain` or a form | 422 | 422 | 415 |
/// | form route, JSON or other | 422, every field missing | same | 415 |
///
/// The 422 is FastAPI's: a JSON parameter is given the body as a string, so a struct answers
/// `model_attributes_type` at `["body"]` with the text as `input` (and a `Json<String>` takes
/// the text); a form is read as empty. FastAPI checks strictly to keep a page on another site
/// from posting JSON to an unauthenticated local API with a "simple" request (no CORS
/// preflight), which cannot set a JSON `Content-Type`.
///
/// # Examples
///
/// ```
/// use portico_http::{App, ContentTypeCheck};
///
/// // Accept JSON from clients that send it without a Content-Type, as
/// // `FastAPI(strict_content_type=False)`.
/// let app = App::new().strict_content_type(false);
/// // Or answer 415 Unsupported Media Type for any body of the wrong type.
/// let app = App::new().content_type_check(ContentTypeCheck::Refuse);
/// # drop(app);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContentTypeCheck {
    /// FastAPI's default: a body is JSON only when its `Content-Type` says so
    /// (`application/json` or `application/*+json`); any other body is refused with a 422.
    #[default]
    Strict,
    /// FastAPI's `strict_content_type=False`: a body without a `Content-Type` is read as JSON
    /// too; one with another type is still refused with a 422.
    Lax,
    /// 415 Unsupported Media Type, saying what the body must be, for a body of any other type
    /// or of none.
    Refuse,
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
    /// What runs beside the requests: after-response work, WebSockets, and the signal that
    /// the application is shutting down.
    pub(crate) running: Running,
    /// The threads plain `fn` handlers and providers run on: the serving runtime's default
    /// thread limiter, found once.
    pub(crate) threads: OnceLock<portico_tasks::CapacityLimiter>,
    /// The threads plain `fn` cleanups of dependencies run on.
    pub(crate) cleanup_limiter: portico_tasks::CapacityLimiter,
    /// Named routes and mounts, for `url_for`; set when the application is built.
    pub(crate) urls: OnceLock<Arc<UrlMap>>,
}

impl Default for AppShared {
    fn default() -> Self {
        AppShared {
            state: StateMap::default(),
            lifespan_state: OnceLock::new(),
            config: Config::default(),
            errors: ErrorHandlers::default(),
            running: Running::default(),
            threads: OnceLock::new(),
            cleanup_limiter: portico_tasks::CapacityLimiter::new(DEFAULT_CLEANUP_THREADS),
            urls: OnceLock::new(),
        }
    }
}

impl AppShared {
    /// The state `spec` reads that the application does not hold, as problems that end with
    /// `why`.
    pub(crate) fn missing_states(&self, spec: &RouteSpec, why: &str) -> Vec<String> {
        spec.states
            .iter()
            .filter(|(id, _)| {
                let in_lifespan = self
                    .lifespan_state
                    .get()
                    .is_some_and(|state| state.contains(*id));
                !self.state.contains(*id) && !in_lifespan
            })
            .map(|(_, name)| {
                format!(
                    "{} {}: the handler reads State<{name}>, but {why}",
                    spec.method, spec.template
                )
            })
            .collect()
    }

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
