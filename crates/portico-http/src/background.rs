//! [`BackgroundTasks`]: work a path operation queues to run after its response is sent.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use event_listener::Event;
use http::request::Parts;
use http_body::{Body as HttpBody, Frame, SizeHint};

use portico_tasks::CapacityLimiter;

use crate::body::ResponseBody;
use crate::depends::{CleanupEntry, CleanupJob, Outcome, Scope};
use crate::extract::{FromRequestParts, OperationDoc, Rejection, RequestContext};

type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Option<String>> + Send>> + Send>;

/// Work queued by a path operation, run **after its response has been sent**: an email to
/// send, a log line to write, a cache to warm. FastAPI's `BackgroundTasks`.
///
/// Take it as a parameter and [`add`](Self::add) closures to it. A closure that returns a
/// future runs on the event loop; a closure that returns a plain value runs on the thread pool
/// (through `portico_tasks::to_thread`, under the shared capacity limiter), so blocking work
/// never stalls the event loop: the same rule as for handlers.
///
/// * Tasks run one after the other, in the order they were added, once the response body has
///   been handed to the connection (or dropped, if the client went away first).
/// * A task that returns `Err` or panics is logged with `tracing` and the next one runs; the
///   client never sees it, as its response is already gone.
/// * Graceful shutdown waits for queued tasks within its grace period.
/// * The test client waits for a request's tasks before [`send`](crate::TestRequest::send)
///   returns, as Starlette's does, so a test can check their effect.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use portico_http::{App, BackgroundTasks, State};
///
/// #[derive(Clone, Default)]
/// struct Outbox(Arc<Mutex<Vec<String>>>);
///
/// async fn subscribe(tasks: BackgroundTasks, State(outbox): State<Outbox>) -> &'static str {
///     // A plain closure: runs on the thread pool, after the response.
///     tasks.add(move || outbox.0.lock().unwrap().push("welcome".to_owned()));
///     // A closure returning a future: runs on the event loop; an Err is logged.
///     tasks.add(|| async { Ok::<(), std::io::Error>(()) });
///     "subscribed"
/// }
///
/// let app = App::new().state(Outbox::default()).post("/subscribe", subscribe);
/// # drop(app);
/// ```
#[derive(Clone)]
pub struct BackgroundTasks {
    after: Arc<AfterResponse>,
}

impl fmt::Debug for BackgroundTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundTasks")
            .field("queued", &self.after.queued())
            .finish()
    }
}

impl BackgroundTasks {
    /// Queues a task: a closure returning a future (run on the event loop) or returning a plain
    /// value (run on the thread pool). Either may return `()` or `Result<(), E>` with a
    /// displayable `E`; errors are logged.
    pub fn add<M, T: BackgroundTask<M>>(&self, task: T) {
        let job = task.into_job();
        lock(&self.after.jobs).push(job);
    }
}

impl FromRequestParts for BackgroundTasks {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match &ctx.after {
            Some(after) => Ok(BackgroundTasks {
                after: after.clone(),
            }),
            // Routes whose parameters ask for it always get one (see `describe`).
            None => {
                tracing::error!("BackgroundTasks used by a route that did not declare it");
                Err(Rejection::Response(crate::error::internal_error()))
            }
        }
    }

    fn describe(doc: &mut OperationDoc) {
        doc.after_response = true;
    }
}

/// Something [`BackgroundTasks::add`] accepts: a closure returning a future, or a plain closure
/// run on the thread pool. The marker `M` tells the two apart; inference fills it in.
pub trait BackgroundTask<M>: Send + 'static {
    #[doc(hidden)]
    fn into_job(self) -> Job;
}

/// Marker of a task that returns a future.
#[doc(hidden)]
#[derive(Debug)]
pub enum AsyncTask {}

/// Marker of a plain closure, run on the thread pool.
#[doc(hidden)]
#[derive(Debug)]
pub enum BlockingTask {}

impl<F, Fut> BackgroundTask<AsyncTask> for F
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: TaskOutcome,
{
    fn into_job(self) -> Job {
        Box::new(move || Box::pin(async move { self().await.failure() }))
    }
}

