//! WebSockets: `docs_src/websockets_/tutorial001` to `tutorial003` (the `_an` variant of 002 is
//! the same app).
//!
//! FastAPI's tests wrap a session in `pytest.raises(WebSocketDisconnect)`: leaving the `with`
//! block closes the WebSocket, the handler's `receive_text` raises, and Starlette's test client
//! raises it again. A Portico handler gets the close as `Err(WebSocketError::Disconnected)`,
//! which its `?` returns, and that ends it normally; the ports close the session. (A
//! `pytest.raises` is not an `assert`: not counted.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use portico::testing::{TestClient, WebSocketTestSession};
use portico::websocket::close_code;
use portico::{App, Depends, Html, State, WebSocket, WebSocketDisconnect, WebSocketError};

/// Each app's page at `/`: a chat box that talks to the app's WebSocket (`url` in the
/// script's `new WebSocket(...)`).
fn chat_page(title: &str, url: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html>
<head><title>{title}</title></head>
<body>
    <h1>{title}</h1>
    <form id="chat"><input id="text" autocomplete="off"><button>Send</button></form>
    <ol id="log"></ol>
    <script>
        const socket = new WebSocket({url});
        socket.addEventListener("message", (event) => {{
            const line = document.createElement("li");
            line.textContent = event.data;
            document.getElementById("log").append(line);
        }});
        document.getElementById("chat").addEventListener("submit", (event) => {{
            event.preventDefault();
            const input = document.getElementById("text");
            socket.send(input.value);
            input.value = "";
        }});
    </script>
</body>
</html>
"#
    )
}

/// Closes the session as leaving FastAPI's `with` block does.
async fn close(mut session: WebSocketTestSession) {
    session.close(close_code::NORMAL_CLOSURE, "").await.unwrap();
}

mod tutorial001 {
    use super::*;

