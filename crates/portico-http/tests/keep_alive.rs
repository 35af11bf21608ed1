//! Keep-alive told truthfully: a response says `Connection: close` whenever the server will
//! close after it, as when a handler leaves part of its request body unread that has not
//! arrived; a body left unread but already received keeps the connection. And a streamed
//! response that fails or panics before its head is sent is answered `500`.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use bytes::Bytes;
use futures_lite::StreamExt;
use portico::{App, BodyStream, Route, StreamBody};
use support::{Conn, serve};

/// Never looks at its request body.
async fn ignore() -> &'static str {
    "ignored"
}

/// Reads the first chunk of its body, then answers.
async fn first_chunk(mut body: BodyStream) -> String {
    match body.next().await {
        Some(Ok(chunk)) => format!("read {}", chunk.len()),
        other => format!("nothing: {other:?}"),
    }
}

async fn whole(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

/// A stream that panics on its first poll.
async fn panics_at_once() -> StreamBody {
    let chunks = futures_lite::stream::poll_fn(
        |_| -> std::task::Poll<Option<Result<Bytes, std::io::Error>>> {
            panic!("no chunk for you")
        },
    );
    StreamBody::new(chunks)
}

/// A stream whose first chunk is an error.
async fn fails_at_once() -> StreamBody {
    StreamBody::new(futures_lite::stream::once(Err::<Bytes, _>(
        std::io::Error::other("the source is gone"),
    )))
}

/// A stream that gives one chunk at once, lets it go out, then panics.
async fn panics_after_a_chunk() -> StreamBody {
    let mut polls = 0;
    let chunks = futures_lite::stream::poll_fn(move |cx| {
        polls += 1;
        match polls {
            1 => {
                std::task::Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::from_static(b"first"))))
            }
            2 => {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
            _ => panic!("no second chunk"),
        }
    });
    StreamBody::new(chunks)
}

/// An empty stream.
async fn empty_stream() -> StreamBody {
    StreamBody::new(futures_lite::stream::empty::<Result<Bytes, std::io::Error>>())
}

fn app() -> App {
    App::new()
        .get("/", ignore)
        .route(Route::post("/ignore", ignore))
        .route(Route::post("/first", first_chunk))
        .route(Route::post("/whole", whole))
        .get("/panics", panics_at_once)
        .get("/fails", fails_at_once)
        .get("/panics-later", panics_after_a_chunk)
        .get("/empty", empty_stream)
}

/// Sends `head` and `body` (in one write), reads the response.
async fn post(
    conn: &mut Conn,
    path: &str,
    head_extra: &str,
    body: &[u8],
    declared: usize,
) -> support::Raw {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: t\r\ncontent-length: {declared}\r\n{head_extra}\r\n"
    )
    .into_bytes();
    request.extend_from_slice(body);
    conn.send(&request).await;
    conn.response_to("POST").await.expect("an answer")
}

#[portico::test]
async fn a_body_left_unread_but_received_keeps_the_connection() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    for _ in 0..3 {
        let response = post(&mut conn, "/ignore", "", b"0123456789", 10).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "ignored");
        assert_eq!(response.header("connection"), None);
    }
    // And a chunked one.
    conn.send(b"POST /ignore HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .await;
    let response = conn.response_to("POST").await.unwrap();
    assert_eq!(response.header("connection"), None);
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "ignored");
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_body_left_unread_and_still_arriving_is_answered_with_connection_close() {
    let server = serve(app());
    for path in ["/ignore", "/first"] {
        let mut conn = Conn::open(server.local_addr()).await;
        // 5 of the 10 bytes declared.
        let response = post(&mut conn, path, "", b"01234", 10).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("connection"), Some("close"), "{path}");
        assert!(conn.is_closed().await, "{path}");
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_large_body_left_unread_is_not_read_to_keep_the_connection() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    let body = vec![b'x'; 200 * 1024];
    let response = post(&mut conn, "/ignore", "", &body, body.len()).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_client_waiting_for_100_continue_gets_the_answer_and_connection_close() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(
        b"POST /ignore HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\nexpect: 100-continue\r\n\r\n",
    )
    .await;
    let response = conn.response_to("POST").await.unwrap();
    assert_eq!(
        response.status, 200,
        "no 100 Continue for a body nobody reads"
    );
    assert_eq!(response.header("connection"), Some("close"));
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_body_read_in_full_keeps_the_connection() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    for _ in 0..3 {
        let response = post(&mut conn, "/whole", "", b"0123456789", 10).await;
        assert_eq!(response.text(), "10 bytes");
        assert_eq!(response.header("connection"), None);
    }
    // Read a chunk at a time, the whole body in one chunk.
    let response = post(&mut conn, "/first", "", b"01234", 5).await;
    assert_eq!(response.text(), "read 5");
    assert_eq!(response.header("connection"), None);
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_stream_that_panics_or_fails_before_its_head_is_a_500_on_a_live_connection() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    for path in ["/panics", "/fails", "/panics"] {
        conn.send(format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n").as_bytes())
            .await;
        let response = conn.response().await.expect("an answer");
        assert_eq!(response.status, 500, "{path}");
        assert_eq!(response.text(), "Internal Server Error", "{path}");
    }
    conn.send(b"GET /empty HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let response = conn.response().await.unwrap();
    assert_eq!((response.status, response.text().as_str()), (200, ""));
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "ignored");
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_stream_that_panics_after_its_head_is_cut_and_the_server_lives_on() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /panics-later HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = conn.read_some(&mut buf).await;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.starts_with("HTTP/1.1 200 OK"), "{seen}");
    assert!(seen.contains("first"), "{seen}");
    assert!(
        !seen.ends_with("0\r\n\r\n"),
        "the body is cut, not ended: {seen}"
    );
    // Another connection is served.
    let mut other = Conn::open(server.local_addr()).await;
    other.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(other.response().await.unwrap().text(), "ignored");
    server.stop().await.unwrap();
}
