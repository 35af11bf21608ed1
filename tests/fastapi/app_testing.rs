//! Testing: `docs_src/app_testing` (`app_a`, `app_b` and its `_an` variant, which is the same
//! app, and `tutorial001` to `tutorial004`).
//!
//! This chapter's apps come with their own tests (`test_main.py`, and `test_*` functions
//! beside the apps), which FastAPI's tests call; their asserts are ported here with the
//! FastAPI tests' own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portico::testing::TestClient;
use portico::{App, HttpError, Json, Lifespan, State, WebSocket, WebSocketError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document};

/// `read_main` of `app_a` and `tutorial001`, and its document.
mod hello {
    use super::*;

    pub(super) async fn read_main() -> Json<Value> {
        Json(json!({"msg": "Hello World"}))
    }

    /// The app's own `test_read_main`.
    pub(super) async fn test_read_main(client: &TestClient) {
        let response = client.get("/").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!({"msg": "Hello World"}));
    }

    pub(super) async fn test_openapi_schema(client: &TestClient) {
        let expected = document(
            json!({"/": {"get": {
                "responses": {"200": any_json_response()},
                "summary": "Read Main",
                "operationId": "read_main__get",
            }}}),
            None,
        );
        assert_document(client, expected).await;
    }
}

/// `app_a`: the app in `main.py`, its test in `test_main.py`.
mod app_a {
    use super::hello::{read_main, test_openapi_schema, test_read_main};
    use super::*;

    fn app() -> App {
        App::new().get("/", read_main)
    }

    #[portico::test]
    async fn main() {
        test_read_main(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        test_openapi_schema(&TestClient::new(app())).await;
    }
}

/// `app_b`: an app with a header and a body, and the six tests of its `test_main.py`, which
/// FastAPI's test runs in turn on one client (the app's `fake_db` is the app's own here, so
/// the item created stays for the tests after it).
mod app_b {
    use super::*;

    const FAKE_SECRET_TOKEN: &str = "coneofsilence";

    #[derive(Clone, Serialize, Deserialize, JsonSchema)]
    struct Item {
        id: String,
        title: String,
        description: Option<String>,
    }

    #[derive(Clone)]
    struct FakeDb(Arc<Mutex<HashMap<String, Item>>>);

    impl FakeDb {
        fn new() -> Self {
            let item = |id: &str, title: &str, description: &str| Item {
                id: id.to_owned(),
                title: title.to_owned(),
                description: Some(description.to_owned()),
            };
            FakeDb(Arc::new(Mutex::new(HashMap::from([
                ("foo".to_owned(), item("foo", "Foo", "There goes my hero")),
                ("bar".to_owned(), item("bar", "Bar", "The bartenders")),
            ]))))
        }
    }

    fn check_token(x_token: &str) -> Result<(), HttpError> {
        if x_token != FAKE_SECRET_TOKEN {
            return Err(HttpError::bad_request().detail("Invalid X-Token header"));
        }
        Ok(())
    }

    #[portico::handler]
    async fn read_main(
        #[path] item_id: String,
        #[header] x_token: String,
        State(fake_db): State<FakeDb>,
    ) -> Result<Json<Item>, HttpError> {
        check_token(&x_token)?;
        let fake_db = fake_db.0.lock().unwrap();
        let item = fake_db
            .get(&item_id)
            .ok_or_else(|| HttpError::not_found().detail("Item not found"))?;
        Ok(Json(item.clone()))
    }

    #[portico::handler]
    async fn create_item(
        #[header] x_token: String,
        State(fake_db): State<FakeDb>,
        Json(item): Json<Item>,
    ) -> Result<Json<Item>, HttpError> {
        check_token(&x_token)?;
        let mut fake_db = fake_db.0.lock().unwrap();
        if fake_db.contains_key(&item.id) {
            return Err(
                HttpError::new(portico::http::StatusCode::CONFLICT).detail("Item already exists")
            );
        }
        fake_db.insert(item.id.clone(), item.clone());
        Ok(Json(item))
    }

    fn app() -> App {
        App::new()
            .state(FakeDb::new())
            .get("/items/{item_id}", read_main)
            .post("/items/", create_item)
    }

    async fn test_read_item(client: &TestClient) {
        let response = client
            .get("/items/foo")
            .header("X-Token", "coneofsilence")
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>(),
            json!({"id": "foo", "title": "Foo", "description": "There goes my hero"})
        );
    }

    async fn test_read_item_bad_token(client: &TestClient) {
        let response = client
            .get("/items/foo")
            .header("X-Token", "hailhydra")
            .await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Invalid X-Token header"})
        );
    }

    async fn test_read_nonexistent_item(client: &TestClient) {
        let response = client
            .get("/items/baz")
            .header("X-Token", "coneofsilence")
            .await;
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Item not found"})
        );
    }

    async fn test_create_item(client: &TestClient) {
        let item = json!({"id": "foobar", "title": "Foo Bar", "description": "The Foo Barters"});
        let response = client
            .post("/items/")
            .header("X-Token", "coneofsilence")
            .json(&item)
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), item);
    }

    async fn test_create_item_bad_token(client: &TestClient) {
        let response = client
            .post("/items/")
            .header("X-Token", "hailhydra")
            .json(&json!({"id": "bazz", "title": "Bazz", "description": "Drop the bazz"}))
            .await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Invalid X-Token header"})
        );
    }

    async fn test_create_existing_item(client: &TestClient) {
        let response = client
            .post("/items/")
            .header("X-Token", "coneofsilence")
            .json(&json!({
                "id": "foo",
                "title": "The Foo ID Stealers",
                "description": "There goes my stealer",
            }))
            .await;
        assert_eq!(response.status(), 409);
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Item already exists"})
        );
    }

    #[portico::test]
    async fn test_main() {
        let client = TestClient::new(app());
        test_create_existing_item(&client).await;
        test_create_item(&client).await;
        test_create_item_bad_token(&client).await;
        test_read_nonexistent_item(&client).await;
        test_read_item(&client).await;
        test_read_item_bad_token(&client).await;
    }
}

