//! `cargo xtask bench http`: the benchmark endpoints served by Portico (on tokio and on smol),
//! raw hyper on tokio, axum, actix-web and FastAPI (uvicorn), loaded with `wrk` on loopback,
//! and the instructions per request of Portico and raw hyper under callgrind.
//!
//! Each server runs with the same number of worker threads, pinned to one core; `wrk` runs
//! pinned to another. Rounds are interleaved (a shuffled server order each round) and every
//! figure is a median. Besides requests/s and p99 latency, it reports the **server's CPU time
//! per request**, read from `/proc/<pid>/stat` before and after each run: on a two-core machine
//! `wrk` saturates its core against any fast server, so requests/s alone hides the difference.
//! Each connection count gets a table of its own.
//!
//! CPU time moves by 10% and more from run to run on a shared machine; **instructions per
//! request** do not (see `http/instructions.rs`), so they are counted too, for the servers
//! whose differences are small.
//!
//! With `--baseline PATH`, a second build of `bench_server` (say, main before a change) runs as
//! two more servers, `portico-base (tokio)` and `portico-base (smol)`, in the same interleaved
//! rounds, and more tables give each endpoint's CPU and instructions per request of Portico
//! over the baseline's on the same runtime.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[path = "http/endpoints.rs"]
mod endpoints;
#[path = "http/fastapi.rs"]
mod fastapi;
#[path = "http/instructions.rs"]
mod instructions;
#[path = "http/report.rs"]
mod report;
#[path = "http/servers.rs"]
mod servers;
#[allow(dead_code, reason = "shared with the other benchmarks")]
mod stats;
#[path = "http/wrk.rs"]
mod wrk;

use endpoints::{ENDPOINTS, Endpoint, Refusals};
use servers::{FASTAPI, HYPER, Server};

struct Args {
    rounds: usize,
    duration: u64,
    warmup: u64,
    connections: Vec<usize>,
    workers: usize,
    server_cpu: String,
    client_cpu: String,
    portico: PathBuf,
    baseline: Option<PathBuf>,
    only: Option<Vec<String>>,
    endpoints: Option<Vec<String>>,
    check: bool,
    timed: bool,
    counted: bool,
    requests: usize,
    count_connections: usize,
    count_runs: usize,
    keep_profiles: Option<PathBuf>,
}

const USAGE: &str = "\
usage: bench-http --portico PATH [--baseline PATH] [--rounds 7] [--duration 3] [--warmup 1]
                  [--connections 32,256] [--workers 1] [--server-cpu 0] [--client-cpu 1]
                  [--only SERVER,...] [--endpoints plaintext,json,...] [--check]
                  [--instructions | --no-instructions] [--requests 10000]
                  [--count-connections 1] [--count-runs 5] [--keep-profiles DIR]

  --portico PATH     the bench_server example, run as portico (tokio) and portico (smol)
  --baseline PATH    another build of bench_server (main before a change, say), run as two more
                     servers, portico-base (tokio) and portico-base (smol), in the same rounds;
                     the report adds, for each endpoint, Portico's CPU and instructions per
                     request over the baseline's on the same runtime
  --connections N,.. wrk's connection counts, each with a table of its own
  --only SERVER,...  only the servers whose names contain one of these words, and hyper (tokio),
                     the reference: `portico` keeps portico and portico-base, `portico-base`
                     the baseline alone, `fastapi` the FastAPI peer (in a Python venv made
                     beside this binary on first use; left out when python3 is missing)
  --check            only check that every server answers as specified
  --instructions     only count instructions per request (callgrind), no timed rounds
  --no-instructions  only the timed rounds
  --requests N       requests counted per endpoint under callgrind, after a tenth as warm-up
  --count-connections N
                     keep-alive connections those requests are spread over (one: the quietest
                     count, see http/instructions.rs)
  --count-runs N     server starts per server under callgrind; the report gives the median
                     and the spread (max - min over the median)
  --keep-profiles DIR
                     keep each count's callgrind profile in DIR, named after the server, the
                     endpoint and the run (read them with callgrind_annotate)
";

