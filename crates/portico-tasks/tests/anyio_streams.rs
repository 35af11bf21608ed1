//! AnyIO's memory-object-stream semantics, one behaviour per test, on every runtime. The
//! crate guide's conformance table lists each behaviour, with the tests in this file and
//! streams.rs that hold it.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::time::Duration;

use portico::tasks::{
    CancelScope, RecvError, SendError, TryRecvError, TrySendError, memory_stream, move_on_after,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::runtime;

/// How long anything that should happen promptly may take before the test fails.
const LIMIT: Duration = Duration::from_secs(10);

/// Waits (a few milliseconds at a time, up to [`LIMIT`]) until `ready` holds.
async fn until(mut ready: impl FnMut() -> bool) {
    let give_up = std::time::Instant::now() + LIMIT;
    while !ready() {
        assert!(
            std::time::Instant::now() < give_up,
            "the condition never held"
        );
        runtime().sleep(Duration::from_millis(2)).await;
    }
}

#[portico::test]
async fn a_cancelled_receive_leaves_no_room_behind() {
    let (tx, mut rx) = memory_stream::<&str>(0);
    assert!(
        move_on_after(Duration::from_millis(5), rx.recv())
            .await
            .is_none()
    );
    assert_eq!(tx.statistics().unwrap().tasks_waiting_receive, 0);
    assert!(
        matches!(tx.try_send("hello"), Err(TrySendError::WouldBlock("hello"))),
        "no receiver waits any more"
    );
}

#[portico::test]
async fn a_cancelled_send_delivers_nothing() {
    let (tx, mut rx) = memory_stream::<&str>(0);
    assert!(
        move_on_after(Duration::from_millis(5), tx.send("hello"))
            .await
            .is_none()
    );
    assert_eq!(tx.statistics().unwrap().tasks_waiting_send, 0);
    assert_eq!(rx.try_recv(), Err(TryRecvError::WouldBlock));
}

#[portico::test]
async fn an_item_handed_to_a_receiver_as_it_is_cancelled_is_not_lost() {
    // AnyIO hands the item to the cancelled receiver anyway; here it stays in the stream for
    // the next receive. Either way it is not lost.
    for buffer in [0, 1] {
        let (tx, mut rx) = memory_stream::<&str>(buffer);
        {
            let scope = CancelScope::new();
            let mut receiving = std::pin::pin!(scope.run(rx.recv()));
            assert!(
                futures_lite::future::poll_once(&mut receiving)
                    .await
                    .is_none(),
                "the receiver waits"
            );
            tx.try_send("hello").unwrap();
            scope.cancel();
            assert_eq!(receiving.await, None, "the receive was cancelled");
        }
        assert_eq!(
            rx.try_recv(),
            Ok("hello"),
            "the item is still in the stream"
        );
    }
}

#[portico::test]
async fn closing_the_last_sender_ends_a_waiting_receive() {
    let (tx, mut rx) = memory_stream::<u8>(1);
    let receiver = runtime().spawn(async move { rx.recv().await });
    until(|| tx.statistics().unwrap().tasks_waiting_receive == 1).await;
    drop(tx);
    assert_eq!(receiver.await.unwrap(), Err(RecvError::EndOfStream));
}

#[portico::test]
async fn closing_the_last_receiver_fails_a_waiting_send() {
    let (tx, rx) = memory_stream::<u8>(0);
    let stats = tx.clone();
    let sender = runtime().spawn(async move { tx.send(7).await });
    until(|| stats.statistics().unwrap().tasks_waiting_send == 1).await;
    drop(rx);
    assert!(matches!(sender.await.unwrap(), Err(SendError::Broken(7))));
}

#[portico::test]
async fn a_receive_or_send_in_a_cancelled_scope_takes_nothing() {
    let (tx, mut rx) = memory_stream::<&str>(2);
    tx.send("hello").await.unwrap();
    let cancelled = CancelScope::new();
    cancelled.cancel();
    assert_eq!(cancelled.run(rx.recv()).await, None);
    assert_eq!(
        cancelled.run(tx.send("lost")).await.map(|r| r.is_ok()),
        None
    );
    assert_eq!(rx.recv().await, Ok("hello"), "the item is still there");
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::WouldBlock),
        "nothing was sent"
    );
}

#[portico::test]
async fn a_clone_of_a_closed_end_is_closed() {
    // AnyIO raises `ClosedResourceError`; `Clone` cannot fail, so the clone is closed too.
    let (mut tx, mut rx) = memory_stream::<u8>(1);
    tx.close();
    rx.close();
    assert!(tx.clone().is_closed());
    assert!(rx.clone().is_closed());
}

#[portico::test]
async fn an_unbounded_stream_never_makes_a_sender_wait() {
    let (tx, mut rx) = memory_stream::<u32>(usize::MAX);
    for i in 0..10_000 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.statistics().unwrap().current_buffer_used, 10_000);
    assert_eq!(rx.recv().await, Ok(0));
}

#[portico::test]
async fn stream_statistics_count_ends_buffer_and_waiters() {
    let (tx, rx) = memory_stream::<u8>(1);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    tx.send(1).await.unwrap();
    let waiting = runtime().spawn(async move { tx2.send(2).await });
    until(|| tx.statistics().unwrap().tasks_waiting_send == 1).await;
    let stats = rx.statistics().unwrap();
    assert_eq!(
        (
            stats.current_buffer_used,
            stats.max_buffer_size,
            stats.open_send_streams,
            stats.open_receive_streams,
            stats.tasks_waiting_send,
            stats.tasks_waiting_receive,
        ),
        (1, 1, 2, 2, 1, 0)
    );
    drop((rx, rx2));
    assert!(waiting.await.unwrap().is_err());
}
