//! Tutorial 004: OAuth2 with a password hash and JWT bearer tokens; and the token and password
//! helpers it shares with tutorial 005.
//!
//! FastAPI's app signs HS256 tokens with PyJWT and hashes passwords with Argon2 (pwdlib).
//! The JWTs here are HS256 from `jsonwebtoken` (FastAPI's tests send tokens PyJWT signed, and
//! they verify). Argon2 is not ported: the tests crate has no implementation and a hand-written
//! one would cost 64 MiB and seconds per login in a debug build, so the hash is a salted
//! SHA-256 (`$sha256$<salt>$<hex>`, computed with `sha2`), and the users' stored hashes are
//! those of the same passwords ("secret", "secretalice").

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use portico::security::{
    OAuth2PasswordBearer, OAuth2PasswordRequestForm, OAuth2Settings, compare_digest,
};
use portico::{App, Depends, Form, HttpError, Json, State};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{assert_401, assert_json, client};
use crate::support::{assert_document, schemas_with_validation, validation_response};

pub(super) const SECRET_KEY: &str =
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";
pub(super) const ACCESS_TOKEN_EXPIRE_MINUTES: u64 = 30;

/// `jwt.encode(claims, SECRET_KEY, algorithm="HS256")`.
pub(super) fn encode(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET_KEY.as_bytes()),
    )
    .expect("HS256 signs any JSON claims")
}

/// `jwt.decode(token, SECRET_KEY, algorithms=["HS256"])`: the claims of a well-formed token
/// signed with the key and not expired; `None` where PyJWT raises `InvalidTokenError`.
pub(super) fn decode(token: &str) -> Option<Map<String, Value>> {
    let mut validation = Validation::new(Algorithm::HS256);
    // As PyJWT: no claim is required, and `exp` is checked (when present) without leeway.
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    jsonwebtoken::decode(
        token,
        &DecodingKey::from_secret(SECRET_KEY.as_bytes()),
        &validation,
    )
    .ok()
    .map(|data| data.claims)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `create_access_token`: the claims with an `exp`, 15 minutes from now unless said.
pub(super) fn create_access_token(data: &Value, expires_minutes: Option<u64>) -> String {
    let mut to_encode = data.clone();
    to_encode["exp"] = json!(now() + 60 * expires_minutes.unwrap_or(15));
    encode(&to_encode)
}

/// The SHA-256 of `text`, in lowercase hex.
fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text))
}

/// `password_hash.hash(password)`, with a fresh random salt.
pub(super) fn get_password_hash(password: &str) -> String {
    let salt = format!(
        "{:016x}",
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    );
    format!(
        "$sha256${salt}${}",
        sha256_hex(&format!("{salt}{password}"))
    )
}

/// `password_hash.verify(plain_password, hashed_password)`.
pub(super) fn verify_password(plain_password: &str, hashed_password: &str) -> bool {
    let Some(("", rest)) = hashed_password.split_once("$sha256$") else {
        return false;
    };
    let Some((salt, digest)) = rest.split_once('$') else {
        return false;
    };
    compare_digest(sha256_hex(&format!("{salt}{plain_password}")), digest)
}

/// The hash of "dummypassword", checked when the user does not exist so that timing does not
/// tell.
pub(super) const DUMMY_HASH: &str =
    "$sha256$dummysaltdummysa$4cadea6c3aa0cf2b15ad7f855712a7dfb7c602b77ef6264d9a7a704bdeaaa9d0";

/// The hash of "secret", johndoe's password.
pub(super) const JOHNDOE_HASH: &str =
    "$sha256$wagCPXjifgvUFBzq$6c355e27db773e85476849ce40f18bf2b9e6aba3ebc151e6d32b3968e2a5f819";

#[derive(Clone, Serialize, JsonSchema)]
pub(super) struct User {
    pub(super) username: String,
    pub(super) email: Option<String>,
    pub(super) full_name: Option<String>,
    pub(super) disabled: Option<bool>,
}

#[derive(Clone)]
pub(super) struct UserInDB {
    pub(super) user: User,
    pub(super) hashed_password: String,
}

/// `fake_users_db`, shared with the handlers as state.
#[derive(Clone)]
pub(super) struct UsersDb(pub(super) Arc<HashMap<String, UserInDB>>);

