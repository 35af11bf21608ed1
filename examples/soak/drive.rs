//! The load driver (`soak_server --drive ADDR ...`): clients that send the mix of `mix.rs`,
//! either as fast as they can (the capacity probe) or paced at a fixed rate (the soak).
//!
//! Pacing is open-loop: request number `n` is due `n / rate` seconds after the start, whoever
//! sends it, so a slow answer does not slow the load down. A request more than a second late
//! is skipped and counted as late rather than sent in a burst.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::mix::{Client, Kind};

/// How long a request may take before it counts as an error. Ten seconds is far above any
/// latency of this mix below capacity; only a stuck server reaches it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How late a paced request may be before it is skipped.
const MAX_LATE: Duration = Duration::from_secs(1);

/// Unexpected answers kept word for word for the report; the rest are only counted.
const KEPT_ERRORS: usize = 20;

/// What the driver is asked to do.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Load {
    /// As many requests as the clients can send, for a while: the server's capacity.
    Probe { duration: Duration },
    /// `rate` requests a second for a while.
    Paced { rate: f64, duration: Duration },
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    next: AtomicU64,
    ok: [AtomicU64; Kind::ALL.len()],
    errors: [AtomicU64; Kind::ALL.len()],
    late: AtomicU64,
    /// Clients that ended with a panic: a bug of the driver, counted as errors.
    crashed: AtomicU64,
    kept: Mutex<Vec<String>>,
}

impl Tally {
    fn record(&self, kind: Kind, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.ok[kind.index()].fetch_add(1, Ordering::Relaxed),
            Err(err) => {
                if let Ok(mut kept) = self.kept.lock()
                    && kept.len() < KEPT_ERRORS
                {
                    kept.push(format!("{}: {err}", kind.name()));
                }
                self.errors[kind.index()].fetch_add(1, Ordering::Relaxed)
            }
        };
    }

    fn sum(counts: &[AtomicU64]) -> u64 {
        counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// Runs `load` against `addr` with `clients` clients at once and prints the outcome, last a
/// `result` line of `key=value` pairs (`cargo xtask soak` reads it). Returns whether no request
/// went wrong.
pub(crate) async fn drive(addr: SocketAddr, clients: usize, load: Load) -> bool {
    let rt = match portico::rt::current() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: {err}");
            return false;
        }
    };
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let duration = match load {
        Load::Probe { duration } | Load::Paced { duration, .. } => duration,
    };
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let tally = tally.clone();
            let rt = rt.clone();
            rt.clone().spawn(async move {
                let mut client = Client::new(addr);
                loop {
                    let n = tally.next.fetch_add(1, Ordering::Relaxed);
                    if let Load::Paced { rate, .. } = load {
                        let due = Duration::from_secs_f64(n as f64 / rate);
                        if due >= duration {
                            break;
                        }
                        let now = started.elapsed();
                        if due > now {
                            rt.sleep(due - now).await;
                        } else if now - due > MAX_LATE {
                            tally.late.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    } else if started.elapsed() >= duration {
                        break;
                    }
                    let kind = Kind::of(n);
                    let outcome = match rt.timeout(REQUEST_TIMEOUT, client.run(kind, n)).await {
                        Ok(outcome) => outcome,
                        Err(_) => {
                            // The connection may be in the middle of an answer: start afresh.
                            client = Client::new(addr);
                            Err(format!("no answer within {REQUEST_TIMEOUT:?}"))
                        }
                    };
                    tally.record(kind, outcome);
                }
            })
        })
        .collect();
    for task in tasks {
        if let Err(err) = task.await {
            eprintln!("error: a client failed: {err}");
            tally.crashed.fetch_add(1, Ordering::Relaxed);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    report(&tally, elapsed, load)
}

fn report(tally: &Tally, elapsed: f64, load: Load) -> bool {
    let ok = Tally::sum(&tally.ok);
    let errors = Tally::sum(&tally.errors) + tally.crashed.load(Ordering::Relaxed);
    let late = tally.late.load(Ordering::Relaxed);
    for kind in Kind::ALL {
        println!(
            "kind {:<20} ok={:<9} errors={}",
            kind.name(),
            tally.ok[kind.index()].load(Ordering::Relaxed),
            tally.errors[kind.index()].load(Ordering::Relaxed)
        );
    }
    if let Ok(kept) = tally.kept.lock() {
        for error in kept.iter() {
            println!("error {error}");
        }
    }
    let rate = (ok + errors) as f64 / elapsed;
    let target = match load {
        Load::Probe { .. } => 0.0,
        Load::Paced { rate, .. } => rate,
    };
    println!(
        "result requests={} ok={ok} errors={errors} late={late} seconds={elapsed:.1} rate={rate:.1} target={target:.1}",
        ok + errors
    );
    errors == 0
}
