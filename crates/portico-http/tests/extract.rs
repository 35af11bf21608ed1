//! Parameters: each extractor, and every invalid input of a request reported in one 422.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use bytes::Bytes;
use futures_lite::StreamExt;
use http::{HeaderMap, Method, Uri};
use portico::testing::TestClient;
use portico::{App, BodyStream, Cookie, Header, Json, Path, Query, Request, Route, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct Search {
    #[schemars(length(min = 3))]
    q: String,
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 100))]
    limit: u32,
    tag: Option<Vec<String>>,
    exact: Option<bool>,
}

fn ten() -> u32 {
    10
}

async fn search(Query(s): Query<Search>) -> Json<Value> {
    Json(json!({"q": s.q, "limit": s.limit, "tags": s.tag, "exact": s.exact}))
}

#[portico::test]
async fn query_structs_take_defaults_options_and_repeated_keys() {
    let client = TestClient::new(App::new().get("/search", search));
    let response = client.get("/search?q=rust&tag=a&tag=b&unknown=1").await;
    assert_eq!(
        response.json::<Value>(),
        json!({"q": "rust", "limit": 10, "tags": ["a", "b"], "exact": null})
    );
    let response = client
        .get("/search")
        .query(&[("q", "café au lait"), ("limit", "5"), ("exact", "yes")])
        .await;
    assert_eq!(
        response.json::<Value>(),
        json!({"q": "café au lait", "limit": 5, "tags": null, "exact": true})
    );
}

#[portico::test]
async fn query_constraints_answer_with_their_context() {
    let client = TestClient::new(App::new().get("/search", search));
    let response = client.get("/search?q=ab&limit=1000&exact=perhaps").await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": [
            {"type": "string_too_short", "loc": ["query", "q"], "msg": "String should have at least 3 characters", "input": "ab", "ctx": {"min_length": 3}},
            {"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 100", "input": "1000", "ctx": {"le": 100}},
            {"type": "bool_parsing", "loc": ["query", "exact"], "msg": "Input should be a valid boolean, unable to interpret input", "input": "perhaps"},
        ]})
    );
    // `Query<Search>` is a parameter model: a missing field reports the model's input (here
    // empty), as FastAPI's query models do; a single `#[query]` parameter reports `null`.
    let missing = client.get("/search").await.json::<Value>();
    assert_eq!(
        missing,
        json!({"detail": [{"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": {}}]})
    );
}

#[derive(Deserialize, JsonSchema)]
struct Client {
    user_agent: String,
    x_token: Vec<String>,
    x_retries: Option<u8>,
}

async fn client_headers(Header(h): Header<Client>) -> Json<Value> {
    Json(json!({"ua": h.user_agent, "tokens": h.x_token, "retries": h.x_retries}))
}

#[portico::test]
async fn header_fields_read_hyphenated_headers() {
    let client = TestClient::new(App::new().get("/h", client_headers));
    let response = client
        .get("/h")
        .header("User-Agent", "curl/8")
        .header("x-token", "a")
        .header("X-Token", "b")
        .await;
    assert_eq!(
        response.json::<Value>(),
        json!({"ua": "curl/8", "tokens": ["a", "b"], "retries": null})
    );
    let invalid = client
        .get("/h")
        .header("x-retries", "many")
        .await
        .json::<Value>();
    // A header model's errors name its fields, as FastAPI's header models do (a single
    // `#[header]` parameter's name the header).
    assert_eq!(invalid["detail"][0]["loc"], json!(["header", "user_agent"]));
    assert_eq!(invalid["detail"][0]["type"], "missing");
    assert_eq!(invalid["detail"][1]["loc"], json!(["header", "x_token"]));
    assert_eq!(invalid["detail"][2]["loc"], json!(["header", "x_retries"]));
}

#[derive(Deserialize, JsonSchema)]
struct Session {
    session_id: String,
    theme: Option<String>,
}

async fn session(Cookie(s): Cookie<Session>) -> String {
    format!("{} {:?}", s.session_id, s.theme)
}

