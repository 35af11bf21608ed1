//! The soak example as `cargo xtask soak` runs it, briefly: its server on each runtime, and its
//! driver sending the whole mix, finding every answer as the soak expects it (so that a long
//! soak never fails on an expectation that drifted from the server).

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use portico::RuntimeKind;

/// The example's binary, which `cargo test` builds next to the test binaries.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(format!("soak_server{}", std::env::consts::EXE_SUFFIX))
}

/// The server, killed when dropped.
struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[portico::test(timeout = 60)]
fn the_driver_finds_every_answer_as_expected(runtime: RuntimeKind) {
    let mut child = Command::new(example())
        .args(["--port", "0"])
        .env("PORTICO_RUNTIME", runtime.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example is built by `cargo test`");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Stop(child);
    assert!(
        line.contains(&format!("with the {runtime} runtime")),
        "{line}"
    );
    let addr = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    // 200 requests a second for two seconds: each of the twenty slots of the mix ten times.
    let driven = Command::new(example())
        .args([
            "--drive",
            addr,
            "--rate",
            "200",
            "--seconds",
            "2",
            "--clients",
            "8",
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&driven.stdout);
    assert!(driven.status.success(), "{report}");
    assert!(report.contains(" errors=0 "), "{report}");
    for kind in ["websocket", "stream-cut", "upload", "plain-fn-panic-500"] {
        let line = report
            .lines()
            .find(|line| line.starts_with(&format!("kind {kind} ")))
            .unwrap_or_else(|| panic!("no line for {kind}: {report}"));
        assert!(!line.contains("ok=0 "), "{line}");
    }
}
