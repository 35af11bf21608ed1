//! Runs the examples as a user would, on each runtime: the `hello` API (answers, errors, a
//! graceful stop on SIGTERM that loses no request) and `bench_server` (every benchmark endpoint
//! exactly as specified).

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portico::RuntimeKind;
use serde_json::{Value, json};

/// An example's binary, which `cargo test` builds next to the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A running example, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    first_line: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str, runtime: RuntimeKind) -> Server {
    let mut child = Command::new(example(name))
        .args(["--port", "0"])
        .env("PORTICO_RUNTIME", runtime.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example is built by `cargo test`");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let addr = first_line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {first_line:?}"))
        .to_owned();
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    // Keep the pipes open (and drained) for the rest of the run.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Server {
        child,
        port,
        first_line,
    }
}

/// A response as read off the wire.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

/// Reads one response (with a `content-length`, as every answer here has).
fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(raw).unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some(Answer {
        status,
        head,
        body: String::from_utf8(body).unwrap(),
    })
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> Answer {
    let mut stream = connect(port);
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_answer(&mut stream).unwrap()
}

#[portico::test]
fn hello_answers_and_refuses_as_fastapi_does(runtime: RuntimeKind) {
    let server = start("hello", runtime);
    assert!(
        server
            .first_line
            .contains(&format!("with the {runtime} runtime")),
        "{}",
        server.first_line
    );
    let port = server.port;

    let root = request(port, "GET", "/", None);
    assert_eq!(root.status, 200);
    assert_eq!(
        root.json(),
        json!({"message": "Hello, World!", "runtime": runtime.to_string()})
    );

    let item = request(port, "GET", "/items/42?q=tea&short=true", None);
    assert_eq!(item.json(), json!({"item_id": 42, "q": "tea"}));

    let invalid = request(port, "GET", "/items/forty-two?short=maybe", None);
    assert_eq!(invalid.status, 422);
    let locs: Vec<Value> = invalid.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    assert_eq!(
        locs,
        vec![json!(["path", "item_id"]), json!(["query", "short"])]
    );

    let created = request(
        port,
        "POST",
        "/items",
        Some(r#"{"name": "teapot", "price": 12.5}"#),
    );
    assert_eq!(created.status, 201);
    assert_eq!(
        created.json(),
        json!({"name": "teapot", "price": 12.5, "tags": []})
    );

    let refused = request(
        port,
        "POST",
        "/items",
        Some(r#"{"name": "", "price": 0, "tags": [1]}"#),
    );
    assert_eq!(refused.status, 422);
    let kinds: Vec<Value> = refused.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!("string_too_short"),
            json!("greater_than"),
            json!("string_type")
        ]
    );

    let primes = request(port, "GET", "/primes?below=100", None);
    assert_eq!(primes.json(), json!({"below": 100, "primes": 25}));
}

/// SIGTERM with requests in flight and requests waiting, unread, on keep-alive connections:
/// every one of them is answered before the server exits, and it exits with success.
#[cfg(unix)]
#[portico::test(timeout = 60)]
fn sigterm_drains_without_losing_a_request(runtime: RuntimeKind) {
    let mut server = start("hello", runtime);
    let port = server.port;

    // Requests in flight: each sleeps half a second in its handler.
    let mut in_flight: Vec<TcpStream> = (0..50).map(|_| connect(port)).collect();
    for stream in &mut in_flight {
        stream
            .write_all(b"GET /slow?seconds=0.5 HTTP/1.1\r\nhost: t\r\n\r\n")
            .unwrap();
    }
    // Keep-alive connections, idle after a first answer.
    let mut waiting: Vec<TcpStream> = (0..20).map(|_| connect(port)).collect();
    for stream in &mut waiting {
        stream
            .write_all(b"GET /items/1?short=1 HTTP/1.1\r\nhost: t\r\n\r\n")
            .unwrap();
        assert_eq!(read_answer(stream).unwrap().status, 200);
    }
    std::thread::sleep(Duration::from_millis(100));
    // Their next requests are in the sockets, unread, when the signal arrives.
    for stream in &mut waiting {
        stream
            .write_all(b"GET /items/2?short=1 HTTP/1.1\r\nhost: t\r\n\r\n")
            .unwrap();
    }
    let sent = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let mut lost = 0;
    for stream in &mut in_flight {
        match read_answer(stream) {
            Some(answer) if answer.status == 200 && answer.body == "slept 0.5 s" => {}
            _ => lost += 1,
        }
    }
    for stream in &mut waiting {
        match read_answer(stream) {
            Some(answer) if answer.status == 200 => {}
            _ => lost += 1,
        }
    }
    assert_eq!(lost, 0, "requests lost at shutdown");
    let exit = server.child.wait().unwrap();
    let mut stderr = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(exit.success(), "exit status {exit}; stderr {stderr:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "the drain took {:?}",
        sent.elapsed()
    );
}

