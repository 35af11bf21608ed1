//! Project automation, run as `cargo xtask <command>`.
//!
//! * `ci`: what CI checks: formatting, clippy with `-D warnings`, docs with `-D warnings`, every
//!   test (tokio and smol), a build of each runtime feature alone and both together, and equal
//!   numbers of `::tokio` and `::smol` tests.
//! * `bench rt`, `bench tasks`, `bench http`: the benchmarks (see `BENCHMARKS.md`). `bench http
//!   --baseline-rev REV` also builds `examples/bench_server` at git revision `REV` (see
//!   `baseline.rs`) and runs it beside this tree's build, to compare the two.
//! * `bench tls`: `/json` over HTTPS, Portico against hyper over tokio-rustls (see `tls.rs`
//!   here and `bench/src/tls.rs`).
//! * `bench build`: what an application pays at build time for Portico, against axum (see
//!   `buildcost.rs`).
//! * `openapi <example>`: prints an example application's OpenAPI document.
//! * `openapi-validate`: validates every example's document against the official OpenAPI 3.1
//!   schema, with the Python `openapi-spec-validator` (installed with pip under `target/`).
//! * `docs-browser`: serves `examples/todo` on loopback and renders its `/docs` and `/redoc`
//!   in headless Chromium (installed with apt-get when missing) with every other host
//!   unreachable, checking that the operations show; a screenshot lands in `target/openapi/`.
//! * `chat-browser`: two tabs of headless Chromium chat through `examples/chat`, on each
//!   runtime (playwright-core from npm drives them; installed under `target/`).
//! * `nginx`: serves `examples/todo` behind a real nginx under `/api/` on loopback and checks,
//!   through nginx, the API, a redirect, `/api/docs` and `/api/openapi.json`.
//! * `schemathesis`: schemathesis against `examples/todo` and `examples/hello` on loopback
//!   (`schemathesis.rs` says which check is left out and why).
//! * `soak`: `examples/soak` under a mixed load at 80% of its measured capacity for some
//!   minutes, on each runtime, checking errors, RSS, open files and threads (see `soak.rs`).
//! * `drain`: `examples/bench_server` under keep-alive load is sent `SIGTERM`, run after run on
//!   each runtime; fails if a request the clients wrote got no answer (see `drain.rs`, and
//!   `load.rs` for the client).
//! * `rolling`: two `examples/bench_server` instances behind nginx with upstream keep-alive,
//!   restarted one after the other under load; fails on any request that did not get a 2xx
//!   (see `rolling.rs` for the nginx directives the result depends on).
//! * `cluster`: three `examples/todo` instances on one PostgreSQL database behind nginx,
//!   restarted one by one under load; fails on any failed request and on any write lost or
//!   doubled, and measures one instance against three (see `cluster.rs`, `postgres.rs`).
//! * `tls`: `examples/bench_server` over HTTPS on each runtime, asked for HTTP/2 and for
//!   HTTP/1.1 by ALPN by curl, with certificates made by `examples/dev_cert` (see `tls.rs`).
//! * `fuzz`: the fuzz targets under `fuzz/` (cargo-fuzz, libFuzzer), each for a set time,
//!   failing on any crash, hang or leak (see `fuzz.rs` and `RELIABILITY.md`).
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

mod baseline;
mod buildcost;
mod chat;
mod cluster;
mod drain;
mod fuzz;
mod instance;
mod load;
mod nginx;
mod openapi;
mod postgres;
mod rolling;
mod schemathesis;
mod soak;
mod system;
mod tls;

