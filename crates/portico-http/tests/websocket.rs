//! WebSocket routes through the test client, in-process: messages both ways, pings, the
//! subprotocol, closes both ways, the disconnect a handler sees, parameters and dependencies
//! from the handshake, 1008 for an invalid one, 1009 for a message too large, refusals, a
//! handler that sends while another task receives, a WebSocket and a page on one path, and
//! the OpenAPI document. (The same
//! routes over a real server are in `websocket_server.rs`.)

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use portico::tasks::{MemoryReceiver, MemorySender, memory_stream};
use portico::testing::{TestClient, blocking_client_on};
use portico::websocket::{Message, WebSocketConfig, close_code};
use portico::{
    App, Cookie, Depends, Header, HttpError, Outcome, Path, Provider, Query, Router, RuntimeKind,
    State, WebSocket, WebSocketDisconnect, WebSocketError,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Where a handler reports how its WebSocket ended.
#[derive(Clone)]
struct Ended(MemorySender<WebSocketDisconnect>);

fn ended() -> (Ended, MemoryReceiver<WebSocketDisconnect>) {
    let (sender, receiver) = memory_stream(8);
    (Ended(sender), receiver)
}

async fn next_end(receiver: &mut MemoryReceiver<WebSocketDisconnect>) -> WebSocketDisconnect {
    let rt = portico::rt::current().unwrap();
    rt.timeout(Duration::from_secs(10), receiver.recv())
        .await
        .expect("the handler reports how its WebSocket ended")
        .unwrap()
}

/// Echoes text, bytes and JSON, then reports how the WebSocket ended.
async fn echo(ws: WebSocket, State(ended): State<Ended>) -> Result<(), WebSocketError> {
    ws.accept().await?;
    loop {
        let result = match ws.receive().await {
            Ok(Message::Text(text)) if text.starts_with(['{', '[']) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                ws.send_json(&json!({ "echo": value })).await
            }
            Ok(Message::Text(text)) => ws.send_text(format!("echo: {text}")).await,
            Ok(Message::Binary(bytes)) => ws.send_bytes([&b"echo: "[..], &bytes].concat()).await,
            Ok(_) => Ok(()),
            Err(err) => {
                let _ = ended.0.send(err.disconnect().unwrap().clone()).await;
                return Err(err);
            }
        };
        result?;
    }
}

#[portico::test]
async fn text_bytes_and_json_go_both_ways() {
    let (state, _ended) = ended();
    let client = TestClient::new(App::new().state(state).websocket("/echo", echo));
    let mut ws = client.websocket_connect("/echo").await.unwrap();
    ws.send_text("hello").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "echo: hello");
    ws.send_bytes(Bytes::from_static(b"\x00\x01"))
        .await
        .unwrap();
    assert_eq!(ws.receive_bytes().await.unwrap(), &b"echo: \x00\x01"[..]);
    ws.send_json(&json!({ "n": 1 })).await.unwrap();
    assert_eq!(
        ws.receive_json::<Value>().await.unwrap(),
        json!({ "echo": { "n": 1 } })
    );
    // Asking for text when bytes come is a typed error, not a panic.
    ws.send_bytes(vec![1u8]).await.unwrap();
    let err = ws.receive_text().await.unwrap_err();
    assert!(matches!(
        err,
        WebSocketError::UnexpectedMessage {
            expected: "text",
            ..
        }
    ));
}

async fn pinger(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    ws.ping(&b"are you there"[..]).await?;
    let Message::Pong(payload) = ws.receive().await? else {
        panic!("expected the pong first");
    };
    ws.send_text(format!("pong: {}", String::from_utf8_lossy(&payload)))
        .await?;
    let got = ws.receive().await?;
    ws.send_text(format!("got {}", got.kind())).await?;
    ws.receive().await.map(drop)
}

