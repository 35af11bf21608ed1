//! `cargo xtask bench http`: the benchmark endpoints served by Portico (on tokio and on smol),
//! raw hyper on tokio, axum and actix-web, loaded with `wrk` on loopback.
//!
//! Each server runs with the same number of worker threads, pinned to one core; `wrk` runs
//! pinned to another. Rounds are interleaved (a shuffled server order each round) and every
//! figure is a median. Besides requests/s and p99 latency, it reports the **server's CPU time
//! per request**, read from `/proc/<pid>/stat` before and after each run: on a two-core machine
//! `wrk` saturates its core against any fast server, so requests/s alone hides the difference.
//!
//! With `--baseline PATH`, a second build of `bench_server` (say, main before a change) runs as
//! two more servers, `portico-base (tokio)` and `portico-base (smol)`, in the same interleaved
//! rounds, and a second table gives each endpoint's CPU per request of Portico over the
//! baseline's on the same runtime.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[allow(dead_code, reason = "shared with the other benchmarks")]
mod stats;

struct Args {
    rounds: usize,
    duration: u64,
    warmup: u64,
    connections: usize,
    workers: usize,
    server_cpu: String,
    client_cpu: String,
    portico: PathBuf,
    baseline: Option<PathBuf>,
    only: Option<Vec<String>>,
    endpoints: Option<Vec<String>>,
    check: bool,
}

const USAGE: &str = "\
usage: bench-http --portico PATH [--baseline PATH] [--rounds 3] [--duration 3] [--warmup 1]
                  [--connections 32] [--workers 1] [--server-cpu 0] [--client-cpu 1]
                  [--only SERVER,...] [--endpoints plaintext,json,...] [--check]

  --portico PATH     the bench_server example, run as portico (tokio) and portico (smol)
  --baseline PATH    another build of bench_server (main before a change, say), run as two more
                     servers, portico-base (tokio) and portico-base (smol), in the same rounds;
                     the report adds, for each endpoint, Portico's CPU per request over the
                     baseline's on the same runtime
  --only SERVER,...  only the servers whose names contain one of these words, and hyper (tokio),
                     the reference: `portico` keeps portico and portico-base, `portico-base`
                     the baseline alone
  --check            only check that every server answers as specified
";