pub(crate) use instance::{Child, start_example, start_example_with, start_todo};
use openapi::{docs_browser, openapi, openapi_validate};
pub(crate) use system::{apt_install, ensure_tool, is_root};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                 fmt, clippy, docs, tests, feature builds, runtime test counts
  bench rt [ARGS]    the runtime-layer benchmark; ARGS go to the benchmark (try --help)
  bench tasks [ARGS] task groups against JoinSet and async-executor, to_thread against
                     the blocking pools
  bench http [ARGS]  examples/bench_server (tokio, smol) against raw hyper, axum, actix-web
                     and FastAPI (uvicorn, in a venv under target/bench/) under wrk at 32 and
                     256 connections, and Portico's and raw hyper's instructions per request
                     under callgrind (wrk and valgrind installed with apt-get when missing);
                     --instructions counts instructions only, --no-instructions skips them;
                     --check only verifies that every server answers as specified;
                     --baseline-rev REV also builds bench_server at git revision REV (in a
                     worktree under target/bench-baseline/, removed after) and runs it as
                     portico-base in the same rounds, adding each endpoint's CPU and
                     instructions per request over the baseline's to the report; --baseline
                     PATH does the same with a bench_server already built; --help lists the
                     other ARGS
  bench tls [ARGS]   /json over HTTPS: examples/bench_server (tokio, smol) against hyper over
                     tokio-rustls, HTTP/1.1 keep-alive and a handshake per request (wrk) and
                     HTTP/2 by ALPN (h2load; both installed with apt-get when missing), with
                     certificates from examples/dev_cert; --help lists the ARGS
  bench build [--runs N]
                     a hello app on Portico (lean and default features) and on axum: clean
                     debug and release build times, binary size, crates (under target/),
                     medians of N interleaved rounds (3 by default)
  openapi EXAMPLE    print the OpenAPI document of an example (todo, hello, bench_server)
  openapi-validate   validate every example's document against the OpenAPI 3.1 schema
                     (openapi-spec-validator, installed with pip under target/)
  docs-browser       render examples/todo's /docs and /redoc in headless Chromium with no
                     network but loopback, and check that the operations show
  chat-browser       two headless Chromium tabs (driven by playwright-core from npm, under
                     target/) chat through examples/chat, on tokio and on smol
  nginx              run examples/todo behind nginx (installed with apt-get when missing)
                     under /api/ on loopback and check routes, a redirect and the docs
  schemathesis       run schemathesis (installed with pip under target/) against
                     examples/todo and examples/hello, every check but the lax-input one
  soak [--minutes N] [--runtime tokio|smol]
                     examples/soak (release) under a mix of JSON, 422s, panics, plain fns,
                     streams, uploads and WebSockets at 80% of its measured capacity for N
                     minutes (10 by default) on each runtime (both by default); fails on any
                     unexpected answer, RSS growth past 10%, or open files or threads not
                     given back (Linux only: it reads /proc)
  drain [--runs N] [--runtime tokio|smol] [--clients C] [--rev REV | --debug]
                     start examples/bench_server (release, one worker), load it with C
                     keep-alive clients on GET /blocking (200 by default), send it SIGTERM,
                     count the requests written that got no answer; N runs (20 by default)
                     on each runtime, or on the one named; fails if any request was lost;
                     --rev builds the server as it is at git revision REV instead, --debug
                     uses the dev build (the one the tests built)
  rolling [--rounds N] [--runtime tokio|smol] [--clients C] [--max-fails N]
          [--rev REV | --debug]
                     two examples/bench_server instances behind nginx (upstream keep-alive,
                     max_fails=N, 0 by default), restarted one after the other N times (3 by
                     default) while C clients (48 by default: GET /blocking and POST /echo)
                     load nginx (installed with apt-get when missing); fails on any request
                     without a 2xx answer; --rev and --debug as for drain
  cluster [--seconds N] [--short] [--runtime tokio|smol] [--clients C] [--workers N]
          [--max-fails N] [--next-upstream VALUE] [--debug]
                     examples/todo on PostgreSQL, three instances behind nginx (both installed
                     with apt-get when missing): one instance against three under the same
                     load, then each restarted in turn under load for N s (30; --short: 9);
                     fails on a failed request, or a POST answered 2xx whose item is not in the
                     database exactly once; --debug uses the dev build
  tls                examples/bench_server over HTTPS on tokio and on smol, with certificates
                     made by examples/dev_cert: curl (installed with apt-get when missing)
                     must get /json over HTTP/2 and over HTTP/1.1 by ALPN, and be refused
                     when it does not trust the authority
  fuzz [--minutes N | --seconds N] [TARGET...]
                     run the fuzz targets under fuzz/ (http1, h2, routing, extract,
                     websocket; all by default) one after the other, 20 s each unless told,
                     with cargo-fuzz (installed when missing); fails on a crash, hang or leak
";

