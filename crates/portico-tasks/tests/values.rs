//! Children's values: as they finish, in argument order, awaited, and after a failure; on
//! every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::cell::Cell;
use std::io;
use std::sync::Arc;

use portico::tasks::{Event, TaskEnded, amap, gather, task_group};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::DropFlag;

fn failure(kind: &str) -> io::Error {
    io::Error::other(kind.to_owned())
}

#[portico::test]
async fn as_completed_hands_out_values_in_the_order_children_finish() {
    let order = task_group(|tg| async move {
        let mut completed = tg.as_completed();
        assert!(completed.next().await.is_none(), "nothing spawned yet");
        let releases: Vec<Arc<Event>> = (0..3).map(|_| Arc::new(Event::new())).collect();
        for (i, release) in releases.iter().enumerate() {
            let release = release.clone();
            completed.spawn(async move {
                release.wait().await;
                Ok::<_, io::Error>(i)
            });
        }
        assert_eq!(completed.len(), 3);
        let mut order = Vec::new();
        // One child is released at a time, so the order they finish in is known.
        for i in [2, 0, 1] {
            releases[i].set();
            order.push(completed.next().await.unwrap().unwrap());
        }
        assert!(completed.next().await.is_none(), "every child handed out");
        assert!(completed.is_empty());
        Ok(order)
    })
    .await
    .unwrap();
    assert_eq!(order, [2, 0, 1]);
}

#[portico::test]
async fn dropping_as_completed_cancels_its_unfinished_children() {
    let (dropped, guard) = DropFlag::new();
    let first = task_group(|tg| async move {
        let mut completed = tg.as_completed();
        completed.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok::<_, io::Error>("never")
        });
        completed.spawn(async { Ok("first") });
        let first = completed.next().await.unwrap().unwrap();
        drop(completed);
        Ok(first)
    })
    .await
    .expect("a cancelled child is not a failure");
    assert_eq!(first, "first");
    assert!(dropped.get(), "the pending child was cancelled and dropped");
}

#[portico::test]
async fn as_completed_hands_out_a_cancelled_child_as_cancelled() {
    task_group(|tg| async move {
        let mut completed = tg.as_completed();
        completed.spawn(std::future::pending::<Result<(), io::Error>>());
        completed.cancel_remaining();
        assert_eq!(completed.next().await, Some(Err(TaskEnded::Cancelled)));
        assert!(completed.next().await.is_none());
        Ok::<_, io::Error>(())
    })
    .await
    .expect("the group goes on");
}

#[portico::test]
async fn a_failing_as_completed_child_fails_the_group() {
    let (dropped, guard) = DropFlag::new();
    let err = task_group(|tg| async move {
        let mut completed = tg.as_completed::<()>();
        completed.spawn(async move {
            let _guard = guard;
            std::future::pending().await
        });
        completed.spawn(async { Err(failure("broken")) });
        // The failure cancels this body while it waits.
        while completed.next().await.is_some() {}
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(
        err.errors().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["broken"]
    );
    assert!(dropped.get(), "the sibling was cancelled");
}

#[portico::test]
async fn gather_gives_values_in_argument_order_whatever_order_they_finish_in() {
    // Each child releases the one before it: they finish in reverse order.
    let events: Vec<Arc<Event>> = (0..4).map(|_| Arc::new(Event::new())).collect();
    let futures = (0..4).map(|i| {
        let own = events[i].clone();
        let before = i.checked_sub(1).map(|j| events[j].clone());
        async move {
            if i < 3 {
                own.wait().await;
            }
            if let Some(before) = before {
                before.set();
            }
            Ok::<_, io::Error>(i * 10)
        }
    });
    assert_eq!(gather(futures).await.unwrap(), [0, 10, 20, 30]);
}

#[portico::test]
async fn gather_fails_like_a_group_and_cancels_the_rest() {
    let (dropped, guard) = DropFlag::new();
    let pending = async move {
        let _guard = guard;
        std::future::pending::<()>().await;
        Ok(1)
    };
    let futures: Vec<std::pin::Pin<Box<dyn Future<Output = io::Result<u32>> + Send>>> = vec![
        Box::pin(pending),
        Box::pin(async { Err(failure("second")) }),
    ];
    let err = gather(futures).await.unwrap_err();
    assert_eq!(
        err.errors().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["second"]
    );
    assert!(dropped.get(), "the pending child was cancelled");
}

#[portico::test]
async fn amap_calls_the_function_on_each_argument_in_order() {
    let squares = amap(|n: u64| async move { Ok::<_, io::Error>(n * n) }, [3, 1, 2])
        .await
        .unwrap();
    assert_eq!(squares, [9, 1, 4]);
}

#[portico::test]
async fn a_soon_value_is_awaited_inside_the_group() {
    task_group(|tg| async move {
        let release = Arc::new(Event::new());
        let value = tg.soon({
            let release = release.clone();
            async move {
                release.wait().await;
                Ok(String::from("late"))
            }
        });
        let taken = tg.soon(async { Ok(7) });
        assert!(value.get().is_err(), "not there before its child ends");
        release.set();
        assert_eq!(value.wait().await.unwrap(), "late");
        assert_eq!(value.get().unwrap(), "late", "kept after waiting");
        assert_eq!(taken.await, Ok(7));
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap();
}

#[portico::test]
async fn a_soon_value_need_not_be_sync() {
    // `Cell` is `Send` but not `Sync`: this compiles only without a `Sync` bound.
    let value =
        task_group(|tg| async move { Ok::<_, io::Error>(tg.soon(async { Ok(Cell::new(4)) })) })
            .await
            .unwrap();
    let cell = value.into_value().unwrap();
    cell.set(cell.get() + 1);
    assert_eq!(cell.get(), 5);
}

#[portico::test]
async fn the_body_value_is_kept_when_a_child_fails_afterwards() {
    let (values, result) = task_group(|tg| async move {
        let finished = tg.soon(async { Ok(1) });
        finished.wait().await.unwrap();
        let cancelled = tg.soon(std::future::pending::<io::Result<u32>>());
        // No wait between this start and the body's return: the body returns its value.
        tg.start_soon(async { Err(failure("late failure")) });
        Ok((finished, cancelled))
    })
    .keep_body_value()
    .await;
    let err = result.unwrap_err();
    assert_eq!(
        err.errors().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["late failure"]
    );
    let (finished, cancelled) = values.expect("the body returned before the failure");
    assert_eq!(finished.into_value().unwrap(), 1);
    assert!(cancelled.get().is_err());
    assert_eq!(cancelled.await, Err(TaskEnded::Cancelled));
}

#[portico::test]
async fn keep_body_value_reports_no_failure_as_ok() {
    let (value, result) = task_group(|tg| async move {
        let child = tg.soon(async { Ok::<_, io::Error>(2) });
        Ok(child)
    })
    .keep_body_value()
    .await;
    assert!(result.is_ok());
    assert_eq!(value.unwrap().into_value().unwrap(), 2);
}
