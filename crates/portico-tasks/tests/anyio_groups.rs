//! AnyIO's task-group and cancellation semantics, one behaviour per test, on every runtime.
//! The crate guide's conformance table lists each behaviour, with the tests in this file and
//! the others that hold it.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::io;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use portico::tasks::{
    CancelScope, Event, TaskStatus, current_effective_deadline, fail_after, move_on_after,
    move_on_at, shield, task_group,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{DropFlag, Flag, runtime};

fn failure(what: &str) -> io::Error {
    io::Error::other(what.to_owned())
}

fn event() -> Arc<Event> {
    Arc::new(Event::new())
}

// Task groups.

#[portico::test]
async fn a_failing_body_cancels_the_children() {
    let (dropped, guard) = DropFlag::new();
    let started = event();
    let err = task_group(|tg| {
        let started = started.clone();
        async move {
            tg.start_soon({
                let started = started.clone();
                async move {
                    let _guard = guard;
                    started.set();
                    std::future::pending().await
                }
            });
            started.wait().await;
            Err::<(), _>(failure("the body failed"))
        }
    })
    .await
    .unwrap_err();
    assert_eq!(
        err.errors().map(ToString::to_string).collect::<Vec<_>>(),
        ["the body failed"]
    );
    assert!(dropped.get(), "the child was cancelled");
}

#[portico::test(workers = 2)]
async fn the_bodys_failure_and_a_childs_are_kept_together() {
    // The body and a child fail at the same instant (a barrier), so neither is cancelled
    // first: both failures come out, in one group error.
    let barrier = Arc::new(Barrier::new(2));
    let err = task_group(|tg| async move {
        tg.start_soon({
            let barrier = barrier.clone();
            async move {
                barrier.wait();
                Err(failure("the child failed"))
            }
        });
        barrier.wait();
        Err::<(), _>(failure("the body failed"))
    })
    .await
    .unwrap_err();
    let mut errors: Vec<String> = err.errors().map(ToString::to_string).collect();
    errors.sort();
    assert_eq!(errors, ["the body failed", "the child failed"]);
}

