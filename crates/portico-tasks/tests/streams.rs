//! Memory object streams: delivery and close semantics, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::time::Duration;

use futures_lite::StreamExt;
use portico::tasks::{
    RecvError, SendError, TryRecvError, TrySendError, memory_stream, move_on_after, task_group,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::runtime;

#[portico::test]
async fn closing_every_sender_ends_the_stream_after_the_buffer() {
    let (tx, mut rx) = memory_stream::<u32>(4);
    let tx2 = tx.clone();
    tx.send(1).await.unwrap();
    tx2.send(2).await.unwrap();
    drop(tx);
    assert_eq!(
        rx.recv().await,
        Ok(1),
        "one sender closed, the stream goes on"
    );
    let mut tx2 = tx2;
    tx2.close();
    assert_eq!(
        rx.recv().await,
        Ok(2),
        "items sent before the end are still delivered"
    );
    assert_eq!(rx.recv().await, Err(RecvError::EndOfStream));
    assert_eq!(rx.try_recv(), Err(TryRecvError::EndOfStream));
    // A closed sender refuses to send and gives the item back.
    assert!(matches!(tx2.send(3).await, Err(SendError::Closed(3))));
}

#[portico::test]
async fn closing_every_receiver_makes_sends_fail() {
    let (tx, rx) = memory_stream::<&str>(4);
    let mut rx2 = rx.clone();
    drop(rx);
    tx.send("still one receiver").await.unwrap();
    rx2.close();
    let err = tx.send("nobody").await.unwrap_err();
    assert_eq!(err.to_string(), "every receiver of the stream is closed");
    assert_eq!(err.into_inner(), "nobody");
    assert!(matches!(
        tx.try_send("again"),
        Err(TrySendError::Broken("again"))
    ));
    assert_eq!(rx2.recv().await, Err(RecvError::Closed));
}

#[portico::test]
async fn try_variants_never_wait() {
    let (tx, mut rx) = memory_stream::<u8>(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::WouldBlock));
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(2), Err(TrySendError::WouldBlock(2))));
    assert_eq!(rx.try_recv(), Ok(1));
    let stats = tx.statistics().unwrap();
    assert_eq!((stats.current_buffer_used, stats.max_buffer_size), (0, 1));
}

#[portico::test]
async fn a_zero_buffer_hands_items_over_only_to_a_waiting_receiver() {
    let (tx, mut rx) = memory_stream::<u8>(0);
    assert!(
        matches!(tx.try_send(1), Err(TrySendError::WouldBlock(1))),
        "no receiver waits"
    );
    // A send waits for a receiver...
    assert!(
        move_on_after(Duration::from_millis(10), tx.send(2))
            .await
            .is_none()
    );
    // ...and completes once one arrives.
    let receiver = runtime().spawn(async move { rx.recv().await });
    tx.send(3).await.unwrap();
    assert_eq!(receiver.await.unwrap(), Ok(3));
}

#[portico::test]
async fn each_item_reaches_exactly_one_receiver() {
    let (tx, rx) = memory_stream::<u32>(8);
    let counts = task_group(|tg| async move {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.clone();
                tg.soon(async move {
                    let mut got = Vec::new();
                    while let Ok(item) = rx.recv().await {
                        got.push(item);
                    }
                    Ok::<_, std::io::Error>(got)
                })
            })
            .collect();
        drop(rx);
        for i in 0..300 {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        Ok(workers)
    })
    .await
    .unwrap();
    let mut all: Vec<u32> = counts
        .into_iter()
        .flat_map(|w| w.into_value().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..300).collect::<Vec<_>>());
}

#[portico::test]
async fn a_receiver_is_a_stream() {
    let (tx, rx) = memory_stream::<u8>(4);
    runtime()
        .spawn(async move {
            for i in 0..4 {
                tx.send(i).await.unwrap();
            }
        })
        .detach();
    assert_eq!(rx.collect::<Vec<_>>().await, [0, 1, 2, 3]);
}

/// Waits (a few milliseconds at a time, up to ten seconds) until `ready` holds.
async fn until(mut ready: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if ready() {
            return;
        }
        runtime().sleep(Duration::from_millis(5)).await;
    }
    panic!("the condition never held");
}

#[portico::test]
async fn each_receive_lets_one_more_waiting_sender_in() {
    // Regression: wake-ups were not additive, so two receives in a row let one sender through
    // and left the other waiting with room in the buffer.
    let (tx, mut rx) = memory_stream::<u32>(2);
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    let sent = task_group(|tg| {
        let (tx, rx) = (tx.clone(), &mut rx);
        async move {
            for item in [3, 4] {
                let tx = tx.clone();
                tg.start_soon(async move { tx.send(item).await.map_err(|_| ()) });
            }
            until(|| tx.statistics().unwrap().tasks_waiting_send == 2).await;
            // Two receives before either sender runs again: room for both.
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(rx.try_recv(), Ok(2));
            Ok::<_, ()>(())
        }
    });
    let done = runtime().timeout(Duration::from_secs(10), sent).await;
    assert!(
        matches!(done, Ok(Ok(()))),
        "both waiting senders got in once there was room"
    );
    let mut rest = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    rest.sort_unstable();
    assert_eq!(rest, [3, 4]);
}
