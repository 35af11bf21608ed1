//! Task trackers: counting, waiting, cancelling, shutting down and panics, on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::future;
use portico::RuntimeKind;
use portico::tasks::{Event, TaskTracker, current_effective_deadline, move_on_after};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{DropFlag, Flag, runtime, shuffled};

/// How long anything that should happen promptly may take on a loaded machine before the test
/// fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`LIMIT`].
async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    move_on_after(LIMIT, fut)
        .await
        .unwrap_or_else(|| panic!("{what}: not within {LIMIT:?}"))
}

/// An event shared between the test and its children.
fn event() -> Arc<Event> {
    Arc::new(Event::new())
}

#[portico::test]
async fn wait_with_no_children_returns_at_once() {
    let tracker = TaskTracker::new();
    assert!(tracker.is_empty());
    assert_eq!(future::poll_once(tracker.wait()).await, Some(()));

    // And again once the children have gone.
    tracker.start_soon(async {});
    within("the child", tracker.wait()).await;
    assert_eq!(future::poll_once(tracker.wait()).await, Some(()));
}

#[portico::test]
async fn wait_resolves_once_every_child_has_finished() {
    let tracker = TaskTracker::new();
    let release = event();
    let finished = Arc::new(AtomicUsize::new(0));
    for i in shuffled(8) {
        let release = release.clone();
        let finished = finished.clone();
        tracker.start_soon(async move {
            release.wait().await;
            // Each ends at its own time.
            runtime().sleep(Duration::from_millis(i as u64)).await;
            finished.fetch_add(1, Ordering::SeqCst);
        });
    }
    // Another task waits on a clone: every waiter is woken.
    let other_waiter = {
        let tracker = tracker.clone();
        runtime().spawn(async move { tracker.wait().await })
    };

    let mut waiting = pin!(tracker.wait());
    assert_eq!(
        future::poll_once(waiting.as_mut()).await,
        None,
        "children are running"
    );
    assert_eq!(tracker.len(), 8);
    release.set();
    within("the children", waiting).await;
    assert_eq!(finished.load(Ordering::SeqCst), 8, "wait returned early");
    assert!(tracker.is_empty());
    within("the other waiter", other_waiter).await.unwrap();
}

#[portico::test]
async fn children_started_while_waiting_extend_the_wait() {
    let tracker = TaskTracker::new();
    let (release_first, first_ended) = (event(), event());
    tracker.start_soon({
        let (release, ended) = (release_first.clone(), first_ended.clone());
        async move {
            release.wait().await;
            ended.set();
        }
    });
    let mut waiting = pin!(tracker.wait());
    assert_eq!(future::poll_once(waiting.as_mut()).await, None);

    let release_second = event();
    let second_finished = Flag::default();
    tracker.start_soon({
        let (release, finished) = (release_second.clone(), second_finished.clone());
        async move {
            release.wait().await;
            finished.set();
        }
    });
    release_first.set();
    within("the first child", first_ended.wait()).await;
    assert!(
        move_on_after(Duration::from_millis(100), waiting.as_mut())
            .await
            .is_none(),
        "the wait ended with the first child, while the second still ran"
    );
    assert_eq!(tracker.len(), 1);

    release_second.set();
    within("the second child", waiting).await;
    assert!(second_finished.get());
}

/// Records the tracker's count when dropped, from inside a child's future.
struct SeesLen {
    tracker: TaskTracker,
    seen: Arc<Mutex<Vec<usize>>>,
}

impl Drop for SeesLen {
    fn drop(&mut self) {
        self.seen.lock().unwrap().push(self.tracker.len());
    }
}

