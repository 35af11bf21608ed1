//! `cargo xtask nginx`: `examples/todo` behind a real nginx, under `/api/`, on loopback.
//!
//! nginx strips the prefix and forwards `X-Forwarded-For` and `X-Forwarded-Proto`; the app runs
//! with `--root-path /api --forwarded-allow-ips 127.0.0.1`. Every check goes through nginx.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{ensure_tool, root, start_todo};

/// A response as nginx sent it.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 request (so that nginx answers with a length or by closing, never chunked).
fn request(
    port: u16,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|err| format!("connecting to nginx: {err}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|err| err.to_string())?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream
        .write_all(head.as_bytes())
        .map_err(|err| err.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|err| format!("reading from nginx: {err}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no response head in {text:?}"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// A loopback port that was free a moment ago (bound to port 0, then released).
pub(crate) fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|err| err.to_string())
}

fn config(dir: &Path, port: u16, upstream: &str) -> String {
    let dir = dir.display();
    format!(
        r#"worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            proxy_pass {upstream}/;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"#
    )
}

/// Fails with what was expected, what came, and nginx's error log.
fn expect(dir: &Path, what: &str, ok: bool, reply: &Reply) -> Result<(), String> {
    if ok {
        println!("    {what}: ok ({})", reply.status);
        return Ok(());
    }
    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    Err(format!(
        "{what}: unexpected answer {} {:?}\n{}\nnginx error log:\n{log}",
        reply.status,
        reply.headers,
        &reply.body[..reply.body.len().min(2000)]
    ))
}

pub(crate) fn check() -> Result<(), String> {
    ensure_tool("nginx", "nginx")?;
    let dir = root().join("target/nginx");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let (app, upstream) = start_todo(
        &dir,
        "todo",
        &["--root-path", "/api", "--forwarded-allow-ips", "127.0.0.1"],
    )?;
    let port = free_port()?;
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config(&dir, port, &upstream)).map_err(|err| err.to_string())?;
    let nginx = start(&dir, &conf, port)?;
    println!("==> nginx on http://127.0.0.1:{port}/api/ -> {upstream}");

    let json = [("Content-Type", "application/json")];
    let created = request(
        port,
        "POST",
        "/api/todos",
        &json,
        r#"{"title":"through nginx"}"#,
    )?;
    expect(
        &dir,
        "POST /api/todos",
        created.status == 201 && created.body.contains(r#""title":"through nginx""#),
        &created,
    )?;
    let listed = request(
        port,
        "GET",
        "/api/todos",
        &[("X-Request-ID", "nginx-check-1")],
        "",
    )?;
    expect(
        &dir,
        "GET /api/todos",
        listed.status == 200
            && listed.body.starts_with('[')
            && listed.body.contains("through nginx")
            && listed.header("x-request-id") == Some("nginx-check-1"),
        &listed,
    )?;
    let one = request(port, "GET", "/api/todos/1", &[], "")?;
    expect(
        &dir,
        "GET /api/todos/1",
        one.status == 200 && one.body.contains(r#""id":1"#),
        &one,
    )?;
    let missing = request(port, "GET", "/api/todos/999", &[], "")?;
    expect(
        &dir,
        "GET /api/todos/999",
        missing.status == 404 && missing.body.contains("detail"),
        &missing,
    )?;
    let redirect = request(port, "GET", "/api/todos/?done=false", &[], "")?;
    expect(
        &dir,
        "GET /api/todos/ (slash redirect)",
        // Absolute, on the host the client asked (nginx passes it on), as Starlette's.
        redirect.status == 307
            && redirect.header("location")
                == Some(format!("http://127.0.0.1:{port}/api/todos?done=false").as_str()),
        &redirect,
    )?;
    let docs = request(port, "GET", "/api/docs", &[], "")?;
    expect(
        &dir,
        "GET /api/docs",
        docs.status == 200
            && docs.body.contains("\"/api/openapi.json\"")
            && docs.body.contains("/api/docs/swagger-ui-bundle.js"),
        &docs,
    )?;
    let script = request(port, "GET", "/api/docs/swagger-ui-bundle.js", &[], "")?;
    expect(
        &dir,
        "GET /api/docs/swagger-ui-bundle.js",
        script.status == 200 && script.body.len() > 100_000,
        &script,
    )?;
    let doc = request(port, "GET", "/api/openapi.json", &[], "")?;
    expect(
        &dir,
        "GET /api/openapi.json",
        doc.status == 200
            && doc.body.contains(r#""servers":[{"url":"/api"}]"#)
            && doc.body.contains(r#""/todos/{id}""#),
        &doc,
    )?;
    let compressed = request(
        port,
        "GET",
        "/api/openapi.json",
        &[("Accept-Encoding", "gzip")],
        "",
    )?;
    expect(
        &dir,
        "GET /api/openapi.json, gzip",
        compressed.header("content-encoding") == Some("gzip"),
        &compressed,
    )?;
    drop(nginx);
    drop(app);
    println!("    nginx and examples/todo stopped");
    Ok(())
}

/// Starts nginx with the configuration `conf` and `dir` as its prefix (its error log in
/// `dir/error.log`), and waits until it listens on loopback `port`.
pub(crate) fn start(dir: &Path, conf: &Path, port: u16) -> Result<Nginx, String> {
    let nginx = Nginx(
        Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| format!("starting nginx: {err}"))?,
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            return Err(format!("nginx did not listen on port {port}:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(nginx)
}

/// A running nginx, stopped as its manual says when dropped, on success or failure: SIGQUIT
/// to the master, which ends its workers (killing the master alone would leave them behind),
/// then SIGKILL if it has not ended within 10 s.
pub(crate) struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-QUIT", &pid]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx on loopback `port` in front of the servers on loopback ports `instances`, as one
/// `upstream` with keep-alive connections (see `rolling.rs` for what each directive does to a
/// restart): `max_fails` on each server, `next_upstream` as `proxy_next_upstream`. The access
/// log, in `dir`, has a line per request: method, status, the upstream addresses tried and
/// their statuses (read by [`print_upstream_logs`]).
pub(crate) fn upstream_config(
    dir: &Path,
    port: u16,
    instances: &[u16],
    max_fails: usize,
    next_upstream: &str,
) -> String {
    let dir = dir.display();
    let servers: String = instances
        .iter()
        .map(|instance| format!("        server 127.0.0.1:{instance} max_fails={max_fails};\n"))
        .collect();
    // 64 idle connections kept per worker: more than the clients in flight, so nginx does not
    // close and reopen connections to the instances in steady state.
    format!(
        r#"worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_method $status $upstream_addr $upstream_status';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream instances {{
{servers}        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://instances;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream {next_upstream};
        }}
    }}
}}
"#
    )
}

/// Tells from the logs of nginx set up by [`upstream_config`] how it got through: how many
/// requests it passed on to another instance, the failures it answered, and the upstream
/// errors it logged, by kind.
pub(crate) fn print_upstream_logs(dir: &Path) {
    let access = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
    // Each line: method, status, upstream addresses, upstream statuses.
    let retried: Vec<&str> = access.lines().filter(|line| line.contains(", ")).collect();
    let retried_posts = retried
        .iter()
        .filter(|line| line.starts_with("POST"))
        .count();
    println!(
        "    nginx passed {} of {} requests on to another instance ({retried_posts} of them \
         POST)",
        retried.len(),
        access.lines().count()
    );
    // The failures nginx answered, by method and status.
    let mut failed: Vec<(&str, usize)> = Vec::new();
    for line in access.lines() {
        let mut words = line.split(' ');
        let (Some(method), Some(status)) = (words.next(), words.next()) else {
            continue;
        };
        if !status.starts_with('2') {
            let what = &line[..method.len() + 1 + status.len()];
            match failed.iter_mut().find(|(seen, _)| *seen == what) {
                Some((_, n)) => *n += 1,
                None => failed.push((what, 1)),
            }
        }
    }
    for (what, n) in failed {
        println!("    nginx answered {what} {n} times");
    }
    let errors = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    let kinds = [
        ("connect() failed", "connects refused"),
        (
            "prematurely closed",
            "connections closed before a response header",
        ),
        ("reset by peer", "connections reset"),
        ("no live upstreams", "no live upstreams"),
        ("timed out", "timeouts"),
    ];
    for (needle, what) in kinds {
        let n = errors.lines().filter(|line| line.contains(needle)).count();
        if n > 0 {
            println!("    nginx error log: {n} {what}");
        }
    }
}
