//! `cargo xtask bench tasks`: spawn-and-join of trivial tasks in one task group, against tokio's
//! `JoinSet` and async-executor's spawn, interleaved in one run.

use std::hint::black_box;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_executor::Executor;
use portico_rt::Runtime;
use portico_tasks::task_group;

mod stats;

struct Args {
    /// Run only the cases whose name contains this (for profiling one case).
    only: Option<String>,
    rounds: usize,
    tasks: usize,
    workers: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        only: None,
        rounds: 31,
        tasks: 100_000,
        workers: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&flag))
        };
        match flag.as_str() {
            "--rounds" => args.rounds = value(),
            "--tasks" => args.tasks = value(),
            "--workers" => args.workers = value(),
            "--only" => args.only = it.next(),
            _ => usage(&flag),
        }
    }
    args
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bench-tasks: bad argument {flag:?}\nusage: bench-tasks [--rounds 31] [--tasks 100000] [--workers 1]"
    );
    std::process::exit(2)
}

/// async-executor on its own threads, as the smol adapter runs it, without Portico.
struct NativeSmol {
    executor: Arc<Executor<'static>>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl NativeSmol {
    fn new(workers: usize) -> Self {
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

fn group(rt: &Runtime, n: usize) -> Duration {
    let start = Instant::now();
    rt.block_on(rt.spawn(async move {
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
    }))
    .expect("driver task");
    start.elapsed()
}

fn join_set(rt: &tokio::runtime::Runtime, n: usize) -> Duration {
    let start = Instant::now();
    rt.block_on(rt.spawn(async move {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            set.spawn(async move {
                black_box(i);
            });
        }
        while let Some(done) = set.join_next().await {
            done.expect("trivial task");
        }
    }))
    .expect("driver task");
    start.elapsed()
}

fn smol_spawn(smol: &NativeSmol, n: usize) -> Duration {
    let start = Instant::now();
    let executor = smol.executor.clone();
    async_io::block_on(smol.executor.spawn(async move {
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
    }));
    start.elapsed()
}

fn main() {
    let args = parse_args();
    let (n, w) = (args.tasks, args.workers);
    let tokio_native = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(w)
        .enable_all()
        .build()
        .expect("tokio");
    let tokio_portico = portico_tokio::Builder::new()
        .worker_threads(w)
        .build()
        .expect("portico-tokio");
    let smol_native = NativeSmol::new(w);
    let smol_portico = portico_smol::Builder::new()
        .worker_threads(w)
        .build()
        .expect("portico-smol");
    let (tp, sp) = (
        tokio_portico.handle().clone(),
        smol_portico.handle().clone(),
    );

    let names = [
        "tokio JoinSet",
        "tokio task group",
        "smol  Executor::spawn",
        "smol  task group",
    ];
    let mut c0 = || join_set(&tokio_native, n);
    let mut c1 = || group(&tp, n);
    let mut c2 = || smol_spawn(&smol_native, n);
    let mut c3 = || group(&sp, n);
    let mut cases: Vec<(&str, &mut dyn FnMut() -> Duration)> = vec![
        (names[0], &mut c0),
        (names[1], &mut c1),
        (names[2], &mut c2),
        (names[3], &mut c3),
    ];
    println!(
        "task group vs native: {} interleaved rounds, {n} trivial tasks, {w} worker thread(s)\n",
        args.rounds
    );
    if let Some(only) = &args.only {
        for (name, case) in cases
            .iter_mut()
            .filter(|(name, _)| name.contains(only.as_str()))
        {
            let took = (0..args.rounds)
                .map(|_| case().as_secs_f64())
                .collect::<Vec<_>>();
            println!("{name}: median {:.3} ms", stats::median(&took) * 1e3);
        }
        return;
    }
    let times = stats::interleave(args.rounds, &mut cases);
    println!(
        "{:<28} {:>14} {:>10} {:>10}",
        "case", "median", "ratio", "paired"
    );
    for i in 0..names.len() {
        let med = stats::median(&times[i]) / n as f64 * 1e9;
        if i % 2 == 0 {
            println!("{:<28} {:>11.1} ns", names[i], med);
        } else {
            let native = stats::median(&times[i - 1]) / n as f64 * 1e9;
            let paired = stats::paired_ratio(&times[i], &times[i - 1]);
            let verdict = if paired <= 1.25 {
                "within 1.25x"
            } else {
                "OVER 1.25x"
            };
            println!(
                "{:<28} {:>11.1} ns {:>9.3}x {:>9.3}x  {verdict}",
                names[i],
                med,
                med / native,
                paired
            );
        }
    }
    println!(
        "\nratio: median of task group / median of native; paired: median of the per-round ratios"
    );
    drop(cases);
    tokio_portico.shutdown_timeout(Duration::from_secs(5));
    smol_portico.shutdown_timeout(Duration::from_secs(5));
    tokio_native.shutdown_timeout(Duration::from_secs(5));
}
