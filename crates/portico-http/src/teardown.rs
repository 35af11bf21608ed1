//! Request teardown: what runs once a request is done with, in order: its background tasks,
//! then the cleanups of its dependencies in reverse order of setup, each seeing how the
//! request went ([`Outcome`]).
//!
//! A request's [`Teardown`] is made when its route needs one (a `BackgroundTasks` parameter,
//! a dependency with a cleanup or a concurrency cap); the response body starts it once hyper
//! has written the last frame or the client went away ([`AfterBody`]). Cleanups of
//! [`CleanupCleanupScope::Function`] run before the response is sent instead.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body::{Body as HttpBody, Frame, SizeHint};
use portico_tasks::{CapacityLimiter, Event, LimiterPermit, TaskTracker};

use crate::Body;
use crate::response::{Caught, Reply};

/// What a background task, a cleanup or a lifespan service returns: `()`, or `Result<(), E>`
/// whose error is logged.
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

/// A background task, ready to run: it returns the failure to log, if any.
pub(crate) type Job =
    Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Option<String>> + Send>> + Send>;

/// When a dependency's cleanup runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CleanupScope {
    /// After the response has been sent and after the request's background tasks (the
    /// default, FastAPI's `scope="request"`): a streaming response keeps the value open until
    /// its last chunk.
    #[default]
    Request,
    /// Right after the handler returns, before the response is sent (FastAPI's
    /// `scope="function"`). A request-scoped dependency may not depend on a function-scoped
    /// one.
    Function,
}

/// How the request went, as a cleanup sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler answered, whatever status it chose.
    Success,
    /// The handler or a dependency answered with an error (`Err`, an invalid input, an
    /// `HttpError`); the status is the error's.
    Error(StatusCode),
    /// The handler or a dependency panicked (the client got a 500).
    Panicked,
    /// The client went away before the whole response was sent.
    Disconnected,
}

impl Outcome {
    /// Whether the request succeeded (commit rather than roll back).
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// The old name of [`CleanupScope`], which read as the `Scope` of `portico::tasks`.
#[deprecated(since = "0.2.0", note = "renamed `CleanupScope`")]
pub type Scope = CleanupScope;

/// What an async cleanup returns: the failure to log, if any.
pub(crate) type CleanupFuture = Pin<Box<dyn Future<Output = Option<String>> + Send>>;

/// A cleanup, ready to run with the request's outcome.
pub(crate) enum CleanupJob {
    /// Run on the event loop.
    Async(Box<dyn FnOnce(Outcome) -> CleanupFuture + Send>),
    /// Run on a thread of the cleanup pool (never the shared limiter).
    Blocking(Box<dyn FnOnce(Outcome) -> Option<String> + Send>),
}

/// A cleanup queued by one request: what runs, when, and the concurrency permit it frees.
pub(crate) struct CleanupEntry {
    pub(crate) scope: CleanupScope,
    pub(crate) name: &'static str,
    pub(crate) job: CleanupJob,
    pub(crate) permit: Option<LimiterPermit>,
}

/// A provider's handler for the errors of one type (`Provider::catch`): given the value the
/// provider produced and the error, the reply instead, or the error back.
#[derive(Clone)]
pub(crate) struct Catch {
    pub(crate) type_id: std::any::TypeId,
    #[allow(
        clippy::type_complexity,
        reason = "one erased function, named by the field's doc"
    )]
    pub(crate) run: Arc<
        dyn Fn(&Arc<dyn std::any::Any + Send + Sync>, Caught) -> Result<Reply, Caught>
            + Send
            + Sync,
    >,
}

/// What one request runs after its response: its background tasks in order, then the cleanups
/// of its dependencies in reverse order of setup.
pub(crate) struct Teardown {
    jobs: Mutex<Vec<Job>>,
    cleanups: Mutex<Vec<CleanupEntry>>,
    /// The error handlers of the request's providers, in order of setup, with their values.
    catches: Mutex<Vec<(Arc<dyn std::any::Any + Send + Sync>, Catch)>>,
    outcome: Mutex<Outcome>,
    /// The threads plain `fn` cleanups run on: not the shared limiter, so that a cleanup
    /// giving a resource back never waits behind the work waiting for that resource.
    cleanup_limiter: CapacityLimiter,
    /// Where the work runs: the application's tracker of after-response work.
    work: TaskTracker,
    /// Set once the request's work has run.
    done: Event,
}