impl UsersDb {
    pub(super) fn new(users: &[(&str, &str, &str, &str, bool)]) -> Self {
        let users = users
            .iter()
            .map(|&(username, full_name, email, hashed_password, disabled)| {
                let user = User {
                    username: username.into(),
                    email: Some(email.into()),
                    full_name: Some(full_name.into()),
                    disabled: Some(disabled),
                };
                (
                    username.to_owned(),
                    UserInDB {
                        user,
                        hashed_password: hashed_password.into(),
                    },
                )
            });
        Self(Arc::new(users.collect()))
    }

    pub(super) fn get_user(&self, username: &str) -> Option<UserInDB> {
        self.0.get(username).cloned()
    }

    /// `authenticate_user`.
    pub(super) fn authenticate_user(&self, username: &str, password: &str) -> Option<UserInDB> {
        let Some(user) = self.get_user(username) else {
            verify_password(password, DUMMY_HASH);
            return None;
        };
        verify_password(password, &user.hashed_password).then_some(user)
    }
}

#[derive(Serialize, JsonSchema)]
pub(super) struct Token {
    pub(super) access_token: String,
    pub(super) token_type: String,
}

/// The `User` schema of the documents of tutorials 004 and 005.
pub(super) fn user_schema() -> Value {
    json!({
        "required": ["username"],
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "email": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "full_name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "disabled": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        },
    })
}

/// The `Token` schema.
pub(super) fn token_schema() -> Value {
    json!({
        "required": ["access_token", "token_type"],
        "type": "object",
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string"},
        },
    })
}

/// The document of tutorials 004 and 005, which differ in the scopes.
pub(super) fn jwt_document(
    paths_security: [Value; 2],
    status: Option<Value>,
    scopes: Value,
) -> Value {
    let [me_security, items_security] = paths_security;
    let mut paths = json!({
        "/token": {"post": {
            "responses": {
                "200": {
                    "description": "Successful Response",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}},
                },
                "422": validation_response(),
            },
            "summary": "Login For Access Token",
            "operationId": "login_for_access_token_token_post",
            "requestBody": {
                "content": {"application/x-www-form-urlencoded": {
                    "schema": {"$ref": "#/components/schemas/Body_login_for_access_token_token_post"},
                }},
                "required": true,
            },
        }},
        "/users/me/": {"get": {
            "responses": {"200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
            }},
            "summary": "Read Users Me",
            "operationId": "read_users_me_users_me__get",
            "security": me_security,
        }},
        "/users/me/items/": {"get": {
            "responses": {"200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {}}},
            }},
            "summary": "Read Own Items",
            "operationId": "read_own_items_users_me_items__get",
            "security": items_security,
        }},
    });
    if let Some(status) = status {
        paths["/status/"] = status;
    }
    json!({
        "openapi": "3.1.0",
        "paths": paths,
        "components": {
            "schemas": schemas_with_validation(json!({
                "User": user_schema(),
                "Token": token_schema(),
                "Body_login_for_access_token_token_post": super::oauth2_simple::token_form_schema(),
            })),
            "securitySchemes": {"OAuth2PasswordBearer": {
                "type": "oauth2",
                "flows": {"password": {"scopes": scopes, "tokenUrl": "token"}},
            }},
        },
    })
}

/// FastAPI's tokens signed with the tutorial's key: no `sub`, `sub` "foo", `sub` "username:bob".
pub(super) const TOKEN_NO_SUB: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjoiZm9vIn0.9ynBhuYb4e6aW3oJr_K_TBgwcMTDpRToQIE25L57rOE";
pub(super) const TOKEN_NO_USERNAME: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmb28ifQ.NnExK_dlNAYyzACrXtXDrcWOgGY2JuPbI4eDaHdfK5Y";
pub(super) const TOKEN_NONEXISTENT_USER: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VybmFtZTpib2IifQ.HcfCW67Uda-0gz54ZWTqmtgJnZeNem0Q757eTa9EZuw";

mod tutorial004 {
    use super::*;

    struct Scheme;

    impl OAuth2Settings for Scheme {
        const TOKEN_URL: &'static str = "token";
    }

    struct ActiveUser(User);

    fn credentials_exception() -> HttpError {
        HttpError::unauthorized()
            .detail("Could not validate credentials")
            .header("www-authenticate", "Bearer")
    }

