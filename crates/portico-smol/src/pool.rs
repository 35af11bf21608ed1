//! The runtime's pool of threads for blocking closures.
//!
//! A closure is handed straight to an idle thread, which parks on its own: waking it is one
//! `unpark`, and no other thread wakes with it. The `blocking` crate's pool, which this one
//! replaced, has every idle thread wait on one condition variable under one lock and signals it
//! on each closure given and each one taken, so under a steady stream of closures its threads
//! woke each other and fought over the lock (see BENCHMARKS.md, "smol's blocking pool").
//!
//! Threads start when a closure finds none idle (up to the runtime's limit; beyond it closures
//! wait in a queue), and leave after [`KEEP_ALIVE`] without work, as tokio's do.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use async_task::Runnable;

/// How long a thread of the pool waits for work before it exits (tokio's default too).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The most threads a pool starts, unless the builder says otherwise (tokio's default too).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

/// A pool of threads for blocking closures; cloned handles share it.
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when the last thread leaves, for [`Pool::stop`].
    gone: Condvar,
    /// Set once by [`Pool::stop`]; read by idle threads without the lock.
    stopping: AtomicBool,
    max_threads: usize,
    keep_alive: Duration,
    /// Threads are named `<prefix>-<n>`.
    prefix: String,
}

struct State {
    /// Closures waiting for a thread: only when `max_threads` are busy.
    queue: VecDeque<Runnable>,
    /// Threads waiting for work, the one that went idle last at the end.
    idle: Vec<Arc<Idler>>,
    /// Threads started and not yet gone (idle ones included).
    threads: usize,
    /// The number in the next thread's name.
    next_name: usize,
}

/// An idle thread, as the pool sees it: where to put its next closure, and how to wake it.
struct Idler {
    thread: Thread,
    next: Mutex<Option<Runnable>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds consistent state.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    /// A pool that starts at most `max_threads` threads (at least one), named
    /// `<prefix>-<first_name>`, `<prefix>-<first_name + 1>` and so on.
    pub(crate) fn new(max_threads: usize, prefix: String, first_name: usize) -> Pool {
        Pool::with_keep_alive(max_threads, prefix, first_name, KEEP_ALIVE)
    }

    fn with_keep_alive(
        max_threads: usize,
        prefix: String,
        first_name: usize,
        keep_alive: Duration,
    ) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    idle: Vec::new(),
                    threads: 0,
                    next_name: first_name,
                }),
                gone: Condvar::new(),
                stopping: AtomicBool::new(false),
                max_threads: max_threads.max(1),
                keep_alive,
                prefix,
            }),
        }
    }

    /// Runs `runnable` on a thread of the pool. After [`stop`](Self::stop), or if no thread can
    /// be started and none is left to take it, the runnable is dropped, which cancels its task.
    pub(crate) fn schedule(&self, runnable: Runnable) {
        let inner = &self.inner;
        let mut state = lock(&inner.state);
        if inner.stopping.load(Ordering::Relaxed) {
            drop(state);
            drop(runnable);
            return;
        }
        if let Some(idler) = state.idle.pop() {
            drop(state);
            *lock(&idler.next) = Some(runnable);
            idler.thread.unpark();
            return;
        }
        if state.threads >= inner.max_threads {
            state.queue.push_back(runnable);
            return;
        }
        state.threads += 1;
        let name = format!("{}-{}", inner.prefix, state.next_name);
        state.next_name += 1;
        drop(state);
        let pool = self.clone();
        // The closure holds the runnable; if the thread cannot start, it comes back in the error.
        let started = thread::Builder::new()
            .name(name)
            .spawn(move || pool.work(runnable));
        if started.is_err() {
            let mut state = lock(&inner.state);
            state.threads -= 1;
            if state.threads == 0 {
                inner.gone.notify_all();
            }
            // The closure, and the runnable in it, were dropped with the error: its task reports
            // a cancellation, as after shutdown.
        }
    }

    /// A thread's life: run what it is given, then what is queued, then wait to be given more.
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
                state.idle.push(me.clone());
                drop(state);
                next = self.wait(&me);
            }
        }
        let mut state = lock(&self.inner.state);
        state.threads -= 1;
        if state.threads == 0 {
            self.inner.gone.notify_all();
        }
    }

    /// Waits, idle, for a closure; `None` once the keep-alive has passed or the pool stops.
    fn wait(&self, me: &Arc<Idler>) -> Option<Runnable> {
        let deadline = Instant::now() + self.inner.keep_alive;
        loop {
            if let Some(runnable) = lock(&me.next).take() {
                return Some(runnable);
            }
            let now = Instant::now();
            if now < deadline && !self.inner.stopping.load(Ordering::Acquire) {
                thread::park_timeout(deadline - now);
                continue;
            }
            let mut state = lock(&self.inner.state);
            if let Some(at) = state.idle.iter().position(|idler| Arc::ptr_eq(idler, me)) {
                state.idle.remove(at);
                return None;
            }
            // A closure was given to this thread just now: it is on its way, with an unpark.
            drop(state);
            thread::park();
        }
    }

    /// Stops the pool: closures given afterwards, and those still queued, are dropped (their
    /// tasks report a cancellation); idle threads leave. Then waits, at most until `deadline`,
    /// for every thread to leave, which running closures do once they return.
    pub(crate) fn stop(&self, deadline: Option<Instant>) {
        let inner = &self.inner;
        let mut state = lock(&inner.state);
        inner.stopping.store(true, Ordering::Release);
        let queued = std::mem::take(&mut state.queue);
        for idler in &state.idle {
            idler.thread.unpark();
        }
        drop(state);
        drop(queued);
        let mut state = lock(&inner.state);
        while state.threads > 0 {
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
        pool: &Pool,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> async_task::Task<T> {
        let pool = pool.clone();
        let (runnable, task) = async_task::spawn(async move { f() }, move |r| pool.schedule(r));
        runnable.schedule();
        task
    }

    fn threads(pool: &Pool) -> (usize, usize) {
        let state = lock(&pool.inner.state);
        (state.threads, state.idle.len())
    }

    #[test]
    fn an_idle_thread_takes_the_next_closure() {
        let pool = Pool::new(4, "pool-test".into(), 0);
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
        let pool = Pool::new(2, "pool-test".into(), 0);
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
        let pool = Pool::with_keep_alive(4, "pool-test".into(), 0, Duration::from_millis(50));
        futures_lite::future::block_on(run(&pool, || ()));
        let start = Instant::now();
        while threads(&pool).0 > 0 {
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
        let pool = Pool::new(1, "pool-test".into(), 0);
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
        let pool = Pool::new(1, "pool-test".into(), 0);
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
    fn many_closures_from_many_threads_all_run() {
        let pool = Pool::new(8, "pool-test".into(), 0);
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
