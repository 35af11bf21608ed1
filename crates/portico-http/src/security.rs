//! Security tools, as FastAPI's `fastapi.security` has them: each is a parameter (usable in a
//! handler or a dependency) that reads a credential from the request and declares its scheme in
//! the OpenAPI document, so that Swagger UI's "Authorize" button knows how to send it.
//!
//! A missing or malformed credential answers as FastAPI does: 401 `{"detail":"Not
//! authenticated"}` with a `WWW-Authenticate` header naming the scheme. Wrap the parameter in
//! `Option` to get `None` instead (FastAPI's `auto_error=False`). Checking the credential is
//! the application's work, in a dependency; compare secrets with [`compare_digest`], which takes
//! the same time wherever the inputs differ.
//!
//! Tools that need settings (a token URL, a header name) take them from a type of the
//! application's that implements the tool's settings trait, so that everything the document
//! shows is known when the route is registered.
//!
//! # Examples
//!
//! An OAuth2 password flow: the token route takes the standard form, a dependency turns the
//! bearer token into a user, and a route requires a scope.
//!
//! ```
//! use portico_http::security::{OAuth2PasswordBearer, OAuth2PasswordRequestForm, OAuth2Settings, SecurityScopes};
//! use portico_http::{App, Depends, Form, HttpError, Json, Route};
//!
//! struct Auth;
//!
//! impl OAuth2Settings for Auth {
//!     const TOKEN_URL: &'static str = "/token";
//!     const SCOPES: &'static [(&'static str, &'static str)] = &[("items", "Read items")];
//! }
//!
//! struct User(String);
//!
//! async fn login(Form(form): Form<OAuth2PasswordRequestForm>) -> Result<Json<serde_json::Value>, HttpError> {
//!     if form.username == "alice" && portico_http::security::compare_digest(&form.password, "secret") {
//!         Ok(Json(serde_json::json!({"access_token": "alice-token", "token_type": "bearer"})))
//!     } else {
//!         Err(HttpError::bad_request().detail("Incorrect username or password"))
//!     }
//! }
//!
//! async fn current_user(token: OAuth2PasswordBearer<Auth>, scopes: SecurityScopes) -> Result<User, HttpError> {
//!     match token.token() {
//!         "alice-token" if scopes.scopes().iter().all(|s| s == "items") => Ok(User("alice".into())),
//!         _ => Err(HttpError::unauthorized().detail("Could not validate credentials")),
//!     }
//! }
//!
//! async fn items(Depends(user): Depends<User>) -> String {
//!     format!("items of {}", user.0)
//! }
//!
//! let app = App::new()
//!     .provide(current_user)
//!     .post("/token", login)
//!     .route(Route::get("/items", items).scopes(["items"]));
//! let client = portico::testing::blocking_client(app);
//! assert_eq!(client.get("/items").send().status(), 401);
//! let ok = client.get("/items").header("authorization", "Bearer alice-token").send();
//! assert_eq!(ok.text(), "items of alice");
//! ```

use std::marker::PhantomData;

use base64::Engine;
use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::HttpError;
use portico_openapi::{OperationDoc, SecurityDoc};

use crate::extract::{FromRequestParts, Rejection, RequestContext};

/// Whether two secrets are equal, in a time that depends on their lengths only, not on where
/// they differ (Python's `secrets.compare_digest`): use it to check passwords, API keys and
/// tokens.
///
/// ```
/// use portico_http::security::compare_digest;
///
/// assert!(compare_digest("s3cret", "s3cret"));
/// assert!(!compare_digest("s3cret", "s3creT"));
/// assert!(!compare_digest("s3cret", "s3cret!"));
/// ```
pub fn compare_digest(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> bool {
    use subtle::ConstantTimeEq;
    a.as_ref().ct_eq(b.as_ref()).into()
}

/// The 401 FastAPI answers when a credential is missing or malformed.
fn not_authenticated(challenge: &'static str) -> Rejection {
    HttpError::new(StatusCode::UNAUTHORIZED)
        .detail("Not authenticated")
        .header(WWW_AUTHENTICATE, HeaderValue::from_static(challenge))
        .into()
}

/// The `Authorization` header split into its scheme and credentials.
fn authorization(parts: &Parts) -> Option<(&str, &str)> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.trim().split_once(' ')?;
    let credentials = credentials.trim();
    (!scheme.is_empty() && !credentials.is_empty()).then_some((scheme, credentials))
}

pub(crate) fn scheme_object(kind: &str, extra: Value, description: Option<&str>) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), Value::String(kind.into()));
    if let Value::Object(extra) = extra {
        map.extend(extra);
    }
    if let Some(description) = description {
        map.insert("description".into(), Value::String(description.into()));
    }
    Value::Object(map)
}