/// `tutorial001`: the app and its test in one file.
mod tutorial001 {
    use super::hello::{read_main, test_openapi_schema, test_read_main};
    use super::*;

    fn app() -> App {
        App::new().get("/", read_main)
    }

    #[portico::test]
    async fn main() {
        test_read_main(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        test_openapi_schema(&TestClient::new(app())).await;
    }
}

/// `tutorial002`: testing a WebSocket.
mod tutorial002 {
    use super::*;

    async fn read_main() -> Json<Value> {
        Json(json!({"msg": "Hello World"}))
    }

    async fn websocket(websocket: WebSocket) -> Result<(), WebSocketError> {
        websocket.accept().await?;
        websocket
            .send_json(&json!({"msg": "Hello WebSocket"}))
            .await?;
        websocket.close(1000, "").await
    }

    fn app() -> App {
        App::new().get("/", read_main).websocket("/ws", websocket)
    }

    #[portico::test]
    async fn main() {
        let client = TestClient::new(app());
        let response = client.get("/").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!({"msg": "Hello World"}));
    }

    #[portico::test]
    async fn ws() {
        let client = TestClient::new(app());
        let mut websocket = client.websocket_connect("/ws").await.unwrap();
        let data: Value = websocket.receive_json().await.unwrap();
        assert_eq!(data, json!({"msg": "Hello WebSocket"}));
    }
}

/// The items that `tutorial003`'s startup event and `tutorial004`'s lifespan load.
fn loaded_items() -> HashMap<String, Value> {
    HashMap::from([
        ("foo".to_owned(), json!({"name": "Fighters"})),
        ("bar".to_owned(), json!({"name": "Tenders"})),
    ])
}

/// `tutorial003`: an app whose startup event (here its lifespan's code before `serve`) loads
/// the items; the test starts it, as `with TestClient(app)` does.
mod tutorial003 {
    use super::*;

    #[derive(Clone)]
    struct Items(Arc<HashMap<String, Value>>);

    #[portico::handler]
    async fn read_items(
        #[path] item_id: String,
        State(items): State<Items>,
    ) -> Result<Json<Value>, HttpError> {
        // `items[item_id]`: a missing one is a KeyError, a 500.
        let item = items.0.get(&item_id).cloned();
        item.map(Json)
            .ok_or_else(|| HttpError::new(portico::http::StatusCode::INTERNAL_SERVER_ERROR))
    }

    fn app() -> App {
        App::new()
            .lifespan(|life: Lifespan| async move {
                life.state(Items(Arc::new(loaded_items())));
                life.serve().await;
                Ok::<(), std::io::Error>(())
            })
            .get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn main() {
        let client = TestClient::new(app());
        client.startup().await.unwrap();
        let response = client.get("/items/foo").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!({"name": "Fighters"}));
        client.shutdown().await;
    }
}

/// `tutorial004`: a lifespan that fills the module's `items` and clears them at shutdown; the
/// test watches them. The module global is a registry the test creates and hands the app.
mod tutorial004 {
    use super::*;

    #[derive(Clone, Default)]
    struct Items(Arc<Mutex<HashMap<String, Value>>>);

    impl Items {
        fn snapshot(&self) -> HashMap<String, Value> {
            self.0.lock().unwrap().clone()
        }
    }

    #[portico::handler]
    async fn read_items(
        #[path] item_id: String,
        State(items): State<Items>,
    ) -> Result<Json<Value>, HttpError> {
        let item = items.0.lock().unwrap().get(&item_id).cloned();
        item.map(Json)
            .ok_or_else(|| HttpError::new(portico::http::StatusCode::INTERNAL_SERVER_ERROR))
    }

    fn app(items: Items) -> App {
        App::new()
            .state(items.clone())
            .lifespan(move |life: Lifespan| async move {
                items.0.lock().unwrap().extend(loaded_items());
                life.serve().await;
                // clean up items
                items.0.lock().unwrap().clear();
                Ok::<(), std::io::Error>(())
            })
            .get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn main() {
        let items = Items::default();
        // Before the lifespan starts, the items are still empty.
        assert_eq!(items.snapshot(), HashMap::new());
        let client = TestClient::new(app(items.clone()));
        client.startup().await.unwrap();
        // Once it started, they are loaded.
        assert_eq!(items.snapshot(), loaded_items());
        let response = client.get("/items/foo").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!({"name": "Fighters"}));
        // After the request, they are still there.
        assert_eq!(items.snapshot(), loaded_items());
        // Shutting the app down ends the lifespan, which clears them.
        client.shutdown().await;
        assert_eq!(items.snapshot(), HashMap::new());
    }
}