fn usage(problem: &str) -> ! {
    eprintln!("bench-http: {problem}\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        rounds: 3,
        duration: 3,
        warmup: 1,
        connections: 32,
        workers: 1,
        server_cpu: "0".into(),
        client_cpu: "1".into(),
        portico: PathBuf::new(),
        baseline: None,
        only: None,
        endpoints: None,
        check: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--check" {
            args.check = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            print!("{USAGE}");
            std::process::exit(0)
        }
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = |v: &str| {
            v.parse::<u64>()
                .unwrap_or_else(|_| usage(&format!("{flag} takes a number")))
        };
        match flag.as_str() {
            "--rounds" => args.rounds = number(&value) as usize,
            "--duration" => args.duration = number(&value),
            "--warmup" => args.warmup = number(&value),
            "--connections" => args.connections = number(&value) as usize,
            "--workers" => args.workers = number(&value) as usize,
            "--server-cpu" => args.server_cpu = value,
            "--client-cpu" => args.client_cpu = value,
            "--portico" => args.portico = PathBuf::from(value),
            "--baseline" => args.baseline = Some(PathBuf::from(value)),
            "--only" => args.only = Some(value.split(',').map(str::to_owned).collect()),
            "--endpoints" => args.endpoints = Some(value.split(',').map(str::to_owned).collect()),
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    if args.portico.as_os_str().is_empty() {
        usage("--portico is required (the bench_server example)");
    }
    args
}

/// One server under test.
struct Server {
    name: &'static str,
    binary: PathBuf,
    env: Vec<(&'static str, &'static str)>,
}

/// One endpoint: what `wrk` sends, and what a correct answer looks like.
struct Endpoint {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: &'static str,
    /// A request that must be refused (422 from Portico).
    invalid: Option<(&'static str, &'static str, Option<&'static str>)>,
    /// For an endpoint only Portico serves (a feature the peers lack), the endpoint of the same
    /// server it is compared with instead of raw hyper.
    against: Option<&'static str>,
    /// Headers wrk sends with every request.
    headers: &'static [&'static str],
}

const ECHO: &str = r#"{"name":"portico","count":3,"tags":["a","b"]}"#;

const ENDPOINTS: [Endpoint; 8] = [
    Endpoint {
        name: "plaintext",
        method: "GET",
        path: "/plaintext",
        body: None,
        expect: "Hello, World!",
        invalid: None,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "json",
        method: "GET",
        path: "/json",
        body: None,
        expect: r#"{"message":"Hello, World!"}"#,
        invalid: None,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "users",
        method: "GET",
        path: "/users/42?verbose=true",
        body: None,
        expect: r#"{"id":42,"verbose":true}"#,
        invalid: Some(("GET", "/users/x?verbose=maybe", None)),
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "echo",
        method: "POST",
        path: "/echo",
        body: Some(ECHO),
        expect: ECHO,
        invalid: Some((
            "POST",
            "/echo",
            Some(r#"{"name":1,"count":"x","tags":[2]}"#),
        )),
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "blocking",
        method: "GET",
        path: "/blocking",
        body: None,
        expect: r#"{"ok":true}"#,
        invalid: None,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "deps",
        method: "GET",
        path: "/deps",
        body: None,
        expect: r#"{"tenant":7,"session":"s-7","quota":700}"#,
        invalid: None,
        against: Some("users"),
        headers: &[],
    },
    Endpoint {
        name: "deps-async",
        method: "GET",
        path: "/deps-async",
        body: None,
        expect: r#"{"tenant":7,"session":"s-7","quota":700}"#,
        invalid: None,
        against: Some("users"),
        headers: &[],
    },
    Endpoint {
        name: "json-mw",
        method: "GET",
        path: "/mw/json",
        body: None,
        expect: r#"{"message":"Hello, World!"}"#,
        invalid: None,
        against: Some("json"),
        // A browser's cross-origin request: CORS answers it, and the body is under the
        // compression minimum, so it goes uncompressed.
        headers: &["Origin: http://bench.example", "Accept-Encoding: gzip, br"],
    },
];

impl Server {
    /// Whether the server answers `endpoint` (the peers lack Portico-only features).
    fn serves(&self, endpoint: &Endpoint) -> bool {
        endpoint.against.is_none() || self.name.starts_with("portico")
    }
}

/// A running server, stopped when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(server: &Server, args: &Args) -> Running {
    let mut command = Command::new("taskset");
    command
        .args(["-c", &args.server_cpu])
        .arg(&server.binary)
        .args(["--port", "0", "--workers", &args.workers.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in &server.env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", server.binary.display()));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the server prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{}: unexpected first line {line:?}", server.name));
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Running { child, addr }
}

/// One HTTP/1.1 request on a fresh connection: status and body.
fn fetch(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: bench\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("reads");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let rest = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // One chunk is all these small bodies take.
        rest.split("\r\n").nth(1).unwrap_or("").to_owned()
    } else {
        rest.to_owned()
    };
    (status, rest)
}

/// Checks that a server answers every endpoint as specified.
fn check(server: &Server, running: &Running, endpoints: &[&Endpoint]) -> Result<(), String> {
    for endpoint in endpoints.iter().filter(|e| server.serves(e)) {
        let (status, body) = fetch(running.addr, endpoint.method, endpoint.path, endpoint.body);
        if status != 200 || body != endpoint.expect {
            return Err(format!(
                "{} {}: {status} {body:?}, expected 200 {:?}",
                server.name, endpoint.path, endpoint.expect
            ));
        }
        if let Some((method, path, body)) = endpoint.invalid {
            // FastAPI's 422 is Portico's (checked by its own tests); axum and actix-web answer
            // 400 for some of these, which is as good a refusal for this benchmark.
            let (status, body) = fetch(running.addr, method, path, body);
            if !(400..500).contains(&status) {
                return Err(format!(
                    "{} {method} {path}: {status} {body:?}, expected a 4xx refusal",
                    server.name
                ));
            }
        }
    }
    Ok(())
}

/// CPU time used so far by a process and all its threads, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server is running");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, so 11 and 12 after the name.
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .expect("getconf");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(100.0)
    })
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rps: f64,
    p99_ms: f64,
    cpu_us: f64,
}

