//! `cargo xtask bench tls`: `/json` over HTTPS, served by Portico (on tokio and on smol) and by
//! raw hyper over tokio-rustls, both with rustls on aws-lc-rs and the same certificate.
//!
//! As in `bench http`: each server runs with the same worker threads pinned to one core, the
//! load generator pinned to another, rounds interleaved in a shuffled order, medians, and the
//! **server's CPU time per request** from `/proc/<pid>/stat`; ratios are medians of per-round
//! ratios to hyper. The cases:
//!
//! * `json`: HTTP/1.1 keep-alive connections (`wrk`): the cost of the records;
//! * `json-handshake`: `Connection: close` on every request (`wrk`), so a full TLS handshake
//!   per request;
//! * `json-h2`: HTTP/2 chosen by ALPN (`h2load`, when it is installed).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

#[allow(dead_code, reason = "shared with the other benchmarks")]
mod stats;

const USAGE: &str = "\
usage: bench-tls --portico PATH --tls-cert FILE --tls-key FILE --tls-ca FILE [--rounds 5]
                 [--duration 3] [--warmup 1] [--connections 32] [--workers 1]
                 [--server-cpu 0] [--client-cpu 1] [--cases json,json-handshake,json-h2]
                 [--check]

  --portico PATH     the bench_server example, run as portico (tokio) and portico (smol)
  --tls-ca FILE      the authority the certificate is checked against before the rounds
  --cases ...        json-h2 needs h2load (Debian's nghttp2-client)
  --check            only check that every server answers over TLS as specified
";

struct Args {
    rounds: usize,
    duration: u64,
    warmup: u64,
    connections: usize,
    workers: usize,
    server_cpu: String,
    client_cpu: String,
    portico: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
    cases: Vec<String>,
    check: bool,
}

fn usage(problem: &str) -> ! {
    eprintln!("bench-tls: {problem}\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        rounds: 5,
        duration: 3,
        warmup: 1,
        connections: 32,
        workers: 1,
        server_cpu: "0".into(),
        client_cpu: "1".into(),
        portico: PathBuf::new(),
        cert: PathBuf::new(),
        key: PathBuf::new(),
        ca: PathBuf::new(),
        cases: vec!["json".into(), "json-handshake".into(), "json-h2".into()],
        check: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--check" => {
                args.check = true;
                continue;
            }
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0)
            }
            _ => {}
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
            "--tls-cert" => args.cert = PathBuf::from(value),
            "--tls-key" => args.key = PathBuf::from(value),
            "--tls-ca" => args.ca = PathBuf::from(value),
            "--cases" => args.cases = value.split(',').map(str::to_owned).collect(),
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    for (path, flag) in [
        (&args.portico, "--portico"),
        (&args.cert, "--tls-cert"),
        (&args.key, "--tls-key"),
        (&args.ca, "--tls-ca"),
    ] {
        if path.as_os_str().is_empty() {
            usage(&format!("{flag} is required"));
        }
    }
    args
}

struct Server {
    name: &'static str,
    binary: PathBuf,
    env: Vec<(&'static str, &'static str)>,
}

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