#[portico::test]
async fn pings_are_answered_with_pongs_both_ways() {
    let client = TestClient::new(App::new().websocket("/ping", pinger));
    let mut ws = client.websocket_connect("/ping").await.unwrap();
    assert_eq!(
        ws.receive().await.unwrap(),
        Message::Ping(Bytes::from_static(b"are you there"))
    );
    // Reading on answers the ping.
    assert_eq!(ws.receive_text().await.unwrap(), "pong: are you there");
    ws.send(Message::Ping(Bytes::from_static(b"and you?")))
        .await
        .unwrap();
    // The handler saw the ping, and the pong came back (in the order the server wrote them).
    let mut got = vec![ws.receive().await.unwrap(), ws.receive().await.unwrap()];
    got.sort_by_key(|message| message.kind());
    assert_eq!(
        got,
        [
            Message::Pong(Bytes::from_static(b"and you?")),
            Message::Text("got ping".to_owned())
        ]
    );
}

async fn negotiate(ws: WebSocket) -> Result<(), WebSocketError> {
    let offered = ws.subprotocols().to_vec();
    let refused = ws.accept_subprotocol("not-offered").await.unwrap_err();
    assert!(matches!(refused, WebSocketError::State(_)));
    ws.accept_subprotocol(offered[1].clone()).await?;
    ws.send_json(&offered).await?;
    // Accepting twice is a typed error too.
    let twice = ws.accept().await.unwrap_err();
    ws.send_text(twice.to_string()).await?;
    ws.close(close_code::NORMAL_CLOSURE, "").await
}

#[portico::test]
async fn the_handler_picks_one_of_the_offered_subprotocols() {
    let client = TestClient::new(App::new().websocket("/proto", negotiate));
    let mut ws = client
        .websocket_connect("/proto")
        .subprotocol("v1.chat")
        .subprotocol("v2.chat")
        .await
        .unwrap();
    assert_eq!(ws.subprotocol(), Some("v2.chat"));
    assert_eq!(ws.headers()["sec-websocket-protocol"], "v2.chat");
    assert_eq!(
        ws.receive_json::<Vec<String>>().await.unwrap(),
        ["v1.chat", "v2.chat"]
    );
    assert_eq!(
        ws.receive_text().await.unwrap(),
        "the WebSocket was accepted or closed already"
    );
    let closed = ws.receive().await.unwrap_err();
    assert_eq!(closed.disconnect().unwrap().code, 1000);
}

async fn closer(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    ws.close(4001, "room closed").await?;
    // Sending after closing is a typed error with this side's close.
    let err = ws.send_text("too late").await.unwrap_err();
    assert_eq!(err.disconnect().unwrap().code, 4001);
    Ok(())
}

#[portico::test]
async fn the_handlers_close_code_and_reason_reach_the_client() {
    let client = TestClient::new(App::new().websocket("/close", closer));
    let mut ws = client.websocket_connect("/close").await.unwrap();
    let err = ws.receive_text().await.unwrap_err();
    assert_eq!(
        err.disconnect(),
        Some(&WebSocketDisconnect::new(4001, "room closed"))
    );
    // And again: the session stays closed.
    assert!(ws.receive().await.unwrap_err().is_disconnect());
    assert!(ws.send_text("anyone?").await.unwrap_err().is_disconnect());
}

#[portico::test]
async fn a_client_close_reaches_the_handler_as_a_typed_disconnect() {
    let (state, mut ends) = ended();
    let client = TestClient::new(App::new().state(state).websocket("/echo", echo));
    let mut ws = client.websocket_connect("/echo").await.unwrap();
    ws.send_text("hi").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "echo: hi");
    ws.close(4002, "bye").await.unwrap();
    assert_eq!(
        next_end(&mut ends).await,
        WebSocketDisconnect::new(4002, "bye")
    );
    // A client that just goes away: 1006, abnormal closure.
    let ws = client.websocket_connect("/echo").await.unwrap();
    drop(ws);
    assert_eq!(next_end(&mut ends).await.code, close_code::ABNORMAL_CLOSURE);
}

#[derive(Deserialize, JsonSchema)]
struct Paging {
    limit: u32,
}

#[derive(Deserialize, JsonSchema)]
struct Agent {
    x_client: String,
}

#[derive(Deserialize, JsonSchema)]
struct Session {
    session: String,
}

