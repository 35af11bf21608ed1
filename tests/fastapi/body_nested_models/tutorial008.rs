//! `body_nested_models/tutorial008`: a body that is a list of `Image`s.

use super::*;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Image {
    // Pydantic's `HttpUrl`: a URL of at most 2083 characters.
    #[schemars(url, length(min = 1, max = 2083))]
    url: String,
    name: String,
}

// FastAPI's `create_multiple_images` declares no return type: its answer is any JSON.
#[portico::handler]
async fn create_multiple_images(Json(images): Json<Vec<Image>>) -> Json<Value> {
    Json(serde_json::to_value(images).unwrap())
}

fn app() -> App {
    App::new().post("/images/multiple/", create_multiple_images)
}

/// FastAPI's tests post to `/images/multiple`, and Starlette's client follows the 307 to
/// `/images/multiple/`.
async fn post(body: Value, status: u16) -> Value {
    let client = TestClient::new(app()).follow_redirects(true);
    answer(client.post("/images/multiple").json(&body), status).await
}

#[portico::test]
async fn post_body() {
    let data = json!([
        {"url": "http://example.com/", "name": "Example"},
        {"url": "http://fastapi.tiangolo.com/", "name": "FastAPI"},
    ]);
    assert_eq!(post(data.clone(), 200).await, data);
}

#[portico::test]
async fn post_invalid_list_item() {
    let data = json!([{"url": "not a valid url", "name": "Example"}]);
    assert_eq!(
        post(data, 422).await,
        json!({"detail": [not_a_url(json!(["body", 0, "url"]), "not a valid url")]})
    );
}

#[portico::test]
async fn post_not_a_list() {
    let data = json!({"url": "http://example.com/", "name": "Example"});
    assert_eq!(
        post(data.clone(), 422).await,
        json!({"detail": [{
            "loc": ["body"],
            "input": data,
            "msg": "Input should be a valid list",
            "type": "list_type",
        }]})
    );
}

#[portico::test]
async fn openapi_schema() {
    let client = TestClient::new(app());
    let expected = document(
        json!({"/images/multiple/": {"post": {
            "responses": {"200": any_json_response(), "422": validation_response()},
            "summary": "Create Multiple Images",
            "operationId": "create_multiple_images_images_multiple__post",
            "requestBody": {
                "content": {"application/json": {"schema": {
                    "title": "Images",
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Image"},
                }}},
                "required": true,
            },
        }}}),
        Some(json!({"Image": image_schema(http_url())})),
    );
    assert_document(&client, expected).await;
}
