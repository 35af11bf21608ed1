//! `body_nested_models/tutorial004`: an optional nested `Image`.

use super::*;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Image {
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
    image: Option<Image>,
}

#[portico::handler]
async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
    Json(json!({"item_id": item_id, "item": item}))
}

fn app() -> App {
    App::new().put("/items/{item_id}", update_item)
}

#[portico::test]
async fn put_all() {
    check_put_all_with_image(app()).await;
}

#[portico::test]
async fn put_only_required() {
    check_put_only_required(app(), json!({"image": null})).await;
}

#[portico::test]
async fn put_empty_body() {
    check_put_empty_body(app()).await;
}

#[portico::test]
async fn put_missing_required_in_item() {
    check_put_missing_required(app()).await;
}

#[portico::test]
async fn put_missing_required_in_image() {
    check_put_missing_required_in_image(app()).await;
}

#[portico::test]
async fn openapi_schema() {
    check_image_document(app(), json!({"type": "string"})).await;
}

/// `test_put_all` of tutorials 004 and 005.
pub(super) async fn check_put_all_with_image(app: App) {
    let client = TestClient::new(app);
    let image = json!({"url": "http://example.com/image.png", "name": "example image"});
    let body = json!({
        "name": "Foo",
        "description": "A very nice Item",
        "price": 35.4,
        "tax": 3.2,
        "tags": ["foo", "bar", "foo"],
        "image": image,
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
            "image": image,
        }})
    );
}

/// `test_put_missing_required_in_image` of tutorials 004 and 005.
pub(super) async fn check_put_missing_required_in_image(app: App) {
    let client = TestClient::new(app);
    let body = json!({
        "name": "Foo",
        "price": 35.4,
        "image": {"url": "http://example.com/image.png"},
    });
    let answer = answer(client.put("/items/5").json(&body), 422).await;
    assert_eq!(
        answer,
        json!({"detail": [missing(
            json!(["body", "image", "name"]),
            json!({"url": "http://example.com/image.png"}),
        )]})
    );
}

/// `test_openapi_schema` of tutorials 004 and 005, with FastAPI's schema of `Image.url`.
pub(super) async fn check_image_document(app: App, url: Value) {
    let client = TestClient::new(app);
    let image = json!({"anyOf": [{"$ref": "#/components/schemas/Image"}, {"type": "null"}]});
    let schemas = json!({
        "Image": image_schema(url),
        "Item": item_schema(json!({"tags": set_of_str(), "image": image})),
    });
    assert_document(&client, put_item_document(schemas)).await;
}
