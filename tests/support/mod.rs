//! Helpers shared by the integration tests.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portico::rt::Runtime;

/// A flag set from one task and watched from another.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flag(Arc<AtomicBool>);

impl Flag {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until the flag is set, failing the test after `limit`.
    pub(crate) async fn wait(&self, rt: &Runtime, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.get() {
            assert!(Instant::now() < deadline, "flag not set within {limit:?}");
            rt.sleep(Duration::from_millis(2)).await;
        }
    }
}

/// Sets a [`Flag`] when dropped: proves that a future was dropped.
#[derive(Debug)]
pub(crate) struct DropFlag(Flag);

impl DropFlag {
    /// The flag to watch, and the guard to move into the future.
    pub(crate) fn new() -> (Flag, DropFlag) {
        let flag = Flag::default();
        (flag.clone(), DropFlag(flag))
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Raises the soft limit on open files to at least `wanted` (up to the hard limit).
#[allow(unsafe_code, reason = "getrlimit and setrlimit have no safe wrapper")]
pub(crate) fn raise_fd_limit(wanted: u64) {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid, writable rlimit.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return;
        }
        let target = (wanted as libc::rlim_t).min(limit.rlim_max);
        if limit.rlim_cur < target {
            limit.rlim_cur = target;
            // SAFETY: `limit` is a valid rlimit; failure leaves the old limit in place.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        }
    }
}

/// Sends SIGTERM to this process.
#[cfg(unix)]
#[allow(unsafe_code, reason = "kill(2) has no safe wrapper in libc")]
pub(crate) fn send_sigterm_to_self() {
    // SAFETY: plain system calls with valid arguments.
    let result = unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
    assert_eq!(result, 0, "kill(getpid(), SIGTERM) failed");
}

/// How many threads of this process have a name starting with `prefix` (Linux; 0 elsewhere).
pub(crate) fn threads_named(prefix: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// [`threads_named`] once at least `want` threads carry the name, or after `limit` with fewer.
/// A new thread names itself when it starts running, a moment after its creator has returned,
/// so a count taken right after a runtime is built can miss workers that exist but have not yet
/// been scheduled. Call from a thread that may block.
pub(crate) fn threads_named_once_started(prefix: &str, want: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let count = threads_named(prefix);
        if count >= want || Instant::now() >= deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// [`threads_named`] once the threads that were joined have left the kernel's list, or after
/// `limit` with the count still there. `pthread_join` returns when the thread clears its id, a
/// moment before the kernel drops it from `/proc/self/task`, so a count taken right after a join
/// can still see it. Call from a thread that may block.
pub(crate) fn threads_named_once_gone(prefix: &str, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let count = threads_named(prefix);
        if count == 0 || Instant::now() >= deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A directory removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("portico-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A permutation of `0..n` that differs from run to run, so that tests cannot depend on the
/// order children are spawned in.
pub(crate) fn shuffled(n: usize) -> Vec<usize> {
    use std::hash::{BuildHasher, RandomState};
    let mut order: Vec<usize> = (0..n).collect();
    let mut seed = RandomState::new().hash_one(n) | 1;
    for i in (1..n).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        order.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    order
}

/// The runtime the test runs on.
pub(crate) fn runtime() -> Runtime {
    portico::rt::current().expect("tests run inside a runtime")
}
