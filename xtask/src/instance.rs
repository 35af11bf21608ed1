//! Server processes under test: an [`Instance`] started, stopped by `SIGTERM` and waited for
//! (by `drain`, `rolling` and `cluster`), and an example started on a free port and killed when
//! dropped ([`start_example`], [`start_todo`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{ChildStdout, Command, ExitStatus, Stdio};

use super::{cargo, step, target_dir};
use std::time::{Duration, Instant};

/// A running server, killed when dropped if it has not exited.
pub(crate) struct Instance {
    child: std::process::Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Kept open: the server's stdout, which it may write to again.
    _stdout: BufReader<ChildStdout>,
    exited: bool,
}

impl Instance {
    /// Starts `command` with its stdout piped, and waits for the first line, which must hold
    /// the address it listens on as a word `http://ADDR` (`name` is for the errors).
    pub(crate) fn start(mut command: Command, name: &str) -> Result<Instance, String> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| format!("starting {name}: {err}"))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let addr = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("http://"))
            .and_then(|addr| addr.trim_end_matches([',', ';']).parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(format!("{name} printed {line:?} ({read:?}) and {status}"));
        };
        Ok(Instance {
            child,
            addr,
            _stdout: stdout,
            exited: false,
        })
    }

    /// Sends `SIGTERM` to this process, by its PID.
    pub(crate) fn terminate(&self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|err| format!("kill -TERM {pid}: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -TERM {pid}: {status}"))
        }
    }

    /// Waits for the process to exit, looking every millisecond so that the time to exit is
    /// measured to about that; kills it and fails after `deadline`.
    pub(crate) fn wait(&mut self, deadline: Duration) -> Result<ExitStatus, String> {
        let started = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.exited = true;
                    return Ok(status);
                }
                Ok(None) if started.elapsed() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(None) => {
                    return Err(format!(
                        "the server on {} did not exit within {deadline:?}",
                        self.addr
                    ));
                }
                Err(err) => return Err(format!("waiting for the server: {err}")),
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until the server at `addr` answers `GET path` with a 200, for 10 s at most.
pub(crate) fn wait_answering(addr: SocketAddr, path: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if matches!(send(addr, "GET", path, ""), Ok(200)) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("the server on {addr} does not answer GET {path}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends one request on a connection of its own (a JSON `body` if not empty) and returns the
/// response's status.
pub(crate) fn send(addr: SocketAddr, method: &str, path: &str, body: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(addr).map_err(|err| format!("{addr}: {err}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|err| err.to_string())?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut response = Vec::new();
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.read_to_end(&mut response))
        .map_err(|err| format!("{method} {path} on {addr}: {err}"))?;
    response
        .strip_prefix(b"HTTP/1.1 ")
        .and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok())
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("{method} {path} on {addr}: no status line"))
}

/// A child process killed when dropped.
pub(crate) struct Child(pub(crate) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds and starts `examples/todo` on a free loopback port with a fresh database in `dir`;
/// returns the process (stopped when dropped) and its base URL.
pub(crate) fn start_todo(
    dir: &Path,
    name: &str,
    extra: &[&str],
) -> Result<(Child, String), String> {
    let db = dir.join(format!("{name}.sqlite3"));
    let _ = std::fs::remove_file(&db);
    let db = db.display().to_string();
    let mut args = vec!["--db", db.as_str()];
    args.extend_from_slice(extra);
    start_example("todo", &args)
}

/// Builds and starts the example `name` on a free loopback port (`--port 0`, then `args`);
/// returns the process (stopped when dropped) and the base URL its first line prints.
pub(crate) fn start_example(name: &str, args: &[&str]) -> Result<(Child, String), String> {
    start_example_with(name, args, &[])
}

/// As [`start_example`], with environment variables (`PORTICO_RUNTIME`, say).
pub(crate) fn start_example_with(
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(Child, String), String> {
    let mut build = cargo();
    build.args(["build", "--quiet", "--example", name]);
    step(&format!("build examples/{name}"), build)?;
    let mut server = Child(
        Command::new(target_dir().join("debug/examples").join(name))
            .args(["--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("starting examples/{name}: {err}"))?,
    );
    let stdout = server.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|err| format!("reading the {name} example's address: {err}"))?;
    let base = line
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .ok_or_else(|| format!("no address in {line:?}"))?
        .trim_end_matches([',', ';'])
        .to_owned();
    println!("==> examples/{name} at {base}");
    Ok((server, base))
}
