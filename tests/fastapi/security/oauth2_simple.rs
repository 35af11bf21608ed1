//! Tutorials 001 to 003: the bearer token, a user from it, and the simple password flow.

use portico::security::{OAuth2PasswordBearer, OAuth2PasswordRequestForm, OAuth2Settings};
use portico::{App, Depends, Form, HttpError, Json};
use serde::Serialize;
use serde_json::{Value, json};

use super::{assert_401, assert_json, client};
use crate::support::{assert_document, document, schemas_with_validation, validation_response};

/// `OAuth2PasswordBearer(tokenUrl="token")`.
struct Scheme;

impl OAuth2Settings for Scheme {
    const TOKEN_URL: &'static str = "token";
}

/// The scheme as every app here declares it.
fn security_schemes() -> Value {
    json!({"OAuth2PasswordBearer": {
        "type": "oauth2",
        "flows": {"password": {"scopes": {}, "tokenUrl": "token"}},
    }})
}

/// An operation answering any JSON, secured by the bearer token.
fn secured_operation(summary: &str, operation_id: &str) -> Value {
    json!({
        "responses": {"200": {
            "description": "Successful Response",
            "content": {"application/json": {"schema": {}}},
        }},
        "summary": summary,
        "operationId": operation_id,
        "security": [{"OAuth2PasswordBearer": []}],
    })
}

mod tutorial001 {
    use super::*;

