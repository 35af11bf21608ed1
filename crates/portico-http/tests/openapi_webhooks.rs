//! Webhooks and callbacks: operations an application documents, under the document's
//! `webhooks` and under an operation's `callbacks`, as FastAPI writes them, and never serves.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use http::StatusCode;
use portico::security::HttpBearer;
use portico::testing::TestClient;
use portico::{App, Callback, Json, Path, Route, Router, Webhook};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
#[allow(
    dead_code,
    reason = "documented: the application sends or acknowledges it"
)]
struct Subscription {
    username: String,
    monthly_fee: f64,
}

#[derive(Deserialize, JsonSchema)]
#[allow(
    dead_code,
    reason = "documented: the application sends or acknowledges it"
)]
struct Cancellation {
    username: String,
    reason: Option<String>,
}

/// When a user subscribes, the application sends this to the URL registered for
/// `new-subscription`.
#[portico::handler]
async fn new_subscription(Json(_body): Json<Subscription>) {}

async fn subscription_cancelled(_auth: HttpBearer, Json(_body): Json<Cancellation>) {}

async fn event(Json(_body): Json<Value>) {}

async fn read_users() -> Json<Value> {
    Json(json!(["Rick", "Morty"]))
}

fn webhooks_app() -> App {
    App::new()
        .get("/users/", read_users)
        .webhook(Webhook::post("new-subscription", new_subscription))
        .webhook(
            Webhook::delete("new-subscription", subscription_cancelled)
                .summary("Subscription cancelled")
                .tag("billing")
                .status_code(StatusCode::NO_CONTENT),
        )
        // A name that looks like a path is still only a name.
        .webhook(Webhook::post("/events", event))
}

/// FastAPI's 422, as every operation that reads input documents it.
fn validation_error() -> Value {
    json!({
        "description": "Validation Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
    })
}

fn json_body(schema: &str) -> Value {
    json!({
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
        "required": true,
    })
}

#[portico::test]
async fn webhooks_are_documented_by_name_and_never_served() {
    let app = webhooks_app();
    let built_before = app.openapi();
    let client = TestClient::new(app);
    let document: Value = client.get("/openapi.json").await.json();
    assert_eq!(document, built_before);

    assert_eq!(
        document["webhooks"],
        json!({
            "new-subscription": {
                "post": {
                    "summary": "New Subscription",
                    "description": "When a user subscribes, the application sends this to the URL registered for\n`new-subscription`.",
                    "operationId": "new_subscriptionnew_subscription_post",
                    "requestBody": json_body("Subscription"),
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {"application/json": {"schema": {}}},
                        },
                        "422": validation_error(),
                    },
                },
                "delete": {
                    "tags": ["billing"],
                    "summary": "Subscription cancelled",
                    "operationId": "subscription_cancellednew_subscription_delete",
                    "requestBody": json_body("Cancellation"),
                    "responses": {
                        "204": {"description": "Successful Response"},
                        "422": validation_error(),
                    },
                    "security": [{"HTTPBearer": []}],
                },
            },
            "/events": {
                "post": {
                    "summary": "Event",
                    "operationId": "event_events_post",
                    "requestBody": {
                        "content": {"application/json": {"schema": {}}},
                        "required": true,
                    },
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {"application/json": {"schema": {}}},
                        },
                        "422": validation_error(),
                    },
                },
            },
        })
    );
    // Only the served route is a path; the webhooks' schemes and schemas are components.
    let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/users/"]);
    let schemas: Vec<&String> = document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for name in ["Subscription", "Cancellation", "HTTPValidationError"] {
        assert!(schemas.contains(&&name.to_owned()), "{name} in {schemas:?}");
    }
    assert_eq!(
        document["components"]["securitySchemes"],
        json!({"HTTPBearer": {"type": "http", "scheme": "bearer"}})
    );

    // The served route answers; nothing answers a webhook.
    let users = client.get("/users/").await;
    assert_eq!(users.status(), 200);
    assert_eq!(users.json::<Value>(), json!(["Rick", "Morty"]));
    let body = json!({"username": "rick", "monthly_fee": 9.99});
    assert_eq!(
        client.post("/new-subscription").json(&body).await.status(),
        404
    );
    assert_eq!(
        client
            .delete("/new-subscription")
            .json(&body)
            .await
            .status(),
        404
    );
    assert_eq!(client.post("/events").json(&body).await.status(), 404);
}

