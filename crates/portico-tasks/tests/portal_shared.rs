//! Portals made in async code, and one portal shared by many threads; on every runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use portico::RuntimeKind;
use portico::tasks::{BlockingPortal, BlockingPortalProvider, PortalError, to_thread};

#[path = "../../../tests/support/mod.rs"]
mod support;
use support::{Flag, runtime};

/// A provider whose portals each run a runtime of `kind`, counting how many it started.
fn provider(kind: RuntimeKind) -> (BlockingPortalProvider, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    let provider = BlockingPortalProvider::new({
        let started = started.clone();
        move || {
            started.fetch_add(1, Ordering::SeqCst);
            portico::Builder::new()
                .runtime(kind)
                .worker_threads(2)
                .start_blocking_portal()
                .unwrap()
        }
    });
    (provider, started)
}

fn the_first_thread_starts_the_shared_portal_and_the_last_stops_it(kind: RuntimeKind) {
    let (provider, started) = provider(kind);
    // Both threads hold a lease at once: they share one portal.
    let both_in = Barrier::new(2);
    std::thread::scope(|threads| {
        for n in 0..2u32 {
            let (provider, both_in) = (&provider, &both_in);
            threads.spawn(move || {
                let portal = provider.portal();
                both_in.wait();
                assert_eq!(portal.call(async move { n + 1 }).unwrap(), n + 1);
                both_in.wait();
            });
        }
    });
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "one portal for both threads"
    );
    assert!(!provider.is_running(), "the last lease stopped it");
    let again = provider.portal();
    assert_eq!(again.call(async { 7 }).unwrap(), 7);
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "a new portal for the next thread"
    );
}

fn the_last_lease_waits_for_the_portals_tasks(kind: RuntimeKind) {
    let (provider, _) = provider(kind);
    let finished = Flag::default();
    let portal = provider.portal();
    let rt = portal.runtime().clone();
    portal
        .start_task_soon({
            let finished = finished.clone();
            async move {
                rt.sleep(Duration::from_millis(5)).await;
                finished.set();
            }
        })
        .detach();
    drop(portal);
    assert!(
        finished.get(),
        "the portal stopped only once its task had finished"
    );
}

/// Runs `body` on a thread of its own and fails if it takes more than a minute: a portal that
/// never stops must fail the test, not hang it.
fn within_a_minute(body: fn(RuntimeKind), kind: RuntimeKind) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        body(kind);
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => runner.join().unwrap(),
        // The body panicked: re-raise its panic here.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(runner.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test on {kind} did not finish within a minute")
        }
    }
}

/// Runs a synchronous test once per runtime, as `name::tokio` and `name::smol`.
macro_rules! on_each_runtime {
    ($($name:ident)*) => {$(
        mod $name {
            #[test]
            fn tokio() {
                super::within_a_minute(super::$name, portico::RuntimeKind::Tokio);
            }

            #[test]
            fn smol() {
                super::within_a_minute(super::$name, portico::RuntimeKind::Smol);
            }
        }
    )*};
}

on_each_runtime! {
    the_first_thread_starts_the_shared_portal_and_the_last_stops_it
    the_last_lease_waits_for_the_portals_tasks
}

#[portico::test]
async fn a_portal_opened_in_async_code_serves_threads() {
    let name = BlockingPortal::open(|portal| async move {
        to_thread(move || {
            portal
                .call(async { portico::rt::current().unwrap().name() })
                .unwrap()
        })
        .await
    })
    .await;
    assert_eq!(name, runtime().name());
}

#[portico::test]
async fn an_async_portal_waits_for_its_tasks_then_refuses_new_ones() {
    let finished = Flag::default();
    let portal = BlockingPortal::open(|portal| {
        let finished = finished.clone();
        async move {
            let started = portal.clone();
            to_thread(move || {
                started
                    .start_task_soon(async move {
                        runtime().sleep(Duration::from_millis(5)).await;
                        finished.set();
                    })
                    .detach();
            })
            .await;
            portal
        }
    })
    .await;
    assert!(
        finished.get(),
        "open returned once the portal's task had finished"
    );
    let refused = to_thread(move || portal.call(async {})).await;
    assert_eq!(refused, Err(PortalError::Stopped));
}