/// The example applications, each printing its document when given `--openapi`.
const EXAMPLES: [&str; 3] = ["hello", "todo", "bench_server"];

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
        ["bench", "tls", rest @ ..] => tls::bench(rest),
        ["bench", "build", rest @ ..] => buildcost::run(rest),
        ["openapi", example] => openapi(example).map(|doc| print!("{doc}")),
        ["openapi-validate"] => openapi_validate(),
        ["docs-browser"] => docs_browser(),
        ["nginx"] => nginx::check(),
        ["schemathesis"] => schemathesis::check(),
        ["chat-browser"] => chat::check(),
        ["soak", rest @ ..] => soak::run(rest),
        ["drain", rest @ ..] => drain::run(rest),
        ["rolling", rest @ ..] => rolling::run(rest),
        ["cluster", rest @ ..] => cluster::run(rest),
        ["tls"] => tls::check(),
        ["fuzz", rest @ ..] => fuzz::run(rest),
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
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where cargo puts the workspace's builds: `CARGO_TARGET_DIR` when set (relative to the
/// workspace, as cargo takes it), `target` otherwise.
pub(crate) fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs one step, printing its name and how long it took.
pub(crate) fn step(name: &str, mut cmd: Command) -> Result<(), String> {
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
    let mut fmt = cargo();
    fmt.args([
        "fmt",
        "--all",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--",
        "--check",
    ]);
    step("cargo fmt --check (fuzz)", fmt)?;

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
    // The fuzz targets are a workspace of their own: linted too, in a plain build (`cargo fuzz
    // build`, below in CI, builds them with the sanitizer).
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy -D warnings (fuzz)", clippy)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-Dwarnings");
    step("cargo doc -D warnings", doc)?;

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    step("cargo test --workspace", test)?;

    // Each runtime alone (the lean server), both together, none (which builds, and refuses
    // to run), and each optional feature on its own: features are additive.
    for features in [
        "tokio",
        "smol",
        "tokio,smol",
        "",
        "tokio,websocket",
        "tokio,templates",
        "tokio,compression",
        "tokio,multipart",
        "tokio,docs-ui",
        "tokio,tower",
        "tokio,http2",
        "tokio,tls",
        "smol,tls,http2",
        "tokio,smol,full",
    ] {
        let mut build = cargo();
        build.args([
            "check",
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
        step(&format!("check portico with features: {label}"), build)?;
    }

    // The docs of the lean server link nothing that a feature leaves out.
    let mut lean_doc = cargo();
    lean_doc
        .args([
            "doc",
            "--no-deps",
            "-p",
            "portico-http",
            "-p",
            "portico",
            "--no-default-features",
            "--features",
            "portico/tokio",
        ])
        .env("RUSTDOCFLAGS", "-Dwarnings");
    step("cargo doc -D warnings (lean features)", lean_doc)?;

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

fn bench_http(args: &[&str]) -> Result<(), String> {
    let (baseline_rev, args) = take_value(args, "--baseline-rev")?;
    let (baseline_path, args) = take_value(&args, "--baseline")?;
    let baseline_path = match baseline_path {
        // Relative to where the command was run, not to the workspace root the benchmark
        // runs in.
        Some(path) => {
            Some(std::path::absolute(path).map_err(|err| format!("--baseline {path}: {err}"))?)
        }
        None => None,
    };
    if let Some(path) = &baseline_path
        && !path.is_file()
    {
        return Err(format!("--baseline {}: no such file", path.display()));
    }
    if baseline_rev.is_some() && baseline_path.is_some() {
        return Err("give --baseline-rev or --baseline, not both".into());
    }
    // Resolved before the builds, so that a mistyped revision fails at once.
    let baseline_commit = baseline_rev.map(baseline::commit_of).transpose()?;
    if !args.contains(&"--instructions") {
        ensure_tool("wrk", "wrk")?;
    }
    if !args.contains(&"--no-instructions") && !args.contains(&"--check") {
        ensure_tool("valgrind", "valgrind")?;
    }
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
    let baseline = match baseline_commit {
        Some(commit) => Some(baseline::build(&commit)?),
        None => baseline_path,
    };
    // A copy of the build, so that a rebuild by other work during a long run does not change
    // the server from one round to the next.
    let built = target_dir().join("release/examples/bench_server");
    let portico = root().join("target/bench/bench_server");
    std::fs::copy(&built, &portico).map_err(|err| format!("copying {}: {err}", built.display()))?;
    let mut run = Command::new(root().join("target/bench/release/bench-http"));
    run.current_dir(root()).arg("--portico").arg(portico);
    if let Some(baseline) = baseline {
        run.arg("--baseline").arg(baseline);
    }
    run.args(args);
    step("bench-http", run)
}

/// Takes `flag` and the value after it out of `args`.
pub(crate) fn take_value<'a>(
    args: &[&'a str],
    flag: &str,
) -> Result<(Option<&'a str>, Vec<&'a str>), String> {
    let Some(at) = args.iter().position(|arg| *arg == flag) else {
        return Ok((None, args.to_vec()));
    };
    let value = *args
        .get(at + 1)
        .filter(|value| !value.starts_with('-'))
        .ok_or_else(|| format!("{flag} needs a value"))?;
    let rest = args[..at].iter().chain(&args[at + 2..]).copied().collect();
    Ok((Some(value), rest))
}
