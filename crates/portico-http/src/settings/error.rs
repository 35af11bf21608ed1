//! [`SettingsError`]: every problem found while loading the settings, in one error.

use std::fmt;
use std::path::PathBuf;

/// Values longer than this are cut short in messages (the whole value stays in
/// [`Problem::Invalid`]): a start-up log is no place for a pasted certificate. 60 is arbitrary.
const SHOWN_VALUE_CHARS: usize = 60;

/// Why the settings could not be loaded: every missing or invalid variable, and every env file
/// that could not be read, found in one go.
///
/// Its `Display` is written to be printed at start-up before exiting: one line,
/// `2 settings are wrong: ADMIN_EMAIL is missing; ITEMS_PER_USER = "ten" is not a valid u32`,
/// or with `{:#}` one problem per line. `Debug` prints the same lines, so that a `main`
/// returning `Result<(), SettingsError>` (or a boxed error) reads well too.
///
/// # Examples
///
/// ```
/// use portico_http::settings::{self, Problem};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize)]
/// struct Settings {
///     admin_email: String,
///     items_per_user: u32,
/// }
///
/// let err = settings::from_vars::<Settings, _, _, _>([("ITEMS_PER_USER", "ten")]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"2 settings are wrong: ADMIN_EMAIL is missing; ITEMS_PER_USER = "ten" is not a valid u32 (a whole number from 0 to 4294967295)"#
/// );
/// assert_eq!(err.problems()[0], Problem::Missing { name: "ADMIN_EMAIL".into() });
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SettingsError {
    problems: Vec<Problem>,
}

/// One thing wrong with the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A variable the settings need is not set, and its field has no default.
    Missing {
        /// The variable's name, prefix included, in upper case (`APP_ADMIN_EMAIL`).
        name: String,
    },
    /// A variable is set to a value its field's type does not accept.
    Invalid {
        /// The variable's name, as it was written in the environment or the file.
        name: String,
        /// Its value.
        value: String,
        /// Why the value does not fit, as a phrase that follows the value ("is not a valid
        /// u32 (...)").
        reason: String,
    },
    /// An env file exists but could not be read or parsed.
    EnvFile {
        /// The file, as it was given.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Something else: a check of the whole settings type failed, or the type is not one
    /// settings can be read into (a struct or a map).
    Other {
        /// What went wrong.
        message: String,
    },
}

impl SettingsError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        SettingsError { problems }
    }

    /// Every problem found, env files first, then the variables in the order of the settings
    /// type's fields.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl Problem {
    /// The variable at fault, if the problem is about one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Problem::Missing { name } | Problem::Invalid { name, .. } => Some(name),
            Problem::EnvFile { .. } | Problem::Other { .. } => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { name } => write!(f, "{name} is missing"),
            Problem::Invalid {
                name,
                value,
                reason,
            } => {
                if value.chars().count() > SHOWN_VALUE_CHARS {
                    let shown: String = value.chars().take(SHOWN_VALUE_CHARS).collect();
                    write!(f, "{name} = {:?}... {reason}", shown)
                } else {
                    write!(f, "{name} = {value:?} {reason}")
                }
            }
            Problem::EnvFile { path, reason } => {
                write!(
                    f,
                    "the env file {} could not be read: {reason}",
                    path.display()
                )
            }
            Problem::Other { message } => f.write_str(message),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        let all_variables = self.problems.iter().all(|p| p.name().is_some());
        match (all_variables, n) {
            (true, 1) => f.write_str("1 setting is wrong:")?,
            (true, _) => write!(f, "{n} settings are wrong:")?,
            (false, 1) => f.write_str("the settings could not be loaded:")?,
            (false, _) => write!(f, "the settings could not be loaded ({n} problems):")?,
        }
        for (i, problem) in self.problems.iter().enumerate() {
            if f.alternate() {
                write!(f, "\n  - {problem}")?;
            } else if i == 0 {
                write!(f, " {problem}")?;
            } else {
                write!(f, "; {problem}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What `main` returning this error prints: the readable form, not the struct.
        write!(f, "{self:#}")
    }
}

impl std::error::Error for SettingsError {}
