//! `cargo xtask bench rt`: spawn-and-join and blocking round trips, through `portico-rt` and
//! through each runtime's native API, interleaved in one run.

use std::hint::black_box;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_executor::Executor;
use portico_rt::Runtime;

mod stats;

struct Args {
    /// Run only the cases whose name contains this (for profiling one case).
    only: Option<String>,
    rounds: usize,
    tasks: usize,
    blocking: usize,
    workers: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        only: None,
        rounds: 31,
        tasks: 100_000,
        blocking: 10_000,
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
            "--blocking" => args.blocking = value(),
            "--workers" => args.workers = value(),
            "--only" => args.only = it.next(),
            _ => usage(&flag),
        }
    }
    args
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bench-rt: bad argument {flag:?}\nusage: bench-rt [--rounds 31] [--tasks 100000] [--blocking 10000] [--workers 1] [--only NAME]"
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
                    // Wait for the stop flag on the blocking pool, so idle workers do nothing.
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

/// Spawns `n` trivial tasks from a task on the runtime, then joins them all.
fn portico_spawn(rt: &Runtime, n: usize) -> Duration {
    let start = Instant::now();
    rt.block_on(rt.spawn(async move {
        let rt = portico_rt::current().expect("on a worker");
        let tasks: Vec<_> = (0..n)
            .map(|i| rt.spawn(async move { black_box(i) }))
            .collect();
        for task in tasks {
            black_box(task.await.expect("trivial task"));
        }
    }))
    .expect("driver task");
    start.elapsed()
}

fn tokio_spawn(rt: &tokio::runtime::Runtime, n: usize) -> Duration {
    let start = Instant::now();
    rt.block_on(rt.spawn(async move {
        let tasks: Vec<_> = (0..n)
            .map(|i| tokio::spawn(async move { black_box(i) }))
            .collect();
        for task in tasks {
            black_box(task.await.expect("trivial task"));
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
            .map(|i| executor.spawn(async move { black_box(i) }))
            .collect();
        for task in tasks {
            black_box(task.await);
        }
    }));
    start.elapsed()
}

/// `n` blocking round trips in a row: hand a closure to the pool and wait for it.
fn portico_blocking(rt: &Runtime, n: usize) -> Duration {
    let start = Instant::now();
    rt.block_on(rt.spawn(async move {
        let rt = portico_rt::current().expect("on a worker");
        for i in 0..n {
            black_box(
                rt.spawn_blocking(move || black_box(i))
                    .await
                    .expect("closure"),
            );
        }
    }))
    .expect("driver task");
    start.elapsed()
}

fn tokio_blocking(rt: &tokio::runtime::Runtime, n: usize) -> Duration {
    let start = Instant::now();
    rt.block_on(rt.spawn(async move {
        for i in 0..n {
            black_box(
                tokio::task::spawn_blocking(move || black_box(i))
                    .await
                    .expect("closure"),
            );
        }
    }))
    .expect("driver task");
    start.elapsed()
}

fn smol_blocking(smol: &NativeSmol, n: usize) -> Duration {
    let start = Instant::now();
    async_io::block_on(smol.executor.spawn(async move {
        for i in 0..n {
            black_box(blocking::unblock(move || black_box(i)).await);
        }
    }));
    start.elapsed()
}

fn main() {
    let args = parse_args();
    let (n, m, w) = (args.tasks, args.blocking, args.workers);
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
        "tokio spawn+join, native",
        "tokio spawn+join, portico-rt",
        "smol  spawn+join, native",
        "smol  spawn+join, portico-rt",
        "tokio blocking round trip, native",
        "tokio blocking round trip, portico-rt",
        "smol  blocking round trip, native",
        "smol  blocking round trip, portico-rt",
    ];
    let mut c0 = || tokio_spawn(&tokio_native, n);
    let mut c1 = || portico_spawn(&tp, n);
    let mut c2 = || smol_spawn(&smol_native, n);
    let mut c3 = || portico_spawn(&sp, n);
    let mut c4 = || tokio_blocking(&tokio_native, m);
    let mut c5 = || portico_blocking(&tp, m);
    let mut c6 = || smol_blocking(&smol_native, m);
    let mut c7 = || portico_blocking(&sp, m);
    let mut cases: Vec<(&str, &mut dyn FnMut() -> Duration)> = vec![
        (names[0], &mut c0),
        (names[1], &mut c1),
        (names[2], &mut c2),
        (names[3], &mut c3),
        (names[4], &mut c4),
        (names[5], &mut c5),
        (names[6], &mut c6),
        (names[7], &mut c7),
    ];
    println!(
        "portico-rt vs native: {} interleaved rounds, {n} tasks, {m} blocking round trips, {w} worker thread(s)\n",
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
    let per = |i: usize| if i < 4 { n as f64 } else { m as f64 };
    println!(
        "{:<40} {:>14} {:>10} {:>10}",
        "case", "median", "ratio", "paired"
    );
    for i in 0..names.len() {
        let med = stats::median(&times[i]) / per(i);
        let (unit, scale) = if i < 4 { ("ns", 1e9) } else { ("µs", 1e6) };
        if i % 2 == 0 {
            println!("{:<40} {:>11.1} {unit}", names[i], med * scale);
        } else {
            let native = stats::median(&times[i - 1]) / per(i - 1);
            let paired = stats::paired_ratio(&times[i], &times[i - 1]);
            let verdict = if paired <= 1.10 {
                "within 10%"
            } else {
                "OVER 10%"
            };
            println!(
                "{:<40} {:>11.1} {unit} {:>9.3}x {:>9.3}x  {verdict}",
                names[i],
                med * scale,
                med / native,
                paired
            );
        }
    }
    println!(
        "\nratio: median of portico-rt / median of native; paired: median of the per-round ratios"
    );
    drop(cases);
    tokio_portico.shutdown_timeout(Duration::from_secs(5));
    smol_portico.shutdown_timeout(Duration::from_secs(5));
    tokio_native.shutdown_timeout(Duration::from_secs(5));
}
