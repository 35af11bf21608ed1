//! `cargo xtask cluster`: `examples/todo` deployed as it would be in production, three instances
//! on one PostgreSQL database behind nginx, restarted one by one under load, with no failed
//! request and no write lost or doubled.
//!
//! On each runtime (both, or the one `--runtime` names):
//!
//! 1. A database of its own on a throw-away PostgreSQL server (`postgres.rs`), and three
//!    instances of `examples/todo --database-url ...` on fixed free loopback ports.
//! 2. Throughput: the same mixed load for a third of `--seconds` each, on one instance
//!    directly, on one instance behind nginx, and on the three behind nginx. A third of the
//!    clients loop on `POST /todos` with a title of its own each time, a third on
//!    `GET /todos?limit=20`, a third on `GET /todos/1`, each on its own keep-alive connection
//!    (`load.rs`).
//! 3. The rolling restart: the same load through nginx for `--seconds`, while each instance in
//!    turn gets `SIGTERM`, exits, is started again on its port and answers; the restarts are
//!    spread evenly over the time (2 rounds, 6 restarts; 1 round with `--short`).
//! 4. The checks. Every request of every phase got a 2xx answer (another status, a connection
//!    that ended before the response, a timeout: each is a failure). Every `POST` answered 2xx
//!    has its item in the database exactly once, and no item is there twice. The activity log
//!    has a line for each item: the background task that writes it after the response ran,
//!    even on an instance stopped right after.
//!
//! nginx is set up as for `cargo xtask rolling`, whose module says why at length: keep-alive
//! connections to the instances, `max_fails=0`, and `proxy_next_upstream error timeout`,
//! without `non_idempotent`: nginx passes a request to another instance when its connect was
//! refused (nothing was sent) or its connection failed before a response header; a `POST`
//! already sent is never sent twice. That no `POST` fails this way is up to the server's
//! drain, which answers every request it has read. `--max-fails 1` (nginx's default) and
//! `--next-upstream "error timeout non_idempotent"` run with other settings, to compare.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{cargo, ensure_tool, root, step, take_value, target_dir};
use crate::drain::runtimes;
use crate::instance::{Instance, send, wait_answering};
use crate::load::{Load, OnClose, Request, Tally};
use crate::nginx;
use crate::postgres::Postgres;

/// The body of each `POST`: a title of its own (see `load.rs` for `{id}`).
const TITLE: &str = "cluster ";
const POST: Request = Request {
    method: "POST",
    path: "/todos",
    body: r#"{"title":"cluster {id}"}"#,
};
const LIST: Request = Request {
    method: "GET",
    path: "/todos?limit=20",
    body: "",
};
const READ: Request = Request {
    method: "GET",
    path: "/todos/1",
    body: "",
};

/// From `SIGTERM` to exit, at most: the server's grace period (30 s) and some.
const EXIT_DEADLINE: Duration = Duration::from_secs(45);

/// The instances' names, for the report.
const NAMES: [&str; 3] = ["A", "B", "C"];

/// What the command was asked for.
struct Options {
    seconds: u64,
    rounds: usize,
    clients: usize,
    workers: Option<usize>,
    max_fails: usize,
    next_upstream: String,
}

/// `cargo xtask cluster [--seconds N] [--short] [--runtime tokio|smol] [--clients C]
/// [--workers N] [--max-fails N] [--next-upstream VALUE] [--debug]`.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let mut args = args.to_vec();
    let mut flag = |name: &str| match args.iter().position(|arg| *arg == name) {
        Some(at) => {
            args.remove(at);
            true
        }
        None => false,
    };
    let debug = flag("--debug");
    let short = flag("--short");
    let (seconds, args) = take_value(&args, "--seconds")?;
    let (runtime, args) = take_value(&args, "--runtime")?;
    let (clients, args) = take_value(&args, "--clients")?;
    let (workers, args) = take_value(&args, "--workers")?;
    let (max_fails, args) = take_value(&args, "--max-fails")?;
    let (next_upstream, args) = take_value(&args, "--next-upstream")?;
    if let Some(extra) = args.first() {
        return Err(format!("cluster: unknown argument {extra:?}"));
    }
    let number = |flag: &str, value: Option<&str>, default: usize, min: usize| match value {
        None => Ok(default),
        Some(value) => value
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| format!("{flag} takes a number of at least {min}, not {value:?}")),
    };
    let options = Options {
        seconds: number("--seconds", seconds, if short { 9 } else { 30 }, 3)? as u64,
        rounds: if short { 1 } else { 2 },
        clients: number("--clients", clients, 30, 3)?,
        workers: workers
            .map(|w| number("--workers", Some(w), 0, 1))
            .transpose()?,
        max_fails: number("--max-fails", max_fails, 0, 0)?,
        next_upstream: next_upstream.unwrap_or("error timeout").to_owned(),
    };
    let runtimes = runtimes(runtime)?;
    ensure_tool("nginx", "nginx")?;
    let binary = build(debug)?;
    let postgres = Postgres::start()?;
    println!(
        "==> PostgreSQL {} on 127.0.0.1:{} (a throw-away cluster)",
        postgres.version.trim_start_matches("pg_ctl (PostgreSQL) "),
        postgres.port()
    );
    let mut failures = Vec::new();
    for runtime in runtimes {
        match one_runtime(&binary, &postgres, runtime, &options) {
            Ok(problems) => {
                failures.extend(problems.into_iter().map(|p| format!("{runtime}: {p}")))
            }
            Err(err) => {
                let log = postgres.log();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!(
                    "{runtime}: {err}\nthe end of PostgreSQL's log:\n{}",
                    tail.join("\n")
                ));
            }
        }
    }
    drop(postgres);
    if failures.is_empty() {
        println!("cluster: no failed request, no write lost or doubled");
        Ok(())
    } else {
        Err(format!("cluster: {}", failures.join("; ")))
    }
}

