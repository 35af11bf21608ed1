//! Routing: paths, methods, parameters, redirects and the checks made when an app is built.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use portico::testing::TestClient;
use portico::{App, Json, Path, Request, Route, Router, State};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

async fn me() -> &'static str {
    "static me"
}

async fn user(Path(id): Path<String>) -> String {
    format!("user {id}")
}

async fn files(Path(rest): Path<String>) -> String {
    format!("file {rest}")
}

async fn create(_: Path<String>) -> (http::StatusCode, &'static str) {
    (http::StatusCode::CREATED, "created")
}

async fn items() -> &'static str {
    "items"
}

fn app() -> App {
    App::new()
        .get("/users/me", me)
        .get("/users/{id}", user)
        .post("/users/{id}", create)
        .get("/files/{rest:path}", files)
        .get("/static/{*rest}", files)
        .get("/items/", items)
        .get("/things", items)
}

#[portico::test]
async fn static_segments_win_over_parameters() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/users/me").await.text(), "static me");
    assert_eq!(client.get("/users/ada").await.text(), "user ada");
}

#[portico::test]
async fn catch_all_parameters_take_the_rest_of_the_path() {
    let client = TestClient::new(app());
    assert_eq!(
        client.get("/files/a/b/c.txt").await.text(),
        "file a/b/c.txt"
    );
    assert_eq!(
        client.get("/static/css/site.css").await.text(),
        "file css/site.css"
    );
}

#[portico::test]
async fn path_values_are_percent_decoded() {
    let client = TestClient::new(app());
    assert_eq!(
        client.get("/users/ada%20lovelace").await.text(),
        "user ada lovelace"
    );
    assert_eq!(client.get("/users/a%2Fb").await.text(), "user a/b");
}

#[portico::test]
async fn unknown_paths_answer_404_as_fastapi() {
    let client = TestClient::new(app());
    let response = client.get("/nowhere").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json::<Value>(), json!({"detail": "Not Found"}));
}

#[portico::test]
async fn wrong_methods_answer_405_with_allow() {
    let client = TestClient::new(app());
    let response = client.delete("/users/ada").await;
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": "Method Not Allowed"})
    );
    assert_eq!(response.header("allow"), Some("GET, POST, HEAD"));
    let created = client.post("/users/ada").await;
    assert_eq!(created.status(), 201);
}

#[portico::test]
async fn head_is_answered_by_get_routes_without_a_body() {
    let client = TestClient::new(app());
    let response = client.head("/users/ada").await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().is_empty());
    assert_eq!(response.header("content-length"), Some("8"));
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[portico::test]
async fn a_missing_or_extra_trailing_slash_redirects_with_307() {
    let client = TestClient::new(app());
    let response = client.get("/items?page=2").await;
    assert_eq!(response.status(), 307);
    // Absolute, on the host the request was sent to, as Starlette's redirect is.
    assert_eq!(
        response.header("location"),
        Some("http://testserver/items/?page=2")
    );
    let response = client.get("/things/").await;
    assert_eq!(response.status(), 307);
    assert_eq!(
        response.header("location"),
        Some("http://testserver/things")
    );
    let followed = client.get("/items").follow_redirects(true).await;
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.text(), "items");
}

#[portico::test]
async fn trailing_slash_redirects_can_be_turned_off() {
    let client = TestClient::new(app().redirect_slashes(false));
    assert_eq!(client.get("/items").await.status(), 404);
}

#[derive(Deserialize, JsonSchema)]
struct Ids {
    org: u32,
    repo: String,
}

async fn repo(Path(ids): Path<Ids>) -> Json<Value> {
    Json(json!({"org": ids.org, "repo": ids.repo}))
}

async fn pair(Path((org, repo)): Path<(u32, String)>) -> String {
    format!("{org}/{repo}")
}

#[portico::test]
async fn routers_nest_under_prefixes_with_parameters() {
    let repos = Router::new()
        .prefix("/orgs/{org}")
        .get("/repos/{repo}", repo)
        .get("/pairs/{repo}", pair);
    let client = TestClient::new(App::new().include(Router::new().prefix("/v1").include(repos)));
    assert_eq!(
        client.get("/v1/orgs/7/repos/portico").await.json::<Value>(),
        json!({"org": 7, "repo": "portico"})
    );
    assert_eq!(
        client.get("/v1/orgs/7/pairs/portico").await.text(),
        "7/portico"
    );
    let invalid = client.get("/v1/orgs/seven/repos/portico").await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.json::<Value>()["detail"][0]["loc"],
        json!(["path", "org"])
    );
}

#[derive(Clone)]
struct Config;

async fn needs_state(State(_): State<Config>) -> &'static str {
    "ok"
}

async fn two(Path((a, b)): Path<(u32, u32)>) -> String {
    format!("{a}{b}")
}

#[test]
fn mistakes_are_all_reported_when_the_app_is_built() {
    let app = App::new()
        .get("/a", me)
        .get("/a", items)
        .get("/state", needs_state)
        .get("/two/{a}", two)
        .get("/three/{a}", repo);
    let err = app.try_into_service().unwrap_err();
    let problems = err.problems().join("\n");
    assert!(problems.contains("two handlers for GET /a"), "{problems}");
    assert!(problems.contains("State<routing::Config>"), "{problems}");
    assert!(
        problems
            .contains("GET /two/{a}: Path<(u32, u32)> has 2 values but the route has 1 parameters"),
        "{problems}"
    );
    assert!(
        problems.contains(
            "GET /three/{a}: Path<routing::Ids> has a field `org` that the route does not have"
        ),
        "{problems}"
    );
}

/// The first trap of a FastAPI user: `item_id` here is the request's body, not the path's.
async fn reads_the_body(item_id: String) -> String {
    item_id
}

#[test]
fn a_path_parameter_nothing_reads_is_a_build_error_naming_it() {
    let err = App::new()
        .get("/items/{item_id}", reads_the_body)
        .get(
            "/users/{user_id}/items/{id}",
            |Path(id): Path<Ids2>| async move { id.id.to_string() },
        )
        .try_into_service()
        .unwrap_err();
    let problems = err.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "GET /items/{item_id}: the path parameter `item_id` is read by no parameter"
        ),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with(
            "GET /users/{user_id}/items/{id}: the path parameter `user_id` is read by no parameter"
        ),
        "{problems:?}"
    );
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Ids2 {
    id: u32,
}

#[test]
fn a_path_parameter_read_by_a_dependency_or_the_whole_request_is_read() {
    struct Owner;
    let app = App::new()
        .provide(|Path(_): Path<Ids2>| Ok::<_, portico::HttpError>(Owner))
        .get("/by-dep/{id}", |_: portico::Depends<Owner>| async { "ok" })
        .get(
            "/by-uri/{id}",
            |uri: http::Uri| async move { uri.to_string() },
        )
        .get("/by-request/{id}", |request: Request| async move {
            request.uri().to_string()
        });
    assert!(app.try_into_service().is_ok());
}

#[test]
#[should_panic(expected = "converter `int`")]
fn invalid_templates_are_refused_where_they_are_written() {
    let _ = Route::get("/items/{id:int}", me);
}