#[portico::test]
async fn len_counts_children_until_their_futures_are_dropped() {
    let tracker = TaskTracker::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let release = event();
    let (ended, both_ended) = (Arc::new(AtomicUsize::new(0)), event());
    for _ in 0..2 {
        let guard = SeesLen {
            tracker: tracker.clone(),
            seen: seen.clone(),
        };
        let (release, ended, both_ended) = (release.clone(), ended.clone(), both_ended.clone());
        tracker.start_soon(async move {
            release.wait().await;
            drop(guard);
            if ended.fetch_add(1, Ordering::SeqCst) == 1 {
                both_ended.set();
            }
        });
    }
    let stuck = SeesLen {
        tracker: tracker.clone(),
        seen: seen.clone(),
    };
    tracker.start_soon(async move {
        let _stuck = stuck;
        std::future::pending::<()>().await;
    });
    assert_eq!(tracker.len(), 3, "counted from the start, before any poll");

    release.set();
    within("two children", both_ended.wait()).await;
    // The second child has set the event but its future may not have returned yet: the
    // count drops once it has.
    within("the ended children leave the count", async {
        while tracker.len() > 1 {
            future::yield_now().await;
        }
    })
    .await;
    tracker.cancel();
    within("the cancelled child", tracker.wait()).await;
    assert!(tracker.is_empty());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[..2].iter().all(|&len| len >= 2),
        "the ending children counted themselves and the stuck one: {seen:?}"
    );
    assert_eq!(
        seen[2], 1,
        "the cancelled child counted while its future was dropped"
    );
}

#[portico::test]
async fn cancel_drops_running_children_and_refuses_new_ones() {
    let tracker = TaskTracker::new();
    let (entered, all_entered) = (Arc::new(AtomicUsize::new(0)), event());
    let reached_end = Arc::new(AtomicUsize::new(0));
    let mut flags = Vec::new();
    for _ in shuffled(5) {
        let (flag, guard) = DropFlag::new();
        flags.push(flag);
        let (entered, all_entered) = (entered.clone(), all_entered.clone());
        let reached_end = reached_end.clone();
        tracker.start_soon(async move {
            let _guard = guard;
            if entered.fetch_add(1, Ordering::SeqCst) == 4 {
                all_entered.set();
            }
            std::future::pending::<()>().await;
            reached_end.fetch_add(1, Ordering::SeqCst);
        });
    }
    within("every child running", all_entered.wait()).await;

    tracker.cancel();
    tracker.cancel();
    assert!(tracker.is_cancelled());
    within("the cancelled children", tracker.wait()).await;
    assert!(
        flags.iter().all(Flag::get),
        "every child's future was dropped"
    );
    assert_eq!(reached_end.load(Ordering::SeqCst), 0);

    let (late_dropped, late_guard) = DropFlag::new();
    let late_polled = Flag::default();
    tracker.start_soon({
        let late_polled = late_polled.clone();
        async move {
            let _guard = late_guard;
            late_polled.set();
        }
    });
    assert!(
        late_dropped.get(),
        "a child started after cancel is dropped at once"
    );
    assert!(!late_polled.get());
    assert!(tracker.is_empty());
}

#[portico::test(workers = 1)]
async fn a_child_cancelled_before_its_first_poll_is_never_polled() {
    let tracker = TaskTracker::new();
    // Hold the only worker, so that the next child waits in the runtime's queue.
    let (unblock, blocked) = std::sync::mpsc::channel::<()>();
    let holding = event();
    tracker.start_soon({
        let holding = holding.clone();
        async move {
            holding.set();
            let _ = blocked.recv();
        }
    });
    within("the worker held", holding.wait()).await;

    let (dropped, guard) = DropFlag::new();
    let polled = Flag::default();
    tracker.start_soon({
        let polled = polled.clone();
        async move {
            let _guard = guard;
            polled.set();
        }
    });
    assert_eq!(tracker.len(), 2);
    tracker.cancel();
    unblock.send(()).unwrap();
    within("the children", tracker.wait()).await;
    assert!(dropped.get());
    assert!(!polled.get(), "the queued child was dropped unpolled");
    assert_eq!(
        tracker.shutdown(Instant::now()).await,
        1,
        "the child holding the worker finished; only the queued one was cut short"
    );
}