/// Builds `examples/todo` in the release profile, or the dev one with `--debug` (the build
/// `cargo test` made already).
fn build(debug: bool) -> Result<PathBuf, String> {
    let mut build = cargo();
    build.args(["build", "--quiet", "--example", "todo"]);
    if !debug {
        build.arg("--release");
    }
    let profile = if debug { "debug" } else { "release" };
    step(&format!("build examples/todo ({profile})"), build)?;
    Ok(target_dir().join(profile).join("examples/todo"))
}

/// The instances' command line.
struct Launch<'a> {
    binary: &'a Path,
    runtime: &'a str,
    url: String,
    workers: Option<usize>,
}

impl Launch<'_> {
    /// Starts an instance on loopback `port` and waits until it answers.
    fn start(&self, port: u16) -> Result<Instance, String> {
        let mut command = Command::new(self.binary);
        command
            .args(["--port", &port.to_string(), "--database-url", &self.url])
            .env("PORTICO_RUNTIME", self.runtime)
            // Warnings and errors only: a line per request would be most of the output.
            .env("RUST_LOG", "warn");
        if let Some(workers) = self.workers {
            command.args(["--workers", &workers.to_string()]);
        }
        let instance = Instance::start(command, &format!("examples/todo on port {port}"))?;
        wait_answering(instance.addr, "/todos?limit=1")?;
        Ok(instance)
    }
}

