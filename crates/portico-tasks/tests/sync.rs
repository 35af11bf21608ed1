//! Synchronization primitives, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::Arc;
use std::time::Duration;

use portico::tasks::{
    Borrower, CapacityLimiter, Condition, Event, Lock, LockStatistics, Semaphore, move_on_after,
    task_group,
};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::runtime;

#[portico::test]
async fn an_event_wakes_every_waiter_and_stays_set() {
    let event = Arc::new(Event::new());
    let woken = task_group(|tg| {
        let event = event.clone();
        async move {
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let event = event.clone();
                    tg.soon(async move {
                        event.wait().await;
                        Ok::<_, std::io::Error>(())
                    })
                })
                .collect();
            runtime().sleep(Duration::from_millis(5)).await;
            assert!(!event.is_set());
            event.set();
            Ok(waiters)
        }
    })
    .await
    .unwrap();
    assert!(woken.iter().all(|w| w.is_ready()));
    // Set once, set for good: waiting again returns at once.
    assert_eq!(
        move_on_after(Duration::from_secs(1), event.wait()).await,
        Some(())
    );
}

#[portico::test]
async fn a_lock_serialises_its_holders() {
    let lock = Arc::new(Lock::new(Vec::new()));
    task_group(|tg| {
        let lock = lock.clone();
        async move {
            for i in 0..10 {
                let lock = lock.clone();
                tg.start_soon(async move {
                    let mut items = lock.lock().await;
                    let len = items.len();
                    runtime().sleep(Duration::from_millis(1)).await;
                    // Nobody else got in while we held it.
                    assert_eq!(items.len(), len);
                    items.push(i);
                    Ok::<_, std::io::Error>(())
                });
            }
            Ok(())
        }
    })
    .await
    .unwrap();
    assert_eq!(lock.lock().await.len(), 10);
}

#[portico::test]
async fn a_semaphore_hands_out_its_permits() {
    let semaphore = Semaphore::new(2);
    let a = semaphore.acquire().await;
    let b = semaphore.acquire().await;
    assert!(semaphore.try_acquire().is_none());
    drop(a);
    assert!(semaphore.try_acquire().is_some());
    drop(b);
}

#[portico::test]
async fn a_condition_wakes_a_waiter_holding_the_lock() {
    let shared = Arc::new((Lock::new(0u32), Condition::new()));
    let producer = runtime().spawn({
        let shared = shared.clone();
        async move {
            runtime().sleep(Duration::from_millis(5)).await;
            *shared.0.lock().await = 42;
            shared.1.notify_all();
        }
    });
    let (lock, condition) = &*shared;
    let mut value = lock.lock().await;
    while *value == 0 {
        value = condition.wait(value).await;
    }
    assert_eq!(*value, 42);
    drop(value);
    producer.await.unwrap();
}

#[portico::test]
async fn a_limiter_lends_one_token_per_borrower() {
    let limiter = CapacityLimiter::new(2);
    let first = limiter.acquire_on_behalf_of(7u64).await.unwrap();
    let err = limiter.acquire_on_behalf_of(7u64).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("already holds one of this limiter's tokens")
    );
    let other = limiter.acquire().await;
    assert!(limiter.try_acquire().is_err());
    let stats = limiter.statistics();
    assert_eq!(
        (
            stats.total_tokens,
            stats.borrowed_tokens,
            stats.tasks_waiting
        ),
        (2, 2, 0)
    );
    assert!(stats.borrowers.contains(&Borrower::from(7u64)));
    drop((first, other));
    assert_eq!(limiter.available_tokens(), 2);
}

#[portico::test]
async fn raising_the_total_lets_waiters_in() {
    let limiter = CapacityLimiter::new(1);
    let held = limiter.acquire().await;
    let waiter = runtime().spawn({
        let limiter = limiter.clone();
        async move {
            let _permit = limiter.acquire().await;
        }
    });
    while limiter.statistics().tasks_waiting == 0 {
        runtime().sleep(Duration::from_millis(1)).await;
    }
    limiter.set_total_tokens(2);
    move_on_after(Duration::from_secs(5), waiter)
        .await
        .expect("let in")
        .unwrap();
    drop(held);
    // Lowering takes effect as tokens come back.
    limiter.set_total_tokens(1);
    let only = limiter.try_acquire().unwrap();
    assert!(limiter.try_acquire().is_err());
    drop(only);
}

