//! Settings as a dependency: loaded once when the app is built, handed to path operations and
//! to other providers as `Depends<Settings>`, replaced in a test as FastAPI's
//! `app.dependency_overrides[get_settings]` does, read from a `.env` file, and left out of
//! the OpenAPI document.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::Arc;

use portico::settings::{self, Loader};
use portico::testing::TestClient;
use portico::{App, Depends, HttpError, Json, State};
use serde::Deserialize;
use serde_json::{Value, json};

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

async fn info(Depends(settings): Depends<Settings>) -> Json<Value> {
    Json(json!({
        "app_name": settings.app_name,
        "admin_email": settings.admin_email,
        "items_per_user": settings.items_per_user,
    }))
}

/// A dependency of its own that reads the settings, as a database pool would.
struct Quota(u32);

async fn quota(Depends(settings): Depends<Settings>) -> Result<Quota, HttpError> {
    Ok(Quota(settings.items_per_user * 2))
}

async fn show_quota(Depends(quota): Depends<Quota>) -> String {
    quota.0.to_string()
}

fn app(settings: Settings) -> App {
    App::new()
        .provide(settings::provider(settings))
        .provide(quota)
        .get("/info", info)
        .get("/quota", show_quota)
}

fn loaded(vars: &[(&str, &str)]) -> Settings {
    settings::from_vars(vars.iter().copied()).unwrap()
}

#[portico::test]
async fn path_operations_get_the_settings_loaded_at_start() {
    let client = TestClient::new(app(loaded(&[
        ("ADMIN_EMAIL", "admin@example.com"),
        ("ITEMS_PER_USER", "7"),
    ])));
    let response = client.get("/info").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"app_name": "Awesome API", "admin_email": "admin@example.com", "items_per_user": 7})
    );
    assert_eq!(client.get("/quota").await.text(), "14");
}

#[portico::test]
async fn a_test_overrides_the_settings_for_every_route() {
    let client = TestClient::new(app(loaded(&[("ADMIN_EMAIL", "admin@example.com")])));
    client
        .service()
        .override_dependency(settings::provider(loaded(&[
            ("ADMIN_EMAIL", "testing_admin@example.com"),
            ("ITEMS_PER_USER", "1"),
        ])));
    assert_eq!(
        client.get("/info").await.json::<Value>(),
        json!({"app_name": "Awesome API", "admin_email": "testing_admin@example.com", "items_per_user": 1})
    );
    // The provider that reads the settings sees the override too.
    assert_eq!(client.get("/quota").await.text(), "2");

    client.service().remove_override::<Settings>();
    assert_eq!(
        client.get("/info").await.json::<Value>()["admin_email"],
        "admin@example.com"
    );
    assert_eq!(client.get("/quota").await.text(), "100");
}

#[portico::test]
async fn settings_come_from_a_dotenv_file_under_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    std::fs::write(
        &file,
        "APP_ADMIN_EMAIL=\"deadpool@example.com\"\nAPP_APP_NAME=\"ChimichangApp\"\n",
    )
    .unwrap();
    let settings: Settings = Loader::new()
        .prefix("APP_")
        .env_file(&file)
        // What the real environment would say, and win with.
        .var("APP_ITEMS_PER_USER", "3")
        .load()
        .unwrap();
    let client = TestClient::new(app(settings));
    assert_eq!(
        client.get("/info").await.json::<Value>(),
        json!({"app_name": "ChimichangApp", "admin_email": "deadpool@example.com", "items_per_user": 3})
    );
}

#[portico::test]
async fn settings_shared_as_state_need_no_provider() {
    async fn name(State(settings): State<Arc<Settings>>) -> String {
        settings.app_name.clone()
    }
    let settings = Arc::new(loaded(&[("ADMIN_EMAIL", "a@example.com")]));
    let client = TestClient::new(App::new().state(settings).get("/name", name));
    assert_eq!(client.get("/name").await.text(), "Awesome API");
}

#[portico::test]
async fn the_settings_are_not_request_parameters_in_the_document() {
    let client = TestClient::new(app(loaded(&[("ADMIN_EMAIL", "a@example.com")])));
    let document: Value = client.get("/openapi.json").await.json();
    let operation = &document["paths"]["/info"]["get"];
    assert!(operation.is_object(), "{document}");
    assert!(operation.get("parameters").is_none(), "{operation}");
    assert!(operation.get("requestBody").is_none(), "{operation}");
}

#[test]
fn a_wrong_environment_stops_the_app_before_it_is_built() {
    // What `main` sees: no app, and a message naming both variables.
    let err = settings::from_vars::<Settings, _, _, _>([("ITEMS_PER_USER", "-1")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "2 settings are wrong: ADMIN_EMAIL is missing; ITEMS_PER_USER = \"-1\" is not a valid \
         u32 (a whole number from 0 to 4294967295)"
    );
}
