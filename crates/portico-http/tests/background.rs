//! Background tasks: run after the response, in order, async on the event loop and plain
//! closures on the thread pool; failures logged and never sent; dropped when the request
//! failed; waited for by the test client and by graceful shutdown.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use portico::tasks::Event;
use portico::testing::{TestClient, blocking_client_on};
use portico::{App, BackgroundTasks, HttpError, RuntimeKind, State};
use support::{Conn, Log, role, serve_with};

/// Set by the test to let a task finish.
#[derive(Clone, Default)]
struct Release(Arc<Event>);

async fn several(tasks: BackgroundTasks, State(log): State<Log>) -> &'static str {
    let first = log.clone();
    tasks.add(move || async move { first.push(format!("async on the {}", role())) });
    let second = log.clone();
    tasks.add(move || second.push(format!("plain on the {}", role())));
    let third = log.clone();
    tasks.add(move || async move {
        third.push("fails");
        Err::<(), _>("the mail server is down")
    });
    let fourth = log.clone();
    tasks.add(move || -> () {
        fourth.push("panics");
        panic!("a background task panicked")
    });
    let fifth = log.clone();
    tasks.add(move || fifth.push("runs after the failures"));
    log.push("handler");
    "queued"
}

async fn failing(
    tasks: BackgroundTasks,
    State(log): State<Log>,
) -> Result<&'static str, HttpError> {
    tasks.add(move || log.push("should not run"));
    Err(HttpError::conflict().detail("Already subscribed"))
}

async fn panicking(tasks: BackgroundTasks, State(log): State<Log>) -> &'static str {
    tasks.add(move || log.push("should not run"));
    panic!("the handler panicked")
}

fn plain(tasks: BackgroundTasks, State(log): State<Log>) -> &'static str {
    tasks.add(move || log.push(format!("queued by a plain fn, run on the {}", role())));
    "plain"
}

async fn waits(
    tasks: BackgroundTasks,
    State(log): State<Log>,
    State(release): State<Release>,
) -> &'static str {
    tasks.add(move || async move {
        release.0.wait().await;
        log.push("released");
    });
    "answered first"
}

async fn none(_tasks: BackgroundTasks) -> &'static str {
    "nothing queued"
}

fn app(log: &Log, release: &Release) -> App {
    App::new()
        .state(log.clone())
        .state(release.clone())
        .get("/several", several)
        .get("/failing", failing)
        .get("/panicking", panicking)
        .get("/plain", plain)
        .get("/waits", waits)
        .get("/none", none)
}

#[portico::test]
async fn tasks_run_in_order_after_the_handler_and_before_the_client_returns() {
    let log = Log::default();
    let client = TestClient::new(app(&log, &Release::default()));
    let response = client.get("/several").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text(), "queued");
    assert_eq!(
        log.lines(),
        [
            "handler",
            "async on the event loop",
            "plain on the thread pool",
            "fails",
            "panics",
            "runs after the failures",
        ]
    );
    // The client and the app live on.
    assert_eq!(client.get("/none").await.text(), "nothing queued");
}

#[portico::test]
async fn a_request_that_fails_runs_none_of_its_tasks() {
    let log = Log::default();
    let client = TestClient::new(app(&log, &Release::default()));
    let response = client.get("/failing").await;
    assert_eq!(response.status(), 409);
    assert_eq!(response.text(), r#"{"detail":"Already subscribed"}"#);
    let response = client.get("/panicking").await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.text(), "Internal Server Error");
    assert!(log.lines().is_empty(), "{:?}", log.lines());
}

#[portico::test]
fn plain_fn_handlers_queue_tasks_and_the_blocking_client_waits_for_them(rt: RuntimeKind) {
    let log = Log::default();
    let client = blocking_client_on(rt, app(&log, &Release::default()));
    assert_eq!(client.get("/plain").send().text(), "plain");
    assert_eq!(
        log.lines(),
        ["queued by a plain fn, run on the thread pool"]
    );
}

#[portico::test]
async fn tasks_run_once_the_response_is_on_the_wire() {
    let log = Log::default();
    let release = Release::default();
    let server = support::serve(app(&log, &release));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /waits HTTP/1.1\r\nhost: t\r\n\r\n").await;
    // The response arrives while its task is still waiting.
    let response = conn.response().await.unwrap();
    assert_eq!(response.text(), "answered first");
    assert!(log.lines().is_empty());
    release.0.set();
    let rt = portico::rt::current().unwrap();
    for _ in 0..200 {
        if !log.lines().is_empty() {
            break;
        }
        rt.sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(log.lines(), ["released"]);
    let report = server.stop().await.unwrap();
    assert!(report.is_graceful());
}

#[portico::test]
async fn graceful_shutdown_waits_for_queued_tasks() {
    let log = Log::default();
    let release = Release::default();
    let server = serve_with(app(&log, &release), |s| {
        s.shutdown_timeout(Duration::from_secs(10))
    });
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /waits HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "answered first");
    drop(conn);
    let rt = portico::rt::current().unwrap();
    let releaser = {
        let release = release.clone();
        let rt = rt.clone();
        rt.clone().spawn(async move {
            rt.sleep(Duration::from_millis(200)).await;
            release.0.set();
        })
    };
    let report = server.stop().await.unwrap();
    // Stopping returned only once the task had run.
    assert_eq!(log.lines(), ["released"]);
    assert!(report.is_graceful());
    releaser.await.unwrap();
}

#[portico::test]
async fn tasks_that_outlive_the_grace_period_are_reported() {
    let log = Log::default();
    let server = serve_with(app(&log, &Release::default()), |s| {
        s.shutdown_timeout(Duration::from_millis(200))
    });
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /waits HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "answered first");
    drop(conn);
    let report = server.stop().await.unwrap();
    assert_eq!(report.cut_connections, 0);
    assert_eq!(report.cut_background, 1);
    assert!(!report.is_graceful());
    assert!(log.lines().is_empty());
}