fn usage(problem: &str) -> ! {
    eprintln!("bench-http: {problem}\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        rounds: 7,
        duration: 3,
        warmup: 1,
        connections: vec![32, 256],
        workers: 1,
        server_cpu: "0".into(),
        client_cpu: "1".into(),
        portico: PathBuf::new(),
        baseline: None,
        only: None,
        endpoints: None,
        check: false,
        timed: true,
        counted: true,
        requests: 10_000,
        count_connections: 1,
        count_runs: 5,
        keep_profiles: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--check" => {
                args.check = true;
                continue;
            }
            "--instructions" => {
                args.timed = false;
                continue;
            }
            "--no-instructions" => {
                args.counted = false;
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
                .ok()
                .filter(|n| *n > 0 || flag == "--warmup")
                .unwrap_or_else(|| usage(&format!("{flag} takes a positive number, not {v:?}")))
        };
        let list = |v: &str| v.split(',').map(str::to_owned).collect::<Vec<_>>();
        match flag.as_str() {
            "--rounds" => args.rounds = number(&value) as usize,
            "--duration" => args.duration = number(&value),
            "--warmup" => args.warmup = number(&value),
            "--connections" => {
                args.connections = list(&value).iter().map(|v| number(v) as usize).collect()
            }
            "--workers" => args.workers = number(&value) as usize,
            "--server-cpu" => args.server_cpu = value,
            "--client-cpu" => args.client_cpu = value,
            "--portico" => args.portico = PathBuf::from(value),
            "--baseline" => args.baseline = Some(PathBuf::from(value)),
            "--only" => args.only = Some(list(&value)),
            "--endpoints" => args.endpoints = Some(list(&value)),
            "--requests" => args.requests = number(&value) as usize,
            "--count-connections" => args.count_connections = number(&value) as usize,
            "--count-runs" => args.count_runs = number(&value) as usize,
            "--keep-profiles" => args.keep_profiles = Some(PathBuf::from(value)),
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    if args.portico.as_os_str().is_empty() {
        usage("--portico is required (the bench_server example)");
    }
    if !args.timed && !args.counted {
        usage("--instructions and --no-instructions leave nothing to run");
    }
    args
}

/// Every server the run may take, before `--only`.
fn all_servers(args: &Args) -> Vec<Server> {
    let here = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("a directory")
        .to_path_buf();
    let mut servers = vec![
        Server::peer(HYPER, here.join("peer-hyper")),
        Server::portico("portico (tokio)", &args.portico, "tokio"),
        Server::portico("portico (smol)", &args.portico, "smol"),
        Server::peer("axum", here.join("peer-axum")),
        Server::peer("actix-web", here.join("peer-actix")),
    ];
    if let Some(baseline) = &args.baseline {
        // Same environment as Portico's own two: only the binary differs.
        servers.push(Server::portico("portico-base (tokio)", baseline, "tokio"));
        servers.push(Server::portico("portico-base (smol)", baseline, "smol"));
    }
    // FastAPI has no instructions to count, so a counting run leaves it out.
    let wants_fastapi = args.timed
        && args
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|word| FASTAPI.contains(word.as_str())));
    if wants_fastapi {
        if args.workers != 1 {
            eprintln!("bench-http: FastAPI is left out: it runs one worker process only");
        } else if !fastapi::python_found() {
            eprintln!("bench-http: python3 is missing, so FastAPI is left out");
        } else {
            let venv = here.parent().expect("a directory").join("fastapi-venv");
            if let Err(problem) = fastapi::prepare(&venv) {
                eprintln!("bench-http: {problem}");
                std::process::exit(1);
            }
            servers.push(fastapi::server(&venv));
        }
    }
    match &args.only {
        Some(only) => servers
            .into_iter()
            .filter(|s| s.name == HYPER || only.iter().any(|word| s.name.contains(word.as_str())))
            .collect(),
        None => servers,
    }
}

/// Checks every server's answers, FastAPI's refusals against Portico's byte for byte.
fn check_all(args: &Args, servers: &[Server], endpoints: &[&Endpoint]) {
    let reference = servers::start(
        &Server::portico("portico (tokio)", &args.portico, "tokio"),
        &args.server_cpu,
        args.workers,
        None,
    );
    let answers = endpoints::reference_answers(reference.addr, endpoints);
    drop(reference);
    for server in servers {
        let running = servers::start(server, &args.server_cpu, args.workers, None);
        let served: Vec<&Endpoint> = endpoints
            .iter()
            .copied()
            .filter(|e| server.serves(e))
            .collect();
        let checked = endpoints::check(
            server.name,
            running.addr,
            &served,
            server.refusals,
            &answers,
        );
        // Stop the server before leaving: `exit` runs no destructors.
        drop(running);
        if let Err(problem) = checked {
            eprintln!("bench-http: {problem}");
            std::process::exit(1);
        }
    }
    let exact: Vec<&str> = servers
        .iter()
        .filter(|s| s.refusals == Refusals::SameAsReference)
        .map(|s| s.name)
        .collect();
    println!("every server answers the benchmark endpoints as specified");
    if !exact.is_empty() {
        println!(
            "the {} invalid requests get portico's status, content type and body, byte for byte, from {}",
            answers.len(),
            exact.join(", ")
        );
    }
}