#[portico::test]
async fn cookie_fields_read_cookies() {
    let client = TestClient::new(App::new().get("/me", session));
    assert_eq!(
        client
            .get("/me")
            .cookie("session_id", "abc")
            .cookie("theme", "dark")
            .await
            .text(),
        "abc Some(\"dark\")"
    );
    client.set_cookie("session_id", "from%20jar");
    assert_eq!(client.get("/me").await.text(), "from jar None");
    let missing = TestClient::new(App::new().get("/me", session))
        .get("/me")
        .await;
    assert_eq!(
        missing.json::<Value>()["detail"][0]["loc"],
        json!(["cookie", "session_id"])
    );
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Line {
    name: String,
    #[schemars(extend("exclusiveMinimum" = 0))]
    price: f64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Order {
    customer: String,
    items: Vec<Line>,
}

#[derive(Deserialize, JsonSchema)]
struct Page {
    page: u32,
}

#[derive(Deserialize, JsonSchema)]
struct Trace {
    x_trace: u64,
}

#[derive(Deserialize, JsonSchema)]
struct Tenant {
    tenant: u32,
}

async fn place(
    Path(shop): Path<u32>,
    Query(page): Query<Page>,
    Header(trace): Header<Trace>,
    Cookie(tenant): Cookie<Tenant>,
    Json(order): Json<Order>,
) -> Json<Value> {
    Json(
        json!({"shop": shop, "page": page.page, "trace": trace.x_trace, "tenant": tenant.tenant, "order": order}),
    )
}

#[portico::test]
async fn every_invalid_input_of_a_request_is_reported_at_once() {
    let client = TestClient::new(App::new().post("/shops/{shop}/orders", place));
    let body = json!({"items": [{"name": "a", "price": 1.0}, {"name": "b", "price": 2}, {"name": 3, "price": -1}]});
    let response = client
        .post("/shops/x/orders?page=two")
        .header("x-trace", "t")
        .cookie("tenant", "-4")
        .json(&body)
        .await;
    assert_eq!(response.status(), 422);
    let detail = response.json::<Value>()["detail"].clone();
    let locs: Vec<Value> = detail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    // A header model's errors name its fields, as FastAPI's header models do.
    assert_eq!(
        locs,
        vec![
            json!(["path", "shop"]),
            json!(["query", "page"]),
            json!(["header", "x_trace"]),
            json!(["cookie", "tenant"]),
            json!(["body", "customer"]),
            json!(["body", "items", 2, "name"]),
            json!(["body", "items", 2, "price"]),
        ]
    );
    assert_eq!(
        detail[4],
        json!({"type": "missing", "loc": ["body", "customer"], "msg": "Field required", "input": body})
    );
    assert_eq!(detail[6]["ctx"], json!({"gt": 0}));

    let good = json!({"customer": "ada", "items": [{"name": "a", "price": 1.5}]});
    let response = client
        .post("/shops/1/orders?page=2")
        .header("x-trace", "9")
        .cookie("tenant", "4")
        .json(&good)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>()["order"], good);
}

async fn echo(Json(value): Json<Order>) -> Json<Order> {
    Json(value)
}

#[portico::test]
async fn json_bodies_refuse_what_is_not_json() {
    let client = TestClient::new(App::new().post("/echo", echo));
    let missing = client.post("/echo").await;
    assert_eq!(missing.status(), 422);
    assert_eq!(
        missing.json::<Value>(),
        json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]})
    );

    let broken = client
        .post("/echo")
        .content_type("application/json")
        .body("{\"customer\": \"ada\",\n \"items\": [}")
        .await;
    assert_eq!(broken.status(), 422);
    let item = &broken.json::<Value>()["detail"][0];
    assert_eq!(item["type"], "json_invalid");
    assert_eq!(item["loc"], json!(["body", 31]));
    assert_eq!(item["msg"], "JSON decode error");

    // As FastAPI: a body of another type, or of none, reaches the model as a string.
    let not_json = client
        .post("/echo")
        .content_type("text/plain")
        .body("{}")
        .await;
    assert_eq!(not_json.status(), 422);
    let refused = json!({"detail": [{
        "type": "model_attributes_type",
        "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "input": "{}",
    }]});
    assert_eq!(not_json.json::<Value>(), refused);
    let untyped = client.post("/echo").body("{}").await;
    assert_eq!(untyped.json::<Value>(), refused);

    let vendor = client
        .post("/echo")
        .content_type("application/vnd.api+json; charset=utf-8")
        .body("{\"customer\":\"a\",\"items\":[]}")
        .await;
    assert_eq!(vendor.status(), 200);
}

async fn echo_text(Json(text): Json<String>) -> String {
    text
}

