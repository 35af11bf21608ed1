//! A to-do API on an embedded SQLite database or on PostgreSQL: plain `fn` handlers and a
//! connection dependency on the thread pool, a router, a lifespan that creates the schema, a
//! background task.
//!
//! ```text
//! cargo run --example todo                           # tokio; creates ./todo.sqlite3
//! PORTICO_RUNTIME=smol cargo run --example todo      # smol
//!
//! curl -X POST http://127.0.0.1:8000/todos -H 'content-type: application/json' -d '{"title": "buy tea"}'
//! curl http://127.0.0.1:8000/todos
//! curl -X PATCH http://127.0.0.1:8000/todos/1 -H 'content-type: application/json' -d '{"done": true}'
//! curl 'http://127.0.0.1:8000/todos?done=true&limit=10'
//! curl -X DELETE http://127.0.0.1:8000/todos/1
//! curl http://127.0.0.1:8000/activity
//! ```
//!
//! Options: `--port N` (default 8000; 0 picks a free port), `--db PATH` (default
//! `todo.sqlite3` in the working directory), `--workers N` (executor threads; default one per
//! CPU). The first line printed gives the address.
//!
//! On PostgreSQL instead of SQLite, as several instances behind a proxy share it (see the
//! README's "Deploying", and `cargo xtask cluster`): `--database-url
//! postgres://USER:PASSWORD@HOST:PORT/DATABASE`. The app creates its tables if they are
//! missing and opens a pool of connections at startup (a database out of reach fails the start,
//! with the reason, within 5 s), and closes the pool when it stops.
//!
//! Behind a reverse proxy that serves it under a prefix (as `cargo xtask nginx` does):
//! `--root-path /api` (links, redirects and the OpenAPI `servers` carry the prefix) and
//! `--forwarded-allow-ips 127.0.0.1` (the proxies whose `X-Forwarded-*` headers are believed;
//! comma-separated addresses or CIDR blocks).

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

mod app;

use std::path::PathBuf;

use app::Location;

struct Args {
    port: u16,
    db: Location,
    workers: Option<usize>,
    root_path: String,
    proxies: Option<portico::proxy::ProxyHeaders>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        port: 8000,
        db: Location::Sqlite(PathBuf::from("todo.sqlite3")),
        workers: None,
        root_path: String::new(),
        proxies: None,
    };
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => {
                let value = args.next().ok_or(format!("{arg} needs a value"))?;
                (arg, value)
            }
        };
        match name.as_str() {
            "--port" => {
                parsed.port = value
                    .parse()
                    .map_err(|_| format!("--port takes a number from 0 to 65535, not {value:?}"))?;
            }
            "--db" => parsed.db = Location::Sqlite(PathBuf::from(value)),
            "--database-url" => parsed.db = Location::from_url(&value)?,
            "--workers" => {
                let workers = value.parse().ok().filter(|n| *n > 0);
                parsed.workers = Some(
                    workers.ok_or(format!("--workers takes a positive number, not {value:?}"))?,
                );
            }
            "--root-path" => parsed.root_path = value,
            "--forwarded-allow-ips" => {
                let list: Vec<&str> = value.split(',').map(str::trim).collect();
                parsed.proxies = Some(
                    portico::proxy::ProxyHeaders::try_new(list)
                        .map_err(|err| format!("--forwarded-allow-ips: {err}"))?,
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--openapi") {
        // The OpenAPI document, for `cargo xtask openapi`.
        let doc = app::app(PathBuf::from("todo.sqlite3")).openapi();
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!(
                "error: {message}\nusage: todo [--port N] [--db PATH | --database-url postgres://...] [--workers N] [--root-path PREFIX] [--forwarded-allow-ips LIST]"
            );
            std::process::exit(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let port = args.port;
    let mut app = app::app(args.db.clone());
    let db = args.db.describe();
    if !args.root_path.is_empty() {
        app = app.root_path(args.root_path);
    }
    if let Some(proxies) = args.proxies {
        // Outermost, so that every other middleware sees what the client sent.
        app = app.add_middleware(proxies);
    }
    let mut runtime = portico::Builder::new();
    if let Some(workers) = args.workers {
        runtime = runtime.worker_threads(workers);
    }
    let served = runtime.run(async move {
        let server = app.serve(format!("127.0.0.1:{port}")).start()?;
        let addr = server.local_addr();
        let runtime = portico::rt::current().map(|rt| rt.name()).unwrap_or("none");
        println!(
            "todo: listening on http://{addr} with the {runtime} runtime, database {db}; try `curl http://{addr}/todos`"
        );
        server.stopped().await
    });
    match served {
        Ok(report) if report.is_graceful() => {}
        Ok(report) => eprintln!(
            "todo: {} connection(s) were cut at shutdown",
            report.cut_connections
        ),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}
