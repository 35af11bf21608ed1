//! `cargo xtask bench tasks`: task groups against tokio's `JoinSet` and async-executor's spawn,
//! spawned from a worker and from the main thread, with and without a handle per child; and
//! `to_thread` against each runtime's blocking pool, one call at a time and 32 at once. Every
//! case runs interleaved in one run.

use std::time::Duration;

#[path = "tasks/cases.rs"]
mod cases;
mod stats;

use cases::{From, NativeSmol};

struct Args {
    /// Run only the cases whose name contains this (for profiling one case).
    only: Option<String>,
    rounds: usize,
    tasks: usize,
    calls: usize,
    workers: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        only: None,
        rounds: 31,
        tasks: 10_000,
        calls: 2_000,
        workers: 2,
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
            "--calls" => args.calls = value(),
            "--workers" => args.workers = value(),
            "--only" => args.only = it.next(),
            _ => usage(&flag),
        }
    }
    args
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bench-tasks: bad argument {flag:?}\nusage: bench-tasks [--rounds 31] [--tasks 10000] \
         [--calls 2000] [--workers 2] [--only NAME]"
    );
    std::process::exit(2)
}

/// One case: its name, how many operations a round does, the case it is compared with (an
/// index into the list; `None` for a native case) and the target ratio.
struct Case<'a> {
    name: &'static str,
    ops: usize,
    native: Option<usize>,
    target: f64,
    run: Box<dyn FnMut() -> Duration + 'a>,
}