#[portico::test]
async fn the_content_type_check_is_chosen_by_app_router_or_route() {
    use portico::{ContentTypeCheck, Route, Router};
    let order = r#"{"customer":"ada","items":[]}"#;
    let app = App::new()
        .post("/strict", echo)
        // A JSON string parameter takes a text body as it is, as FastAPI's `str` body does.
        .post("/text", echo_text)
        .include(
            Router::new()
                .prefix("/lax")
                .strict_content_type(false)
                .post("/echo", echo),
        )
        .route(Route::post("/refuse", echo).content_type_check(ContentTypeCheck::Refuse));
    let client = TestClient::new(app);

    assert_eq!(client.post("/strict").body(order).await.status(), 422);
    let text = client
        .post("/text")
        .content_type("text/plain")
        .body("hello")
        .await;
    assert_eq!(text.text(), "hello");

    // Lax: JSON without a Content-Type is read; another type is still refused.
    let lax = client.post("/lax/echo").body(order).await;
    assert_eq!(lax.status(), 200, "{}", lax.text());
    assert_eq!(lax.json::<Value>()["customer"], "ada");
    let plain = client
        .post("/lax/echo")
        .content_type("text/plain")
        .body(order)
        .await;
    assert_eq!(plain.status(), 422);

    // Refuse: a 415 that says what the body must be, with or without a Content-Type.
    for request in [
        client
            .post("/refuse")
            .content_type("text/plain")
            .body(order),
        client.post("/refuse").body(order),
    ] {
        let response = request.await;
        assert_eq!(response.status(), 415);
        assert_eq!(
            response.json::<Value>()["detail"],
            "Unsupported Media Type: the request body must be application/json"
        );
    }
    assert_eq!(
        client
            .post("/refuse")
            .json(&json!({"customer": "a", "items": []}))
            .await
            .status(),
        200
    );
}

#[portico::test]
async fn bodies_over_their_limit_answer_413() {
    let app = App::new()
        .body_limit(64)
        .post("/small", echo)
        .route(Route::post("/large", echo).body_limit(1 << 20));
    let client = TestClient::new(app);
    let items: Vec<Value> = (0..20)
        .map(|i| json!({"name": format!("item {i}"), "price": 1}))
        .collect();
    let order = json!({"customer": "ada", "items": items});
    let refused = client.post("/small").json(&order).await;
    assert_eq!(refused.status(), 413);
    assert_eq!(refused.text(), "Content Too Large");
    assert_eq!(
        refused.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(client.post("/large").json(&order).await.status(), 200);
}

async fn raw_bytes(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

async fn raw_text(body: String) -> String {
    body.to_uppercase()
}

async fn streamed(mut body: BodyStream) -> String {
    let mut chunks = 0;
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                chunks += 1;
                total += chunk.len();
            }
            Err(err) => return format!("error after {total}: {err}"),
        }
    }
    format!("{chunks} chunks, {total} bytes")
}

async fn whole(request: Request) -> String {
    format!(
        "{} {} {}",
        request.method(),
        request.uri(),
        request.headers().len()
    )
}

async fn parts(method: Method, uri: Uri, headers: HeaderMap) -> String {
    format!("{method} {} {}", uri.path(), headers.contains_key("x-a"))
}

#[portico::test]
async fn raw_bodies_text_streams_and_the_request_itself() {
    let app = App::new()
        .post("/bytes", raw_bytes)
        .post("/text", raw_text)
        .route(Route::post("/stream", streamed).body_limit(10))
        .post("/whole", whole)
        .get("/parts", parts);
    let client = TestClient::new(app);
    assert_eq!(
        client.post("/bytes").body(vec![0u8; 1234]).await.text(),
        "1234 bytes"
    );
    assert_eq!(client.post("/text").body("shout").await.text(), "SHOUT");
    let invalid = client.post("/text").body(vec![0xff, 0xfe]).await;
    assert_eq!(invalid.status(), 400);
    assert_eq!(
        invalid.json::<Value>()["detail"],
        "The request body is not valid UTF-8"
    );
    let chunks = futures_lite::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from("abc")),
        Ok(Bytes::from("de")),
    ]);
    let body = portico::Body::new(http_body_util::StreamBody::new(
        chunks.map(|c| c.map(http_body::Frame::data)),
    ));
    assert_eq!(
        client.post("/stream").body_stream(body).await.text(),
        "2 chunks, 5 bytes"
    );
    assert_eq!(
        client
            .post("/stream")
            .body("more than ten bytes")
            .await
            .text(),
        "error after 0: the body is larger than 10 bytes"
    );
    assert_eq!(
        client.post("/whole?x=1").header("x-a", "1").await.text(),
        "POST /whole?x=1 2"
    );
    assert_eq!(
        client.get("/parts").header("x-a", "1").await.text(),
        "GET /parts true"
    );
}

