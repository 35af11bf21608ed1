//! Additional status codes: `docs_src/additional_status_codes/tutorial001` (the `_an` variant
//! is the same app).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{App, Json, State};
use serde_json::{Value, json};

/// FastAPI's module-level `items` dict, shared by the application's requests.
#[derive(Clone)]
struct Items(Arc<Mutex<HashMap<String, Value>>>);

/// FastAPI returns the item, or a `JSONResponse` with a 201: a Portico handler returns the
/// status with its content.
#[portico::handler]
async fn upsert_item(
    #[path] item_id: String,
    #[body] name: Option<String>,
    #[body] size: Option<i64>,
    State(items): State<Items>,
) -> (StatusCode, Json<Value>) {
    let mut items = items.0.lock().unwrap();
    let item = json!({"name": name, "size": size});
    let status = if items.contains_key(&item_id) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    items.insert(item_id, item.clone());
    (status, Json(item))
}

fn app() -> App {
    let items = HashMap::from([
        ("foo".to_owned(), json!({"name": "Fighters", "size": 6})),
        ("bar".to_owned(), json!({"name": "Tenders", "size": 3})),
    ]);
    App::new()
        .state(Items(Arc::new(Mutex::new(items))))
        .put("/items/{item_id}", upsert_item)
}

#[portico::test]
async fn update() {
    let client = TestClient::new(app());
    let response = client
        .put("/items/foo")
        .json(&json!({"name": "Wrestlers"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Wrestlers", "size": null})
    );
}

#[portico::test]
async fn create() {
    let client = TestClient::new(app());
    let response = client
        .put("/items/red")
        .json(&json!({"name": "Chillies"}))
        .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Chillies", "size": null})
    );
}
