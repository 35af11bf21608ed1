//! Tutorials 007, 008, 008b to 008e and 010: dependencies with yield, as providers with a
//! cleanup (and, for the `except` around a `yield`, `Provider::catch`). A FastAPI test that patches a module's names with mocks becomes an app whose
//! provider builds values from shared state, so the test can see what was built and closed.

use std::sync::{Arc, Mutex};

use portico::{
    App, CleanupScope, Depends, HttpError, IntoResponse, Json, Outcome, Provider, Response, State,
    http,
};
use serde_json::{Value, json};

use super::{assert_json, client};

/// What the providers and their cleanups did, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A database session that records being closed, as the tests' `Mock()` does.
struct DbSession {
    name: String,
    log: Log,
}

impl DbSession {
    fn close(&self) {
        self.log.push(format!("{} closed", self.name));
    }
}

/// The app of FastAPI's tests of 007 and 010: `GET /` answers `{"c": str(db)}`.
async fn read_root(Depends(db): Depends<DbSession>) -> Json<Value> {
    Json(json!({"c": db.name}))
}

mod tutorial007 {
    use super::*;

    async fn get_db(State(log): State<Log>) -> Result<DbSession, HttpError> {
        log.push("db session created");
        Ok(DbSession {
            name: "db session 1".into(),
            log,
        })
    }

    #[portico::test]
    async fn get_db_yields_the_session_and_closes_it() {
        let log = Log::default();
        let app = App::new()
            .state(log.clone())
            .provide(Provider::new(get_db).cleanup(|db: &DbSession, _: Outcome| db.close()))
            .get("/", read_root);
        let response = client(app).get("/").await;
        // FastAPI's `value is dbsession_mock`, and `close.assert_called_once()`.
        assert_json(&response, 200, &json!({"c": "db session 1"}));
        assert_eq!(log.lines(), ["db session created", "db session 1 closed"]);
    }
}

mod tutorial008 {
    use super::*;

    struct DepA(Log);
    struct DepB(Log, Arc<DepA>);
    struct DepC(Log, Arc<DepB>);

    async fn dependency_a(State(log): State<Log>) -> Result<DepA, HttpError> {
        Ok(DepA(log))
    }

    async fn dependency_b(
        State(log): State<Log>,
        Depends(dep_a): Depends<DepA>,
    ) -> Result<DepB, HttpError> {
        Ok(DepB(log, dep_a))
    }

    async fn dependency_c(
        State(log): State<Log>,
        Depends(dep_b): Depends<DepB>,
    ) -> Result<DepC, HttpError> {
        Ok(DepC(log, dep_b))
    }

    async fn read_root(Depends(c): Depends<DepC>) -> Json<Value> {
        let _ = &c.1;
        Json(json!({"c": "dep_c"}))
    }

    fn app(log: &Log) -> App {
        App::new()
            .state(log.clone())
            .provide(
                Provider::new(dependency_a).cleanup(|a: &DepA, _: Outcome| a.0.push("a closed")),
            )
            .provide(Provider::new(dependency_b).cleanup(|b: &DepB, _: Outcome| {
                let _: &DepA = &b.1;
                b.0.push("b closed with a");
            }))
            .provide(Provider::new(dependency_c).cleanup(|c: &DepC, _: Outcome| {
                let _: &DepB = &c.1;
                c.0.push("c closed with b");
            }))
            .get("/", read_root)
    }

    #[portico::test]
    async fn get_db() {
        let log = Log::default();
        let response = client(app(&log)).get("/").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!({"c": "dep_c"}));
        // Each exit code runs while the dependency it uses is still open.
        assert_eq!(
            log.lines(),
            ["c closed with b", "b closed with a", "a closed"]
        );
    }
}

mod tutorial008b {
    use super::*;

    struct Username(String);

    /// Raised by the handler; unhandled, it would be a 500, as an exception is in FastAPI.
    #[derive(Debug)]
    struct OwnerError(String);

    /// The handler's errors: FastAPI's `HTTPException(404)` and `OwnerError`.
    #[derive(Debug)]
    enum ItemError {
        NotFound,
        Owner(OwnerError),
    }

    impl IntoResponse for ItemError {
        fn into_response(self) -> Response {
            match self {
                ItemError::NotFound => HttpError::not_found()
                    .detail("Item not found")
                    .into_response(),
                ItemError::Owner(_) => {
                    HttpError::new(http::StatusCode::INTERNAL_SERVER_ERROR).into_response()
                }
            }
        }
    }

    fn get_username() -> Result<Username, HttpError> {
        Ok(Username("Rick".into()))
    }

    /// `except OwnerError as e: raise HTTPException(status_code=400, detail=f"Owner error: {e}")`
    /// around the `yield`; any other error goes on.
    fn owner_error_to_400(_: &Username, err: ItemError) -> Result<HttpError, ItemError> {
        match err {
            ItemError::Owner(OwnerError(name)) => {
                Ok(HttpError::bad_request().detail(format!("Owner error: {name}")))
            }
            other => Err(other),
        }
    }

    fn get_item(
        portico::Path(item_id): portico::Path<String>,
        Depends(username): Depends<Username>,
    ) -> Result<Json<Value>, ItemError> {
        let data = json!({
            "plumbus": {"description": "Freshly pickled plumbus", "owner": "Morty"},
            "portal-gun": {"description": "Gun to create portals", "owner": "Rick"},
        });
        let Some(item) = data.get(&item_id) else {
            return Err(ItemError::NotFound);
        };
        if item["owner"] != username.0.as_str() {
            return Err(ItemError::Owner(OwnerError(username.0.clone())));
        }
        Ok(Json(item.clone()))
    }

