//! Bigger applications: `docs_src/bigger_applications/app_an_py310`, its modules as modules
//! here (`dependencies`, `routers::items`, `routers::users`, `internal::admin`, `main`).

use portico::http::StatusCode;
use portico::testing::{TestClient, TestResponse};
use portico::{App, HttpError, Json, Route, Router};
use serde_json::{Value, json};

use crate::support::{assert_document, param, schemas_with_validation, validation_response};

mod dependencies {
    use super::*;

    /// `get_token_header`'s success: the route may run.
    pub(super) struct TokenHeader;

    /// `get_query_token`'s success.
    pub(super) struct QueryToken;

    #[portico::provider]
    pub(super) async fn get_token_header(
        #[header] x_token: String,
    ) -> Result<TokenHeader, HttpError> {
        if x_token != "fake-super-secret-token" {
            return Err(HttpError::bad_request().detail("X-Token header invalid"));
        }
        Ok(TokenHeader)
    }

    #[portico::provider]
    pub(super) async fn get_query_token(#[query] token: String) -> Result<QueryToken, HttpError> {
        if token != "jessica" {
            return Err(HttpError::bad_request().detail("No Jessica token provided"));
        }
        Ok(QueryToken)
    }
}

mod users {
    use super::*;

    async fn read_users() -> Json<Value> {
        Json(json!([{"username": "Rick"}, {"username": "Morty"}]))
    }

    async fn read_user_me() -> Json<Value> {
        Json(json!({"username": "fakecurrentuser"}))
    }

    #[portico::handler]
    async fn read_user(#[path] username: String) -> Json<Value> {
        Json(json!({"username": username}))
    }

    pub(super) fn router() -> Router {
        Router::new()
            .route(Route::get("/users/", read_users).tag("users"))
            .route(Route::get("/users/me", read_user_me).tag("users"))
            .route(Route::get("/users/{username}", read_user).tag("users"))
    }
}

mod items {
    use super::dependencies::TokenHeader;
    use super::*;

    fn fake_items_db() -> Value {
        json!({"plumbus": {"name": "Plumbus"}, "gun": {"name": "Portal Gun"}})
    }

    async fn read_items() -> Json<Value> {
        Json(fake_items_db())
    }

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Result<Json<Value>, HttpError> {
        let db = fake_items_db();
        let Some(item) = db.get(&item_id) else {
            return Err(HttpError::not_found().detail("Item not found"));
        };
        Ok(Json(json!({"name": item["name"], "item_id": item_id})))
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: String) -> Result<Json<Value>, HttpError> {
        if item_id != "plumbus" {
            return Err(HttpError::forbidden().detail("You can only update the item: plumbus"));
        }
        Ok(Json(
            json!({"item_id": item_id, "name": "The great Plumbus"}),
        ))
    }

    pub(super) fn router() -> Router {
        Router::new()
            .prefix("/items")
            .tag("items")
            .dependency::<TokenHeader>()
            .response(StatusCode::NOT_FOUND, "Not found")
            .get("/", read_items)
            .get("/{item_id}", read_item)
            .route(
                Route::put("/{item_id}", update_item)
                    .tag("custom")
                    .response(StatusCode::FORBIDDEN, "Operation forbidden"),
            )
    }
}

mod admin {
    use super::*;

    async fn update_admin() -> Json<Value> {
        Json(json!({"message": "Admin getting schwifty"}))
    }

    pub(super) fn router() -> Router {
        Router::new().post("/", update_admin)
    }
}

mod main {
    use super::dependencies::{QueryToken, TokenHeader, get_query_token, get_token_header};
    use super::*;

    async fn root() -> Json<Value> {
        Json(json!({"message": "Hello Bigger Applications!"}))
    }

    pub(super) fn app() -> App {
        App::new()
            .provide(get_query_token)
            .provide(get_token_header)
            .dependency::<QueryToken>()
            .include(users::router())
            .include(items::router())
            // `include_router(admin.router, prefix=..., tags=..., dependencies=..., responses=...)`.
            .include(
                Router::new()
                    .prefix("/admin")
                    .tag("admin")
                    .dependency::<TokenHeader>()
                    .response(StatusCode::IM_A_TEAPOT, "I'm a teapot")
                    .include(admin::router()),
            )
            .get("/", root)
    }
}

/// A client as FastAPI's tests use Starlette's: it follows redirects (`/users` → `/users/`).
fn client() -> TestClient {
    TestClient::new(main::app()).follow_redirects(true)
}

const SECRET: &str = "fake-super-secret-token";

fn assert_json(response: &TestResponse, status: u16, expected: Value) {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(response.json::<Value>(), expected);
}

fn missing(source: &str, name: &str) -> Value {
    json!({"type": "missing", "loc": [source, name], "msg": "Field required", "input": null})
}

#[portico::test]
async fn users_cases() {
    let client = client();
    let no_token = json!({"detail": [missing("query", "token")]});
    assert_json(
        &client.get("/users?token=jessica").await,
        200,
        json!([{"username": "Rick"}, {"username": "Morty"}]),
    );
    assert_json(&client.get("/users").await, 422, no_token.clone());
    assert_json(
        &client.get("/users/foo?token=jessica").await,
        200,
        json!({"username": "foo"}),
    );
    assert_json(&client.get("/users/foo").await, 422, no_token.clone());
    assert_json(
        &client.get("/users/me?token=jessica").await,
        200,
        json!({"username": "fakecurrentuser"}),
    );
    assert_json(&client.get("/users/me").await, 422, no_token);
    assert_json(
        &client.get("/users?token=monica").await,
        400,
        json!({"detail": "No Jessica token provided"}),
    );
}