/// The timed rounds: samples by (server, endpoint, connection count).
fn timed_rounds(args: &Args, servers: &[Server], endpoints: &[&Endpoint]) -> report::Samples {
    let script = wrk::echo_script(endpoints::ECHO);
    let mut samples = report::Samples::new();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut order: Vec<usize> = (0..servers.len()).collect();
    for round in 0..args.rounds {
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        // The connection counts in turn, the other way round every other round.
        let mut counts: Vec<usize> = (0..args.connections.len()).collect();
        if round % 2 == 1 {
            counts.reverse();
        }
        for &s in &order {
            let running = servers::start(&servers[s], &args.server_cpu, args.workers, None);
            for (e, endpoint) in endpoints.iter().enumerate() {
                if !servers[s].serves(endpoint) {
                    continue;
                }
                for &c in &counts {
                    let connections = args.connections[c];
                    let run = |seconds| {
                        let cpu = &args.client_cpu;
                        wrk::run(cpu, connections, &running, endpoint, seconds, &script)
                    };
                    if args.warmup > 0 {
                        run(args.warmup);
                    }
                    let sample = run(args.duration);
                    eprintln!(
                        "round {}: {:<20} {:<10} c{:<4} {:>9.0} req/s  p99 {:>7.2} ms  {:>7.2} µs CPU/req",
                        round + 1,
                        servers[s].name,
                        endpoint.name,
                        connections,
                        sample.rps,
                        sample.p99_ms,
                        sample.cpu_us
                    );
                    samples.entry((s, e, c)).or_default().push(sample);
                }
            }
        }
    }
    let _ = std::fs::remove_file(&script);
    samples
}

fn main() {
    let args = parse_args();
    let servers = all_servers(&args);
    let endpoints: Vec<&Endpoint> = ENDPOINTS
        .iter()
        .filter(|e| {
            args.endpoints
                .as_ref()
                .is_none_or(|wanted| wanted.iter().any(|w| w == e.name))
        })
        .collect();

    check_all(&args, &servers, &endpoints);
    if args.check {
        return;
    }

    let samples = if args.timed {
        timed_rounds(&args, &servers, &endpoints)
    } else {
        BTreeMap::new()
    };
    let plan = instructions::Plan {
        requests: args.requests,
        connections: args.count_connections,
        runs: args.count_runs,
        server_cpu: args.server_cpu.clone(),
        workers: args.workers,
        keep: args.keep_profiles.clone(),
    };
    let counts = if args.counted {
        instructions::measure(&plan, &servers, &endpoints)
    } else {
        BTreeMap::new()
    };

    if let Some(baseline) = &args.baseline {
        println!("portico-base: {}", baseline.display());
    }
    if args.timed {
        println!(
            "\n{} rounds of {} s per endpoint and connection count (after {} s of warm-up), {} worker thread(s); server on CPU {}, wrk (one thread) on CPU {}",
            args.rounds, args.duration, args.warmup, args.workers, args.server_cpu, args.client_cpu
        );
        println!(
            "medians; ratios are medians of per-round ratios to {HYPER}, or for an endpoint with dependencies or middleware to the same server's endpoint named in brackets"
        );
    }
    if args.counted {
        println!(
            "instructions per request: user-space instructions of the server process (every thread) under callgrind, {} requests on {} keep-alive connections after a warm-up, median of {} server starts; ratios of medians, to the same reference",
            args.requests, args.count_connections, args.count_runs
        );
    }
    if args.timed {
        for (c, connections) in args.connections.iter().enumerate() {
            println!("\n{connections} connections\n");
            report::timed(&servers, &endpoints, &samples, c, &counts);
        }
    }
    if args.counted {
        println!("\ninstructions per request\n");
        report::instructions(&servers, &endpoints, &counts);
    }
    if args.baseline.is_some() {
        if args.timed {
            for (c, connections) in args.connections.iter().enumerate() {
                println!(
                    "\nportico vs baseline at {connections} connections (CPU per request, paired median): ratios are portico / portico-base on the same runtime, medians of per-round ratios; above 1.000 the current build costs more\n"
                );
                report::timed_baseline(&servers, &endpoints, &samples, c);
            }
        }
        if args.counted {
            println!(
                "\nportico vs baseline (instructions per request): ratios of the medians, portico / portico-base on the same runtime\n"
            );
            report::instructions_baseline(&servers, &endpoints, &counts);
        }
    }
}
