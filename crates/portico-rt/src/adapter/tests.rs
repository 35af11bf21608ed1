//! Unit tests of the erased tasks, outputs and join handles, without a runtime.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::*;
use crate::Panic;

fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

fn finish(task: RawTask) -> Completed {
    let mut task = std::pin::pin!(task);
    match poll_once(task.as_mut()) {
        Poll::Ready(done) => done,
        Poll::Pending => panic!("the task is ready at its first poll"),
    }
}

struct CountDrops(Arc<AtomicUsize>);

impl Drop for CountDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("destructor panicked");
    }
}

/// A join handle over a task that has already finished (in a mutex only to be `Sync`).
struct Finished(Mutex<Option<Result<Completed, Panic>>>);

impl Future for Finished {
    type Output = Option<Result<Completed, Panic>>;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let slot = self.0.get_mut().unwrap_or_else(PoisonError::into_inner);
        Poll::Ready(slot.take())
    }
}

impl NativeJoin for Finished {
    fn detach(self: Box<Self>) {}
}

#[test]
fn small_and_large_futures_and_outputs_are_returned_whole() {
    let large = async {
        let buf = [7u64; 64];
        std::future::ready(()).await;
        buf
    };
    assert_eq!(finish(RawTask::new(async { 1u8 })).take::<u8>(), 1);
    assert_eq!(finish(RawTask::new(large)).take::<[u64; 64]>(), [7u64; 64]);
}

#[test]
fn a_panic_in_poll_unwinds_to_the_adapter_and_the_task_can_still_be_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let mut task = Box::pin(RawTask::new(async move {
        let _guard = guard;
        if true {
            panic!("boom");
        }
    }));
    let caught = panic::catch_unwind(AssertUnwindSafe(|| poll_once(task.as_mut())));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "unwinding dropped the future's locals"
    );
    drop(task);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn dropping_an_unfinished_task_drops_its_future_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let mut task = Box::pin(RawTask::new(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    }));
    assert!(poll_once(task.as_mut()).is_pending());
    drop(task);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_destructor_does_not_escape_a_cancelled_task() {
    let mut task = Box::pin(RawTask::new(async {
        let _p = PanicOnDrop;
        std::future::pending::<()>().await;
    }));
    assert!(poll_once(task.as_mut()).is_pending());
    drop(task);
}

#[test]
fn a_panicking_destructor_does_not_escape_an_unread_output() {
    drop(finish(RawTask::new(async { PanicOnDrop })));
}

#[test]
fn finished_task_drops_its_future_before_returning() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let done = finish(RawTask::new(async move {
        let _guard = guard;
        5
    }));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(done.take::<i32>(), 5);
}

#[test]
fn unread_output_is_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let done = finish(RawTask::new(async move { guard }));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(done);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
#[should_panic(expected = "output of a different task")]
fn output_of_another_type_is_refused() {
    let _ = finish(RawTask::new(async { 1u32 })).take::<u64>();
}

#[test]
fn a_join_handle_gives_the_value_of_its_task() {
    let done = finish(RawTask::new(async { String::from("out") }));
    let mut join = RawJoin::new(Finished(Mutex::new(Some(Ok(done)))));
    let mut cx = Context::from_waker(Waker::noop());
    let got = join.poll_output::<String>(&mut cx);
    assert!(matches!(got, Poll::Ready(Some(Ok(ref s))) if s == "out"));
}

#[test]
fn a_cancelled_join_handle_reports_a_cancellation() {
    let mut join = RawJoin::cancelled();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(join.poll_output::<u8>(&mut cx), Poll::Ready(None)));
}
