//! `cargo xtask bench build`: what an application pays at build time for Portico, against
//! axum. The same "hello" API (one JSON route) is written three times, on Portico with its
//! lean features (`default-features = false, features = ["tokio"]`), on Portico with its
//! default features, and on axum 0.8, each in a project of its own under
//! `target/buildcost/`. For each, in interleaved rounds (`--runs N`, 3 by default): a clean
//! debug build, a clean release build (each timed from an empty target directory,
//! dependencies already downloaded), the size of the release binary, and the number of crates
//! built; the report gives medians.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::root;

/// One application to build.
struct Case {
    name: &'static str,
    dependencies: String,
    main: &'static str,
}

const PORTICO_MAIN: &str = r#"use portico::prelude::*;

async fn hello() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "message": "Hello, World!" }))
}

fn main() {
    let app = App::new().get("/", hello);
    portico::run(app.serve("127.0.0.1:8000")).expect("the server ran");
}
"#;

const AXUM_MAIN: &str = r#"use axum::{Json, Router, routing::get};

async fn hello() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "message": "Hello, World!" }))
}

#[tokio::main]
async fn main() {
    let app = Router::new().route("/", get(hello));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await.expect("bound");
    axum::serve(listener, app).await.expect("the server ran");
}
"#;

fn cases() -> Vec<Case> {
    let portico = root().join("crates/portico");
    let portico = portico.display();
    vec![
        Case {
            name: "portico-lean",
            dependencies: format!(
                "portico = {{ path = \"{portico}\", default-features = false, features = [\"tokio\"] }}\nserde_json = \"1\"\n"
            ),
            main: PORTICO_MAIN,
        },
        Case {
            name: "portico-default",
            dependencies: format!("portico = {{ path = \"{portico}\" }}\nserde_json = \"1\"\n"),
            main: PORTICO_MAIN,
        },
        Case {
            name: "axum",
            dependencies: "axum = \"0.8\"\ntokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\", \"net\"] }\nserde_json = \"1\"\n"
                .to_owned(),
            main: AXUM_MAIN,
        },
    ]
}

/// What one build came to.
struct Figures {
    debug_secs: f64,
    release_secs: f64,
    binary_bytes: u64,
    crates: usize,
}

pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let runs = match args {
        [] => 3,
        ["--runs", n] => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("--runs takes a positive number, got {n:?}"))?,
        _ => return Err(format!("bench build takes [--runs N], got {args:?}")),
    };
    let dir = root().join("target/buildcost");
    let cases = cases();
    let mut projects = Vec::new();
    for case in &cases {
        let project = write_project(&dir, case)?;
        // Dependencies downloaded first, so that only compiling is timed.
        run_cargo(&project, &["fetch"])?;
        projects.push(project);
    }
    // Rounds interleave the applications, so that a slow spell of a shared machine falls on
    // all of them; each figure is the median of its rounds, each ratio the median of the
    // rounds' ratios.
    let mut rounds: Vec<Vec<Figures>> = Vec::new();
    for round in 1..=runs {
        let mut figures = Vec::new();
        for (case, project) in cases.iter().zip(&projects) {
            println!("==> round {round}/{runs}: {}", case.name);
            let f = measure(project, case.name)?;
            println!(
                "    debug {:.1} s, release {:.1} s, binary {:.2} MB, {} crates",
                f.debug_secs,
                f.release_secs,
                f.binary_bytes as f64 / 1e6,
                f.crates
            );
            figures.push(f);
        }
        rounds.push(figures);
    }
    let axum = cases
        .iter()
        .position(|case| case.name == "axum")
        .ok_or("no axum case")?;
    println!();
    println!(
        "Medians of {runs} interleaved rounds (ratios: the median of each round's ratio to axum)."
    );
    println!();
    println!(
        "| application | clean debug build | clean release build | release binary | crates | debug vs axum | release vs axum | binary vs axum |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (i, case) in cases.iter().enumerate() {
        let of = |f: fn(&Figures) -> f64| median(rounds.iter().map(|r| f(&r[i])).collect());
        let vs = |f: fn(&Figures) -> f64| {
            median(rounds.iter().map(|r| f(&r[i]) / f(&r[axum])).collect())
        };
        println!(
            "| {} | {:.1} s | {:.1} s | {:.2} MB | {} | {:.2}x | {:.2}x | {:.2}x |",
            case.name,
            of(|f| f.debug_secs),
            of(|f| f.release_secs),
            of(|f| f.binary_bytes as f64) / 1e6,
            rounds[0][i].crates,
            vs(|f| f.debug_secs),
            vs(|f| f.release_secs),
            vs(|f| f.binary_bytes as f64),
        );
    }
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn write_project(dir: &Path, case: &Case) -> Result<PathBuf, String> {
    let project = dir.join(case.name);
    let src = project.join("src");
    fs::create_dir_all(&src).map_err(|err| format!("{}: {err}", src.display()))?;
    let manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{}\n[workspace]\n",
        case.name, case.dependencies
    );
    fs::write(project.join("Cargo.toml"), manifest).map_err(|err| err.to_string())?;
    fs::write(src.join("main.rs"), case.main).map_err(|err| err.to_string())?;
    Ok(project)
}

fn run_cargo(project: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(project)
        // The project's own settings, not this workspace's (no line tables in release).
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .map_err(|err| format!("cargo {args:?}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {args:?} failed in {}", project.display()))
    }
}

fn measure(project: &Path, name: &str) -> Result<Figures, String> {
    let target = project.join("target");
    let timed = |profile: &[&str]| -> Result<f64, String> {
        let _ = fs::remove_dir_all(&target);
        let started = Instant::now();
        let mut args = vec!["build", "--quiet"];
        args.extend_from_slice(profile);
        run_cargo(project, &args)?;
        Ok(started.elapsed().as_secs_f64())
    };
    let debug_secs = timed(&[])?;
    let release_secs = timed(&["--release"])?;
    let binary = target.join("release").join(name);
    let binary_bytes = fs::metadata(&binary)
        .map_err(|err| format!("{}: {err}", binary.display()))?
        .len();
    let fingerprints = target.join("release/.fingerprint");
    let mut crates: Vec<String> = fs::read_dir(&fingerprints)
        .map_err(|err| format!("{}: {err}", fingerprints.display()))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            // `<crate>-<hash>`: one per crate built (a build script counts with its crate).
            Some(name.rsplit_once('-')?.0.to_owned())
        })
        .collect();
    crates.sort();
    crates.dedup();
    Ok(Figures {
        debug_secs,
        release_secs,
        binary_bytes,
        crates: crates.len(),
    })
}
