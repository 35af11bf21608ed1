//! [`BackgroundTasks`]: work a path operation queues to run after its response is sent.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::request::Parts;

use crate::context::RouteSpec;
use crate::extract::{FromRequestParts, Rejection, RequestContext};
use crate::teardown::{Job, TaskOutcome, Teardown};

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
    teardown: Arc<Teardown>,
}

impl fmt::Debug for BackgroundTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundTasks")
            .field("queued", &self.teardown.queued())
            .finish()
    }
}

impl BackgroundTasks {
    /// Queues a task: a closure returning a future (run on the event loop) or returning a plain
    /// value (run on the thread pool). Either may return `()` or `Result<(), E>` with a
    /// displayable `E`; errors are logged.
    pub fn add<M, T: BackgroundTask<M>>(&self, task: T) {
        self.teardown.push_job(task.into_job());
    }
}

impl FromRequestParts for BackgroundTasks {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match &ctx.teardown {
            Some(teardown) => Ok(BackgroundTasks {
                teardown: teardown.clone(),
            }),
            // Routes whose parameters ask for it always get one (see `spec`).
            None => {
                tracing::error!("BackgroundTasks used by a route that did not declare it");
                Err(Rejection::Response(crate::response::internal_error()))
            }
        }
    }

    fn spec(spec: &mut RouteSpec) {
        spec.after_response();
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
