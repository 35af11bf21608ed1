//! WebSockets over a real server on loopback, with a real WebSocket client: a round trip, the
//! 1008 close of an invalid parameter after the upgrade, graceful shutdown (1001 to open
//! WebSockets, within the grace period), a page and a WebSocket on one path, and open
//! WebSockets counted under `max_connections`.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{self, Message};
use futures_lite::StreamExt;
use portico::rt::TcpStream;
use portico::tasks::{MemoryReceiver, MemorySender, memory_stream};
use portico::websocket::close_code;
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