/// Starts a server and waits until it answers `/json` over TLS (up to 10 s).
fn start_ready(server: &Server, args: &Args) -> Running {
    let running = start(server, args);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match get_json(running.addr, args) {
            Ok(_) => return running,
            Err(problem) if std::time::Instant::now() > deadline => {
                panic!(
                    "{}: no answer within 10 s of starting: {problem}",
                    server.name
                )
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn start(server: &Server, args: &Args) -> Running {
    let mut command = Command::new("taskset");
    command
        .args(["-c", &args.server_cpu])
        .arg(&server.binary)
        .args(["--port", "0", "--workers", &args.workers.to_string()])
        .arg("--tls-cert")
        .arg(&args.cert)
        .arg("--tls-key")
        .arg(&args.key)
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
        .strip_prefix("listening on https://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{}: unexpected first line {line:?}", server.name));
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Running { child, addr }
}

/// A client that trusts the benchmark's authority and offers `alpn`.
fn client_config(args: &Args, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.ca).expect("reads the authority") {
        roots
            .add(cert.expect("a certificate"))
            .expect("a valid root");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// Checks, with a verifying client, that the server answers `/json` over HTTP/1.1 and
/// chooses HTTP/2 when it is offered.
fn check(server: &Server, running: &Running, args: &Args) -> Result<(), String> {
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    let connect = |alpn: &[&[u8]]| {
        let conn = rustls::ClientConnection::new(client_config(args, alpn), name.clone())
            .expect("a client connection");
        let tcp = TcpStream::connect(running.addr).expect("connects");
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        rustls::StreamOwned::new(conn, tcp)
    };
    let mut h2 = connect(&[b"h2", b"http/1.1"]);
    // A zero-length write drives the handshake.
    h2.write_all(b"")
        .and_then(|()| h2.flush())
        .map_err(|e| e.to_string())?;
    while h2.conn.is_handshaking() {
        h2.conn
            .complete_io(&mut h2.sock)
            .map_err(|e| format!("{}: handshake: {e}", server.name))?;
    }
    if h2.conn.alpn_protocol() != Some(b"h2") {
        return Err(format!("{}: HTTP/2 offered, not chosen", server.name));
    }
    get_json(running.addr, args).map_err(|problem| format!("{}: {problem}", server.name))
}

/// `GET /json` over HTTP/1.1 on a new TLS connection, checked.
fn get_json(addr: SocketAddr, args: &Args) -> Result<(), String> {
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    let conn = rustls::ClientConnection::new(client_config(args, &[b"http/1.1"]), name)
        .expect("a client connection");
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut h1 = rustls::StreamOwned::new(conn, tcp);
    h1.write_all(b"GET /json HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    // A peer that closes without close_notify is fine here: the body has arrived.
    let _ = h1.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let expected = r#"{"message":"Hello, World!"}"#;
    if !text.starts_with("HTTP/1.1 200") || !text.ends_with(expected) {
        return Err(format!("/json over TLS answered {text:?}"));
    }
    Ok(())
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server is running");
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    let per_second: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100.0);
    ticks / per_second
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    rps: f64,
    cpu_us: f64,
}

/// One load run of `case` for `seconds`: requests per second and the server's CPU per request.
fn load(args: &Args, running: &Running, case: &str, seconds: u64) -> Sample {
    let url = format!("https://{}/json", running.addr);
    let mut command = Command::new("taskset");
    command.args(["-c", &args.client_cpu]);
    let conns = format!("{}", args.connections);
    let secs = format!("{seconds}s");
    match case {
        "json-h2" => {
            // A connection with nothing to do for 10 s fails the run rather than holding it.
            let args = [
                "-t1", "-c", &conns, "-m", "1", "-D", &secs, "-N", "10s", &url,
            ];
            command.arg("h2load").args(args);
        }
        _ => {
            command.args(["wrk", "-t1", &format!("-c{conns}"), &format!("-d{secs}")]);
            if case == "json-handshake" {
                command.args(["-H", "Connection: close"]);
            }
            command.arg(&url);
        }
    }
    let before = cpu_seconds(running.child.id());
    let out = command.output().expect("the load generator runs");
    let after = cpu_seconds(running.child.id());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (requests, rps) = if case == "json-h2" {
        // "requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, ..."
        let line = text
            .lines()
            .find(|l| l.starts_with("requests:"))
            .unwrap_or_else(|| panic!("{url}: no request count in h2load's output:\n{text}"));
        let count = |word: &str| -> f64 {
            let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
            let at = words.iter().position(|w| *w == word).expect("a count");
            words[at - 1].parse().expect("a number")
        };
        assert!(
            count("failed") == 0.0 && count("errored") == 0.0,
            "{url}:\n{text}"
        );
        let succeeded = count("succeeded");
        (succeeded, succeeded / seconds as f64)
    } else {
        assert!(!text.contains("Non-2xx"), "{url}: error responses:\n{text}");
        assert!(
            !text.contains("Socket errors"),
            "{url}: socket errors:\n{text}"
        );
        let requests = text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{url}: no request count in wrk's output:\n{text}"));
        (requests, requests / seconds as f64)
    };
    assert!(requests > 0.0, "{url}: no request answered:\n{text}");
    Sample {
        rps,
        cpu_us: (after - before) / requests * 1e6,
    }
}

fn main() {
    let args = parse_args();
    let here = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("a directory")
        .to_path_buf();
    let servers = [
        Server {
            name: "hyper+tokio-rustls",
            binary: here.join("peer-hyper-tls"),
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
    ];
    for server in &servers {
        let running = start_ready(server, &args);
        let checked = check(server, &running, &args);
        drop(running);
        if let Err(problem) = checked {
            eprintln!("bench-tls: {problem}");
            std::process::exit(1);
        }
    }
    println!("every server answers /json over TLS and chooses HTTP/2 when offered");
    if args.check {
        return;
    }
    let cases: Vec<&str> = args.cases.iter().map(String::as_str).collect();

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
            let running = start_ready(&servers[s], &args);
            for (c, case) in cases.iter().enumerate() {
                if args.warmup > 0 {
                    load(&args, &running, case, args.warmup);
                }
                let sample = load(&args, &running, case, args.duration);
                eprintln!(
                    "round {}: {:<20} {:<15} {:>9.0} req/s  {:>7.2} µs CPU/req",
                    round + 1,
                    servers[s].name,
                    case,
                    sample.rps,
                    sample.cpu_us
                );
                samples.entry((s, c)).or_default().push(sample);
            }
        }
    }
    println!(
        "\n{} rounds of {} s per case (after {} s of warm-up), {} connections, {} worker thread(s); server on CPU {}, load on CPU {}",
        args.rounds,
        args.duration,
        args.warmup,
        args.connections,
        args.workers,
        args.server_cpu,
        args.client_cpu
    );
    println!("medians; ratios are medians of per-round ratios to hyper+tokio-rustls\n");
    println!("| case | server | req/s | CPU µs/req | req/s ratio | CPU/req ratio |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let pick = |f: fn(&Sample) -> f64, of: &[Sample]| of.iter().map(f).collect::<Vec<f64>>();
    for (c, case) in cases.iter().enumerate() {
        let base = &samples[&(0, c)];
        for (s, server) in servers.iter().enumerate() {
            let mine = &samples[&(s, c)];
            let (rps, cpu) = (pick(|x| x.rps, mine), pick(|x| x.cpu_us, mine));
            println!(
                "| {case} | {} | {:.0} | {:.2} | {:.3} | {:.3} |",
                server.name,
                stats::median(&rps),
                stats::median(&cpu),
                stats::paired_ratio(&rps, &pick(|x| x.rps, base)),
                stats::paired_ratio(&cpu, &pick(|x| x.cpu_us, base)),
            );
        }
    }
}