#[derive(Clone)]
struct Greeting(&'static str);

async fn greet(State(greeting): State<Greeting>, Path(name): Path<String>) -> String {
    format!("{}, {name}", greeting.0)
}

fn where_am_i(State(greeting): State<Greeting>) -> String {
    let place = if matches!(
        portico::rt::thread_role(),
        portico::rt::ThreadRole::Blocking(_)
    ) {
        "the thread pool"
    } else {
        "elsewhere"
    };
    format!("{} from {place}", greeting.0)
}

#[portico::test]
async fn state_is_shared_and_plain_fns_run_on_the_thread_pool() {
    let app = App::new()
        .state(Greeting("Hello"))
        .get("/greet/{name}", greet)
        .get("/where", where_am_i);
    let client = TestClient::new(app);
    assert_eq!(client.get("/greet/ada").await.text(), "Hello, ada");
    assert_eq!(
        client.get("/where").await.text(),
        "Hello from the thread pool"
    );
}

async fn optional(q: Option<Query<Page>>) -> String {
    match q {
        Some(Query(page)) => format!("page {}", page.page),
        None => "no page".to_owned(),
    }
}

/// FastAPI answers 422 for `?limit=abc` on an optional `limit`: `None` means absent, not
/// invalid.
#[portico::test]
async fn optional_parameters_are_none_when_absent_and_refused_when_invalid() {
    let client = TestClient::new(App::new().get("/o", optional));
    assert_eq!(client.get("/o?page=3").await.text(), "page 3");
    assert_eq!(client.get("/o").await.text(), "no page");
    let invalid = client.get("/o?page=x").await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.json::<Value>(),
        json!({"detail": [{"type": "int_parsing", "loc": ["query", "page"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"}]})
    );
}

#[derive(Deserialize, JsonSchema)]
struct One {
    one: Option<u8>,
}

#[derive(Deserialize, JsonSchema)]
struct Two {
    two: Option<u8>,
}

#[allow(
    clippy::too_many_arguments,
    reason = "sixteen parameters is what is tested"
)]
async fn sixteen(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ctx: portico::RequestContext,
    Path(id): Path<u32>,
    Query(one): Query<One>,
    Query(two): Query<Two>,
    Header(trace): Header<Trace>,
    Cookie(tenant): Cookie<Tenant>,
    State(greeting): State<Greeting>,
    page: Option<Query<Page>>,
    a: Option<Header<Client>>,
    b: Option<Cookie<Session>>,
    c: Option<Query<Search>>,
    d: Option<Path<u32>>,
    body: String,
) -> String {
    let present = [
        page.is_some(),
        a.is_some(),
        b.is_some(),
        c.is_some(),
        d.is_some(),
    ];
    format!(
        "{method} {} {} {} {id} {:?} {:?} {} {} {} {present:?} {body}",
        uri.path(),
        headers.len(),
        ctx.route(),
        one.one,
        two.two,
        trace.x_trace,
        tenant.tenant,
        greeting.0
    )
}

#[portico::test]
async fn handlers_take_up_to_sixteen_parameters() {
    let client = TestClient::new(App::new().state(Greeting("hi")).post("/s/{id}", sixteen));
    let response = client
        .post("/s/5?one=1&two=2")
        .header("x-trace", "9")
        .cookie("tenant", "3")
        .body("the body")
        .await;
    assert_eq!(
        response.text(),
        "POST /s/5 4 /s/{id} 5 Some(1) Some(2) 9 3 hi [false, false, false, false, true] the body"
    );
}

async fn maybe_order(Json(order): Json<Option<Order>>) -> String {
    match order {
        Some(order) => format!("an order for {}", order.customer),
        None => "no order".to_owned(),
    }
}

#[portico::test]
async fn a_body_whose_type_accepts_null_may_be_left_out() {
    let app = App::new().post("/maybe", maybe_order).post("/echo", echo);
    let doc = app.openapi();
    assert_eq!(
        doc["paths"]["/maybe"]["post"]["requestBody"]["required"],
        false
    );
    assert_eq!(
        doc["paths"]["/echo"]["post"]["requestBody"]["required"],
        true
    );
    let client = TestClient::new(app);
    assert_eq!(client.post("/maybe").await.text(), "no order");
    let order = json!({"customer": "ada", "items": []});
    assert_eq!(
        client.post("/maybe").json(&order).await.text(),
        "an order for ada"
    );
    // Given, it is validated as any body.
    let invalid = client.post("/maybe").json(&json!({"items": []})).await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.json::<Value>()["detail"][0]["loc"],
        json!(["body", "customer"])
    );
    // Without it, a body that must be there is still missing.
    assert_eq!(client.post("/echo").await.status(), 422);
}