impl Teardown {
    pub(crate) fn new(work: TaskTracker, cleanup_limiter: CapacityLimiter) -> Self {
        Teardown {
            jobs: Mutex::new(Vec::new()),
            cleanups: Mutex::new(Vec::new()),
            catches: Mutex::new(Vec::new()),
            outcome: Mutex::new(Outcome::Success),
            cleanup_limiter,
            work,
            done: Event::new(),
        }
    }

    /// How many background tasks are queued.
    pub(crate) fn queued(&self) -> usize {
        lock(&self.jobs).len()
    }

    /// Queues a background task.
    pub(crate) fn push_job(&self, job: Job) {
        lock(&self.jobs).push(job);
    }

    fn finish(&self) {
        self.done.set();
    }

    /// Queues a dependency's cleanup.
    pub(crate) fn push_cleanup(&self, entry: CleanupEntry) {
        lock(&self.cleanups).push(entry);
    }

    /// Queues a provider's handler for an error type, with the value it produced.
    pub(crate) fn push_catch(&self, value: Arc<dyn std::any::Any + Send + Sync>, catch: Catch) {
        lock(&self.catches).push((value, catch));
    }

    /// Offers the handler's error to the providers that catch its type, the last set up
    /// first: each may answer instead (its answer, if an error, goes on to the ones set up
    /// before it) or let the error go on.
    pub(crate) fn catch(&self, reply: Reply) -> Reply {
        let Reply::Error(mut caught) = reply else {
            return reply;
        };
        let catches = std::mem::take(&mut *lock(&self.catches));
        for (value, catch) in catches.iter().rev() {
            if catch.type_id != caught.type_id() {
                continue;
            }
            match (catch.run)(value, caught) {
                Ok(Reply::Error(again)) => caught = again,
                Ok(answer) => return answer,
                Err(back) => caught = back,
            }
        }
        Reply::Error(caught)
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

    /// The request ended in an error answered with `status` (see [`fail`](Self::fail)).
    pub(crate) fn failed(&self, status: StatusCode) {
        self.fail(Outcome::Error(status));
    }

    pub(crate) fn outcome(&self) -> Outcome {
        *lock(&self.outcome)
    }

    /// Runs the cleanups of [`CleanupScope::Function`] (as after-response work of their own,
    /// so that they finish even if the request is dropped meanwhile); resolves once they ran.
    /// `None` if there are none.
    pub(crate) fn run_function_scope(&self) -> Option<impl Future<Output = ()> + Send + use<>> {
        let entries: Vec<CleanupEntry> = {
            let mut cleanups = lock(&self.cleanups);
            if !cleanups
                .iter()
                .any(|entry| entry.scope == CleanupScope::Function)
            {
                return None;
            }
            let (function, request) = std::mem::take(&mut *cleanups)
                .into_iter()
                .partition(|entry| entry.scope == CleanupScope::Function);
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
        let ran = Arc::new(Event::new());
        let signal = ran.clone();
        let outcome = self.outcome();
        let limiter = self.cleanup_limiter.clone();
        let inner = rt.clone();
        self.work.start_soon_on(&rt, async move {
            run_cleanups(&inner, &limiter, entries, outcome).await;
            signal.set();
        });
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
        let inner = rt.clone();
        let work = self.work.clone();
        work.start_soon_on(&rt, async move {
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
        });
    }

    /// Resolves once the request's work has run (at once if it had none).
    pub(crate) async fn wait(&self) {
        self.done.wait().await;
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

impl fmt::Debug for Teardown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Teardown")
            .field("queued", &self.queued())
            .field("finished", &self.done.is_set())
            .finish()
    }
}

/// Where a caller that sent a request can wait for its after-response work (the test client
/// does, as Starlette's does): filled with the request's teardown once its response is ready.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch(Arc<OnceLock<Arc<Teardown>>>);

impl Watch {
    /// The request's after-response work is `teardown`.
    pub(crate) fn set(&self, teardown: &Arc<Teardown>) {
        let _ = self.0.set(teardown.clone());
    }

    /// Resolves once the request's after-response work has run (at once if it had none).
    pub(crate) async fn done(&self) {
        if let Some(teardown) = self.0.get() {
            teardown.wait().await;
        }
    }
}

/// A response body that starts its request's after-response work when it is dropped: once
/// hyper has written its last frame, or when the client went away.
pub(crate) struct AfterBody {
    inner: Body,
    after: Option<Arc<Teardown>>,
    /// Whether the body was read to its end.
    ended: bool,
}

impl AfterBody {
    pub(crate) fn wrap(inner: Body, after: Arc<Teardown>) -> Body {
        Body::stream(AfterBody {
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
    type Error = <Body as HttpBody>::Error;

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
