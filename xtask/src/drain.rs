//! `cargo xtask drain`: does a server stopped by `SIGTERM` answer every request it was sent?
//!
//! Each run starts `examples/bench_server` (release, one worker) on a free loopback port, puts
//! it under keep-alive load from client threads looping on `GET /blocking` (see `load.rs` for
//! how each request is accounted for), sends it `SIGTERM` after half a second to a second, and
//! waits for the process to exit and for every client to finish. A client stops after a
//! response with `Connection: close`, or when a new connection is refused; a request written
//! whose connection ended before its response is lost. Any lost request fails the command.
//! `--rev REV` measures the server as it is at a git revision instead of this tree; `--debug`
//! measures this tree's dev build (what CI runs, having built it for the tests already).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use super::{baseline, cargo, root, step, take_value, target_dir};
use crate::instance::Instance;
use crate::load::{Load, OnClose, Request, Tally};

/// The runtimes `examples/bench_server` runs on, by their `PORTICO_RUNTIME` names.
pub(crate) const RUNTIMES: [&str; 2] = ["tokio", "smol"];

/// How long the server gets from `SIGTERM` to its exit before the run fails: its grace period
/// (30 s) and some.
const EXIT_DEADLINE: Duration = Duration::from_secs(45);

const BLOCKING: Request = Request {
    method: "GET",
    path: "/blocking",
    body: "",
};

/// `cargo xtask drain [--runs N] [--runtime tokio|smol] [--clients C] [--rev REV | --debug]`.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let (build, args) = Build::take(args)?;
    let (runs, args) = take_value(&args, "--runs")?;
    let (runtime, args) = take_value(&args, "--runtime")?;
    let (clients, args) = take_value(&args, "--clients")?;
    if let Some(extra) = args.first() {
        return Err(format!("drain: unknown argument {extra:?}"));
    }
    let runs = number("--runs", runs, 20)?;
    let clients = number("--clients", clients, 200)?;
    let runtimes = runtimes(runtime)?;
    let binary = build.binary()?;

    let mut failed = Vec::new();
    for runtime in runtimes {
        println!("==> {runs} runs on {runtime}, {clients} keep-alive clients on GET /blocking");
        let mut total = Tally::default();
        let mut exits = Vec::new();
        let mut failed_runs = 0;
        for run in 0..runs {
            // The load lasts 0.5 to 1 s, a different time each run, so that the signal falls
            // at different points of the requests' cycle (173 ms is an arbitrary step).
            let load_for = Duration::from_millis(500 + (run as u64 * 173) % 500);
            let report = run_once(&binary, runtime, clients, load_for)?;
            println!("    run {:>2}: {}", run + 1, report.line());
            if report.tally.failed() > 0 || !report.status.success() {
                failed_runs += 1;
            }
            total += report.tally;
            exits.push(report.exit_after);
        }
        exits.sort();
        let median = exits[exits.len() / 2];
        println!(
            "    {runtime}: {failed_runs} of {runs} runs failed (a request without an answer, or \
             the server exiting with an error); {} answered ({} after \
             SIGTERM, {} with Connection: close), {} lost, {} timed out, {} non-2xx; \
             SIGTERM to exit min {:.1?}, median {median:.1?}, max {:.1?}",
            total.answered,
            total.answered_after_signal,
            total.closing,
            total.lost,
            total.timed_out,
            total.non_2xx,
            exits[0],
            exits[exits.len() - 1],
        );
        if failed_runs > 0 {
            failed.push(format!("{runtime}: {failed_runs} of {runs} runs failed"));
        }
    }
    if failed.is_empty() {
        println!("drain: no request lost");
        Ok(())
    } else {
        Err(format!(
            "requests lost on shutdown, or a failed exit ({})",
            failed.join("; ")
        ))
    }
}

/// One run's figures.
struct RunReport {
    tally: Tally,
    /// From `SIGTERM` to the process's exit.
    exit_after: Duration,
    status: ExitStatus,
}

impl RunReport {
    fn line(&self) -> String {
        let t = &self.tally;
        format!(
            "{} answered ({} after SIGTERM, {} with Connection: close), {} LOST, {} timed out, \
             {} non-2xx; {} unsent (write failed), {} connects refused; SIGTERM to exit {:.1?}{}",
            t.answered,
            t.answered_after_signal,
            t.closing,
            t.lost,
            t.timed_out,
            t.non_2xx,
            t.unsent,
            t.refused,
            self.exit_after,
            if self.status.success() {
                String::new()
            } else {
                format!(", server exited with {}", self.status)
            }
        )
    }
}