    async fn read_items(token: OAuth2PasswordBearer<Scheme>) -> Json<Value> {
        Json(json!({"token": token.token()}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_token() {
        let client = client(app());
        assert_401(&client.get("/items").await, "Not authenticated", "Bearer");
    }

    #[portico::test]
    async fn token() {
        let client = client(app());
        let response = client
            .get("/items")
            .header("authorization", "Bearer testtoken")
            .await;
        assert_json(&response, 200, &json!({"token": "testtoken"}));
    }

    #[portico::test]
    async fn incorrect_token() {
        let client = client(app());
        let response = client
            .get("/items")
            .header("authorization", "Notexistent testtoken")
            .await;
        assert_401(&response, "Not authenticated", "Bearer");
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let mut expected = document(
            json!({"/items/": {"get": secured_operation("Read Items", "read_items_items__get")}}),
            None,
        );
        expected["components"] = json!({"securitySchemes": security_schemes()});
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[derive(Serialize)]
    struct User {
        username: String,
        email: Option<String>,
        full_name: Option<String>,
        disabled: Option<bool>,
    }

    fn fake_decode_token(token: &str) -> User {
        User {
            username: format!("{token}fakedecoded"),
            email: Some("john@example.com".into()),
            full_name: Some("John Doe".into()),
            disabled: None,
        }
    }

    async fn get_current_user(token: OAuth2PasswordBearer<Scheme>) -> Result<User, HttpError> {
        Ok(fake_decode_token(token.token()))
    }

    // FastAPI's handler returns the model with no declared response model: any JSON.
    async fn read_users_me(Depends(current_user): Depends<User>) -> Json<Value> {
        Json(json!(*current_user))
    }

    fn app() -> App {
        App::new()
            .provide(get_current_user)
            .get("/users/me", read_users_me)
    }

    #[portico::test]
    async fn no_token() {
        let client = client(app());
        assert_401(
            &client.get("/users/me").await,
            "Not authenticated",
            "Bearer",
        );
    }

    #[portico::test]
    async fn token() {
        let client = client(app());
        let response = client
            .get("/users/me")
            .header("authorization", "Bearer testtoken")
            .await;
        let expected = json!({
            "username": "testtokenfakedecoded",
            "email": "john@example.com",
            "full_name": "John Doe",
            "disabled": null,
        });
        assert_json(&response, 200, &expected);
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let mut expected = document(
            json!({"/users/me": {"get": secured_operation("Read Users Me", "read_users_me_users_me_get")}}),
            None,
        );
        expected["components"] = json!({"securitySchemes": security_schemes()});
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    #[derive(Clone, Serialize)]
    struct UserInDB {
        username: String,
        email: Option<String>,
        full_name: Option<String>,
        disabled: Option<bool>,
        hashed_password: String,
    }

    struct ActiveUser(UserInDB);

    fn get_user(username: &str) -> Option<UserInDB> {
        let (full_name, email, hashed_password, disabled) = match username {
            "johndoe" => ("John Doe", "johndoe@example.com", "fakehashedsecret", false),
            "alice" => (
                "Alice Wonderson",
                "alice@example.com",
                "fakehashedsecret2",
                true,
            ),
            _ => return None,
        };
        Some(UserInDB {
            username: username.into(),
            email: Some(email.into()),
            full_name: Some(full_name.into()),
            disabled: Some(disabled),
            hashed_password: hashed_password.into(),
        })
    }

    fn fake_hash_password(password: &str) -> String {
        format!("fakehashed{password}")
    }

    async fn get_current_user(token: OAuth2PasswordBearer<Scheme>) -> Result<UserInDB, HttpError> {
        // This doesn't provide any security at all, as the tutorial says.
        get_user(token.token()).ok_or_else(|| {
            HttpError::unauthorized()
                .detail("Not authenticated")
                .header("www-authenticate", "Bearer")
        })
    }

    async fn get_current_active_user(
        Depends(current_user): Depends<UserInDB>,
    ) -> Result<ActiveUser, HttpError> {
        if current_user.disabled == Some(true) {
            return Err(HttpError::bad_request().detail("Inactive user"));
        }
        Ok(ActiveUser((*current_user).clone()))
    }

    async fn login(
        Form(form_data): Form<OAuth2PasswordRequestForm>,
    ) -> Result<Json<Value>, HttpError> {
        let incorrect = || HttpError::bad_request().detail("Incorrect username or password");
        let user = get_user(&form_data.username).ok_or_else(incorrect)?;
        if fake_hash_password(&form_data.password) != user.hashed_password {
            return Err(incorrect());
        }
        Ok(Json(
            json!({"access_token": user.username, "token_type": "bearer"}),
        ))
    }

    async fn read_users_me(Depends(current_user): Depends<ActiveUser>) -> Json<Value> {
        Json(json!(current_user.0))
    }

    fn app() -> App {
        App::new()
            .provide(get_current_user)
            .provide(get_current_active_user)
            .post("/token", login)
            .get("/users/me", read_users_me)
    }

    #[portico::test]
    async fn login_cases() {
        let client = client(app());
        let login = |username: &'static str, password: &'static str| {
            client
                .post("/token")
                .form(&[("username", username), ("password", password)])
        };
        assert_json(
            &login("johndoe", "secret").await,
            200,
            &json!({"access_token": "johndoe", "token_type": "bearer"}),
        );
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
        let with = |authorization: &'static str| {
            client
                .get("/users/me")
                .header("authorization", authorization)
        };
        let expected = json!({
            "username": "johndoe",
            "full_name": "John Doe",
            "email": "johndoe@example.com",
            "hashed_password": "fakehashedsecret",
            "disabled": false,
        });
        assert_json(&with("Bearer johndoe").await, 200, &expected);
        assert_401(
            &with("Bearer nonexistent").await,
            "Not authenticated",
            "Bearer",
        );
        assert_401(
            &with("Notexistent testtoken").await,
            "Not authenticated",
            "Bearer",
        );
        assert_json(
            &with("Bearer alice").await,
            400,
            &json!({"detail": "Inactive user"}),
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = json!({
            "openapi": "3.1.0",
            "paths": {
                "/token": {"post": {
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {"application/json": {"schema": {}}},
                        },
                        "422": validation_response(),
                    },
                    "summary": "Login",
                    "operationId": "login_token_post",
                    "requestBody": {
                        "content": {"application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/Body_login_token_post"},
                        }},
                        "required": true,
                    },
                }},
                "/users/me": {"get": secured_operation("Read Users Me", "read_users_me_users_me_get")},
            },
            "components": {
                "schemas": schemas_with_validation(json!({
                    "Body_login_token_post": token_form_schema(),
                })),
                "securitySchemes": security_schemes(),
            },
        });
        assert_document(&client, expected).await;
    }
}

/// The schema FastAPI gives `OAuth2PasswordRequestForm`'s fields.
pub(super) fn token_form_schema() -> Value {
    json!({
        "required": ["username", "password"],
        "type": "object",
        "properties": {
            "grant_type": {"anyOf": [{"pattern": "^password$", "type": "string"}, {"type": "null"}]},
            "username": {"type": "string"},
            "password": {"type": "string", "format": "password"},
            "scope": {"type": "string", "default": ""},
            "client_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "client_secret": {"anyOf": [{"type": "string"}, {"type": "null"}], "format": "password"},
        },
    })
}
