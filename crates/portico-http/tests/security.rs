//! The security tools: what they answer without a credential, with a good one and with a
//! malformed one, optional credentials, scopes gathered from routers, routes and dependencies,
//! and the schemes and requirements they declare in the OpenAPI document.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use portico::security::{
    ApiKey, ApiKeyLocation, ApiKeySettings, HttpBasic, HttpBearer, OAuth2PasswordBearer,
    OAuth2PasswordRequestForm, OAuth2Settings, SecurityScopes,
};
use portico::testing::blocking_client_on;
use portico::{App, Depends, Form, HttpError, Json, Provider, Route, Router, RuntimeKind};
use serde_json::{Value, json};

struct Auth;

impl OAuth2Settings for Auth {
    const TOKEN_URL: &'static str = "/token";
    const SCOPES: &'static [(&'static str, &'static str)] =
        &[("me", "Read your profile"), ("items", "Read items")];
}

struct HeaderKey;

impl ApiKeySettings for HeaderKey {
    const NAME: &'static str = "X-API-Key";
    const LOCATION: ApiKeyLocation = ApiKeyLocation::Header;
}

struct QueryKey;

impl ApiKeySettings for QueryKey {
    const NAME: &'static str = "api_key";
    const LOCATION: ApiKeyLocation = ApiKeyLocation::Query;
}

struct CookieKey;

impl ApiKeySettings for CookieKey {
    const NAME: &'static str = "key";
    const LOCATION: ApiKeyLocation = ApiKeyLocation::Cookie;
}

struct User(String);

async fn current_user(
    token: OAuth2PasswordBearer<Auth>,
    scopes: SecurityScopes,
) -> Result<User, HttpError> {
    // A token "name:scope scope" grants those scopes.
    let (name, granted) = token.token().split_once(':').unwrap_or((token.token(), ""));
    let granted: Vec<&str> = granted.split(' ').collect();
    for needed in scopes.scopes() {
        if !granted.contains(&needed.as_str()) {
            return Err(HttpError::unauthorized()
                .detail("Not enough permissions")
                .header(
                    "www-authenticate",
                    format!("Bearer scope=\"{}\"", scopes.scope_str()),
                ));
        }
    }
    Ok(User(name.to_owned()))
}

async fn login(Form(form): Form<OAuth2PasswordRequestForm>) -> Json<Value> {
    Json(json!({
        "access_token": format!("{}:{}", form.username, form.scopes().join(" ")),
        "token_type": "bearer",
    }))
}

fn secured() -> App {
    let me = Router::new()
        .prefix("/me")
        .scopes(["me"])
        .get(
            "",
            |Depends(user): Depends<User>| async move { user.0.clone() },
        )
        .route(
            Route::get("/items", |Depends(user): Depends<User>| async move {
                format!("items of {}", user.0)
            })
            .scopes(["items"]),
        );
    App::new()
        .provide(Provider::new(current_user))
        .post("/token", login)
        .include(me)
        .get("/bearer", |HttpBearer(c): HttpBearer| async move {
            format!("{} {}", c.scheme, c.credentials)
        })
        .get("/basic", |HttpBasic(c): HttpBasic| async move {
            format!("{}/{}", c.username, c.password)
        })
        .get("/maybe", |auth: Option<HttpBearer>| async move {
            auth.map_or("anonymous".to_owned(), |HttpBearer(c)| c.credentials)
        })
        .get("/header-key", |key: ApiKey<HeaderKey>| async move {
            key.into_key()
        })
        .get("/query-key", |key: ApiKey<QueryKey>| async move {
            key.into_key()
        })
        .get("/cookie-key", |key: ApiKey<CookieKey>| async move {
            key.into_key()
        })
}

