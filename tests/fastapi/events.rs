//! Lifespan events: `docs_src/events/tutorial001` to `tutorial003`.
//!
//! FastAPI's `@app.on_event("startup")` and `("shutdown")` (deprecated there) are the code
//! before and after `life.serve()` in Portico's one lifespan.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portico::testing::TestClient;
use portico::{App, Json, Lifespan, State};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document, operation, param};

mod tutorial001 {
    use super::*;

    #[derive(Clone)]
    struct Items(Arc<HashMap<&'static str, Value>>);

    #[portico::handler]
    async fn read_items(#[path] item_id: String, State(items): State<Items>) -> Json<Value> {
        Json(items.0[item_id.as_str()].clone())
    }

    fn app() -> App {
        App::new()
            .lifespan(|life: Lifespan| async move {
                // startup_event
                let mut items = HashMap::new();
                items.insert("foo", json!({"name": "Fighters"}));
                items.insert("bar", json!({"name": "Tenders"}));
                life.state(Items(Arc::new(items)));
                life.serve().await;
                Ok::<(), std::io::Error>(())
            })
            .get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn events() {
        let client = TestClient::new(app());
        let response = client.get("/items/foo").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"name": "Fighters"}));
        client.shutdown().await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": operation(
                "Read Items",
                "read_items_items__item_id__get",
                vec![param("path", "item_id", true, json!({"type": "string"}))],
            )}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
        client.shutdown().await;
    }
}

/// The shutdown event writes `log.txt`; FastAPI's test reads it in the working directory,
/// here in a directory of the test's own.
mod tutorial002 {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"name": "Foo"}]))
    }

    fn app(log_path: PathBuf) -> App {
        App::new()
            .lifespan(move |life: Lifespan| async move {
                life.serve().await;
                // shutdown_event
                let mut log = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&log_path)?;
                log.write_all(b"Application shutdown")?;
                Ok::<(), std::io::Error>(())
            })
            .get("/items/", read_items)
    }

    /// A directory of its own for one test, removed on drop.
    struct WorkDir(PathBuf);

    impl WorkDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "portico-fastapi-events-{name}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            WorkDir(dir)
        }
    }

    impl Drop for WorkDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[portico::test]
    async fn events() {
        let dir = WorkDir::new("002");
        let log_path = dir.0.join("log.txt");
        let client = TestClient::new(app(log_path.clone()));
        let response = client.get("/items/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!([{"name": "Foo"}]));
        client.shutdown().await;
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(log.contains("Application shutdown"));
    }

    #[portico::test]
    async fn openapi_schema() {
        let dir = WorkDir::new("002-openapi");
        let client = TestClient::new(app(dir.0.join("log.txt")));
        let expected = document(
            json!({"/items/": {"get": {
                "responses": {"200": any_json_response()},
                "summary": "Read Items",
                "operationId": "read_items_items__get",
            }}}),
            None,
        );
        assert_document(&client, expected).await;
        client.shutdown().await;
    }
}

/// A lifespan that loads a model into a registry and clears it at shutdown. FastAPI's module
/// global `ml_models` is a registry the test creates and hands the app.
mod tutorial003 {
    use super::*;

    type Model = fn(f64) -> f64;

    #[derive(Clone, Default)]
    struct MlModels(Arc<Mutex<HashMap<&'static str, Model>>>);

    fn fake_answer_to_everything_ml_model(x: f64) -> f64 {
        x * 42.0
    }

    #[portico::handler]
    async fn predict(#[query] x: f64, State(ml_models): State<MlModels>) -> Json<Value> {
        let result = ml_models.0.lock().unwrap()["answer_to_everything"](x);
        Json(json!({"result": result}))
    }

    fn app(ml_models: MlModels) -> App {
        App::new()
            .state(ml_models.clone())
            .lifespan(move |life: Lifespan| async move {
                // Load the ML model
                let model: Model = fake_answer_to_everything_ml_model;
                ml_models
                    .0
                    .lock()
                    .unwrap()
                    .insert("answer_to_everything", model);
                life.serve().await;
                // Clean up the ML models and release the resources
                ml_models.0.lock().unwrap().clear();
                Ok::<(), std::io::Error>(())
            })
            .get("/predict", predict)
    }

    #[portico::test]
    async fn events() {
        let ml_models = MlModels::default();
        assert!(
            ml_models.0.lock().unwrap().is_empty(),
            "ml_models should be empty"
        );
        let client = TestClient::new(app(ml_models.clone()));
        client.startup().await.unwrap();
        let loaded = ml_models.0.lock().unwrap()["answer_to_everything"];
        let expected: Model = fake_answer_to_everything_ml_model;
        assert!(std::ptr::fn_addr_eq(loaded, expected));
        let response = client.get("/predict").query(&[("x", "2")]).await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"result": 84.0}));
        client.shutdown().await;
        assert!(
            ml_models.0.lock().unwrap().is_empty(),
            "ml_models should be empty"
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app(MlModels::default()));
        let expected = document(
            json!({"/predict": {"get": operation(
                "Predict",
                "predict_predict_get",
                vec![param("query", "x", true, json!({"type": "number"}))],
            )}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
        client.shutdown().await;
    }
}
