//! The blocking portal, driven from plain synchronous `#[test]` functions, once per runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::time::Duration;

use portico::RuntimeKind;
use portico::tasks::{BlockingPortal, PortalError, TaskStatus};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{DropFlag, Flag};

/// Runs a synchronous test body once per compiled-in runtime, as `name::tokio`, `name::smol`.
macro_rules! on_each_runtime {
    ($(fn $name:ident($portal:ident: BlockingPortal) $body:block)*) => {$(
        mod $name {
            use super::*;

            fn body($portal: BlockingPortal) $body

            fn portal(kind: RuntimeKind) -> BlockingPortal {
                portico::Builder::new().runtime(kind).worker_threads(2).start_blocking_portal().unwrap()
            }

            /// Runs the body on a thread of its own and fails the test if it takes more than
            /// a minute: a portal that never stops must fail the test, not hang it.
            fn within_a_minute(kind: RuntimeKind) {
                let (done_tx, done_rx) = std::sync::mpsc::channel();
                let runner = std::thread::spawn(move || {
                    body(portal(kind));
                    let _ = done_tx.send(());
                });
                match done_rx.recv_timeout(Duration::from_secs(60)) {
                    Ok(()) => runner.join().unwrap(),
                    // The body panicked: re-raise its panic here.
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        std::panic::resume_unwind(runner.join().unwrap_err())
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        panic!("{} on {kind} did not finish within a minute", stringify!($name))
                    }
                }
            }

            #[test]
            fn tokio() {
                within_a_minute(RuntimeKind::Tokio);
            }

            #[test]
            fn smol() {
                within_a_minute(RuntimeKind::Smol);
            }
        }
    )*};
}

