//! OpenAPI webhooks: `docs_src/openapi_webhooks/tutorial001`.
//!
//! FastAPI's `@app.webhooks.post("new-subscription")` is a [`Webhook`] added with
//! `App::webhook`: documented under the document's `webhooks`, never served. Pydantic's
//! `datetime` is `chrono::DateTime<FixedOffset>`.

use chrono::{DateTime, FixedOffset};
use portico::http::Method;
use portico::testing::TestClient;
use portico::{App, Json, Webhook};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{
    any_json_response, assert_document, schemas_with_validation, validation_response,
};

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code, reason = "documented, never read: the app sends it")]
struct Subscription {
    username: String,
    monthly_fee: f64,
    start_date: DateTime<FixedOffset>,
}

/// When a new user subscribes to your service we'll send you a POST request with this
/// data to the URL that you register for the event `new-subscription` in the dashboard.
#[portico::handler]
async fn new_subscription(Json(_body): Json<Subscription>) {}

#[portico::handler]
async fn read_users() -> Json<Value> {
    Json(json!(["Rick", "Morty"]))
}

fn webhook() -> Webhook {
    Webhook::post("new-subscription", new_subscription)
}

fn app() -> App {
    App::new().webhook(webhook()).get("/users/", read_users)
}

#[portico::test]
async fn get() {
    let response = TestClient::new(app()).get("/users/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!(["Rick", "Morty"]));
}

/// FastAPI checks that the app's first webhook is a path operation and calls its function.
#[portico::test]
async fn dummy_webhook() {
    let webhook = webhook();
    assert_eq!(
        (webhook.method(), webhook.name()),
        (&Method::POST, "new-subscription")
    );
    let body = Subscription {
        username: "rick".into(),
        monthly_fee: 9.99,
        start_date: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap(),
    };
    new_subscription(Json(body)).await;
}

#[portico::test]
async fn openapi_schema() {
    let client = TestClient::new(app());
    assert_document(
        &client,
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/users/": {
                    "get": {
                        "summary": "Read Users",
                        "operationId": "read_users_users__get",
                        "responses": {"200": any_json_response()},
                    }
                }
            },
            "webhooks": {
                "new-subscription": {
                    "post": {
                        "summary": "New Subscription",
                        "description": "When a new user subscribes to your service we'll send you a POST request with this\ndata to the URL that you register for the event `new-subscription` in the dashboard.",
                        "operationId": "new_subscriptionnew_subscription_post",
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Subscription"}
                                }
                            },
                            "required": true,
                        },
                        "responses": {
                            "200": any_json_response(),
                            "422": validation_response(),
                        },
                    }
                }
            },
            "components": {
                "schemas": schemas_with_validation(json!({
                    "Subscription": {
                        "properties": {
                            "username": {"type": "string"},
                            "monthly_fee": {"type": "number"},
                            "start_date": {"type": "string", "format": "date-time"},
                        },
                        "type": "object",
                        "required": ["username", "monthly_fee", "start_date"],
                    },
                })),
            },
        }),
    )
    .await;
}
