//! The to-do API: routes, dependencies and the lifespan. `main.rs` serves it; the tests build
//! it with a database of their own.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use portico::middleware::{Compression, Cors, SetRequestId};
use portico::prelude::*;
use portico::{BackgroundTasks, CleanupScope, Outcome};
use rusqlite::{Connection, OptionalExtension, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the database lives, shared by the lifespan once the schema exists.
#[derive(Clone, Debug)]
pub(crate) struct Database {
    path: PathBuf,
}

impl Database {
    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        // Concurrent requests wait for each other's writes instead of failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }
}

/// Creates the tables if they are missing.
pub(crate) fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS todos (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             title TEXT NOT NULL,
             done INTEGER NOT NULL DEFAULT 0
         );
         CREATE TABLE IF NOT EXISTS activity (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             line TEXT NOT NULL
         );",
    )
}

/// The request's connection, inside a transaction: committed when the handler succeeds,
/// rolled back when it fails. (A plain `fn` dependency: it runs on the thread pool.)
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
    transaction: bool,
}

impl Db {
    /// A connection shared with the caller, without a transaction (for tests).
    #[allow(dead_code, reason = "the tests override the database with it")]
    pub(crate) fn shared(conn: Arc<Mutex<Connection>>) -> Self {
        Db {
            conn,
            transaction: false,
        }
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An error of the database, answered 500 (and logged).
fn db_error(err: rusqlite::Error) -> HttpError {
    tracing::error!("database error: {err}");
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR).detail("Database error")
}

fn open_db(State(db): State<Database>) -> Result<Db, HttpError> {
    let conn = db.open().map_err(db_error)?;
    conn.execute_batch("BEGIN").map_err(db_error)?;
    Ok(Db {
        conn: Arc::new(Mutex::new(conn)),
        transaction: true,
    })
}

/// Commits or rolls back, once the response has been sent.
fn close_db(db: &Db, outcome: Outcome) -> Result<(), rusqlite::Error> {
    if !db.transaction {
        return Ok(());
    }
    let end = if outcome.is_success() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    db.conn().execute_batch(end)
}

/// The provider of [`Db`], with its cleanup; at most 16 connections at once.
///
/// The transaction ends right after the handler returns, before the response is sent
/// (`CleanupScope::Function`): a client that gets `201 Created` knows the row is committed, and the
/// background tasks, which run after the response, see it and are not locked out by it.
pub(crate) fn db_provider() -> Provider<Db> {
    Provider::new(open_db)
        .cleanup(close_db)
        .scope(CleanupScope::Function)
        .max_concurrency(16)
}

/// A to-do item.
#[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub(crate) struct Todo {
    pub(crate) id: i64,
    pub(crate) title: String,
    pub(crate) done: bool,
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct NewTodo {
    #[schemars(length(min = 1, max = 200))]
    title: String,
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct TodoUpdate {
    #[schemars(length(min = 1, max = 200))]
    title: Option<String>,
    done: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct Filter {
    /// Only the items done (or not done).
    done: Option<bool>,
    /// How many at most.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

fn row_to_todo(row: &rusqlite::Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo {
        id: row.get(0)?,
        title: row.get(1)?,
        done: row.get(2)?,
    })
}

/// The body of an error, as `HttpError` writes it: documented on the routes that answer 404.
#[derive(Serialize, JsonSchema)]
struct Message {
    detail: String,
}

fn not_found(id: i64) -> HttpError {
    HttpError::not_found().detail(format!("No to-do with id {id}"))
}

/// Lists the items, oldest first.
#[portico::handler]
fn list_todos(
    Depends(db): Depends<Db>,
    Query(filter): Query<Filter>,
) -> Result<Json<Vec<Todo>>, HttpError> {
    let conn = db.conn();
    let mut statement = conn
        .prepare(
            "SELECT id, title, done FROM todos WHERE (?1 IS NULL OR done = ?1) ORDER BY id LIMIT ?2",
        )
        .map_err(db_error)?;
    let todos = statement
        .query_map(params![filter.done, filter.limit], row_to_todo)
        .and_then(Iterator::collect)
        .map_err(db_error)?;
    Ok(Json(todos))
}

/// Creates an item; the activity log is written after the response, by a background task.
#[portico::handler]
fn create_todo(
    Depends(db): Depends<Db>,
    State(database): State<Database>,
    tasks: BackgroundTasks,
    Json(new): Json<NewTodo>,
) -> Result<(StatusCode, Json<Todo>), HttpError> {
    let id = {
        let conn = db.conn();
        conn.execute("INSERT INTO todos (title) VALUES (?1)", params![new.title])
            .map_err(db_error)?;
        conn.last_insert_rowid()
    };
    // A background task opens its own connection: the request's may be closed by then.
    tasks.add(move || -> rusqlite::Result<()> {
        let conn = database.open()?;
        conn.execute(
            "INSERT INTO activity (line) VALUES (?1)",
            params![format!("created {id}")],
        )?;
        Ok(())
    });
    Ok((
        StatusCode::CREATED,
        Json(Todo {
            id,
            title: new.title,
            done: false,
        }),
    ))
}

fn find(db: &Db, id: i64) -> Result<Todo, HttpError> {
    db.conn()
        .query_row(
            "SELECT id, title, done FROM todos WHERE id = ?1",
            params![id],
            row_to_todo,
        )
        .optional()
        .map_err(db_error)?
        .ok_or_else(|| not_found(id))
}

/// Reads one item.
#[portico::handler]
fn read_todo(Depends(db): Depends<Db>, Path(id): Path<i64>) -> Result<Json<Todo>, HttpError> {
    find(&db, id).map(Json)
}

/// Changes an item's title or state.
#[portico::handler]
fn update_todo(
    Depends(db): Depends<Db>,
    Path(id): Path<i64>,
    Json(update): Json<TodoUpdate>,
) -> Result<Json<Todo>, HttpError> {
    let mut todo = find(&db, id)?;
    if let Some(title) = update.title {
        todo.title = title;
    }
    if let Some(done) = update.done {
        todo.done = done;
    }
    db.conn()
        .execute(
            "UPDATE todos SET title = ?1, done = ?2 WHERE id = ?3",
            params![todo.title, todo.done, id],
        )
        .map_err(db_error)?;
    Ok(Json(todo))
}

/// Deletes an item.
#[portico::handler]
fn delete_todo(Depends(db): Depends<Db>, Path(id): Path<i64>) -> Result<StatusCode, HttpError> {
    let deleted = db
        .conn()
        .execute("DELETE FROM todos WHERE id = ?1", params![id])
        .map_err(db_error)?;
    if deleted == 0 {
        return Err(not_found(id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The activity log, newest first.
#[portico::handler]
fn activity(Depends(db): Depends<Db>) -> Result<Json<Vec<String>>, HttpError> {
    let conn = db.conn();
    let mut statement = conn
        .prepare("SELECT line FROM activity ORDER BY id DESC LIMIT 100")
        .map_err(db_error)?;
    let lines = statement
        .query_map([], |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(db_error)?;
    Ok(Json(lines))
}

/// The application, on the SQLite file at `path` (created with its schema at startup).
pub(crate) fn app(path: impl Into<PathBuf>) -> App {
    let path = path.into();
    let not_found =
        |route: Route| route.response_json::<Message>(StatusCode::NOT_FOUND, "No such to-do");
    let todos = Router::new()
        .prefix("/todos")
        .tag("todos")
        .get("", list_todos)
        .route(Route::post("", create_todo).status_code(StatusCode::CREATED))
        .route(not_found(Route::get("/{id}", read_todo)))
        .route(not_found(Route::patch("/{id}", update_todo)))
        .route(not_found(
            Route::delete("/{id}", delete_todo).status_code(StatusCode::NO_CONTENT),
        ));
    App::new()
        .title("To-do API")
        .version("1.0.0")
        .description(
            "To-do items kept in SQLite, with an activity log written after each creation.",
        )
        .tag_description("todos", "The to-do items")
        .lifespan(move |life: Lifespan| async move {
            let database = Database { path };
            let schema = database.clone();
            portico::tasks::to_thread(move || create_schema(&schema.open()?)).await?;
            tracing::info!("database ready at {}", database.path.display());
            life.state(database);
            life.serve().await;
            Ok::<(), rusqlite::Error>(())
        })
        .provide(db_provider())
        .include(todos)
        .get("/activity", activity)
        // A front end on another origin (a dev server on port 3000) may call the API.
        .add_middleware(
            Cors::new()
                .allow_origins(["http://localhost:3000", "http://127.0.0.1:3000"])
                .allow_methods(["*"])
                .allow_headers(["*"]),
        )
        .add_middleware(Compression::new())
        .add_middleware(SetRequestId::new())
}
