//! The lifespan: one async function per application that sets up what it shares before the
//! first request and tears it down after the last (FastAPI's `lifespan`).

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use futures_lite::FutureExt;
use portico_tasks::{Event, TaskTracker};

use crate::BoxError;
use crate::context::{AppShared, StateMap};

pub(crate) type LifespanFn =
    Box<dyn FnOnce(Lifespan) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> + Send>;

/// What the lifespan function is handed: a place to share state with handlers and
/// dependencies, to start background services, and the point where the application serves.
///
/// The function runs once. Everything before [`serve`](Self::serve) is startup: the server
/// accepts no connection until it is done, and an `Err` returned there stops the server with
/// that error. `serve` returns when the server shuts down (after the last request has been
/// answered and background services have been cancelled); what follows is teardown.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use portico_http::{App, Lifespan, State};
///
/// #[derive(Clone, Default)]
/// struct Hits(Arc<AtomicU64>);
///
/// async fn hit(State(hits): State<Hits>) -> String {
///     (hits.0.fetch_add(1, Ordering::Relaxed) + 1).to_string()
/// }
///
/// let app = App::new()
///     .lifespan(|life: Lifespan| async move {
///         let hits = Hits::default();   // open a pool, read a file...
///         life.state(hits.clone());
///         life.serve().await;           // the application runs here
///         println!("served {} requests", hits.0.load(Ordering::Relaxed));
///         Ok::<(), std::io::Error>(())
///     })
///     .get("/", hit);
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/").send().text(), "1");
/// ```
pub struct Lifespan {
    shared: Arc<LifespanShared>,
}

impl fmt::Debug for Lifespan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifespan").finish_non_exhaustive()
    }
}

/// What the lifespan task and the application share.
#[derive(Default)]
pub(crate) struct LifespanShared {
    state: Mutex<Option<StateMap>>,
    /// The background services, which end when the application stops.
    services: TaskTracker,
    /// Set when the function reaches `serve`.
    pub(crate) started: Event,
    /// Set when the application shuts down.
    pub(crate) stop: Event,
}

impl Lifespan {
    /// Shares `value` with every request, read with [`State<T>`](crate::State) as if given to
    /// `App::state`. Call it before [`serve`](Self::serve).
    pub fn state<T: Clone + Send + Sync + 'static>(&self, value: T) {
        let mut state = lock(&self.shared.state);
        match state.as_mut() {
            Some(state) => state.insert(value),
            None => tracing::error!(
                "Lifespan::state({}) called after serve: ignored",
                std::any::type_name::<T>()
            ),
        }
    }

    /// Starts a background service (a queue consumer, a periodic job) that runs while the
    /// application serves; it is cancelled when the application shuts down, before `serve`
    /// returns. A service that fails or panics is logged.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn spawn<F, R>(&self, service: F)
    where
        F: Future<Output = R> + Send + 'static,
        R: crate::TaskOutcome,
    {
        let rt = portico_rt::current().unwrap_or_else(|err| panic!("Lifespan::spawn: {err}"));
        let shared = self.shared.clone();
        // The service ends inside its own task when the application stops, so that `serve`
        // can wait for it to be gone.
        self.shared.services.start_soon_on(&rt, async move {
            let service = async { Some(AssertUnwindSafe(service).catch_unwind().await) };
            let stopped = async {
                shared.stop.wait().await;
                None
            };
            match service.or(stopped).await {
                Some(Ok(outcome)) => {
                    if let Some(failure) = outcome.failure() {
                        tracing::error!("a background service failed: {failure}");
                    }
                }
                Some(Err(payload)) => {
                    let message =
                        portico_rt::panic_message(payload.as_ref()).unwrap_or("(no message)");
                    tracing::error!("a background service panicked: {message}");
                }
                None => {}
            }
        });
    }

    /// Ends startup and waits while the application serves; returns once it has shut down and
    /// the background services have been cancelled.
    pub async fn serve(self) {
        self.shared.mark_started();
        self.shared.stop.wait().await;
        self.shared.services.wait().await;
    }
}

