//! Where the items are kept: an SQLite file (the default) or PostgreSQL through a pool of
//! connections (so that several instances of the app can share one database). The handlers see
//! neither: they ask the request's [`Db`] to run their queries on a [`Store`], which both
//! databases implement.
//!
//! Both drivers block, so every query runs in a plain `fn` (a handler, a dependency, a
//! background task), on the thread pool, never on the event loop.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use portico::prelude::*;
use portico::{CleanupScope, Outcome};

use super::Todo;

#[path = "pg.rs"]
pub(crate) mod pg;
#[path = "sqlite.rs"]
pub(crate) mod sqlite;

/// The queries of the to-do API, as each database answers them.
pub(crate) trait Store {
    /// Runs SQL that takes no parameter and returns no row (`BEGIN`, `COMMIT`, `ROLLBACK`).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// The items, oldest first, only those `done` (or not) if given, `limit` at most.
    fn list(&mut self, done: Option<bool>, limit: u32) -> Result<Vec<Todo>, StoreError>;
    /// Adds an item not done; returns its id.
    fn insert(&mut self, title: &str) -> Result<i64, StoreError>;
    /// The item `id`, if there is one.
    fn find(&mut self, id: i64) -> Result<Option<Todo>, StoreError>;
    /// Sets the item's title and state where given, in one write; `false` if there is no
    /// item `id`.
    fn update(
        &mut self,
        id: i64,
        title: Option<&str>,
        done: Option<bool>,
    ) -> Result<bool, StoreError>;
    /// Deletes the item `id`; `false` if there was none.
    fn delete(&mut self, id: i64) -> Result<bool, StoreError>;
    /// Adds a line to the activity log.
    fn log(&mut self, line: &str) -> Result<(), StoreError>;
    /// The last `limit` lines of the activity log, newest first.
    fn activity(&mut self, limit: u32) -> Result<Vec<String>, StoreError>;
}

/// A failure of the database.
#[derive(Debug)]
pub(crate) enum StoreError {
    /// From SQLite.
    Sqlite(rusqlite::Error),
    /// From PostgreSQL.
    Postgres(r2d2_postgres::postgres::Error),
    /// No connection could be had from the pool in time.
    Pool(r2d2_postgres::r2d2::Error),
    /// The pool was closed: the application is shutting down.
    Closed,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(err) => write!(f, "SQLite: {err}"),
            StoreError::Postgres(err) => {
                // The driver's message is its kind ("db error"); the details are its sources.
                write!(f, "PostgreSQL: {err}")?;
                let mut source = std::error::Error::source(err);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            StoreError::Pool(err) => write!(f, "connection pool: {err}"),
            StoreError::Closed => f.write_str("the connection pool is closed"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Sqlite(err)
    }
}

impl From<r2d2_postgres::postgres::Error> for StoreError {
    fn from(err: r2d2_postgres::postgres::Error) -> Self {
        StoreError::Postgres(err)
    }
}

impl From<r2d2_postgres::r2d2::Error> for StoreError {
    fn from(err: r2d2_postgres::r2d2::Error) -> Self {
        StoreError::Pool(err)
    }
}

/// Which database to open: what `--db PATH` and `--database-url URL` say.
#[derive(Clone, Debug)]
pub(crate) enum Location {
    /// An SQLite file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its URL (`postgres://user:password@host:port/name`).
    Postgres(String),
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::Sqlite(path)
    }
}

impl Location {
    /// Reads a `--database-url`: `postgres://...` or `postgresql://...`, checked here so that
    /// a mistyped URL is refused before the server starts.
    pub(crate) fn from_url(url: &str) -> Result<Location, String> {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(format!(
                "--database-url takes a postgres:// URL, not {url:?} (an SQLite file is --db PATH)"
            ));
        }
        pg::config(url).map_err(|err| format!("--database-url: {err}"))?;
        Ok(Location::Postgres(url.to_owned()))
    }

    /// Where the data is, for the logs (without a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => format!("SQLite at {}", path.display()),
            Location::Postgres(url) => match pg::config(url) {
                Ok(config) => format!("PostgreSQL at {}", pg::describe(&config)),
                Err(_) => "PostgreSQL".to_owned(),
            },
        }
    }
}

/// The database the application shares between requests: the SQLite file's path, or the
/// PostgreSQL pool.
#[derive(Clone, Debug)]
pub(crate) enum Database {
    /// Each request opens the file (SQLite connections are cheap, and serialise their writes).
    Sqlite(PathBuf),
    /// Each request borrows one of the pool's connections.
    Postgres(Arc<pg::Pool>),
}

impl Database {
    /// Opens the database and creates the tables if they are missing. It blocks (for
    /// PostgreSQL, until the pool has opened its connections): call it on a thread.
    pub(crate) fn open(location: &Location) -> Result<Database, StoreError> {
        match location {
            Location::Sqlite(path) => {
                sqlite::create_schema(&sqlite::open(path)?)?;
                Ok(Database::Sqlite(path.clone()))
            }
            Location::Postgres(url) => Ok(Database::Postgres(Arc::new(pg::Pool::open(url)?))),
        }
    }

    /// A connection of its own, outside any request (for a background task). It blocks.
    pub(crate) fn connect(&self) -> Result<Conn, StoreError> {
        match self {
            Database::Sqlite(path) => Ok(Conn::Sqlite(Arc::new(Mutex::new(sqlite::open(path)?)))),
            Database::Postgres(pool) => Ok(Conn::Postgres(Box::new(pool.get()?))),
        }
    }

