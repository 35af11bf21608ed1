//! WebSockets over a real server on loopback, with a real WebSocket client: a round trip, the
//! 1008 close of an invalid parameter after the upgrade, graceful shutdown (1001 to open
//! WebSockets, within the grace period), a page and a WebSocket on one path, open
//! WebSockets counted under `max_connections`, and the server's keepalive pings.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{self, Message};
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use portico::rt::TcpStream;
use portico::tasks::{MemoryReceiver, MemorySender, memory_stream};
use portico::websocket::{WebSocketConfig, close_code};
use portico::{App, Path, Query, State, WebSocket, WebSocketDisconnect, WebSocketError};
use schemars::JsonSchema;
use serde::Deserialize;
use support::serve_with;

#[derive(Clone)]
struct Ended(MemorySender<WebSocketDisconnect>);

#[derive(Deserialize, JsonSchema)]
struct Greeting {
    greeting: String,
}

/// Greets, then echoes until the WebSocket closes, and reports how it closed.
async fn room(
    ws: WebSocket,
    Path(room): Path<String>,
    Query(q): Query<Greeting>,
    State(ended): State<Ended>,
) -> Result<(), WebSocketError> {
    ws.accept_subprotocol("chat").await?;
    ws.send_text(format!("{} from {room}", q.greeting)).await?;
    loop {
        match ws.receive().await {
            Ok(portico::websocket::Message::Text(text)) => {
                ws.send_text(format!("echo: {text}")).await?;
            }
            Ok(portico::websocket::Message::Binary(bytes)) => ws.send_bytes(bytes).await?,
            Ok(_) => {}
            Err(err) => {
                let _ = ended.0.send(err.disconnect().unwrap().clone()).await;
                return Err(err);
            }
        }
    }
}

/// Accepts, then never reads nor writes.
async fn sleeper(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    std::future::pending::<()>().await;
    Ok(())
}

/// The page of a room, on the room's WebSocket path.
async fn lobby_page(Path(room): Path<String>) -> String {
    format!("the page of {room}")
}

fn app() -> (App, MemoryReceiver<WebSocketDisconnect>) {
    let (sender, receiver) = memory_stream(8);
    let app = App::new()
        .state(Ended(sender))
        .websocket("/rooms/{room}", room)
        .websocket("/sleep", sleeper)
        .websocket("/both/{room}", room)
        .get("/both/{room}", lobby_page);
    (app, receiver)
}

type Client = WebSocketStream<TcpStream>;

/// Opens a WebSocket on `path`, offering the subprotocol `chat` for the rooms.
async fn connect(
    addr: SocketAddr,
    path: &str,
) -> (Client, tungstenite::handshake::client::Response) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if path.contains("greeting") {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "chat".parse().unwrap());
    }
    async_tungstenite::client_async(request, stream)
        .await
        .unwrap()
}

async fn next(ws: &mut Client) -> Option<Message> {
    let rt = portico::rt::current().unwrap();
    rt.timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("the server answers in time")
        .map(Result::unwrap)
}

async fn next_end(receiver: &mut MemoryReceiver<WebSocketDisconnect>) -> WebSocketDisconnect {
    let rt = portico::rt::current().unwrap();
    rt.timeout(Duration::from_secs(10), receiver.recv())
        .await
        .expect("the handler reports how its WebSocket ended")
        .unwrap()
}

/// The close frame the server sent, reading past anything else.
async fn close_frame(ws: &mut Client) -> CloseFrame {
    loop {
        match next(ws).await {
            Some(Message::Close(Some(frame))) => return frame,
            Some(Message::Close(None)) | None => panic!("the server closed without a code"),
            Some(_) => {}
        }
    }
}

#[portico::test]
async fn a_round_trip_through_the_real_server() {
    let (app, mut ends) = app();
    let server = serve_with(app, |server| server);
    let (mut ws, response) = connect(server.local_addr(), "/rooms/lobby?greeting=hello").await;
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    assert_eq!(next(&mut ws).await, Some(Message::text("hello from lobby")));
    ws.send(Message::text("hi")).await.unwrap();
    assert_eq!(next(&mut ws).await, Some(Message::text("echo: hi")));
    ws.send(Message::binary(vec![0u8, 1, 2])).await.unwrap();
    assert_eq!(next(&mut ws).await, Some(Message::binary(vec![0u8, 1, 2])));
    ws.send(Message::Ping("still there?".into())).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Some(Message::Pong("still there?".into()))
    );
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4000),
        reason: "leaving".into(),
    }))
    .await
    .unwrap();
    // The server answers the close frame, then ends the connection.
    assert!(matches!(next(&mut ws).await, Some(Message::Close(_))));
    assert_eq!(next(&mut ws).await, None);
    assert_eq!(
        next_end(&mut ends).await,
        WebSocketDisconnect::new(4000, "leaving")
    );
    // A plain request on the same route is refused, on a connection that stays usable.
    let mut conn = support::Conn::open(server.local_addr()).await;
    conn.send(b"GET /rooms/lobby?greeting=hi HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.unwrap().status, 426);
    assert!(server.stop().await.unwrap().is_graceful());
}

