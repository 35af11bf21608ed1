//! One span per request, with its method, route template, status and latency; one per
//! WebSocket, with its route and close code.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use portico::testing::TestClient;
use portico::{App, Path, WebSocket, WebSocketError};

/// Log lines of this file's tests, captured once for the process.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(sink.clone()))
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

#[portico::test]
async fn each_request_has_a_span_with_its_route_status_and_latency() {
    let logs = logs();
    let client = TestClient::new(App::new().get("/traced/{id}", item));
    assert_eq!(client.get("/traced/7").await.status(), 200);
    assert_eq!(client.get("/traced/x").await.status(), 422);
    assert_eq!(client.delete("/traced/7").await.status(), 405);
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    let answered: Vec<&str> = logged.lines().filter(|l| l.contains("/traced/")).collect();
    assert!(
        answered
            .iter()
            .any(|l| l.contains("request{method=GET route=/traced/{id}")
                && l.contains("answered status=200 latency_us=")),
        "{logged}"
    );
    assert!(
        answered.iter().any(|l| l.contains("answered status=422")),
        "{logged}"
    );
    assert!(
        answered
            .iter()
            .any(|l| l.contains("request{method=DELETE route=/traced/{id}")
                && l.contains("status=405")),
        "{logged}"
    );
}

#[portico::test]
async fn the_request_id_is_in_the_span_and_the_log_line_comes_after_the_middleware() {
    use portico::middleware::SetRequestId;
    let logs = logs();
    let client = TestClient::new(
        App::new()
            .get("/with-id/{id}", item)
            .add_middleware(SetRequestId::new()),
    );
    let response = client
        .get("/with-id/3")
        .header("x-request-id", "trace-me-123")
        .await;
    assert_eq!(response.status(), 200);
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.lines().any(|l| l.contains("route=/with-id/{id}")
            && l.contains("request_id=\"trace-me-123\"")
            && l.contains("answered status=200")),
        "{logged}"
    );
}

async fn traced_socket(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    ws.close(4321, "traced").await
}

#[portico::test]
async fn each_websocket_has_a_span_with_its_route_and_close_code() {
    let logs = logs();
    let client = TestClient::new(App::new().websocket("/traced-socket", traced_socket));
    let mut ws = client.websocket_connect("/traced-socket").await.unwrap();
    assert!(ws.receive().await.unwrap_err().is_disconnect());
    let rt = portico::rt::current().unwrap();
    let mut logged = String::new();
    for _ in 0..200 {
        logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        if logged.contains("closed close_code=4321") {
            break;
        }
        rt.sleep(std::time::Duration::from_millis(10)).await;
    }
    let lines: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("/traced-socket"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("request{method=GET route=/traced-socket")
                && l.contains("answered status=101")),
        "{logged}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("websocket{route=/traced-socket")
                && l.contains("closed close_code=4321")),
        "{logged}"
    );
}
