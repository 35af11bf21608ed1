//! Typed settings from the environment and `.env` files: FastAPI's "Settings and Environment
//! Variables", with pydantic-settings' rules, into any struct that derives `Deserialize`.
//!
//! ```
//! use portico_http::settings;
//! use serde::Deserialize;
//!
//! #[derive(Debug, Deserialize)]
//! struct Settings {
//!     #[serde(default = "app_name")]
//!     app_name: String,
//!     admin_email: String,
//!     #[serde(default = "items_per_user")]
//!     items_per_user: u32,
//! }
//!
//! fn app_name() -> String {
//!     "Awesome API".into()
//! }
//!
//! fn items_per_user() -> u32 {
//!     50
//! }
//!
//! // In `main`: `let settings: Settings = settings::from_env()?;` reads the environment.
//! // Here, the variables are given (as a test would, without touching the environment):
//! let settings: Settings = settings::from_vars([("ADMIN_EMAIL", "admin@example.com")])?;
//! assert_eq!(settings.app_name, "Awesome API");
//! assert_eq!(settings.items_per_user, 50);
//!
//! // Every missing or invalid variable, in one error.
//! let err = settings::from_vars::<Settings, _, _, _>([("ITEMS_PER_USER", "ten")]).unwrap_err();
//! assert_eq!(err.problems().len(), 2);
//! assert!(err.to_string().starts_with("2 settings are wrong: ADMIN_EMAIL is missing; ITEMS_PER_USER = \"ten\""));
//! # Ok::<(), settings::SettingsError>(())
//! ```
//!
//! # Names
//!
//! A field is read from the variable of its serde name (after `rename`), with the
//! [prefix](Loader::prefix) before it, in any case: `admin_email` reads `ADMIN_EMAIL` (or
//! `admin_email`), and with the prefix `APP_`, `APP_ADMIN_EMAIL`. Messages spell names in
//! upper case.
//!
//! # Where values come from
//!
//! From the highest priority down:
//!
//! 1. values given in code with [`Loader::var`] (pydantic's arguments to `Settings(...)`);
//! 2. the process environment (left out with [`Loader::environment(false)`](Loader::environment));
//! 3. [env files](Loader::env_file), a later file over an earlier one: the real environment
//!    wins over a `.env` file, as in pydantic-settings. A file that does not exist is skipped;
//! 4. the field's serde default (`#[serde(default)]`), or `None` for an `Option`.
//!
//! Reading a `.env` file never changes the process environment: its variables go into the map
//! the settings are read from, and nowhere else.
//!
//! # Values
//!
//! | field type | text accepted |
//! | --- | --- |
//! | `String`, `PathBuf`, `IpAddr`, `SocketAddr`, anything serde reads from a string | as it is |
//! | integers, floats | the number, spaces around it ignored |
//! | `bool` | `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, `t`/`f`, `y`/`n`, in any case |
//! | `Option<T>` | as `T`; an empty value is `None` |
//! | `Vec<T>`, sets, tuples | `a,b,c` (each item trimmed and read as `T`), or a JSON array |
//! | a unit enum | the variant's name, exactly or in another case |
//! | maps, structs, enums with data | JSON (`{"host": "db", "port": 5432}`) |
//! | `std::time::Duration` | `30s`, `250ms`, `1h30m`, `2 min`, or a number of seconds |
//!
//! A nested struct can also be read from variables of its own with a
//! [delimiter](Loader::nested_delimiter): with `__`, `database: Database` reads
//! `DATABASE__HOST` and `DATABASE__PORT`.
//!
//! # Errors
//!
//! [`SettingsError`] lists every missing and invalid variable and every unreadable env file at
//! once, so that one start-up shows everything to fix:
//!
//! ```text
//! 2 settings are wrong: ADMIN_EMAIL is missing; ITEMS_PER_USER = "ten" is not a valid u32 (a whole number from 0 to 4294967295)
//! ```
//!
//! # As a dependency
//!
//! Load the settings once, when the application is built, and hand them to path operations as
//! [`Depends<Settings>`](crate::Depends) with [`provider`]; a test swaps them as FastAPI's
//! `app.dependency_overrides[get_settings]` does, with
//! [`override_dependency`](crate::AppService::override_dependency):
//!
//! ```
//! use portico_http::{App, Depends, settings};
//! use serde::Deserialize;
//!
//! #[derive(Clone, Deserialize)]
//! struct Settings {
//!     admin_email: String,
//! }
//!
//! async fn admin(Depends(settings): Depends<Settings>) -> String {
//!     settings.admin_email.clone()
//! }
//!
//! fn app(settings: Settings) -> App {
//!     App::new().provide(settings::provider(settings)).get("/admin", admin)
//! }
//!
//! // main: `let app = app(settings::from_env()?);`, and serve it.
//! let loaded: Settings = settings::from_vars([("ADMIN_EMAIL", "admin@example.com")]).unwrap();
//! let client = portico::testing::blocking_client(app(loaded));
//! assert_eq!(client.get("/admin").send().text(), "admin@example.com");
//!
//! // In a test: other settings for every route.
//! let testing: Settings = settings::from_vars([("ADMIN_EMAIL", "testing@example.com")]).unwrap();
//! client.service().override_dependency(settings::provider(testing));
//! assert_eq!(client.get("/admin").send().text(), "testing@example.com");
//! ```
//!
//! [`State<Settings>`](crate::State) with [`App::state`](crate::App::state) works too, for
//! settings no test needs to replace.
//!
//! # What it does not do
//!
//! Secrets directories, JSON or TOML settings files, and `#[serde(flatten)]` (a flattened
//! struct's fields would all be read as strings) are left out.

