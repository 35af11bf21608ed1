//! `body_nested_models/tutorial006`: an optional list of nested `Image`s.

use super::*;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Image {
    // Pydantic's `HttpUrl`: a URL of at most 2083 characters.
    #[schemars(url, length(min = 1, max = 2083))]
    url: String,
    name: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    name: String,
    description: Option<String>,
    price: f64,
    tax: Option<f64>,
    #[serde(default)]
    tags: BTreeSet<String>,
    images: Option<Vec<Image>>,
}

#[portico::handler]
async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
    Json(json!({"item_id": item_id, "item": item}))
}

fn app() -> App {
    App::new().put("/items/{item_id}", update_item)
}

/// FastAPI's schema of `Item` with `images: list[Image] | None = None` (tutorials 006, 007).
pub(super) fn item_with_images_schema() -> Value {
    let images = nullable(json!({
        "items": {"$ref": "#/components/schemas/Image"},
        "type": "array",
    }));
    item_schema(json!({"tags": set_of_str(), "images": images}))
}

#[portico::test]
async fn put_all() {
    let client = TestClient::new(app());
    let images = json!([{"url": "http://example.com/image.png", "name": "example image"}]);
    let body = json!({
        "name": "Foo",
        "description": "A very nice Item",
        "price": 35.4,
        "tax": 3.2,
        "tags": ["foo", "bar", "foo"],
        "images": images,
    });
    let answer = answer(client.put("/items/123").json(&body), 200).await;
    assert_eq!(
        tags_in_any_order(answer),
        json!({"item_id": 123, "item": {
            "name": "Foo",
            "description": "A very nice Item",
            "price": 35.4,
            "tax": 3.2,
            "tags": ["bar", "foo"],
            "images": images,
        }})
    );
}

#[portico::test]
async fn put_only_required() {
    check_put_only_required(app(), json!({"images": null})).await;
}

#[portico::test]
async fn put_empty_body() {
    check_put_empty_body(app()).await;
}

#[portico::test]
async fn put_images_not_list() {
    let client = TestClient::new(app());
    let image = json!({"url": "http://example.com/image.png", "name": "example image"});
    let body = json!({"name": "Foo", "price": 35.4, "images": image});
    let answer = answer(client.put("/items/5").json(&body), 422).await;
    assert_eq!(
        answer,
        json!({"detail": [{
            "loc": ["body", "images"],
            "input": image,
            "msg": "Input should be a valid list",
            "type": "list_type",
        }]})
    );
}

#[portico::test]
async fn openapi_schema() {
    let client = TestClient::new(app());
    let schemas = json!({
        "Image": image_schema(http_url()),
        "Item": item_with_images_schema(),
    });
    assert_document(&client, put_item_document(schemas)).await;
}
