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

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use super::{ensure_tool, root, take_value};
use crate::drain::{BenchServer, Build, runtimes};
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
    std::fs::write(&conf, config(&dir, port, ports, max_fails)).map_err(|err| err.to_string())?;
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
            wait_answering(instance.addr)?;
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
    print_nginx_logs(&dir);
    Ok(got.failed() + posted.failed())
}

/// Waits until the instance at `addr` answers `GET /plaintext` with a 200.
fn wait_answering(addr: SocketAddr) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if answers(addr) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("the instance on {addr} does not answer"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn answers(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /plaintext HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut response = Vec::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_end(&mut response).is_ok()
        && response.starts_with(b"HTTP/1.1 200")
}

/// Tells from nginx's logs how it got through: how many requests it passed to a second
/// instance, and the upstream errors it logged, by kind.
fn print_nginx_logs(dir: &Path) {
    let access = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
    // Each line: method, status, upstream addresses, upstream statuses (see `config`).
    let retried: Vec<&str> = access.lines().filter(|line| line.contains(", ")).collect();
    let retried_posts = retried
        .iter()
        .filter(|line| line.starts_with("POST"))
        .count();
    println!(
        "    nginx passed {} of {} requests on to the other instance ({retried_posts} of them \
         POST)",
        retried.len(),
        access.lines().count()
    );
    // The failures nginx answered, by method and status.
    let mut failed: Vec<(&str, usize)> = Vec::new();
    for line in access.lines() {
        let mut words = line.split(' ');
        let (Some(method), Some(status)) = (words.next(), words.next()) else {
            continue;
        };
        if !status.starts_with('2') {
            let what = &line[..method.len() + 1 + status.len()];
            match failed.iter_mut().find(|(seen, _)| *seen == what) {
                Some((_, n)) => *n += 1,
                None => failed.push((what, 1)),
            }
        }
    }
    for (what, n) in failed {
        println!("    nginx answered {what} {n} times");
    }
    let errors = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    let kinds = [
        ("connect() failed", "connects refused"),
        (
            "prematurely closed",
            "connections closed before a response header",
        ),
        ("reset by peer", "connections reset"),
        ("no live upstreams", "no live upstreams"),
        ("timed out", "timeouts"),
    ];
    for (needle, what) in kinds {
        let n = errors.lines().filter(|line| line.contains(needle)).count();
        if n > 0 {
            println!("    nginx error log: {n} {what}");
        }
    }
}

fn config(dir: &Path, port: u16, instances: [u16; 2], max_fails: usize) -> String {
    let dir = dir.display();
    let [a, b] = instances;
    // 64 idle connections kept per worker: more than the clients in flight, so nginx does not
    // close and reopen connections to the instances in steady state.
    format!(
        r#"worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_method $status $upstream_addr $upstream_status';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream instances {{
        server 127.0.0.1:{a} max_fails={max_fails};
        server 127.0.0.1:{b} max_fails={max_fails};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://instances;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
        }}
    }}
}}
"#
    )
}
