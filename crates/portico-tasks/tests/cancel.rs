//! Cancel scopes, deadlines and shielding, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use portico::tasks::{
    CancelScope, Event, current_effective_deadline, fail_after, fail_at, move_on_after, move_on_at,
    shield, task_group,
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
async fn a_cancelled_scope_waits_for_its_shield() {
    // AnyIO: `with CancelScope(shield=True): await cleanup()` inside a cancelled scope; the
    // cleanup finishes before the scope exits, and the code after it does not run.
    let scope = CancelScope::new();
    let (finished, reached) = (Flag::default(), Flag::default());
    let outcome = scope
        .run({
            let (scope, finished, reached) = (scope.clone(), finished.clone(), reached.clone());
            async move {
                shield(async {
                    scope.cancel(); // the enclosing scope is cancelled while the shield runs
                    // No deadline reaches inside the shield, and its waits are not cut short.
                    assert_eq!(current_effective_deadline(), None);
                    runtime().sleep(Duration::from_millis(5)).await;
                    finished.set();
                })
                .await;
                runtime().sleep(Duration::from_secs(60)).await;
                reached.set();
            }
        })
        .await;
    assert_eq!(outcome, None, "the scope was cancelled");
    assert!(scope.cancelled_caught());
    assert!(
        finished.get(),
        "the shielded cleanup finished before the scope returned"
    );
    assert!(!reached.get(), "the code after the shield was cancelled");
}

#[portico::test]
async fn a_shield_keeps_its_own_deadline() {
    let outer = CancelScope::new();
    let cleanup = CancelScope::with_deadline(Instant::now() + Duration::from_millis(20));
    cleanup.set_shield(true);
    assert!(cleanup.is_shielded());
    let outcome = outer
        .run({
            let (outer, cleanup) = (outer.clone(), cleanup.clone());
            let own_deadline = cleanup.deadline();
            move_on_after(Duration::from_millis(1), async move {
                cleanup
                    .run(async move {
                        outer.cancel();
                        // The shield sees its own deadline, not the enclosing ones.
                        assert_eq!(current_effective_deadline(), own_deadline);
                        std::future::pending::<()>().await;
                    })
                    .await
            })
        })
        .await;
    assert!(
        cleanup.cancelled_caught(),
        "the shield's own deadline ended it"
    );
    // The shield ended before the enclosing scopes could drop their futures, which then gave
    // the shield's own outcome: cancelled by its deadline.
    assert_eq!(outcome, Some(Some(None)));
}

#[portico::test]
async fn a_shield_may_borrow_from_the_caller() {
    let mut log = Vec::new();
    shield(async {
        log.push("cleaned up");
    })
    .await;
    assert_eq!(log, ["cleaned up"]);
}

#[portico::test]
async fn a_cancelled_task_group_waits_for_a_childs_shield() {
    let entered = Arc::new(Event::new());
    let finished = Flag::default();
    task_group(|tg| {
        let (entered, finished) = (entered.clone(), finished.clone());
        async move {
            tg.start_soon({
                let entered = entered.clone();
                async move {
                    shield(async move {
                        entered.set();
                        runtime().sleep(Duration::from_millis(5)).await;
                        finished.set();
                    })
                    .await;
                    std::future::pending::<()>().await;
                    Ok(())
                }
            });
            entered.wait().await;
            tg.cancel();
            Ok::<(), std::io::Error>(())
        }
    })
    .await
    .unwrap();
    assert!(
        finished.get(),
        "the group returned once the shielded work had ended"
    );
}