/// The settings of an OAuth2 password flow, on a type of the application's (see
/// [`OAuth2PasswordBearer`]).
pub trait OAuth2Settings: Send + Sync + 'static {
    /// The route that issues tokens (its `POST` takes an [`OAuth2PasswordRequestForm`]), as
    /// Swagger UI calls it: a path on this application, or a full URL.
    const TOKEN_URL: &'static str;
    /// The scopes there are, with what each allows.
    const SCOPES: &'static [(&'static str, &'static str)] = &[];
    /// The scheme's name in the document.
    const SCHEME_NAME: &'static str = "OAuth2PasswordBearer";
    /// A description of the scheme.
    const DESCRIPTION: Option<&'static str> = None;
}

/// The bearer token of an OAuth2 password flow (FastAPI's `OAuth2PasswordBearer`): the
/// `Authorization: Bearer <token>` header's token. Declares an `oauth2` password scheme with
/// `S`'s token URL and scopes; the scopes a route requires ([`Route::scopes`](crate::Route::scopes),
/// [`Provider::scopes`](crate::Provider::scopes)) appear in its security requirement.
///
/// Missing, or another scheme: 401 `{"detail":"Not authenticated"}` with
/// `WWW-Authenticate: Bearer`.
pub struct OAuth2PasswordBearer<S> {
    token: String,
    _settings: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for OAuth2PasswordBearer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2PasswordBearer")
            .field("token", &"<redacted>")
            .finish()
    }
}

impl<S> OAuth2PasswordBearer<S> {
    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token, owned.
    pub fn into_token(self) -> String {
        self.token
    }
}

impl<S: OAuth2Settings> FromRequestParts for OAuth2PasswordBearer<S> {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match authorization(parts) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(OAuth2PasswordBearer {
                    token: token.to_owned(),
                    _settings: PhantomData,
                })
            }
            _ => Err(not_authenticated("Bearer")),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let scopes: Map<String, Value> = S::SCOPES
            .iter()
            .map(|(name, what)| ((*name).to_owned(), Value::String((*what).to_owned())))
            .collect();
        let scheme = scheme_object(
            "oauth2",
            json!({"flows": {"password": {"scopes": scopes, "tokenUrl": S::TOKEN_URL}}}),
            S::DESCRIPTION,
        );
        doc.security(SecurityDoc::new(S::SCHEME_NAME, scheme, true));
    }
}

/// The form of an OAuth2 password request (FastAPI's `OAuth2PasswordRequestForm`), read with
/// [`Form`](crate::Form): `username`, `password`, the space-separated `scope`, and the optional
/// `grant_type` (`password` when given), `client_id` and `client_secret`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
// Documented as FastAPI documents the form of its class: `Body_<operationId>`.
#[schemars(extend("x-portico-fields" = true))]
pub struct OAuth2PasswordRequestForm {
    /// Must be `password` when given.
    #[schemars(regex(pattern = r"^password$"))]
    #[serde(default)]
    pub grant_type: Option<String>,
    /// The user's name.
    pub username: String,
    /// The user's password.
    // `format: password`, as FastAPI documents it: Swagger UI masks the field.
    #[schemars(extend("format" = "password"))]
    pub password: String,
    /// The scopes asked for, separated by spaces.
    #[serde(default)]
    pub scope: String,
    /// The client's id, when the client authenticates in the form.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client's secret, when the client authenticates in the form.
    #[serde(default)]
    #[schemars(extend("format" = "password"))]
    pub client_secret: Option<String>,
}

impl OAuth2PasswordRequestForm {
    /// The scopes asked for, one by one.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope.split_whitespace().collect()
    }
}

/// The OAuth2 scopes the route requires, gathered from the route, its routers and its
/// dependencies (FastAPI's `SecurityScopes`), for the dependency that checks a token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityScopes {
    scopes: Vec<String>,
}

impl SecurityScopes {
    /// The scopes, each once.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The scopes separated by spaces, as a `WWW-Authenticate: Bearer scope="..."` header
    /// writes them.
    pub fn scope_str(&self) -> String {
        self.scopes.join(" ")
    }
}

impl FromRequestParts for SecurityScopes {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(SecurityScopes {
            scopes: ctx.route.scopes.clone(),
        })
    }
}

/// What an `Authorization: <scheme> <credentials>` header carried (FastAPI's
/// `HTTPAuthorizationCredentials`).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpAuthorizationCredentials {
    /// The scheme, as sent (`Bearer`).
    pub scheme: String,
    /// The credentials.
    pub credentials: String,
}

impl std::fmt::Debug for HttpAuthorizationCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAuthorizationCredentials")
            .field("scheme", &self.scheme)
            .field("credentials", &"<redacted>")
            .finish()
    }
}

/// An HTTP Bearer credential (FastAPI's `HTTPBearer`). Declares an `http` `bearer` scheme
/// named `HTTPBearer`. Missing, or another scheme: 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBearer(pub HttpAuthorizationCredentials);

impl FromRequestParts for HttpBearer {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match authorization(parts) {
            Some((scheme, credentials)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(HttpBearer(HttpAuthorizationCredentials {
                    scheme: scheme.to_owned(),
                    credentials: credentials.to_owned(),
                }))
            }
            _ => Err(not_authenticated("Bearer")),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let scheme = scheme_object("http", json!({"scheme": "bearer"}), None);
        doc.security(SecurityDoc::new("HTTPBearer", scheme, true));
    }
}

