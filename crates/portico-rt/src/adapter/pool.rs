//! A pool of threads for blocking closures, for adapters whose runtime has none to match it.
//!
//! A closure is handed straight to an idle thread, which parks on its own: waking it is one
//! `unpark`, and no other thread wakes with it. The pools it was measured against (the
//! `blocking` crate's, tokio's) keep their idle threads on one condition variable under one
//! lock; under a steady stream of closures their threads wake one another and meet on the lock
//! (see BENCHMARKS.md, "smol's blocking pool").
//!
//! Threads start when a closure finds none idle (up to the pool's limit; beyond it closures
//! wait in a queue), and leave after [`BlockingPool::KEEP_ALIVE`] without work, as tokio's do.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use async_task::Runnable;

use super::{BlockingTask, RawJoin};

/// Names a new thread of the pool.
type NameThread = dyn Fn() -> String + Send + Sync;

/// Runs a thread's whole work inside whatever context the adapter's runtime needs there.
type AroundThread = dyn Fn(&mut dyn FnMut()) + Send + Sync;

/// A pool of threads for blocking closures, for an adapter's
/// [`Backend::spawn_blocking`](super::Backend::spawn_blocking); cloned handles share it.
///
/// Threads start as closures overlap, up to the pool's limit (closures beyond it wait for a
/// thread); a closure is handed straight to an idle thread, which parks on its own; a thread
/// idle for [`KEEP_ALIVE`](Self::KEEP_ALIVE) exits. An adapter owns one pool per runtime and calls
/// [`stop`](Self::stop) when the runtime shuts down.
///
/// # Examples
///
/// An adapter's runtime keeps the pool beside its executor:
///
/// ```
/// use std::time::Duration;
/// use portico_rt::adapter::{BlockingPool, BlockingTask, RawJoin};
///
/// struct MyBackend {
///     pool: BlockingPool,
/// }
///
/// impl MyBackend {
///     fn new(max_threads: usize) -> Self {
///         let pool = BlockingPool::new(max_threads, || "my-runtime-blocking".to_owned());
///         MyBackend { pool }
///     }
///
///     // Backend::spawn_blocking
///     fn spawn_blocking(&self, task: BlockingTask) -> RawJoin {
///         self.pool.spawn(task)
///     }
///
///     // On shutdown: closures not started are dropped, running ones are waited for.
///     fn shutdown(&self, timeout: Duration) {
///         self.pool.stop(Some(std::time::Instant::now() + timeout));
///     }
/// }
/// # let backend = MyBackend::new(4);
/// # backend.shutdown(Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct BlockingPool {
    inner: Arc<Inner>,
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner.state);
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle.len())
            .field("queued", &state.queue.len())
            .field("max_threads", &self.inner.max_threads)
            .finish()
    }
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when the last thread leaves, for [`BlockingPool::stop`].
    gone: Condvar,
    /// Set once by [`BlockingPool::stop`]; read by idle threads without the lock.
    stopping: AtomicBool,
    max_threads: usize,
    keep_alive: Duration,
    name: Box<NameThread>,
    around: Option<Box<AroundThread>>,
}

struct State {
    /// Closures waiting for a thread: only when `max_threads` are busy.
    queue: VecDeque<Runnable>,
    /// Threads waiting for work, the one idle longest first. Waking that one (rather than the
    /// last to go idle, which may not have parked yet) measured faster for closures awaited one
    /// after another: 0.87-0.95 of the `blocking` crate's round trip on smol against 0.97-0.99,
    /// and 1.08-1.15 of tokio's `spawn_blocking` against 1.16-1.21.
    /// Each with the time it went idle.
    idle: VecDeque<(Arc<Idler>, Instant)>,
    /// Threads started and not yet gone (idle ones included).
    threads: usize,
    /// The reaper runs (see [`BlockingPool::reap`]).
    reaping: bool,
    /// The reaper's thread, once it has started, for [`BlockingPool::stop`] to wake.
    reaper: Option<Thread>,
}

