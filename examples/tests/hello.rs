//! Runs the `hello` example as a user would, on each runtime.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The example's binary, which `cargo test` builds next to the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

struct Server {
    child: Child,
    port: u16,
    first_line: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(runtime: &str) -> Server {
    let mut child = Command::new(example("hello"))
        .args(["--port", "0"])
        .env("PORTICO_RUNTIME", runtime)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example is built by `cargo test`");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let addr = first_line.split_whitespace().nth(3).unwrap().to_owned();
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    // Keep the pipe open (and drained) for the rest of the run.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Server {
        child,
        port,
        first_line,
    }
}

fn talk(port: u16, input: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(input).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[portico::test]
async fn hello_answers_each_line_naming_its_runtime() {
    let rt = portico::rt::current().unwrap();
    let name = rt.name();
    rt.spawn_blocking(move || {
        let server = start(name);
        assert!(
            server
                .first_line
                .contains(&format!("with the {name} runtime")),
            "{}",
            server.first_line
        );
        let reply = talk(server.port, b"Ada\nGrace\n");
        assert_eq!(
            reply,
            format!("hello, Ada! (from {name})\nhello, Grace! (from {name})\n")
        );
        let long = vec![b'x'; 9000];
        assert_eq!(talk(server.port, &long), "error: line too long\n");
    })
    .await
    .unwrap();
}

#[cfg(unix)]
#[portico::test]
async fn hello_stops_cleanly_on_sigterm() {
    let rt = portico::rt::current().unwrap();
    let name = rt.name();
    rt.spawn_blocking(move || {
        let mut server = start(name);
        let status = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = server.child.wait().unwrap();
        let mut err = String::new();
        server
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(
            exit.success(),
            "exit status {exit}; first line {:?}; stderr {err:?}",
            server.first_line
        );
    })
    .await
    .unwrap();
}

#[test]
fn an_unknown_runtime_stops_the_example_with_the_valid_choices() {
    let out = Command::new(example("hello"))
        .env("PORTICO_RUNTIME", "nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("PORTICO_RUNTIME=\"nope\""), "{stderr}");
    assert!(stderr.contains("valid choices: tokio, smol"), "{stderr}");
}

#[test]
fn a_bad_port_is_refused_with_usage() {
    let out = Command::new(example("hello"))
        .args(["--port", "99999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--port takes a number from 0 to 65535"),
        "{stderr}"
    );
}