#[portico::test]
async fn items_cases() {
    let client = client();
    let get = |path: &'static str, x_token: Option<&'static str>| {
        let request = client.get(path);
        match x_token {
            Some(x_token) => request.header("x-token", x_token),
            None => request,
        }
    };
    let no_token = json!({"detail": [missing("query", "token")]});
    let invalid = json!({"detail": "X-Token header invalid"});
    let no_header = json!({"detail": [missing("header", "x-token")]});
    assert_json(
        &get("/items?token=jessica", Some(SECRET)).await,
        200,
        json!({"plumbus": {"name": "Plumbus"}, "gun": {"name": "Portal Gun"}}),
    );
    assert_json(&get("/items", Some(SECRET)).await, 422, no_token.clone());
    assert_json(
        &get("/items/plumbus?token=jessica", Some(SECRET)).await,
        200,
        json!({"name": "Plumbus", "item_id": "plumbus"}),
    );
    assert_json(
        &get("/items/bar?token=jessica", Some(SECRET)).await,
        404,
        json!({"detail": "Item not found"}),
    );
    assert_json(&get("/items/plumbus", Some(SECRET)).await, 422, no_token);
    assert_json(
        &get("/items?token=jessica", Some("invalid")).await,
        400,
        invalid.clone(),
    );
    assert_json(
        &get("/items/bar?token=jessica", Some("invalid")).await,
        400,
        invalid,
    );
    assert_json(
        &get("/items?token=jessica", None).await,
        422,
        no_header.clone(),
    );
    assert_json(
        &get("/items/plumbus?token=jessica", None).await,
        422,
        no_header,
    );
}

#[portico::test]
async fn root_cases() {
    let client = client();
    assert_json(
        &client.get("/?token=jessica").await,
        200,
        json!({"message": "Hello Bigger Applications!"}),
    );
    assert_json(
        &client.get("/").await,
        422,
        json!({"detail": [missing("query", "token")]}),
    );
}

#[portico::test]
async fn put_and_admin() {
    let client = client();
    assert_json(
        &client.put("/items/foo").await,
        422,
        json!({"detail": [missing("query", "token"), missing("header", "x-token")]}),
    );
    let invalid = json!({"detail": "X-Token header invalid"});
    assert_json(
        &client.put("/items/foo").header("x-token", "invalid").await,
        400,
        invalid.clone(),
    );
    assert_json(
        &client
            .put("/items/plumbus?token=jessica")
            .header("x-token", SECRET)
            .await,
        200,
        json!({"item_id": "plumbus", "name": "The great Plumbus"}),
    );
    assert_json(
        &client
            .put("/items/bar?token=jessica")
            .header("x-token", SECRET)
            .await,
        403,
        json!({"detail": "You can only update the item: plumbus"}),
    );
    assert_json(
        &client
            .post("/admin/?token=jessica")
            .header("x-token", SECRET)
            .await,
        200,
        json!({"message": "Admin getting schwifty"}),
    );
    assert_json(
        &client.post("/admin/").header("x-token", "invalid").await,
        400,
        invalid,
    );
}

/// An operation of the app: FastAPI writes `tags`, the parameters, a 200 of any JSON, the
/// extra `responses` and the 422.
fn operation(
    tags: &[&str],
    summary: &str,
    operation_id: &str,
    path_param: Option<&str>,
    header: bool,
    extra: Value,
) -> Value {
    let string = json!({"type": "string"});
    let mut parameters: Vec<Value> = path_param
        .map(|name| param("path", name, true, string.clone()))
        .into_iter()
        .collect();
    parameters.push(param("query", "token", true, string.clone()));
    if header {
        parameters.push(param("header", "x-token", true, string));
    }
    let mut responses =
        json!({"200": crate::support::any_json_response(), "422": validation_response()});
    if let (Value::Object(responses), Value::Object(extra)) = (&mut responses, extra) {
        responses.extend(extra);
    }
    let mut operation = json!({
        "summary": summary,
        "operationId": operation_id,
        "parameters": parameters,
        "responses": responses,
    });
    if !tags.is_empty() {
        operation["tags"] = json!(tags);
    }
    operation
}

#[portico::test]
async fn openapi_schema() {
    let not_found = json!({"404": {"description": "Not found"}});
    let expected = json!({
        "openapi": "3.1.0",
        "paths": {
            "/users/": {"get": operation(&["users"], "Read Users", "read_users_users__get", None, false, json!({}))},
            "/users/me": {"get": operation(&["users"], "Read User Me", "read_user_me_users_me_get", None, false, json!({}))},
            "/users/{username}": {"get": operation(&["users"], "Read User", "read_user_users__username__get", Some("username"), false, json!({}))},
            "/items/": {"get": operation(&["items"], "Read Items", "read_items_items__get", None, true, not_found.clone())},
            "/items/{item_id}": {
                "get": operation(&["items"], "Read Item", "read_item_items__item_id__get", Some("item_id"), true, not_found),
                "put": operation(
                    &["items", "custom"],
                    "Update Item",
                    "update_item_items__item_id__put",
                    Some("item_id"),
                    true,
                    json!({"404": {"description": "Not found"}, "403": {"description": "Operation forbidden"}}),
                ),
            },
            "/admin/": {"post": operation(&["admin"], "Update Admin", "update_admin_admin__post", None, true, json!({"418": {"description": "I'm a teapot"}}))},
            "/": {"get": operation(&[], "Root", "root__get", None, false, json!({}))},
        },
        "components": {"schemas": schemas_with_validation(json!({}))},
    });
    assert_document(&client(), expected).await;
}
