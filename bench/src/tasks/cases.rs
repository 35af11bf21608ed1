//! The cases of `bench tasks`: each runs one round and returns how long it took.

use std::hint::black_box;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_executor::Executor;
use portico_rt::Runtime;
use portico_tasks::{TaskGroup, task_group, to_thread};

/// async-executor on its own threads, as the smol adapter runs it, without Portico.
pub struct NativeSmol {
    executor: Arc<Executor<'static>>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl NativeSmol {
    pub fn new(workers: usize) -> Self {
        let executor = Arc::new(Executor::new());
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let threads = (0..workers)
            .map(|_| {
                let (executor, stop) = (executor.clone(), stop.clone());
                std::thread::spawn(move || {
                    let stopped = blocking::unblock(move || {
                        let (flag, cvar) = &*stop;
                        let mut stopped = flag.lock().expect("stop flag");
                        while !*stopped {
                            stopped = cvar.wait(stopped).expect("stop flag");
                        }
                    });
                    async_io::block_on(executor.run(stopped));
                })
            })
            .collect();
        NativeSmol {
            executor,
            stop,
            threads,
        }
    }
}

impl Drop for NativeSmol {
    fn drop(&mut self) {
        let (flag, cvar) = &*self.stop;
        *flag.lock().expect("stop flag") = true;
        cvar.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Where the spawning code runs: in a task on a worker, or on the thread that called
/// `block_on` (the program's main thread).
#[derive(Clone, Copy)]
pub enum From {
    Worker,
    Main,
}

/// `n` trivial children in one task group, started with `start_soon`.
pub fn group(rt: &Runtime, from: From, n: usize) -> Duration {
    run_portico(rt, from, async move {
        task_group(|tg| async move {
            for i in 0..n {
                tg.start_soon(async move {
                    black_box(i);
                    Ok(())
                });
            }
            Ok::<(), io::Error>(())
        })
        .await
        .expect("no failure");
    })
}

/// `n` trivial children in one task group, each with a handle that is awaited, as a
/// `JoinSet`'s tasks are.
pub fn group_with_handles(rt: &Runtime, from: From, n: usize) -> Duration {
    run_portico(rt, from, async move {
        task_group(|tg: TaskGroup<io::Error>| async move {
            let handles: Vec<_> = (0..n)
                .map(|i| tg.spawn(async move { Ok(black_box(i)) }))
                .collect();
            for handle in handles {
                handle.await.expect("trivial child");
            }
            Ok(())
        })
        .await
        .expect("no failure");
    })
}

/// `n` sequential `to_thread` round trips.
pub fn to_thread_calls(rt: &Runtime, n: usize) -> Duration {
    run_portico(rt, From::Worker, async move {
        for i in 0..n {
            black_box(to_thread(move || black_box(i)).await);
        }
    })
}

/// `n` sequential round trips through the runtime layer's blocking pool, as `to_thread` makes
/// them, without its limiter and cancellation.
pub fn rt_blocking_calls(rt: &Runtime, n: usize) -> Duration {
    let handle = rt.clone();
    run_portico(rt, From::Worker, async move {
        for i in 0..n {
            black_box(
                handle
                    .spawn_blocking(move || black_box(i))
                    .await
                    .expect("blocking task"),
            );
        }
    })
}

fn run_portico(
    rt: &Runtime,
    from: From,
    fut: impl Future<Output = ()> + Send + 'static,
) -> Duration {
    let start = Instant::now();
    match from {
        From::Worker => rt.block_on(rt.spawn(fut)).expect("driver task"),
        From::Main => rt.block_on(fut),
    }
    start.elapsed()
}

/// `n` trivial tasks in a `JoinSet`, joined with `join_next`.
pub fn join_set(rt: &tokio::runtime::Runtime, from: From, n: usize) -> Duration {
    run_tokio(rt, from, async move {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            set.spawn(async move {
                black_box(i);
            });
        }
        while let Some(done) = set.join_next().await {
            done.expect("trivial task");
        }
    })
}

/// `n` sequential `spawn_blocking` round trips.
pub fn spawn_blocking_calls(rt: &tokio::runtime::Runtime, n: usize) -> Duration {
    run_tokio(rt, From::Worker, async move {
        for i in 0..n {
            black_box(
                tokio::task::spawn_blocking(move || black_box(i))
                    .await
                    .expect("blocking task"),
            );
        }
    })
}

fn run_tokio(
    rt: &tokio::runtime::Runtime,
    from: From,
    fut: impl Future<Output = ()> + Send + 'static,
) -> Duration {
    let start = Instant::now();
    match from {
        From::Worker => rt.block_on(rt.spawn(fut)).expect("driver task"),
        From::Main => rt.block_on(fut),
    }
    start.elapsed()
}

/// `n` trivial tasks spawned on the executor, every handle awaited.
pub fn smol_spawn(smol: &NativeSmol, from: From, n: usize) -> Duration {
    let executor = smol.executor.clone();
    run_smol(smol, from, async move {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                executor.spawn(async move {
                    black_box(i);
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    })
}

/// `n` sequential `blocking::unblock` round trips.
pub fn unblock_calls(smol: &NativeSmol, n: usize) -> Duration {
    run_smol(smol, From::Worker, async move {
        for i in 0..n {
            black_box(blocking::unblock(move || black_box(i)).await);
        }
    })
}

fn run_smol(
    smol: &NativeSmol,
    from: From,
    fut: impl Future<Output = ()> + Send + 'static,
) -> Duration {
    let start = Instant::now();
    match from {
        From::Worker => async_io::block_on(smol.executor.spawn(fut)),
        From::Main => async_io::block_on(fut),
    }
    start.elapsed()
}

/// How many callers the `at once` cases run side by side, as `/blocking` is loaded in
/// `bench http`.
pub const CALLERS: usize = 32;

/// What each call of the `at once` cases does on its thread: sleep a millisecond, as
/// `/blocking`'s handler does.
fn nap(i: usize) -> usize {
    std::thread::sleep(Duration::from_millis(1));
    black_box(i)
}

/// The CPU time this process has used so far, on every thread (the blocking pools' too).
fn process_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`; the clock id is a constant the kernel
    // knows. The call writes only into `now`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The CPU time `run` costs the process.
fn cpu_of(run: impl FnOnce()) -> Duration {
    let start = process_cpu();
    run();
    process_cpu() - start
}

/// `n` plain-fn calls made by [`CALLERS`] tasks at once, as a plain-fn handler's request makes
/// its one trip: `ToThread` under the runtime's thread limiter, abandoned if its caller is
/// cancelled. Returns CPU time, not wall time (each call sleeps).
pub fn trips_at_once(rt: &Runtime, n: usize) -> Duration {
    let limiter = portico_tasks::thread_limiter(rt);
    cpu_of(|| {
        run_portico(rt, From::Worker, async move {
            task_group(|tg| async move {
                for caller in 0..CALLERS {
                    let limiter = limiter.clone();
                    tg.start_soon(async move {
                        for i in (caller..n).step_by(CALLERS) {
                            black_box(
                                portico_tasks::ToThread::new()
                                    .limiter(limiter.clone())
                                    .abandon_on_cancel(true)
                                    .run(move || nap(i))
                                    .await,
                            );
                        }
                        Ok(())
                    });
                }
                Ok::<(), io::Error>(())
            })
            .await
            .expect("no failure");
        });
    })
}

/// As [`trips_at_once`], with `tokio::task::spawn_blocking`.
pub fn spawn_blocking_at_once(rt: &tokio::runtime::Runtime, n: usize) -> Duration {
    cpu_of(|| {
        run_tokio(rt, From::Worker, async move {
            let mut callers = tokio::task::JoinSet::new();
            for caller in 0..CALLERS {
                callers.spawn(async move {
                    for i in (caller..n).step_by(CALLERS) {
                        black_box(
                            tokio::task::spawn_blocking(move || nap(i))
                                .await
                                .expect("blocking task"),
                        );
                    }
                });
            }
            while let Some(done) = callers.join_next().await {
                done.expect("caller");
            }
        });
    })
}

/// As [`trips_at_once`], with `blocking::unblock` on async-executor.
pub fn unblock_at_once(smol: &NativeSmol, n: usize) -> Duration {
    let executor = smol.executor.clone();
    cpu_of(|| {
        run_smol(smol, From::Worker, async move {
            let callers: Vec<_> = (0..CALLERS)
                .map(|caller| {
                    executor.spawn(async move {
                        for i in (caller..n).step_by(CALLERS) {
                            black_box(blocking::unblock(move || nap(i)).await);
                        }
                    })
                })
                .collect();
            for caller in callers {
                caller.await;
            }
        });
    })
}