#[portico::test]
fn bench_server_answers_exactly_as_specified(runtime: RuntimeKind) {
    let server = start("bench_server", runtime);
    let port = server.port;

    let plain = request(port, "GET", "/plaintext", None);
    assert_eq!((plain.status, plain.body.as_str()), (200, "Hello, World!"));
    assert!(
        plain.head.contains("content-type: text/plain"),
        "{}",
        plain.head
    );

    let json = request(port, "GET", "/json", None);
    assert_eq!(json.body, r#"{"message":"Hello, World!"}"#);
    assert!(
        json.head.contains("content-type: application/json"),
        "{}",
        json.head
    );

    assert_eq!(
        request(port, "GET", "/users/7?verbose=true", None).body,
        r#"{"id":7,"verbose":true}"#
    );
    assert_eq!(
        request(port, "GET", "/users/7", None).body,
        r#"{"id":7,"verbose":false}"#
    );
    let bad_id = request(port, "GET", "/users/seven", None);
    assert_eq!(bad_id.status, 422);
    assert_eq!(bad_id.json()["detail"][0]["loc"], json!(["path", "id"]));
    let bad_flag = request(port, "GET", "/users/7?verbose=perhaps", None);
    assert_eq!(bad_flag.status, 422);
    assert_eq!(
        bad_flag.json()["detail"][0]["loc"],
        json!(["query", "verbose"])
    );

    let echo = r#"{"name":"portico","count":3,"tags":["a","b"]}"#;
    assert_eq!(request(port, "POST", "/echo", Some(echo)).body, echo);
    let bad_echo = request(
        port,
        "POST",
        "/echo",
        Some(r#"{"name":1,"count":"x","tags":[2]}"#),
    );
    assert_eq!(bad_echo.status, 422);
    let locs: Vec<Value> = bad_echo.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    assert_eq!(
        locs,
        vec![
            json!(["body", "name"]),
            json!(["body", "count"]),
            json!(["body", "tags", 0])
        ]
    );

    let blocking = request(port, "GET", "/blocking", None);
    assert_eq!(
        (blocking.status, blocking.body.as_str()),
        (200, r#"{"ok":true}"#)
    );

    let deps = request(port, "GET", "/deps", None);
    assert_eq!(
        (deps.status, deps.json()),
        (200, json!({ "tenant": 7, "session": "s-7", "quota": 700 }))
    );
    let deps = request(port, "GET", "/deps-async", None);
    assert_eq!(
        (deps.status, deps.json()),
        (200, json!({ "tenant": 7, "session": "s-7", "quota": 700 }))
    );
}

#[test]
fn an_unknown_runtime_stops_the_example_with_the_valid_choices() {
    let out = Command::new(example("hello"))
        .env("PORTICO_RUNTIME", "nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("PORTICO_RUNTIME=\"nope\""), "{stderr}");
    assert!(stderr.contains("valid choices: tokio, smol"), "{stderr}");
}

#[test]
fn a_bad_port_is_refused_with_usage() {
    let out = Command::new(example("hello"))
        .args(["--port", "99999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--port takes a number from 0 to 65535"),
        "{stderr}"
    );
}
