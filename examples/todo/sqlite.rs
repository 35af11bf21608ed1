//! The queries on SQLite (rusqlite, with SQLite compiled in).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError, Todo};

/// Opens the file, creating it if missing.
pub(crate) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // Concurrent requests wait for each other's writes instead of failing at once.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
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

fn row_to_todo(row: &rusqlite::Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo {
        id: row.get(0)?,
        title: row.get(1)?,
        done: row.get(2)?,
    })
}

impl Store for Connection {
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.execute_batch(sql)?)
    }

    fn list(&mut self, done: Option<bool>, limit: u32) -> Result<Vec<Todo>, StoreError> {
        let mut statement = self.prepare(
            "SELECT id, title, done FROM todos WHERE (?1 IS NULL OR done = ?1) ORDER BY id LIMIT ?2",
        )?;
        let todos = statement
            .query_map(params![done, limit], row_to_todo)
            .and_then(Iterator::collect)?;
        Ok(todos)
    }

    fn insert(&mut self, title: &str) -> Result<i64, StoreError> {
        self.execute("INSERT INTO todos (title) VALUES (?1)", params![title])?;
        Ok(self.last_insert_rowid())
    }

    fn find(&mut self, id: i64) -> Result<Option<Todo>, StoreError> {
        let todo = self
            .query_row(
                "SELECT id, title, done FROM todos WHERE id = ?1",
                params![id],
                row_to_todo,
            )
            .optional()?;
        Ok(todo)
    }

    fn update(
        &mut self,
        id: i64,
        title: Option<&str>,
        done: Option<bool>,
    ) -> Result<bool, StoreError> {
        let changed = self.execute(
            "UPDATE todos SET title = COALESCE(?1, title), done = COALESCE(?2, done) WHERE id = ?3",
            params![title, done, id],
        )?;
        Ok(changed > 0)
    }

    fn delete(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self.execute("DELETE FROM todos WHERE id = ?1", params![id])? > 0)
    }

    fn log(&mut self, line: &str) -> Result<(), StoreError> {
        self.execute("INSERT INTO activity (line) VALUES (?1)", params![line])?;
        Ok(())
    }

    fn activity(&mut self, limit: u32) -> Result<Vec<String>, StoreError> {
        let mut statement = self.prepare("SELECT line FROM activity ORDER BY id DESC LIMIT ?1")?;
        let lines = statement
            .query_map(params![limit], |row| row.get(0))
            .and_then(Iterator::collect)?;
        Ok(lines)
    }
}
