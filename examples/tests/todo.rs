//! The to-do example: its API through the test client on each runtime, with the database
//! dependency swapped for an in-memory one; and the binary as a user runs it, creating its
//! SQLite file, and refusing a PostgreSQL database it cannot use.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

#[path = "../todo/app.rs"]
#[allow(dead_code, reason = "the test uses part of the example")]
mod app;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use portico::testing::TestClient;
use portico::{HttpError, RuntimeKind};
use serde_json::{Value, json};

#[portico::test]
async fn the_api_on_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let client = TestClient::new(app::app(dir.path().join("todo.sqlite3")));
    let created = client
        .post("/todos")
        .json(&json!({ "title": "buy tea" }))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.json::<Value>(),
        json!({ "id": 1, "title": "buy tea", "done": false })
    );
    client
        .post("/todos")
        .json(&json!({ "title": "brew it" }))
        .await;
    let updated = client
        .patch("/todos/1")
        .json(&json!({ "done": true }))
        .await;
    assert_eq!(updated.json::<Value>()["done"], json!(true));
    assert_eq!(
        client.get("/todos?done=true").await.json::<Value>(),
        json!([{ "id": 1, "title": "buy tea", "done": true }])
    );
    assert_eq!(client.delete("/todos/2").await.status(), 204);
    let missing = client.get("/todos/2").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text(), r#"{"detail":"No to-do with id 2"}"#);
    // Invalid input: FastAPI's 422.
    let invalid = client.post("/todos").json(&json!({ "title": "" })).await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.json::<Value>()["detail"][0]["loc"],
        json!(["body", "title"])
    );
    // The background task logged the creations after their responses.
    assert_eq!(
        client.get("/activity").await.json::<Value>(),
        json!(["created 2", "created 1"])
    );
}

#[portico::test]
async fn a_failed_request_rolls_its_transaction_back() {
    let dir = tempfile::tempdir().unwrap();
    let client = TestClient::new(app::app(dir.path().join("todo.sqlite3")));
    client.post("/todos").json(&json!({ "title": "a" })).await;
    // The update finds nothing and fails: nothing it did is kept.
    assert_eq!(
        client
            .patch("/todos/9")
            .json(&json!({ "done": true }))
            .await
            .status(),
        404
    );
    assert_eq!(
        client
            .get("/todos")
            .await
            .json::<Value>()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[portico::test]
async fn updates_racing_with_other_writers_all_succeed() {
    // An update reads the item, then writes it. Had it read first inside its transaction,
    // SQLite would refuse its write at once (no wait: a deadlock otherwise) whenever another
    // request or a background task was writing: a 500 for a valid request.
    let dir = tempfile::tempdir().unwrap();
    let client = TestClient::new(app::app(dir.path().join("todo.sqlite3")));
    client.post("/todos").json(&json!({ "title": "a" })).await;
    let rt = portico::rt::current().unwrap();
    let requests: Vec<_> = (0..40)
        .map(|n| {
            let client = client.clone();
            rt.spawn(async move {
                let response = if n % 2 == 0 {
                    client
                        .patch("/todos/1")
                        .json(&json!({ "done": n % 4 == 0 }))
                        .await
                } else {
                    client.post("/todos").json(&json!({ "title": "b" })).await
                };
                (response.status().as_u16(), response.text())
            })
        })
        .collect();
    for request in requests {
        let (status, body) = request.await.unwrap();
        assert!(status == 200 || status == 201, "{status}: {body}");
    }
}

#[portico::test]
async fn the_database_dependency_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let client = TestClient::new(app::app(dir.path().join("todo.sqlite3")));
    let memory = rusqlite::Connection::open_in_memory().unwrap();
    app::create_schema(&memory).unwrap();
    memory
        .execute(
            "INSERT INTO todos (title) VALUES ('from the test database')",
            [],
        )
        .unwrap();
    let memory = Arc::new(Mutex::new(memory));
    let shared = memory.clone();
    client
        .service()
        .override_dependency(move || Ok::<_, HttpError>(app::Db::shared(shared.clone())));
    assert_eq!(
        client.get("/todos").await.json::<Value>(),
        json!([{ "id": 1, "title": "from the test database", "done": false }])
    );
    client
        .post("/todos")
        .json(&json!({ "title": "second" }))
        .await;
    let count: i64 = memory
        .lock()
        .unwrap()
        .query_row("SELECT count(*) FROM todos", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 2);
    // Back to the file.
    client.service().clear_overrides();
    assert_eq!(client.get("/todos").await.json::<Value>(), json!([]));
}

/// The example's binary, which `cargo test` builds next to the test binaries.
fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(format!("todo{}", std::env::consts::EXE_SUFFIX))
}

