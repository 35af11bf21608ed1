//! No child outlives its group and no work outlives its scope, whatever cancels it: a scope or
//! group returns only once the drops and cleanups of everything started inside it are done.
//! On every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures_lite::future;
use portico::tasks::{CancelScope, Event, TaskTracker, move_on_after, scope, shield, task_group};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{Flag, runtime};

/// Long enough that a scope returning without waiting is caught.
const CLEANUP: Duration = Duration::from_millis(40);

/// A guard whose drop takes a while, blocking the thread that drops it (a child's task, on a
/// worker thread), and then sets its flag.
struct SlowDrop(Flag);

impl SlowDrop {
    fn new() -> (Flag, SlowDrop) {
        let flag = Flag::default();
        (flag.clone(), SlowDrop(flag))
    }
}

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(CLEANUP);
        self.0.set();
    }
}

fn event() -> Arc<Event> {
    Arc::new(Event::new())
}

/// A child that holds `guard` and never ends by itself.
async fn holding(guard: SlowDrop) -> Result<(), std::io::Error> {
    let _guard = guard;
    std::future::pending().await
}

/// A child that is in its shielded cleanup when cancelled: `entered` is set inside the shield,
/// `cleaned` at its end.
async fn cleaning_up(entered: Arc<Event>, cleaned: Flag) -> Result<(), std::io::Error> {
    shield(async move {
        entered.set();
        runtime().sleep(CLEANUP).await;
        cleaned.set();
    })
    .await;
    std::future::pending().await
}

#[portico::test]
async fn an_expiring_scope_waits_for_the_slow_drop_of_a_groups_child() {
    let (dropped, guard) = SlowDrop::new();
    let outcome = move_on_after(
        Duration::from_millis(5),
        task_group(|tg| async move {
            tg.start_soon(holding(guard));
            std::future::pending::<Result<(), std::io::Error>>().await
        }),
    )
    .await;
    assert!(outcome.is_none(), "the scope expired");
    assert!(
        dropped.get(),
        "the child's drop ended before the scope returned"
    );
}

#[portico::test]
async fn a_cancelled_scope_waits_for_the_shielded_cleanup_of_a_groups_child() {
    let (entered, cleaned) = (event(), Flag::default());
    let scope = CancelScope::new();
    let outcome = scope
        .run(task_group({
            let (entered, cleaned, scope) = (entered.clone(), cleaned.clone(), scope.clone());
            |tg| async move {
                tg.start_soon(cleaning_up(entered.clone(), cleaned));
                entered.wait().await;
                scope.cancel();
                std::future::pending::<Result<(), std::io::Error>>().await
            }
        }))
        .await;
    assert!(outcome.is_none(), "the scope was cancelled");
    assert!(scope.cancelled_caught());
    assert!(
        cleaned.get(),
        "the child's cleanup ended before the scope returned"
    );
}

#[portico::test]
async fn a_scope_cancelled_around_a_failing_group_waits_and_keeps_the_failure() {
    // The group is already cancelling its children (one failed) when the scope around it is
    // cancelled too: the scope waits for the sibling's cleanup, and the failure is not lost.
    let (entered, cleaned) = (event(), Flag::default());
    let scope = CancelScope::new();
    let outcome = scope
        .run(task_group({
            let (entered, cleaned, scope) = (entered.clone(), cleaned.clone(), scope.clone());
            |tg| async move {
                tg.start_soon(cleaning_up(entered.clone(), cleaned));
                entered.wait().await;
                tg.start_soon(async move {
                    scope.cancel();
                    Err(std::io::Error::other("the disk is full"))
                });
                std::future::pending::<Result<(), std::io::Error>>().await
            }
        }))
        .await;
    assert!(
        cleaned.get(),
        "the sibling's cleanup ended before the scope returned"
    );
    let err = outcome
        .expect("a failure passes through the cancelled scope")
        .unwrap_err();
    assert_eq!(err.failures().len(), 1);
    assert_eq!(err.to_string(), "task group failed: the disk is full");
}

#[portico::test]
async fn a_failing_group_waits_for_the_children_of_a_childs_own_group() {
    let (dropped, guard) = SlowDrop::new();
    let holding_started = event();
    let result = task_group({
        let holding_started = holding_started.clone();
        |tg| async move {
            let started = holding_started.clone();
            tg.start_soon(async move {
                let _ = task_group(|inner| async move {
                    inner.start_soon(async move {
                        started.set();
                        holding(guard).await
                    });
                    std::future::pending::<Result<(), std::io::Error>>().await
                })
                .await;
                Ok(())
            });
            holding_started.wait().await;
            Err::<(), _>(std::io::Error::other("the body gave up"))
        }
    })
    .await;
    assert!(result.is_err());
    assert!(
        dropped.get(),
        "the grandchild's drop ended before the group returned"
    );
}

