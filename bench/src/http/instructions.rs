//! Instructions per request: each counted server (Portico's builds and raw hyper) runs under
//! valgrind's callgrind, and a client in this process sends a fixed number of requests on a
//! fixed number of keep-alive connections.
//!
//! For each endpoint the client opens its connections and sends a warm-up (which also pays for
//! the accepts); then `callgrind_control --zero` clears the counters, the measured requests go
//! out, and `callgrind_control --dump` writes what they cost. Start-up, warm-up and the
//! connections' teardown are outside the count. The count is the server process's user-space
//! instructions, every thread's; the kernel's share of each request, about half of these
//! servers' CPU time, is not in it.
//!
//! One connection by default: each request then finds the server idle and takes the same way
//! through it (wake-up, read, answer, back to sleep), and repeated server starts agree within
//! 2%, most endpoints within 0.5%; an async handler whose dependency hops to the thread pool
//! and back moves most. With more connections several requests share a wake-up, which is
//! cheaper per request but depends on how fast the client keeps up with a server slowed some
//! 50 times by callgrind, so on a machine shared with other work the figures move by 2-5%.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::endpoints::Endpoint;
use super::servers::{self, Server};

/// What to send, and how often to count.
pub struct Plan {
    /// Requests counted per endpoint.
    pub requests: usize,
    /// Keep-alive connections they are spread over.
    pub connections: usize,
    /// Separate server starts per server: the report gives their median and spread.
    pub runs: usize,
    pub server_cpu: String,
    pub workers: usize,
    /// Where to keep each count's profile, if anywhere.
    pub keep: Option<PathBuf>,
}

/// Instructions per request, one figure per run, by (server, endpoint) index.
pub type Counts = BTreeMap<(usize, usize), Vec<f64>>;

/// Counts every counted server's instructions per request on every endpoint it serves.
pub fn measure(plan: &Plan, servers: &[Server], endpoints: &[&Endpoint]) -> Counts {
    let mut counts = Counts::new();
    let dir = std::env::temp_dir().join(format!("portico-callgrind-{}", std::process::id()));
    for run in 0..plan.runs {
        for (s, server) in servers.iter().enumerate().filter(|(_, s)| s.counted) {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("creates the callgrind directory");
            let out = dir.join("callgrind.out");
            let wrapper: Vec<OsString> = vec![
                "valgrind".into(),
                "--tool=callgrind".into(),
                format!("--callgrind-out-file={}", out.display()).into(),
            ];
            let log = dir.join("valgrind.log");
            let running = servers::start(
                server,
                &plan.server_cpu,
                plan.workers,
                Some((&wrapper, &log)),
            );
            let pid = running.child.id();
            let mut dumps = 0;
            for (e, endpoint) in endpoints.iter().enumerate() {
                if !server.serves(endpoint) {
                    continue;
                }
                let mut conns = open(running.addr, plan.connections);
                // A tenth as warm-up, at least one request per connection.
                send(
                    &mut conns,
                    endpoint,
                    (plan.requests / 10).max(plan.connections),
                );
                callgrind_control("--zero", pid);
                let started = Instant::now();
                send(&mut conns, endpoint, plan.requests);
                let took = started.elapsed();
                callgrind_control("--dump", pid);
                dumps += 1;
                drop(conns);
                let dump = dir.join(format!("callgrind.out.{dumps}"));
                let total = summary(&dump);
                if let Some(keep) = &plan.keep {
                    keep_profile(&dump, keep, server.name, endpoint.name, run + 1);
                }
                let per_request = total as f64 / plan.requests as f64;
                eprintln!(
                    "instructions, run {}: {:<22} {:<10} {:>9.0} instructions/request ({:.1} s)",
                    run + 1,
                    server.name,
                    endpoint.name,
                    per_request,
                    took.as_secs_f64()
                );
                counts.entry((s, e)).or_default().push(per_request);
            }
            drop(running);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    counts
}

/// Copies one count's profile into `keep` as `SERVER-ENDPOINT-RUN.callgrind`.
fn keep_profile(dump: &Path, keep: &Path, server: &str, endpoint: &str, run: usize) {
    let server: String = (server.chars())
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect();
    std::fs::create_dir_all(keep).expect("creates the profile directory");
    let to = keep.join(format!("{server}-{endpoint}-{run}.callgrind"));
    std::fs::copy(dump, &to)
        .unwrap_or_else(|e| panic!("copies {} to {}: {e}", dump.display(), to.display()));
}

fn callgrind_control(action: &str, pid: u32) {
    let out = Command::new("callgrind_control")
        .arg(action)
        .arg(pid.to_string())
        .output()
        .expect("callgrind_control runs (it comes with valgrind)");
    assert!(
        out.status.success(),
        "callgrind_control {action} {pid} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The instruction total of a callgrind dump.
fn summary(file: &Path) -> u64 {
    // The dump is written before callgrind_control returns; wait a little in case it is not.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Some(total) = text.lines().find_map(|line| {
                line.strip_prefix("summary:")
                    .or_else(|| line.strip_prefix("totals:"))
                    .and_then(|n| n.trim().parse().ok())
            })
        {
            return total;
        }
        assert!(
            Instant::now() < deadline,
            "no callgrind dump in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One keep-alive connection of the client.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn open(addr: SocketAddr, connections: usize) -> Vec<Conn> {
    (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(addr).expect("connects");
            stream.set_nodelay(true).expect("nodelay");
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .expect("timeout");
            Conn {
                stream,
                buf: Vec::with_capacity(4096),
            }
        })
        .collect()
}

/// Sends `requests` requests to `endpoint`, spread evenly over the connections, each
/// connection waiting for an answer before its next request.
fn send(conns: &mut [Conn], endpoint: &Endpoint, requests: usize) {
    let request = endpoint.request(false);
    let k = conns.len();
    std::thread::scope(|scope| {
        for (i, conn) in conns.iter_mut().enumerate() {
            let count = requests / k + usize::from(i < requests % k);
            let request = &request;
            scope.spawn(move || {
                for _ in 0..count {
                    if let Err(problem) = exchange(conn, request) {
                        panic!("{} {}: {problem}", endpoint.method, endpoint.path);
                    }
                }
            });
        }
    });
}

/// Writes one request and reads its whole answer, which must be a 200.
fn exchange(conn: &mut Conn, request: &[u8]) -> Result<(), String> {
    conn.stream
        .write_all(request)
        .map_err(|err| format!("write: {err}"))?;
    conn.buf.clear();
    let mut chunk = [0u8; 4096];
    let mut need: Option<usize> = None;
    let mut chunked = false;
    loop {
        if let Some(need) = need
            && conn.buf.len() >= need
        {
            return Ok(());
        }
        if chunked && conn.buf.ends_with(b"0\r\n\r\n") {
            return Ok(());
        }
        let n = conn
            .stream
            .read(&mut chunk)
            .map_err(|err| format!("read: {err}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        conn.buf.extend_from_slice(&chunk[..n]);
        if need.is_none()
            && !chunked
            && let Some(end) = conn.buf.windows(4).position(|w| w == b"\r\n\r\n")
        {
            let head = String::from_utf8_lossy(&conn.buf[..end]).to_ascii_lowercase();
            if !head.starts_with("http/1.1 200 ") {
                return Err(format!("answered {:?}", head.lines().next()));
            }
            let length = head.lines().find_map(|line| {
                line.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            match length {
                Some(length) => need = Some(end + 4 + length),
                None if head.contains("transfer-encoding: chunked") => chunked = true,
                None => return Err("an answer without a length".into()),
            }
        }
    }
}