fn send(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The example's process, ended when the test ends, however it ends (a failed assertion
/// must not leave a server running).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[portico::test]
fn the_binary_serves_and_creates_its_database_file(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Server(
        Command::new(example())
            .args(["--port", "0"])
            .current_dir(dir.path())
            .env("PORTICO_RUNTIME", rt.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the example is built by `cargo test`"),
    );
    let mut first_line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    assert!(
        first_line.contains(&format!("the {rt} runtime")),
        "{first_line}"
    );
    let port: u16 = first_line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://127.0.0.1:"))
        .and_then(|rest| rest.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no port in {first_line:?}"));
    let body = r#"{"title": "from curl"}"#;
    let created = send(
        port,
        &format!(
            "POST /todos HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let listed = send(
        port,
        "GET /todos HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert!(
        listed.ends_with(r#"[{"id":1,"title":"from curl","done":false}]"#),
        "{listed}"
    );
    drop(child);
    assert!(dir.path().join("todo.sqlite3").exists());
}

#[portico::test]
async fn cors_compression_and_request_ids_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let client = TestClient::new(app::app(dir.path().join("todo.sqlite3")));
    let preflight = client
        .options("/todos")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .await;
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let refused = client
        .options("/todos")
        .header("origin", "https://elsewhere.test")
        .header("access-control-request-method", "POST")
        .await;
    assert_eq!(refused.status(), 400);
    for n in 0..20 {
        client
            .post("/todos")
            .json(&json!({ "title": format!("to-do number {n}") }))
            .await;
    }
    let listed = client
        .get("/todos?limit=20")
        .header("accept-encoding", "gzip")
        .header("origin", "http://127.0.0.1:3000")
        .await;
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.header("content-encoding"), Some("gzip"));
    assert_eq!(
        listed.header("access-control-allow-origin"),
        Some("http://127.0.0.1:3000")
    );
    assert_eq!(listed.header("x-request-id").map(str::len), Some(36));
    let small = client
        .get("/todos/1")
        .header("accept-encoding", "gzip")
        .await;
    assert!(
        small.header("content-encoding").is_none(),
        "under 500 bytes"
    );
    assert_eq!(small.json::<Value>()["id"], json!(1));
}

/// Runs the example's binary with `args` to its exit (10 s at most); returns its exit code and
/// what it wrote to stderr.
fn run_to_exit(args: &[&str], rt: Option<RuntimeKind>) -> (Option<i32>, String) {
    let mut command = Command::new(example());
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(rt) = rt {
        command.env("PORTICO_RUNTIME", rt.to_string());
    }
    let mut child = Server(command.spawn().unwrap());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the example did not exit"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

#[test]
fn a_database_url_that_is_not_postgres_is_refused_with_usage() {
    let (code, stderr) = run_to_exit(&["--database-url", "mysql://db/todo"], None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--database-url takes a postgres:// URL") && stderr.contains("usage:"),
        "{stderr}"
    );
    let (code, stderr) = run_to_exit(&["--database-url", "postgres://db:port/todo"], None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("invalid connection string"), "{stderr}");
}

#[portico::test]
fn a_database_out_of_reach_fails_the_start_at_once_with_the_reason(rt: RuntimeKind) {
    // A loopback port that nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://todo@127.0.0.1:{port}/todo");
    let started = std::time::Instant::now();
    let (code, stderr) = run_to_exit(&["--port", "0", "--database-url", &url], Some(rt));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("PostgreSQL: error connecting to server") && stderr.contains("refused"),
        "{stderr}"
    );
    // Refused at once: not after the pool's 5 s timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}
