//! The benchmark endpoints: what the load sends, what a correct answer looks like, and the
//! check that every server gives it before anything is measured.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One endpoint: what the load sends, and what a correct answer looks like.
pub struct Endpoint {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub body: Option<&'static str>,
    pub expect: &'static str,
    pub content_type: &'static str,
    /// Requests that must be refused (422 from Portico and FastAPI).
    pub invalid: &'static [Invalid],
    /// Which servers answer it.
    pub served: Served,
    /// For an endpoint the plain peers do not serve, the endpoint of the same server it is
    /// compared with instead of raw hyper.
    pub against: Option<&'static str>,
    /// Headers sent with every request.
    pub headers: &'static [&'static str],
}

/// Which servers answer an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Served {
    /// Every server.
    All,
    /// The frameworks with dependency injection and middleware: Portico and FastAPI.
    Frameworks,
    /// Portico alone (its own features).
    Portico,
}

/// A request that must be refused: method, path and body.
pub type Invalid = (&'static str, &'static str, Option<&'static str>);

pub const ECHO: &str = r#"{"name":"portico","count":3,"tags":["a","b"]}"#;

const JSON: &str = "application/json";

pub const ENDPOINTS: [Endpoint; 10] = [
    Endpoint {
        name: "plaintext",
        method: "GET",
        path: "/plaintext",
        body: None,
        expect: "Hello, World!",
        content_type: "text/plain; charset=utf-8",
        invalid: &[],
        served: Served::All,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "json",
        method: "GET",
        path: "/json",
        body: None,
        expect: r#"{"message":"Hello, World!"}"#,
        content_type: JSON,
        invalid: &[],
        served: Served::All,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "users",
        method: "GET",
        path: "/users/42?verbose=true",
        body: None,
        expect: r#"{"id":42,"verbose":true}"#,
        content_type: JSON,
        invalid: &[
            ("GET", "/users/x?verbose=maybe", None),
            ("GET", "/users/-1", None),
        ],
        served: Served::All,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "echo",
        method: "POST",
        path: "/echo",
        body: Some(ECHO),
        expect: ECHO,
        content_type: JSON,
        invalid: &[
            (
                "POST",
                "/echo",
                Some(r#"{"name":1,"count":"x","tags":[2]}"#),
            ),
            ("POST", "/echo", Some(r#"{"name":"a"}"#)),
        ],
        served: Served::All,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "echo-valid",
        method: "POST",
        path: "/echo-valid",
        body: Some(ECHO),
        expect: ECHO,
        content_type: JSON,
        invalid: &[
            (
                "POST",
                "/echo-valid",
                Some(r#"{"name":"","count":-1,"tags":[""]}"#),
            ),
            ("POST", "/echo-valid", Some(r#"{"name":"a"}"#)),
        ],
        served: Served::Frameworks,
        against: Some("echo"),
        headers: &[],
    },
    Endpoint {
        name: "blocking",
        method: "GET",
        path: "/blocking",
        body: None,
        expect: r#"{"ok":true}"#,
        content_type: JSON,
        invalid: &[],
        served: Served::All,
        against: None,
        headers: &[],
    },
    Endpoint {
        name: "blocking-deps",
        method: "GET",
        path: "/blocking-deps",
        body: None,
        expect: r#"{"ok":true}"#,
        content_type: JSON,
        invalid: &[],
        served: Served::Frameworks,
        against: Some("blocking"),
        headers: &[],
    },
    Endpoint {
        name: "deps",
        method: "GET",
        path: "/deps",
        body: None,
        expect: r#"{"tenant":7,"session":"s-7","quota":700}"#,
        content_type: JSON,
        invalid: &[],
        served: Served::Frameworks,
        against: Some("users"),
        headers: &[],
    },
    Endpoint {
        name: "deps-async",
        method: "GET",
        path: "/deps-async",
        body: None,
        expect: r#"{"tenant":7,"session":"s-7","quota":700}"#,
        content_type: JSON,
        invalid: &[],
        served: Served::Frameworks,
        against: Some("users"),
        headers: &[],
    },
    Endpoint {
        name: "json-mw",
        method: "GET",
        path: "/mw/json",
        body: None,
        expect: r#"{"message":"Hello, World!"}"#,
        content_type: JSON,
        invalid: &[],
        served: Served::Frameworks,
        against: Some("json"),
        // A browser's cross-origin request: CORS answers it, and the body is under the
        // compression minimum, so it goes uncompressed.
        headers: &["Origin: http://bench.example", "Accept-Encoding: gzip, br"],
    },
];

impl Endpoint {
    /// The whole HTTP/1.1 request, keep-alive unless `close`.
    pub fn request(&self, close: bool) -> Vec<u8> {
        request(self.method, self.path, self.body, self.headers, close)
    }
}

fn request(method: &str, path: &str, body: Option<&str>, headers: &[&str], close: bool) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: bench\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    if close {
        text.push_str("connection: close\r\n");
    }
    if let Some(body) = body {
        text.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or(""));
    text.into_bytes()
}

/// An answer as the checks compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// One request on a fresh connection.
pub fn fetch(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Answer {
    fetch_with(addr, method, path, body, &[])
}

fn fetch_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[&str],
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(&request(method, path, body, headers, true))
        .expect("writes");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("reads");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        // One chunk is all these small bodies take.
        rest.split("\r\n").nth(1).unwrap_or("").to_owned()
    } else {
        rest.to_owned()
    };
    Answer {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body,
    }
}

/// How closely a server's refusals must match the reference's (Portico's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusals {
    /// Any 4xx: axum and actix-web answer 400 for some of these, as good a refusal here.
    Any4xx,
    /// The same status, content type and body, byte for byte: FastAPI, whose 422s Portico's
    /// copy.
    SameAsReference,
}

/// Checks that the server at `addr` answers every endpoint as specified; `reference` gives the
/// reference server's answers to the invalid requests, for [`Refusals::SameAsReference`].
pub fn check(
    name: &str,
    addr: SocketAddr,
    endpoints: &[&Endpoint],
    refusals: Refusals,
    reference: &[(Invalid, Answer)],
) -> Result<(), String> {
    for endpoint in endpoints {
        let answer = fetch_with(
            addr,
            endpoint.method,
            endpoint.path,
            endpoint.body,
            endpoint.headers,
        );
        let expected = Answer {
            status: 200,
            content_type: endpoint.content_type.to_owned(),
            body: endpoint.expect.to_owned(),
        };
        if answer != expected {
            return Err(format!(
                "{name} {} {}: {answer:?}, expected {expected:?}",
                endpoint.method, endpoint.path
            ));
        }
        for invalid in endpoint.invalid {
            let (method, path, body) = *invalid;
            let answer = fetch(addr, method, path, body);
            match refusals {
                Refusals::Any4xx if (400..500).contains(&answer.status) => {}
                Refusals::Any4xx => {
                    return Err(format!(
                        "{name} {method} {path}: {answer:?}, expected a 4xx refusal"
                    ));
                }
                Refusals::SameAsReference => {
                    let Some((_, expected)) = reference.iter().find(|(r, _)| r == invalid) else {
                        return Err(format!("no reference answer to {method} {path}"));
                    };
                    if answer != *expected {
                        return Err(format!(
                            "{name} {method} {path}: {answer:?}\nportico answers: {expected:?}"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The reference server's answers to every invalid request of `endpoints`.
pub fn reference_answers(addr: SocketAddr, endpoints: &[&Endpoint]) -> Vec<(Invalid, Answer)> {
    endpoints
        .iter()
        .flat_map(|e| e.invalid)
        .map(|invalid| {
            let (method, path, body) = *invalid;
            (*invalid, fetch(addr, method, path, body))
        })
        .collect()
}
