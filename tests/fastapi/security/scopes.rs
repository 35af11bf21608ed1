//! Tutorial 005: OAuth2 scopes, with the JWT tokens and password hashes of tutorial 004.

use portico::security::{
    OAuth2PasswordBearer, OAuth2PasswordRequestForm, OAuth2Settings, SecurityScopes,
};
use portico::testing::TestClient;
use portico::{App, Depends, Form, HttpError, Json, Provider, Route, State};
use serde_json::{Value, json};

use super::jwt::{
    ACCESS_TOKEN_EXPIRE_MINUTES, JOHNDOE_HASH, TOKEN_NO_SUB, TOKEN_NO_USERNAME,
    TOKEN_NONEXISTENT_USER, Token, User, UsersDb, create_access_token, decode, get_password_hash,
    jwt_document, verify_password,
};
use super::{assert_401, assert_json, client};

struct Scheme;

impl OAuth2Settings for Scheme {
    const TOKEN_URL: &'static str = "token";
    const SCOPES: &'static [(&'static str, &'static str)] = &[
        ("me", "Read information about the current user."),
        ("items", "Read items."),
    ];
}

/// The hash of "secretalice", alice's password.
const ALICE_HASH: &str =
    "$sha256$g2AV1zwopqUntPKJ$f3369636befb5f6729619c800d4f084425828e0531897950f5e08d4eddee67a1";

struct ActiveUser(User);

async fn get_current_user(
    security_scopes: SecurityScopes,
    token: OAuth2PasswordBearer<Scheme>,
    State(db): State<UsersDb>,
) -> Result<User, HttpError> {
    let authenticate_value = if security_scopes.scopes().is_empty() {
        "Bearer".to_owned()
    } else {
        format!("Bearer scope=\"{}\"", security_scopes.scope_str())
    };
    let credentials_exception = || {
        HttpError::unauthorized()
            .detail("Could not validate credentials")
            .header("www-authenticate", authenticate_value.clone())
    };
    let payload = decode(token.token()).ok_or_else(credentials_exception)?;
    let username = payload
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(credentials_exception)?;
    let scope = match payload.get("scope") {
        None => "",
        Some(scope) => scope.as_str().ok_or_else(credentials_exception)?,
    };
    let token_scopes: Vec<&str> = scope.split(' ').collect();
    let user = db.get_user(username).ok_or_else(credentials_exception)?;
    for scope in security_scopes.scopes() {
        if !token_scopes.contains(&scope.as_str()) {
            return Err(HttpError::unauthorized()
                .detail("Not enough permissions")
                .header("www-authenticate", authenticate_value));
        }
    }
    Ok(user.user)
}

async fn get_current_active_user(
    Depends(current_user): Depends<User>,
) -> Result<ActiveUser, HttpError> {
    if current_user.disabled == Some(true) {
        return Err(HttpError::bad_request().detail("Inactive user"));
    }
    Ok(ActiveUser((*current_user).clone()))
}

async fn login_for_access_token(
    State(db): State<UsersDb>,
    Form(form_data): Form<OAuth2PasswordRequestForm>,
) -> Result<Json<Token>, HttpError> {
    let user = db
        .authenticate_user(&form_data.username, &form_data.password)
        .ok_or_else(|| HttpError::bad_request().detail("Incorrect username or password"))?;
    let access_token = create_access_token(
        &json!({"sub": user.user.username, "scope": form_data.scopes().join(" ")}),
        Some(ACCESS_TOKEN_EXPIRE_MINUTES),
    );
    Ok(Json(Token {
        access_token,
        token_type: "bearer".into(),
    }))
}

async fn read_users_me(Depends(current_user): Depends<ActiveUser>) -> Json<User> {
    Json(current_user.0.clone())
}

async fn read_own_items(Depends(current_user): Depends<ActiveUser>) -> Json<Value> {
    Json(json!([{"item_id": "Foo", "owner": current_user.0.username}]))
}

async fn read_system_status(Depends(_current_user): Depends<User>) -> Json<Value> {
    Json(json!({"status": "ok"}))
}

fn app() -> App {
    let db = UsersDb::new(&[
        (
            "johndoe",
            "John Doe",
            "johndoe@example.com",
            JOHNDOE_HASH,
            false,
        ),
        (
            "alice",
            "Alice Chains",
            "alicechains@example.com",
            ALICE_HASH,
            true,
        ),
    ]);
    App::new()
        .state(db)
        .provide(get_current_user)
        // `Security(get_current_user, scopes=["me"])` in the tutorial's active-user dependency.
        .provide(Provider::new(get_current_active_user).scopes(["me"]))
        .post("/token", login_for_access_token)
        .get("/users/me/", read_users_me)
        .route(Route::get("/users/me/items/", read_own_items).scopes(["items"]))
        .get("/status/", read_system_status)
}

