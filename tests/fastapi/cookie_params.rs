//! Cookie parameters: `docs_src/cookie_params/tutorial001` (the `_an` variant is the same app).

use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[cookie] ads_id: Option<String>) -> Json<Value> {
        Json(json!({"ads_id": ads_id}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    /// A client as FastAPI's tests make Starlette's: with `cookies`, following redirects
    /// (`/items` → `/items/`).
    fn client(cookies: &[(&str, &str)]) -> TestClient {
        let client = TestClient::new(app()).follow_redirects(true);
        for (name, value) in cookies {
            client.set_cookie(name, value);
        }
        client
    }

    #[portico::test]
    async fn test() {
        for (cookies, expected) in [
            (&[][..], json!({"ads_id": null})),
            (
                &[("ads_id", "ads_track")][..],
                json!({"ads_id": "ads_track"}),
            ),
            (
                &[("ads_id", "ads_track"), ("session", "cookiesession")][..],
                json!({"ads_id": "ads_track"}),
            ),
            (&[("session", "cookiesession")][..], json!({"ads_id": null})),
        ] {
            let response = client(cookies).get("/items").await;
            assert_eq!(response.status(), 200, "{cookies:?}: {}", response.text());
            assert_eq!(response.json::<Value>(), expected, "{cookies:?}");
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = document(
            json!({"/items/": {"get": operation("Read Items", "read_items_items__get", vec![
                param("cookie", "ads_id", false, nullable(json!({"type": "string"}))),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client(&[]), expected).await;
    }
}