#[portico::test]
async fn an_invalid_parameter_still_upgrades_to_close_with_1008() {
    let (app, _ends) = app();
    let server = serve_with(app, |server| server);
    let (mut ws, response) = connect(server.local_addr(), "/rooms/lobby").await;
    assert_eq!(response.status(), 101);
    let frame = close_frame(&mut ws).await;
    assert_eq!(u16::from(frame.code), close_code::POLICY_VIOLATION);
    assert!(frame.reason.contains("greeting"), "{}", frame.reason);
    // Reading on answers the close frame; the server then ends the connection.
    assert_eq!(next(&mut ws).await, None);
    assert!(server.stop().await.unwrap().is_graceful());
}

#[portico::test]
async fn shutdown_tells_open_websockets_it_is_going_away() {
    let (app, mut ends) = app();
    let server = serve_with(app, |server| {
        server.shutdown_timeout(Duration::from_secs(20))
    });
    let (mut ws, _) = connect(server.local_addr(), "/rooms/lobby?greeting=hi").await;
    assert_eq!(next(&mut ws).await, Some(Message::text("hi from lobby")));
    let started = Instant::now();
    server.shutdown();
    let frame = close_frame(&mut ws).await;
    assert_eq!(u16::from(frame.code), close_code::GOING_AWAY);
    // Reading on answers the close frame; the server then ends the connection.
    assert_eq!(next(&mut ws).await, None);
    assert_eq!(next_end(&mut ends).await.code, close_code::GOING_AWAY);
    let report = server.stopped().await.unwrap();
    assert!(report.is_graceful(), "{report:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[portico::test]
async fn shutdown_does_not_wait_forever_for_a_websocket() {
    let (app, _ends) = app();
    let server = serve_with(app, |server| {
        server.shutdown_timeout(Duration::from_millis(300))
    });
    let (_ws, response) = connect(server.local_addr(), "/sleep").await;
    assert_eq!(response.status(), 101);
    let started = Instant::now();
    // Neither the handler nor the client answers the close frame: the grace period ends it.
    let report = server.stop().await.unwrap();
    assert_eq!(report.cut_connections, 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[portico::test]
async fn a_page_and_a_websocket_share_a_path_over_the_real_server() {
    let (app, _ends) = app();
    let server = serve_with(app, |server| server);
    let (mut ws, response) = connect(server.local_addr(), "/both/lobby?greeting=hi").await;
    assert_eq!(response.status(), 101);
    assert_eq!(next(&mut ws).await, Some(Message::text("hi from lobby")));
    let mut conn = support::Conn::open(server.local_addr()).await;
    conn.send(b"GET /both/lobby HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    let page = conn.response().await.unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.text(), "the page of lobby");
    // A request that says `Upgrade: websocket` without `Connection: upgrade` is not a
    // handshake: the page answers it.
    conn.send(b"GET /both/lobby HTTP/1.1\r\nhost: t\r\nupgrade: websocket\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.unwrap().status, 200);
    ws.close(None).await.unwrap();
    drop((ws, conn));
    assert!(server.stop().await.unwrap().is_graceful());
}

#[portico::test]
async fn open_websockets_count_towards_max_connections() {
    let (app, mut ends) = app();
    let server = serve_with(app, |server| server.max_connections(1));
    let addr = server.local_addr();
    let (mut ws, _) = connect(addr, "/rooms/lobby?greeting=hi").await;
    assert_eq!(next(&mut ws).await, Some(Message::text("hi from lobby")));
    // The WebSocket holds the only place: a second connection waits in the kernel's queue.
    let mut conn = support::Conn::open(addr).await;
    conn.send(b"GET /both/lobby HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    let rt = portico::rt::current().unwrap();
    let waited = rt
        .timeout(Duration::from_millis(300), conn.response())
        .await;
    assert!(
        waited.is_err(),
        "a connection was served past the cap while a WebSocket was open"
    );
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    assert!(matches!(next(&mut ws).await, Some(Message::Close(_))));
    assert_eq!(next(&mut ws).await, None);
    assert_eq!(next_end(&mut ends).await.code, close_code::NORMAL_CLOSURE);
    // Once the WebSocket's connection is gone, its place goes to the waiting one.
    let page = rt
        .timeout(Duration::from_secs(10), conn.response())
        .await
        .expect("the waiting connection is served once the WebSocket closed")
        .unwrap();
    assert_eq!(page.status, 200);
    drop(conn);
    assert!(server.stop().await.unwrap().is_graceful());
}

/// Tells the client about every ping and pong it receives, and echoes text.
async fn watcher(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    loop {
        match ws.receive().await? {
            portico::websocket::Message::Text(text) => {
                ws.send_text(format!("echo: {text}")).await?;
            }
            other => ws.send_text(format!("saw {}", other.kind())).await?,
        }
    }
}

/// Receives nothing for a while, then one text message.
async fn late_reader(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    portico::rt::current()
        .unwrap()
        .sleep(Duration::from_millis(600))
        .await;
    let text = ws.receive_text().await?;
    ws.send_text(format!("late: {text}")).await?;
    ws.receive().await.map(drop)
}

fn pinging(interval: Duration, timeout: Duration) -> (App, MemoryReceiver<WebSocketDisconnect>) {
    let (app, ends) = app();
    let config = WebSocketConfig::default()
        .ping_interval(Some(interval))
        .ping_timeout(timeout)
        .close_timeout(Duration::from_millis(300));
    let app = app
        .websocket_config(config)
        .websocket("/watch", watcher)
        .websocket("/late", late_reader);
    (app, ends)
}

/// Reads for `period`, as a client that answers pings does; what came.
async fn read_for(ws: &mut Client, period: Duration) -> Vec<Message> {
    let rt = portico::rt::current().unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    while let Some(left) = period.checked_sub(started.elapsed()) {
        match rt.timeout(left, ws.next()).await {
            Ok(Some(message)) => got.push(message.unwrap()),
            Ok(None) => panic!("the server ended the connection; got {got:?}"),
            Err(_) => break,
        }
    }
    got
}

fn is_keepalive_ping(message: &Message) -> bool {
    matches!(message, Message::Ping(payload) if !payload.is_empty())
}

#[portico::test]
async fn a_peer_that_answers_pings_stays_open_and_the_handler_never_sees_them() {
    let (app, _ends) = pinging(Duration::from_millis(100), Duration::from_secs(1));
    let server = serve_with(app, |server| server);
    let (mut ws, _) = connect(server.local_addr(), "/watch").await;
    // Past the ping timeout: a peer that did not answer would have been closed by now.
    let got = read_for(&mut ws, Duration::from_millis(2500)).await;
    let pings = got.iter().filter(|m| is_keepalive_ping(m)).count();
    assert!(pings >= 3, "the server pings every 100 ms: {got:?}");
    // The pongs went back, and the handler was not told of them.
    assert!(got.iter().all(is_keepalive_ping), "{got:?}");
    ws.send(Message::text("still here")).await.unwrap();
    let got = read_for(&mut ws, Duration::from_millis(300)).await;
    assert!(got.contains(&Message::text("echo: still here")), "{got:?}");
    // A ping of the client's own still reaches the handler.
    ws.send(Message::Ping("mine".into())).await.unwrap();
    let got = read_for(&mut ws, Duration::from_millis(300)).await;
    assert!(got.contains(&Message::text("saw ping")), "{got:?}");
    assert!(!got.contains(&Message::text("saw pong")), "{got:?}");
    drop(ws);
    server.stop().await.unwrap();
}

#[portico::test]
async fn the_server_reads_ahead_for_a_handler_that_is_not_receiving() {
    let (app, _ends) = pinging(Duration::from_millis(100), Duration::from_secs(1));
    // `/sleep` never ends by itself: the shutdown cuts it.
    let server = serve_with(app, |server| {
        server.shutdown_timeout(Duration::from_millis(300))
    });
    for path in ["/late", "/sleep"] {
        let (mut ws, _) = connect(server.local_addr(), path).await;
        ws.send(Message::text("early")).await.unwrap();
        // The handler is not receiving, yet the pongs are heard: the WebSocket stays open
        // past the ping timeout.
        let got = read_for(&mut ws, Duration::from_millis(2500)).await;
        assert!(
            got.iter().filter(|m| is_keepalive_ping(m)).count() >= 3,
            "{got:?}"
        );
        assert!(!got.iter().any(Message::is_close), "{got:?}");
        if path == "/late" {
            // What was read ahead is the handler's first message, when it asks.
            assert!(got.contains(&Message::text("late: early")), "{got:?}");
        }
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_silent_peer_is_closed_with_1011() {
    let (app, mut ends) = pinging(Duration::from_millis(100), Duration::from_millis(200));
    let server = serve_with(app, |server| server.max_connections(2));
    let addr = server.local_addr();
    let (mut ws, _) = connect(addr, "/rooms/lobby?greeting=hi").await;
    assert_eq!(next(&mut ws).await, Some(Message::text("hi from lobby")));
    // A client that never answers anything, to a handler that never receives.
    let mut asleep = TcpStream::connect(addr).await.unwrap();
    asleep
        .write_all(
            b"GET /sleep HTTP/1.1\r\nhost: t\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
              sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    // Neither client reads, so neither answers the pings: the handler waiting in `receive`
    // is told...
    let ended = next_end(&mut ends).await;
    assert_eq!(
        ended,
        WebSocketDisconnect::new(close_code::INTERNAL_ERROR, "keepalive ping timeout")
    );
    let frame = close_frame(&mut ws).await;
    assert_eq!(u16::from(frame.code), close_code::INTERNAL_ERROR);
    assert_eq!(frame.reason.as_str(), "keepalive ping timeout");
    let rt = portico::rt::current().unwrap();
    let end = rt.timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = ws.next().await {}
    });
    end.await.expect("the server ends the connection");
    // ...and the one that never receives is dropped after the close timeout: the server
    // switched protocols, pinged, closed with 1011 and ended the connection.
    let mut raw = Vec::new();
    rt.timeout(Duration::from_secs(10), asleep.read_to_end(&mut raw))
        .await
        .expect("the server ends the silent connection")
        .unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    let ping = [&[0x89, 17][..], b"portico keepalive"].concat();
    assert!(raw.windows(ping.len()).any(|w| w == ping));
    let close = [&[0x88, 24, 0x03, 0xf3][..], b"keepalive ping timeout"].concat();
    assert!(raw.ends_with(&close), "{:?}", String::from_utf8_lossy(&raw));
    // Both places under max_connections are free again.
    let mut conns = Vec::new();
    for _ in 0..2 {
        let mut conn = support::Conn::open(addr).await;
        conn.send(b"GET /both/x HTTP/1.1\r\nhost: t\r\n\r\n").await;
        assert_eq!(conn.response().await.unwrap().status, 200);
        conns.push(conn);
    }
    drop(conns);
    assert!(server.stop().await.unwrap().is_graceful());
}

/// Does not receive for a second, then sends, and reports how that went.
async fn slow_sender(ws: WebSocket, State(ended): State<Ended>) -> Result<(), WebSocketError> {
    ws.accept().await?;
    portico::rt::current()
        .unwrap()
        .sleep(Duration::from_secs(1))
        .await;
    let sent = ws.send_text("too late").await;
    let _ = ended
        .0
        .send(sent.unwrap_err().disconnect().unwrap().clone())
        .await;
    Ok(())
}

/// Closes as a browser tab that goes away does: 1001.
async fn close_tab(ws: &mut Client) {
    let frame = CloseFrame {
        code: CloseCode::Away,
        reason: "tab closed".into(),
    };
    ws.close(Some(frame)).await.unwrap();
}

#[portico::test]
async fn a_peer_that_closes_while_the_handler_is_not_receiving_is_answered() {
    // A handler that never receives: the server answers the close frame and, a close timeout
    // later, ends the connection (the handler is dropped).
    let (app, _ends) = pinging(Duration::from_millis(100), Duration::from_secs(1));
    let server = serve_with(app, |server| server);
    let (mut ws, _) = connect(server.local_addr(), "/sleep").await;
    close_tab(&mut ws).await;
    let frame = close_frame(&mut ws).await;
    assert_eq!(u16::from(frame.code), close_code::GOING_AWAY);
    assert_eq!(next(&mut ws).await, None);
    server.stop().await.unwrap();

    // A handler that sends later learns how the peer closed.
    let (sender, mut ends) = memory_stream(8);
    let config = WebSocketConfig::default()
        .ping_interval(Some(Duration::from_millis(100)))
        .close_timeout(Duration::from_secs(5));
    let app = App::new()
        .state(Ended(sender))
        .websocket_config(config)
        .websocket("/slow", slow_sender);
    let server = serve_with(app, |server| server);
    let (mut ws, _) = connect(server.local_addr(), "/slow").await;
    close_tab(&mut ws).await;
    assert_eq!(
        next_end(&mut ends).await,
        WebSocketDisconnect::new(close_code::GOING_AWAY, "tab closed")
    );
    assert!(server.stop().await.unwrap().is_graceful());
}