fn run_once(
    binary: &Path,
    runtime: &str,
    clients: usize,
    load_for: Duration,
) -> Result<RunReport, String> {
    let mut server = BenchServer::start(binary, runtime, 0)?;
    let load = Load::start(server.addr, clients, BLOCKING, OnClose::Stop)?;
    std::thread::sleep(load_for);
    load.signal();
    server.terminate()?;
    let signalled = Instant::now();
    let status = server.wait(EXIT_DEADLINE)?;
    let exit_after = signalled.elapsed();
    // With the process gone every connection is closed, so each client ends.
    let tally = load.join();
    Ok(RunReport {
        tally,
        exit_after,
        status,
    })
}

fn number(flag: &str, value: Option<&str>, default: usize) -> Result<usize, String> {
    match value {
        None => Ok(default),
        Some(value) => match value.parse() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag} takes a positive number, not {value:?}")),
        },
    }
}

/// `--runtime NAME`, or both runtimes.
pub(crate) fn runtimes(flag: Option<&str>) -> Result<Vec<&'static str>, String> {
    match flag {
        None => Ok(RUNTIMES.to_vec()),
        Some(name) => RUNTIMES
            .into_iter()
            .find(|known| *known == name)
            .map(|known| vec![known])
            .ok_or_else(|| format!("--runtime takes tokio or smol, not {name:?}")),
    }
}

/// Which build of `examples/bench_server` to measure: this tree's in the release profile; with
/// `--debug`, in the dev profile (which `cargo test --workspace` has built already, so CI pays
/// no second build); with `--rev REV`, in the release profile as it is at the git revision
/// `REV` (built in a worktree, see `baseline.rs`).
#[derive(Debug)]
pub(crate) struct Build<'a> {
    rev: Option<&'a str>,
    debug: bool,
}

impl<'a> Build<'a> {
    /// Takes `--rev REV` and `--debug` out of `args`.
    pub(crate) fn take(args: &[&'a str]) -> Result<(Build<'a>, Vec<&'a str>), String> {
        let (rev, mut args) = take_value(args, "--rev")?;
        let at = args.iter().position(|arg| *arg == "--debug");
        if let Some(at) = at {
            args.remove(at);
        }
        if rev.is_some() && at.is_some() {
            return Err("give --rev or --debug, not both".into());
        }
        let debug = at.is_some();
        Ok((Build { rev, debug }, args))
    }

    /// Builds the server, says which code that is, and returns the binary.
    pub(crate) fn binary(&self) -> Result<PathBuf, String> {
        let Some(rev) = self.rev else {
            let binary = BenchServer::build(self.debug)?;
            print_measured_code(if self.debug { "dev" } else { "release" });
            return Ok(binary);
        };
        let commit = baseline::commit_of(rev)
            .map_err(|_| format!("--rev {rev}: not a commit of this repository"))?;
        // A commit builds the same every time: a binary built before is reused.
        let built = baseline::binary(&commit);
        let binary = if built.is_file() {
            built
        } else {
            baseline::build(&commit)?
        };
        println!("==> measuring {commit} as committed (--rev {rev}, release)");
        Ok(binary)
    }
}

/// Prints the commit and the uncommitted changes to the HTTP core, so that the figures say
/// which server code they measured.
fn print_measured_code(profile: &str) {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root())
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let diff = git(&["diff", "--stat", "HEAD", "--", "crates/portico-http/src"]);
    match diff.as_deref() {
        Some("") => {
            println!("==> measuring HEAD {head} ({profile}), crates/portico-http/src unchanged")
        }
        Some(diff) => println!("==> measuring HEAD {head} ({profile}) with changes:\n{diff}"),
        None => println!("==> measuring HEAD {head} ({profile}; git diff failed)"),
    }
}

/// `examples/bench_server`: its build, and its start on one worker.
pub(crate) struct BenchServer;

impl BenchServer {
    /// Builds `examples/bench_server` in the release profile, or the dev one when `debug`;
    /// returns the binary's path.
    pub(crate) fn build(debug: bool) -> Result<PathBuf, String> {
        let mut build = cargo();
        build.args(["build", "--quiet", "--example", "bench_server"]);
        if !debug {
            build.arg("--release");
        }
        let profile = if debug { "debug" } else { "release" };
        step(&format!("build examples/bench_server ({profile})"), build)?;
        Ok(target_dir().join(profile).join("examples/bench_server"))
    }

    /// Starts the server on `runtime` with one worker on loopback port `port` (0 for a free
    /// one), and waits for the line that says where it listens.
    pub(crate) fn start(binary: &Path, runtime: &str, port: u16) -> Result<Instance, String> {
        let mut command = Command::new(binary);
        command
            .args(["--port", &port.to_string(), "--workers", "1"])
            .env("PORTICO_RUNTIME", runtime);
        Instance::start(command, &format!("bench_server on port {port}"))
    }
}
