//! Answers shaped as FastAPI shapes them where Rust leaves a choice: a handler returning
//! nothing, a parameter model missing a field, a datetime that does not parse.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use http::StatusCode;
use portico::testing::TestClient;
use portico::{App, Header, Json, Route};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

async fn nothing() {}

#[portico::test]
async fn a_handler_returning_nothing_answers_json_null_unless_its_status_has_no_body() {
    let app = App::new()
        .get("/nothing", nothing)
        .route(Route::delete("/nothing", nothing).status_code(StatusCode::NO_CONTENT));
    let doc = app.openapi();
    assert_eq!(
        doc["paths"]["/nothing"]["get"]["responses"]["200"]["content"],
        json!({"application/json": {"schema": {}}})
    );
    let client = TestClient::new(app);
    let response = client.get("/nothing").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json::<Value>(), Value::Null);
    let response = client.delete("/nothing").await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().is_empty());
    assert_eq!(response.header("content-type"), None);
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code, reason = "read by the extractor only")]
struct Client {
    save_data: bool,
    #[serde(default)]
    x_tag: Vec<String>,
    traceparent: Option<String>,
}

async fn client(Header(_): Header<Client>) {}

#[portico::test]
async fn a_header_model_missing_a_field_reports_every_header_as_its_input() {
    let client = TestClient::new(App::new().get("/", client));
    let response = client
        .get("/")
        .header("traceparent", "123")
        .header("x-other", "a")
        .header("x-other", "b")
        .await;
    assert_eq!(response.status(), 422);
    // The fields sent, the defaults of those absent, and every other header as sent (a
    // repeated one as a list), as FastAPI builds a header model's input.
    assert_eq!(
        response.json::<Value>()["detail"][0]["input"],
        json!({
            "host": "testserver",
            "traceparent": "123",
            "x_tag": [],
            "x-other": ["a", "b"],
        })
    );
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct Event {
    at: chrono::NaiveDateTime,
    on: Option<chrono::NaiveDate>,
}

async fn event(Json(event): Json<Event>) -> Json<Value> {
    Json(serde_json::to_value(event).unwrap())
}

#[portico::test]
async fn dates_and_datetimes_are_read_and_refused_in_pydantics_words() {
    let client = TestClient::new(App::new().post("/", event));
    let response = client
        .post("/")
        .json(&json!({"at": "not a date", "on": "2023-02-30"}))
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.json::<Value>()["detail"],
        json!([
            {
                "type": "datetime_from_date_parsing",
                "loc": ["body", "at"],
                "msg": "Input should be a valid datetime or date, invalid character in year",
                "input": "not a date",
                "ctx": {"error": "invalid character in year"},
            },
            {
                "type": "date_from_datetime_parsing",
                "loc": ["body", "on"],
                "msg": "Input should be a valid date or datetime, day value is outside expected range",
                "input": "2023-02-30",
                "ctx": {"error": "day value is outside expected range"},
            },
        ])
    );
    // A date alone is a datetime at midnight, as Pydantic's lax mode takes it.
    let response = client
        .post("/")
        .json(&json!({"at": "2023-01-01", "on": "2023-01-02T00:00:00"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"at": "2023-01-01T00:00:00", "on": "2023-01-02"})
    );
}
