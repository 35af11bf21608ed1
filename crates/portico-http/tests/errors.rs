//! Errors as FastAPI writes them: `HttpError`, exception handlers, a replaced 422 renderer,
//! and panics answered 500 with the application living on.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use http::StatusCode;
use portico::testing::TestClient;
use portico::{
    App, HttpError, IntoResponse, Json, Path, RequestHead, RequestValidationError, Response,
};
use serde_json::{Value, json};

async fn teapot() -> Result<&'static str, HttpError> {
    Err(HttpError::new(StatusCode::IM_A_TEAPOT))
}

async fn item(Path(id): Path<u32>) -> Result<Json<Value>, HttpError> {
    match id {
        0 => Err(HttpError::not_found().detail("Item not found")),
        1 => Err(HttpError::unauthorized()
            .detail(json!({"reason": "expired", "at": 1700000000}))
            .header("www-authenticate", "Bearer")),
        2 => Err(HttpError::new(StatusCode::NO_CONTENT)),
        _ => Ok(Json(json!({"id": id}))),
    }
}

#[portico::test]
async fn http_errors_answer_with_their_detail_and_headers() {
    let client = TestClient::new(App::new().get("/teapot", teapot).get("/items/{id}", item));
    let response = client.get("/teapot").await;
    assert_eq!(response.status(), 418);
    assert_eq!(response.json::<Value>(), json!({"detail": "I'm a teapot"}));
    let response = client.get("/items/0").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": "Item not found"})
    );
    let response = client.get("/items/1").await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": {"reason": "expired", "at": 1700000000}})
    );
    let response = client.get("/items/2").await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().is_empty());
    assert_eq!(response.header("content-type"), None);
}

#[derive(Debug)]
struct OutOfStock(&'static str);

impl IntoResponse for OutOfStock {
    fn into_response(self) -> Response {
        (StatusCode::CONFLICT, format!("{} is out of stock", self.0)).into_response()
    }
}

async fn buy(Path(what): Path<String>) -> Result<&'static str, OutOfStock> {
    if what == "tea" {
        Ok("bought")
    } else {
        Err(OutOfStock("coffee"))
    }
}

#[portico::test]
async fn errors_answer_themselves_until_a_handler_is_registered() {
    let plain = TestClient::new(App::new().get("/buy/{what}", buy));
    let response = plain.get("/buy/coffee").await;
    assert_eq!(response.status(), 409);
    assert_eq!(response.text(), "coffee is out of stock");

    let handled = App::new().get("/buy/{what}", buy).exception_handler(
        |err: OutOfStock, head: RequestHead| async move {
            (
                StatusCode::IM_A_TEAPOT,
                Json(json!({"sold_out": err.0, "path": head.uri().path(), "route": head.route()})),
            )
        },
    );
    let client = TestClient::new(handled);
    let response = client.get("/buy/coffee").await;
    assert_eq!(response.status(), 418);
    assert_eq!(
        response.json::<Value>(),
        json!({"sold_out": "coffee", "path": "/buy/coffee", "route": "/buy/{what}"})
    );
    assert_eq!(client.get("/buy/tea").await.text(), "bought");
}

#[portico::test]
async fn an_http_error_handler_also_covers_404_and_405() {
    let app = App::new().get("/items/{id}", item).exception_handler(|err: HttpError, head: RequestHead| async move {
        let body = json!({"error": err.status().as_u16(), "method": head.method().as_str(), "message": err.detail_value()});
        (err.status(), err.headers().clone(), Json(body))
    });
    let client = TestClient::new(app);
    let response = client.get("/nowhere").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>(),
        json!({"error": 404, "method": "GET", "message": "Not Found"})
    );
    let response = client.post("/items/3").await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
    let response = client.get("/items/0").await;
    assert_eq!(response.json::<Value>()["message"], "Item not found");
}

#[portico::test]
async fn the_422_renderer_can_be_replaced_with_problem_details() {
    let app = App::new().get("/items/{id}", item).exception_handler(|err: RequestValidationError, head: RequestHead| async move {
        let errors: Vec<Value> = err.errors().iter().map(|e| json!({"pointer": e.loc, "detail": e.msg})).collect();
        let body = json!({"type": "about:blank", "title": "Unprocessable Content", "status": 422, "instance": head.uri().path(), "errors": errors});
        (StatusCode::UNPROCESSABLE_ENTITY, [("content-type", "application/problem+json")], body.to_string())
    });
    let response = TestClient::new(app).get("/items/abc").await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        response.json::<Value>(),
        json!({"type": "about:blank", "title": "Unprocessable Content", "status": 422, "instance": "/items/abc",
               "errors": [{"pointer": ["path", "id"], "detail": "Input should be a valid integer, unable to parse string as an integer"}]})
    );
}