#[portico::test]
async fn a_tracker_shutdown_waits_for_the_children_of_a_childs_group() {
    let (dropped, guard) = SlowDrop::new();
    let holding_started = event();
    let tracker = TaskTracker::new();
    tracker.start_soon({
        let holding_started = holding_started.clone();
        async move {
            let _ = task_group(|tg| async move {
                tg.start_soon(async move {
                    holding_started.set();
                    holding(guard).await
                });
                std::future::pending::<Result<(), std::io::Error>>().await
            })
            .await;
        }
    });
    holding_started.wait().await;
    assert_eq!(tracker.shutdown(Instant::now()).await, 1);
    assert!(
        dropped.get(),
        "the grandchild's drop ended before the shutdown returned"
    );
}

#[portico::test]
async fn a_group_dropped_from_outside_hands_its_children_to_the_scope_around() {
    // `or` drops the group once the other side is ready: a drop from outside, which cannot
    // wait. The scope around it, which can, waits for the group's child before it returns.
    let (dropped, guard) = SlowDrop::new();
    let holding_started = event();
    let outcome = move_on_after(Duration::from_secs(10), {
        let (started, holding_started) = (holding_started.clone(), holding_started.clone());
        future::or(
            async move {
                let _ = task_group(|tg| async move {
                    tg.start_soon(async move {
                        started.set();
                        holding(guard).await
                    });
                    std::future::pending::<Result<(), std::io::Error>>().await
                })
                .await;
                "the group"
            },
            async move {
                holding_started.wait().await;
                "the other side"
            },
        )
    })
    .await;
    assert_eq!(outcome, Some("the other side"));
    assert!(
        dropped.get(),
        "the child's drop ended before the scope returned"
    );
}

#[portico::test(timeout = 10)]
async fn a_scope_reaches_a_group_that_only_its_own_wakeups_poll() {
    // Between the scope and the group sits a combinator that polls its future only when that
    // future's own waker fired (as `FuturesUnordered` does): the cancellation still reaches
    // the group, and the scope still waits for its child.
    let (dropped, guard) = SlowDrop::new();
    let scope = CancelScope::new();
    let outcome = scope
        .run(PolledWhenWoken::new(task_group({
            let scope = scope.clone();
            |tg| async move {
                tg.start_soon(async move {
                    scope.cancel();
                    holding(guard).await
                });
                std::future::pending::<Result<(), std::io::Error>>().await
            }
        })))
        .await;
    assert!(outcome.is_none(), "the scope was cancelled");
    assert!(
        dropped.get(),
        "the child's drop ended before the scope returned"
    );
}

#[portico::test]
async fn a_failing_scope_waits_for_a_childs_shielded_cleanup() {
    let (entered, cleaned) = (event(), Flag::default());
    let result = scope(|s| {
        let (entered, cleaned) = (entered.clone(), cleaned.clone());
        async move {
            s.spawn(cleaning_up(entered.clone(), cleaned));
            s.spawn(async move {
                entered.wait().await;
                Err(std::io::Error::other("a sibling failed"))
            });
            Ok(())
        }
    })
    .await;
    assert!(result.is_err());
    assert!(
        cleaned.get(),
        "the child's cleanup ended before the scope returned"
    );
}

#[portico::test]
async fn a_failing_scope_waits_for_the_children_of_a_childs_group() {
    let (dropped, guard) = SlowDrop::new();
    let holding_started = event();
    let result = scope(|s| {
        let holding_started = holding_started.clone();
        async move {
            let started = holding_started.clone();
            s.spawn(async move {
                let _ = task_group(|tg| async move {
                    tg.start_soon(async move {
                        started.set();
                        holding(guard).await
                    });
                    std::future::pending::<Result<(), std::io::Error>>().await
                })
                .await;
                Ok(())
            });
            holding_started.wait().await;
            Err::<(), _>(std::io::Error::other("the body gave up"))
        }
    })
    .await;
    assert!(result.is_err());
    assert!(
        dropped.get(),
        "the grandchild's drop ended before the scope returned"
    );
}

/// Polls its future only after that future's own waker fired.
struct PolledWhenWoken<F> {
    fut: Pin<Box<F>>,
    wake: Arc<WakeFlag>,
}

struct WakeFlag {
    woken: AtomicBool,
    outer: Mutex<Option<Waker>>,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(outer) = self.outer.lock().unwrap().take() {
            outer.wake();
        }
    }
}

impl<F> PolledWhenWoken<F> {
    fn new(fut: F) -> Self {
        PolledWhenWoken {
            fut: Box::pin(fut),
            wake: Arc::new(WakeFlag {
                woken: AtomicBool::new(true),
                outer: Mutex::new(None),
            }),
        }
    }
}

impl<F: Future> Future for PolledWhenWoken<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        *self.wake.outer.lock().unwrap() = Some(cx.waker().clone());
        if !self.wake.woken.swap(false, Ordering::SeqCst) {
            return Poll::Pending;
        }
        let waker = Waker::from(self.wake.clone());
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }
}
