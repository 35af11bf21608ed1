//! How a user's function runs, picked by what it returns: an `async fn` (its future is
//! awaited on the event loop) or a plain `fn` (it runs on the thread pool, under the
//! application's capacity limiter), FastAPI's `async def` / `def` rule.
//!
//! The choice is a strategy ([`Async`] or [`Blocking`]) that type inference picks from the
//! function's return type, so path operations and dependency providers each have one
//! implementation per number of parameters, not one per kind of function.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use portico_tasks::CapacityLimiter;

/// The marker of `async fn`s: run on the event loop.
#[derive(Debug, Clone, Copy)]
pub enum Async {}

/// The marker of plain `fn`s: run on the thread pool.
#[derive(Debug, Clone, Copy)]
pub enum Blocking {}

/// What a use of functions accepts as their result; it is what tells an `async fn` (whose
/// result is a future of it) from a plain one.
#[doc(hidden)]
pub trait Accepts<R> {}

/// A function's return value, and how the function is run to get what it stands for: the
/// future awaited ([`Async`]), or the function called on the thread pool ([`Blocking`]).
/// `W` is what the use accepts (see [`Accepts`]).
#[doc(hidden)]
pub trait Runs<S, W>: Sized + Send + 'static {
    /// What the function stands for: the future's output, or the value itself.
    type Output: Send + 'static;

    /// Whether the function runs on the thread pool.
    const BLOCKING: bool;

    /// Runs `call` (the function with its arguments) to its output, on the thread pool under
    /// `threads` for a plain `fn`.
    fn run(
        call: impl FnOnce() -> Self + Send + 'static,
        threads: &CapacityLimiter,
    ) -> impl Future<Output = Self::Output> + Send + '_;
}

impl<Fut, W> Runs<Async, W> for Fut
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
    W: Accepts<Fut::Output>,
{
    type Output = Fut::Output;

    const BLOCKING: bool = false;

    fn run(
        call: impl FnOnce() -> Self + Send + 'static,
        _threads: &CapacityLimiter,
    ) -> impl Future<Output = Fut::Output> + Send + '_ {
        call()
    }
}

impl<R, W> Runs<Blocking, W> for R
where
    R: Send + 'static,
    W: Accepts<R>,
{
    type Output = R;

    const BLOCKING: bool = true;

    #[allow(
        clippy::manual_async_fn,
        reason = "the trait's signature, which promises `Send`, spelled as it is"
    )]
    fn run(
        call: impl FnOnce() -> Self + Send + 'static,
        threads: &CapacityLimiter,
    ) -> impl Future<Output = R> + Send + '_ {
        async move {
            if on_request_trip() {
                // Already on the request's trip to the thread pool: no second one.
                return call();
            }
            // A request given up on (a timeout, a client gone, a server past its shutdown
            // deadline) gets its answer at once: the function cannot be interrupted, so it is
            // left to finish on its thread, its token given back when it does.
            portico_tasks::ToThread::new()
                .limiter(threads.clone())
                .abandon_on_cancel(true)
                .run(call)
                .await
        }
    }
}

thread_local! {
    /// Whether the thread is running a request's trip to the thread pool (see [`trip`]).
    static ON_TRIP: Cell<bool> = const { Cell::new(false) };
}

fn on_request_trip() -> bool {
    ON_TRIP.with(Cell::get)
}

/// Runs `work` on the thread pool, under `threads`, in one trip: the plain `fn`s it runs
/// (dependencies, the handler) are called where they are, on that thread, in the order `work`
/// reaches them, instead of each taking a trip of its own. What `work` awaits besides (a
/// dependency's own extractors) is waited for on that thread. Given up on like a plain `fn`'s
/// own trip (see [`Runs::run`]).
///
/// `work` is boxed before anything else: a request's work is a large future (its extractors'
/// and its dependencies' states), and the layers that take it to a thread (the limiter, the
/// pool's task, the thread's `block_on`) then move a pointer rather than copying it each.
pub(crate) fn trip<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
    threads: CapacityLimiter,
) -> impl Future<Output = T> + Send {
    let work: Pin<Box<dyn Future<Output = T> + Send>> = Box::pin(work);
    async move {
        if on_request_trip() {
            // On one already (dependencies produced on a handler's trip).
            return work.await;
        }
        portico_tasks::ToThread::new()
            .limiter(threads)
            .abandon_on_cancel(true)
            .run(move || {
                let _on = OnTrip(ON_TRIP.with(|on| on.replace(true)));
                let mut work = work;
                let output = futures_lite::future::block_on(work.as_mut());
                // The finished future's box goes back with the output, to be freed on the
                // thread that made it (the allocator's fast way).
                (output, work)
            })
            .await
            .0
    }
}

/// Marks the thread as on a trip until dropped (a panic included).
struct OnTrip(bool);

impl Drop for OnTrip {
    fn drop(&mut self) {
        let _ = ON_TRIP.try_with(|on| on.set(self.0));
    }
}
