//! Unit tests of the inline storage.

use std::any::TypeId;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

fn output<T: Send + 'static, const N: usize>(done: Completed<N>) -> T {
    let mut out: Option<T> = None;
    // SAFETY: `out` has the type that the `TypeId` names.
    unsafe { done.take_into((&raw mut out).cast(), TypeId::of::<T>()) };
    out.expect("take_into fills the slot")
}

struct CountDrops(Arc<AtomicUsize>);
impl Drop for CountDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn small_future_is_stored_inline_and_large_one_boxed() {
    let small = async { 1u8 };
    let large = async {
        let buf = [0u8; 512];
        std::future::ready(()).await;
        buf.len()
    };
    assert!(SmallTask::holds::<std::future::Ready<u8>>());
    assert!(!LargeTask::holds_future::<[u8; 512]>());
    let mut a = std::pin::pin!(SmallTask::new(small));
    let mut b = std::pin::pin!(SmallTask::new(large));
    let Poll::Ready(a) = poll_once(a.as_mut()) else {
        panic!("ready")
    };
    let Poll::Ready(b) = poll_once(b.as_mut()) else {
        panic!("ready")
    };
    assert_eq!(output::<u8, SMALL_OUT>(a), 1);
    assert_eq!(output::<usize, SMALL_OUT>(b), 512);
}

#[test]
fn large_output_is_boxed_and_returned_whole() {
    let mut task = std::pin::pin!(SmallTask::new(async { [7u64; 40] }));
    let Poll::Ready(done) = poll_once(task.as_mut()) else {
        panic!("ready")
    };
    assert_eq!(output::<[u64; 40], SMALL_OUT>(done), [7u64; 40]);
}

#[test]
fn a_panic_in_poll_unwinds_to_the_adapter_and_the_task_can_still_be_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let mut task = Box::pin(MediumTask::new(async move {
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
    for boxed in [false, true] {
        let guard = CountDrops(drops.clone());
        let pad = if boxed { vec![0u8; 1] } else { Vec::new() };
        let fut = async move {
            let _guard = guard;
            let _big = [pad.len(); 64];
            std::future::pending::<()>().await;
        };
        let mut task = Box::pin(SmallTask::new(fut));
        assert!(poll_once(task.as_mut()).is_pending());
        drop(task);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panicking_destructor_does_not_escape_a_cancelled_task() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("destructor panicked");
        }
    }
    let mut task = Box::pin(SmallTask::new(async {
        let _p = PanicOnDrop;
        std::future::pending::<()>().await;
    }));
    assert!(poll_once(task.as_mut()).is_pending());
    drop(task);
}

#[test]
fn finished_task_drops_its_future_before_returning() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let mut task = std::pin::pin!(LargeTask::new(async move {
        let _guard = guard;
        5
    }));
    let Poll::Ready(done) = poll_once(task.as_mut()) else {
        panic!("ready")
    };
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(output::<i32, LARGE_OUT>(done), 5);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn unread_output_is_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountDrops(drops.clone());
    let mut task = std::pin::pin!(SmallTask::new(async move { guard }));
    let Poll::Ready(done) = poll_once(task.as_mut()) else {
        panic!("ready")
    };
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(done);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
#[should_panic(expected = "output of a different task")]
fn output_of_another_type_is_refused() {
    let mut task = std::pin::pin!(SmallTask::new(async { 1u32 }));
    let Poll::Ready(done) = poll_once(task.as_mut()) else {
        panic!("ready")
    };
    let _ = output::<u64, SMALL_OUT>(done);
}
