//! The soak server, and the load driver that soaks it: `cargo xtask soak` runs both.
//!
//! ```text
//! cargo run --release --example soak_server -- --port 8000      # the server (tokio)
//! PORTICO_RUNTIME=smol cargo run --release --example soak_server -- --port 8000
//! cargo run --release --example soak_server -- --drive 127.0.0.1:8000 --probe 10
//! cargo run --release --example soak_server -- --drive 127.0.0.1:8000 --rate 2000 --seconds 60
//! ```
//!
//! The server answers a mix of the work an API does, failures included:
//!
//! * `GET /items/{id}` → the item as JSON; `POST /items` → 201 with the item, or 422 when the
//!   body does not fit (`name` of 1 to 50 characters, `price` at least 0);
//! * `GET /panic` → an async handler that panics: 500;
//! * `GET /sum?n=N` → a plain `fn` (on the thread pool) that adds 1 to `N`;
//!   `GET /blocking-panic` → a plain `fn` that panics: 500;
//! * `GET /stream?chunks=N` → `N` chunks of 1 KiB; `GET /stream-cut` → two chunks, then a
//!   panic that cuts the body (and the connection);
//! * `POST /upload` → a multipart form with a `file`: its size and byte sum;
//! * `/ws` → a WebSocket that echoes every message.
//!
//! Server options: `--port N` (default 8000; 0 picks a free port), `--workers N` (executor
//! threads; default one per CPU). The first line printed gives the address. The expected
//! panics are not printed.
//!
//! Driver options: `--drive ADDR`, then `--probe SECONDS` (as many requests as the clients can
//! send: the capacity) or `--rate R --seconds S` (`R` requests a second, paced), and
//! `--clients N` (connections at once; 64 by default). It prints a line per kind of request,
//! the first unexpected answers, and a `result` line; it exits with status 1 if any answer was
//! unexpected.

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

mod app;
mod drive;
mod mix;

use std::net::SocketAddr;
use std::time::Duration;

/// Clients of the driver. 64 connections at once keep two cores busy with room to spare
/// (chosen by judgement; `--clients` changes it).
const DEFAULT_CLIENTS: usize = 64;

enum Mode {
    Serve {
        port: u16,
        workers: Option<usize>,
    },
    Drive {
        addr: SocketAddr,
        clients: usize,
        load: drive::Load,
    },
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Mode, String> {
    let mut port = 8000;
    let mut workers = None;
    let mut drive_to = None;
    let mut clients = DEFAULT_CLIENTS;
    let mut probe = None;
    let mut rate = None;
    let mut seconds = None;
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (
                arg.clone(),
                args.next().ok_or(format!("{arg} needs a value"))?,
            ),
        };
        let number = |what: &str| {
            value
                .parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0 && n.is_finite())
                .ok_or(format!("{what} takes a positive number, not {value:?}"))
        };
        match name.as_str() {
            "--port" => {
                port = value
                    .parse()
                    .map_err(|_| format!("--port takes 0 to 65535, not {value:?}"))?
            }
            "--workers" => workers = Some(number("--workers")?.max(1.0) as usize),
            "--drive" => {
                drive_to = Some(
                    value
                        .parse::<SocketAddr>()
                        .map_err(|_| format!("--drive takes an address, not {value:?}"))?,
                )
            }
            "--clients" => clients = number("--clients")?.max(1.0) as usize,
            "--probe" => probe = Some(number("--probe")?),
            "--rate" => rate = Some(number("--rate")?),
            "--seconds" => seconds = Some(number("--seconds")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let Some(addr) = drive_to else {
        return Ok(Mode::Serve { port, workers });
    };
    let load = match (probe, rate, seconds) {
        (Some(probe), None, None) => drive::Load::Probe {
            duration: Duration::from_secs_f64(probe),
        },
        (None, Some(rate), Some(seconds)) => drive::Load::Paced {
            rate,
            duration: Duration::from_secs_f64(seconds),
        },
        _ => return Err("--drive takes --probe SECONDS, or --rate R and --seconds S".into()),
    };
    Ok(Mode::Drive {
        addr,
        clients,
        load,
    })
}

fn main() {
    let mode = match options(std::env::args().skip(1)) {
        Ok(mode) => mode,
        Err(message) => {
            eprintln!(
                "error: {message}\nusage: soak_server [--port N] [--workers N]\n       \
                 soak_server --drive ADDR (--probe SECONDS | --rate R --seconds S) [--clients N]"
            );
            std::process::exit(2);
        }
    };
    match mode {
        Mode::Serve { port, workers } => serve(port, workers),
        Mode::Drive {
            addr,
            clients,
            load,
        } => {
            if !portico::run(drive::drive(addr, clients, load)) {
                std::process::exit(1);
            }
        }
    }
}

fn serve(port: u16, workers: Option<usize>) {
    app::quiet_expected_panics();
    let mut builder = portico::Builder::new();
    if let Some(workers) = workers {
        builder = builder.worker_threads(workers);
    }
    let served = builder.run(async move {
        let server = app::app().serve(format!("127.0.0.1:{port}")).start()?;
        let runtime = portico::rt::current().map(|rt| rt.name()).unwrap_or("none");
        println!(
            "soak: listening on http://{} with the {runtime} runtime",
            server.local_addr()
        );
        server.stopped().await
    });
    if let Err(err) = served {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}