#[portico::test]
async fn a_panicking_child_reaches_the_hook_and_leaves_the_rest_running() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let heard_one = event();
    let tracker = TaskTracker::new().on_panic({
        let (heard, heard_one) = (heard.clone(), heard_one.clone());
        move |panic| {
            heard
                .lock()
                .unwrap()
                .push(panic.message().map(str::to_owned));
            heard_one.set();
        }
    });
    let release = event();
    let survivor_finished = Flag::default();
    tracker.start_soon({
        let (release, finished) = (release.clone(), survivor_finished.clone());
        async move {
            release.wait().await;
            finished.set();
        }
    });
    tracker.start_soon(async { panic!("child exploded") });

    within("the hook", heard_one.wait()).await;
    assert_eq!(*heard.lock().unwrap(), [Some("child exploded".to_owned())]);
    assert_eq!(tracker.panicked(), 1);
    assert!(!tracker.is_cancelled(), "a panic cancels nothing");
    assert!(tracker.take_panic().is_none(), "the hook had it; none kept");

    release.set();
    within("the survivor", tracker.wait()).await;
    assert!(survivor_finished.get(), "the other child ran to its end");

    // The tracker still takes children.
    let later = Flag::default();
    tracker.start_soon({
        let later = later.clone();
        async move { later.set() }
    });
    within("a later child", tracker.wait()).await;
    assert!(later.get());
}

#[portico::test]
async fn a_panic_without_a_hook_is_counted_and_the_first_kept() {
    let tracker = TaskTracker::new();
    // One at a time, so that "first" is well defined.
    for message in ["first", "second"] {
        tracker.start_soon(async move { panic!("{message}") });
        within("the panicking child", tracker.wait()).await;
    }
    assert_eq!(tracker.panicked(), 2);
    let first = tracker.take_panic().expect("the first panic is kept");
    assert_eq!(first.message(), Some("first"));
    assert!(
        tracker.take_panic().is_none(),
        "the second came while the first was kept: counted only"
    );

    tracker.start_soon(async { panic!("third") });
    within("the panicking child", tracker.wait()).await;
    let third = tracker.take_panic().expect("once taken, the next is kept");
    assert_eq!(third.message(), Some("third"));
    assert_eq!(tracker.panicked(), 3);
}