/// An idle thread, as the pool sees it: where to put what it is to do next, and how to wake it.
struct Idler {
    thread: Thread,
    next: Mutex<Option<Next>>,
}

/// What an idle thread is woken for.
enum Next {
    Run(Runnable),
    /// Idle for the keep-alive: exit.
    Leave,
}

thread_local! {
    /// On a thread of a pool, that pool's address, so that [`BlockingPool::stop`] called from
    /// one of its own closures does not wait for itself.
    static OWN_POOL: Cell<usize> = const { Cell::new(0) };
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds consistent state.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BlockingPool {
    /// How long a thread of the pool waits for work before it exits (tokio's default too).
    pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

    /// The most threads a pool starts unless the runtime's builder says otherwise
    /// ([`BuilderConfig::max_blocking_threads`](super::BuilderConfig::max_blocking_threads));
    /// tokio's default too.
    pub const DEFAULT_MAX_THREADS: usize = 512;

    /// A pool that starts at most `max_threads` threads (at least one), each named by `name`.
    pub fn new(max_threads: usize, name: impl Fn() -> String + Send + Sync + 'static) -> Self {
        BlockingPool::build(max_threads, Box::new(name), None, Self::KEEP_ALIVE)
    }

    /// As [`new`](Self::new), with each thread's work run inside `around`: for a runtime whose
    /// context must be entered on the thread (tokio's handle, say), so that closures find it.
    ///
    /// `around` must call the work it is given, once.
    pub fn with_context(
        max_threads: usize,
        name: impl Fn() -> String + Send + Sync + 'static,
        around: impl Fn(&mut dyn FnMut()) + Send + Sync + 'static,
    ) -> Self {
        BlockingPool::build(
            max_threads,
            Box::new(name),
            Some(Box::new(around)),
            Self::KEEP_ALIVE,
        )
    }

    fn build(
        max_threads: usize,
        name: Box<NameThread>,
        around: Option<Box<AroundThread>>,
        keep_alive: Duration,
    ) -> Self {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    idle: VecDeque::new(),
                    threads: 0,
                    reaping: false,
                    reaper: None,
                }),
                gone: Condvar::new(),
                stopping: AtomicBool::new(false),
                max_threads: max_threads.max(1),
                keep_alive,
                name,
                around,
            }),
        }
    }

    /// Runs `task` on a thread of the pool.
    ///
    /// The handle cancels the closure if dropped before it starts; one that has started runs
    /// to its end. A panic in the closure is caught on its thread and given to the handle.
    /// After [`stop`](Self::stop) the handle reports a cancellation.
    pub fn spawn(&self, task: BlockingTask) -> RawJoin {
        let pool = self.clone();
        let (runnable, closure) = async_task::Builder::new().propagate_panic(true).spawn(
            move |()| async move { task.run() },
            move |runnable| {
                pool.schedule(runnable);
            },
        );
        runnable.schedule();
        RawJoin::from_async_task(closure)
    }

    /// Runs `runnable` on a thread of the pool. After [`stop`](Self::stop), or if no thread can
    /// be started and none is left to take it, the runnable is dropped, which cancels its task.
    fn schedule(&self, runnable: Runnable) {
        let inner = &self.inner;
        let mut state = lock(&inner.state);
        if inner.stopping.load(Ordering::Relaxed) {
            drop(state);
            drop(runnable);
            return;
        }
        if let Some((idler, _)) = state.idle.pop_front() {
            drop(state);
            *lock(&idler.next) = Some(Next::Run(runnable));
            idler.thread.unpark();
            return;
        }
        if state.threads >= inner.max_threads {
            state.queue.push_back(runnable);
            return;
        }
        state.threads += 1;
        let start_reaper = !std::mem::replace(&mut state.reaping, true);
        drop(state);
        let pool = self.clone();
        // The closure holds the runnable; if the thread cannot start, both are dropped with the
        // error, and the task reports a cancellation, as after shutdown.
        let started = thread::Builder::new()
            .name((inner.name)())
            .spawn(move || pool.run_thread(runnable));
        if started.is_err() {
            self.leave();
        }
        if start_reaper {
            let pool = self.clone();
            let started = thread::Builder::new()
                .name((inner.name)())
                .spawn(move || pool.reap());
            if started.is_err() {
                // Idle threads then stay until the pool stops, or until a later thread's start
                // brings a reaper.
                lock(&inner.state).reaping = false;
                inner.gone.notify_all();
            }
        }
    }

    /// A thread's life, inside the adapter's context if it gave one.
    fn run_thread(&self, first: Runnable) {
        OWN_POOL.with(|own| own.set(self.address()));
        let mut first = Some(first);
        let mut work = || {
            if let Some(first) = first.take() {
                self.work(first);
            }
        };
        match &self.inner.around {
            Some(around) => around(&mut work),
            None => work(),
        }
        // Counted even if `around` did not call the work: the thread is leaving.
        self.leave();
    }

    /// Run what this thread is given, then what is queued, then wait to be given more.
    fn work(&self, first: Runnable) {
        let me = Arc::new(Idler {
            thread: thread::current(),
            next: Mutex::new(None),
        });
        let mut next = Some(first);
        while let Some(runnable) = next.take() {
            // async-task catches the closure's panic for its join handle (`propagate_panic`);
            // this only guards the pool's thread against a panic in a waker.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| runnable.run()));
            let mut state = lock(&self.inner.state);
            next = state.queue.pop_front();
            if next.is_none() && !self.inner.stopping.load(Ordering::Relaxed) {
                state.idle.push_back((me.clone(), Instant::now()));
                drop(state);
                next = self.wait(&me);
            }
        }
    }

    /// A thread has left (or never started).
    fn leave(&self) {
        let mut state = lock(&self.inner.state);
        state.threads -= 1;
        // `stop` waits for none left, or for one: the thread it was called on.
        if state.threads <= 1 {
            self.inner.gone.notify_all();
        }
    }

    fn address(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Waits, idle, for a closure; `None` once the reaper says so or the pool stops.
    ///
    /// The wait has no timeout of its own: on the virtual machine the benchmarks ran on, a
    /// timed park (a timer armed, then cancelled at the wake-up) made each hand-over 1 to 2 µs
    /// slower, so the keep-alive is kept by [`reap`](Self::reap) instead.
    fn wait(&self, me: &Arc<Idler>) -> Option<Runnable> {
        loop {
            match lock(&me.next).take() {
                Some(Next::Run(runnable)) => return Some(runnable),
                Some(Next::Leave) => return None,
                None => {}
            }
            if self.inner.stopping.load(Ordering::Acquire) {
                let mut state = lock(&self.inner.state);
                if let Some(at) = state
                    .idle
                    .iter()
                    .position(|(idler, _)| Arc::ptr_eq(idler, me))
                {
                    state.idle.remove(at);
                    return None;
                }
                // Something was given to this thread just now: it is on its way, with an unpark.
            }
            thread::park();
        }
    }

    /// The reaper's life: while the pool has threads, it sleeps until the longest idle
    /// thread's keep-alive ends, and tells the threads idle that long to exit. One timed wait
    /// for the whole pool, instead of one per idle thread.
    fn reap(&self) {
        let inner = &self.inner;
        {
            let mut state = lock(&inner.state);
            if inner.stopping.load(Ordering::Acquire) {
                state.reaping = false;
                drop(state);
                inner.gone.notify_all();
                return;
            }
            state.reaper = Some(thread::current());
        }
        let mut wait = inner.keep_alive;
        loop {
            thread::park_timeout(wait);
            let now = Instant::now();
            let mut state = lock(&inner.state);
            let mut leaving = Vec::new();
            if !inner.stopping.load(Ordering::Acquire) {
                // The longest idle come first.
                while let Some((_, since)) = state.idle.front() {
                    if now.saturating_duration_since(*since) < inner.keep_alive {
                        break;
                    }
                    if let Some((idler, _)) = state.idle.pop_front() {
                        leaving.push(idler);
                    }
                }
            }
            let last = inner.stopping.load(Ordering::Acquire) || state.threads == leaving.len();
            if last {
                state.reaping = false;
                state.reaper = None;
            }
            // Next, when the longest idle thread's keep-alive ends (a thread given work before
            // then makes that wake-up find nothing to do, once).
            wait = state.idle.front().map_or(inner.keep_alive, |(_, since)| {
                (*since + inner.keep_alive).saturating_duration_since(now)
            });
            wait = wait.max(Duration::from_millis(1));
            drop(state);
            for idler in leaving {
                *lock(&idler.next) = Some(Next::Leave);
                idler.thread.unpark();
            }
            if last {
                inner.gone.notify_all();
                return;
            }
        }
    }

    /// Stops the pool: closures given afterwards, and those still queued, are dropped (their
    /// handles report a cancellation); idle threads leave. Then waits, at most until
    /// `deadline`, for every thread to leave (the reaper's too), which a running closure's
    /// thread does once the closure returns.
    ///
    /// Called from a closure on the pool (a runtime dropped inside its own blocking closure,
    /// say), it waits for the other threads only.
    pub fn stop(&self, deadline: Option<Instant>) {
        let inner = &self.inner;
        let mut state = lock(&inner.state);
        inner.stopping.store(true, Ordering::Release);
        let queued = std::mem::take(&mut state.queue);
        for (idler, _) in &state.idle {
            idler.thread.unpark();
        }
        if let Some(reaper) = &state.reaper {
            reaper.unpark();
        }
        drop(state);
        drop(queued);
        let this_thread = usize::from(OWN_POOL.with(Cell::get) == self.address());
        let mut state = lock(&inner.state);
        while state.threads > this_thread || state.reaping {
            state = match deadline {
                None => inner
                    .gone
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return;
                    };
                    inner
                        .gone
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    /// Runs `f` on the pool; the receiver gets its result.
    fn run<T: Send + 'static>(
        pool: &BlockingPool,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> async_task::Task<T> {
        let pool = pool.clone();
        let (runnable, task) = async_task::spawn(async move { f() }, move |r| pool.schedule(r));
        runnable.schedule();
        task
    }

    fn threads(pool: &BlockingPool) -> (usize, usize) {
        let state = lock(&pool.inner.state);
        (state.threads, state.idle.len())
    }

    #[test]
    fn an_idle_thread_takes_the_next_closure() {
        let pool = BlockingPool::new(4, || "pool-test".into());
        for n in 0..20 {
            assert_eq!(
                futures_lite::future::block_on(run(&pool, move || n * 2)),
                n * 2
            );
            // The result may arrive before its thread is idle again; wait until it is.
            let start = Instant::now();
            while threads(&pool).1 < threads(&pool).0 {
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "the thread never idled"
                );
                thread::yield_now();
            }
        }
        // One closure at a time, each given once the last thread was idle: one thread did all.
        assert_eq!(threads(&pool), (1, 1));
        pool.stop(None);
        assert_eq!(threads(&pool), (0, 0));
    }

    #[test]
    fn closures_beyond_the_limit_wait_for_a_thread() {
        let pool = BlockingPool::new(2, || "pool-test".into());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                run(&pool, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            futures_lite::future::block_on(task);
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "at most two ran at once");
        pool.stop(None);
    }

    #[test]
    fn an_idle_thread_leaves_after_its_keep_alive() {
        let pool = BlockingPool::build(
            4,
            Box::new(|| "pool-test".into()),
            None,
            Duration::from_millis(50),
        );
        futures_lite::future::block_on(run(&pool, || ()));
        let start = Instant::now();
        while threads(&pool).0 > 0 || lock(&pool.inner.state).reaping {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the thread stayed"
            );
            thread::sleep(Duration::from_millis(10));
        }
        // A later closure starts a thread again.
        assert_eq!(futures_lite::future::block_on(run(&pool, || 7)), 7);
        pool.stop(None);
    }

    #[test]
    fn stopping_cancels_queued_closures_and_waits_for_running_ones() {
        let pool = BlockingPool::new(1, || "pool-test".into());
        let (started_tx, started_rx) = mpsc::channel();
        let finished = Arc::new(AtomicBool::new(false));
        let running = run(&pool, {
            let finished = finished.clone();
            move || {
                started_tx.send(()).unwrap();
                thread::sleep(Duration::from_millis(50));
                finished.store(true, Ordering::SeqCst);
            }
        });
        started_rx.recv().unwrap();
        let queued = run(&pool, || ()).fallible();
        pool.stop(None);
        assert!(
            finished.load(Ordering::SeqCst),
            "stop waited for the running closure"
        );
        assert_eq!(threads(&pool), (0, 0));
        futures_lite::future::block_on(running);
        assert!(
            futures_lite::future::block_on(queued).is_none(),
            "the queued one was cancelled"
        );
        let late = run(&pool, || ()).fallible();
        assert!(
            futures_lite::future::block_on(late).is_none(),
            "given after stop: cancelled"
        );
    }

    #[test]
    fn stop_returns_at_its_deadline_while_a_closure_runs() {
        let pool = BlockingPool::new(1, || "pool-test".into());
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let task = run(&pool, move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        });
        started_rx.recv().unwrap();
        let start = Instant::now();
        pool.stop(Some(Instant::now() + Duration::from_millis(50)));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(threads(&pool).0, 1, "the closure is still running");
        release_tx.send(()).unwrap();
        futures_lite::future::block_on(task);
    }

    #[test]
    fn threads_run_inside_the_context_given_and_are_named() {
        thread_local! {
            static ENTERED: Cell<bool> = const { Cell::new(false) };
        }
        let count = Arc::new(AtomicUsize::new(0));
        let pool = BlockingPool::with_context(
            2,
            move || format!("ctx-{}", count.fetch_add(1, Ordering::SeqCst)),
            |work| {
                ENTERED.with(|entered| entered.set(true));
                work();
                ENTERED.with(|entered| entered.set(false));
            },
        );
        let (entered, name) = futures_lite::future::block_on(run(&pool, || {
            let name = thread::current().name().map(str::to_owned);
            (ENTERED.with(Cell::get), name)
        }));
        assert!(entered, "the closure ran inside the context");
        assert_eq!(name.as_deref(), Some("ctx-0"));
        pool.stop(None);
        assert_eq!(threads(&pool), (0, 0));
    }

    #[test]
    fn a_closure_that_stops_its_own_pool_does_not_wait_for_itself() {
        let pool = BlockingPool::new(2, || "pool-test".into());
        let inner = pool.clone();
        let returned = futures_lite::future::block_on(run(&pool, move || {
            inner.stop(None);
            "returned"
        }));
        assert_eq!(returned, "returned");
        let start = Instant::now();
        while threads(&pool).0 > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the thread stayed"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn many_closures_from_many_threads_all_run() {
        let pool = BlockingPool::new(8, || "pool-test".into());
        let done = Arc::new(AtomicUsize::new(0));
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let (pool, done) = (pool.clone(), done.clone());
                thread::spawn(move || {
                    for _ in 0..500 {
                        let done = done.clone();
                        futures_lite::future::block_on(run(&pool, move || {
                            done.fetch_add(1, Ordering::SeqCst);
                        }));
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 2000);
        assert!(threads(&pool).0 <= 8);
        pool.stop(None);
        assert_eq!(threads(&pool), (0, 0));
    }
}
