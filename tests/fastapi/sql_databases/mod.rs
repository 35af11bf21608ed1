//! SQL (relational) databases: `docs_src/sql_databases/tutorial001` and `tutorial002` (the
//! `_an` variants are the same apps), on SQLite with rusqlite where FastAPI's use SQLModel.
//!
//! The engine is a database file in a directory of the test's own (FastAPI's test swaps the
//! tutorial's `database.db` for an in-memory database); the tables are created at startup, as
//! the tutorials' startup event does. The session is FastAPI's dependency with `yield`: a
//! provider that opens a connection (a plain `fn`, on the thread pool) and a cleanup that
//! closes it once the request is done. The handlers are plain `fn`s too, as the tutorials'
//! `def`s: their queries block, and Portico runs them off the event loop. rusqlite commits each
//! statement on its own, which is what each `session.commit()` here does.

use std::path::PathBuf;
use std::sync::Mutex;

use portico::testing::{TestClient, TestResponse};
use portico::{App, HttpError, Lifespan, Outcome, Provider, State};
use rusqlite::Connection;
use serde_json::Value;

mod tutorial001;
mod tutorial002;

/// FastAPI's `engine`: where the database is.
#[derive(Clone)]
struct Engine(PathBuf);

/// `SQLModel.metadata.create_all(engine)`: the `hero` table and the indexes of its fields
/// declared with `index=True`.
fn create_db_and_tables(engine: &Engine) -> rusqlite::Result<()> {
    Connection::open(&engine.0)?.execute_batch(
        "CREATE TABLE IF NOT EXISTS hero (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             age INTEGER,
             secret_name TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS ix_hero_name ON hero (name);
         CREATE INDEX IF NOT EXISTS ix_hero_age ON hero (age);",
    )
}

/// FastAPI's `Session`: the request's connection, until the cleanup closes it.
struct Session(Mutex<Option<Connection>>);

impl Session {
    /// Runs queries on the connection; a database error answers 500.
    fn run<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R, HttpError> {
        let conn = self.0.lock().unwrap();
        let conn = conn.as_ref().ok_or_else(database_error)?;
        f(conn).map_err(|err| {
            tracing::error!("database error: {err}");
            database_error()
        })
    }
}

fn database_error() -> HttpError {
    HttpError::new(portico::http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// `get_session`, up to its `yield`: a connection of its own for the request.
fn get_session(State(engine): State<Engine>) -> Result<Session, HttpError> {
    let conn = Connection::open(&engine.0).map_err(|err| {
        tracing::error!("cannot open the database: {err}");
        database_error()
    })?;
    Ok(Session(Mutex::new(Some(conn))))
}

/// `get_session` after its `yield`: the end of the `with Session(engine)` block.
fn close_session(session: &Session, _: Outcome) -> rusqlite::Result<()> {
    match session.0.lock().unwrap().take() {
        Some(conn) => conn.close().map_err(|(_, err)| err),
        None => Ok(()),
    }
}

/// What both apps start with: the engine as state, the tables created at startup (the
/// tutorials' `on_startup`), and the session dependency.
fn database_app(engine: Engine) -> App {
    App::new()
        .state(engine.clone())
        .lifespan(move |life: Lifespan| async move {
            portico::tasks::to_thread(move || create_db_and_tables(&engine)).await?;
            life.serve().await;
            Ok::<(), rusqlite::Error>(())
        })
        .provide(Provider::new(get_session).cleanup(close_session))
}

/// A database file of the test's own, removed with the directory on drop, and a client of the
/// app built on it, started as `with TestClient(app)` starts it.
struct Database {
    _dir: tempfile::TempDir,
    client: TestClient,
}

impl Database {
    async fn new(app: fn(Engine) -> App) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine(dir.path().join("database.db"));
        let client = TestClient::new(app(engine));
        client.startup().await.unwrap();
        Database { _dir: dir, client }
    }
}

/// `response.json()`, with each integer `"id"` written `"IsInt()"`: dirty-equals' `IsInt()`,
/// which FastAPI's expected values use for the ids the database gives.
fn with_int_ids(response: &TestResponse) -> Value {
    fn mark(value: &mut Value) {
        match value {
            Value::Object(fields) if fields.get("id").is_some_and(Value::is_i64) => {
                fields.insert("id".to_owned(), Value::from("IsInt()"));
            }
            Value::Array(items) => items.iter_mut().for_each(mark),
            _ => {}
        }
    }
    let mut value = response.json::<Value>();
    mark(&mut value);
    value
}
