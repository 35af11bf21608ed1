//! `body_nested_models/tutorial007`: an `Offer` of `Item`s with `Image`s, three levels deep.

use super::tutorial006::item_with_images_schema;
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

#[derive(Serialize, Deserialize, JsonSchema)]
struct Offer {
    name: String,
    description: Option<String>,
    price: f64,
    items: Vec<Item>,
}

// FastAPI's `create_offer` declares no return type, so its answer is documented as any JSON:
// `Json<Value>` says so (a `Json<Offer>` would document `Offer`).
#[portico::handler]
async fn create_offer(Json(offer): Json<Offer>) -> Json<Value> {
    Json(serde_json::to_value(offer).unwrap())
}

fn app() -> App {
    App::new().post("/offers/", create_offer)
}

async fn post(body: Value, status: u16) -> Value {
    let client = TestClient::new(app());
    answer(client.post("/offers/").json(&body), status).await
}

#[portico::test]
async fn post_all() {
    let data = json!({
        "name": "Special Offer",
        "description": "This is a special offer",
        "price": 38.6,
        "items": [{
            "name": "Foo",
            "description": "A very nice Item",
            "price": 35.4,
            "tax": 3.2,
            "tags": ["foo"],
            "images": [{"url": "http://example.com/image.png", "name": "example image"}],
        }],
    });
    assert_eq!(post(data.clone(), 200).await, data);
}

#[portico::test]
async fn put_only_required() {
    let images = json!([{"url": "http://example.com/image.png", "name": "example image"}]);
    let body = json!({
        "name": "Special Offer",
        "price": 38.6,
        "items": [{"name": "Foo", "price": 35.4, "images": images}],
    });
    assert_eq!(
        post(body, 200).await,
        json!({
            "name": "Special Offer",
            "description": null,
            "price": 38.6,
            "items": [{
                "name": "Foo",
                "description": null,
                "price": 35.4,
                "tax": null,
                "tags": [],
                "images": images,
            }],
        })
    );
}

#[portico::test]
async fn put_empty_body() {
    assert_eq!(
        post(json!({}), 422).await,
        json!({"detail": [
            missing(json!(["body", "name"]), json!({})),
            missing(json!(["body", "price"]), json!({})),
            missing(json!(["body", "items"]), json!({})),
        ]})
    );
}

#[portico::test]
async fn put_missing_required_in_items() {
    let body = json!({"name": "Special Offer", "price": 38.6, "items": [{}]});
    assert_eq!(
        post(body, 422).await,
        json!({"detail": [
            missing(json!(["body", "items", 0, "name"]), json!({})),
            missing(json!(["body", "items", 0, "price"]), json!({})),
        ]})
    );
}

#[portico::test]
async fn put_missing_required_in_images() {
    let body = json!({
        "name": "Special Offer",
        "price": 38.6,
        "items": [{"name": "Foo", "price": 35.4, "images": [{}]}],
    });
    assert_eq!(
        post(body, 422).await,
        json!({"detail": [
            missing(json!(["body", "items", 0, "images", 0, "url"]), json!({})),
            missing(json!(["body", "items", 0, "images", 0, "name"]), json!({})),
        ]})
    );
}

#[portico::test]
async fn openapi_schema() {
    let client = TestClient::new(app());
    let offer = json!({
        "properties": {
            "name": {"type": "string"},
            "description": nullable(json!({"type": "string"})),
            "price": {"type": "number"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        },
        "required": ["name", "price", "items"],
        "type": "object",
    });
    let expected = document(
        json!({"/offers/": {"post": {
            "responses": {"200": any_json_response(), "422": validation_response()},
            "summary": "Create Offer",
            "operationId": "create_offer_offers__post",
            "requestBody": {
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Offer"},
                }},
                "required": true,
            },
        }}}),
        Some(json!({
            "Image": image_schema(http_url()),
            "Item": item_with_images_schema(),
            "Offer": offer,
        })),
    );
    assert_document(&client, expected).await;
}
