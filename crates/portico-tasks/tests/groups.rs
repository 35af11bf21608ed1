//! Task groups: failure, cancellation, readiness and values, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use portico::tasks::{
    CancelScope, Event, Failure, GroupError, StartError, TaskEnded, TaskGroup, TaskStatus,
    move_on_after, task_group,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{DropFlag, Flag, runtime, shuffled};

fn failure(kind: &str) -> io::Error {
    io::Error::other(kind.to_owned())
}

#[portico::test]
async fn children_run_and_the_group_returns_the_body_value() {
    let done = Arc::new(AtomicUsize::new(0));
    let value = task_group(|tg| {
        let done = done.clone();
        async move {
            for _ in shuffled(20) {
                let done = done.clone();
                tg.start_soon(async move {
                    runtime().sleep(Duration::from_millis(1)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            Ok::<_, io::Error>("body value")
        }
    })
    .await
    .unwrap();
    assert_eq!(value, "body value");
    assert_eq!(
        done.load(Ordering::SeqCst),
        20,
        "the group waited for every child"
    );
}

#[portico::test(workers = 2)]
async fn children_run_in_parallel() {
    // Each child blocks its thread until the other arrives: only parallel children finish.
    let barrier = Arc::new(Barrier::new(2));
    task_group(|tg| async move {
        for _ in 0..2 {
            let barrier = barrier.clone();
            tg.start_soon(async move {
                barrier.wait();
                Ok(())
            });
        }
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap();
}

#[portico::test]
async fn failing_child_cancels_siblings() {
    let (flags, guards): (Vec<Flag>, Vec<DropFlag>) = (0..5).map(|_| DropFlag::new()).unzip();
    let reached_end = Arc::new(AtomicUsize::new(0));
    let mut guards: Vec<Option<DropFlag>> = guards.into_iter().map(Some).collect();
    let result = task_group(|tg| {
        let reached_end = reached_end.clone();
        async move {
            for i in shuffled(5) {
                let guard = guards[i].take().unwrap();
                let reached_end = reached_end.clone();
                tg.start_soon(async move {
                    let _guard = guard;
                    runtime().sleep(Duration::from_secs(30)).await;
                    reached_end.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            tg.start_soon(async {
                runtime().sleep(Duration::from_millis(10)).await;
                Err(failure("boom"))
            });
            Ok::<_, io::Error>(())
        }
    })
    .await;
    let err = result.unwrap_err();
    assert_eq!(
        err.errors().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["boom"]
    );
    assert_eq!(
        reached_end.load(Ordering::SeqCst),
        0,
        "no sibling ran past its sleep"
    );
    assert!(
        flags.iter().all(Flag::get),
        "every sibling's future was dropped before the group returned"
    );
}

#[portico::test]
async fn failing_child_cancels_the_body() {
    let (body_dropped, guard) = DropFlag::new();
    let body_finished = Flag::default();
    let result = task_group(|tg| {
        let body_finished = body_finished.clone();
        async move {
            let _guard = guard;
            tg.start_soon(async { Err(failure("child failed")) });
            runtime().sleep(Duration::from_secs(30)).await;
            body_finished.set();
            Ok::<_, io::Error>(())
        }
    })
    .await;
    assert!(result.is_err());
    assert!(
        body_dropped.get(),
        "the body was dropped when the child failed"
    );
    assert!(!body_finished.get());
}

#[portico::test(workers = 3)]
async fn all_errors_are_kept() {
    // Three children fail at the same instant: they pass a barrier inside one poll each, so none
    // can be cancelled before it fails, and the group must report all three.
    let barrier = Arc::new(Barrier::new(3));
    let err = task_group(|tg| async move {
        for i in shuffled(3) {
            let barrier = barrier.clone();
            tg.start_soon(async move {
                barrier.wait();
                Err(failure(&format!("child {i}")))
            });
        }
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap_err();
    let mut messages: Vec<String> = err.errors().map(|e| e.to_string()).collect();
    messages.sort();
    assert_eq!(messages, ["child 0", "child 1", "child 2"]);
    assert_eq!(err.failures().len(), 3);
    assert!(
        err.to_string()
            .starts_with("task group failed with 3 failures; first: child")
    );
}

#[portico::test]
async fn a_panic_in_a_child_is_reported_and_can_be_re_raised() {
    let err = task_group(|tg| async move {
        tg.start_soon(async {
            if true {
                panic!("child exploded");
            }
            Ok(())
        });
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap_err();
    let panics: Vec<_> = err
        .panics()
        .map(|p| p.message().map(str::to_owned))
        .collect();
    assert_eq!(panics, [Some("child exploded".to_owned())]);
    assert_eq!(
        err.to_string(),
        "task group failed: task panicked: child exploded"
    );

    let resumed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.resume_panic()));
    let payload = resumed.expect_err("resume_panic re-raises");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"child exploded"));
}

#[portico::test]
async fn a_panic_in_the_body_is_a_failure_too() {
    let err = task_group(|_tg: TaskGroup<io::Error>| async move {
        if true {
            panic!("body exploded");
        }
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(err.panics().count(), 1);
}

#[portico::test]
async fn start_gives_the_ready_value_and_the_child_runs_on() {
    let finished = Flag::default();
    task_group(|tg| {
        let finished = finished.clone();
        async move {
            let value = tg
                .start(|status: TaskStatus<&'static str>| async move {
                    status.started("listening");
                    runtime().sleep(Duration::from_millis(20)).await;
                    finished.set();
                    Ok(())
                })
                .await
                .unwrap();
            assert_eq!(value, "listening");
            Ok::<_, io::Error>(())
        }
    })
    .await
    .unwrap();
    assert!(
        finished.get(),
        "the started child ran to its end inside the group"
    );
}

#[portico::test]
async fn start_without_ready_fails() {
    task_group(|tg| async move {
        let err = tg
            .start(|_status: TaskStatus<u16>| async { Ok(()) })
            .await
            .unwrap_err();
        assert!(matches!(err, StartError::NotStarted), "{err}");
        assert_eq!(
            err.to_string(),
            "the child ended without calling TaskStatus::started"
        );

        // A failure before `started` goes to the caller, and does not fail the group.
        let err = tg
            .start(|_status: TaskStatus<u16>| async { Err(failure("bind failed")) })
            .await
            .unwrap_err();
        match err {
            StartError::Failed(Failure::Error(e)) => assert_eq!(e.to_string(), "bind failed"),
            other => panic!("unexpected {other}"),
        }
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap();
}

#[portico::test]
async fn dropping_the_group_cancels_children() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let mut flags = Vec::new();
    let mut guards = Vec::new();
    for _ in 0..4 {
        let (flag, guard) = DropFlag::new();
        flags.push(flag);
        guards.push(guard);
    }
    let group = task_group(|tg| {
        let ticks = ticks.clone();
        async move {
            for guard in guards {
                let ticks = ticks.clone();
                tg.start_soon(async move {
                    let _guard = guard;
                    loop {
                        ticks.fetch_add(1, Ordering::SeqCst);
                        runtime().sleep(Duration::from_millis(2)).await;
                    }
                });
            }
            std::future::pending::<Result<(), io::Error>>().await
        }
    });
    // Run the group for a while, then drop it by letting the time limit expire.
    assert!(
        move_on_after(Duration::from_millis(30), group)
            .await
            .is_none()
    );
    for flag in &flags {
        flag.wait(&runtime(), Duration::from_secs(5)).await;
    }
    let after_drop = ticks.load(Ordering::SeqCst);
    runtime().sleep(Duration::from_millis(30)).await;
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        after_drop,
        "no child outlived its group"
    );
}

#[portico::test]
async fn a_group_cancelled_from_a_child_exits_ok() {
    // AnyIO: `tg.cancel_scope.cancel()` cancels the children and the host body, and the group
    // then exits normally.
    let (child_dropped, guard) = DropFlag::new();
    let (body_dropped, body_guard) = DropFlag::new();
    task_group(|tg| async move {
        let _body_guard = body_guard;
        let canceller = tg.clone();
        tg.start_soon(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok(())
        });
        tg.start_soon(async move {
            canceller.cancel();
            Ok(())
        });
        std::future::pending::<Result<(), io::Error>>().await
    })
    .await
    .expect("a cancelled group exits normally");
    // When the group returns, the cancelled child's future has already been dropped.
    assert!(child_dropped.get());
    assert!(body_dropped.get(), "the body was cancelled too");
}

#[portico::test]
async fn a_group_cancelled_from_its_body_exits_ok() {
    let release = Arc::new(Event::new());
    let reached = Flag::default();
    task_group(|tg| {
        let (release, reached) = (release.clone(), reached.clone());
        async move {
            tg.start_soon(async move {
                release.wait().await;
                Ok(())
            });
            tg.cancel();
            // The body is cancelled at its next wait, as in AnyIO.
            runtime().sleep(Duration::from_secs(60)).await;
            reached.set();
            Ok::<(), io::Error>(())
        }
    })
    .await
    .expect("a cancelled group exits normally");
    assert!(!reached.get(), "the body stopped at its next wait");
}

#[portico::test]
async fn a_cancelled_body_that_owes_a_value_reports_the_cancellation() {
    // A body that returns a value has none to give once cancelled: the only case where a
    // cancellation is an `Err`, with no failure in it.
    let err = task_group(|tg| async move {
        tg.cancel();
        std::future::pending::<()>().await;
        Ok::<u32, io::Error>(7)
    })
    .await
    .unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.to_string(), "task group cancelled");
}

#[portico::test]
async fn cancel_after_the_body_finished_keeps_its_value() {
    let value = task_group(|tg| async move {
        tg.start_soon(async { std::future::pending::<Result<(), io::Error>>().await });
        tg.cancel();
        assert!(tg.is_cancelled());
        // Started after the cancellation: dropped without running.
        let ran = Flag::default();
        let ran_in_child = ran.clone();
        tg.start_soon(async move {
            ran_in_child.set();
            Ok(())
        });
        Ok((7, ran))
    })
    .await
    .unwrap();
    assert_eq!(value.0, 7);
    assert!(!value.1.get());
}

#[portico::test]
async fn nested_groups_pass_errors_up_intact() {
    let outer: Result<(), GroupError<GroupError<io::Error>>> = task_group(|outer| async move {
        outer.start_soon(async {
            task_group(|inner| async move {
                inner.start_soon(async { Err(io::Error::new(io::ErrorKind::NotFound, "deep")) });
                Ok(())
            })
            .await
        });
        Ok(())
    })
    .await;
    let outer = outer.unwrap_err();
    let inner = outer.errors().next().expect("the inner group's error");
    let deep = inner.errors().next().expect("the inner child's error");
    assert_eq!(deep.kind(), io::ErrorKind::NotFound);
    assert_eq!(deep.to_string(), "deep");
}

#[portico::test]
async fn a_soon_value_is_read_after_the_group_and_refused_before() {
    let release = Arc::new(Event::new());
    let values = task_group(|tg| {
        let release = release.clone();
        async move {
            let slow = tg.soon({
                let release = release.clone();
                async move {
                    release.wait().await;
                    Ok::<_, io::Error>(String::from("slow"))
                }
            });
            let fast = tg.soon(async { Ok(1 + 1) });
            // The slow child waits for us: reading it now is an error, not a panic.
            let early = slow.get().unwrap_err();
            assert!(
                early
                    .to_string()
                    .contains("after its task group has returned")
            );
            assert!(!slow.is_ready());
            release.set();
            Ok((slow, fast))
        }
    })
    .await
    .unwrap();
    assert_eq!(values.0.into_value().unwrap(), "slow");
    assert_eq!(values.1.into_value().unwrap(), 2);
}

#[portico::test]
async fn a_handle_used_after_the_group_returned_is_refused() {
    let escaped = task_group(|tg: TaskGroup<io::Error>| async move { Ok(tg.clone()) })
        .await
        .unwrap();
    let err = escaped.try_start_soon(async { Ok(()) }).unwrap_err();
    assert!(err.to_string().contains("already returned"));
}

#[portico::test]
async fn children_see_the_deadline_where_the_group_was_created() {
    let deadline = move_on_after(Duration::from_secs(2), async {
        task_group(|tg| async move {
            let seen =
                tg.soon(async { Ok::<_, io::Error>(portico::tasks::current_effective_deadline()) });
            Ok(seen)
        })
        .await
    })
    .await
    .unwrap()
    .unwrap();
    let seen = deadline.into_value().unwrap().expect("a deadline");
    assert!(seen <= std::time::Instant::now() + Duration::from_secs(2));
}

#[portico::test]
async fn a_handle_gives_its_childs_value_and_cancels_it_alone() {
    let (dropped, flag) = DropFlag::new();
    let (answer, stuck_ended, sibling) = task_group(|tg| async move {
        let answer = tg.spawn(async {
            runtime().sleep(Duration::from_millis(2)).await;
            Ok(String::from("forty-two"))
        });
        let stuck = tg.spawn(async move {
            let _flag = flag;
            std::future::pending::<Result<u8, io::Error>>().await
        });
        let sibling = tg.spawn(async {
            runtime().sleep(Duration::from_millis(20)).await;
            Ok(7)
        });
        assert!(!stuck.is_finished());
        stuck.cancel();
        let stuck_ended = stuck.await;
        Ok::<_, io::Error>((answer.await, stuck_ended, sibling))
    })
    .await
    .unwrap();
    assert_eq!(answer.as_deref(), Ok("forty-two"));
    assert_eq!(stuck_ended, Err(TaskEnded::Cancelled));
    assert!(dropped.get(), "the cancelled child's future was dropped");
    assert!(sibling.is_finished(), "the group waited for the others");
    assert_eq!(
        sibling.await,
        Ok(7),
        "cancelling one child left its siblings alone"
    );
}

// Awaited by a task outside the group, which only the handle's own wake-up can wake (the
// group's body is polled again whenever a child ends; that task is not).
#[portico::test]
async fn a_handle_awaited_outside_its_group_wakes_when_its_child_ends() {
    let rt = runtime();
    let released = Arc::new(Event::new());
    let value = task_group(|tg| async move {
        let answer = tg.spawn({
            let released = released.clone();
            async move {
                released.wait().await;
                Ok(42)
            }
        });
        let waiter = rt.spawn(answer);
        // The waiter is waiting on the handle by now; then the child ends.
        runtime().sleep(Duration::from_millis(20)).await;
        released.set();
        let limit = Duration::from_secs(5);
        Ok::<_, io::Error>(
            rt.timeout(limit, waiter)
                .await
                .expect("woken by its child's end"),
        )
    })
    .await
    .unwrap();
    assert_eq!(value.unwrap(), Ok(42));
}

#[portico::test]
async fn a_handle_says_its_child_failed_and_the_group_has_the_error() {
    let mut handle = None;
    let err = task_group(|tg| {
        let handle = &mut handle;
        async move {
            *handle = Some(tg.spawn(async { Err::<u8, _>(failure("boom")) }));
            Ok::<_, io::Error>(())
        }
    })
    .await
    .unwrap_err();
    assert_eq!(
        err.errors().next().map(ToString::to_string).as_deref(),
        Some("boom")
    );
    assert_eq!(handle.unwrap().await, Err(TaskEnded::Failed));
}

#[portico::test]
async fn a_cancelled_pending_start_cancels_its_child_and_waits_for_it() {
    // AnyIO cancels a child whose `start` was cancelled before it reported, and `start` waits
    // for that child to end; the rest of the group goes on.
    let (dropped, flag) = DropFlag::new();
    let sibling_ran = Flag::default();
    let group = task_group(|tg| {
        let sibling_ran = sibling_ran.clone();
        async move {
            let scope = CancelScope::new();
            let waited = scope
                .run(tg.start(|_status: TaskStatus<u16>| {
                    let scope = scope.clone();
                    async move {
                        let _flag = flag;
                        scope.cancel(); // the caller's scope is cancelled before `started`
                        std::future::pending::<Result<(), io::Error>>().await
                    }
                }))
                .await;
            assert!(waited.is_none(), "the start was cancelled");
            assert!(dropped.get(), "the child had ended when the start gave up");
            tg.start_soon(async move {
                sibling_ran.set();
                Ok(())
            });
            Ok::<_, io::Error>("body done")
        }
    });
    let ended = runtime().timeout(Duration::from_secs(10), group).await;
    assert!(
        matches!(ended, Ok(Ok("body done"))),
        "the group ended without a failure"
    );
    assert!(sibling_ran.get(), "the group was not cancelled");
}

#[portico::test]
async fn a_start_dropped_from_outside_cancels_its_child_and_the_group_waits() {
    // A future dropped from outside cannot wait: the group waits for the child instead.
    let (dropped, flag) = DropFlag::new();
    task_group(|tg| async move {
        let mut start = Box::pin(tg.start(|_status: TaskStatus<u16>| async move {
            let _flag = flag;
            std::future::pending::<Result<(), io::Error>>().await
        }));
        // Polled once, so that the child is spawned, then dropped.
        let _ = futures_lite::future::poll_once(&mut start).await;
        drop(start);
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap();
    assert!(dropped.get(), "the group returned once the child had ended");
}
