//! AnyIO's thread semantics, one behaviour per test, on every runtime. The crate guide's
//! conformance table lists each behaviour, with the tests in this file and the others that
//! hold it.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::future::Future;
use std::time::Duration;

use portico::RuntimeKind;
use portico::tasks::{
    CancelScope, CapacityLimiter, ToThread, check_cancelled, default_thread_limiter, to_thread,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{Flag, runtime};

/// Waits on a blocking thread until `ready`, for at most 20 s; whether it became ready.
fn block_until(ready: impl Fn() -> bool) -> bool {
    let give_up = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < give_up {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[portico::test]
async fn to_thread_in_a_cancelled_scope_never_runs() {
    let scope = CancelScope::new();
    scope.cancel();
    let ran = Flag::default();
    let outcome = scope
        .run({
            let ran = ran.clone();
            to_thread(move || ran.set())
        })
        .await;
    assert_eq!(outcome, None);
    runtime().sleep(Duration::from_millis(10)).await;
    assert!(!ran.get());
}

#[portico::test]
async fn an_abandoned_thread_keeps_its_token_until_it_returns() {
    // AnyIO on trio; on asyncio the token comes back at once, while the thread still runs.
    let limiter = CapacityLimiter::new(1);
    let scope = CancelScope::new();
    let release = Flag::default();
    let outcome = scope
        .run({
            let (scope, release) = (scope.clone(), release.clone());
            ToThread::new()
                .limiter(limiter.clone())
                .abandon_on_cancel(true)
                .run(move || {
                    scope.cancel();
                    block_until(|| release.get());
                })
        })
        .await;
    assert_eq!(outcome, None, "the caller left");
    assert_eq!(
        limiter.borrowed_tokens(),
        1,
        "the running thread keeps its token"
    );
    assert!(limiter.try_acquire().is_err());
    release.set();
    let permit = move_on(limiter.acquire()).await;
    assert!(
        permit.is_some(),
        "the token came back when the thread returned"
    );
}

#[portico::test]
async fn an_abandoned_thread_still_learns_that_its_caller_is_gone() {
    let scope = CancelScope::new();
    let learned = Flag::default();
    let outcome = scope
        .run({
            let (scope, learned) = (scope.clone(), learned.clone());
            ToThread::new().abandon_on_cancel(true).run(move || {
                scope.cancel();
                if block_until(|| check_cancelled().is_err()) {
                    learned.set();
                }
            })
        })
        .await;
    assert_eq!(outcome, None);
    learned.wait(&runtime(), Duration::from_secs(20)).await;
}

#[portico::test]
fn each_runtime_has_its_own_default_thread_limiter(kind: RuntimeKind) {
    // AnyIO keeps the default limiter per event loop (a `RunVar`).
    let start = || {
        portico::Builder::new()
            .runtime(kind)
            .worker_threads(1)
            .start_blocking_portal()
            .unwrap()
    };
    let (first, second) = (start(), start());
    first
        .call(async { default_thread_limiter().unwrap().set_total_tokens(7) })
        .unwrap();
    let totals = |portal: &portico::tasks::BlockingPortal| {
        portal
            .call(async { default_thread_limiter().unwrap().total_tokens() })
            .unwrap()
    };
    assert_eq!(totals(&first), 7);
    assert_eq!(
        totals(&second),
        40,
        "the other runtime's limiter is its own"
    );
    first.stop(false);
    second.stop(false);
}

/// `fut`, or `None` after 20 s: a bug fails the test instead of hanging it.
async fn move_on<F: Future>(fut: F) -> Option<F::Output> {
    portico::tasks::move_on_after(Duration::from_secs(20), fut).await
}