/// A user name and password from HTTP Basic authentication (FastAPI's `HTTPBasicCredentials`).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpBasicCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for HttpBasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBasicCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// HTTP Basic credentials (FastAPI's `HTTPBasic`). Declares an `http` `basic` scheme named
/// `HTTPBasic`. Missing, not valid base64 or without a `:`: 401 `{"detail":"Not authenticated"}`
/// with `WWW-Authenticate: Basic`, as FastAPI answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBasic(pub HttpBasicCredentials);

impl FromRequestParts for HttpBasic {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let Some((scheme, encoded)) = authorization(parts) else {
            return Err(not_authenticated("Basic"));
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(not_authenticated("Basic"));
        }
        let invalid = || not_authenticated("Basic");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| invalid())?;
        let text = String::from_utf8(decoded).map_err(|_| invalid())?;
        let (username, password) = text.split_once(':').ok_or_else(invalid)?;
        Ok(HttpBasic(HttpBasicCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }))
    }

    fn describe(doc: &mut OperationDoc) {
        let scheme = scheme_object("http", json!({"scheme": "basic"}), None);
        doc.security(SecurityDoc::new("HTTPBasic", scheme, true));
    }
}

/// Where an API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyLocation {
    /// In a header.
    Header,
    /// In a query parameter.
    Query,
    /// In a cookie.
    Cookie,
}

/// The settings of an API key: its name and where it is sent (see [`ApiKey`]).
pub trait ApiKeySettings: Send + Sync + 'static {
    /// The header, query parameter or cookie that carries it (`X-API-Key`).
    const NAME: &'static str;
    /// Where it is sent.
    const LOCATION: ApiKeyLocation;
    /// The scheme's name in the document (FastAPI's: `APIKeyHeader`, `APIKeyQuery` or
    /// `APIKeyCookie`, by location).
    const SCHEME_NAME: Option<&'static str> = None;
    /// A description of the scheme.
    const DESCRIPTION: Option<&'static str> = None;
}

/// An API key from a header, a query parameter or a cookie (FastAPI's `APIKeyHeader`,
/// `APIKeyQuery`, `APIKeyCookie`), as `S` says. Declares an `apiKey` scheme. Missing or empty:
/// 401 `{"detail":"Not authenticated"}` with `WWW-Authenticate: APIKey`.
///
/// ```
/// use portico_http::security::{ApiKey, ApiKeyLocation, ApiKeySettings, compare_digest};
/// use portico_http::{App, HttpError};
///
/// struct Key;
///
/// impl ApiKeySettings for Key {
///     const NAME: &'static str = "X-API-Key";
///     const LOCATION: ApiKeyLocation = ApiKeyLocation::Header;
/// }
///
/// async fn report(key: ApiKey<Key>) -> Result<&'static str, HttpError> {
///     if compare_digest(key.key(), "k-123") { Ok("report") } else { Err(HttpError::forbidden()) }
/// }
///
/// let client = portico::testing::blocking_client(App::new().get("/report", report));
/// assert_eq!(client.get("/report").send().status(), 401);
/// assert_eq!(client.get("/report").header("x-api-key", "k-123").send().text(), "report");
/// ```
pub struct ApiKey<S> {
    key: String,
    _settings: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for ApiKey<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl<S> ApiKey<S> {
    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key, owned.
    pub fn into_key(self) -> String {
        self.key
    }
}

impl<S: ApiKeySettings> FromRequestParts for ApiKey<S> {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let found = match S::LOCATION {
            ApiKeyLocation::Header => parts
                .headers
                .get(S::NAME)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ApiKeyLocation::Query => parts.uri.query().and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == S::NAME)
                    .map(|(_, value)| value.into_owned())
            }),
            ApiKeyLocation::Cookie => parts
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|header| header.split(';'))
                .filter_map(|pair| cookie::Cookie::parse_encoded(pair.trim()).ok())
                .find(|c| c.name() == S::NAME)
                .map(|c| c.value().to_owned()),
        };
        match found {
            Some(key) if !key.is_empty() => Ok(ApiKey {
                key,
                _settings: PhantomData,
            }),
            _ => Err(not_authenticated("APIKey")),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let (location, default_name) = match S::LOCATION {
            ApiKeyLocation::Header => ("header", "APIKeyHeader"),
            ApiKeyLocation::Query => ("query", "APIKeyQuery"),
            ApiKeyLocation::Cookie => ("cookie", "APIKeyCookie"),
        };
        let scheme = scheme_object(
            "apiKey",
            json!({"in": location, "name": S::NAME}),
            S::DESCRIPTION,
        );
        doc.security(SecurityDoc::new(
            S::SCHEME_NAME.unwrap_or(default_name),
            scheme,
            true,
        ));
    }
}
