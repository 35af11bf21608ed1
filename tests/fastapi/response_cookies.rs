//! Response cookies: `docs_src/response_cookies/tutorial001` and `tutorial002`.

use portico::testing::{TestClient, TestResponse};
use portico::{App, Json, SetCookie};
use serde_json::{Value, json};

/// The value of the cookie `name` the response sets, as httpx's `response.cookies[name]`.
fn response_cookie(response: &TestResponse, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| portico::cookie::Cookie::parse(value.to_owned()).ok())
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

fn message() -> Json<Value> {
    Json(json!({"message": "Come to the dark side, we have cookies"}))
}

async fn check(app: App, path: &str) {
    let client = TestClient::new(app);
    let response = client.post(path).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"message": "Come to the dark side, we have cookies"})
    );
    assert_eq!(
        response_cookie(&response, "fakesession").as_deref(),
        Some("fake-cookie-session-value")
    );
}

/// FastAPI builds a `JSONResponse` and sets the cookie on it: here the cookie is a part of
/// the response tuple.
mod tutorial001 {
    use super::*;

    fn create_cookie() -> (SetCookie, Json<Value>) {
        let content = message();
        (
            SetCookie::new(("fakesession", "fake-cookie-session-value")),
            content,
        )
    }

    #[portico::test]
    async fn path_operation() {
        check(App::new().post("/cookie/", create_cookie), "/cookie/").await;
    }
}

/// FastAPI sets the cookie on the `Response` parameter and returns the content: a Portico
/// handler returns both.
mod tutorial002 {
    use super::*;

    fn create_cookie() -> (SetCookie, Json<Value>) {
        (
            SetCookie::new(("fakesession", "fake-cookie-session-value")),
            message(),
        )
    }

    #[portico::test]
    async fn path_operation() {
        let app = App::new().post("/cookie-and-object/", create_cookie);
        check(app, "/cookie-and-object/").await;
    }
}
