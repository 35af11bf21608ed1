//! The chat example: the page, its static files and the room through the test client on each
//! runtime; and the binary as a user runs it, with two WebSocket clients over loopback.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

#[path = "../chat/app.rs"]
#[allow(dead_code, reason = "the test uses part of the example")]
mod app;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use futures_lite::StreamExt;
use portico::testing::TestClient;

/// The next text message that is not a join or leave notice.
async fn next_said(session: &mut portico::testing::WebSocketTestSession) -> String {
    loop {
        let text = session.receive_text().await.unwrap();
        if !text.starts_with("* ") {
            return text;
        }
    }
}

#[portico::test]
async fn the_page_its_files_and_the_room() {
    let client = TestClient::new(app::app(&app::assets()));
    let page = client.get("/").await;
    assert_eq!(page.status(), 200, "{}", page.text());
    assert_eq!(page.template(), Some("index.html"));
    let html = page.text();
    assert!(html.contains("<title>Portico chat</title>"), "{html}");
    assert!(html.contains("href=\"/static/chat.css\""), "{html}");
    assert!(html.contains("src=\"/static/chat.js\""), "{html}");
    assert!(html.contains("window.CHAT_SOCKET = \"/ws\";"), "{html}");
    let script = client.get("/static/chat.js").await;
    assert_eq!(script.status(), 200);
    assert_eq!(script.header("content-type"), Some("text/javascript"));
    assert!(script.text().contains("new WebSocket("));
    assert_eq!(
        client.get("/static/chat.css").await.header("content-type"),
        Some("text/css")
    );

    let mut alice = client.websocket_connect("/ws").connect().await.unwrap();
    let mut bob = client.websocket_connect("/ws").connect().await.unwrap();
    // Bob's arrival shows in Alice's stream: the room passes messages on from then on.
    loop {
        let notice = alice.receive_text().await.unwrap();
        if notice.contains("2 here") {
            break;
        }
    }
    alice.send_text("alice: hello, <b>bob</b>").await.unwrap();
    assert_eq!(next_said(&mut bob).await, "alice: hello, <b>bob</b>");
    assert_eq!(next_said(&mut alice).await, "alice: hello, <b>bob</b>");
    bob.send_text("bob: hi alice").await.unwrap();
    assert_eq!(next_said(&mut alice).await, "bob: hi alice");
    assert_eq!(next_said(&mut bob).await, "bob: hi alice");
    // Overlong messages are cut to the room's limit.
    alice.send_text("x".repeat(5000)).await.unwrap();
    assert_eq!(next_said(&mut bob).await.len(), app::MAX_LENGTH);
    bob.close(1000, "bye").await.unwrap();
    loop {
        let text = alice.receive_text().await.unwrap();
        if text.starts_with("* someone left") {
            break;
        }
    }
}

/// Reads the address the example prints first.
fn address(child: &mut std::process::Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    line.split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches([',', ';'])
        .to_owned()
}

struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example's binary, which `cargo test` builds next to the test binaries.
fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(format!("chat{}", std::env::consts::EXE_SUFFIX))
}

type Client = async_tungstenite::WebSocketStream<portico::rt::TcpStream>;

async fn open(addr: &str) -> Client {
    let stream = portico::rt::TcpStream::connect(addr.parse::<std::net::SocketAddr>().unwrap())
        .await
        .unwrap();
    async_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
        .await
        .unwrap()
        .0
}

/// The next text message, or with `said`, the next that is not a notice.
async fn next_text(ws: &mut Client, said: bool) -> String {
    let runtime = portico::rt::current().unwrap();
    loop {
        match runtime
            .timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the room answers in time")
        {
            Some(Ok(Message::Text(text))) if !(said && text.starts_with("* ")) => {
                return text.to_string();
            }
            Some(Ok(_)) => {}
            other => panic!("the socket ended: {other:?}"),
        }
    }
}

#[portico::test]
async fn two_visitors_chat_through_the_binary() {
    let runtime = portico::rt::current().unwrap().name();
    let mut child = Command::new(example())
        .args(["--port", "0"])
        .env("PORTICO_RUNTIME", runtime)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example is built by `cargo test`");
    let addr = address(&mut child);
    let _stop = Stop(child);
    let page = std::net::TcpStream::connect(&addr).and_then(|mut stream| {
        use std::io::{Read, Write};
        stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    });
    assert!(page.unwrap().contains("<title>Portico chat</title>"));
    let mut alice = open(&addr).await;
    let mut bob = open(&addr).await;
    while !next_text(&mut alice, false).await.contains("2 here") {}
    alice
        .send(Message::text("alice: over the wire"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut bob, true).await, "alice: over the wire");
    assert_eq!(next_text(&mut alice, true).await, "alice: over the wire");
    bob.send(Message::text("bob: and back")).await.unwrap();
    assert_eq!(next_text(&mut alice, true).await, "bob: and back");
}
