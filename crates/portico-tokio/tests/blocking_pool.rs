//! Blocking closures on a runtime that Portico built: they run on Portico's pool, inside the
//! tokio runtime. Tokio-only by nature: the conformance suite checks what both runtimes share
//! (the pool's limit, and its shutdown).

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
