//! The to-do API: routes, dependencies and the lifespan. `main.rs` serves it; the tests build
//! it with a database of their own. `store.rs` holds the databases: SQLite or PostgreSQL, the
//! same handlers on either.

use portico::BackgroundTasks;
use portico::middleware::{Compression, Cors, SetRequestId};
use portico::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[path = "store.rs"]
mod store;

#[allow(
    unused_imports,
    reason = "the tests make a database of their own with it"
)]
pub(crate) use store::sqlite::create_schema;
pub(crate) use store::{Database, Db, Location, StoreError, db_provider};

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
    db.run(|store| store.list(filter.done, filter.limit))
        .map(Json)
}

/// Creates an item; the activity log is written after the response, by a background task.
#[portico::handler]
fn create_todo(
    Depends(db): Depends<Db>,
    State(database): State<Database>,
    tasks: BackgroundTasks,
    Json(new): Json<NewTodo>,
) -> Result<(StatusCode, Json<Todo>), HttpError> {
    let id = db.run(|store| store.insert(&new.title))?;
    db.commit()?;
    // A background task takes a connection of its own: the request's is given back by then.
    tasks.add(move || {
        database
            .connect()?
            .run(|store| store.log(&format!("created {id}")))
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
    db.run(|store| store.find(id))?.ok_or_else(|| not_found(id))
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
    // Written first, read after: a transaction that read before writing would have its write
    // refused at once by SQLite whenever another request is writing (waiting could deadlock).
    if !db.run(|store| store.update(id, update.title.as_deref(), update.done))? {
        return Err(not_found(id));
    }
    let todo = find(&db, id)?;
    db.commit()?;
    Ok(Json(todo))
}

/// Deletes an item.
#[portico::handler]
fn delete_todo(Depends(db): Depends<Db>, Path(id): Path<i64>) -> Result<StatusCode, HttpError> {
    if !db.run(|store| store.delete(id))? {
        return Err(not_found(id));
    }
    db.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// The activity log, newest first.
#[portico::handler]
fn activity(Depends(db): Depends<Db>) -> Result<Json<Vec<String>>, HttpError> {
    db.run(|store| store.activity(100)).map(Json)
}

/// The application, on the database at `location`: an SQLite file (a `PathBuf`) or a
/// PostgreSQL URL, opened (and its tables created) at startup.
pub(crate) fn app(location: impl Into<Location>) -> App {
    let location = location.into();
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
            "To-do items kept in SQLite or PostgreSQL, with an activity log written after each \
             creation.",
        )
        .tag_description("todos", "The to-do items")
        .lifespan(move |life: Lifespan| async move {
            let database = portico::tasks::to_thread(move || Database::open(&location)).await?;
            tracing::info!("database ready: {}", database.describe());
            life.state(database.clone());
            life.serve().await;
            // After the last request and its background tasks: the pool's connections are
            // closed on a thread, since closing one blocks.
            portico::tasks::to_thread(move || database.close()).await;
            Ok::<(), StoreError>(())
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
