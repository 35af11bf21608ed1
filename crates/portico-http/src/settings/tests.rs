//! Reading values, and the one error that lists every problem.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
#![allow(
    dead_code,
    reason = "some settings types exist only to be read or refused"
)]

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::time::Duration;

use serde::Deserialize;

use super::source::Vars;
use super::{Loader, Problem, SettingsError, from_vars};

#[derive(Debug, Deserialize)]
struct Tutorial {
    #[serde(default = "awesome")]
    app_name: String,
    admin_email: String,
    #[serde(default = "fifty")]
    items_per_user: u32,
}

fn awesome() -> String {
    "Awesome API".into()
}

fn fifty() -> u32 {
    50
}

fn err<T: for<'de> Deserialize<'de> + std::fmt::Debug>(vars: &[(&str, &str)]) -> SettingsError {
    from_vars::<T, _, _, _>(vars.iter().copied()).unwrap_err()
}

fn invalid(name: &str, value: &str, reason: &str) -> Problem {
    Problem::Invalid {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn missing(name: &str) -> Problem {
    Problem::Missing { name: name.into() }
}

#[test]
fn defaults_fill_what_is_not_set() {
    let settings: Tutorial = from_vars([("ADMIN_EMAIL", "admin@example.com")]).unwrap();
    assert_eq!(settings.app_name, "Awesome API");
    assert_eq!(settings.admin_email, "admin@example.com");
    assert_eq!(settings.items_per_user, 50);
}

#[test]
fn every_missing_and_invalid_variable_is_in_one_error() {
    let err = err::<Tutorial>(&[("ITEMS_PER_USER", "ten")]);
    assert_eq!(
        err.problems(),
        [
            missing("ADMIN_EMAIL"),
            invalid(
                "ITEMS_PER_USER",
                "ten",
                "is not a valid u32 (a whole number from 0 to 4294967295)"
            ),
        ]
    );
    assert_eq!(
        err.to_string(),
        "2 settings are wrong: ADMIN_EMAIL is missing; ITEMS_PER_USER = \"ten\" is not a valid \
         u32 (a whole number from 0 to 4294967295)"
    );
    assert_eq!(
        format!("{err:#}"),
        "2 settings are wrong:\n  - ADMIN_EMAIL is missing\n  - ITEMS_PER_USER = \"ten\" is not \
         a valid u32 (a whole number from 0 to 4294967295)"
    );
    // What `main` returning the error prints.
    assert_eq!(format!("{err:?}"), format!("{err:#}"));
}

#[derive(Debug, Deserialize)]
struct Many {
    port: u16,
    host: String,
    debug: bool,
    workers: usize,
    ratio: f64,
    level: Level,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Level {
    Debug,
    Info,
    Warning,
}

#[test]
fn problems_are_listed_in_the_order_of_the_fields() {
    let err = err::<Many>(&[("LEVEL", "loud"), ("DEBUG", "maybe"), ("PORT", "70000")]);
    assert_eq!(
        err.problems(),
        [
            invalid(
                "PORT",
                "70000",
                "is not a valid u16 (a whole number from 0 to 65535)"
            ),
            missing("HOST"),
            invalid(
                "DEBUG",
                "maybe",
                "is not a valid bool (true/false, 1/0, yes/no, on/off)"
            ),
            missing("WORKERS"),
            missing("RATIO"),
            invalid(
                "LEVEL",
                "loud",
                "is not one of \"debug\", \"info\", \"warning\""
            ),
        ]
    );
    assert!(
        err.to_string()
            .starts_with("6 settings are wrong: PORT = \"70000\"")
    );
}

#[test]
fn one_problem_reads_in_the_singular() {
    let err = err::<Tutorial>(&[]);
    assert_eq!(
        err.to_string(),
        "1 setting is wrong: ADMIN_EMAIL is missing"
    );
}

#[test]
fn names_match_in_any_case_and_with_the_prefix() {
    let settings: Tutorial = Loader::new()
        .environment(false)
        .prefix("app_")
        .var("App_Admin_Email", "a@example.com")
        .var("APP_ITEMS_PER_USER", " 7 ")
        // Without the prefix, it is not a setting.
        .var("APP_NAME", "ignored")
        .load()
        .unwrap();
    assert_eq!(settings.admin_email, "a@example.com");
    assert_eq!(settings.items_per_user, 7);
    assert_eq!(settings.app_name, "Awesome API");

    let err = Loader::new()
        .environment(false)
        .prefix("app_")
        .load::<Tutorial>()
        .unwrap_err();
    assert_eq!(err.problems(), [missing("APP_ADMIN_EMAIL")]);
}

#[test]
fn scalars_read_as_their_types() {
    let many: Many = from_vars([
        ("PORT", "8080"),
        ("HOST", " spaces kept "),
        ("DEBUG", "Yes"),
        ("WORKERS", "4"),
        ("RATIO", "0.25"),
        ("LEVEL", "WARNING"),
    ])
    .unwrap();
    assert_eq!(many.port, 8080);
    assert_eq!(many.host, " spaces kept ");
    assert!(many.debug);
    assert_eq!(many.ratio, 0.25);
    assert_eq!(many.level, Level::Warning);
}

#[derive(Debug, Deserialize)]
struct Flag {
    flag: bool,
}

#[test]
fn bools_read_as_pydantic_reads_them() {
    for (text, expected) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("on", true),
        ("t", true),
        ("false", false),
        ("False", false),
        ("0", false),
        ("no", false),
        ("off", false),
        ("n", false),
    ] {
        let read: Flag = from_vars([("FLAG", text)]).unwrap();
        assert_eq!(read.flag, expected, "{text}");
    }
    assert!(from_vars::<Flag, _, _, _>([("FLAG", "2")]).is_err());
}

#[derive(Debug, Deserialize)]
struct Optional {
    sentry_dsn: Option<String>,
    timeout: Option<u32>,
    #[serde(default)]
    tags: Vec<String>,
}

#[test]
fn options_are_none_when_unset_or_empty() {
    let read: Optional = from_vars([("TIMEOUT", "")]).unwrap();
    assert_eq!(read.sentry_dsn, None);
    assert_eq!(read.timeout, None);
    assert!(read.tags.is_empty());
    let read: Optional = from_vars([("SENTRY_DSN", "https://x"), ("TIMEOUT", "5")]).unwrap();
    assert_eq!(read.sentry_dsn.as_deref(), Some("https://x"));
    assert_eq!(read.timeout, Some(5));
}

#[derive(Debug, Deserialize)]
struct Lists {
    ports: Vec<u16>,
    hosts: HashSet<String>,
    pair: (String, u8),
}

#[test]
fn lists_read_comma_separated_or_as_json() {
    let read: Lists = from_vars([
        ("PORTS", "80, 443,8080"),
        ("HOSTS", r#"["a.example", "b,with,commas"]"#),
        ("PAIR", "x,1"),
    ])
    .unwrap();
    assert_eq!(read.ports, [80, 443, 8080]);
    assert!(read.hosts.contains("b,with,commas"));
    assert_eq!(read.pair, ("x".into(), 1));

    let err = err::<Lists>(&[("PORTS", "80,http"), ("HOSTS", "[1"), ("PAIR", "x,1,2")]);
    assert_eq!(
        err.problems()[0],
        invalid(
            "PORTS",
            "80,http",
            "is not a valid list: item 2 (\"http\") is not a valid u16 (a whole number from 0 to \
             65535)"
        )
    );
    assert!(
        err.problems()[1]
            .to_string()
            .starts_with("HOSTS = \"[1\" is not a valid JSON array: ")
    );
    assert_eq!(
        err.problems()[2],
        invalid(
            "PAIR",
            "x,1,2",
            "is not a valid list: it has 1 more item(s) than expected"
        )
    );
}

#[derive(Debug, Deserialize)]
struct Timeouts {
    request: Duration,
    idle: Duration,
    #[serde(default)]
    grace: Option<Duration>,
}

#[test]
fn durations_read_with_units() {
    for (text, expected) in [
        ("30", Duration::from_secs(30)),
        ("1.5", Duration::from_millis(1500)),
        ("250ms", Duration::from_millis(250)),
        ("30s", Duration::from_secs(30)),
        ("2 min", Duration::from_secs(120)),
        ("1h30m", Duration::from_secs(5400)),
        ("1d", Duration::from_secs(86_400)),
        ("10us", Duration::from_micros(10)),
        (r#"{"secs": 3, "nanos": 0}"#, Duration::from_secs(3)),
    ] {
        let read: Timeouts = from_vars([("REQUEST", text), ("IDLE", "1s")]).unwrap();
        assert_eq!(read.request, expected, "{text}");
    }
    let read: Timeouts = from_vars([("REQUEST", "1s"), ("IDLE", "1s"), ("GRACE", "5s")]).unwrap();
    assert_eq!(read.grace, Some(Duration::from_secs(5)));

    let err = err::<Timeouts>(&[("REQUEST", "soon")]);
    assert_eq!(
        err.problems(),
        [
            invalid(
                "REQUEST",
                "soon",
                "is not a valid duration (such as 30s, 250ms, 1h30m, or a number of seconds)"
            ),
            missing("IDLE"),
        ]
    );
}

#[derive(Debug, Deserialize)]
struct Database {
    host: String,
    port: u16,
    #[serde(default)]
    pool: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct WithDatabase {
    name: String,
    database: Database,
}

#[test]
fn a_nested_struct_reads_from_json() {
    let read: WithDatabase = from_vars([
        ("NAME", "app"),
        ("DATABASE", r#"{"host": "db", "port": 5432}"#),
    ])
    .unwrap();
    assert_eq!(read.database.host, "db");
    assert_eq!(read.database.port, 5432);

    let err = err::<WithDatabase>(&[("DATABASE", r#"{"host": "db"}"#)]);
    assert_eq!(err.problems()[0], missing("NAME"));
    assert!(
        err.problems()[1].to_string().starts_with(
            r#"DATABASE = "{\"host\": \"db\"}" is not a valid JSON object: missing field `port`"#
        ),
        "{err}"
    );
}

#[test]
fn a_nested_struct_reads_from_variables_under_a_delimiter() {
    let loader = Loader::new()
        .environment(false)
        .prefix("APP_")
        .nested_delimiter("__");
    let read: WithDatabase = loader
        .clone()
        .vars([
            ("APP_NAME", "app"),
            ("APP_DATABASE__HOST", "db"),
            ("app_database__port", "5432"),
        ])
        .load()
        .unwrap();
    assert_eq!(read.database.host, "db");
    assert_eq!(read.database.port, 5432);
    assert_eq!(read.database.pool, None);

    // Each nested variable is named in the error, in the order of the fields.
    let err = loader
        .clone()
        .var("APP_DATABASE__PORT", "many")
        .load::<WithDatabase>()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [
            missing("APP_NAME"),
            missing("APP_DATABASE__HOST"),
            invalid(
                "APP_DATABASE__PORT",
                "many",
                "is not a valid u16 (a whole number from 0 to 65535)"
            ),
        ]
    );
    // With nothing set at all, too.
    let err = loader.load::<WithDatabase>().unwrap_err();
    assert_eq!(
        err.problems(),
        [
            missing("APP_NAME"),
            missing("APP_DATABASE__HOST"),
            missing("APP_DATABASE__PORT"),
        ]
    );
}

#[derive(Debug, Deserialize)]
struct Renamed {
    #[serde(rename = "DATABASE_URL")]
    url: String,
}

#[test]
fn fields_are_named_as_serde_names_them() {
    let read: Renamed = from_vars([("database_url", "sqlite://x")]).unwrap();
    assert_eq!(read.url, "sqlite://x");
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct Email(String);

impl TryFrom<String> for Email {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.contains('@') {
            Ok(Email(value))
        } else {
            Err("an email address has an @")
        }
    }
}

#[derive(Debug, Deserialize)]
struct Checked {
    port: u16,
    admin: Email,
    count: NonZeroU32,
}

#[test]
fn a_type_s_own_check_is_a_problem_of_its_variable() {
    let err = err::<Checked>(&[("ADMIN", "nobody"), ("COUNT", "3")]);
    assert_eq!(
        err.problems(),
        [
            missing("PORT"),
            invalid("ADMIN", "nobody", "is invalid: an email address has an @"),
        ]
    );
}

#[test]
fn a_type_that_refuses_the_stand_in_ends_the_list_without_a_false_problem() {
    // `count` is missing, and its stand-in (0) is no NonZeroU32: reading stops there, with
    // the problems found so far and nothing made up.
    let err = err::<Checked>(&[("ADMIN", "a@b"), ("PORT", "x")]);
    assert_eq!(
        err.problems(),
        [
            invalid(
                "PORT",
                "x",
                "is not a valid u16 (a whole number from 0 to 65535)"
            ),
            missing("COUNT"),
        ]
    );
}

#[test]
fn a_map_reads_every_variable_under_the_prefix() {
    let read: BTreeMap<String, u32> = Loader::new()
        .environment(false)
        .prefix("LIMIT_")
        .vars([("LIMIT_USERS", "10"), ("LIMIT_ITEMS", "20"), ("OTHER", "x")])
        .load()
        .unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read["users"], 10);

    let err = Loader::new()
        .environment(false)
        .prefix("LIMIT_")
        .vars([("LIMIT_USERS", "ten")])
        .load::<BTreeMap<String, u32>>()
        .unwrap_err();
    assert_eq!(err.problems()[0].name(), Some("LIMIT_USERS"));
}

#[test]
fn a_type_that_is_not_a_struct_or_map_is_a_problem_not_a_panic() {
    let err = from_vars::<u32, _, _, _>([("X", "1")]).unwrap_err();
    assert!(
        matches!(&err.problems()[0], Problem::Other { message } if message.contains("expected u32")),
        "{err}"
    );
}

#[test]
fn a_value_that_is_not_utf8_is_invalid() {
    let mut vars = Vars::default();
    vars.set("ADMIN_EMAIL".into(), Err("a\u{fffd}b".into()));
    let err = super::de::read::<Tutorial>(&vars, "", None, Vec::new()).unwrap_err();
    assert_eq!(
        err.problems(),
        [invalid("ADMIN_EMAIL", "a\u{fffd}b", "is not valid UTF-8")]
    );
}

#[test]
fn long_values_are_cut_short_in_messages() {
    let long = "x".repeat(100);
    let err = err::<Flag>(&[("FLAG", &long)]);
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("FLAG = \"{}\"... is not", "x".repeat(60))),
        "{shown}"
    );
    assert!(!shown.contains(&"x".repeat(61)));
    assert!(matches!(&err.problems()[0], Problem::Invalid { value, .. } if *value == long));
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    portico_extra: String,
}

#[test]
fn the_process_environment_is_read() {
    // cargo sets CARGO_PKG_* for the tests it runs.
    let package: Package = Loader::new().prefix("CARGO_PKG_").load().unwrap();
    assert_eq!(package.name, env!("CARGO_PKG_NAME"));
}

#[test]
fn an_env_file_is_read_under_the_real_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    std::fs::write(
        &file,
        "# the app's settings\nCARGO_PKG_NAME=from-the-file\nexport CARGO_PKG_PORTICO_EXTRA=\"from the file\" # a comment\nPORTICO_SETTINGS_TEST_ONLY=1\n",
    )
    .unwrap();
    let package: Package = Loader::new()
        .prefix("CARGO_PKG_")
        .env_file(&file)
        .load()
        .unwrap();
    // The real environment wins; the file fills in the rest.
    assert_eq!(package.name, env!("CARGO_PKG_NAME"));
    assert_eq!(package.portico_extra, "from the file");
    // And the process environment is left as it was.
    assert!(std::env::var_os("PORTICO_SETTINGS_TEST_ONLY").is_none());
}

#[test]
fn a_later_env_file_wins_and_a_missing_one_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join(".env");
    let local = dir.path().join(".env.local");
    std::fs::write(&base, "ADMIN_EMAIL=base@example.com\nITEMS_PER_USER=1\n").unwrap();
    std::fs::write(&local, "admin_email='local@example.com'\n").unwrap();
    let settings: Tutorial = Loader::new()
        .environment(false)
        .env_file(&base)
        .env_file(&local)
        .env_file(dir.path().join("does-not-exist"))
        .load()
        .unwrap();
    assert_eq!(settings.admin_email, "local@example.com");
    assert_eq!(settings.items_per_user, 1);
    // Values given in code win over the files.
    let settings: Tutorial = Loader::new()
        .environment(false)
        .env_file(&base)
        .var("ITEMS_PER_USER", "2")
        .load()
        .unwrap();
    assert_eq!(settings.items_per_user, 2);
}

#[test]
fn a_broken_env_file_is_reported_with_the_other_problems() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    std::fs::write(&file, "ITEMS_PER_USER=ten\nNOT A LINE\n").unwrap();
    let err = Loader::new()
        .environment(false)
        .env_file(&file)
        .load::<Tutorial>()
        .unwrap_err();
    let problems = err.problems();
    assert_eq!(problems.len(), 3, "{err}");
    assert!(
        matches!(&problems[0], Problem::EnvFile { path, reason } if *path == file && reason.contains("NOT A LINE"))
    );
    assert_eq!(problems[1], missing("ADMIN_EMAIL"));
    assert_eq!(problems[2].name(), Some("ITEMS_PER_USER"));
    assert!(
        err.to_string()
            .starts_with("the settings could not be loaded (3 problems): the env file "),
        "{err}"
    );

    // A directory is no env file.
    let err = Loader::new()
        .environment(false)
        .env_file(dir.path())
        .var("ADMIN_EMAIL", "a@b")
        .load::<Tutorial>()
        .unwrap_err();
    assert!(
        matches!(&err.problems()[0], Problem::EnvFile { .. }),
        "{err}"
    );
}
