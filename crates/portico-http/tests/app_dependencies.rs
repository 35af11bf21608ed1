//! Mistakes and documentation of an application's dependencies: one provider per type, and
//! dependencies of the whole application, which leave the docs' own routes alone.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use portico::testing::blocking_client_on;
use portico::{App, Depends, HttpError, RuntimeKind};

#[derive(Clone)]
struct Twice(&'static str);

#[test]
fn two_providers_of_one_type_are_a_mistake_reported_when_the_app_is_built() {
    let err = App::new()
        .provide(|| Ok::<_, HttpError>(Twice("first")))
        .provide(|| Ok::<_, HttpError>(Twice("second")))
        .get("/", |Depends(t): Depends<Twice>| async move { t.0 })
        .try_into_service()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("two providers of `app_dependencies::Twice`"),
        "{err}"
    );
}

struct AppToken;

#[portico::test]
fn app_dependencies_leave_the_docs_alone_and_are_documented_on_every_operation(rt: RuntimeKind) {
    #[portico::provider]
    async fn token(#[header] x_token: String) -> Result<AppToken, HttpError> {
        if x_token == "secret" {
            Ok(AppToken)
        } else {
            Err(HttpError::bad_request().detail("X-Token header invalid"))
        }
    }
    let app = App::new()
        .provide(token)
        .dependency::<AppToken>()
        .get("/items/", || async { "items" });
    let doc = app.openapi();
    let params = &doc["paths"]["/items/"]["get"]["parameters"];
    assert_eq!(params[0]["name"], "x-token");
    assert_eq!(params[0]["in"], "header");
    let client = blocking_client_on(rt, app);
    assert_eq!(client.get("/openapi.json").send().status(), 200);
    assert_eq!(client.get("/docs").send().status(), 200);
    assert_eq!(client.get("/items/").send().status(), 422);
    let allowed = client.get("/items/").header("x-token", "secret").send();
    assert_eq!(allowed.text(), "items");
}
