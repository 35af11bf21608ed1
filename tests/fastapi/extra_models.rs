//! Extra models: `docs_src/extra_models/tutorial001` to `tutorial005`.

use std::collections::HashMap;

use portico::testing::TestClient;
use portico::{App, HttpError, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{assert_document, document, param, validation_response};

fn component(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A 200 whose body is `schema`.
fn json_response(schema: Value) -> Value {
    json!({"description": "Successful Response", "content": {"application/json": {"schema": schema}}})
}

fn fake_password_hasher(raw_password: &str) -> String {
    format!("supersecret{raw_password}")
}

/// FastAPI's two tests of tutorials 001 and 002, whose apps answer alike.
async fn assert_post(client: &TestClient) {
    let response = client
        .post("/user/")
        .json(&json!({
            "username": "johndoe",
            "password": "secret",
            "email": "johndoe@example.com",
            "full_name": "John Doe",
        }))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"username": "johndoe", "email": "johndoe@example.com", "full_name": "John Doe"})
    );
}

/// The document of tutorials 001 and 002: `UserIn`'s required fields in the order Portico
/// writes them (FastAPI's test compares them in any order).
fn user_document(user_in_required: &[&str]) -> Value {
    let properties = json!({
        "username": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "full_name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    });
    let mut user_in =
        json!({"required": user_in_required, "type": "object", "properties": properties});
    user_in["properties"]["password"] = json!({"type": "string"});
    document(
        json!({"/user/": {"post": {
            "summary": "Create User",
            "operationId": "create_user_user__post",
            "requestBody": {"content": {"application/json": {"schema": component("UserIn")}}, "required": true},
            "responses": {"200": json_response(component("UserOut")), "422": validation_response()},
        }}}),
        Some(json!({
            "UserIn": user_in,
            "UserOut": {"required": ["username", "email"], "type": "object", "properties": properties},
        })),
    )
}

mod tutorial001 {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    struct UserIn {
        username: String,
        password: String,
        #[schemars(email)]
        email: String,
        #[serde(default)]
        full_name: Option<String>,
    }

    #[derive(Serialize, JsonSchema)]
    struct UserOut {
        username: String,
        #[schemars(email)]
        email: String,
        full_name: Option<String>,
    }

    struct UserInDb {
        username: String,
        #[allow(dead_code, reason = "saved, never read back in the tutorial")]
        hashed_password: String,
        email: String,
        full_name: Option<String>,
    }

    fn fake_save_user(user_in: UserIn) -> UserInDb {
        let hashed_password = fake_password_hasher(&user_in.password);
        tracing::info!("User saved! ..not really");
        UserInDb {
            username: user_in.username,
            hashed_password,
            email: user_in.email,
            full_name: user_in.full_name,
        }
    }

    /// FastAPI filters the saved `UserInDB` through `response_model=UserOut`; a Rust handler
    /// returns the `UserOut` built from it.
    async fn create_user(Json(user_in): Json<UserIn>) -> Json<UserOut> {
        let user_saved = fake_save_user(user_in);
        Json(UserOut {
            username: user_saved.username,
            email: user_saved.email,
            full_name: user_saved.full_name,
        })
    }

    fn app() -> App {
        App::new().post("/user/", create_user)
    }

    #[portico::test]
    async fn post() {
        assert_post(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(&client, user_document(&["username", "password", "email"])).await;
    }
}

/// The models share their fields through `UserBase`, flattened in, as Python's subclasses
/// inherit them.
mod tutorial002 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct UserBase {
        username: String,
        #[schemars(email)]
        email: String,
        #[serde(default)]
        full_name: Option<String>,
    }

    #[derive(Deserialize, JsonSchema)]
    struct UserIn {
        #[serde(flatten)]
        base: UserBase,
        password: String,
    }

    #[derive(Serialize, JsonSchema)]
    struct UserOut {
        #[serde(flatten)]
        base: UserBase,
    }

    struct UserInDb {
        base: UserBase,
        #[allow(dead_code, reason = "saved, never read back in the tutorial")]
        hashed_password: String,
    }

    fn fake_save_user(user_in: UserIn) -> UserInDb {
        let hashed_password = fake_password_hasher(&user_in.password);
        tracing::info!("User saved! ..not really");
        UserInDb {
            base: user_in.base,
            hashed_password,
        }
    }

    async fn create_user(Json(user_in): Json<UserIn>) -> Json<UserOut> {
        let user_saved = fake_save_user(user_in);
        Json(UserOut {
            base: user_saved.base,
        })
    }

    fn app() -> App {
        App::new().post("/user/", create_user)
    }

    #[portico::test]
    async fn post() {
        assert_post(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(&client, user_document(&["username", "email", "password"])).await;
    }
}

mod tutorial003 {
    use super::*;

    fn car() -> String {
        "car".into()
    }

    fn plane() -> String {
        "plane".into()
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct CarItem {
        description: String,
        #[serde(default = "car")]
        r#type: String,
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct PlaneItem {
        description: String,
        #[serde(default = "plane")]
        r#type: String,
        size: i64,
    }

    /// `PlaneItem | CarItem`: the first that the value fits.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(untagged)]
    #[schemars(inline)]
    enum PlaneItemOrCarItem {
        Plane(PlaneItem),
        Car(CarItem),
    }

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Result<Json<PlaneItemOrCarItem>, HttpError> {
        let items = json!({
            "item1": {"description": "All my friends drive a low rider", "type": "car"},
            "item2": {
                "description": "Music is my aeroplane, it's my aeroplane",
                "type": "plane",
                "size": 5,
            },
        });
        let item = items
            .get(&item_id)
            .cloned()
            .ok_or_else(|| HttpError::new(portico::http::StatusCode::INTERNAL_SERVER_ERROR))?;
        Ok(Json(serde_json::from_value(item).unwrap()))
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get_car() {
        let response = TestClient::new(app()).get("/items/item1").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"description": "All my friends drive a low rider", "type": "car"})
        );
    }

    #[portico::test]
    async fn get_plane() {
        let response = TestClient::new(app()).get("/items/item2").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({
                "description": "Music is my aeroplane, it's my aeroplane",
                "type": "plane",
                "size": 5,
            })
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": {
                "summary": "Read Item",
                "operationId": "read_item_items__item_id__get",
                "parameters": [param("path", "item_id", true, json!({"type": "string"}))],
                "responses": {
                    "200": json_response(json!({"anyOf": [component("PlaneItem"), component("CarItem")]})),
                    "422": validation_response(),
                },
            }}}),
            Some(json!({
                "PlaneItem": {
                    "required": ["description", "size"],
                    "type": "object",
                    "properties": {
                        "description": {"type": "string"},
                        "type": {"type": "string", "default": "plane"},
                        "size": {"type": "integer"},
                    },
                },
                "CarItem": {
                    "required": ["description"],
                    "type": "object",
                    "properties": {
                        "description": {"type": "string"},
                        "type": {"type": "string", "default": "car"},
                    },
                },
            })),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial004 {
    use super::*;

    #[derive(Serialize, JsonSchema)]
    struct Item {
        name: String,
        description: String,
    }

    async fn read_items() -> Json<Vec<Item>> {
        let item = |name: &str, description: &str| Item {
            name: name.into(),
            description: description.into(),
        };
        Json(vec![
            item("Foo", "There comes my hero"),
            item("Red", "It's my aeroplane"),
        ])
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn get_items() {
        let response = TestClient::new(app()).get("/items/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!([
                {"name": "Foo", "description": "There comes my hero"},
                {"name": "Red", "description": "It's my aeroplane"},
            ])
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let mut expected = document(
            json!({"/items/": {"get": {
                "summary": "Read Items",
                "operationId": "read_items_items__get",
                "responses": {"200": json_response(json!({"type": "array", "items": component("Item")}))},
            }}}),
            None,
        );
        expected["components"] = json!({"schemas": {"Item": {
            "required": ["name", "description"],
            "type": "object",
            "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
        }}});
        assert_document(&client, expected).await;
    }
}

mod tutorial005 {
    use super::*;

    async fn read_keyword_weights() -> Json<HashMap<String, f64>> {
        Json(HashMap::from([("foo".into(), 2.3), ("bar".into(), 3.4)]))
    }

    fn app() -> App {
        App::new().get("/keyword-weights/", read_keyword_weights)
    }

    #[portico::test]
    async fn get_items() {
        let response = TestClient::new(app()).get("/keyword-weights/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"foo": 2.3, "bar": 3.4}));
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/keyword-weights/": {"get": {
                "summary": "Read Keyword Weights",
                "operationId": "read_keyword_weights_keyword_weights__get",
                "responses": {"200": json_response(json!({"type": "object", "additionalProperties": {"type": "number"}}))},
            }}}),
            None,
        );
        assert_document(&client, expected).await;
    }
}
