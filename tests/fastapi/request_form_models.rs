//! Form models: `docs_src/request_form_models/tutorial001` and `tutorial002` (the `_an`
//! variants are the same apps).

use portico::testing::TestClient;
use portico::{App, Form, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::request_forms::assert_answer;
use crate::support::{assert_document, document, validation_response};

/// FastAPI's 422 for each form field in `names` missing, with the form read as `input`.
fn missing(names: &[&str], input: Value) -> Value {
    let detail: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"type": "missing", "loc": ["body", name], "msg": "Field required", "input": input})
        })
        .collect();
    json!({"detail": detail})
}

async fn check_form(app: App) {
    let client = TestClient::new(app);
    let response = client
        .post("/login/")
        .form(&[("username", "Foo"), ("password", "secret")])
        .await;
    assert_answer(
        &response,
        200,
        &json!({"username": "Foo", "password": "secret"}),
    );
}

async fn check_no_password(app: App) {
    let client = TestClient::new(app);
    let response = client.post("/login/").form(&[("username", "Foo")]).await;
    let expected = missing(&["password"], json!({"username": "Foo"}));
    assert_answer(&response, 422, &expected);
}

async fn check_no_username(app: App) {
    let client = TestClient::new(app);
    let response = client.post("/login/").form(&[("password", "secret")]).await;
    let expected = missing(&["username"], json!({"password": "secret"}));
    assert_answer(&response, 422, &expected);
}

async fn check_no_data(app: App) {
    let client = TestClient::new(app);
    let response = client.post("/login/").await;
    let expected = missing(&["username", "password"], json!({}));
    assert_answer(&response, 422, &expected);
}

async fn check_json(app: App) {
    let client = TestClient::new(app);
    let response = client
        .post("/login/")
        .json(&json!({"username": "Foo", "password": "secret"}))
        .await;
    let expected = missing(&["username", "password"], json!({}));
    assert_answer(&response, 422, &expected);
}

fn expected_document(form_data: Value) -> Value {
    document(
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
                        "schema": {"$ref": "#/components/schemas/FormData"}
                    }
                },
                "required": true,
            },
        }}}),
        Some(json!({"FormData": form_data})),
    )
}

fn form_data_schema() -> Value {
    json!({
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
        },
        "type": "object",
        "required": ["username", "password"],
    })
}

mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct FormData {
        username: String,
        password: String,
    }

    async fn login(Form(data): Form<FormData>) -> Json<Value> {
        Json(serde_json::to_value(data).unwrap())
    }

    fn app() -> App {
        App::new().post("/login/", login)
    }

    #[portico::test]
    async fn post_body_form() {
        check_form(app()).await;
    }

    #[portico::test]
    async fn post_body_form_no_password() {
        check_no_password(app()).await;
    }

    #[portico::test]
    async fn post_body_form_no_username() {
        check_no_username(app()).await;
    }

    #[portico::test]
    async fn post_body_form_no_data() {
        check_no_data(app()).await;
    }

    #[portico::test]
    async fn post_body_json() {
        check_json(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = expected_document(form_data_schema());
        assert_document(&TestClient::new(app()), expected).await;
    }
}

mod tutorial002 {
    use super::*;

    /// `model_config = {"extra": "forbid"}`.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct FormData {
        username: String,
        password: String,
    }

    async fn login(Form(data): Form<FormData>) -> Json<Value> {
        Json(serde_json::to_value(data).unwrap())
    }

    fn app() -> App {
        App::new().post("/login/", login)
    }

    #[portico::test]
    async fn post_body_form() {
        check_form(app()).await;
    }

    #[portico::test]
    async fn post_body_extra_form() {
        let client = TestClient::new(app());
        let response = client
            .post("/login/")
            .form(&[
                ("username", "Foo"),
                ("password", "secret"),
                ("extra", "extra"),
            ])
            .await;
        let expected = json!({"detail": [{
            "type": "extra_forbidden",
            "loc": ["body", "extra"],
            "msg": "Extra inputs are not permitted",
            "input": "extra",
        }]});
        assert_answer(&response, 422, &expected);
    }

    #[portico::test]
    async fn post_body_form_no_password() {
        check_no_password(app()).await;
    }

    #[portico::test]
    async fn post_body_form_no_username() {
        check_no_username(app()).await;
    }

    #[portico::test]
    async fn post_body_form_no_data() {
        check_no_data(app()).await;
    }

    #[portico::test]
    async fn post_body_json() {
        check_json(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let mut form_data = form_data_schema();
        form_data["additionalProperties"] = json!(false);
        let expected = expected_document(form_data);
        assert_document(&TestClient::new(app()), expected).await;
    }
}
