//! Project automation, run as `cargo xtask <command>`.
//!
//! * `ci`: what CI checks: formatting, clippy with `-D warnings`, docs with `-D warnings`, every
//!   test (tokio and smol), a build of each runtime feature alone and both together, and equal
//!   numbers of `::tokio` and `::smol` tests.
//! * `bench rt`, `bench tasks`, `bench http`: the benchmarks (see `BENCHMARKS.md`).
//!
//! It depends on nothing but std, so it builds in a second.

#![allow(
    clippy::print_stdout,
    reason = "a command-line tool reports to its user"
)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                 fmt, clippy, docs, tests, feature builds, runtime test counts
  bench rt [ARGS]    the runtime-layer benchmark; ARGS go to the benchmark (try --help)
  bench tasks [ARGS] task groups against tokio's JoinSet and async-executor
  bench http [ARGS]  examples/bench_server (tokio, smol) against raw hyper, axum and actix-web
                     under wrk (installed with apt-get when missing); --check only verifies
                     that every server answers as specified
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ci"] => ci(),
        ["bench", "rt", rest @ ..] => bench("bench-rt", rest),
        ["bench", "tasks", rest @ ..] => bench("bench-tasks", rest),
        ["bench", "http", rest @ ..] => bench_http(rest),
        ["help" | "--help" | "-h"] | [] => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command {args:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs one step, printing its name and how long it took.
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    println!("==> {name}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|err| format!("{name}: could not start: {err}"))?;
    println!(
        "    {name}: {} in {:.1?}",
        if status.success() { "ok" } else { "FAILED" },
        start.elapsed()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("step failed: {name}"))
    }
}

fn ci() -> Result<(), String> {
    let started = Instant::now();

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    step("cargo fmt --check", fmt)?;
    if root().join("bench/Cargo.toml").exists() {
        let mut fmt = cargo();
        fmt.args([
            "fmt",
            "--all",
            "--manifest-path",
            "bench/Cargo.toml",
            "--",
            "--check",
        ]);
        step("cargo fmt --check (bench)", fmt)?;
    }

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy -D warnings", clippy)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-Dwarnings");
    step("cargo doc -D warnings", doc)?;

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    step("cargo test --workspace", test)?;

    // Each runtime alone, both together, and none (which builds, and refuses to run).
    for features in ["tokio", "smol", "tokio,smol", ""] {
        let mut build = cargo();
        build.args([
            "build",
            "-p",
            "portico",
            "--no-default-features",
            "--features",
            features,
        ]);
        let label = if features.is_empty() {
            "no runtime"
        } else {
            features
        };
        step(&format!("build portico with features: {label}"), build)?;
    }

    println!("==> runtime test counts");
    let (tokio, smol) = runtime_test_counts()?;
    println!("    {tokio} tests on tokio, {smol} on smol");
    if tokio == 0 || tokio != smol {
        return Err(format!(
            "runtime tests must come in pairs: {tokio} on tokio, {smol} on smol"
        ));
    }

    println!("ci passed in {:.1?}", started.elapsed());
    Ok(())
}

/// Counts the tests named `...::tokio` and `...::smol` in the workspace's test list.
fn runtime_test_counts() -> Result<(usize, usize), String> {
    let out = cargo()
        .args(["test", "--workspace", "--quiet", "--", "--list"])
        .output()
        .map_err(|err| format!("cargo test -- --list: {err}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo test -- --list failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let list = String::from_utf8_lossy(&out.stdout);
    let count = |suffix: &str| list.lines().filter(|line| line.ends_with(suffix)).count();
    Ok((count("::tokio: test"), count("::smol: test")))
}

fn bench(bin: &str, args: &[&str]) -> Result<(), String> {
    let mut run = cargo();
    run.args([
        "run",
        "--release",
        "--quiet",
        "--manifest-path",
        "bench/Cargo.toml",
    ]);
    // One target directory for everything, so the bench reuses what the workspace built.
    run.args(["--target-dir", "target/bench", "--bin", bin, "--"]);
    run.args(args);
    step(bin, run)
}

/// Installs `tool` from Debian's packages when it is missing (as root, or through sudo).
fn ensure_tool(tool: &str, package: &str) -> Result<(), String> {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if found {
        return Ok(());
    }
    println!("xtask: {tool} is missing; installing the Debian package {package}");
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    step("apt-get update", apt(&["update", "-q"]))?;
    step(
        &format!("apt-get install {package}"),
        apt(&["install", "-y", "-q", package]),
    )?;
    if Command::new(tool).arg("--version").output().is_err() {
        return Err(format!(
            "{tool} is still missing after installing {package}"
        ));
    }
    Ok(())
}

fn bench_http(args: &[&str]) -> Result<(), String> {
    ensure_tool("wrk", "wrk")?;
    let mut example = cargo();
    example.args(["build", "--release", "--quiet", "--example", "bench_server"]);
    step("build examples/bench_server", example)?;
    let mut peers = cargo();
    peers.args([
        "build",
        "--release",
        "--quiet",
        "--manifest-path",
        "bench/Cargo.toml",
        "--target-dir",
        "target/bench",
        "--bins",
    ]);
    step("build the peer servers", peers)?;
    let portico = root().join("target/release/examples/bench_server");
    let mut run = Command::new(root().join("target/bench/release/bench-http"));
    run.current_dir(root())
        .arg("--portico")
        .arg(portico)
        .args(args);
    step("bench-http", run)
}
