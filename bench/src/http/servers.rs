//! The servers under test, and starting one: each takes `--port 0 --workers N` and prints
//! `listening on http://ADDR` as its first line.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::endpoints::{Endpoint, Refusals, Served};

/// One server under test.
pub struct Server {
    pub name: &'static str,
    pub program: PathBuf,
    /// Arguments before `--port 0 --workers N`.
    pub args: Vec<OsString>,
    pub env: Vec<(&'static str, &'static str)>,
    /// The widest set of endpoints it serves: `All` for the plain peers, `Frameworks` for
    /// FastAPI, `Portico` for Portico.
    pub serves: Served,
    /// Whether its instructions per request are counted (Portico's builds and raw hyper).
    pub counted: bool,
    pub refusals: Refusals,
}

/// The reference every ratio is taken against.
pub const HYPER: &str = "hyper (tokio)";
pub const FASTAPI: &str = "fastapi (uvicorn)";

impl Server {
    /// Whether the server answers `endpoint`.
    pub fn serves(&self, endpoint: &Endpoint) -> bool {
        endpoint.served <= self.serves
    }

    /// Portico's own build or the baseline's, on tokio or smol.
    pub fn portico(name: &'static str, binary: &Path, runtime: &'static str) -> Server {
        Server {
            name,
            program: binary.to_path_buf(),
            args: vec![],
            env: vec![("PORTICO_RUNTIME", runtime)],
            serves: Served::Portico,
            counted: true,
            refusals: Refusals::Any4xx,
        }
    }

    /// A Rust peer from the bench workspace.
    pub fn peer(name: &'static str, binary: PathBuf) -> Server {
        Server {
            name,
            program: binary,
            args: vec![],
            env: vec![],
            serves: Served::All,
            counted: name == HYPER,
            refusals: Refusals::Any4xx,
        }
    }
}

/// A running server, stopped when dropped.
pub struct Running {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `server` pinned to `cpu` with `workers` worker threads; with `wrapper`, under that
/// command (valgrind and its options), its standard error into `log`.
pub fn start(
    server: &Server,
    cpu: &str,
    workers: usize,
    wrapper: Option<(&[OsString], &Path)>,
) -> Running {
    let mut command = Command::new("taskset");
    command.args(["-c", cpu]);
    if let Some((wrapper, _)) = wrapper {
        command.args(wrapper);
    }
    command
        .arg(&server.program)
        .args(&server.args)
        .args(["--port", "0", "--workers", &workers.to_string()])
        .stdout(Stdio::piped());
    match wrapper {
        Some((_, log)) => command.stderr(std::fs::File::create(log).expect("creates the log")),
        None => command.stderr(Stdio::inherit()),
    };
    for (key, value) in &server.env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", server.program.display()));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the server prints its address");
    let Some(addr) = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
    else {
        let _ = child.kill();
        let _ = child.wait();
        if let Some((_, log)) = wrapper {
            eprintln!("{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        panic!("{}: unexpected first line {line:?}", server.name);
    };
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Running { child, addr }
}