mod de;
mod dummy;
mod error;
mod source;
#[cfg(test)]
mod tests;
mod text;

use std::convert::Infallible;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

pub use error::{Problem, SettingsError};
use source::Vars;

use crate::Provider;

/// Reads settings of type `T` from the process environment, every problem reported at once.
///
/// # Errors
///
/// Every missing and invalid variable (see [`SettingsError`]).
///
/// # Examples
///
/// ```no_run
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Settings {
///     database_url: String,
///     #[serde(default)]
///     debug: bool,
/// }
///
/// fn main() {
///     let settings: Settings = portico_http::settings::from_env().unwrap_or_else(|err| {
///         eprintln!("{err:#}");
///         std::process::exit(2);
///     });
///     # drop(settings);
/// }
/// ```
pub fn from_env<T: DeserializeOwned>() -> Result<T, SettingsError> {
    Loader::new().load()
}

/// Reads settings of type `T` from the given variables alone, as pydantic's
/// `Settings(admin_email=...)`: for tests, with no environment and no file, and the defaults
/// of every field not given.
///
/// # Errors
///
/// As [`from_env`].
pub fn from_vars<T, I, K, V>(vars: I) -> Result<T, SettingsError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    Loader::new().environment(false).vars(vars).load()
}

/// A provider that hands every request a clone of `settings`, for
/// [`App::provide`](crate::App::provide) and
/// [`override_dependency`](crate::AppService::override_dependency); path operations take it as
/// [`Depends<T>`](crate::Depends). It runs on the event loop and never fails.
///
/// The clone is made per request that asks for it: settings with large values can hold them
/// in an `Arc`.
pub fn provider<T: Clone + Send + Sync + 'static>(settings: T) -> Provider<T> {
    Provider::new(move || std::future::ready(Ok::<T, Infallible>(settings.clone())))
}

/// How settings are loaded: the prefix of their variables, env files, a delimiter for nested
/// structs, and values given in code.
///
/// # Examples
///
/// ```
/// use portico_http::settings::Loader;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Database {
///     host: String,
///     port: u16,
/// }
///
/// #[derive(Deserialize)]
/// struct Settings {
///     database: Database,
///     workers: Option<usize>,
/// }
///
/// let settings: Settings = Loader::new()
///     .prefix("APP_")
///     .env_file(".env") // skipped if there is none
///     .nested_delimiter("__")
///     .environment(false) // a test's choice; the real environment is read by default
///     .var("APP_DATABASE__HOST", "db.internal")
///     .var("APP_DATABASE__PORT", "5432")
///     .load()?;
/// assert_eq!(settings.database.port, 5432);
/// assert_eq!(settings.workers, None);
/// # Ok::<(), portico_http::settings::SettingsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Loader {
    prefix: String,
    env_files: Vec<PathBuf>,
    delimiter: Option<String>,
    environment: bool,
    vars: Vec<(String, String)>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

impl Loader {
    /// Reads the process environment, with no prefix, no env file and no delimiter.
    pub fn new() -> Self {
        Loader {
            prefix: String::new(),
            env_files: Vec::new(),
            delimiter: None,
            environment: true,
            vars: Vec::new(),
        }
    }

    /// What every variable's name starts with (`APP_`: the field `admin_email` reads
    /// `APP_ADMIN_EMAIL`), in any case; pydantic-settings' `env_prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Reads variables from an env file too (dotenvy's syntax: `NAME=value`, quotes, comments,
    /// `export`, `${OTHER}`), under the environment's: the real environment wins. A later file
    /// wins over an earlier one. A file that does not exist is skipped; one that cannot be read
    /// or parsed is a [`Problem::EnvFile`]. A relative path is from the current directory.
    pub fn env_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.env_files.push(path.into());
        self
    }

    /// Reads a nested struct from variables of its own, named by its field, `delimiter`, and
    /// the nested field: with `__`, the field `database` reads `DATABASE__HOST` for its `host`
    /// (pydantic-settings' `env_nested_delimiter`). Without one, or when a variable of the
    /// field's own name is set, a nested struct is read from JSON.
    pub fn nested_delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Whether the process environment is read (it is by default). Tests that want settings
    /// of their own turn it off rather than change the environment, which other tests running
    /// at the same time would see.
    pub fn environment(mut self, read: bool) -> Self {
        self.environment = read;
        self
    }

    /// Sets a variable, over the environment and the env files (the name includes the
    /// prefix).
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// Sets variables, as [`var`](Self::var).
    pub fn vars<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.vars
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Reads settings of type `T`.
    ///
    /// # Errors
    ///
    /// Every missing or invalid variable and every env file that could not be read, in one
    /// [`SettingsError`].
    pub fn load<T: DeserializeOwned>(&self) -> Result<T, SettingsError> {
        let mut problems = Vec::new();
        let mut vars = Vars::default();
        for path in &self.env_files {
            vars.layer(Vars::from_env_file(path, &mut problems));
        }
        if self.environment {
            vars.layer(Vars::from_env());
        }
        for (name, value) in &self.vars {
            vars.set(name.clone(), Ok(value.clone()));
        }
        de::read(&vars, &self.prefix, self.delimiter.as_deref(), problems)
    }
}
