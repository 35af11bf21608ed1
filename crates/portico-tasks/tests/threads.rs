//! Thread bridges and the blocking portal, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use portico::rt::ThreadRole;
use portico::tasks::{
    CancelScope, CapacityLimiter, FromThreadError, ToThread, check_cancelled,
    default_thread_limiter, from_thread, move_on_after, task_group, to_thread, to_thread_with,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{Flag, runtime, shuffled};

#[portico::test]
async fn to_thread_runs_the_closure_off_the_event_loop() {
    let role = to_thread(|| match portico::rt::thread_role() {
        ThreadRole::Blocking(rt) => rt.name(),
        other => panic!("a blocking closure ran as {other:?}"),
    })
    .await;
    assert_eq!(role, runtime().name());
}

#[portico::test]
async fn a_panic_in_the_closure_reaches_the_caller() {
    let rt = runtime();
    let caught = rt
        .spawn(async {
            to_thread(|| -> u8 { panic!("closure exploded") }).await;
        })
        .await
        .unwrap_err();
    assert_eq!(caught.panic_message(), Some("closure exploded"));
}

#[portico::test(timeout = 30)]
async fn a_limiter_caps_concurrency_at_its_token_count() {
    let limiter = CapacityLimiter::new(3);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    task_group(|tg| {
        let (running, peak, limiter) = (running.clone(), peak.clone(), limiter.clone());
        async move {
            for _ in shuffled(12) {
                let (running, peak, limiter) = (running.clone(), peak.clone(), limiter.clone());
                tg.start_soon(async move {
                    to_thread_with(&limiter, move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await;
                    Ok::<(), std::io::Error>(())
                });
            }
            Ok(())
        }
    })
    .await
    .unwrap();
    assert_eq!(
        peak.load(Ordering::SeqCst),
        3,
        "exactly the token count ran at once"
    );
    assert_eq!(limiter.borrowed_tokens(), 0);
}

#[portico::test]
async fn the_default_limiter_has_40_tokens_and_can_change() {
    let limiter = default_thread_limiter().unwrap();
    assert_eq!(limiter.total_tokens(), 40);
    limiter.set_total_tokens(64);
    // The same limiter, from any thread of this runtime.
    let seen = to_thread(|| default_thread_limiter().unwrap().total_tokens()).await;
    assert_eq!(seen, 64);
    limiter.set_total_tokens(40);
}

/// Waits on a blocking thread until `flag` is set, for at most 20 s, so that a bug fails the
/// test instead of hanging it.
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
async fn a_cancelled_caller_waits_for_its_thread() {
    // AnyIO's default: the caller stays until the thread returns, and the thread can learn of
    // the cancellation.
    let scope = CancelScope::new();
    let finished = Flag::default();
    let outcome = scope
        .run({
            let (scope, finished) = (scope.clone(), finished.clone());
            to_thread(move || {
                scope.cancel(); // cancelled while the thread runs
                let saw = block_until(|| check_cancelled().is_err());
                finished.set();
                saw
            })
        })
        .await;
    assert!(
        finished.get(),
        "the scope returned only once the thread had"
    );
    assert_eq!(
        outcome,
        Some(true),
        "the thread saw the cancellation, and its value came back"
    );
}

#[portico::test]
async fn a_cancelled_task_group_waits_for_its_childs_thread() {
    let finished = Flag::default();
    task_group(|tg| {
        let finished = finished.clone();
        async move {
            let canceller = tg.clone();
            tg.start_soon(async move {
                to_thread(move || {
                    canceller.cancel();
                    block_until(|| check_cancelled().is_err());
                    finished.set();
                })
                .await;
                Ok(())
            });
            Ok::<(), std::io::Error>(())
        }
    })
    .await
    .unwrap();
    assert!(
        finished.get(),
        "the group returned only once the thread had"
    );
}

#[portico::test]
async fn abandon_on_cancel_leaves_the_thread_behind() {
    let scope = CancelScope::new();
    let (release, finished) = (Flag::default(), Flag::default());
    let outcome = scope
        .run({
            let (scope, release, finished) = (scope.clone(), release.clone(), finished.clone());
            ToThread::new().abandon_on_cancel(true).run(move || {
                scope.cancel();
                block_until(|| release.get());
                finished.set();
            })
        })
        .await;
    assert_eq!(outcome, None, "the caller stopped waiting at once");
    assert!(!finished.get(), "the thread runs on, abandoned");
    release.set();
    finished.wait(&runtime(), Duration::from_secs(20)).await;
}

#[portico::test]
async fn cancelled_while_waiting_for_a_token_the_closure_never_runs() {
    let limiter = CapacityLimiter::new(1);
    let held = limiter.acquire().await;
    let ran = Flag::default();
    let result = move_on_after(Duration::from_millis(10), {
        let ran = ran.clone();
        let limiter = limiter.clone();
        async move { to_thread_with(&limiter, move || ran.set()).await }
    })
    .await;
    assert!(result.is_none());
    assert_eq!(
        limiter.statistics().tasks_waiting,
        0,
        "the cancelled waiter left the queue"
    );
    drop(held);
    runtime().sleep(Duration::from_millis(20)).await;
    assert!(!ran.get());
}

#[portico::test]
async fn from_thread_round_trip() {
    let answer = to_thread(|| {
        let a = from_thread(async {
            runtime().sleep(Duration::from_millis(1)).await;
            20
        })
        .unwrap();
        let b = from_thread(async { 22 }).unwrap();
        a + b
    })
    .await;
    assert_eq!(answer, 42);
}

#[portico::test]
async fn from_thread_refuses_threads_no_runtime_started_and_the_event_loop() {
    let outside = std::thread::spawn(|| from_thread(async { 1 }))
        .join()
        .unwrap();
    assert_eq!(outside, Err(FromThreadError::NotInWorkerThread));
    assert!(
        outside
            .unwrap_err()
            .to_string()
            .contains("from a thread started by to_thread")
    );
    // This test's own thread is inside `block_on`: blocking it would stall the runtime.
    assert_eq!(from_thread(async { 1 }), Err(FromThreadError::OnEventLoop));
}

#[portico::test]
async fn a_spawned_task_runs_on_the_event_loop() {
    // Regression: tokio's workers were not known as event-loop threads, so `from_thread` said
    // "not in a worker thread" there, and a portal call from a task deadlocked.
    let (role, from) = runtime()
        .spawn(async {
            let role = match portico::rt::thread_role() {
                ThreadRole::Driver(rt) => Some(rt.name()),
                _ => None,
            };
            (role, from_thread(async { 1 }))
        })
        .await
        .unwrap();
    assert_eq!(role, Some(runtime().name()));
    assert_eq!(from, Err(FromThreadError::OnEventLoop));
}

#[portico::test]
async fn a_panic_inside_from_thread_reaches_the_thread() {
    let caught = to_thread(|| {
        std::panic::catch_unwind(|| from_thread(async { panic!("async part exploded") }))
            .err()
            .and_then(|p| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
    })
    .await;
    assert_eq!(caught.as_deref(), Some("async part exploded"));
}

#[portico::test]
async fn a_portal_refuses_to_block_an_event_loop() {
    // This test's thread runs `block_on`: a portal created here would block it.
    let refused = std::panic::catch_unwind(|| portico::tasks::BlockingPortal::new(runtime()));
    let payload = refused.expect_err("refused with a panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("called from async code"), "{message}");
}

#[portico::test]
async fn a_thread_learns_that_its_caller_is_gone() {
    assert_eq!(
        check_cancelled(),
        Ok(()),
        "no caller to lose outside to_thread"
    );
    assert_eq!(to_thread(check_cancelled).await, Ok(()), "the caller waits");
    // Dropped from outside, a caller cannot wait: the thread runs on and learns it.
    let (started, stopped) = (Flag::default(), Flag::default());
    let caller = runtime().spawn({
        let (started, stopped) = (started.clone(), stopped.clone());
        to_thread(move || {
            started.set();
            if block_until(|| check_cancelled().is_err()) {
                stopped.set();
            }
        })
    });
    started.wait(&runtime(), Duration::from_secs(20)).await;
    drop(caller); // cancels the task, which drops its `to_thread`
    stopped.wait(&runtime(), Duration::from_secs(20)).await;
}