async fn get_access_token(
    client: &TestClient,
    username: &str,
    password: &str,
    scope: Option<&str>,
) -> String {
    let mut data = vec![("username", username), ("password", password)];
    if let Some(scope) = scope {
        data.push(("scope", scope));
    }
    let response = client.post("/token").form(&data).await;
    response.json::<Value>()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[portico::test]
async fn login() {
    let client = client(app());
    let login = |username: &'static str, password: &'static str| {
        client
            .post("/token")
            .form(&[("username", username), ("password", password)])
    };
    let response = login("johndoe", "secret").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let content: Value = response.json();
    assert!(content.get("access_token").is_some());
    assert_eq!(content["token_type"], "bearer");
    let incorrect = json!({"detail": "Incorrect username or password"});
    assert_json(&login("johndoe", "incorrect").await, 400, &incorrect);
    assert_json(&login("foo", "secret").await, 400, &incorrect);
}

#[portico::test]
async fn tokens() {
    let client = client(app());
    assert_401(
        &client.get("/users/me").await,
        "Not authenticated",
        "Bearer",
    );
    let with = |authorization: String| {
        client
            .get("/users/me")
            .header("authorization", &authorization)
    };
    let access_token = get_access_token(&client, "johndoe", "secret", Some("me")).await;
    let expected = json!({
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "disabled": false,
    });
    assert_json(
        &with(format!("Bearer {access_token}")).await,
        200,
        &expected,
    );
    let invalid = "Could not validate credentials";
    let me = "Bearer scope=\"me\"";
    assert_401(&with("Bearer nonexistent".into()).await, invalid, me);
    assert_401(
        &with("Notexistent testtoken".into()).await,
        "Not authenticated",
        "Bearer",
    );
    assert_401(&with(TOKEN_NO_SUB.into()).await, invalid, me);
    assert_401(&with(TOKEN_NO_USERNAME.into()).await, invalid, me);
    let no_scope = get_access_token(&client, "johndoe", "secret", None).await;
    assert_401(
        &with(format!("Bearer {no_scope}")).await,
        "Not enough permissions",
        me,
    );
    assert_401(&with(TOKEN_NONEXISTENT_USER.into()).await, invalid, me);
    let alice = get_access_token(&client, "alice", "secretalice", Some("me")).await;
    assert_json(
        &with(format!("Bearer {alice}")).await,
        400,
        &json!({"detail": "Inactive user"}),
    );
}

#[portico::test]
async fn helpers() {
    assert!(verify_password("secret", JOHNDOE_HASH));
    assert!(!get_password_hash("secretalice").is_empty());
    assert!(!create_access_token(&json!({"data": "foo"}), None).is_empty());
}

#[portico::test]
async fn read_items_and_status() {
    let client = client(app());
    let access_token = get_access_token(&client, "johndoe", "secret", Some("me items")).await;
    let response = client
        .get("/users/me/items/")
        .header("authorization", &format!("Bearer {access_token}"))
        .await;
    assert_json(
        &response,
        200,
        &json!([{"item_id": "Foo", "owner": "johndoe"}]),
    );
    let access_token = get_access_token(&client, "johndoe", "secret", None).await;
    let response = client
        .get("/status/")
        .header("authorization", &format!("Bearer {access_token}"))
        .await;
    assert_json(&response, 200, &json!({"status": "ok"}));
    assert_401(&client.get("/status/").await, "Not authenticated", "Bearer");
}

#[portico::test]
async fn openapi_schema() {
    let client = client(app());
    let status = json!({"get": {
        "responses": {"200": {
            "description": "Successful Response",
            "content": {"application/json": {"schema": {}}},
        }},
        "summary": "Read System Status",
        "operationId": "read_system_status_status__get",
        "security": [{"OAuth2PasswordBearer": []}],
    }});
    let expected = jwt_document(
        [
            json!([{"OAuth2PasswordBearer": ["me"]}]),
            json!([{"OAuth2PasswordBearer": ["items", "me"]}]),
        ],
        Some(status),
        json!({
            "me": "Read information about the current user.",
            "items": "Read items.",
        }),
    );
    crate::support::assert_document(&client, expected).await;
}
