//! A hello-world line server on Portico's runtime layer.
//!
//! Every line a client sends is answered with a greeting that names the runtime serving it.
//!
//! ```text
//! cargo run --example hello                          # tokio
//! PORTICO_RUNTIME=smol cargo run --example hello     # smol
//! printf 'Ada\nGrace\n' | nc 127.0.0.1 8000
//! ```
//!
//! Options: `--port N` (default 8000; 0 picks a free port). Ctrl-C or SIGTERM stops it.

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

use std::io;

use futures_lite::future;
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use portico::rt::{self, Runtime, TcpListener, TcpStream};

/// Lines longer than this are refused, so a client cannot make the server buffer without end.
const MAX_LINE: u64 = 8 * 1024;

fn main() {
    let port = match port_from_args(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("error: {message}\nusage: hello [--port N]");
            std::process::exit(2);
        }
    };
    if let Err(err) = portico::run(serve(port)) {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

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

async fn serve(port: u16) -> io::Result<()> {
    let rt = rt::current()?;
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let addr = listener.local_addr()?;
    // Listen for Ctrl-C and SIGTERM before announcing the address, so that a signal sent as
    // soon as the line appears stops the server cleanly.
    let shutdown = rt.shutdown_signal()?;
    println!(
        "hello: serving on {addr} with the {} runtime; try `nc 127.0.0.1 {}`",
        rt.name(),
        addr.port()
    );

    let accept_loop = async {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => rt.spawn(greet(stream, rt.clone())).detach(),
                // Out of file descriptors or a connection reset while queued: keep serving.
                Err(err) => eprintln!("hello: accept failed: {err}"),
            }
        }
    };
    let signal = future::or(async { Some(shutdown.await) }, async {
        accept_loop.await;
        None
    })
    .await;
    if let Some(signal) = signal {
        println!("hello: received {}, stopping", signal?);
    }
    Ok(())
}

async fn greet(stream: TcpStream, rt: Runtime) {
    if let Err(err) = answer_lines(stream, &rt).await {
        eprintln!("hello: connection ended with an error: {err}");
    }
}

async fn answer_lines(stream: TcpStream, rt: &Runtime) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        let read = (&mut reader).take(MAX_LINE + 1).read_line(&mut line).await;
        let reply = match read {
            Ok(0) => return Ok(()),
            Ok(n) if n as u64 > MAX_LINE => {
                reader
                    .get_mut()
                    .write_all(b"error: line too long\n")
                    .await?;
                return Ok(());
            }
            Ok(_) => format!("hello, {}! (from {})\n", line.trim_end(), rt.name()),
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                reader
                    .get_mut()
                    .write_all(b"error: lines must be UTF-8\n")
                    .await?;
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        reader.get_mut().write_all(reply.as_bytes()).await?;
    }
}
