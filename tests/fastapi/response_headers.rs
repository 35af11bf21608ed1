//! Response headers: `docs_src/response_headers/tutorial001` and `tutorial002`.

use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

/// FastAPI returns a `JSONResponse` with `headers`: here the headers are a part of the response
/// tuple.
mod tutorial001 {
    use super::*;

    fn get_headers() -> ([(&'static str, &'static str); 2], Json<Value>) {
        let content = Json(json!({"message": "Hello World"}));
        let headers = [
            ("X-Cat-Dog", "alone in the world"),
            ("Content-Language", "en-US"),
        ];
        (headers, content)
    }

    #[portico::test]
    async fn path_operation() {
        let client = TestClient::new(App::new().get("/headers/", get_headers));
        let response = client.get("/headers/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"message": "Hello World"}));
        assert_eq!(response.header("X-Cat-Dog"), Some("alone in the world"));
        assert_eq!(response.header("Content-Language"), Some("en-US"));
    }
}

/// FastAPI sets the header on the `Response` parameter and returns the content: a Portico
/// handler returns both.
mod tutorial002 {
    use super::*;

    fn get_headers() -> ([(&'static str, &'static str); 1], Json<Value>) {
        (
            [("X-Cat-Dog", "alone in the world")],
            Json(json!({"message": "Hello World"})),
        )
    }

    #[portico::test]
    async fn path_operation() {
        let app = App::new().get("/headers-and-object/", get_headers);
        let client = TestClient::new(app);
        let response = client.get("/headers-and-object/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"message": "Hello World"}));
        assert_eq!(response.header("X-Cat-Dog"), Some("alone in the world"));
    }
}