    async fn get() -> Html<String> {
        Html(chat_page("Echo", r#""ws://localhost:8000/ws""#))
    }

    async fn websocket_endpoint(websocket: WebSocket) -> Result<(), WebSocketError> {
        websocket.accept().await?;
        loop {
            let data = websocket.receive_text().await?;
            websocket
                .send_text(format!("Message text was: {data}"))
                .await?;
        }
    }

    fn app() -> App {
        App::new()
            .get("/", get)
            .websocket("/ws", websocket_endpoint)
    }

    #[portico::test]
    async fn main() {
        let client = TestClient::new(app());
        let response = client.get("/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert!(response.text().contains("<!DOCTYPE html>"));
    }

    #[portico::test]
    async fn websocket() {
        let client = TestClient::new(app());
        let mut websocket = client.websocket_connect("/ws").await.unwrap();
        for message in ["Message one", "Message two"] {
            websocket.send_text(message).await.unwrap();
            let data = websocket.receive_text().await.unwrap();
            assert_eq!(data, format!("Message text was: {message}"));
        }
        close(websocket).await;
    }
}

/// Parameters and a dependency of a WebSocket route. FastAPI's dependency raises
/// `WebSocketException(code=1008)`; a Portico dependency closes the WebSocket it takes with
/// that code, before accepting, and fails: the client's `websocket_connect` gets the close.
mod tutorial002 {
    use super::*;

    struct CookieOrToken(String);

    #[portico::provider]
    async fn get_cookie_or_token(
        websocket: WebSocket,
        #[cookie] session: Option<String>,
        #[query] token: Option<String>,
    ) -> Result<CookieOrToken, WebSocketError> {
        match session.or(token) {
            Some(value) => Ok(CookieOrToken(value)),
            None => {
                websocket.close(close_code::POLICY_VIOLATION, "").await?;
                Err(WebSocketDisconnect::new(close_code::POLICY_VIOLATION, "").into())
            }
        }
    }

    async fn get() -> Html<String> {
        let url = r#""ws://localhost:8000/items/foo/ws?token=some-key-token""#;
        Html(chat_page("Items", url))
    }

    #[portico::handler]
    async fn websocket_endpoint(
        websocket: WebSocket,
        #[path] item_id: String,
        #[query] q: Option<i64>,
        Depends(cookie_or_token): Depends<CookieOrToken>,
    ) -> Result<(), WebSocketError> {
        websocket.accept().await?;
        loop {
            let data = websocket.receive_text().await?;
            websocket
                .send_text(format!(
                    "Session cookie or query token value is: {}",
                    cookie_or_token.0
                ))
                .await?;
            if let Some(q) = q {
                websocket
                    .send_text(format!("Query parameter q is: {q}"))
                    .await?;
            }
            websocket
                .send_text(format!("Message text was: {data}, for item ID: {item_id}"))
                .await?;
        }
    }

    fn app() -> App {
        App::new()
            .provide(get_cookie_or_token)
            .get("/", get)
            .websocket("/items/{item_id}/ws", websocket_endpoint)
    }

    /// Sends two messages and checks each answer, line by line.
    async fn converse(client: &TestClient, path: &str, answers: &[&str]) {
        let mut websocket = client.websocket_connect(path).await.unwrap();
        for message in ["Message one", "Message two"] {
            websocket.send_text(message).await.unwrap();
            for answer in answers {
                let data = websocket.receive_text().await.unwrap();
                assert_eq!(data, answer.replace("{message}", message));
            }
        }
        close(websocket).await;
    }

    #[portico::test]
    async fn main() {
        let client = TestClient::new(app());
        let response = client.get("/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert!(response.text().contains("<!DOCTYPE html>"));
    }

    #[portico::test]
    async fn websocket_with_cookie() {
        // `TestClient(app, cookies={"session": "fakesession"})`.
        let client = TestClient::new(app());
        client.set_cookie("session", "fakesession");
        let answers = [
            "Session cookie or query token value is: fakesession",
            "Message text was: {message}, for item ID: foo",
        ];
        converse(&client, "/items/foo/ws", &answers).await;
    }

    #[portico::test]
    async fn websocket_with_header() {
        let client = TestClient::new(app());
        let answers = [
            "Session cookie or query token value is: some-token",
            "Message text was: {message}, for item ID: bar",
        ];
        converse(&client, "/items/bar/ws?token=some-token", &answers).await;
    }

    #[portico::test]
    async fn websocket_with_header_and_query() {
        let client = TestClient::new(app());
        let answers = [
            "Session cookie or query token value is: some-token",
            "Query parameter q is: 3",
            "Message text was: {message}, for item ID: 2",
        ];
        converse(&client, "/items/2/ws?q=3&token=some-token", &answers).await;
    }

    #[portico::test]
    async fn websocket_no_credentials() {
        let client = TestClient::new(app());
        let refused = client.websocket_connect("/items/foo/ws").await.unwrap_err();
        assert_eq!(
            refused.disconnect(),
            Some(&WebSocketDisconnect::new(close_code::POLICY_VIOLATION, ""))
        );
    }

    #[portico::test]
    async fn websocket_invalid_data() {
        let client = TestClient::new(app());
        let refused = client
            .websocket_connect("/items/foo/ws?q=bar&token=some-token")
            .await
            .unwrap_err();
        let closed = refused.disconnect().unwrap();
        assert_eq!(closed.code, close_code::POLICY_VIOLATION);
        assert!(closed.reason.contains(r#""loc":["query","q"]"#), "{closed}");
    }
}

/// A chat room: a connection manager shared by the WebSockets, held as state. FastAPI's
/// manager removes a WebSocket by value; a Portico `WebSocket` is a handle, so the manager
/// numbers its connections.
mod tutorial003 {
    use super::*;

    #[derive(Clone, Default)]
    struct ConnectionManager {
        active_connections: Arc<Mutex<Vec<(u64, WebSocket)>>>,
        next: Arc<AtomicU64>,
    }

    impl ConnectionManager {
        /// Accepts the WebSocket and adds it to the room. It is added first: its client sees
        /// the WebSocket open before `accept` has returned here, and a broadcast from then on
        /// must reach it. (A message sent to it during the accept waits for the accept.)
        async fn connect(&self, websocket: &WebSocket) -> Result<u64, WebSocketError> {
            let id = self.next.fetch_add(1, Ordering::Relaxed);
            let connections = &self.active_connections;
            connections.lock().unwrap().push((id, websocket.clone()));
            if let Err(err) = websocket.accept().await {
                self.disconnect(id);
                return Err(err);
            }
            Ok(id)
        }

        fn disconnect(&self, id: u64) {
            let mut connections = self.active_connections.lock().unwrap();
            connections.retain(|(other, _)| *other != id);
        }

        async fn send_personal_message(
            &self,
            message: &str,
            websocket: &WebSocket,
        ) -> Result<(), WebSocketError> {
            websocket.send_text(message).await
        }

        async fn broadcast(&self, message: &str) {
            // Sent outside the lock; a WebSocket closing meanwhile is left to its own handler,
            // which removes it.
            let connections: Vec<WebSocket> = {
                let connections = self.active_connections.lock().unwrap();
                connections.iter().map(|(_, ws)| ws.clone()).collect()
            };
            for connection in connections {
                let _ = connection.send_text(message).await;
            }
        }
    }

    fn html() -> String {
        let url = "`ws://localhost:8000/ws/${Date.now()}`";
        chat_page("Chat room", url)
    }

    async fn get() -> Html<String> {
        Html(html())
    }

    #[portico::handler]
    async fn websocket_endpoint(
        websocket: WebSocket,
        #[path] client_id: i64,
        State(manager): State<ConnectionManager>,
    ) -> Result<(), WebSocketError> {
        let id = manager.connect(&websocket).await?;
        let ended = loop {
            let data = match websocket.receive_text().await {
                Ok(data) => data,
                Err(err) => break err,
            };
            let personal = format!("You wrote: {data}");
            if let Err(err) = manager.send_personal_message(&personal, &websocket).await {
                break err;
            }
            manager
                .broadcast(&format!("Client #{client_id} says: {data}"))
                .await;
        };
        manager.disconnect(id);
        if ended.is_disconnect() {
            manager
                .broadcast(&format!("Client #{client_id} left the chat"))
                .await;
            return Ok(());
        }
        Err(ended)
    }

    fn app() -> App {
        App::new()
            .state(ConnectionManager::default())
            .get("/", get)
            .websocket("/ws/{client_id}", websocket_endpoint)
    }

    #[portico::test]
    async fn get_page() {
        let client = TestClient::new(app());
        let response = client.get("/").await;
        assert_eq!(response.text(), html());
    }

    #[portico::test]
    async fn websocket_handle_disconnection() {
        let client = TestClient::new(app());
        let mut connection = client.websocket_connect("/ws/1234").await.unwrap();
        let mut connection_two = client.websocket_connect("/ws/5678").await.unwrap();
        connection.send_text("Hello from 1234").await.unwrap();
        let data1 = connection.receive_text().await.unwrap();
        assert_eq!(data1, "You wrote: Hello from 1234");
        let data2 = connection_two.receive_text().await.unwrap();
        let client1_says = "Client #1234 says: Hello from 1234";
        assert_eq!(data2, client1_says);
        let data1 = connection.receive_text().await.unwrap();
        assert_eq!(data1, client1_says);
        connection_two
            .close(close_code::NORMAL_CLOSURE, "")
            .await
            .unwrap();
        let data1 = connection.receive_text().await.unwrap();
        assert_eq!(data1, "Client #5678 left the chat");
        close(connection).await;
    }
}