#[portico::test]
async fn shutdown_cancels_what_outlives_the_deadline() {
    let tracker = TaskTracker::new();
    let (quick_ended, quick_all_ended) = (Arc::new(AtomicUsize::new(0)), event());
    let mut stuck_flags = Vec::new();
    for i in shuffled(4) {
        if i < 2 {
            let (ended, all_ended) = (quick_ended.clone(), quick_all_ended.clone());
            tracker.start_soon(async move {
                if ended.fetch_add(1, Ordering::SeqCst) == 1 {
                    all_ended.set();
                }
            });
        } else {
            let (flag, guard) = DropFlag::new();
            stuck_flags.push(flag);
            tracker.start_soon(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
    }
    within("the quick children", quick_all_ended.wait()).await;

    let deadline = Instant::now() + Duration::from_millis(100);
    let cancelled = within("the shutdown", tracker.shutdown(deadline)).await;
    assert!(
        Instant::now() >= deadline,
        "the children were given until the deadline"
    );
    assert_eq!(cancelled, 2, "the two stuck children, not the quick ones");
    assert!(stuck_flags.iter().all(Flag::get));
    assert!(tracker.is_empty());
    assert!(tracker.is_cancelled());
}

#[portico::test]
async fn shutdown_returns_zero_when_every_child_finishes_in_time() {
    let tracker = TaskTracker::new();
    let finished = Arc::new(AtomicUsize::new(0));
    for i in shuffled(3) {
        let finished = finished.clone();
        tracker.start_soon(async move {
            runtime().sleep(Duration::from_millis(i as u64 + 1)).await;
            finished.fetch_add(1, Ordering::SeqCst);
        });
    }
    // A deadline far beyond the test's limit: returning at all shows it did not wait for it.
    let deadline = Instant::now() + Duration::from_secs(3600);
    assert_eq!(within("the shutdown", tracker.shutdown(deadline)).await, 0);
    assert_eq!(finished.load(Ordering::SeqCst), 3);

    // Shut down means closed: later children are dropped unstarted.
    let (dropped, guard) = DropFlag::new();
    tracker.start_soon(async move {
        let _guard = guard;
    });
    assert!(dropped.get());
    assert!(tracker.is_empty());
}

#[portico::test]
async fn a_child_outlives_the_code_that_started_it() {
    let tracker = TaskTracker::new();
    let release = event();
    let finished = Flag::default();
    let deadline_inside = Arc::new(Mutex::new(None));
    let started_in_scope = move_on_after(Duration::from_millis(20), async {
        tracker.start_soon({
            let (release, finished) = (release.clone(), finished.clone());
            let deadline_inside = deadline_inside.clone();
            async move {
                *deadline_inside.lock().unwrap() = Some(current_effective_deadline());
                release.wait().await;
                finished.set();
            }
        });
        std::future::pending::<()>().await;
    })
    .await;
    assert!(started_in_scope.is_none(), "the starting code was dropped");
    assert_eq!(tracker.len(), 1, "the child runs on, tracked");

    release.set();
    within("the child", tracker.wait()).await;
    assert!(finished.get());
    assert_eq!(
        *deadline_inside.lock().unwrap(),
        Some(None),
        "no deadline of the starting code applies to the child"
    );
}

#[portico::test]
async fn dropping_every_handle_cancels_nothing() {
    let tracker = TaskTracker::new();
    let (release, finished) = (event(), event());
    tracker.start_soon({
        let (release, finished) = (release.clone(), finished.clone());
        async move {
            release.wait().await;
            finished.set();
        }
    });
    drop(tracker);
    release.set();
    within("the child of a dropped tracker", finished.wait()).await;
}

#[portico::test]
async fn clones_share_the_tracker() {
    let tracker = TaskTracker::new();
    let clone = tracker.clone();
    clone.start_soon(std::future::pending());
    assert_eq!(tracker.len(), 1);
    assert_eq!(
        format!("{tracker:?}"),
        "TaskTracker { len: 1, cancelled: false, panicked: 0 }"
    );
    tracker.cancel();
    assert!(clone.is_cancelled());
    within("the cancelled child", clone.wait()).await;
    assert_eq!(
        format!("{clone:?}"),
        "TaskTracker { len: 0, cancelled: true, panicked: 0 }"
    );
}

#[portico::test]
async fn wait_misses_no_wake_up_when_a_child_ends_as_it_starts_waiting() {
    // Two workers: the child often ends on one while the test starts waiting on the other.
    // A wake-up lost between looking and listening would hang a round until the limit.
    let tracker = TaskTracker::new();
    for _ in 0..500 {
        tracker.start_soon(async {});
        within("a round", tracker.wait()).await;
    }
    assert!(tracker.is_empty());
}

#[portico::test]
fn a_tracker_needs_no_runtime_until_a_child_starts(kind: RuntimeKind) {
    let tracker = TaskTracker::default();
    future::block_on(tracker.wait());

    let start = std::panic::AssertUnwindSafe(|| tracker.start_soon(async {}));
    let err = std::panic::catch_unwind(start).unwrap_err();
    let message = portico::rt::panic_message(err.as_ref()).unwrap();
    assert!(
        message.starts_with("TaskTracker::start_soon: "),
        "a clear message: {message}"
    );
    assert!(tracker.is_empty());

    // With a handle, a child starts from a thread no runtime owns.
    let runtime = portico::Builder::new().runtime(kind).build().unwrap();
    let ran_on = Arc::new(Mutex::new(None));
    tracker.start_soon_on(runtime.handle(), {
        let ran_on = ran_on.clone();
        async move {
            *ran_on.lock().unwrap() = Some(portico::rt::current().unwrap().name());
        }
    });
    future::block_on(tracker.wait());
    assert_eq!(*ran_on.lock().unwrap(), Some(kind.name()));
    runtime.shutdown_timeout(LIMIT);
}

#[portico::test]
fn the_runtime_shutting_down_drops_the_children_left(kind: RuntimeKind) {
    let tracker = TaskTracker::new();
    let runtime = portico::Builder::new().runtime(kind).build().unwrap();
    let (dropped, guard) = DropFlag::new();
    let running = event();
    tracker.start_soon_on(runtime.handle(), {
        let running = running.clone();
        async move {
            let _guard = guard;
            running.set();
            std::future::pending::<()>().await;
        }
    });
    future::block_on(running.wait());
    assert_eq!(tracker.len(), 1);

    runtime.shutdown_timeout(LIMIT);
    assert!(dropped.get(), "the runtime dropped the child");
    assert!(tracker.is_empty());
    assert!(
        !tracker.is_cancelled(),
        "the runtime's shutdown is not the tracker's cancellation"
    );
}