fn wrk(args: &Args, running: &Running, endpoint: &Endpoint, seconds: u64, script: &Path) -> Sample {
    let url = format!("http://{}{}", running.addr, endpoint.path);
    let mut command = Command::new("taskset");
    command.args([
        "-c",
        &args.client_cpu,
        "wrk",
        "-t1",
        &format!("-c{}", args.connections),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if endpoint.body.is_some() {
        command.arg("-s").arg(script);
    }
    for header in endpoint.headers {
        command.args(["-H", header]);
    }
    command.arg(&url);
    let before = cpu_seconds(running.child.id());
    let out = command
        .output()
        .expect("wrk runs (install it: apt-get install wrk)");
    let after = cpu_seconds(running.child.id());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains("Non-2xx"),
        "{url}: wrk saw error responses:\n{text}"
    );
    let number = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(prefix)
                    .map(|rest| rest.trim().to_owned())
            })
            .map(|v| {
                let v = v.split_whitespace().next().unwrap_or("0");
                v.parse().unwrap_or(0.0)
            })
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{url}: no request count in wrk's output:\n{text}"));
    let rps = number("Requests/sec:").unwrap_or(0.0);
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%").map(|v| v.trim().to_owned()))
        .map(|v| duration_ms(&v))
        .unwrap_or(f64::NAN);
    Sample {
        rps,
        p99_ms: p99,
        cpu_us: (after - before) / requests * 1e6,
    }
}

/// wrk's durations: `1.23ms`, `456.00us`, `1.02s`.
fn duration_ms(text: &str) -> f64 {
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}

fn main() {
    let args = parse_args();
    let here = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("a directory")
        .to_path_buf();
    let mut servers = vec![
        Server {
            name: "hyper (tokio)",
            binary: here.join("peer-hyper"),
            env: vec![],
        },
        Server {
            name: "portico (tokio)",
            binary: args.portico.clone(),
            env: vec![("PORTICO_RUNTIME", "tokio")],
        },
        Server {
            name: "portico (smol)",
            binary: args.portico.clone(),
            env: vec![("PORTICO_RUNTIME", "smol")],
        },
        Server {
            name: "axum",
            binary: here.join("peer-axum"),
            env: vec![],
        },
        Server {
            name: "actix-web",
            binary: here.join("peer-actix"),
            env: vec![],
        },
    ];
    if let Some(baseline) = &args.baseline {
        // Same environment as the two above: only the binary differs.
        for (name, runtime) in [
            ("portico-base (tokio)", "tokio"),
            ("portico-base (smol)", "smol"),
        ] {
            servers.push(Server {
                name,
                binary: baseline.clone(),
                env: vec![("PORTICO_RUNTIME", runtime)],
            });
        }
    }
    let servers: Vec<Server> = match &args.only {
        Some(only) => servers
            .into_iter()
            .filter(|s| {
                s.name == "hyper (tokio)" || only.iter().any(|word| s.name.contains(word.as_str()))
            })
            .collect(),
        None => servers,
    };
    let endpoints: Vec<&Endpoint> = ENDPOINTS
        .iter()
        .filter(|e| {
            args.endpoints
                .as_ref()
                .is_none_or(|wanted| wanted.iter().any(|w| w == e.name))
        })
        .collect();

    for server in &servers {
        let running = start(server, &args);
        let checked = check(server, &running, &endpoints);
        // Stop the server before leaving: `exit` runs no destructors.
        drop(running);
        if let Err(problem) = checked {
            eprintln!("bench-http: {problem}");
            std::process::exit(1);
        }
    }
    println!("every server answers the benchmark endpoints as specified");
    if args.check {
        return;
    }

    let script =
        std::env::temp_dir().join(format!("portico-bench-echo-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!("wrk.method = \"POST\"\nwrk.body = '{ECHO}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"),
    )
    .expect("writes the wrk script");

    // samples[(server, endpoint)] = one sample per round
    let mut samples: BTreeMap<(usize, usize), Vec<Sample>> = BTreeMap::new();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut order: Vec<usize> = (0..servers.len()).collect();
    for round in 0..args.rounds {
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for &s in &order {
            let running = start(&servers[s], &args);
            for (e, endpoint) in endpoints.iter().enumerate() {
                if !servers[s].serves(endpoint) {
                    continue;
                }
                if args.warmup > 0 {
                    wrk(&args, &running, endpoint, args.warmup, &script);
                }
                let sample = wrk(&args, &running, endpoint, args.duration, &script);
                eprintln!(
                    "round {}: {:<20} {:<10} {:>9.0} req/s  p99 {:>7.2} ms  {:>6.2} µs CPU/req",
                    round + 1,
                    servers[s].name,
                    endpoint.name,
                    sample.rps,
                    sample.p99_ms,
                    sample.cpu_us
                );
                samples.entry((s, e)).or_default().push(sample);
            }
        }
    }
    let _ = std::fs::remove_file(&script);

    println!(
        "\n{} rounds of {} s per endpoint (after {} s of warm-up), {} connections, {} worker thread(s); server on CPU {}, wrk on CPU {}",
        args.rounds,
        args.duration,
        args.warmup,
        args.connections,
        args.workers,
        args.server_cpu,
        args.client_cpu
    );
    if let Some(baseline) = &args.baseline {
        println!("portico-base: {}", baseline.display());
    }
    println!(
        "medians; ratios are medians of per-round ratios to hyper (tokio), or for a Portico-only endpoint to the same server's endpoint named in brackets\n"
    );
    println!(
        "| endpoint | server | req/s | p99 ms | CPU µs/req | req/s ratio | p99 ratio | CPU/req ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (e, endpoint) in endpoints.iter().enumerate() {
        for (s, server) in servers.iter().enumerate() {
            if !server.serves(endpoint) {
                continue;
            }
            let base = match endpoint.against {
                None => &samples[&(0, e)],
                Some(other) => match endpoints.iter().position(|x| x.name == other) {
                    Some(o) => &samples[&(s, o)],
                    None => {
                        println!(
                            "| {} | {} | (run it with `{other}` to compare) |",
                            endpoint.name, server.name
                        );
                        continue;
                    }
                },
            };
            let mine = &samples[&(s, e)];
            let pick =
                |f: fn(&Sample) -> f64, of: &[Sample]| of.iter().map(f).collect::<Vec<f64>>();
            let rps = pick(|x| x.rps, mine);
            let p99 = pick(|x| x.p99_ms, mine);
            let cpu = pick(|x| x.cpu_us, mine);
            let name = match endpoint.against {
                None => endpoint.name.to_owned(),
                Some(other) => format!("{} [vs {other}]", endpoint.name),
            };
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.3} | {:.3} | {:.3} |",
                name,
                server.name,
                stats::median(&rps),
                stats::median(&p99),
                stats::median(&cpu),
                stats::paired_ratio(&rps, &pick(|x| x.rps, base)),
                stats::paired_ratio(&p99, &pick(|x| x.p99_ms, base)),
                stats::paired_ratio(&cpu, &pick(|x| x.cpu_us, base)),
            );
        }
    }
    print_baseline(&servers, &endpoints, &samples);
}

