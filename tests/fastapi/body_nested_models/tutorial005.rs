//! `body_nested_models/tutorial005`: the nested `Image`'s `url` is an `HttpUrl`.

use super::tutorial004::{
    check_image_document, check_put_all_with_image, check_put_missing_required_in_image,
};
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
async fn put_wrong_url() {
    let client = TestClient::new(app());
    let body = json!({
        "name": "Foo",
        "price": 35.4,
        "image": {"url": "not a valid url", "name": "example image"},
    });
    let answer = answer(client.put("/items/5").json(&body), 422).await;
    assert_eq!(
        answer,
        json!({"detail": [not_a_url(json!(["body", "image", "url"]), "not a valid url")]})
    );
}

#[portico::test]
async fn openapi_schema() {
    check_image_document(app(), http_url()).await;
}