async fn boom() -> &'static str {
    panic!("boom in an async handler")
}

fn blocking_boom() -> &'static str {
    panic!("boom on the thread pool")
}

async fn fine() -> &'static str {
    "still here"
}

/// Log lines of every test of this file, captured once for the process.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(sink.clone()))
            .with_ansi(false)
            .with_max_level(tracing::Level::ERROR)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[portico::test]
async fn panics_become_500_logged_and_the_app_lives_on() {
    let logs = logs();
    let app = App::new()
        .get("/boom", boom)
        .get("/blocking-boom", blocking_boom)
        .get("/fine", fine);
    let client = TestClient::new(app);
    for path in ["/boom", "/blocking-boom"] {
        let response = client.get(path).await;
        assert_eq!(response.status(), 500);
        assert_eq!(response.text(), "Internal Server Error");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(client.get("/fine").await.text(), "still here");
    }
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("a handler panicked: boom in an async handler"),
        "{logged}"
    );
    assert!(logged.contains("route=/blocking-boom"), "{logged}");
    assert!(logged.contains("boom on the thread pool"), "{logged}");
}

#[portico::test]
async fn a_panicking_exception_handler_is_a_500_too() {
    let app = App::new().get("/teapot", teapot).exception_handler(
        |_: HttpError, _: RequestHead| async move {
            if true {
                panic!("the handler of handlers broke");
            }
            "unreachable"
        },
    );
    let response = TestClient::new(app).get("/teapot").await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.text(), "Internal Server Error");
}

// --- providers that catch the handler's error (a dependency with `yield` in `try`/`except`) ---

/// The handler's own error: 500 unless a dependency translates it.
#[derive(Debug)]
enum ShopError {
    OutOfStock(String),
    Closed,
}

impl IntoResponse for ShopError {
    fn into_response(self) -> Response {
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR)
            .detail(format!("{self:?}"))
            .into_response()
    }
}

struct Session(Arc<Mutex<Vec<String>>>);
struct Basket(Arc<Mutex<Vec<String>>>);

async fn session(
    portico::State(log): portico::State<Arc<Mutex<Vec<String>>>>,
) -> Result<Session, HttpError> {
    Ok(Session(log))
}

async fn basket(portico::Depends(session): portico::Depends<Session>) -> Result<Basket, HttpError> {
    Ok(Basket(session.0.clone()))
}

async fn buy_with(
    Path(what): Path<String>,
    portico::Depends(_basket): portico::Depends<Basket>,
) -> Result<&'static str, ShopError> {
    match what.as_str() {
        "tea" => Ok("bought"),
        "closed" => Err(ShopError::Closed),
        other => Err(ShopError::OutOfStock(other.to_owned())),
    }
}

fn shop(log: &Arc<Mutex<Vec<String>>>) -> App {
    App::new()
        .state(log.clone())
        // Set up first, so it sees the error last.
        .provide(
            portico::Provider::new(session)
                .catch(|session: &Session, err: ShopError| {
                    session
                        .0
                        .lock()
                        .unwrap()
                        .push(format!("session saw {err:?}"));
                    Ok::<_, ShopError>(HttpError::new(StatusCode::SERVICE_UNAVAILABLE))
                })
                .cleanup(|session: &Session, outcome: portico::Outcome| {
                    session
                        .0
                        .lock()
                        .unwrap()
                        .push(format!("session closed: {outcome:?}"));
                }),
        )
        .provide(
            portico::Provider::new(basket).catch(|basket: &Basket, err: ShopError| {
                basket.0.lock().unwrap().push(format!("basket saw {err:?}"));
                match err {
                    ShopError::OutOfStock(what) => {
                        Ok(HttpError::new(StatusCode::CONFLICT).detail(format!("no {what} left")))
                    }
                    closed => Err(closed),
                }
            }),
        )
        .get("/buy/{what}", buy_with)
}

#[portico::test]
async fn a_provider_catches_the_handlers_error_and_answers_instead() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(shop(&log));
    let response = client.get("/buy/milk").await;
    assert_eq!(response.status(), 409);
    assert_eq!(response.json::<Value>(), json!({"detail": "no milk left"}));
    client.shutdown().await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            "basket saw OutOfStock(\"milk\")",
            "session closed: Error(409)",
        ]
    );
}

