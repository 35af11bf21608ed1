//! `cargo xtask tls`: HTTPS checked with a client that is not ours. `examples/dev_cert` makes
//! an authority and a certificate for `localhost` and `127.0.0.1`; `examples/bench_server`
//! serves `/json` with it on each runtime; curl (installed with apt-get when missing) asks
//! for HTTP/2 and for HTTP/1.1 by ALPN, by address and by name (SNI), trusting that
//! authority, and must get the answer over the protocol it asked for. A curl that trusts only
//! the system's authorities must be refused: the certificate really is checked.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Child, cargo, ensure_tool, root, step, target_dir};

const JSON: &str = r#"{"message":"Hello, World!"}"#;

pub(crate) fn check() -> Result<(), String> {
    ensure_tool("curl", "curl")?;
    let version = Command::new("curl")
        .arg("--version")
        .output()
        .map_err(|err| format!("curl --version: {err}"))?;
    if !String::from_utf8_lossy(&version.stdout).contains("HTTP2") {
        return Err("this curl has no HTTP/2 support (built without nghttp2)".into());
    }
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--example",
        "bench_server",
        "--example",
        "dev_cert",
    ]);
    step("build examples/bench_server and examples/dev_cert", build)?;
    let examples = target_dir().join("debug/examples");
    let dir = root().join("target/tls-check");
    let _ = std::fs::remove_dir_all(&dir);
    let mut certs = Command::new(examples.join("dev_cert"));
    certs.arg(&dir);
    step(
        "examples/dev_cert (a local authority and certificates)",
        certs,
    )?;
    for runtime in ["tokio", "smol"] {
        let (server, addr) = start(&examples.join("bench_server"), &dir, runtime)?;
        let port = addr.rsplit(':').next().unwrap_or_default().to_owned();
        let by_name = format!("localhost:{port}:127.0.0.1");
        for (flag, expected) in [("--http2", "2"), ("--http1.1", "1.1")] {
            let url = format!("https://{addr}/json");
            expect(runtime, &dir, &[flag], &url, expected)?;
            let url = format!("https://localhost:{port}/json");
            expect(
                runtime,
                &dir,
                &[flag, "--resolve", &by_name],
                &url,
                expected,
            )?;
        }
        // Without the authority, curl must refuse the certificate (its exit code 60).
        let refused = Command::new("curl")
            .args(["-sS", "--max-time", "10", &format!("https://{addr}/json")])
            .stderr(Stdio::null())
            .status()
            .map_err(|err| format!("curl: {err}"))?;
        if refused.code() != Some(60) {
            return Err(format!(
                "{runtime}: curl without the authority ended with {refused}, not a refused certificate"
            ));
        }
        println!("    {runtime}: a curl that does not trust the authority is refused");
        drop(server);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Starts `bench_server` over TLS on a free port; the process (stopped when dropped) and its
/// address.
fn start(binary: &Path, certs: &Path, runtime: &str) -> Result<(Child, String), String> {
    let mut server = Child(
        Command::new(binary)
            .args(["--port", "0", "--workers", "1", "--tls-cert"])
            .arg(certs.join("cert.pem"))
            .arg("--tls-key")
            .arg(certs.join("key.pem"))
            .env("PORTICO_RUNTIME", runtime)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("starting examples/bench_server: {err}"))?,
    );
    let stdout = server.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .map_err(|err| format!("reading bench_server's address: {err}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on https://")
        .ok_or_else(|| format!("{runtime}: unexpected first line {line:?}"))?
        .to_owned();
    println!("==> examples/bench_server on {runtime} at https://{addr}");
    Ok((server, addr))
}

/// One curl request, which must answer `/json`'s body over HTTP version `expected`.
fn expect(
    runtime: &str,
    certs: &Path,
    flags: &[&str],
    url: &str,
    expected: &str,
) -> Result<(), String> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(certs.join("ca.pem"))
        .args(flags)
        .args(["-w", "\n%{http_version} %{response_code}", url])
        .output()
        .map_err(|err| format!("curl: {err}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let wanted = format!("{JSON}\n{expected} 200");
    if !out.status.success() || text != wanted {
        return Err(format!(
            "{runtime}: curl {} {url}: {}\n{text}\n{}",
            flags.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    println!(
        "    {runtime}: curl {} {url}: HTTP/{expected} 200, the body as expected",
        flags.join(" ")
    );
    Ok(())
}

/// `cargo xtask bench tls`: builds `examples/bench_server` (release), the TLS peer and the
/// harness of `bench/`, makes certificates with `examples/dev_cert`, and runs `bench-tls`
/// (wrk, and h2load for HTTP/2, installed with apt-get when missing).
pub(crate) fn bench(args: &[&str]) -> Result<(), String> {
    ensure_tool("wrk", "wrk")?;
    ensure_tool("h2load", "nghttp2-client")?;
    let mut examples = cargo();
    examples.args([
        "build",
        "--release",
        "--quiet",
        "--example",
        "bench_server",
        "--example",
        "dev_cert",
    ]);
    step(
        "build examples/bench_server and examples/dev_cert",
        examples,
    )?;
    let mut peers = cargo();
    peers.args([
        "build",
        "--release",
        "--quiet",
        "--manifest-path",
        "bench/Cargo.toml",
        "--target-dir",
        "target/bench",
        "--bin",
        "bench-tls",
        "--bin",
        "peer-hyper-tls",
    ]);
    step("build the TLS peer and bench-tls", peers)?;
    let release = target_dir().join("release/examples");
    let dir = root().join("target/bench-tls");
    let mut certs = Command::new(release.join("dev_cert"));
    certs.arg(&dir);
    step("examples/dev_cert", certs)?;
    let mut run = Command::new(root().join("target/bench/release/bench-tls"));
    run.current_dir(root())
        .arg("--portico")
        .arg(release.join("bench_server"))
        .arg("--tls-cert")
        .arg(dir.join("cert.pem"))
        .arg("--tls-key")
        .arg(dir.join("key.pem"))
        .arg("--tls-ca")
        .arg(dir.join("ca.pem"))
        .args(args);
    step("bench-tls", run)
}
