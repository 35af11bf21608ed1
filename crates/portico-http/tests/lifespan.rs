//! The lifespan: state for handlers and dependencies, background services cancelled at
//! shutdown, teardown after the last request, startup failures that stop the server before it
//! accepts a connection; on the server and in the test client.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use portico::testing::{TestClient, blocking_client_on};
use portico::{App, Depends, HttpError, Lifespan, RuntimeKind, State};
use support::{Conn, Log, eventually};

#[derive(Clone)]
struct Pool(Arc<str>);

struct Conn2(String);

async fn conn(State(pool): State<Pool>) -> Result<Conn2, HttpError> {
    Ok(Conn2(format!("a connection of {}", pool.0)))
}

/// Counts ticks while the application runs; logs when it is cancelled.
struct Ticker(Log, Arc<AtomicUsize>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.push("ticker cancelled");
    }
}

fn app(log: &Log, ticks: &Arc<AtomicUsize>) -> App {
    let (log, ticks) = (log.clone(), ticks.clone());
    App::new()
        .lifespan(move |life: Lifespan| async move {
            log.push("startup");
            life.state(Pool("the pool".into()));
            let ticker = Ticker(log.clone(), ticks);
            life.spawn(async move {
                let rt = portico::rt::current().unwrap();
                while ticker.1.fetch_add(1, Ordering::SeqCst) < usize::MAX / 2 {
                    rt.sleep(Duration::from_millis(5)).await;
                }
            });
            life.serve().await;
            log.push("teardown");
            Ok::<_, std::io::Error>(())
        })
        .provide(conn)
        .get(
            "/",
            |State(pool): State<Pool>| async move { pool.0.to_string() },
        )
        .get("/conn", |Depends(conn): Depends<Conn2>| async move {
            conn.0.clone()
        })
}

#[portico::test]
async fn the_test_client_runs_the_lifespan() {
    let log = Log::default();
    let ticks = Arc::new(AtomicUsize::new(0));
    let client = TestClient::new(app(&log, &ticks));
    assert!(
        log.lines().is_empty(),
        "nothing runs before the first request"
    );
    assert_eq!(client.get("/").await.text(), "the pool");
    assert_eq!(client.get("/conn").await.text(), "a connection of the pool");
    eventually(|| ticks.load(Ordering::SeqCst) > 2).await;
    assert!(
        ticks.load(Ordering::SeqCst) > 2,
        "the background service runs"
    );
    client.shutdown().await;
    assert_eq!(log.lines(), ["startup", "ticker cancelled", "teardown"]);
}

#[portico::test]
fn the_blocking_client_runs_it_too(rt: RuntimeKind) {
    let log = Log::default();
    let client = blocking_client_on(rt, app(&log, &Arc::default()));
    assert_eq!(client.get("/").send().text(), "the pool");
    client.shutdown();
    assert_eq!(log.lines(), ["startup", "ticker cancelled", "teardown"]);
}

#[portico::test]
async fn the_server_runs_the_lifespan_around_serving() {
    let log = Log::default();
    let server = support::serve(app(&log, &Arc::default()));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "the pool");
    assert_eq!(log.lines(), ["startup"]);
    drop(conn);
    let report = server.stop().await.unwrap();
    assert!(report.is_graceful());
    assert_eq!(log.lines(), ["startup", "ticker cancelled", "teardown"]);
}

fn failing() -> App {
    App::new()
        .lifespan(|_life: Lifespan| async move {
            Err::<(), _>(std::io::Error::other("the database is unreachable"))
        })
        .get("/", || async { "never" })
}

#[portico::test]
async fn a_startup_failure_stops_the_server_before_it_accepts() {
    let err = failing()
        .serve("127.0.0.1:0")
        .signals(false)
        .run()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the application failed to start: the database is unreachable"
    );
    let err = TestClient::new(failing()).startup().await.unwrap_err();
    assert!(err.to_string().contains("the database is unreachable"));
}

#[portico::test]
async fn state_nobody_provided_is_a_startup_error() {
    let app = App::new()
        .lifespan(|life: Lifespan| async move {
            life.serve().await;
            Ok::<_, std::io::Error>(())
        })
        .get(
            "/",
            |State(pool): State<Pool>| async move { pool.0.to_string() },
        );
    let err = TestClient::new(app).startup().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("GET /: the handler reads State<lifespan::Pool>, but neither App::state nor the lifespan provided that type"),
        "{err}"
    );
}