impl<F, R> BackgroundTask<BlockingTask> for F
where
    F: FnOnce() -> R + Send + 'static,
    R: TaskOutcome,
{
    fn into_job(self) -> Job {
        Box::new(move || Box::pin(async move { portico_tasks::to_thread(self).await.failure() }))
    }
}

/// What a background task returns: `()`, or `Result<(), E>` whose error is logged.
pub trait TaskOutcome: Send + 'static {
    /// The failure to log, if any.
    fn failure(self) -> Option<String>;
}

impl TaskOutcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display + Send + 'static> TaskOutcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|err| err.to_string())
    }
}

/// Counts the requests whose after-response work is still running, for graceful shutdown.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    running: AtomicUsize,
    changed: Event,
}

impl Pending {
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Resolves once nothing is running.
    pub(crate) async fn idle(&self) {
        loop {
            if self.running() == 0 {
                return;
            }
            let listener = self.changed.listen();
            if self.running() == 0 {
                return;
            }
            listener.await;
        }
    }
}

/// What one request runs after its response: its background tasks in order, then the cleanups
/// of its dependencies in reverse order of setup.
pub(crate) struct AfterResponse {
    jobs: Mutex<Vec<Job>>,
    cleanups: Mutex<Vec<CleanupEntry>>,
    outcome: Mutex<Outcome>,
    /// The threads plain `fn` cleanups run on: not the shared limiter, so that a cleanup
    /// giving a resource back never waits behind the work waiting for that resource.
    cleanup_limiter: CapacityLimiter,
    pending: Arc<Pending>,
    done: Event,
    finished: std::sync::atomic::AtomicBool,
}

