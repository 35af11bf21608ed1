//! AnyIO's synchronisation semantics, one behaviour per test, on every runtime. The crate
//! guide's conformance table lists each behaviour, with the tests in this file and the others
//! that hold it.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::future;
use portico::tasks::{
    CancelScope, CapacityLimiter, Condition, Event, Lock, Semaphore, move_on_after, task_group,
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

#[test]
fn primitives_are_made_without_a_runtime() {
    // AnyIO lets them be made outside an event loop; none of these needs a runtime until
    // something waits.
    let event = Event::new();
    event.set();
    assert!(event.is_set());
    assert!(Lock::new(1).try_lock().is_some());
    assert!(Semaphore::new(1).try_acquire().is_some());
    assert!(CapacityLimiter::new(1).try_acquire().is_ok());
    Condition::new().notify_all();
}

#[portico::test]
async fn an_event_can_be_set_from_another_thread() {
    // AnyIO's primitives are not thread-safe (set them through `from_thread.run_sync`); these
    // are.
    let event = Arc::new(Event::new());
    let setter = std::thread::spawn({
        let event = event.clone();
        move || event.set()
    });
    assert!(move_on_after(LIMIT, event.wait()).await.is_some());
    setter.join().unwrap();
}

#[portico::test]
async fn a_cancelled_event_waiter_is_no_longer_counted() {
    let event = Event::new();
    assert!(
        move_on_after(Duration::from_millis(5), event.wait())
            .await
            .is_none()
    );
    assert_eq!(event.statistics().tasks_waiting, 0);
}

#[portico::test]
async fn an_uncontended_lock_or_semaphore_is_taken_without_yielding() {
    // AnyIO's `fast_acquire=True`; here always.
    let lock = Lock::new(());
    assert!(future::poll_once(lock.lock()).await.is_some());
    let semaphore = Semaphore::new(1);
    assert!(future::poll_once(semaphore.acquire()).await.is_some());
}

#[portico::test]
async fn a_lock_guard_may_be_released_on_another_thread() {
    // AnyIO: only the owner task may release. Here holding the guard is owning the lock, and
    // the guard may move.
    let lock = Lock::new(0);
    let mut guard = lock.lock().await;
    *guard += 1;
    std::thread::scope(|threads| {
        threads.spawn(move || drop(guard));
    });
    assert_eq!(*move_on_after(LIMIT, lock.lock()).await.unwrap(), 1);
}

#[portico::test]
async fn one_task_may_hold_several_semaphore_permits() {
    let semaphore = Semaphore::new(2);
    let first = semaphore.acquire().await;
    let second = semaphore.acquire().await;
    assert_eq!(semaphore.available_permits(), 0);
    drop((first, second));
    assert_eq!(semaphore.available_permits(), 2);
}

#[portico::test(timeout = 60)]
async fn a_notification_for_a_cancelled_condition_waiter_goes_to_another() {
    let shared = Arc::new((Lock::new(()), Condition::new()));
    let first = CancelScope::new();
    let woken = Arc::new(Mutex::new(Vec::new()));
    let group = task_group(|tg| {
        let (shared, first, woken) = (shared.clone(), first.clone(), woken.clone());
        async move {
            for (name, scope) in [("first", first.clone()), ("second", CancelScope::new())] {
                let (mine, woken) = (shared.clone(), woken.clone());
                tg.start_soon(async move {
                    scope
                        .run(async {
                            let guard = mine.0.lock().await;
                            let _guard = mine.1.wait(guard).await;
                            woken.lock().unwrap().push(name);
                        })
                        .await;
                    Ok::<(), std::io::Error>(())
                });
                let waiting = if name == "first" { 1 } else { 2 };
                until(|| shared.1.statistics().tasks_waiting == waiting).await;
            }
            // The first waiter is notified while the lock is held: it takes its notification
            // and waits for the lock, and is cancelled there.
            let guard = shared.0.lock().await;
            shared.1.notify(1);
            until(|| shared.1.statistics().tasks_waiting == 1).await;
            first.cancel();
            drop(guard);
            Ok(())
        }
    });
    // The steps above wait up to `LIMIT` each; the whole may take longer on a loaded machine.
    let ended = move_on_after(3 * LIMIT, group).await;
    assert!(ended.is_some(), "the second waiter was never woken");
    assert_eq!(
        *woken.lock().unwrap(),
        ["second"],
        "the notification went on to the second waiter"
    );
}

#[portico::test]
async fn limiter_waiters_are_served_in_arrival_order() {
    let limiter = CapacityLimiter::new(1);
    let held = limiter.acquire().await;
    let order = Arc::new(Mutex::new(Vec::new()));
    task_group(|tg| {
        let (limiter, order) = (limiter.clone(), order.clone());
        async move {
            for i in 0..3 {
                let (mine, order) = (limiter.clone(), order.clone());
                tg.start_soon(async move {
                    let _permit = mine.acquire().await;
                    order.lock().unwrap().push(i);
                    Ok::<(), std::io::Error>(())
                });
                until(|| limiter.statistics().tasks_waiting == i + 1).await;
            }
            drop(held);
            Ok(())
        }
    })
    .await
    .unwrap();
    assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
}