struct User(String);

async fn current_user(Header(agent): Header<Agent>) -> Result<User, HttpError> {
    if agent.x_client == "intruder" {
        return Err(HttpError::unauthorized().detail("Who are you?"));
    }
    Ok(User(format!("user of {}", agent.x_client)))
}

async fn room(
    ws: WebSocket,
    Path(room): Path<String>,
    Query(paging): Query<Paging>,
    Cookie(session): Cookie<Session>,
    Depends(user): Depends<User>,
) -> Result<(), WebSocketError> {
    ws.accept().await?;
    ws.send_json(&json!({
        "room": room,
        "limit": paging.limit,
        "session": session.session,
        "user": user.0,
    }))
    .await?;
    ws.close(close_code::NORMAL_CLOSURE, "").await
}

fn rooms_app(calls: Arc<Mutex<usize>>) -> App {
    let counted = move || {
        *calls.lock().unwrap() += 1;
        Ok::<_, HttpError>(())
    };
    App::new().provide(current_user).provide(counted).include(
        Router::new()
            .prefix("/rooms")
            .dependency::<()>()
            .websocket("/{room}", room),
    )
}

#[portico::test]
async fn parameters_and_dependencies_come_from_the_handshake() {
    let client = TestClient::new(rooms_app(Arc::default()));
    let mut ws = client
        .websocket_connect("/rooms/lobby?limit=5")
        .header("x-client", "tests")
        .cookie("session", "s-1")
        .await
        .unwrap();
    assert_eq!(
        ws.receive_json::<Value>().await.unwrap(),
        json!({ "room": "lobby", "limit": 5, "session": "s-1", "user": "user of tests" })
    );
}

#[portico::test]
async fn an_invalid_parameter_closes_with_1008_before_the_handler_runs() {
    let calls = Arc::new(Mutex::new(0));
    let client = TestClient::new(rooms_app(calls.clone()));
    let refused = client
        .websocket_connect("/rooms/lobby?limit=many")
        .header("x-client", "tests")
        .await
        .unwrap_err();
    let closed = refused.disconnect().unwrap();
    assert_eq!(closed.code, close_code::POLICY_VIOLATION);
    // The reason is FastAPI's list of errors, as JSON (fit into a close frame): the invalid
    // query parameter and the missing cookie.
    let errors: Value = serde_json::from_str(&closed.reason).unwrap();
    let locs: Vec<&Value> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    assert_eq!(
        locs,
        [&json!(["query", "limit"]), &json!(["cookie", "session"])]
    );
    // The router's dependency ran; the handler did not accept anything.
    assert_eq!(*calls.lock().unwrap(), 1);
}

#[portico::test]
async fn a_dependency_that_refuses_answers_the_handshake_with_its_response() {
    let client = TestClient::new(rooms_app(Arc::default()));
    let refused = client
        .websocket_connect("/rooms/lobby?limit=1")
        .header("x-client", "intruder")
        .cookie("session", "s-1")
        .await
        .unwrap_err();
    let response = refused.response().unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>(),
        json!({ "detail": "Who are you?" })
    );
}

#[portico::test]
async fn a_message_past_the_limit_closes_with_1009() {
    let (state, mut ends) = ended();
    let app = App::new()
        .state(state)
        .websocket_config(WebSocketConfig::default().max_message_size(16))
        .websocket("/echo", echo);
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/echo").await.unwrap();
    ws.send_text("small").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "echo: small");
    ws.send_text("x".repeat(100)).await.unwrap();
    let closed = ws.receive().await.unwrap_err();
    assert_eq!(
        closed.disconnect(),
        Some(&WebSocketDisconnect::new(1009, "Message too big"))
    );
    assert_eq!(next_end(&mut ends).await.code, close_code::MESSAGE_TOO_BIG);
}

