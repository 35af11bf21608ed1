//! Background tasks: `docs_src/background_tasks/tutorial001` and `tutorial002` (the `_an`
//! variant is the same app).
//!
//! The tutorials write `log.txt` in the working directory; every test here runs twice at once
//! (tokio and smol), so each app writes a file of its own, given to it as state.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use portico::testing::TestClient;
use portico::{App, BackgroundTasks, Depends, HttpError, Json, Path, State};
use serde_json::{Value, json};

/// Where an app writes its `log.txt`.
#[derive(Clone)]
struct LogFile(PathBuf);

impl LogFile {
    /// A fresh path, removed if it exists (as FastAPI's test removes `log.txt`).
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "portico-fastapi-log-{}-{}.txt",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn read(&self) -> String {
        let content = std::fs::read_to_string(&self.0).unwrap();
        let _ = std::fs::remove_file(&self.0);
        content
    }
}

mod tutorial001 {
    use super::*;

    fn write_notification(log: &LogFile, email: &str, message: &str) {
        let content = format!("notification for {email}: {message}");
        std::fs::write(&log.0, content).unwrap();
    }

    async fn send_notification(
        Path(email): Path<String>,
        tasks: BackgroundTasks,
        State(log): State<LogFile>,
    ) -> Json<Value> {
        tasks.add(move || write_notification(&log, &email, "some notification"));
        Json(json!({"message": "Notification sent in the background"}))
    }

    #[portico::test]
    async fn test() {
        let log = LogFile::new();
        let app = App::new()
            .state(log.clone())
            .post("/send-notification/{email}", send_notification);
        let client = TestClient::new(app);
        let response = client.post("/send-notification/foo@example.com").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"message": "Notification sent in the background"})
        );
        assert!(
            log.read()
                .contains("notification for foo@example.com: some notification")
        );
    }
}

mod tutorial002 {
    use super::*;

    fn write_log(log: &LogFile, message: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log.0)
            .unwrap();
        file.write_all(message.as_bytes()).unwrap();
    }

    struct Q(
        #[allow(dead_code, reason = "the tutorial's handler takes q and ignores it")]
        Option<String>,
    );

    #[portico::provider]
    async fn get_query(
        tasks: BackgroundTasks,
        State(log): State<LogFile>,
        #[query] q: Option<String>,
    ) -> Result<Q, HttpError> {
        if let Some(q) = q.as_deref().filter(|q| !q.is_empty()) {
            let message = format!("found query: {q}\n");
            tasks.add(move || write_log(&log, &message));
        }
        Ok(Q(q))
    }

    async fn send_notification(
        Path(email): Path<String>,
        tasks: BackgroundTasks,
        State(log): State<LogFile>,
        Depends(_q): Depends<Q>,
    ) -> Json<Value> {
        let message = format!("message to {email}\n");
        tasks.add(move || write_log(&log, &message));
        Json(json!({"message": "Message sent"}))
    }

    #[portico::test]
    async fn test() {
        let log = LogFile::new();
        let app = App::new()
            .state(log.clone())
            .provide(get_query)
            .post("/send-notification/{email}", send_notification);
        let client = TestClient::new(app);
        let response = client
            .post("/send-notification/foo@example.com?q=some-query")
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"message": "Message sent"}));
        assert!(
            log.read()
                .contains("found query: some-query\nmessage to foo@example.com")
        );
    }
}
