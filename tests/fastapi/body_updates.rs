//! Body updates: `docs_src/body_updates/tutorial001` (replacing with `PUT`) and `tutorial002`
//! (partial updates with `PATCH`).
//!
//! Pydantic turns a JSON `3` read into a `float` field into `3.0`, which Python's `==` finds
//! equal to FastAPI's expected `3`; serde_json's `Value` does not, so expected prices are
//! written as the floats Portico (and FastAPI) answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portico::testing::TestClient;
use portico::{App, HttpError, Json, State};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use crate::support::{assert_document, document, param, validation_response};

fn default_tax() -> f64 {
    10.5
}

/// FastAPI's `Item`, which also remembers which fields the client sent (Pydantic's
/// `model_fields_set`, what `exclude_unset=True` reads).
#[derive(Clone, Serialize, JsonSchema)]
struct Item {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    price: Option<f64>,
    #[serde(default = "default_tax")]
    tax: f64,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(skip)]
    fields_set: Vec<String>,
}

/// `Item`'s fields, read by serde's derive.
#[derive(Deserialize)]
struct ItemFields {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    price: Option<f64>,
    #[serde(default = "default_tax")]
    tax: f64,
    #[serde(default)]
    tags: Vec<String>,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        let fields_set = object.keys().cloned().collect();
        let fields: ItemFields =
            serde_json::from_value(Value::Object(object)).map_err(serde::de::Error::custom)?;
        Ok(Item {
            name: fields.name,
            description: fields.description,
            price: fields.price,
            tax: fields.tax,
            tags: fields.tags,
            fields_set,
        })
    }
}

impl Item {
    /// `Item(**data)`: the stored dict read back as a model.
    fn from_json(data: Value) -> Item {
        serde_json::from_value(data).unwrap()
    }

    /// `item.model_dump(exclude_unset=True)`.
    fn dump_set(&self) -> Map<String, Value> {
        let Value::Object(all) = json!(self) else {
            unreachable!("an item serialises to an object")
        };
        all.into_iter()
            .filter(|(key, _)| self.fields_set.contains(key))
            .collect()
    }

    /// `model_copy(update=...)`.
    fn copy_with(&self, update: Map<String, Value>) -> Item {
        let Value::Object(mut all) = json!(self) else {
            unreachable!("an item serialises to an object")
        };
        all.extend(update);
        Item::from_json(Value::Object(all))
    }
}

/// The module's `items` dict, as each app starts with it.
#[derive(Clone)]
struct Items(Arc<Mutex<HashMap<String, Value>>>);

impl Items {
    fn new() -> Self {
        let items = HashMap::from([
            ("foo".to_owned(), json!({"name": "Foo", "price": 50.2})),
            (
                "bar".to_owned(),
                json!({"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2}),
            ),
            (
                "baz".to_owned(),
                json!({"name": "Baz", "description": null, "price": 50.2, "tax": 10.5, "tags": []}),
            ),
        ]);
        Items(Arc::new(Mutex::new(items)))
    }

    fn get(&self, item_id: &str) -> Result<Value, HttpError> {
        // `items[item_id]` raises a KeyError: a 500.
        let items = self.0.lock().unwrap();
        items
            .get(item_id)
            .cloned()
            .ok_or_else(|| HttpError::new(portico::http::StatusCode::INTERNAL_SERVER_ERROR))
    }
}

#[portico::handler]
async fn read_item(
    #[path] item_id: String,
    State(items): State<Items>,
) -> Result<Json<Item>, HttpError> {
    Ok(Json(Item::from_json(items.get(&item_id)?)))
}

async fn assert_get_baz(client: &TestClient) {
    let response = client.get("/items/baz").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Baz", "description": null, "price": 50.2, "tax": 10.5, "tags": []})
    );
}

/// The document of both apps: `GET` and `method` on `/items/{item_id}`, both answering an
/// `Item`, the second reading one.
fn items_document(method: &str, operation_id: &str) -> Value {
    let item_id = param("path", "item_id", true, json!({"type": "string"}));
    let item = json!({"$ref": "#/components/schemas/Item"});
    let responses = json!({
        "200": {"description": "Successful Response", "content": {"application/json": {"schema": item}}},
        "422": validation_response(),
    });
    let nullable = |t: &str| json!({"anyOf": [{"type": t}, {"type": "null"}]});
    document(
        json!({"/items/{item_id}": {
            "get": {
                "summary": "Read Item",
                "operationId": "read_item_items__item_id__get",
                "parameters": [item_id],
                "responses": responses,
            },
            method: {
                "summary": "Update Item",
                "operationId": operation_id,
                "parameters": [item_id],
                "requestBody": {"content": {"application/json": {"schema": item}}, "required": true},
                "responses": responses,
            },
        }}),
        Some(json!({"Item": {
            "type": "object",
            "properties": {
                "name": nullable("string"),
                "description": nullable("string"),
                "price": nullable("number"),
                "tax": {"type": "number", "default": 10.5},
                "tags": {"type": "array", "items": {"type": "string"}, "default": []},
            },
        }})),
    )
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn update_item(
        #[path] item_id: String,
        State(items): State<Items>,
        Json(item): Json<Item>,
    ) -> Json<Item> {
        let update_item_encoded = json!(item);
        items
            .0
            .lock()
            .unwrap()
            .insert(item_id, update_item_encoded.clone());
        Json(Item::from_json(update_item_encoded))
    }

    fn app() -> App {
        App::new()
            .state(Items::new())
            .get("/items/{item_id}", read_item)
            .put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn get() {
        assert_get_baz(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn put() {
        let client = TestClient::new(app());
        let response = client
            .put("/items/bar")
            .json(&json!({"name": "Barz", "price": 3, "description": null}))
            .await;
        assert_eq!(
            response.json::<Value>(),
            json!({"name": "Barz", "description": null, "price": 3.0, "tax": 10.5, "tags": []})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(
            &client,
            items_document("put", "update_item_items__item_id__put"),
        )
        .await;
    }
}

mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn update_item(
        #[path] item_id: String,
        State(items): State<Items>,
        Json(item): Json<Item>,
    ) -> Result<Json<Item>, HttpError> {
        let stored_item_model = Item::from_json(items.get(&item_id)?);
        let update_data = item.dump_set();
        let updated_item = stored_item_model.copy_with(update_data);
        items.0.lock().unwrap().insert(item_id, json!(updated_item));
        Ok(Json(updated_item))
    }

    fn app() -> App {
        App::new()
            .state(Items::new())
            .get("/items/{item_id}", read_item)
            .patch("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn get() {
        assert_get_baz(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn patch_all() {
        let client = TestClient::new(app());
        let response = client
            .patch("/items/foo")
            .json(&json!({
                "name": "Fooz",
                "description": "Item description",
                "price": 3,
                "tax": 10.5,
                "tags": ["tag1", "tag2"],
            }))
            .await;
        assert_eq!(
            response.json::<Value>(),
            json!({
                "name": "Fooz",
                "description": "Item description",
                "price": 3.0,
                "tax": 10.5,
                "tags": ["tag1", "tag2"],
            })
        );
    }

    #[portico::test]
    async fn patch_name() {
        let client = TestClient::new(app());
        let response = client
            .patch("/items/bar")
            .json(&json!({"name": "Barz"}))
            .await;
        assert_eq!(
            response.json::<Value>(),
            json!({"name": "Barz", "description": "The bartenders", "price": 62.0, "tax": 20.2, "tags": []})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(
            &client,
            items_document("patch", "update_item_items__item_id__patch"),
        )
        .await;
    }
}
