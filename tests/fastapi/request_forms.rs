//! Form data: `docs_src/request_forms/tutorial001` (the `_an` variant is the same app).

use portico::testing::{TestClient, TestResponse};
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::{assert_document, document, validation_response};

/// FastAPI's 422 for each form field in `names` missing.
pub(crate) fn missing(names: &[&str]) -> Value {
    let detail: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"type": "missing", "loc": ["body", name], "msg": "Field required", "input": null})
        })
        .collect();
    json!({"detail": detail})
}

pub(crate) fn assert_answer(response: &TestResponse, status: u16, expected: &Value) {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(&response.json::<Value>(), expected);
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn login(#[form] username: String, #[form] password: String) -> Json<Value> {
        let _ = password; // required and read, then unused, as in FastAPI's tutorial
        Json(json!({"username": username}))
    }

    fn app() -> App {
        App::new().post("/login/", login)
    }

    #[portico::test]
    async fn post_body_form() {
        let client = TestClient::new(app());
        let response = client
            .post("/login/")
            .form(&[("username", "Foo"), ("password", "secret")])
            .await;
        assert_answer(&response, 200, &json!({"username": "Foo"}));
    }

    #[portico::test]
    async fn post_body_form_no_password() {
        let client = TestClient::new(app());
        let response = client.post("/login/").form(&[("username", "Foo")]).await;
        assert_answer(&response, 422, &missing(&["password"]));
    }

    #[portico::test]
    async fn post_body_form_no_username() {
        let client = TestClient::new(app());
        let response = client.post("/login/").form(&[("password", "secret")]).await;
        assert_answer(&response, 422, &missing(&["username"]));
    }

    #[portico::test]
    async fn post_body_form_no_data() {
        let client = TestClient::new(app());
        let response = client.post("/login/").await;
        assert_answer(&response, 422, &missing(&["username", "password"]));
    }

    #[portico::test]
    async fn post_body_json() {
        let client = TestClient::new(app());
        let response = client
            .post("/login/")
            .json(&json!({"username": "Foo", "password": "secret"}))
            .await;
        assert_answer(&response, 422, &missing(&["username", "password"]));
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/login/": {"post": {
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {"application/json": {"schema": {}}},
                    },
                    "422": validation_response(),
                },
                "summary": "Login",
                "operationId": "login_login__post",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/Body_login_login__post"}
                        }
                    },
                    "required": true,
                },
            }}}),
            Some(json!({
                "Body_login_login__post": {
                    "required": ["username", "password"],
                    "type": "object",
                    "properties": {
                        "username": {"type": "string"},
                        "password": {"type": "string"},
                    },
                },
            })),
        );
        assert_document(&client, expected).await;
    }
}