impl AfterResponse {
    pub(crate) fn new(pending: Arc<Pending>, cleanup_limiter: CapacityLimiter) -> Self {
        AfterResponse {
            jobs: Mutex::new(Vec::new()),
            cleanups: Mutex::new(Vec::new()),
            outcome: Mutex::new(Outcome::Success),
            cleanup_limiter,
            pending,
            done: Event::new(),
            finished: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn queued(&self) -> usize {
        lock(&self.jobs).len()
    }

    fn finish(&self) {
        self.finished.store(true, Ordering::Release);
        self.done.notify(usize::MAX);
    }

    /// Queues a dependency's cleanup.
    pub(crate) fn push_cleanup(&self, entry: CleanupEntry) {
        lock(&self.cleanups).push(entry);
    }

    /// The request failed: its background tasks will not run, and its cleanups will see
    /// `outcome` (the first failure recorded wins).
    pub(crate) fn fail(&self, outcome: Outcome) {
        {
            let mut current = lock(&self.outcome);
            if current.is_success() {
                *current = outcome;
            }
        }
        let jobs = std::mem::take(&mut *lock(&self.jobs));
        if !jobs.is_empty() {
            tracing::debug!("{} background task(s) not run: {outcome:?}", jobs.len());
        }
    }

    pub(crate) fn outcome(&self) -> Outcome {
        *lock(&self.outcome)
    }

    /// Runs the cleanups of [`Scope::Function`] (in a task of their own, so that they finish
    /// even if the request is dropped meanwhile); resolves once they ran. `None` if there are
    /// none.
    pub(crate) fn run_function_scope(&self) -> Option<impl Future<Output = ()> + Send + use<>> {
        let entries: Vec<CleanupEntry> = {
            let mut cleanups = lock(&self.cleanups);
            if !cleanups.iter().any(|entry| entry.scope == Scope::Function) {
                return None;
            }
            let (function, request) = std::mem::take(&mut *cleanups)
                .into_iter()
                .partition(|entry| entry.scope == Scope::Function);
            *cleanups = request;
            function
        };
        let rt = match portico_rt::current() {
            Ok(rt) => rt,
            Err(err) => {
                tracing::error!("{} cleanup(s) not run: {err}", entries.len());
                return None;
            }
        };
        let ran = Arc::new(portico_tasks::Event::new());
        let signal = ran.clone();
        let outcome = self.outcome();
        let limiter = self.cleanup_limiter.clone();
        let inner = rt.clone();
        rt.spawn(async move {
            run_cleanups(&inner, &limiter, entries, outcome).await;
            signal.set();
        })
        .detach();
        Some(async move { ran.wait().await })
    }

    /// Starts the queued work, once the response is out of the way.
    pub(crate) fn start(self: Arc<Self>) {
        let jobs = std::mem::take(&mut *lock(&self.jobs));
        let cleanups = std::mem::take(&mut *lock(&self.cleanups));
        if jobs.is_empty() && cleanups.is_empty() {
            self.finish();
            return;
        }
        let rt = match portico_rt::current() {
            Ok(rt) => rt,
            Err(err) => {
                tracing::error!(
                    "{} background task(s) and {} cleanup(s) dropped: {err}",
                    jobs.len(),
                    cleanups.len()
                );
                self.finish();
                return;
            }
        };
        self.pending.running.fetch_add(1, Ordering::AcqRel);
        let inner = rt.clone();
        rt.spawn(async move {
            for job in jobs {
                // Each task is a task of its own, so that a panic is caught the same way on
                // every runtime and the next task still runs.
                match inner.spawn(job()).await {
                    Ok(None) => {}
                    Ok(Some(failure)) => tracing::error!("a background task failed: {failure}"),
                    Err(err) => tracing::error!("a background task failed: {err}"),
                }
            }
            let outcome = self.outcome();
            run_cleanups(&inner, &self.cleanup_limiter, cleanups, outcome).await;
            self.finish();
            if self.pending.running.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.pending.changed.notify(usize::MAX);
            }
        })
        .detach();
    }

    /// Resolves once the request's work has run (at once if it had none).
    pub(crate) async fn wait(&self) {
        loop {
            if self.finished.load(Ordering::Acquire) {
                return;
            }
            let listener = self.done.listen();
            if self.finished.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs cleanups in reverse order of setup, each in a task of its own (a panic is logged and
/// the next one runs); plain `fn` ones on `limiter`'s threads.
async fn run_cleanups(
    rt: &portico_rt::Runtime,
    limiter: &CapacityLimiter,
    entries: Vec<CleanupEntry>,
    outcome: Outcome,
) {
    for entry in entries.into_iter().rev() {
        let CleanupEntry {
            name, job, permit, ..
        } = entry;
        let result = match job {
            CleanupJob::Async(job) => rt.spawn(job(outcome)).await,
            CleanupJob::Blocking(job) => {
                let limiter = limiter.clone();
                rt.spawn(async move {
                    portico_tasks::to_thread_with(&limiter, move || job(outcome)).await
                })
                .await
            }
        };
        match result {
            Ok(None) => {}
            Ok(Some(failure)) => tracing::error!("the cleanup of {name} failed: {failure}"),
            Err(err) => tracing::error!("the cleanup of {name} failed: {err}"),
        }
        // A capped dependency's slot is free once its cleanup has run.
        drop(permit);
    }
}

impl fmt::Debug for AfterResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfterResponse")
            .field("queued", &self.queued())
            .field("finished", &self.finished.load(Ordering::Relaxed))
            .finish()
    }
}

/// Put on a response whose request queued work, so that the test client can wait for it.
#[derive(Clone)]
pub(crate) struct AfterHandle(pub(crate) Arc<AfterResponse>);

/// A response body that starts its request's after-response work when it is dropped: once
/// hyper has written its last frame, or when the client went away.
pub(crate) struct AfterBody {
    inner: ResponseBody,
    after: Option<Arc<AfterResponse>>,
    /// Whether the body was read to its end.
    ended: bool,
}

impl AfterBody {
    pub(crate) fn wrap(inner: ResponseBody, after: Arc<AfterResponse>) -> ResponseBody {
        ResponseBody::stream(AfterBody {
            inner,
            after: Some(after),
            ended: false,
        })
    }
}

impl Drop for AfterBody {
    fn drop(&mut self) {
        if let Some(after) = self.after.take() {
            if !self.ended && !self.inner.is_end_stream() {
                // Dropped before its end: the client went away (or the stream failed).
                after.fail(Outcome::Disconnected);
            }
            after.start();
        }
    }
}

impl HttpBody for AfterBody {
    type Data = Bytes;
    type Error = <ResponseBody as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