#[portico::test]
async fn an_error_let_through_goes_on_to_the_provider_set_up_before() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(shop(&log));
    let response = client.get("/buy/closed").await;
    assert_eq!(response.status(), 503);
    client.shutdown().await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            "basket saw Closed",
            "session saw Closed",
            "session closed: Error(503)",
        ]
    );
}

#[portico::test]
async fn a_caught_errors_answer_goes_to_the_exception_handlers_and_success_is_untouched() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let app = shop(&log).exception_handler(|err: HttpError, _: RequestHead| async move {
        (err.status(), format!("handled {}", err.status().as_u16()))
    });
    let client = TestClient::new(app);
    let response = client.get("/buy/milk").await;
    assert_eq!(response.status(), 409);
    assert_eq!(response.text(), "handled 409");
    assert_eq!(client.get("/buy/tea").await.text(), "bought");
    client.shutdown().await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            "basket saw OutOfStock(\"milk\")",
            "session closed: Error(409)",
            "session closed: Success",
        ]
    );
}

// --- a dependency's own error, as FastAPI treats an exception raised in a dependency ---

struct AsyncStock;
struct PlainStock;

async fn async_stock(Path(what): Path<String>) -> Result<AsyncStock, OutOfStock> {
    if what == "tea" {
        Ok(AsyncStock)
    } else {
        Err(OutOfStock("coffee"))
    }
}

fn plain_stock(Path(what): Path<String>) -> Result<PlainStock, OutOfStock> {
    if what == "tea" {
        Ok(PlainStock)
    } else {
        Err(OutOfStock("coffee"))
    }
}

async fn sell_async(portico::Depends(_): portico::Depends<AsyncStock>) -> &'static str {
    "sold"
}

async fn sell_mixed(portico::Depends(_): portico::Depends<PlainStock>) -> &'static str {
    "sold"
}

fn sell_plain(portico::Depends(_): portico::Depends<PlainStock>) -> &'static str {
    "sold"
}

async fn sell_fresh(portico::Fresh(_): portico::Fresh<AsyncStock>) -> &'static str {
    "sold"
}

/// The ways a dependency is produced: on the event loop, on a trip of its own, on the plain
/// handler's trip, and anew for one parameter.
fn stock_app() -> App {
    App::new()
        .provide(async_stock)
        .provide(plain_stock)
        .get("/async/{what}", sell_async)
        .get("/mixed/{what}", sell_mixed)
        .get("/plain/{what}", sell_plain)
        .get("/fresh/{what}", sell_fresh)
}

#[portico::test]
async fn a_dependencys_error_goes_to_the_exception_handler_for_its_type() {
    let paths = ["/async", "/mixed", "/plain", "/fresh"];
    let plain = TestClient::new(stock_app());
    for path in paths {
        let response = plain.get(format!("{path}/coffee")).await;
        assert_eq!(response.status(), 409, "{path}");
        assert_eq!(response.text(), "coffee is out of stock", "{path}");
        assert_eq!(plain.get(format!("{path}/tea")).await.text(), "sold");
    }

    let handled = stock_app().exception_handler(|err: OutOfStock, head: RequestHead| async move {
        (
            StatusCode::IM_A_TEAPOT,
            Json(json!({"sold_out": err.0, "route": head.route()})),
        )
    });
    let client = TestClient::new(handled);
    for path in paths {
        let response = client.get(format!("{path}/coffee")).await;
        assert_eq!(response.status(), 418, "{path}");
        assert_eq!(
            response.json::<Value>(),
            json!({"sold_out": "coffee", "route": format!("{path}/{{what}}")})
        );
        assert_eq!(client.get(format!("{path}/tea")).await.text(), "sold");
    }
}

struct Till;

async fn till(portico::Depends(_): portico::Depends<Session>) -> Result<Till, ShopError> {
    Err(ShopError::Closed)
}

async fn pay(portico::Depends(_): portico::Depends<Till>) -> &'static str {
    "paid"
}

#[portico::test]
async fn a_dependencys_error_reaches_the_providers_set_up_before_it_and_fails_their_cleanups() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(shop(&log).provide(till).get("/pay", pay));
    let response = client.get("/pay").await;
    // The session's catch answers for it, as its `except` would in FastAPI.
    assert_eq!(response.status(), 503);
    client.shutdown().await;
    assert_eq!(
        *log.lock().unwrap(),
        ["session saw Closed", "session closed: Error(503)"]
    );
}
