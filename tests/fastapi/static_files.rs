//! Static files: `docs_src/static_files/tutorial001`.
//!
//! FastAPI's test makes `static/` in the working directory; here it is a temporary directory
//! of the test's own, removed at the end.

use std::path::PathBuf;

use portico::testing::TestClient;
use portico::{App, StaticFiles};
use serde_json::json;

use crate::support::{assert_document, document};

fn app(directory: PathBuf) -> App {
    App::new().mount_as("/static", "static", StaticFiles::new(directory))
}

/// A `static` directory with `sample.txt`, removed on drop.
struct StaticDir(PathBuf);

impl StaticDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "portico-fastapi-static-files-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let static_dir = dir.join("static");
        std::fs::create_dir_all(&static_dir).unwrap();
        std::fs::write(
            static_dir.join("sample.txt"),
            "This is a sample static file.",
        )
        .unwrap();
        StaticDir(dir)
    }

    fn client(&self) -> TestClient {
        TestClient::new(app(self.0.join("static")))
    }
}

impl Drop for StaticDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[portico::test]
async fn static_files() {
    let dir = StaticDir::new("found");
    let response = dir.client().get("/static/sample.txt").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.text(), "This is a sample static file.");
}

#[portico::test]
async fn static_files_not_found() {
    let dir = StaticDir::new("not-found");
    let response = dir.client().get("/static/non_existent_file.txt").await;
    assert_eq!(response.status(), 404, "{}", response.text());
}

#[portico::test]
async fn openapi_schema() {
    let dir = StaticDir::new("openapi");
    assert_document(&dir.client(), document(json!({}), None)).await;
}