#[derive(Deserialize, JsonSchema)]
#[allow(
    dead_code,
    reason = "documented: the application sends or acknowledges it"
)]
struct Invoice {
    id: String,
    customer: String,
    total: f64,
}

#[derive(Deserialize, JsonSchema)]
#[allow(
    dead_code,
    reason = "documented: the application sends or acknowledges it"
)]
struct InvoiceEvent {
    description: String,
    paid: bool,
}

#[derive(Serialize, JsonSchema)]
struct InvoiceEventReceived {
    ok: bool,
}

async fn create_invoice(Path(shop): Path<String>, Json(invoice): Json<Invoice>) -> Json<Value> {
    Json(json!({"msg": "Invoice received", "shop": shop, "id": invoice.id}))
}

async fn invoice_notification(Json(_event): Json<InvoiceEvent>) -> Json<InvoiceEventReceived> {
    Json(InvoiceEventReceived { ok: true })
}

/// The shop's auditor is told of every change.
#[portico::handler]
async fn audit(Path(_shop): Path<String>, Json(_event): Json<InvoiceEvent>) {}

async fn receipt(Path(_id): Path<u32>) {}

const NOTIFY_URL: &str = "{$request.body#/callback_url}/invoices/{$request.body#/id}";

fn callbacks_app() -> App {
    let notify = Callback::post(NOTIFY_URL, invoice_notification);
    let shops = Router::new()
        .prefix("/shops/{shop}")
        .callback(Callback::post(
            "{$request.header.x-audit-url}/audit/{shop}",
            audit,
        ))
        .route(Route::post("/invoices/", create_invoice).callback(notify.clone()))
        // The same callback on a second route, and a second method under one URL and name.
        .route(
            Route::put("/invoices/", create_invoice)
                .callback(notify)
                .callback(
                    Callback::put(NOTIFY_URL, invoice_notification)
                        .operation_id("invoice_replaced")
                        .response(StatusCode::GONE, "The invoice is no longer tracked"),
                ),
        );
    App::new()
        // A closure has no name: this one is given one.
        .callback(Callback::get("{$request.query.ping_url}", || async {}).name("ping"))
        .include(shops)
        // A URL without a runtime expression is not a route either.
        .route(
            Route::post("/receipts/", || async { "ok" })
                .callback(Callback::post("/receipts/{id}", receipt)),
        )
}

#[portico::test]
async fn callbacks_are_documented_under_their_operation_and_never_served() {
    let app = callbacks_app();
    let built_before = app.openapi();
    let client = TestClient::new(app);
    let document: Value = client.get("/openapi.json").await.json();
    assert_eq!(document, built_before);

    let post = &document["paths"]["/shops/{shop}/invoices/"]["post"];
    // The application's callbacks, then the router's, then the route's own.
    let names: Vec<&String> = post["callbacks"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["ping", "audit", "invoice_notification"]);
    assert_eq!(
        post["callbacks"]["invoice_notification"],
        json!({
            NOTIFY_URL: {
                "post": {
                    "summary": "Invoice Notification",
                    "operationId": "invoice_notification__request_body__callback_url__invoices___request_body__id__post",
                    "requestBody": json_body("InvoiceEvent"),
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InvoiceEventReceived"}}},
                        },
                        "422": validation_error(),
                    },
                },
            },
        })
    );
    // A path parameter of the callback's URL is documented as a route's; its runtime
    // expression is kept as written.
    let audit = &post["callbacks"]["audit"]["{$request.header.x-audit-url}/audit/{shop}"]["post"];
    let shop = &audit["parameters"][0];
    assert_eq!(
        (&shop["name"], &shop["in"], &shop["required"]),
        (&json!("shop"), &json!("path"), &json!(true))
    );
    assert_eq!(shop["schema"]["type"], "string");
    let mut audit = audit.clone();
    audit["parameters"].take();
    assert_eq!(
        audit,
        json!({
                    "summary": "Audit",
                    "description": "The shop's auditor is told of every change.",
                    "operationId": "audit__request_header_x_audit_url__audit__shop__post",
                    "parameters": null,
                    "requestBody": json_body("InvoiceEvent"),
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {"application/json": {"schema": {}}},
                        },
                        "422": validation_error(),
                    },
        })
    );
    assert_eq!(
        post["callbacks"]["ping"],
        json!({
            "{$request.query.ping_url}": {
                "get": {
                    "operationId": "request_query_ping_url__get",
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {"application/json": {"schema": {}}},
                        },
                    },
                },
            },
        })
    );

    // Under one name and URL, the methods of one callback share a Path Item; every
    // operationId of the document is unique, the callbacks' included.
    let put = &document["paths"]["/shops/{shop}/invoices/"]["put"];
    let item = &put["callbacks"]["invoice_notification"][NOTIFY_URL];
    let methods: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(methods, ["post", "put"]);
    assert_eq!(
        item["post"]["operationId"],
        "invoice_notification__request_body__callback_url__invoices___request_body__id__post_2"
    );
    assert_eq!(item["put"]["operationId"], "invoice_replaced");
    assert_eq!(
        item["put"]["responses"]["410"],
        json!({"description": "The invoice is no longer tracked"})
    );

    let receipts = &document["paths"]["/receipts/"]["post"]["callbacks"];
    assert_eq!(
        receipts["receipt"]["/receipts/{id}"]["post"]["parameters"][0]["schema"]["type"],
        "integer"
    );
    // The callbacks' schemas are the document's components; their URLs are no paths.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("InvoiceEvent"));
    assert!(schemas.contains_key("InvoiceEventReceived"));
    let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/shops/{shop}/invoices/", "/receipts/"]);

    // The routes answer; nothing answers a callback's URL.
    let invoice = json!({"id": "fooinvoice", "customer": "John", "total": 5.3});
    let created = client.post("/shops/main/invoices/").json(&invoice).await;
    assert_eq!(created.status(), 200, "{}", created.text());
    assert_eq!(
        created.json::<Value>(),
        json!({"msg": "Invoice received", "shop": "main", "id": "fooinvoice"})
    );
    let event = json!({"description": "paid", "paid": true});
    assert_eq!(client.post("/audit/main").json(&event).await.status(), 404);
    assert_eq!(client.post("/receipts/7").await.status(), 404);
    assert_eq!(
        client
            .post("/invoices/fooinvoice")
            .json(&event)
            .await
            .status(),
        404
    );
}

