//! Where settings come from: env files, the process environment and values given in code,
//! merged into one map whose keys are the lower-cased names (names match whatever their case,
//! as in pydantic-settings).

use std::collections::BTreeMap;
use std::path::Path;

use super::Problem;

/// One variable: its name as written, and its value (`Err` with a lossy copy when the
/// environment holds bytes that are not UTF-8).
#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub(crate) name: String,
    pub(crate) value: Result<String, String>,
}

/// The variables, by lower-cased name; ordered, so that maps read from them are too.
#[derive(Debug, Default)]
pub(crate) struct Vars {
    map: BTreeMap<String, Var>,
}

impl Vars {
    /// Sets `name`, replacing a variable of the same name in any case.
    pub(crate) fn set(&mut self, name: String, value: Result<String, String>) {
        self.map.insert(name.to_lowercase(), Var { name, value });
    }

    /// Puts `other`'s variables over these.
    pub(crate) fn layer(&mut self, other: Vars) {
        self.map.extend(other.map);
    }

    /// The variable named `key` (lower case).
    pub(crate) fn get(&self, key: &str) -> Option<&Var> {
        self.map.get(key)
    }

    /// The variables whose lower-cased names start with `prefix` and go on past it, with the
    /// rest of their names.
    pub(crate) fn under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Var)> + 'a {
        self.map
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .map_while(move |(key, var)| Some((key.strip_prefix(prefix)?, var)))
            .filter(|(rest, _)| !rest.is_empty())
    }

    /// Whether some variable's lower-cased name starts with `prefix` and goes on past it.
    pub(crate) fn any_under(&self, prefix: &str) -> bool {
        self.under(prefix).next().is_some()
    }

    /// The process environment. Two names that differ only in case (possible on Unix) are
    /// one setting: the upper-case one is taken, as the conventional spelling.
    pub(crate) fn from_env() -> Vars {
        let mut vars = Vars::default();
        for (name, value) in std::env::vars_os() {
            // A name that is not UTF-8 cannot be the name of a field.
            let Ok(name) = name.into_string() else {
                continue;
            };
            let value = value
                .into_string()
                .map_err(|raw| raw.to_string_lossy().into_owned());
            let key = name.to_lowercase();
            if let Some(existing) = vars.map.get(&key)
                && existing.name == existing.name.to_uppercase()
            {
                continue;
            }
            vars.map.insert(key, Var { name, value });
        }
        vars
    }

    /// The variables of an env file, read with dotenvy (quotes, escapes, comments, `export`,
    /// `${VAR}` substitution from the file and the environment). The process environment is
    /// left alone. A file that does not exist gives no variables and no problem, as in
    /// pydantic-settings; a later line setting a name again wins.
    pub(crate) fn from_env_file(path: &Path, problems: &mut Vec<Problem>) -> Vars {
        let mut vars = Vars::default();
        let problem = |reason: String| Problem::EnvFile {
            path: path.to_owned(),
            reason,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return vars,
            Err(err) => {
                problems.push(problem(err.to_string()));
                return vars;
            }
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            match item {
                Ok((name, value)) => vars.set(name, Ok(value)),
                Err(dotenvy::Error::LineParse(line, at)) => problems.push(problem(format!(
                    "cannot parse the line {:?} (column {})",
                    line.trim_end(),
                    at + 1
                ))),
                // Reading from memory fails in no other way; stop rather than loop if it does.
                Err(err) => {
                    problems.push(problem(err.to_string()));
                    break;
                }
            }
        }
        vars
    }
}
