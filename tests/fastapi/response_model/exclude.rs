//! Response models, continued: `response_model_exclude_unset`, `include` and `exclude`
//! (tutorial004 to 006).

use super::*;

fn item_operation(summary: &str, operation_id: &str) -> Value {
    json!({
        "responses": {"200": json_response(component("Item")), "422": validation_response()},
        "summary": summary,
        "operationId": operation_id,
        "parameters": [param("path", "item_id", true, json!({"type": "string"}))],
    })
}

/// The keys of a model `T` that a handler picked, answered as JSON and documented as `T`:
/// FastAPI's `response_model=T` with `response_model_exclude_unset`, `_include` or `_exclude`,
/// options that Portico's routes do not have.
struct Picked<T>(serde_json::Map<String, Value>, PhantomData<T>);

impl<T: Serialize + for<'de> Deserialize<'de>> Picked<T> {
    /// `item` (a stored dict) through the model `T`, with the keys `keep` says.
    fn new(item: &Value, keep: impl Fn(&str) -> bool) -> Self {
        let model: T = serde_json::from_value(item.clone()).unwrap();
        let Value::Object(mut fields) = serde_json::to_value(model).unwrap() else {
            panic!("a model is an object");
        };
        fields.retain(|key, _| keep(key));
        Picked(fields, PhantomData)
    }
}

impl<T: Serialize + JsonSchema> IntoResponse for Picked<T> {
    fn into_response(self) -> Response {
        Json(Value::Object(self.0)).into_response()
    }

    fn describe_response(doc: &mut OperationDoc) {
        <Json<T> as IntoResponse>::describe_response(doc);
    }
}

fn default_tax() -> f64 {
    10.5
}

/// `response_model_exclude_unset=True`: the handler answers the model's fields that the stored
/// item sets (see `Picked`).
mod tutorial004 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        price: f64,
        #[serde(default = "default_tax")]
        tax: f64,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn items(item_id: &str) -> Value {
        match item_id {
            "foo" => json!({"name": "Foo", "price": 50.2}),
            "bar" => {
                json!({"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2})
            }
            "baz" => {
                json!({"name": "Baz", "description": null, "price": 50.2, "tax": 10.5, "tags": []})
            }
            other => panic!("no item {other}"),
        }
    }

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Picked<Item> {
        let stored = items(&item_id);
        Picked::new(&stored, |key| stored.get(key).is_some())
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        for (url, data) in [
            ("/items/foo", json!({"name": "Foo", "price": 50.2})),
            (
                "/items/bar",
                json!({"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2}),
            ),
            (
                "/items/baz",
                json!({"name": "Baz", "description": null, "price": 50.2, "tax": 10.5, "tags": []}),
            ),
        ] {
            let response = client.get(url).await;
            assert_eq!(response.status(), 200, "{url}: {}", response.text());
            assert_python_eq(response.json(), data);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": item_operation("Read Item", "read_item_items__item_id__get")}}),
            Some(json!({"Item": {
                "required": ["name", "price"],
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "description": nullable_string(),
                    "tax": {"type": "number", "default": 10.5},
                    "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                },
            }})),
        );
        assert_document(&client, expected).await;
    }
}

/// Tutorials 005 (`response_model_include={"name", "description"}`, a set) and 006 (the same
/// with lists): Portico has no `response_model_include` or `_exclude`, so the handlers pick
/// the keys themselves and the routes document `Item` as their response. In Rust the set and
/// the list are the same slice: one app, against both of FastAPI's test files.
mod tutorial005 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        price: f64,
        #[serde(default = "default_tax")]
        tax: f64,
    }

    fn items(item_id: &str) -> Value {
        match item_id {
            "foo" => json!({"name": "Foo", "price": 50.2}),
            "bar" => {
                json!({"name": "Bar", "description": "The Bar fighters", "price": 62, "tax": 20.2})
            }
            "baz" => json!({
                "name": "Baz",
                "description": "There goes my baz",
                "price": 50.2,
                "tax": 10.5,
            }),
            other => panic!("no item {other}"),
        }
    }

    #[portico::handler]
    async fn read_item_name(#[path] item_id: String) -> Picked<Item> {
        Picked::new(&items(&item_id), |key| {
            ["name", "description"].contains(&key)
        })
    }

    #[portico::handler]
    async fn read_item_public_data(#[path] item_id: String) -> Picked<Item> {
        Picked::new(&items(&item_id), |key| !["tax"].contains(&key))
    }

    pub(super) fn app() -> App {
        App::new()
            .get("/items/{item_id}/name", read_item_name)
            .get("/items/{item_id}/public", read_item_public_data)
    }

    pub(super) async fn read_item_name_test() {
        let client = TestClient::new(app());
        let response = client.get("/items/bar/name").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(
            response.json(),
            json!({"name": "Bar", "description": "The Bar fighters"}),
        );
    }

    pub(super) async fn read_item_public_data_test() {
        let client = TestClient::new(app());
        let response = client.get("/items/bar/public").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(
            response.json(),
            json!({"name": "Bar", "description": "The Bar fighters", "price": 62}),
        );
    }

    pub(super) async fn openapi_schema_test() {
        let client = TestClient::new(app());
        let expected = document(
            json!({
                "/items/{item_id}/name": {"get": item_operation(
                    "Read Item Name",
                    "read_item_name_items__item_id__name_get",
                )},
                "/items/{item_id}/public": {"get": item_operation(
                    "Read Item Public Data",
                    "read_item_public_data_items__item_id__public_get",
                )},
            }),
            Some(json!({"Item": {
                "required": ["name", "price"],
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "description": nullable_string(),
                    "tax": {"type": "number", "default": 10.5},
                },
            }})),
        );
        assert_document(&client, expected).await;
    }

    #[portico::test]
    async fn read_item_name() {
        read_item_name_test().await;
    }

    #[portico::test]
    async fn read_item_public_data() {
        read_item_public_data_test().await;
    }

    #[portico::test]
    async fn openapi_schema() {
        openapi_schema_test().await;
    }
}

/// FastAPI's test file of tutorial006, against the same app as 005 (see there).
mod tutorial006 {
    use super::tutorial005::{
        openapi_schema_test, read_item_name_test, read_item_public_data_test,
    };

    #[portico::test]
    async fn read_item_name() {
        read_item_name_test().await;
    }

    #[portico::test]
    async fn read_item_public_data() {
        read_item_public_data_test().await;
    }

    #[portico::test]
    async fn openapi_schema() {
        openapi_schema_test().await;
    }
}
