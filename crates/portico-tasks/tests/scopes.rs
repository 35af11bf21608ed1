//! In-task scopes: borrowing children with the task-group rules, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use portico::tasks::{move_on_after, scope};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{DropFlag, Flag, runtime, shuffled};

#[portico::test]
async fn children_borrow_from_the_caller() {
    let words = vec!["alpha", "beta", "gamma"];
    let seen = Mutex::new(Vec::new());
    let (words_ref, seen_ref) = (&words, &seen);
    scope(|s| async move {
        for i in shuffled(words_ref.len()) {
            let word = words_ref[i];
            s.spawn(async move {
                runtime().sleep(Duration::from_millis(1)).await;
                seen_ref.lock().unwrap().push(word);
                Ok::<(), io::Error>(())
            });
        }
        Ok(())
    })
    .await
    .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, ["alpha", "beta", "gamma"]);
}

#[portico::test]
async fn children_interleave_in_one_task() {
    // Two children hand a token back and forth through a shared counter: only concurrent
    // children can finish, and they never run in parallel.
    let turn = AtomicUsize::new(0);
    let turn = &turn;
    let thread = std::thread::current().id();
    scope(|s| async move {
        for me in 0..2 {
            s.spawn(async move {
                for round in 0..5 {
                    while turn.load(Ordering::SeqCst) != round * 2 + me {
                        runtime().sleep(Duration::from_millis(1)).await;
                    }
                    assert_eq!(
                        std::thread::current().id(),
                        thread,
                        "polled in the caller's task"
                    );
                    turn.fetch_add(1, Ordering::SeqCst);
                }
                Ok::<(), io::Error>(())
            });
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(turn.load(Ordering::SeqCst), 10);
}

#[portico::test]
async fn a_failing_child_cancels_the_others_and_the_body() {
    let (sibling_dropped, sibling_guard) = DropFlag::new();
    let (body_dropped, body_guard) = DropFlag::new();
    let err = scope(|s| async move {
        let _guard = body_guard;
        s.spawn(async move {
            let _guard = sibling_guard;
            std::future::pending::<()>().await;
            Ok(())
        });
        s.spawn(async {
            runtime().sleep(Duration::from_millis(5)).await;
            Err(io::Error::other("child failed"))
        });
        std::future::pending::<Result<(), io::Error>>().await
    })
    .await
    .unwrap_err();
    assert_eq!(err.errors().next().unwrap().to_string(), "child failed");
    assert!(sibling_dropped.get());
    assert!(body_dropped.get());
}

#[portico::test]
async fn failures_in_one_round_are_all_kept() {
    let err = scope(|s| async move {
        s.spawn(async { Err(io::Error::other("first")) });
        s.spawn(async {
            if true {
                panic!("second");
            }
            Ok(())
        });
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(err.failures().len(), 2);
    assert_eq!(err.errors().count(), 1);
    assert_eq!(err.panics().next().unwrap().message(), Some("second"));
}

#[portico::test]
async fn cancel_ends_the_scope_without_a_failure() {
    let ran_after = Flag::default();
    let ran_ref = &ran_after;
    let err = scope(|s| async move {
        let canceller = s.clone();
        s.spawn(async move {
            canceller.cancel();
            Ok::<(), io::Error>(())
        });
        s.spawn(async move {
            runtime().sleep(Duration::from_secs(30)).await;
            ran_ref.set();
            Ok(())
        });
        std::future::pending::<Result<(), io::Error>>().await
    })
    .await
    .unwrap_err();
    assert!(err.is_cancelled());
    assert!(!ran_after.get());
}

#[portico::test]
async fn dropping_the_scope_drops_every_child() {
    let (dropped, guard) = DropFlag::new();
    let result = move_on_after(
        Duration::from_millis(10),
        scope(|s| async move {
            s.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok::<(), io::Error>(())
            });
            Ok(())
        }),
    )
    .await;
    assert!(result.is_none());
    assert!(
        dropped.get(),
        "the child was dropped with the scope, at once"
    );
}