#[portico::test]
async fn plain_http_to_a_websocket_route_gets_a_clear_4xx() {
    let (state, _ended) = ended();
    let client = TestClient::new(App::new().state(state).websocket("/echo", echo));
    let response = client.get("/echo").await;
    assert_eq!(response.status(), 426);
    assert_eq!(response.header("upgrade"), Some("websocket"));
    assert_eq!(
        response.json::<Value>(),
        json!({ "detail": "This path is a WebSocket: open it with a WebSocket client" })
    );
    let response = client.post("/echo").await;
    assert_eq!(response.status(), 405);
    // An unknown protocol version.
    let response = client
        .get("/echo")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-version", "8")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .await;
    assert_eq!(response.status(), 426);
    assert_eq!(response.header("sec-websocket-version"), Some("13"));
    // A key that is not 16 bytes of base64.
    let response = client
        .get("/echo")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "short")
        .await;
    assert_eq!(response.status(), 400);
}

async fn undecided() -> &'static str {
    "not today"
}

async fn reluctant(_ws: WebSocket) {}

async fn broken(ws: WebSocket) {
    ws.accept().await.unwrap();
    panic!("the handler broke");
}

#[portico::test]
async fn a_handler_that_does_not_accept_refuses_and_one_that_panics_closes_with_1011() {
    let app = App::new()
        .websocket("/reluctant", reluctant)
        .websocket("/broken", broken)
        .get("/plain", undecided);
    let client = TestClient::new(app);
    let refused = client.websocket_connect("/reluctant").await.unwrap_err();
    assert_eq!(refused.response().unwrap().status(), 403);
    let mut ws = client.websocket_connect("/broken").await.unwrap();
    let closed = ws.receive().await.unwrap_err();
    assert_eq!(
        closed.disconnect(),
        Some(&WebSocketDisconnect::new(1011, "Internal Error"))
    );
    // A path that is not a WebSocket route answers as HTTP.
    let refused = client.websocket_connect("/plain").await.unwrap_err();
    assert_eq!(refused.response().unwrap().text(), "not today");
}

/// A chat room in miniature: one task reads the client's messages into the room while the
/// handler writes what the room broadcasts.
async fn chat(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    let (sender, receiver) = ws.split();
    let (room_in, mut room_out) = memory_stream::<String>(16);
    let rt = portico::rt::current().unwrap();
    let reader = rt.spawn(async move {
        while let Ok(text) = receiver.receive_text().await {
            if room_in.send(text).await.is_err() {
                break;
            }
        }
    });
    sender.send_text("welcome").await?;
    while let Ok(text) = room_out.recv().await {
        sender.send_text(format!("broadcast: {text}")).await?;
    }
    drop(reader);
    Ok(())
}

#[portico::test]
async fn one_task_receives_while_another_sends() {
    let client = TestClient::new(App::new().websocket("/chat", chat));
    let mut ws = client.websocket_connect("/chat").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "welcome");
    for word in ["a", "b", "c"] {
        ws.send_text(word).await.unwrap();
    }
    for word in ["a", "b", "c"] {
        assert_eq!(
            ws.receive_text().await.unwrap(),
            format!("broadcast: {word}")
        );
    }
    ws.close(1000, "").await.unwrap();
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

struct Seat;

fn seats(log: &Log) -> Provider<Seat> {
    let (setup, cleanup) = (log.clone(), log.clone());
    Provider::new(move || {
        setup.0.lock().unwrap().push("seat taken".to_owned());
        Ok::<_, HttpError>(Seat)
    })
    .cleanup(move |_: &Seat, outcome: Outcome| {
        cleanup
            .0
            .lock()
            .unwrap()
            .push(format!("seat freed: {outcome:?}"));
    })
}

async fn seated(
    ws: WebSocket,
    _seat: Depends<Seat>,
    State(log): State<Log>,
) -> Result<(), WebSocketError> {
    ws.accept().await?;
    let text = ws.receive_text().await?;
    log.0.lock().unwrap().push(format!("heard {text}"));
    ws.close(1000, "").await
}