#[portico::test]
async fn two_single_notifications_wake_two_waiters() {
    // Regression: `notify(1)` twice in a row often woke one waiter, not two.
    let shared = Arc::new((Lock::new((0u32, 0u32)), Condition::new()));
    let woken = task_group(|tg| {
        let shared = shared.clone();
        async move {
            for _ in 0..2 {
                let shared = shared.clone();
                tg.start_soon(async move {
                    let (lock, condition) = &*shared;
                    let mut state = lock.lock().await;
                    state.0 += 1;
                    let mut state = condition.wait(state).await;
                    state.1 += 1;
                    Ok::<_, ()>(())
                });
            }
            // Both waiters counted themselves under the lock and are in `wait`, which listens
            // before it releases the lock.
            loop {
                let state = shared.0.lock().await;
                if state.0 == 2 {
                    shared.1.notify(1);
                    shared.1.notify(1);
                    break;
                }
                drop(state);
                runtime().sleep(Duration::from_millis(2)).await;
            }
            Ok(())
        }
    });
    let done = runtime().timeout(Duration::from_secs(10), woken).await;
    assert!(matches!(done, Ok(Ok(()))), "both waiters woke");
    assert_eq!(shared.0.lock().await.1, 2);
}

#[portico::test]
async fn each_token_given_back_lets_one_more_waiter_in() {
    let limiter = CapacityLimiter::new(2);
    let a = limiter.acquire().await;
    let b = limiter.acquire().await;
    let holding = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let release = Arc::new(Event::new());
    let admitted = task_group(|tg| {
        let (limiter, holding, release) = (limiter.clone(), holding.clone(), release.clone());
        async move {
            for _ in 0..2 {
                let (limiter, holding, release) =
                    (limiter.clone(), holding.clone(), release.clone());
                tg.start_soon(async move {
                    // Each waiter keeps its token until both are in.
                    let _token = limiter.acquire().await;
                    holding.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    release.wait().await;
                    Ok::<_, ()>(())
                });
            }
            while limiter.statistics().tasks_waiting < 2 {
                runtime().sleep(Duration::from_millis(2)).await;
            }
            // Two tokens given back in a row, before either waiter runs again.
            drop(a);
            drop(b);
            while holding.load(std::sync::atomic::Ordering::SeqCst) < 2 {
                runtime().sleep(Duration::from_millis(2)).await;
            }
            release.set();
            Ok(())
        }
    });
    let done = runtime().timeout(Duration::from_secs(10), admitted).await;
    assert!(matches!(done, Ok(Ok(()))), "both waiters got a token");
}

#[portico::test]
async fn an_event_and_a_condition_count_their_waiters() {
    let ready = Arc::new(Event::new());
    let shared = Arc::new((Lock::new(false), Condition::new()));
    task_group(|tg| {
        let (ready, shared) = (ready.clone(), shared.clone());
        async move {
            for _ in 0..2 {
                let ready = ready.clone();
                tg.start_soon(async move {
                    ready.wait().await;
                    Ok::<_, ()>(())
                });
            }
            let waiter = shared.clone();
            tg.start_soon(async move {
                let (lock, condition) = &*waiter;
                let mut done = lock.lock().await;
                while !*done {
                    done = condition.wait(done).await;
                }
                Ok(())
            });
            while ready.statistics().tasks_waiting < 2 || shared.1.statistics().tasks_waiting < 1 {
                runtime().sleep(Duration::from_millis(2)).await;
            }
            assert_eq!(ready.statistics().tasks_waiting, 2);
            assert_eq!(shared.1.statistics().tasks_waiting, 1);
            ready.set();
            *shared.0.lock().await = true;
            shared.1.notify_all();
            Ok(())
        }
    })
    .await
    .unwrap();
    assert_eq!(ready.statistics().tasks_waiting, 0, "every waiter went");
    assert_eq!(shared.1.statistics().tasks_waiting, 0);
}