/// Prints, for each endpoint, Portico's CPU per request over the baseline build's on the same
/// runtime (the median of the per-round ratios, as in the table above), if both ran.
fn print_baseline(
    servers: &[Server],
    endpoints: &[&Endpoint],
    samples: &BTreeMap<(usize, usize), Vec<Sample>>,
) {
    let find = |name: &str| servers.iter().position(|s| s.name == name);
    let pairs: Vec<(&str, usize, usize)> = [
        ("tokio", "portico (tokio)", "portico-base (tokio)"),
        ("smol", "portico (smol)", "portico-base (smol)"),
    ]
    .into_iter()
    .filter_map(|(runtime, mine, base)| Some((runtime, find(mine)?, find(base)?)))
    .collect();
    if pairs.is_empty() {
        return;
    }
    println!(
        "\nportico vs baseline (CPU per request, paired median): ratios are portico / portico-base \
         on the same runtime, medians of per-round ratios; above 1.000 the current build costs more\n"
    );
    println!(
        "| endpoint | runtime | portico CPU µs/req | baseline CPU µs/req | CPU/req ratio | req/s ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let pick = |f: fn(&Sample) -> f64, of: &[Sample]| of.iter().map(f).collect::<Vec<f64>>();
    for (e, endpoint) in endpoints.iter().enumerate() {
        for &(runtime, m, b) in &pairs {
            let (Some(mine), Some(base)) = (samples.get(&(m, e)), samples.get(&(b, e))) else {
                continue;
            };
            let cpu = pick(|x| x.cpu_us, mine);
            let base_cpu = pick(|x| x.cpu_us, base);
            println!(
                "| {} | {runtime} | {:.2} | {:.2} | {:.3} | {:.3} |",
                endpoint.name,
                stats::median(&cpu),
                stats::median(&base_cpu),
                stats::paired_ratio(&cpu, &base_cpu),
                stats::paired_ratio(&pick(|x| x.rps, mine), &pick(|x| x.rps, base)),
            );
        }
    }
}
