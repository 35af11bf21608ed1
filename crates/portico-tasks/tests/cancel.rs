//! Cancel scopes, deadlines and shielding, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::time::{Duration, Instant};

use portico::tasks::{
    CancelScope, current_effective_deadline, fail_after, fail_at, move_on_after, move_on_at, shield,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{DropFlag, Flag, runtime};

#[portico::test]
async fn move_on_after_gives_the_value_or_none() {
    assert_eq!(
        move_on_after(Duration::from_secs(5), async { 3 }).await,
        Some(3)
    );
    let (dropped, guard) = DropFlag::new();
    let start = Instant::now();
    let result = move_on_after(Duration::from_millis(20), async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    })
    .await;
    assert_eq!(result, None);
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(dropped.get(), "the timed-out future was dropped");
}

#[portico::test]
async fn fail_after_gives_a_typed_timeout_error() {
    assert_eq!(fail_after(Duration::from_secs(5), async { 1 }).await, Ok(1));
    let err = fail_after(Duration::from_millis(10), std::future::pending::<()>())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "timed out after 10ms");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

    let deadline = Instant::now() + Duration::from_millis(10);
    assert!(
        fail_at(deadline, std::future::pending::<()>())
            .await
            .is_err()
    );
    assert!(Instant::now() >= deadline);
    assert_eq!(
        move_on_at(Instant::now() + Duration::from_secs(5), async { "done" }).await,
        Some("done")
    );
}

#[portico::test]
async fn deadlines_nest_an_inner_scope_cannot_extend_the_outer_one() {
    let start = Instant::now();
    let outer_deadline = start + Duration::from_millis(40);
    let outer = move_on_at(outer_deadline, async {
        let inner = move_on_after(Duration::from_secs(60), async {
            // The inner scope asked for a minute, but the outer deadline is the effective one.
            assert_eq!(current_effective_deadline(), Some(outer_deadline));
            std::future::pending::<()>().await;
        });
        inner.await;
        unreachable!("the outer deadline drops the inner scope");
    })
    .await;
    assert_eq!(outer, None);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(40) && took < Duration::from_secs(30),
        "{took:?}"
    );

    // An inner scope can shorten it.
    let shortened = move_on_after(Duration::from_secs(60), async {
        let inner_deadline = Instant::now() + Duration::from_millis(5);
        move_on_at(inner_deadline, async {
            assert_eq!(current_effective_deadline(), Some(inner_deadline));
        })
        .await
    })
    .await;
    assert_eq!(shortened, Some(Some(())));
    assert_eq!(
        current_effective_deadline(),
        None,
        "no scope applies out here"
    );
}

#[portico::test]
async fn a_cancel_scope_is_cancelled_from_elsewhere_and_says_so() {
    let scope = CancelScope::new();
    let canceller = scope.clone();
    let rt = runtime();
    rt.spawn(async move {
        runtime().sleep(Duration::from_millis(5)).await;
        canceller.cancel();
    })
    .detach();
    assert!(!scope.cancel_called());
    let result = scope.run(std::future::pending::<()>()).await;
    assert_eq!(result, None);
    assert!(scope.cancel_called());
    assert!(scope.cancelled_caught());

    // Cancelled after its future finished: called, but nothing was caught.
    let finished = CancelScope::new();
    assert_eq!(finished.run(async { 5 }).await, Some(5));
    finished.cancel();
    assert!(finished.cancel_called());
    assert!(!finished.cancelled_caught());
}

#[portico::test]
async fn moving_a_deadline_re_arms_the_scope() {
    let scope = CancelScope::with_deadline(Instant::now() + Duration::from_secs(3600));
    let mover = scope.clone();
    runtime()
        .spawn(async move {
            runtime().sleep(Duration::from_millis(5)).await;
            mover.set_deadline(Instant::now() + Duration::from_millis(5));
        })
        .detach();
    let start = Instant::now();
    assert_eq!(scope.run(std::future::pending::<()>()).await, None);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(scope.cancelled_caught());
}

#[portico::test]
async fn shielded_work_finishes_when_the_caller_is_cancelled() {
    let finished = Flag::default();
    let outcome = move_on_after(Duration::from_millis(5), {
        let finished = finished.clone();
        async move {
            shield(async move {
                // No deadline reaches inside the shield.
                assert_eq!(current_effective_deadline(), None);
                runtime().sleep(Duration::from_millis(40)).await;
                finished.set();
            })
            .await
        }
    })
    .await;
    assert!(outcome.is_none(), "the caller was cancelled");
    assert!(!finished.get(), "not yet");
    finished.wait(&runtime(), Duration::from_secs(5)).await;
}

#[portico::test]
async fn a_shield_reports_the_panic_of_its_work() {
    let err = shield(async { panic!("cleanup failed") })
        .await
        .unwrap_err();
    assert_eq!(err.panic_message(), Some("cleanup failed"));
}