    async fn get_current_user(
        token: OAuth2PasswordBearer<Scheme>,
        State(db): State<UsersDb>,
    ) -> Result<User, HttpError> {
        let payload = decode(token.token()).ok_or_else(credentials_exception)?;
        let username = payload
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(credentials_exception)?;
        let user = db.get_user(username).ok_or_else(credentials_exception)?;
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
            .ok_or_else(|| {
                HttpError::unauthorized()
                    .detail("Incorrect username or password")
                    .header("www-authenticate", "Bearer")
            })?;
        let access_token = create_access_token(
            &json!({"sub": user.user.username}),
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

    const JOHNDOE: (&str, &str, &str, &str, bool) = (
        "johndoe",
        "John Doe",
        "johndoe@example.com",
        JOHNDOE_HASH,
        false,
    );

    fn app_with(db: UsersDb) -> App {
        App::new()
            .state(db)
            .provide(get_current_user)
            .provide(get_current_active_user)
            .post("/token", login_for_access_token)
            .get("/users/me/", read_users_me)
            .get("/users/me/items/", read_own_items)
    }

    fn app() -> App {
        app_with(UsersDb::new(&[JOHNDOE]))
    }

    async fn get_access_token(
        client: &portico::testing::TestClient,
        username: &str,
        password: &str,
    ) -> String {
        let response = client
            .post("/token")
            .form(&[("username", username), ("password", password)])
            .await;
        response.json::<Value>()["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[portico::test]
    async fn login() {
        let client = client(app());
        let response = client
            .post("/token")
            .form(&[("username", "johndoe"), ("password", "secret")])
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        let content: Value = response.json();
        assert!(content.get("access_token").is_some());
        assert_eq!(content["token_type"], "bearer");
        let incorrect = json!({"detail": "Incorrect username or password"});
        let response = client
            .post("/token")
            .form(&[("username", "johndoe"), ("password", "incorrect")])
            .await;
        assert_json(&response, 401, &incorrect);
        let response = client
            .post("/token")
            .form(&[("username", "foo"), ("password", "secret")])
            .await;
        assert_json(&response, 401, &incorrect);
    }

    #[portico::test]
    async fn tokens() {
        let client = client(app());
        assert_401(
            &client.get("/users/me").await,
            "Not authenticated",
            "Bearer",
        );
        let access_token = get_access_token(&client, "johndoe", "secret").await;
        let with = |authorization: String| {
            client
                .get("/users/me")
                .header("authorization", &authorization)
        };
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
        assert_401(&with("Bearer nonexistent".into()).await, invalid, "Bearer");
        assert_401(
            &with("Notexistent testtoken".into()).await,
            "Not authenticated",
            "Bearer",
        );
        assert_401(&with(TOKEN_NO_SUB.into()).await, invalid, "Bearer");
        assert_401(&with(TOKEN_NO_USERNAME.into()).await, invalid, "Bearer");
        assert_401(
            &with(TOKEN_NONEXISTENT_USER.into()).await,
            invalid,
            "Bearer",
        );
    }

    #[portico::test]
    async fn helpers() {
        assert!(verify_password("secret", JOHNDOE_HASH));
        assert!(!get_password_hash("johndoe").is_empty());
        assert!(!create_access_token(&json!({"data": "foo"}), None).is_empty());
    }

    #[portico::test]
    async fn token_inactive_user() {
        // FastAPI patches `fake_users_db` with alice; the port builds the app on that database.
        let alice_hash = get_password_hash("secretalice");
        let db = UsersDb::new(&[
            JOHNDOE,
            (
                "alice",
                "Alice Wonderson",
                "alice@example.com",
                &alice_hash,
                true,
            ),
        ]);
        let client = client(app_with(db));
        let access_token = get_access_token(&client, "alice", "secretalice").await;
        let response = client
            .get("/users/me")
            .header("authorization", &format!("Bearer {access_token}"))
            .await;
        assert_json(&response, 400, &json!({"detail": "Inactive user"}));
    }

    #[portico::test]
    async fn read_items() {
        let client = client(app());
        let access_token = get_access_token(&client, "johndoe", "secret").await;
        let response = client
            .get("/users/me/items/")
            .header("authorization", &format!("Bearer {access_token}"))
            .await;
        assert_json(
            &response,
            200,
            &json!([{"item_id": "Foo", "owner": "johndoe"}]),
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let security = json!([{"OAuth2PasswordBearer": []}]);
        let expected = jwt_document([security.clone(), security], None, json!({}));
        assert_document(&client, expected).await;
    }
}
