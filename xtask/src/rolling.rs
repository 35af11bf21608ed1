//! `cargo xtask rolling`: a rolling restart of two `examples/bench_server` instances behind
//! nginx, under load, with no failed request.
//!
//! The instances listen on fixed loopback ports (free ones, found by binding port 0 and
//! releasing it) so that each can be started again on its own port. nginx holds keep-alive
//! connections to them, the way production sets it up. Client threads (see `load.rs`) loop on
//! `GET /blocking` and `POST /echo` through nginx, while each instance in turn gets `SIGTERM`,
//! exits, is started again on the same port and answers, several times over. Every response
//! that is not a 2xx, and every request without a complete response, is a failure.
//!
//! # What the result depends on
//!
//! * `keepalive`, `proxy_http_version 1.1` and `proxy_set_header Connection ""`: nginx reuses
//!   its connections to the instances. This is what makes a restart hard: a draining server
//!   must close those connections, and nginx may be writing a request on one as it does.
//! * `proxy_next_upstream error timeout` (nginx's default, written out): a request whose
//!   connection fails before a response header came (connect refused, reset, closed early)
//!   is passed to the other instance. A failure on a *cached* keep-alive connection does not
//!   use up one of the request's tries, so a `GET` always gets its second chance.
//! * No `non_idempotent` in it, on purpose: once nginx has sent a `POST` (or `PATCH`, `LOCK`)
//!   on a connection, it does not send it again elsewhere, since the first instance may have
//!   acted on it. So `POST /echo` succeeds only if a draining server answers every request it
//!   read, and closes a kept-alive connection in a way nginx sees before it writes on it
//!   (`Connection: close` on the last response). The `POST` figures measure the server; the
//!   `GET` figures measure nginx's retry too.
//! * `max_fails=0` on each server: nginx's default (`max_fails=1 fail_timeout=10s`) takes an
//!   instance out of rotation for 10 s after one failed connect, so when B restarts soon after
//!   A, nginx may still count A as down and answer 502 "no live upstreams" with no instance
//!   left to try. With `max_fails=0` nginx keeps trying both and moves on at once when a
//!   connect is refused (instant on loopback). `--max-fails 1` runs with nginx's default, to
//!   see that failure.
//!
//! `--rev REV` and `--debug` choose the server's build, as for `cargo xtask drain`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{ensure_tool, root, take_value};
use crate::drain::{BenchServer, Build, runtimes};
use crate::instance::wait_answering;
use crate::load::{Load, OnClose, Request, Tally};
use crate::nginx;

const GET: Request = Request {
    method: "GET",
    path: "/blocking",
    body: "",
};

const POST: Request = Request {
    method: "POST",
    path: "/echo",
    body: r#"{"name":"rolling","count":1,"tags":["a","b"]}"#,
};

/// How long the load runs before the first restart, after each instance answers again, and
/// after the last restart: long enough for nginx to have kept-alive connections to both
/// instances when the next one is stopped (0.5 s was chosen, not tuned).
const SETTLE: Duration = Duration::from_millis(500);

/// From `SIGTERM` to exit, at most: the server's grace period (30 s) and some.
const EXIT_DEADLINE: Duration = Duration::from_secs(45);

/// `cargo xtask rolling [--rounds N] [--runtime tokio|smol] [--clients C] [--max-fails N]
/// [--rev REV | --debug]`.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let (build, args) = Build::take(args)?;
    let (rounds, args) = take_value(&args, "--rounds")?;
    let (runtime, args) = take_value(&args, "--runtime")?;
    let (clients, args) = take_value(&args, "--clients")?;
    let (max_fails, args) = take_value(&args, "--max-fails")?;
    if let Some(extra) = args.first() {
        return Err(format!("rolling: unknown argument {extra:?}"));
    }
    let parse = |flag: &str, value: Option<&str>, default: usize, min: usize| match value {
        None => Ok(default),
        Some(value) => value
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| format!("{flag} takes a number of at least {min}, not {value:?}")),
    };
    let rounds = parse("--rounds", rounds, 3, 1)?;
    let clients = parse("--clients", clients, 48, 2)?;
    let max_fails = parse("--max-fails", max_fails, 0, 0)?;
    let runtimes = runtimes(runtime)?;
    ensure_tool("nginx", "nginx")?;
    let binary = build.binary()?;
    let mut failures = Vec::new();
    for runtime in runtimes {
        let failed = one_runtime(&binary, runtime, rounds, clients, max_fails)?;
        if failed > 0 {
            failures.push(format!("{runtime}: {failed}"));
        }
    }
    if failures.is_empty() {
        println!("rolling: no failed request");
        Ok(())
    } else {
        Err(format!(
            "failed requests during the rolling restart ({})",
            failures.join("; ")
        ))
    }
}

/// Runs the restarts on one runtime; returns how many requests failed.
fn one_runtime(
    binary: &Path,
    runtime: &str,
    rounds: usize,
    clients: usize,
    max_fails: usize,
) -> Result<u64, String> {
    let dir = root().join("target/rolling").join(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let ports = [nginx::free_port()?, nginx::free_port()?];
    let mut instances = Vec::new();
    for port in ports {
        instances.push(BenchServer::start(binary, runtime, port)?);
    }
    let port = nginx::free_port()?;
    let conf = dir.join("nginx.conf");
    let config = nginx::upstream_config(&dir, port, &ports, max_fails, "error timeout");
    std::fs::write(&conf, config).map_err(|err| err.to_string())?;
    let proxy = nginx::start(&dir, &conf, port)?;
    println!(
        "==> {runtime}: nginx on 127.0.0.1:{port} -> instances on ports {} and {} \
         (max_fails={max_fails}); {rounds} rounds of restarts under {clients} clients",
        ports[0], ports[1]
    );

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let posting = clients / 4;
    let gets = Load::start(addr, clients - posting, GET, OnClose::Reconnect)?;
    let posts = Load::start(addr, posting, POST, OnClose::Reconnect)?;
    let started = Instant::now();
    std::thread::sleep(SETTLE);
    for round in 1..=rounds {
        for (slot, instance) in instances.iter_mut().enumerate() {
            let name = ["A", "B"][slot];
            instance.terminate()?;
            let signalled = Instant::now();
            let status = instance.wait(EXIT_DEADLINE)?;
            let exited = signalled.elapsed();
            *instance = BenchServer::start(binary, runtime, ports[slot])?;
            wait_answering(instance.addr, "/plaintext")?;
            println!(
                "    round {round}, instance {name}: SIGTERM to exit {exited:.1?} ({status}), \
                 answering again {:.1?} after SIGTERM",
                signalled.elapsed()
            );
            std::thread::sleep(SETTLE);
        }
    }
    let got = gets.stop();
    let posted = posts.stop();
    let elapsed = started.elapsed();
    drop(proxy);
    drop(instances);

    let report = |what: &str, t: &Tally| {
        println!(
            "    {what}: {} answered, {} non-2xx, {} lost, {} timed out; {} responses with \
             Connection: close, {} unsent (write failed), {} connects refused",
            t.answered, t.non_2xx, t.lost, t.timed_out, t.closing, t.unsent, t.refused
        );
    };
    println!("    {runtime}: load for {elapsed:.1?}");
    report("GET /blocking", &got);
    report("POST /echo", &posted);
    nginx::print_upstream_logs(&dir);
    Ok(got.failed() + posted.failed())
}
