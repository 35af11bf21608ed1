//! The queries on PostgreSQL, and the pool of connections: the `postgres` crate (blocking) in an
//! `r2d2` pool, since the handlers are plain `fn`s on the thread pool. (An async pool would need
//! the event loop of one runtime, and this app runs on either.)

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use r2d2_postgres::postgres::config::Host;
use r2d2_postgres::postgres::{Client, Config, NoTls, Row};
use r2d2_postgres::{PostgresConnectionManager, r2d2};

use super::{MAX_REQUESTS, Store, StoreError, Todo};

type Manager = PostgresConnectionManager<NoTls>;

/// A connection borrowed from the pool; dropping it gives it back.
pub(crate) type Pooled = r2d2::PooledConnection<Manager>;

/// The pool's connections, all opened at startup: one for each request that may hold one at
/// once, and 4 for the background tasks that log each creation (chosen, not tuned). Several
/// instances on one database need `max_connections` (100 by default) above their sum.
pub(crate) const POOL_SIZE: u32 = MAX_REQUESTS as u32 + 4;

/// How long a request waits for a connection of the pool (and the startup for the pool's
/// first connections) before it fails.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The driver's reading of a `postgres://` URL.
pub(crate) fn config(url: &str) -> Result<Config, r2d2_postgres::postgres::Error> {
    url.parse()
}

/// The pool, closed by [`close`](Pool::close) when the application stops.
#[derive(Debug)]
pub(crate) struct Pool {
    /// `None` once closed.
    pool: Mutex<Option<r2d2::Pool<Manager>>>,
    /// `user@host:port/database`, for the logs.
    name: String,
}

impl Pool {
    /// Opens the pool's connections and creates the tables if they are missing. It blocks.
    pub(crate) fn open(url: &str) -> Result<Pool, StoreError> {
        let mut config = config(url)?;
        config.connect_timeout(CONNECTION_TIMEOUT);
        let name = describe(&config);
        // One connection first, for the tables, and so that a database out of reach fails the
        // startup at once with the reason (the pool would retry until its timeout, and keep
        // only "timed out").
        create_schema(&mut config.connect(NoTls)?)?;
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .connection_timeout(CONNECTION_TIMEOUT)
            .build(PostgresConnectionManager::new(config, NoTls))?;
        Ok(Pool {
            pool: Mutex::new(Some(pool)),
            name,
        })
    }

    /// Borrows a connection, waiting for one if all are taken. It blocks.
    pub(crate) fn get(&self) -> Result<Pooled, StoreError> {
        let pool = self.lock().clone().ok_or(StoreError::Closed)?;
        Ok(pool.get()?)
    }

    /// Closes the idle connections, and the others as they come back. It blocks: the driver's
    /// client waits for the server as it closes.
    pub(crate) fn close(&self) {
        drop(self.lock().take());
    }

    pub(crate) fn describe(&self) -> &str {
        &self.name
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<r2d2::Pool<Manager>>> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Not closed by the lifespan (it failed before): closed on a thread of its own, since
        // this may be an event loop's thread.
        let pool = self.pool.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(pool) = pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

/// `user@host:port/database`: where, and as whom, without the password.
pub(crate) fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("(user)"),
        config.get_dbname().unwrap_or("(user's database)")
    )
}

/// Creates the tables if they are missing.
fn create_schema(client: &mut Client) -> Result<(), StoreError> {
    // Instances started together would race on `CREATE TABLE IF NOT EXISTS` (two can both find
    // the table missing, and the second's insert into the catalog fails): they take turns
    // under a lock held to the end of the transaction. Its key, 7401, is arbitrary.
    let mut transaction = client.transaction()?;
    transaction.batch_execute(
        "SELECT pg_advisory_xact_lock(7401);
         CREATE TABLE IF NOT EXISTS todos (
             id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             title TEXT NOT NULL,
             done BOOLEAN NOT NULL DEFAULT FALSE
         );
         CREATE TABLE IF NOT EXISTS activity (
             id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             line TEXT NOT NULL
         );",
    )?;
    transaction.commit()?;
    Ok(())
}

fn row_to_todo(row: &Row) -> Result<Todo, StoreError> {
    Ok(Todo {
        id: row.try_get(0)?,
        title: row.try_get(1)?,
        done: row.try_get(2)?,
    })
}

impl Store for Client {
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.batch_execute(sql)?)
    }

    fn list(&mut self, done: Option<bool>, limit: u32) -> Result<Vec<Todo>, StoreError> {
        let rows = self.query(
            "SELECT id, title, done FROM todos WHERE ($1::BOOLEAN IS NULL OR done = $1) ORDER BY id LIMIT $2",
            &[&done, &i64::from(limit)],
        )?;
        rows.iter().map(row_to_todo).collect()
    }

    fn insert(&mut self, title: &str) -> Result<i64, StoreError> {
        let row = self.query_one(
            "INSERT INTO todos (title) VALUES ($1) RETURNING id",
            &[&title],
        )?;
        Ok(row.try_get(0)?)
    }

    fn find(&mut self, id: i64) -> Result<Option<Todo>, StoreError> {
        let row = self.query_opt("SELECT id, title, done FROM todos WHERE id = $1", &[&id])?;
        row.as_ref().map(row_to_todo).transpose()
    }

    fn update(
        &mut self,
        id: i64,
        title: Option<&str>,
        done: Option<bool>,
    ) -> Result<bool, StoreError> {
        let changed = self.execute(
            "UPDATE todos SET title = COALESCE($1, title), done = COALESCE($2, done) WHERE id = $3",
            &[&title, &done, &id],
        )?;
        Ok(changed > 0)
    }

    fn delete(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self.execute("DELETE FROM todos WHERE id = $1", &[&id])? > 0)
    }

    fn log(&mut self, line: &str) -> Result<(), StoreError> {
        self.execute("INSERT INTO activity (line) VALUES ($1)", &[&line])?;
        Ok(())
    }

    fn activity(&mut self, limit: u32) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT line FROM activity ORDER BY id DESC LIMIT $1",
            &[&i64::from(limit)],
        )?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(StoreError::from))
            .collect()
    }
}