fn main() {
    let args = parse_args();
    let (n, calls, w) = (args.tasks, args.calls, args.workers);
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

    // Targets: a task group within 1.15x `JoinSet` on tokio and 1.5x async-executor on smol;
    // `to_thread` within 1.10x the runtime's blocking pool; a plain-fn trip under load within
    // 1.05x on tokio and 1.10x on smol.
    let (tn, sn) = (&tokio_native, &smol_native);
    let mut cases: Vec<Case<'_>> = vec![
        native("tokio JoinSet, from a worker", n, move || {
            cases::join_set(tn, From::Worker, n)
        }),
        against(0, 1.15, "tokio task group, from a worker", n, {
            let tp = tp.clone();
            move || cases::group(&tp, From::Worker, n)
        }),
        against(0, 1.15, "tokio group + handles, from a worker", n, {
            let tp = tp.clone();
            move || cases::group_with_handles(&tp, From::Worker, n)
        }),
        native("tokio JoinSet, from the main thread", n, move || {
            cases::join_set(tn, From::Main, n)
        }),
        against(3, 1.15, "tokio task group, from the main thread", n, {
            let tp = tp.clone();
            move || cases::group(&tp, From::Main, n)
        }),
        native("smol  spawn, from a worker", n, move || {
            cases::smol_spawn(sn, From::Worker, n)
        }),
        against(5, 1.5, "smol  task group, from a worker", n, {
            let sp = sp.clone();
            move || cases::group(&sp, From::Worker, n)
        }),
        against(5, 1.5, "smol  group + handles, from a worker", n, {
            let sp = sp.clone();
            move || cases::group_with_handles(&sp, From::Worker, n)
        }),
        native("smol  spawn, from the main thread", n, move || {
            cases::smol_spawn(sn, From::Main, n)
        }),
        against(8, 1.5, "smol  task group, from the main thread", n, {
            let sp = sp.clone();
            move || cases::group(&sp, From::Main, n)
        }),
        native("tokio spawn_blocking", calls, move || {
            cases::spawn_blocking_calls(tn, calls)
        }),
        against(10, 1.10, "tokio to_thread", calls, {
            let tp = tp.clone();
            move || cases::to_thread_calls(&tp, calls)
        }),
        // What the runtime layer under `to_thread` costs by itself: no target here (see
        // `bench rt`), shown to tell the two layers apart.
        against(10, f64::NAN, "tokio Runtime::spawn_blocking", calls, {
            let tp = tp.clone();
            move || cases::rt_blocking_calls(&tp, calls)
        }),
        native("smol  blocking::unblock", calls, move || {
            cases::unblock_calls(sn, calls)
        }),
        against(13, 1.10, "smol  to_thread", calls, {
            let sp = sp.clone();
            move || cases::to_thread_calls(&sp, calls)
        }),
        against(13, f64::NAN, "smol  Runtime::spawn_blocking", calls, {
            let sp = sp.clone();
            move || cases::rt_blocking_calls(&sp, calls)
        }),
        // A plain-fn request's round trip under `/blocking`'s load: 32 callers at once, each
        // call sleeping 1 ms on its thread, compared in CPU time (issue: within 1.05x
        // `spawn_blocking` on tokio and 1.10x the `blocking` crate's pool on smol).
        native("tokio spawn_blocking, 32 at once (CPU)", calls, move || {
            cases::spawn_blocking_at_once(tn, calls)
        }),
        against(16, 1.05, "tokio plain-fn trip, 32 at once (CPU)", calls, {
            let tp = tp.clone();
            move || cases::trips_at_once(&tp, calls)
        }),
        native(
            "smol  blocking::unblock, 32 at once (CPU)",
            calls,
            move || cases::unblock_at_once(sn, calls),
        ),
        against(18, 1.10, "smol  plain-fn trip, 32 at once (CPU)", calls, {
            let sp = sp.clone();
            move || cases::trips_at_once(&sp, calls)
        }),
    ];
    println!(
        "task groups and to_thread vs native: {} interleaved rounds, {n} trivial children, \
         {calls} blocking calls, {w} worker thread(s)\n",
        args.rounds
    );
    if let Some(only) = &args.only {
        for case in cases
            .iter_mut()
            .filter(|case| case.name.contains(only.as_str()))
        {
            let took: Vec<f64> = (0..args.rounds)
                .map(|_| (case.run)().as_secs_f64())
                .collect();
            println!("{}: median {:.3} ms", case.name, stats::median(&took) * 1e3);
        }
        return;
    }

    let times = {
        let mut runs: Vec<(&str, &mut dyn FnMut() -> Duration)> = cases
            .iter_mut()
            .map(|case| (case.name, &mut *case.run as &mut dyn FnMut() -> Duration))
            .collect();
        stats::interleave(args.rounds, &mut runs)
    };
    println!(
        "{:<44} {:>12} {:>9} {:>9} {:>7}",
        "case", "median", "ratio", "paired", "target"
    );
    for (i, case) in cases.iter().enumerate() {
        let per_op = |i: usize| stats::median(&times[i]) / cases[i].ops as f64 * 1e9;
        match case.native {
            None => println!("{:<44} {:>9.1} ns", case.name, per_op(i)),
            Some(native) => {
                let paired = stats::paired_ratio(&times[i], &times[native]);
                let verdict = if case.target.is_nan() {
                    "(no target)"
                } else if paired <= case.target {
                    "met"
                } else {
                    "MISSED"
                };
                let target = if case.target.is_nan() {
                    "-".to_owned()
                } else {
                    format!("{:.2}x", case.target)
                };
                println!(
                    "{:<44} {:>9.1} ns {:>8.3}x {:>8.3}x {:>7}  {verdict}",
                    case.name,
                    per_op(i),
                    per_op(i) / per_op(native),
                    paired,
                    target
                );
            }
        }
    }
    println!(
        "\nper child or per call (wall time; CPU time for the cases marked so); ratio: median / \
         the native case's median; paired: median of the per-round ratios, compared with the \
         target"
    );
    drop(cases);
    tokio_portico.shutdown_timeout(Duration::from_secs(5));
    smol_portico.shutdown_timeout(Duration::from_secs(5));
    tokio_native.shutdown_timeout(Duration::from_secs(5));
}

fn native<'a>(name: &'static str, ops: usize, run: impl FnMut() -> Duration + 'a) -> Case<'a> {
    Case {
        name,
        ops,
        native: None,
        target: 0.0,
        run: Box::new(run),
    }
}

fn against<'a>(
    native: usize,
    target: f64,
    name: &'static str,
    ops: usize,
    run: impl FnMut() -> Duration + 'a,
) -> Case<'a> {
    Case {
        name,
        ops,
        native: Some(native),
        target,
        run: Box::new(run),
    }
}
