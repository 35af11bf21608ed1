//! The runner behind `#[portico::test]`.

use std::future::Future;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::{Builder, RuntimeKind};

/// What a `#[portico::test]` asked for.
#[derive(Debug, Clone, Copy)]
pub struct TestConfig {
    timeout: Duration,
    workers: usize,
}

impl TestConfig {
    /// A test that fails after `timeout_ms` milliseconds, on `workers` executor threads.
    pub const fn new(timeout_ms: u64, workers: usize) -> Self {
        TestConfig {
            timeout: Duration::from_millis(timeout_ms),
            workers,
        }
    }
}

/// How long past its timeout a test may stay stuck in synchronous code before the watchdog
/// aborts the process; an async timeout cannot fire while a thread is blocked.
const WATCHDOG_GRACE: Duration = Duration::from_secs(30);

/// How long a finished test waits for blocking closures it left behind.
const TEST_SHUTDOWN: Duration = Duration::from_secs(5);

/// Runs one test body on a fresh runtime of `kind`, failing it if it outlives its timeout.
///
/// # Panics
///
/// Panics (failing the test) if the runtime cannot start or the test times out; propagates the
/// test's own panics.
pub fn run_test<F: Future>(
    kind: RuntimeKind,
    name: &str,
    config: TestConfig,
    body: F,
) -> F::Output {
    let runtime = Builder::new()
        .runtime(kind)
        .worker_threads(config.workers)
        .thread_name(format!("test-{kind}"))
        .build()
        .unwrap_or_else(|err| panic!("{name}: {err}"));
    let _watchdog = Watchdog::arm(name, config.timeout + WATCHDOG_GRACE);
    let handle = runtime.handle().clone();
    let outcome = runtime.block_on(handle.timeout(config.timeout, body));
    runtime.shutdown_timeout(TEST_SHUTDOWN);
    match outcome {
        Ok(output) => output,
        Err(_) => panic!("{name} timed out after {:?}", config.timeout),
    }
}

/// Runs one synchronous test body, handed the runtime it is for (it starts what it needs, a
/// blocking test client say), failing it if it outlives its timeout.
///
/// # Panics
///
/// Panics (failing the test) if the test times out; propagates the test's own panics.
pub fn run_sync_test<R: Send + 'static>(
    kind: RuntimeKind,
    name: &str,
    config: TestConfig,
    body: fn(RuntimeKind) -> R,
) -> R {
    let (done, finished) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(format!("test-{kind}"))
        .spawn(move || {
            let outcome = std::panic::catch_unwind(move || body(kind));
            let _ = done.send(outcome);
        })
        .unwrap_or_else(|err| panic!("{name}: cannot start the test thread: {err}"));
    match finished.recv_timeout(config.timeout) {
        Ok(Ok(output)) => {
            let _ = worker.join();
            output
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{name} timed out after {:?}", config.timeout),
    }
}

/// Aborts the process if a test is still running long after its timeout, which only happens
/// when a thread is blocked and the async timeout cannot fire: better a loud failure than a CI
/// run that hangs.
struct Watchdog {
    _disarm: mpsc::Sender<()>,
}

impl Watchdog {
    fn arm(name: &str, limit: Duration) -> Self {
        let (disarm, armed) = mpsc::channel::<()>();
        let name = name.to_owned();
        let spawned = thread::Builder::new().name("portico-test-watchdog".into()).spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = armed.recv_timeout(limit) {
                eprintln!("{name} is still running {limit:?} after it started and its timeout passed: a thread is blocked; aborting");
                std::process::abort();
            }
        });
        // Without a watchdog the test still runs, with the async timeout only.
        drop(spawned);
        Watchdog { _disarm: disarm }
    }
}
