//! Path parameters: `docs_src/path_params/tutorial001` to `tutorial005`.

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{
    any_json_response, assert_document, schemas_with_validation, validation_response,
};

/// The document of one `GET` operation with one path parameter of the given schema.
fn one_path_parameter(path: &str, operation_id: &str, name: &str, schema: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "paths": {
            path: {
                "get": {
                    "operationId": operation_id,
                    "parameters": [{"in": "path", "name": name, "required": true, "schema": schema}],
                    "responses": {"200": any_json_response(), "422": validation_response()},
                    "summary": "Read Item",
                }
            }
        },
        "components": {"schemas": schemas_with_validation(json!({}))},
    })
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Json<Value> {
        Json(json!({"item_id": item_id}))
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get_items() {
        let client = TestClient::new(app());
        for (item_id, expected) in [
            ("1", json!({"item_id": "1"})),
            ("alice", json!({"item_id": "alice"})),
        ] {
            let response = client.get(format!("/items/{item_id}")).await;
            assert_eq!(response.status(), 200, "{}", response.text());
            assert_eq!(response.json::<Value>(), expected);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        // FastAPI's untyped `item_id` has the empty schema; Portico's `String` says "string".
        let expected = one_path_parameter(
            "/items/{item_id}",
            "read_item_items__item_id__get",
            "item_id",
            json!({"type": "string"}),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn read_item(#[path] item_id: i64) -> Json<Value> {
        Json(json!({"item_id": item_id}))
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get_items() {
        let client = TestClient::new(app());
        let response = client.get("/items/1").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"item_id": 1}));
    }

    #[portico::test]
    async fn get_items_invalid_id() {
        let client = TestClient::new(app());
        let response = client.get("/items/item1").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": [{
                "input": "item1",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }]})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = one_path_parameter(
            "/items/{item_id}",
            "read_item_items__item_id__get",
            "item_id",
            json!({"type": "integer"}),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    async fn read_user_me() -> Json<Value> {
        Json(json!({"user_id": "the current user"}))
    }

    #[portico::handler]
    async fn read_user(#[path] user_id: String) -> Json<Value> {
        Json(json!({"user_id": user_id}))
    }

    fn app() -> App {
        App::new()
            .get("/users/me", read_user_me)
            .get("/users/{user_id}", read_user)
    }

    #[portico::test]
    async fn get_users() {
        let client = TestClient::new(app());
        for (user_id, expected) in [
            ("me", json!({"user_id": "the current user"})),
            ("alice", json!({"user_id": "alice"})),
        ] {
            let response = client.get(format!("/users/{user_id}")).await;
            assert_eq!(response.status(), 200, "{}", response.text());
            assert_eq!(response.json::<Value>(), expected);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = json!({
            "openapi": "3.1.0",
            "paths": {
                "/users/me": {
                    "get": {
                        "operationId": "read_user_me_users_me_get",
                        "responses": {"200": any_json_response()},
                        "summary": "Read User Me",
                    }
                },
                "/users/{user_id}": {
                    "get": {
                        "operationId": "read_user_users__user_id__get",
                        "parameters": [{
                            "in": "path", "name": "user_id", "required": true,
                            "schema": {"type": "string"},
                        }],
                        "responses": {"200": any_json_response(), "422": validation_response()},
                        "summary": "Read User",
                    }
                },
            },
            "components": {"schemas": schemas_with_validation(json!({}))},
        });
        assert_document(&client, expected).await;
    }
}

mod tutorial004 {
    use super::*;

    #[portico::handler]
    async fn read_file(#[path] file_path: String) -> Json<Value> {
        Json(json!({"file_path": file_path}))
    }

    fn app() -> App {
        App::new().get("/files/{file_path:path}", read_file)
    }

    #[portico::test]
    async fn file_path() {
        let client = TestClient::new(app());
        let response = client.get("/files/home/johndoe/myfile.txt").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"file_path": "home/johndoe/myfile.txt"})
        );
    }

    #[portico::test]
    async fn root_file_path() {
        let client = TestClient::new(app());
        let response = client.get("/files//home/johndoe/myfile.txt").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"file_path": "/home/johndoe/myfile.txt"})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let mut expected = one_path_parameter(
            "/files/{file_path}",
            "read_file_files__file_path__get",
            "file_path",
            json!({"type": "string"}),
        );
        expected["paths"]["/files/{file_path}"]["get"]["summary"] = json!("Read File");
        assert_document(&client, expected).await;
    }
}

mod tutorial005 {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum ModelName {
        Alexnet,
        Resnet,
        Lenet,
    }

    #[portico::handler]
    async fn get_model(#[path] model_name: ModelName) -> Json<Value> {
        let message = match model_name {
            ModelName::Alexnet => "Deep Learning FTW!",
            ModelName::Lenet => "LeCNN all the images",
            ModelName::Resnet => "Have some residuals",
        };
        Json(json!({"model_name": model_name, "message": message}))
    }

    fn app() -> App {
        App::new().get("/models/{model_name}", get_model)
    }

    #[portico::test]
    async fn get_enums() {
        let client = TestClient::new(app());
        for (name, message) in [
            ("alexnet", "Deep Learning FTW!"),
            ("lenet", "LeCNN all the images"),
            ("resnet", "Have some residuals"),
        ] {
            let response = client.get(format!("/models/{name}")).await;
            assert_eq!(response.status(), 200, "{}", response.text());
            assert_eq!(
                response.json::<Value>(),
                json!({"model_name": name, "message": message})
            );
        }
    }

    #[portico::test]
    async fn get_enums_invalid() {
        let client = TestClient::new(app());
        let response = client.get("/models/foo").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": [{
                "type": "enum",
                "loc": ["path", "model_name"],
                "msg": "Input should be 'alexnet', 'resnet' or 'lenet'",
                "input": "foo",
                "ctx": {"expected": "'alexnet', 'resnet' or 'lenet'"},
            }]})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = json!({
            "openapi": "3.1.0",
            "paths": {
                "/models/{model_name}": {
                    "get": {
                        "summary": "Get Model",
                        "operationId": "get_model_models__model_name__get",
                        "parameters": [{
                            "required": true,
                            "schema": {"$ref": "#/components/schemas/ModelName"},
                            "name": "model_name",
                            "in": "path",
                        }],
                        "responses": {"200": any_json_response(), "422": validation_response()},
                    }
                }
            },
            "components": {"schemas": schemas_with_validation(json!({
                "ModelName": {"enum": ["alexnet", "resnet", "lenet"], "type": "string"},
            }))},
        });
        assert_document(&client, expected).await;
    }
}

mod tutorial003b {
    use super::*;

    async fn read_users() -> Json<Value> {
        Json(json!(["Rick", "Morty"]))
    }

    async fn read_users2() -> Json<Value> {
        Json(json!(["Bean", "Elfo"]))
    }

    fn app() -> App {
        App::new()
            .get("/users", read_users)
            .get("/users", read_users2)
    }

    /// FastAPI serves the first and its tutorial warns that the second is never used; Portico
    /// refuses the app and names the route, so the mistake cannot ship.
    #[portico::test]
    async fn get_users() {
        let err = app().try_into_service().err().unwrap();
        assert!(
            err.to_string().contains("two handlers for GET /users"),
            "{err}"
        );
        // The first handler, alone, answers as FastAPI's does.
        let client = TestClient::new(App::new().get("/users", read_users));
        let response = client.get("/users").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!(["Rick", "Morty"]));
    }

    #[portico::test]
    async fn read_users2_alone() {
        assert_eq!(read_users2().await.0, json!(["Bean", "Elfo"]));
    }
}