#[portico::test]
async fn a_dependencys_cleanup_waits_for_the_websocket_to_end() {
    let log = Log::default();
    let app = App::new()
        .state(log.clone())
        .provide(seats(&log))
        .websocket("/seat", seated);
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/seat").await.unwrap();
    assert_eq!(*log.0.lock().unwrap(), ["seat taken"]);
    ws.send_text("hello").await.unwrap();
    assert!(ws.receive().await.unwrap_err().is_disconnect());
    let rt = portico::rt::current().unwrap();
    for _ in 0..200 {
        if log.0.lock().unwrap().len() == 3 {
            break;
        }
        rt.sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        *log.0.lock().unwrap(),
        ["seat taken", "heard hello", "seat freed: Success"]
    );
}

async fn page() -> portico::Html<&'static str> {
    portico::Html("<p>the page that opens the socket</p>")
}

#[portico::test]
async fn a_websocket_and_a_plain_get_share_a_path() {
    // Either order of adding them gives the same routes.
    for app in [
        App::new().get("/chat", page).websocket("/chat", echo),
        App::new().websocket("/chat", echo).get("/chat", page),
    ] {
        let (state, _ended) = ended();
        let client = TestClient::new(app.state(state));
        let response = client.get("/chat").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.text(), "<p>the page that opens the socket</p>");
        let response = client.head("/chat").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.text(), "");
        let mut ws = client.websocket_connect("/chat").await.unwrap();
        ws.send_text("hello").await.unwrap();
        assert_eq!(ws.receive_text().await.unwrap(), "echo: hello");
        let response = client.post("/chat").await;
        assert_eq!(response.status(), 405);
        assert_eq!(response.header("allow"), Some("GET, HEAD"));
    }
}

#[portico::test]
async fn a_path_with_only_a_websocket_allows_get_alone() {
    let (state, _ended) = ended();
    let client = TestClient::new(App::new().state(state).websocket("/echo", echo));
    for response in [client.head("/echo").await, client.delete("/echo").await] {
        assert_eq!(response.status(), 405);
        assert_eq!(response.header("allow"), Some("GET"));
    }
}

#[test]
fn two_websocket_routes_on_one_path_are_refused_when_the_app_is_built() {
    let app = App::new()
        .websocket("/ws", reluctant)
        .websocket("/ws", broken);
    let err = app.try_into_service().unwrap_err();
    let problems = err.problems().join("\n");
    assert!(
        problems.contains("two WebSocket handlers for /ws"),
        "{problems}"
    );
}

async fn misplaced(_ws: WebSocket) -> &'static str {
    "unreachable"
}

#[portico::test]
async fn a_websocket_parameter_on_a_plain_route_is_a_server_error() {
    let client = TestClient::new(App::new().get("/misplaced", misplaced));
    assert_eq!(client.get("/misplaced").await.status(), 500);
}

#[test]
fn websocket_routes_are_left_out_of_the_openapi_document() {
    let app = App::new()
        .websocket("/ws", reluctant)
        .get("/plain", undecided)
        .websocket("/both", reluctant)
        .get("/both", page);
    let service = app.into_service();
    let paths = service.openapi()["paths"].as_object().unwrap();
    assert_eq!(paths.keys().collect::<Vec<_>>(), ["/plain", "/both"]);
    // Of a path with both, only the plain `GET` is documented.
    let both = paths["/both"].as_object().unwrap();
    assert_eq!(both.keys().collect::<Vec<_>>(), ["get"]);
    assert_eq!(both["get"]["operationId"], "page_both_get");
}

#[test]
fn the_blocking_client_opens_websockets_on_every_runtime() {
    for rt in RuntimeKind::enabled() {
        let (state, _ended) = ended();
        let client = blocking_client_on(rt, App::new().state(state).websocket("/echo", echo));
        let ws = client.websocket_connect("/echo").connect().unwrap();
        ws.send_text("hi").unwrap();
        assert_eq!(ws.receive_text().unwrap(), "echo: hi", "on {rt:?}");
        ws.send_json(&json!([1, 2])).unwrap();
        assert_eq!(
            ws.receive_json::<Value>().unwrap(),
            json!({ "echo": [1, 2] })
        );
        ws.close(1000, "done").unwrap();
        assert!(ws.receive().unwrap_err().is_disconnect());
    }
}