#[test]
fn security_schemes_and_scopes_are_documented() {
    let doc = secured().openapi();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["OAuth2PasswordBearer"],
        json!({"type": "oauth2", "flows": {"password": {"scopes": {"me": "Read your profile", "items": "Read items"}, "tokenUrl": "/token"}}})
    );
    assert_eq!(
        schemes["HTTPBearer"],
        json!({"type": "http", "scheme": "bearer"})
    );
    assert_eq!(
        schemes["HTTPBasic"],
        json!({"type": "http", "scheme": "basic"})
    );
    assert_eq!(
        schemes["APIKeyHeader"],
        json!({"type": "apiKey", "in": "header", "name": "X-API-Key"})
    );
    assert_eq!(
        schemes["APIKeyQuery"],
        json!({"type": "apiKey", "in": "query", "name": "api_key"})
    );
    assert_eq!(
        schemes["APIKeyCookie"],
        json!({"type": "apiKey", "in": "cookie", "name": "key"})
    );
    assert_eq!(
        doc["paths"]["/me"]["get"]["security"],
        json!([{"OAuth2PasswordBearer": ["me"]}]),
        "the security of a dependency shows on the route using it"
    );
    assert_eq!(
        doc["paths"]["/me/items"]["get"]["security"],
        json!([{"OAuth2PasswordBearer": ["me", "items"]}]),
        "scopes accumulate from the router and the route"
    );
    assert!(
        doc["paths"]["/me"]["get"]["responses"].get("401").is_none(),
        "as FastAPI's, the document declares no 401 the route did not declare"
    );
    assert_eq!(
        doc["paths"]["/maybe"]["get"]["security"],
        json!([{"HTTPBearer": []}])
    );
    assert!(
        doc["paths"]["/maybe"]["get"]["responses"]
            .get("401")
            .is_none(),
        "an optional credential never answers 401"
    );
    let token_body = &doc["paths"]["/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
        ["schema"];
    // Named as FastAPI names the form of `OAuth2PasswordRequestForm`: after the operation.
    let name = token_body["$ref"]
        .as_str()
        .unwrap()
        .strip_prefix("#/components/schemas/")
        .unwrap();
    assert!(name.starts_with("Body_"), "{name}");
    let token_form = &doc["components"]["schemas"][name];
    assert_eq!(token_form["properties"]["password"]["format"], "password");
    let mut fields: Vec<&str> = token_form["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "client_id",
            "client_secret",
            "grant_type",
            "password",
            "scope",
            "username"
        ]
    );
    assert_eq!(token_form["required"], json!(["username", "password"]));
}

fn assert_not_authenticated(response: &portico::testing::TestResponse, challenge: &str) {
    assert_eq!(response.status(), 401);
    assert_eq!(response.text(), r#"{"detail":"Not authenticated"}"#);
    assert_eq!(response.header("www-authenticate"), Some(challenge));
}

#[portico::test]
fn security_tools_answer_as_fastapi(rt: RuntimeKind) {
    let client = blocking_client_on(rt, secured());
    assert_not_authenticated(&client.get("/me").send(), "Bearer");
    assert_not_authenticated(
        &client
            .get("/me")
            .header("authorization", "Basic abc")
            .send(),
        "Bearer",
    );
    assert_not_authenticated(&client.get("/bearer").send(), "Bearer");
    assert_not_authenticated(&client.get("/basic").send(), "Basic");
    assert_not_authenticated(&client.get("/header-key").send(), "APIKey");
    assert_not_authenticated(&client.get("/query-key").send(), "APIKey");
    assert_not_authenticated(&client.get("/cookie-key").send(), "APIKey");

    let token: Value = client
        .post("/token")
        .form(&[
            ("username", "ann"),
            ("password", "pw"),
            ("scope", "me items"),
        ])
        .send()
        .json();
    assert_eq!(token["token_type"], "bearer");
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    assert_eq!(
        client
            .get("/me")
            .header("authorization", &bearer)
            .send()
            .text(),
        "ann"
    );
    assert_eq!(
        client
            .get("/me/items")
            .header("authorization", &bearer)
            .send()
            .text(),
        "items of ann"
    );
    let narrow = client
        .get("/me/items")
        .header("authorization", "Bearer bob:me")
        .send();
    assert_eq!(narrow.status(), 401);
    assert_eq!(
        narrow.header("www-authenticate"),
        Some(r#"Bearer scope="me items""#),
        "SecurityScopes holds the route's scopes"
    );
    let bad_grant = client
        .post("/token")
        .form(&[
            ("username", "ann"),
            ("password", "pw"),
            ("grant_type", "code"),
        ])
        .send();
    assert_eq!(bad_grant.status(), 422);

    assert_eq!(
        client
            .get("/bearer")
            .header("authorization", "bearer t0k")
            .send()
            .text(),
        "bearer t0k"
    );
    assert_eq!(
        client
            .get("/basic")
            .header("authorization", "Basic YW5uOnMzOmNyZXQ=")
            .send()
            .text(),
        "ann/s3:cret"
    );
    let malformed = client
        .get("/basic")
        .header("authorization", "Basic !!!")
        .send();
    // As FastAPI answers credentials it cannot decode.
    assert_eq!(malformed.status(), 401);
    assert_eq!(malformed.text(), r#"{"detail":"Not authenticated"}"#);
    assert_eq!(malformed.header("www-authenticate"), Some("Basic"));
    assert_eq!(client.get("/maybe").send().text(), "anonymous");
    assert_eq!(
        client
            .get("/maybe")
            .header("authorization", "Bearer x")
            .send()
            .text(),
        "x"
    );
    assert_eq!(
        client
            .get("/header-key")
            .header("x-api-key", "k1")
            .send()
            .text(),
        "k1"
    );
    assert_eq!(client.get("/query-key?api_key=k2").send().text(), "k2");
    assert_eq!(
        client.get("/cookie-key").cookie("key", "k3").send().text(),
        "k3"
    );
}
