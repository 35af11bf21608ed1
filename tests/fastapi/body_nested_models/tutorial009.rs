//! `body_nested_models/tutorial009`: a body that is a `dict[int, float]`.

use std::collections::HashMap;

use super::*;

// FastAPI's `create_index_weights` declares no return type: its answer is any JSON.
#[portico::handler]
async fn create_index_weights(Json(weights): Json<HashMap<i64, f64>>) -> Json<Value> {
    Json(serde_json::to_value(weights).unwrap())
}

fn app() -> App {
    App::new().post("/index-weights/", create_index_weights)
}

async fn post(body: Value, status: u16) -> Value {
    let client = TestClient::new(app());
    answer(client.post("/index-weights/").json(&body), status).await
}

#[portico::test]
async fn post_body() {
    let data = json!({"2": 2.2, "3": 3.3});
    assert_eq!(post(data.clone(), 200).await, data);
}

#[portico::test]
async fn post_invalid_body() {
    let data = json!({"foo": 2.2, "3": 3.3});
    assert_eq!(
        post(data, 422).await,
        json!({"detail": [{
            "type": "int_parsing",
            "loc": ["body", "foo", "[key]"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "foo",
        }]})
    );
}

#[portico::test]
async fn openapi_schema() {
    let client = TestClient::new(app());
    let expected = document(
        json!({"/index-weights/": {"post": {
            "responses": {"200": any_json_response(), "422": validation_response()},
            "summary": "Create Index Weights",
            "operationId": "create_index_weights_index_weights__post",
            "requestBody": {
                "content": {"application/json": {"schema": {
                    "title": "Weights",
                    "type": "object",
                    "additionalProperties": {"type": "number"},
                }}},
                "required": true,
            },
        }}}),
        Some(json!({})),
    );
    assert_document(&client, expected).await;
}