#[portico::test]
async fn a_task_cannot_borrow_two_tokens_of_a_limiter() {
    // AnyIO: "this borrower is already holding one of this CapacityLimiter's tokens".
    let limiter = CapacityLimiter::new(3);
    let held = limiter.acquire_for_task().await.unwrap();
    let err = limiter.acquire_for_task().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("already holds one of this limiter's tokens"),
        "{err}"
    );
    assert_eq!(limiter.statistics().borrowers.len(), 1);
    // Another task borrows on its own behalf.
    let other = runtime()
        .spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire_for_task().await.is_ok() }
        })
        .await
        .unwrap();
    assert!(other, "a second task gets a token of its own");
    drop(held);
    let again = limiter.acquire_for_task().await;
    assert!(again.is_ok(), "a token given back can be borrowed again");
}

/// Waits, a wake-up at a time, until `done` holds: no time limit but the test's own.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        runtime().sleep(Duration::from_millis(1)).await;
    }
}

#[portico::test]
async fn a_lock_reports_whether_it_is_held_and_who_waits_for_it() {
    let lock = Arc::new(Lock::new(0u32));
    let idle = lock.statistics();
    assert!(!idle.locked);
    assert_eq!(idle.tasks_waiting, 0);
    let guard = lock.lock().await;
    assert!(lock.statistics().locked);
    task_group(|tg| {
        let lock = lock.clone();
        async move {
            for _ in 0..2 {
                let lock = lock.clone();
                tg.start_soon(async move {
                    *lock.lock().await += 1;
                    Ok::<_, std::io::Error>(())
                });
            }
            until(|| lock.statistics().tasks_waiting == 2).await;
            assert!(lock.statistics().locked);
            drop(guard);
            Ok(())
        }
    })
    .await
    .unwrap();
    let after: LockStatistics = lock.statistics();
    assert!(!after.locked, "every guard was dropped");
    assert_eq!(after.tasks_waiting, 0);
    assert_eq!(*lock.lock().await, 2);
}

#[portico::test]
async fn a_cancelled_lock_waiter_is_no_longer_counted() {
    let lock = Lock::new(());
    let _guard = lock.lock().await;
    let waited = move_on_after(Duration::from_millis(5), async {
        lock.lock().await;
    })
    .await;
    assert!(waited.is_none(), "the lock is held");
    assert_eq!(lock.statistics().tasks_waiting, 0);
    assert!(lock.statistics().locked);
}

#[portico::test]
async fn a_semaphore_reports_its_waiters_and_free_permits() {
    let semaphore = Arc::new(Semaphore::new(1));
    assert_eq!(semaphore.statistics().available_permits, 1);
    let permit = semaphore.acquire_arc().await;
    assert_eq!(semaphore.statistics().available_permits, 0);
    task_group(|tg| {
        let semaphore = semaphore.clone();
        async move {
            let waiter = semaphore.clone();
            tg.start_soon(async move {
                let _permit = waiter.acquire().await;
                Ok::<_, std::io::Error>(())
            });
            until(|| semaphore.statistics().tasks_waiting == 1).await;
            drop(permit);
            Ok(())
        }
    })
    .await
    .unwrap();
    let after = semaphore.statistics();
    assert_eq!(after.tasks_waiting, 0);
    assert_eq!(after.available_permits, 1, "both permits came back");
}

#[portico::test]
async fn an_arc_permit_comes_back_when_dropped_and_not_when_forgotten() {
    let semaphore = Arc::new(Semaphore::new(2));
    let kept = semaphore.try_acquire_arc().unwrap();
    let forgotten = semaphore.acquire_arc().await;
    assert!(semaphore.try_acquire_arc().is_none());
    drop(kept);
    assert_eq!(semaphore.available_permits(), 1);
    forgotten.forget();
    assert_eq!(
        semaphore.available_permits(),
        1,
        "a forgotten permit stays taken"
    );
}