#[portico::test]
async fn a_single_failure_still_comes_as_a_group_error() {
    let err = task_group(|tg| async move {
        tg.start_soon(async { Err(failure("alone")) });
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(err.failures().len(), 1);
    assert!(!err.is_cancelled());
    assert_eq!(err.to_string(), "task group failed: alone");
}

#[portico::test]
async fn a_child_started_after_a_failure_never_runs() {
    // AnyIO runs such a child up to its first wait; a Rust future that is dropped unstarted
    // runs nothing at all.
    let ran = Flag::default();
    let result = task_group(|tg| {
        let ran = ran.clone();
        async move {
            let failed = tg.spawn(async { Err::<(), _>(failure("first")) });
            let _ = failed.await;
            assert!(tg.is_cancelled());
            tg.start_soon(async move {
                ran.set();
                Ok(())
            });
            Ok(())
        }
    })
    .await;
    assert!(result.is_err());
    assert!(!ran.get(), "the late child never ran");
}

#[portico::test]
async fn a_failure_after_started_fails_the_group() {
    let proceed = event();
    let err = task_group(|tg| {
        let proceed = proceed.clone();
        async move {
            let waiting = proceed.clone();
            let value = tg
                .start(|status: TaskStatus<u8>| async move {
                    status.started(1);
                    waiting.wait().await;
                    Err(failure("failed while serving"))
                })
                .await
                .unwrap();
            assert_eq!(value, 1, "start gave the ready value back");
            proceed.set();
            std::future::pending::<Result<(), io::Error>>().await
        }
    })
    .await
    .unwrap_err();
    assert_eq!(
        err.errors().map(ToString::to_string).collect::<Vec<_>>(),
        ["failed while serving"]
    );
}

#[portico::test]
async fn a_failure_in_a_cancelled_childs_cleanup_is_kept() {
    // AnyIO: a child that fails in its cleanup after a sibling failed adds its own exception
    // to the group. Here the cleanup is a shield, which the cancelled child finishes.
    let entered = event();
    let err = task_group(|tg| {
        let entered = entered.clone();
        async move {
            tg.start_soon({
                let entered = entered.clone();
                async move {
                    shield(async move {
                        entered.set();
                        runtime().sleep(Duration::from_millis(10)).await;
                        Err::<(), _>(failure("the cleanup failed"))
                    })
                    .await?;
                    std::future::pending().await
                }
            });
            entered.wait().await;
            tg.start_soon(async { Err(failure("a sibling failed")) });
            Ok(())
        }
    })
    .await
    .unwrap_err();
    let mut errors: Vec<String> = err.errors().map(ToString::to_string).collect();
    errors.sort();
    assert_eq!(errors, ["a sibling failed", "the cleanup failed"]);
}

// Cancellation.

#[portico::test]
async fn cancelling_a_scope_cancels_every_scope_inside() {
    let outer = CancelScope::new();
    let inner = CancelScope::new();
    let (dropped, guard) = DropFlag::new();
    let outcome = outer
        .run({
            let (outer, inner) = (outer.clone(), inner.clone());
            async move {
                inner
                    .run(move_on_after(Duration::from_secs(60), async move {
                        let _guard = guard;
                        outer.cancel();
                        std::future::pending::<()>().await
                    }))
                    .await
            }
        })
        .await;
    assert_eq!(outcome, None);
    assert!(dropped.get(), "the innermost future was dropped");
    assert!(outer.cancelled_caught());
}

#[portico::test]
async fn a_scope_catches_only_its_own_cancellation() {
    let outer = CancelScope::new();
    let inner = CancelScope::new();
    let outcome = outer
        .run({
            let (outer, inner) = (outer.clone(), inner.clone());
            async move {
                inner
                    .run(async move {
                        outer.cancel();
                        std::future::pending::<()>().await
                    })
                    .await
            }
        })
        .await;
    assert_eq!(outcome, None, "the outer scope ended the work");
    assert!(outer.cancel_called() && outer.cancelled_caught());
    assert!(
        !inner.cancel_called() && !inner.cancelled_caught(),
        "the inner scope was not cancelled itself, and caught nothing"
    );
}

#[portico::test]
async fn a_scope_cancelled_before_it_runs_never_starts_its_future() {
    let scope = CancelScope::new();
    scope.cancel();
    scope.cancel(); // cancelling twice is the same as once
    let ran = Flag::default();
    let outcome = scope
        .run({
            let ran = ran.clone();
            async move { ran.set() }
        })
        .await;
    assert_eq!(outcome, None);
    assert!(!ran.get());
    assert!(scope.cancelled_caught());
}

#[portico::test]
async fn a_scope_whose_deadline_has_passed_never_starts_its_future() {
    // AnyIO runs the block up to its first wait; a future is not polled at all.
    let ran = Flag::default();
    let outcome = move_on_at(Instant::now() - Duration::from_millis(1), {
        let ran = ran.clone();
        async move { ran.set() }
    })
    .await;
    assert_eq!(outcome, None);
    assert!(!ran.get());
}

#[portico::test]
async fn an_outer_cancellation_is_not_a_timeout() {
    let outer = CancelScope::new();
    let outcome = outer
        .run({
            let outer = outer.clone();
            fail_after(Duration::from_secs(60), async move {
                outer.cancel();
                std::future::pending::<()>().await
            })
        })
        .await;
    assert_eq!(
        outcome, None,
        "the outer scope caught its own cancellation; no TimeoutError came out"
    );
}

#[portico::test]
async fn a_shielded_scope_can_still_be_cancelled_itself() {
    let outer = CancelScope::new();
    let shielded = CancelScope::new();
    shielded.set_shield(true);
    let outcome = outer
        .run({
            let (outer, shielded) = (outer.clone(), shielded.clone());
            async move {
                let inner = shielded.run({
                    let shielded = shielded.clone();
                    async move {
                        outer.cancel(); // does not reach inside
                        runtime().sleep(Duration::from_millis(5)).await;
                        shielded.cancel(); // does
                        std::future::pending::<()>().await
                    }
                });
                inner.await
            }
        })
        .await;
    assert_eq!(
        outcome,
        Some(None),
        "the shield ended by its own cancellation, and the outer scope then let it return"
    );
    assert!(shielded.cancelled_caught());
}

#[portico::test]
async fn shielding_a_running_scope_protects_it_from_then_on() {
    let outer = CancelScope::new();
    let inner = CancelScope::new();
    let finished = Flag::default();
    let outcome = outer
        .run({
            let (outer, inner, finished) = (outer.clone(), inner.clone(), finished.clone());
            async move {
                let shielded = inner.clone();
                inner
                    .run(async move {
                        runtime().sleep(Duration::from_millis(1)).await;
                        shielded.set_shield(true); // while it runs
                        outer.cancel();
                        runtime().sleep(Duration::from_millis(5)).await;
                        finished.set();
                    })
                    .await
            }
        })
        .await;
    assert!(finished.get(), "shielded, the scope finished its work");
    assert_eq!(outcome, Some(Some(())));
    assert!(outer.cancel_called() && !outer.cancelled_caught());
}

#[portico::test]
async fn inside_a_shield_no_enclosing_deadline_applies() {
    let seen = move_on_after(Duration::from_secs(1), async {
        shield(async { current_effective_deadline() }).await
    })
    .await;
    assert_eq!(seen, Some(None));
}
