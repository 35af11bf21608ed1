//! A WebSocket chat room: open the page in two browser tabs and talk.
//!
//! ```text
//! cargo run --example chat                           # tokio, http://127.0.0.1:8000/
//! PORTICO_RUNTIME=smol cargo run --example chat      # smol
//! ```
//!
//! The page at `/` is rendered from `chat/templates/index.html`, its script and style are
//! static files under `/static/`, and each tab holds a WebSocket at `/ws`. Every text message
//! a visitor sends goes into the room's memory object stream (`portico::tasks`), and one task
//! passes it on to every visitor's own stream, so that everyone gets it.
//!
//! Options: `--port N` (default 8000; 0 picks a free port). The first line printed gives the
//! address. Ctrl-C or SIGTERM stops it; open WebSockets are told the server is going away
//! (close code 1001) and the page reconnects when it is back.

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

mod app;

fn port_from_args(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 8000;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" => args.next().ok_or("--port needs a value")?,
            other => match other.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unknown argument {other:?}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("--port takes a number from 0 to 65535, not {value:?}"))?;
    }
    Ok(port)
}

fn main() {
    let port = match port_from_args(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("error: {message}\nusage: chat [--port N]");
            std::process::exit(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let served = portico::run(async move {
        let server = app::app(&app::assets())
            .serve(format!("127.0.0.1:{port}"))
            .start()?;
        let addr = server.local_addr();
        let runtime = portico::rt::current().map(|rt| rt.name()).unwrap_or("none");
        println!(
            "chat: listening on http://{addr} with the {runtime} runtime; open http://{addr}/ in two browser tabs"
        );
        server.stopped().await
    });
    match served {
        Ok(report) if report.is_graceful() => {}
        Ok(report) => eprintln!(
            "chat: {} connection(s) were cut at shutdown",
            report.cut_connections
        ),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}