    fn app() -> App {
        App::new()
            .provide(Provider::new(get_username).catch(owner_error_to_400))
            .get("/items/{item_id}", get_item)
    }

    #[portico::test]
    async fn get_no_item() {
        let response = client(app()).get("/items/foo").await;
        assert_json(&response, 404, &json!({"detail": "Item not found"}));
    }

    #[portico::test]
    async fn owner_error() {
        let response = client(app()).get("/items/plumbus").await;
        assert_json(&response, 400, &json!({"detail": "Owner error: Rick"}));
    }

    #[portico::test]
    async fn get_item_found() {
        let response = client(app()).get("/items/portal-gun").await;
        assert_json(
            &response,
            200,
            &json!({"description": "Gun to create portals", "owner": "Rick"}),
        );
    }
}

/// Tutorials 008c and 008d: the handler fails with an internal error (a panic, Rust's
/// unhandled exception) and `get_username` sees it; in 008c it would swallow it, in 008d it
/// raises it again.
mod tutorial008c_008d {
    use super::*;

    struct Username(String);

    fn get_item(
        portico::Path(item_id): portico::Path<String>,
        Depends(username): Depends<Username>,
    ) -> Result<Json<String>, HttpError> {
        if item_id == "portal-gun" {
            panic!(
                "The portal gun is too dangerous to be owned by {}",
                username.0
            );
        }
        if item_id != "plumbus" {
            return Err(
                HttpError::not_found().detail("Item not found, there's only a plumbus here")
            );
        }
        Ok(Json(item_id))
    }

    fn app(log: &Log) -> App {
        let log = log.clone();
        App::new()
            .provide(
                Provider::new(|| Ok::<_, HttpError>(Username("Rick".into()))).cleanup(
                    move |_: &Username, outcome: Outcome| log.push(format!("{outcome:?}")),
                ),
            )
            .get("/items/{item_id}", get_item)
    }

    #[portico::test]
    async fn get_no_item() {
        let response = client(app(&Log::default())).get("/items/foo").await;
        assert_json(
            &response,
            404,
            &json!({"detail": "Item not found, there's only a plumbus here"}),
        );
    }

    #[portico::test]
    async fn get() {
        let response = client(app(&Log::default())).get("/items/plumbus").await;
        assert_json(&response, 200, &json!("plumbus"));
    }

    #[portico::test]
    async fn internal_error_reaches_the_dependency() {
        // FastAPI's test client raises the server's exception (008d's `InternalError`, or 008c's
        // `FastAPIError` because the dependency swallowed it); Portico's answers 500, and a
        // cleanup cannot swallow the error: it sees it.
        let log = Log::default();
        let response = client(app(&log)).get("/items/portal-gun").await;
        assert_eq!(response.status(), 500);
        assert_eq!(log.lines(), ["Panicked"]);
    }

    #[portico::test]
    async fn internal_server_error() {
        let response = client(app(&Log::default())).get("/items/portal-gun").await;
        assert_eq!(response.status(), 500, "{}", response.text());
        assert_eq!(response.text(), "Internal Server Error");
    }
}

mod tutorial008e {
    use super::*;

    struct Username(String);

    async fn get_user_me(Depends(username): Depends<Username>) -> Json<String> {
        Json(username.0.clone())
    }

    #[portico::test]
    async fn get_users_me() {
        let log = Log::default();
        let cleanup_log = log.clone();
        let app = App::new()
            .provide(
                Provider::new(|| Ok::<_, HttpError>(Username("Rick".into())))
                    .scope(CleanupScope::Function)
                    .cleanup(move |_: &Username, _: Outcome| {
                        cleanup_log.push("Cleanup up before response is sent")
                    }),
            )
            .get("/users/me", get_user_me);
        let response = client(app).get("/users/me").await;
        assert_json(&response, 200, &json!("Rick"));
        assert_eq!(log.lines(), ["Cleanup up before response is sent"]);
    }
}

mod tutorial010 {
    use super::*;

    /// A context manager is a value whose exit runs when its scope ends: the provider's
    /// cleanup is `__exit__`.
    struct MySuperContextManager {
        db: DbSession,
    }

    impl MySuperContextManager {
        fn new(log: Log) -> Self {
            MySuperContextManager {
                db: DbSession {
                    name: "db session 1".into(),
                    log,
                },
            }
        }

        fn exit(&self) {
            self.db.close();
        }
    }

    async fn get_db(State(log): State<Log>) -> Result<MySuperContextManager, HttpError> {
        Ok(MySuperContextManager::new(log))
    }

    async fn read_root(Depends(manager): Depends<MySuperContextManager>) -> Json<Value> {
        Json(json!({"c": manager.db.name}))
    }

    #[portico::test]
    async fn get_db_closes_on_exit() {
        let log = Log::default();
        let app = App::new()
            .state(log.clone())
            .provide(
                Provider::new(get_db).cleanup(|m: &MySuperContextManager, _: Outcome| m.exit()),
            )
            .get("/", read_root);
        let response = client(app).get("/").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!({"c": "db session 1"}));
        assert_eq!(log.lines(), ["db session 1 closed"]);
    }
}
