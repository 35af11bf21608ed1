//! Blocking closures on a runtime that Portico built: they run on Portico's pool, inside the
//! tokio runtime. Tokio-only by nature: the conformance suite checks what both runtimes share.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::time::Duration;

#[test]
fn a_blocking_closure_sees_the_tokio_runtime_and_its_thread_name() {
    let runtime = portico_tokio::Builder::new()
        .worker_threads(1)
        .thread_name("pool-ctx")
        .build()
        .unwrap();
    let (answer, name) = runtime
        .block_on(async {
            portico_rt::current()
                .unwrap()
                .spawn_blocking(|| {
                    // tokio's context is entered, as on tokio's own blocking threads: its
                    // `block_on` and `spawn` work here.
                    let handle = tokio::runtime::Handle::current();
                    let answer = handle.block_on(handle.spawn(async { 6 * 7 })).unwrap();
                    (answer, std::thread::current().name().map(str::to_owned))
                })
                .await
        })
        .unwrap();
    assert_eq!(answer, 42);
    let name = name.unwrap();
    assert!(
        name.starts_with("pool-ctx-"),
        "named like the runtime's threads: {name}"
    );
    runtime.shutdown_timeout(Duration::from_secs(5));
}

#[test]
fn shutdown_waits_for_a_started_closure_and_cancels_a_queued_one() {
    let runtime = portico_tokio::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let rt = runtime.handle().clone();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let running = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        "finished"
    });
    started_rx.recv().unwrap();
    // The only thread is busy: this one waits in the queue.
    let queued = rt.spawn_blocking(|| "ran");
    drop(runtime);
    let waiter = portico_tokio::Builder::new().build().unwrap();
    waiter.block_on(async {
        assert_eq!(running.await.unwrap(), "finished");
        assert!(queued.await.unwrap_err().is_cancelled());
        assert!(rt.spawn_blocking(|| ()).await.unwrap_err().is_cancelled());
    });
}
