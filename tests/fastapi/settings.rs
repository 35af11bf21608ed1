//! Settings and environment variables: `docs_src/settings/tutorial001` and `app01` (settings
//! read once when the app starts, shared by it; tutorial001 is app01 in one file), `app02`
//! (settings as a dependency, replaced in the tutorial's own test) and `app03` (from a `.env`
//! file too). The `_an` variants are the same apps. FastAPI's tests set `ADMIN_EMAIL` with
//! `monkeypatch.setenv`; here the variables are handed to the loader instead, since a test that
//! changed the process environment would change it for every test running beside it.

use std::sync::Arc;

use portico::settings::{self, Loader, Problem, SettingsError};
use portico::testing::TestClient;
use portico::{App, Depends, Json, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::assert_document;

/// `config.py`: pydantic's `BaseSettings` is a struct that derives `Deserialize`.
#[derive(Debug, Clone, Deserialize)]
struct Settings {
    #[serde(default = "app_name")]
    app_name: String,
    admin_email: String,
    #[serde(default = "items_per_user")]
    items_per_user: u32,
}

fn app_name() -> String {
    "Awesome API".into()
}

fn items_per_user() -> u32 {
    50
}

fn info_of(settings: &Settings) -> Json<Value> {
    Json(json!({
        "app_name": settings.app_name,
        "admin_email": settings.admin_email,
        "items_per_user": settings.items_per_user,
    }))
}

/// The environment a test sets with `monkeypatch`, as the loader reads it (and no other).
fn environment(vars: &[(&str, &str)]) -> Loader {
    Loader::new().environment(false).vars(vars.iter().copied())
}

/// `settings = Settings()` at import, and the app that reads it: what importing `main` does.
/// A program calls `app01::main(Loader::new())`.
mod app01 {
    use super::*;

    async fn info(State(settings): State<Arc<Settings>>) -> Json<Value> {
        info_of(&settings)
    }

    pub(super) fn main(env: Loader) -> Result<App, SettingsError> {
        let settings: Settings = env.load()?;
        Ok(App::new().state(Arc::new(settings)).get("/info", info))
    }
}

/// `get_settings` (with `@lru_cache`) as a dependency: loaded once, when the app is built.
mod app02 {
    use super::*;

    pub(super) fn get_settings(env: Loader) -> Result<Settings, SettingsError> {
        env.load()
    }

    async fn info(Depends(settings): Depends<Settings>) -> Json<Value> {
        info_of(&settings)
    }

    pub(super) fn app(settings: Settings) -> App {
        App::new()
            .provide(settings::provider(settings))
            .get("/info", info)
    }

    /// `test_main.py`: the tutorial's own test, with `app.dependency_overrides`.
    pub(super) mod test_main {
        use super::*;

        fn get_settings_override() -> Settings {
            settings::from_vars([("admin_email", "testing_admin@example.com")]).unwrap()
        }

        pub(crate) async fn test_app(app: App) {
            let client = TestClient::new(app);
            client
                .service()
                .override_dependency(settings::provider(get_settings_override()));
            let response = client.get("/info").await;
            let data: Value = response.json();
            assert_eq!(
                data,
                json!({
                    "app_name": "Awesome API",
                    "admin_email": "testing_admin@example.com",
                    "items_per_user": 50,
                })
            );
        }
    }
}

/// `model_config = SettingsConfigDict(env_file=".env")`: the file fills in what the
/// environment does not set.
mod app03 {
    use super::*;

    pub(super) fn get_settings(env: Loader) -> Result<Settings, SettingsError> {
        env.env_file(".env").load()
    }

    async fn info(Depends(settings): Depends<Settings>) -> Json<Value> {
        info_of(&settings)
    }

    pub(super) fn app(env: Loader) -> Result<App, SettingsError> {
        let settings = get_settings(env)?;
        Ok(App::new()
            .provide(settings::provider(settings))
            .get("/info", info))
    }
}

const ADMIN: &[(&str, &str)] = &[("ADMIN_EMAIL", "admin@example.com")];

fn expected_info() -> Value {
    json!({
        "app_name": "Awesome API",
        "admin_email": "admin@example.com",
        "items_per_user": 50,
    })
}

#[test]
fn app01_settings_validation_error() {
    // `monkeypatch.delenv("ADMIN_EMAIL")`: importing the app fails, naming the field.
    let Err(err) = app01::main(environment(&[])) else {
        panic!("the app started without ADMIN_EMAIL");
    };
    // FastAPI: `[{"loc": ("admin_email",), "msg": "Field required", "type": "missing", ...}]`.
    assert_eq!(
        err.problems(),
        [Problem::Missing {
            name: "ADMIN_EMAIL".into()
        }]
    );
    assert_eq!(
        err.to_string(),
        "1 setting is wrong: ADMIN_EMAIL is missing"
    );
}

#[portico::test]
async fn app01_app() {
    let client = TestClient::new(app01::main(environment(ADMIN)).unwrap());
    let response = client.get("/info").await;
    let data: Value = response.json();
    assert_eq!(data, expected_info());
}

#[portico::test]
async fn app01_openapi_schema() {
    let client = TestClient::new(app01::main(environment(ADMIN)).unwrap());
    assert_document(
        &client,
        json!({
            "openapi": "3.1.0",
            "info": {"title": "FastAPI", "version": "0.1.0"},
            "paths": {
                "/info": {
                    "get": {
                        "operationId": "info_info_get",
                        "responses": {
                            "200": {
                                "description": "Successful Response",
                                "content": {"application/json": {"schema": {}}},
                            }
                        },
                        "summary": "Info",
                    }
                }
            },
        }),
    )
    .await;
}

#[portico::test]
async fn tutorial001_settings() {
    let client = TestClient::new(app01::main(environment(ADMIN)).unwrap());
    let response = client.get("/info").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), expected_info());
}

#[test]
fn app02_settings() {
    let settings = app02::get_settings(environment(ADMIN)).unwrap();
    assert_eq!(settings.app_name, "Awesome API");
    assert_eq!(settings.items_per_user, 50);
}

#[portico::test]
async fn app02_override_settings() {
    let settings = app02::get_settings(environment(ADMIN)).unwrap();
    app02::test_main::test_app(app02::app(settings)).await;
}

#[test]
fn app03_settings() {
    let settings = app03::get_settings(environment(ADMIN)).unwrap();
    assert_eq!(settings.app_name, "Awesome API");
    assert_eq!(settings.admin_email, "admin@example.com");
    assert_eq!(settings.items_per_user, 50);
}

#[portico::test]
async fn app03_endpoint() {
    let client = TestClient::new(app03::app(environment(ADMIN)).unwrap());
    let response = client.get("/info").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>(), expected_info());
}

/// Not in FastAPI's tests: the `.env` file the chapter shows, read under the environment.
#[portico::test]
async fn app03_reads_the_env_file_of_the_docs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    std::fs::write(
        &file,
        "ADMIN_EMAIL=\"deadpool@example.com\"\nAPP_NAME=\"ChimichangApp\"\n",
    )
    .unwrap();
    let env = environment(&[("APP_NAME", "from the environment")]).env_file(&file);
    let client = TestClient::new(app03::app(env).unwrap());
    assert_eq!(
        client.get("/info").await.json::<Value>(),
        json!({
            "app_name": "from the environment",
            "admin_email": "deadpool@example.com",
            "items_per_user": 50,
        })
    );
}
