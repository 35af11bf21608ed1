//! OpenAPI callbacks: `docs_src/openapi_callbacks/tutorial001`.
//!
//! FastAPI's callback router with its one path operation, given to the route as
//! `callbacks=invoices_callback_router.routes`, is a [`Callback`] attached with
//! `Route::callback`: documented under the operation's `callbacks`, never served. Its URL's
//! `{$callback_url}` and `{$request.body.id}` are runtime expressions, kept as written.
//! Pydantic's `HttpUrl` query parameter is an `Option<String>` of a query model, with the
//! `url` format and the length bounds Pydantic gives it. FastAPI's `test_dummy_callback` only
//! calls the callback's function, with no assertion, so it is not ported.

use portico::testing::TestClient;
use portico::{App, Callback, Json, Query, Route};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{
    any_json_response, assert_document, param, schemas_with_validation, validation_response,
};

#[derive(Deserialize, JsonSchema)]
#[allow(
    dead_code,
    reason = "documented; the tutorial's app only acknowledges it"
)]
struct Invoice {
    id: String,
    title: Option<String>,
    customer: String,
    total: f64,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code, reason = "documented, never read: the app sends it")]
struct InvoiceEvent {
    description: String,
    paid: bool,
}

#[derive(Serialize, JsonSchema)]
struct InvoiceEventReceived {
    ok: bool,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code, reason = "documented; the tutorial's app sends no callback")]
struct CallbackQuery {
    // Pydantic's `HttpUrl`: a URL of at most 2083 characters.
    #[schemars(url, length(min = 1, max = 2083))]
    callback_url: Option<String>,
}

/// What the API expects the external developer's server to answer to the notification.
async fn invoice_notification(Json(_body): Json<InvoiceEvent>) -> Json<InvoiceEventReceived> {
    Json(InvoiceEventReceived { ok: true })
}

/// Create an invoice.
///
/// This will (let's imagine) let the API user (some external developer) create an
/// invoice.
///
/// And this path operation will:
///
/// * Send the invoice to the client.
/// * Collect the money from the client.
/// * Send a notification back to the API user (the external developer), as a callback.
///     * At this point is that the API will somehow send a POST request to the
///         external API with the notification of the invoice event
///         (e.g. "payment successful").
#[portico::handler]
async fn create_invoice(
    _query: Query<CallbackQuery>,
    Json(_invoice): Json<Invoice>,
) -> Json<Value> {
    // Send the invoice, collect the money, send the notification (the callback).
    Json(json!({"msg": "Invoice received"}))
}

fn app() -> App {
    let invoice_callback = Callback::post(
        "{$callback_url}/invoices/{$request.body.id}",
        invoice_notification,
    );
    App::new().route(Route::post("/invoices/", create_invoice).callback(invoice_callback))
}

#[portico::test]
async fn get() {
    let response = TestClient::new(app())
        .post("/invoices/")
        .json(&json!({"id": "fooinvoice", "customer": "John", "total": 5.3}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!({"msg": "Invoice received"}));
}

#[portico::test]
async fn openapi_schema() {
    let client = TestClient::new(app());
    let callback_url = json!({
        "anyOf": [
            {"type": "string", "format": "uri", "minLength": 1, "maxLength": 2083},
            {"type": "null"},
        ],
    });
    assert_document(
        &client,
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/invoices/": {
                    "post": {
                        "summary": "Create Invoice",
                        "description": "Create an invoice.\n\nThis will (let's imagine) let the API user (some external developer) create an\ninvoice.\n\nAnd this path operation will:\n\n* Send the invoice to the client.\n* Collect the money from the client.\n* Send a notification back to the API user (the external developer), as a callback.\n    * At this point is that the API will somehow send a POST request to the\n        external API with the notification of the invoice event\n        (e.g. \"payment successful\").",
                        "operationId": "create_invoice_invoices__post",
                        "parameters": [param("query", "callback_url", false, callback_url)],
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Invoice"}
                                }
                            },
                            "required": true,
                        },
                        "responses": {
                            "200": any_json_response(),
                            "422": validation_response(),
                        },
                        "callbacks": {
                            "invoice_notification": {
                                "{$callback_url}/invoices/{$request.body.id}": {
                                    "post": {
                                        "summary": "Invoice Notification",
                                        "operationId": "invoice_notification__callback_url__invoices___request_body_id__post",
                                        "requestBody": {
                                            "required": true,
                                            "content": {
                                                "application/json": {
                                                    "schema": {"$ref": "#/components/schemas/InvoiceEvent"}
                                                }
                                            },
                                        },
                                        "responses": {
                                            "200": {
                                                "description": "Successful Response",
                                                "content": {
                                                    "application/json": {
                                                        "schema": {"$ref": "#/components/schemas/InvoiceEventReceived"}
                                                    }
                                                },
                                            },
                                            "422": validation_response(),
                                        },
                                    }
                                }
                            }
                        },
                    }
                }
            },
            "components": {
                "schemas": schemas_with_validation(json!({
                    "Invoice": {
                        "required": ["id", "customer", "total"],
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "title": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                            "customer": {"type": "string"},
                            "total": {"type": "number"},
                        },
                    },
                    "InvoiceEvent": {
                        "required": ["description", "paid"],
                        "type": "object",
                        "properties": {
                            "description": {"type": "string"},
                            "paid": {"type": "boolean"},
                        },
                    },
                    "InvoiceEventReceived": {
                        "required": ["ok"],
                        "type": "object",
                        "properties": {"ok": {"type": "boolean"}},
                    },
                })),
            },
        }),
    )
    .await;
}
