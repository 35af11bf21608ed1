//! Portico inside a tokio runtime that the application started itself (`#[tokio::main]`).
//! Tokio-only by nature: smol has no ambient runtime to find.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_finds_the_applications_own_tokio_runtime() {
    let rt = portico_rt::current().expect("tokio's threads are recognised without setup");
    assert_eq!(rt.name(), "tokio");
    // Tasks, blocking closures and timers go through the application's runtime.
    let on_worker = rt.spawn(async { portico_rt::current().map(|rt| rt.name()) });
    assert_eq!(on_worker.await.unwrap().unwrap(), "tokio");
    let in_pool = rt.spawn_blocking(|| portico_rt::current().map(|rt| rt.name()));
    assert_eq!(in_pool.await.unwrap().unwrap(), "tokio");
    assert!(
        rt.timeout(Duration::from_millis(10), std::future::pending::<()>())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_handle_cancels_even_on_a_borrowed_runtime() {
    let rt = portico_tokio::TokioRuntime::from_tokio(tokio::runtime::Handle::current());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = rt.spawn(async move {
        let _keep = tx;
        std::future::pending::<()>().await;
    });
    drop(task);
    // The sender is dropped with the cancelled task's future.
    assert!(
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .unwrap()
            .is_err()
    );
}

#[test]
fn block_on_inside_the_applications_runtime_is_refused_by_tokio() {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = tokio_rt.block_on(async {
        let rt = portico_rt::current().unwrap();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(async {})))
    });
    assert!(
        result.is_err(),
        "nested block_on panics instead of deadlocking"
    );
}