/// Runs the phases on one runtime; returns what failed.
fn one_runtime(
    binary: &Path,
    postgres: &Postgres,
    runtime: &str,
    options: &Options,
) -> Result<Vec<String>, String> {
    let dir = root().join("target/cluster").join(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let db = format!("todo_{runtime}");
    postgres.psql("postgres", &format!("CREATE DATABASE {db}"))?;
    let launch = Launch {
        binary,
        runtime,
        url: postgres.url(&db),
        workers: options.workers,
    };
    let ports = [
        nginx::free_port()?,
        nginx::free_port()?,
        nginx::free_port()?,
    ];
    let mut instances = Vec::new();
    for port in ports {
        instances.push(launch.start(port)?);
    }
    println!(
        "==> {runtime}: examples/todo on ports {}, {} and {} ({}), database {db}; \
         {} clients: {} POST /todos, {} GET /todos?limit=20, {} GET /todos/1",
        ports[0],
        ports[1],
        ports[2],
        options
            .workers
            .map_or("workers: one per CPU".to_owned(), |w| {
                format!("--workers {w}")
            }),
        options.clients,
        options.clients / 3,
        options.clients / 3,
        options.clients - 2 * (options.clients / 3),
    );
    // The item that `GET /todos/1` reads.
    let seeded = send(instances[0].addr, "POST", "/todos", r#"{"title":"seed"}"#)?;
    if seeded != 201 {
        return Err(format!("POST /todos answered {seeded}, not 201"));
    }

    let mut totals = Totals::default();
    let phase = Duration::from_secs((options.seconds / 3).max(2));
    println!("    throughput, {phase:?} each:");
    let direct = Mix::start(instances[0].addr, options.clients)?;
    std::thread::sleep(phase);
    let one_direct = totals.add(direct.stop());
    println!("      one instance, direct:         {}", one_direct.line());
    let one_proxied = behind_nginx(&dir.join("one"), &ports[..1], options, |addr| {
        let mix = Mix::start(addr, options.clients)?;
        std::thread::sleep(phase);
        Ok(mix.stop())
    })?;
    let one_proxied = totals.add(one_proxied);
    println!("      one instance behind nginx:    {}", one_proxied.line());
    let three = behind_nginx(&dir.join("three"), &ports, options, |addr| {
        let mix = Mix::start(addr, options.clients)?;
        std::thread::sleep(phase);
        Ok(mix.stop())
    })?;
    let three = totals.add(three);
    println!(
        "      three instances behind nginx: {} ({:.2}x one behind nginx)",
        three.line(),
        three.per_second() / one_proxied.per_second()
    );

    let restarts = 3 * options.rounds;
    let length = Duration::from_secs(options.seconds);
    let every = length / (restarts as u32 + 1);
    println!(
        "    rolling restart: {restarts} restarts under load through nginx, one every {every:.1?} \
         of {length:?} (max_fails={}, proxy_next_upstream {})",
        options.max_fails, options.next_upstream
    );
    let rolling_dir = dir.join("rolling");
    let rolled = behind_nginx(&rolling_dir, &ports, options, |addr| {
        let mix = Mix::start(addr, options.clients)?;
        let started = Instant::now();
        for n in 0..restarts {
            let slot = n % 3;
            let at = every * (n as u32 + 1);
            std::thread::sleep(at.saturating_sub(started.elapsed()));
            let instance = &mut instances[slot];
            instance.terminate()?;
            let signalled = Instant::now();
            let status = instance.wait(EXIT_DEADLINE)?;
            let exited = signalled.elapsed();
            *instance = launch.start(ports[slot])?;
            println!(
                "      round {}, instance {}: SIGTERM to exit {exited:.1?} ({status}), \
                 answering again {:.1?} after SIGTERM",
                n / 3 + 1,
                NAMES[slot],
                signalled.elapsed()
            );
        }
        std::thread::sleep(length.saturating_sub(started.elapsed()));
        Ok(mix.stop())
    })?;
    let rolled = totals.add(rolled);
    println!("      under the restarts:           {}", rolled.line());
    rolled.print_kinds();
    nginx::print_upstream_logs(&rolling_dir);
    // Every instance stops as it would in production, so that its background tasks finish.
    for instance in &mut instances {
        instance.terminate()?;
        instance.wait(EXIT_DEADLINE)?;
    }
    drop(instances);
    totals.check(postgres, &db)
}

/// Starts nginx in `dir` in front of the instances on `ports`, runs `f` with its address, and
/// stops it.
fn behind_nginx<T>(
    dir: &Path,
    ports: &[u16],
    options: &Options,
    f: impl FnOnce(SocketAddr) -> Result<T, String>,
) -> Result<T, String> {
    std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let port = nginx::free_port()?;
    let conf = dir.join("nginx.conf");
    let config =
        nginx::upstream_config(dir, port, ports, options.max_fails, &options.next_upstream);
    std::fs::write(&conf, config).map_err(|err| err.to_string())?;
    let proxy = nginx::start(dir, &conf, port)?;
    let result = f(SocketAddr::from(([127, 0, 0, 1], port)));
    drop(proxy);
    result
}

/// The three kinds of client, started together on one address.
struct Mix {
    posts: Load,
    lists: Load,
    reads: Load,
    started: Instant,
    cpu: Option<CpuTimes>,
}

/// The machine's CPU time so far, busy and idle, in clock ticks (Linux's `/proc/stat`).
#[derive(Clone, Copy)]
struct CpuTimes {
    busy: u64,
    idle: u64,
}

impl CpuTimes {
    fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?.strip_prefix("cpu ")?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal ...: idle and iowait are idle.
        let idle = ticks.get(3)? + ticks.get(4)?;
        let busy = ticks.iter().take(8).sum::<u64>() - idle;
        Some(CpuTimes { busy, idle })
    }

    /// The share of the time since `self` that the machine's CPUs were busy.
    fn busy_since(self) -> Option<f64> {
        let now = CpuTimes::now()?;
        let busy = now.busy.checked_sub(self.busy)? as f64;
        let idle = now.idle.checked_sub(self.idle)? as f64;
        (busy + idle > 0.0).then(|| busy / (busy + idle))
    }
}

impl Mix {
    fn start(addr: SocketAddr, clients: usize) -> Result<Mix, String> {
        let third = clients / 3;
        Ok(Mix {
            posts: Load::start(addr, third, POST, OnClose::Reconnect)?,
            lists: Load::start(addr, third, LIST, OnClose::Reconnect)?,
            reads: Load::start(addr, clients - 2 * third, READ, OnClose::Reconnect)?,
            started: Instant::now(),
            cpu: CpuTimes::now(),
        })
    }

    fn stop(self) -> Phase {
        let (posts, created) = self.posts.stop_with_ids();
        let lists = self.lists.stop();
        let reads = self.reads.stop();
        Phase {
            posts,
            lists,
            reads,
            created,
            elapsed: self.started.elapsed(),
            busy: self.cpu.and_then(CpuTimes::busy_since),
        }
    }
}

/// What the clients of one phase saw.
struct Phase {
    posts: Tally,
    lists: Tally,
    reads: Tally,
    /// The `{id}` of each `POST` answered 2xx.
    created: Vec<u64>,
    elapsed: Duration,
    /// The share of the machine's CPU time that was busy, if known.
    busy: Option<f64>,
}

impl Phase {
    fn all(&self) -> Tally {
        let mut all = self.posts;
        all += self.lists;
        all += self.reads;
        all
    }

    fn per_second(&self) -> f64 {
        self.all().answered as f64 / self.elapsed.as_secs_f64()
    }

    fn line(&self) -> String {
        let all = self.all();
        let busy = self
            .busy
            .map(|busy| format!(", CPUs {:.0}% busy", busy * 100.0))
            .unwrap_or_default();
        format!(
            "{:.0} requests/s ({:.0} POST/s), {} answered 2xx, {} failed{busy}",
            self.per_second(),
            self.posts.answered as f64 / self.elapsed.as_secs_f64(),
            all.answered,
            all.failed()
        )
    }

    fn print_kinds(&self) {
        for (what, t) in [
            ("POST /todos", &self.posts),
            ("GET /todos?limit=20", &self.lists),
            ("GET /todos/1", &self.reads),
        ] {
            println!(
                "      {what}: {} answered, {} non-2xx, {} lost, {} timed out; {} unsent \
                 (write failed), {} connects refused",
                t.answered, t.non_2xx, t.lost, t.timed_out, t.unsent, t.refused
            );
        }
    }
}

/// All the phases of one runtime.
#[derive(Default)]
struct Totals {
    failed: u64,
    created: Vec<u64>,
}

impl Totals {
    fn add(&mut self, phase: Phase) -> Phase {
        self.failed += phase.all().failed();
        self.created.extend(&phase.created);
        phase
    }

    /// Reads the database and says what is wrong, if anything.
    fn check(&self, postgres: &Postgres, db: &str) -> Result<Vec<String>, String> {
        let rows = postgres.psql(db, "SELECT title, count(*) FROM todos GROUP BY title")?;
        let mut stored: HashMap<u64, u64> = HashMap::new();
        let mut doubled = 0;
        let mut foreign = Vec::new();
        for row in rows.lines() {
            let Some((title, count)) = row.rsplit_once('|') else {
                continue;
            };
            let count: u64 = count.parse().map_err(|_| format!("psql printed {row:?}"))?;
            if count > 1 {
                doubled += 1;
            }
            match title.strip_prefix(TITLE).and_then(|id| id.parse().ok()) {
                Some(id) => {
                    stored.insert(id, count);
                }
                None if title == "seed" => {}
                None => foreign.push(title.to_owned()),
            }
        }
        let created: HashSet<u64> = self.created.iter().copied().collect();
        let missing = created.iter().filter(|id| !stored.contains_key(id)).count();
        let unanswered = stored.keys().filter(|id| !created.contains(id)).count();
        let items = postgres.psql(db, "SELECT count(*) FROM todos")?;
        let logged = postgres.psql(db, "SELECT count(*) FROM activity")?;
        let (items, logged) = (items.trim(), logged.trim());
        println!(
            "    database: {items} items; {} POSTs answered 2xx in all phases: {missing} of their \
             items missing, {doubled} titles stored more than once, {unanswered} items of POSTs \
             without a 2xx; {logged} activity lines for {items} items",
            created.len()
        );
        let mut problems = Vec::new();
        if self.failed > 0 {
            problems.push(format!("{} failed requests", self.failed));
        }
        if created.len() != self.created.len() {
            problems.push("a POST's id answered twice".to_owned());
        }
        if missing > 0 {
            problems.push(format!("{missing} items of POSTs answered 2xx are missing"));
        }
        if doubled > 0 {
            problems.push(format!("{doubled} titles are stored more than once"));
        }
        if !foreign.is_empty() {
            problems.push(format!("items nobody created: {foreign:?}"));
        }
        if logged != items {
            problems.push(format!("{logged} activity lines for {items} items"));
        }
        Ok(problems)
    }
}
