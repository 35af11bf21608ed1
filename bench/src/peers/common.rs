//! What the peer servers share: the command line and the payload types.

use serde::{Deserialize, Serialize};

/// `--port P --workers N`, as `examples/bench_server` takes them.
pub struct Options {
    pub port: u16,
    pub workers: usize,
}

pub fn options() -> Options {
    let mut options = Options {
        port: 8080,
        workers: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--port" => options.port = value.parse().expect("--port takes a number"),
            "--workers" => options.workers = value.parse().expect("--workers takes a number"),
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// Printed first, as `bench_server` does, so the driver learns the address.
pub fn announce(addr: std::net::SocketAddr) {
    println!("listening on http://{addr}");
}

#[derive(Serialize)]
pub struct Message {
    pub message: &'static str,
}

#[derive(Deserialize)]
pub struct Verbosity {
    #[serde(default)]
    pub verbose: bool,
}

#[derive(Serialize)]
pub struct User {
    pub id: u64,
    pub verbose: bool,
}

#[derive(Serialize, Deserialize)]
pub struct Echo {
    pub name: String,
    pub count: i64,
    pub tags: Vec<String>,
}

#[derive(Serialize)]
pub struct Done {
    pub ok: bool,
}