#[test]
fn a_callback_without_a_name_is_refused_when_the_app_is_built() {
    let app = App::new().route(
        Route::post("/invoices/", || async { "ok" })
            .callback(Callback::post("{$request.body#/url}", || async {})),
    );
    let err = app.try_into_service().unwrap_err().to_string();
    assert!(
        err.contains(
            "the callback POST {$request.body#/url}: its handler is a closure, which has no name to key the callback by in the document; give it one with `Callback::name`"
        ),
        "{err}"
    );
}

#[test]
fn a_callback_must_read_its_path_parameters() {
    // A shared callback with a mistake is reported once, not once per route.
    let unread = Callback::post("{$request.body#/url}/receipts/{id}", event);
    let app = App::new()
        .callback(unread)
        .post("/a", || async { "a" })
        .post("/b", || async { "b" });
    let err = app.try_into_service().unwrap_err().to_string();
    let expected = "the callback POST {$request.body#/url}/receipts/{id}: the path parameter `id` is read by no parameter";
    assert_eq!(err.matches(expected).count(), 1, "{err}");
}

#[test]
fn two_webhooks_with_one_method_and_name_are_refused() {
    let app = App::new()
        .webhook(Webhook::post("new-subscription", new_subscription))
        .webhook(Webhook::put("new-subscription", new_subscription))
        .webhook(Webhook::post("new-subscription", event));
    let err = app.try_into_service().unwrap_err().to_string();
    assert!(
        err.contains("two webhooks for POST new-subscription"),
        "{err}"
    );
    assert!(!err.contains("PUT"), "{err}");
}

#[test]
fn a_webhook_dependency_needs_its_provider() {
    struct Signer;
    let app = App::new().webhook(Webhook::post("signed", event).dependency::<Signer>());
    let err = app.try_into_service().unwrap_err().to_string();
    assert!(err.contains("the webhook POST signed: "), "{err}");
    assert!(err.contains("Signer"), "{err}");
}

#[test]
#[should_panic(expected = "only the URL of a callback may hold")]
fn a_route_path_cannot_hold_a_runtime_expression() {
    let _ = Route::post("/invoices/{$request.body#/id}", event);
}

#[test]
#[should_panic(expected = "empty runtime expression")]
fn a_callback_url_cannot_hold_an_empty_runtime_expression() {
    let _ = Callback::post("{$}/invoices", event);
}

#[test]
#[should_panic(expected = "a webhook needs a name")]
fn a_webhook_needs_a_name() {
    let _ = Webhook::post("", event);
}