    /// Closes the pool's connections (nothing to do for SQLite). It blocks: the lifespan calls
    /// it on a thread once the last request is done.
    pub(crate) fn close(&self) {
        if let Database::Postgres(pool) = self {
            pool.close();
        }
    }

    /// Where the data is, for the logs (without a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("SQLite at {}", path.display()),
            Database::Postgres(pool) => format!("PostgreSQL at {}", pool.describe()),
        }
    }
}

/// One connection: SQLite's (shared with a test that overrides the dependency) or one
/// borrowed from the PostgreSQL pool, given back when dropped.
pub(crate) enum Conn {
    /// An SQLite connection.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A PostgreSQL connection of the pool (boxed: the driver's client is some 400 bytes).
    Postgres(Box<pg::Pooled>),
}

impl Conn {
    /// Runs `f` on the connection.
    pub(crate) fn run<R>(&mut self, f: impl FnOnce(&mut dyn Store) -> R) -> R {
        match self {
            Conn::Sqlite(conn) => f(&mut *lock(conn)),
            Conn::Postgres(conn) => f(&mut ***conn),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The request's connection, inside a transaction that a handler commits with
/// [`commit`](Db::commit) before it answers; what is not committed when the request is done is
/// rolled back. (A plain `fn` dependency: it runs on the thread pool.)
pub(crate) struct Db {
    state: Mutex<DbState>,
}

struct DbState {
    /// `None` once given back.
    conn: Option<Conn>,
    /// A transaction is open.
    open: bool,
}

impl Db {
    /// A connection shared with the caller, without a transaction (for tests).
    #[allow(dead_code, reason = "the tests override the database with it")]
    pub(crate) fn shared(conn: Arc<Mutex<rusqlite::Connection>>) -> Self {
        Db {
            state: Mutex::new(DbState {
                conn: Some(Conn::Sqlite(conn)),
                open: false,
            }),
        }
    }

    /// A connection of `database`, with a transaction begun.
    fn begin(database: &Database) -> Result<Db, StoreError> {
        let mut conn = database.connect()?;
        conn.run(|store| store.batch("BEGIN"))?;
        Ok(Db {
            state: Mutex::new(DbState {
                conn: Some(conn),
                open: true,
            }),
        })
    }

    /// Runs queries on the request's connection; a database error answers 500 (and is
    /// logged).
    pub(crate) fn run<R>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<R, StoreError>,
    ) -> Result<R, HttpError> {
        let mut state = lock(&self.state);
        let conn = state.conn.as_mut().ok_or(StoreError::Closed);
        conn.and_then(|conn| conn.run(f)).map_err(db_error)
    }

    /// Commits what the request wrote. A handler that writes calls it before it answers, so
    /// that its `2xx` means the write is kept: a commit that fails answers 500 instead.
    pub(crate) fn commit(&self) -> Result<(), HttpError> {
        let mut state = lock(&self.state);
        if !state.open {
            return Ok(());
        }
        state.open = false;
        let conn = state.conn.as_mut().ok_or(StoreError::Closed);
        conn.and_then(|conn| conn.run(|store| store.batch("COMMIT")))
            .map_err(db_error)
    }

    /// Rolls back what was not committed and gives the connection back.
    fn close(&self) -> Result<(), StoreError> {
        let mut state = lock(&self.state);
        let open = std::mem::take(&mut state.open);
        let Some(mut conn) = state.conn.take() else {
            return Ok(());
        };
        if open {
            conn.run(|store| store.batch("ROLLBACK"))?;
        }
        Ok(())
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // The cleanup gives the connection back, on a thread of the cleanup pool. Had it not
        // run, a PostgreSQL connection goes on a thread of its own: a broken one is closed as
        // it is dropped, and the driver's client blocks as it closes, which an event loop's
        // thread must not do.
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(conn @ Conn::Postgres(_)) = state.conn.take() {
            std::thread::spawn(move || drop(conn));
        }
    }
}

/// An error of the database, answered 500 (and logged).
fn db_error(err: StoreError) -> HttpError {
    tracing::error!("database error: {err}");
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR).detail("Database error")
}

fn open_db(State(database): State<Database>) -> Result<Db, HttpError> {
    Db::begin(&database).map_err(db_error)
}

/// Rolls back what the handler did not commit, and gives the connection back.
fn close_db(db: &Db, _: Outcome) -> Result<(), StoreError> {
    db.close()
}

/// How many requests hold a connection at once, at most. With PostgreSQL the pool has a few
/// more (see [`pg::POOL_SIZE`]), for the background tasks: so a request waits for its
/// connection in this provider's limiter, which holds no thread, and not in the pool, which
/// would hold one of the thread pool's 40 while it waits. 16 was chosen, not tuned.
pub(crate) const MAX_REQUESTS: usize = 16;

/// The provider of [`Db`], with its cleanup; at most [`MAX_REQUESTS`] connections at once.
///
/// The cleanup runs right after the handler returns, before the response is sent
/// (`CleanupScope::Function`): the connection is free for the next request, and a rolled-back
/// transaction holds no lock while the response goes out.
pub(crate) fn db_provider() -> Provider<Db> {
    Provider::new(open_db)
        .cleanup(close_db)
        .scope(CleanupScope::Function)
        .max_concurrency(MAX_REQUESTS)
}