impl LifespanShared {
    pub(crate) fn new() -> Self {
        LifespanShared {
            state: Mutex::new(Some(StateMap::default())),
            ..LifespanShared::default()
        }
    }

    pub(crate) fn handle(self: &Arc<Self>) -> Lifespan {
        Lifespan {
            shared: self.clone(),
        }
    }

    fn mark_started(&self) {
        self.started.set();
    }

    /// The state shared during startup (once).
    pub(crate) fn take_state(&self) -> StateMap {
        lock(&self.state).take().unwrap_or_default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An application's lifespan function, run once: started by the server (or the test client)
/// before the first request, ended after the last.
pub(crate) struct LifespanRunner {
    f: Mutex<Option<LifespanFn>>,
    /// Where the function runs, from startup to the end of its teardown.
    task: TaskTracker,
    shared: Arc<LifespanShared>,
    /// What startup came to: `None` before it ran.
    started: portico_tasks::Lock<Option<Result<(), String>>>,
    /// Set when the function has returned, with what it returned.
    done: Arc<Event>,
    result: Arc<Mutex<Option<Result<(), String>>>>,
}

impl LifespanRunner {
    pub(crate) fn new(f: LifespanFn) -> Self {
        let done = Arc::new(Event::new());
        let result = Arc::new(Mutex::new(None));
        // A function that panics has returned an error: startup fails with it, or the
        // teardown is reported as failed.
        let task = TaskTracker::new().on_panic({
            let (done, result) = (done.clone(), result.clone());
            move |panic| {
                *lock(&result) = Some(Err(panic.to_string()));
                done.set();
            }
        });
        LifespanRunner {
            f: Mutex::new(Some(f)),
            task,
            shared: Arc::new(LifespanShared::new()),
            started: portico_tasks::Lock::new(None),
            done,
            result,
        }
    }

    /// Runs the function up to `serve` (once; later calls return what the first came to), then
    /// shares its state with the application and runs `check` (the state routes read).
    pub(crate) async fn startup(
        &self,
        app: &AppShared,
        check: impl FnOnce() -> Vec<String>,
    ) -> Result<(), StartupError> {
        let mut started = self.started.lock().await;
        if let Some(result) = &*started {
            return result.clone().map_err(StartupError::new);
        }
        let result = self.run_startup(app, check).await;
        *started = Some(result.clone());
        result.map_err(StartupError::new)
    }

    async fn run_startup(
        &self,
        app: &AppShared,
        check: impl FnOnce() -> Vec<String>,
    ) -> Result<(), String> {
        let Some(f) = lock(&self.f).take() else {
            return Err("the lifespan already ran".to_owned());
        };
        let rt = portico_rt::current().map_err(|err| err.to_string())?;
        let life = self.shared.handle();
        let (done, result) = (self.done.clone(), self.result.clone());
        self.task.start_soon_on(&rt, async move {
            let returned = f(life).await.map_err(|err| err.to_string());
            *lock(&result) = Some(returned);
            done.set();
        });
        self.shared.started.wait().or(self.done.wait()).await;
        if self.done.is_set()
            && let Some(Err(err)) = lock(&self.result).clone()
        {
            return Err(err);
        }
        let _ = app.lifespan_state.set(self.shared.take_state());
        let problems = check();
        if !problems.is_empty() {
            self.shared.stop.set();
            return Err(problems.join("; "));
        }
        Ok(())
    }

    /// Ends the lifespan and waits for its teardown, if it started.
    pub(crate) async fn shutdown(&self) {
        let started = self.started.lock().await;
        if !matches!(&*started, Some(Ok(()))) {
            return;
        }
        self.shared.stop.set();
        self.done.wait().await;
        if let Some(Err(err)) = &*lock(&self.result) {
            tracing::error!("the lifespan's teardown failed: {err}");
        }
    }
}

/// Why an application's lifespan failed to start.
#[derive(Debug)]
pub struct StartupError {
    message: String,
}

impl StartupError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        StartupError {
            message: message.into(),
        }
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the application failed to start: {}", self.message)
    }
}

impl std::error::Error for StartupError {}