on_each_runtime! {
    fn calls_async_code_from_a_plain_test(portal: BlockingPortal) {
        let rt = portal.runtime().clone();
        let value = portal
            .call(async move {
                rt.sleep(Duration::from_millis(2)).await;
                portico::rt::current().unwrap().name()
            })
            .unwrap();
        assert_eq!(value, portal.runtime().name());
        portal.stop(false);
    }

    fn stop_waits_for_running_tasks(portal: BlockingPortal) {
        let finished = Flag::default();
        let rt = portal.runtime().clone();
        let task = portal.start_task_soon({
            let finished = finished.clone();
            async move {
                rt.sleep(Duration::from_millis(30)).await;
                finished.set();
                "done"
            }
        });
        portal.stop(false);
        assert!(finished.get(), "stop(false) waited for the task");
        assert_eq!(task.join().unwrap(), "done");
    }

    fn stop_can_cancel_remaining_tasks(portal: BlockingPortal) {
        let task = portal.start_task_soon(std::future::pending::<()>());
        portal.stop(true);
        assert_eq!(task.join(), Err(PortalError::Cancelled));
    }

    fn a_task_cancelled_before_it_ever_ran_reports_it(portal: BlockingPortal) {
        // Regression: a task dropped before its first poll once left its joiner waiting.
        let tasks: Vec<_> = (0..50).map(|_| portal.start_task_soon(std::future::pending::<()>())).collect();
        portal.stop(true);
        for task in tasks {
            assert_eq!(task.join(), Err(PortalError::Cancelled));
        }
    }

    fn a_task_can_be_cancelled_alone(portal: BlockingPortal) {
        let stuck = portal.start_task_soon(std::future::pending::<()>());
        let fine = portal.start_task_soon(async { 5 });
        stuck.cancel();
        assert_eq!(stuck.join(), Err(PortalError::Cancelled));
        assert_eq!(fine.join(), Ok(5));
        assert_eq!(portal.call(async { 6 }), Ok(6), "the portal lives on");
    }

    fn a_panicking_task_is_re_raised_where_joined_and_spares_the_others(portal: BlockingPortal) {
        let other = portal.start_task_soon(async { 1 });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            portal.call(async { panic!("task exploded") })
        }));
        assert!(caught.is_err());
        assert_eq!(other.join(), Ok(1));
        assert_eq!(portal.call(async { 2 }), Ok(2));
    }

    fn start_task_hands_back_the_ready_value(portal: BlockingPortal) {
        let port = portal
            .start_task(|status: TaskStatus<u16>| async move {
                status.started(8080);
                std::future::pending::<()>().await;
            })
            .unwrap();
        assert_eq!(port, 8080);
        let err = portal.start_task(|_status: TaskStatus<u16>| async {}).unwrap_err();
        assert_eq!(err, PortalError::NotStarted);
        portal.stop(true);
    }

    fn a_call_from_one_of_its_own_tasks_is_refused(portal: BlockingPortal) {
        // Regression: on tokio this deadlocked instead of being refused.
        let portal = std::sync::Arc::new(portal);
        let inner = portal.clone();
        let message = portal
            .call(async move {
                let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inner.call(async { 1 })
                }));
                drop(inner);
                refused.err().and_then(|p| p.downcast_ref::<String>().cloned())
            })
            .unwrap();
        assert!(
            message.is_some_and(|m| m.contains("called from async code")),
            "refused with a panic that says why"
        );
        std::sync::Arc::into_inner(portal).unwrap().stop(false);
    }

    fn dropping_a_task_handle_cancels_the_task(portal: BlockingPortal) {
        let (dropped, flag) = DropFlag::new();
        let task = portal.start_task_soon(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        drop(task);
        let rt = portal.runtime().clone();
        // The cancellation reaches the task on the runtime's threads.
        let gone = portal
            .call(async move {
                for _ in 0..2000 {
                    if dropped.get() {
                        return true;
                    }
                    rt.sleep(Duration::from_millis(5)).await;
                }
                false
            })
            .unwrap();
        assert!(gone, "the task's future was dropped with its handle");
        // A detached task runs on to its end.
        let finished = Flag::default();
        let rt = portal.runtime().clone();
        portal
            .start_task_soon({
                let finished = finished.clone();
                async move {
                    rt.sleep(Duration::from_millis(20)).await;
                    finished.set();
                }
            })
            .detach();
        portal.stop(false);
        assert!(finished.get(), "stop waited for the detached task");
    }

    fn a_panic_after_start_task_reported_is_raised_by_stop(portal: BlockingPortal) {
        let rt = portal.runtime().clone();
        let ready = portal
            .start_task(|status: TaskStatus<&'static str>| async move {
                status.started("up");
                rt.sleep(Duration::from_millis(5)).await;
                panic!("failed after start");
            })
            .unwrap();
        assert_eq!(ready, "up");
        let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| portal.stop(false)));
        let payload = raised.expect_err("stop re-raised the task's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"failed after start"));
    }

    fn a_panic_before_start_task_reported_reaches_the_caller(portal: BlockingPortal) {
        let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            portal.start_task(|_status: TaskStatus<u16>| async { panic!("bind failed") })
        }));
        let payload = raised.expect_err("start_task re-raised the panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"bind failed"));
        assert_eq!(portal.call(async { 1 }), Ok(1), "the portal lives on");
        portal.stop(false);
    }

    fn a_portal_dropped_while_unwinding_cancels_its_tasks(portal: BlockingPortal) {
        // AnyIO's portal leaves its `with` block on an exception with `stop(cancel_remaining=True)`.
        let task = portal.start_task_soon(std::future::pending::<()>());
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _portal = portal;
            panic!("the code using the portal failed");
        }));
        assert!(unwound.is_err());
        assert_eq!(task.join(), Err(PortalError::Cancelled));
    }

    fn a_stopped_portal_refuses_new_tasks(portal: BlockingPortal) {
        // A second portal onto the same runtime, stopped on its own.
        let second = BlockingPortal::new(portal.runtime().clone());
        let late = second.start_task_soon(async { 1 });
        assert_eq!(late.join(), Ok(1));
        second.stop(false);
        assert_eq!(portal.call(async { 3 }), Ok(3), "stopping one portal leaves the runtime alone");
        portal.stop(false);
    }
}
