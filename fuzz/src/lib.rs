//! What Portico's fuzz targets share: a runtime, the way an input is run with a bound on its
//! time, an in-memory connection to the real server, and the applications under test.
//!
//! Every target runs on one current-thread tokio runtime, built once: the server's tasks all
//! run on the fuzzing thread, in an order the input decides. A run that takes longer than
//! [`HANG`] panics with "hang", so that a stuck input is reported as a crash with its input
//! rather than as a fuzzer that stops moving.

#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use portico_http::StreamServer;

pub mod apps;
pub mod memory;

pub use memory::{ClientEnd, Delivery, ServerEnd, connection};

/// How long one input may take, in wall-clock time, before it counts as a hang. Far past what
/// any input of a fuzzer's size needs (a few milliseconds), and shorter than the `-timeout`
/// `cargo xtask fuzz` gives libFuzzer, so that this clearer report comes first.
pub const HANG: Duration = Duration::from_secs(5);

/// The runtime every input runs on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread tokio runtime starts")
    })
}

/// Runs `fut` on the runtime; panics with "hang" if it takes longer than [`HANG`].
pub fn run<F: Future>(fut: F) -> F::Output {
    runtime().block_on(async {
        let rt = portico::rt::current().expect("the tokio runtime answers as Portico's");
        match rt.timeout(HANG, fut).await {
            Ok(output) => output,
            Err(_) => panic!("hang: the input was not done within {HANG:?}"),
        }
    })
}

/// Builds a server for connections handed over in memory, on the runtime.
pub fn stream_server(server: portico::Server) -> StreamServer {
    run(server.serve_streams()).expect("the application builds and starts")
}

/// How many turns of the runtime a lingering client waits, once the server has read its
/// bytes, before it shuts its write half: enough for every handler of the applications to
/// answer (they wait on nothing but the runtime's next turn), 64 was chosen arbitrarily.
const QUIET_TURNS: usize = 64;

/// Serves one connection whose client sends `input` as `delivery` says and then shuts its
/// write half (at once, or once the server has gone quiet); returns what the server wrote,
/// once the server has let go of the connection and everything it started (HTTP/2 streams,
/// WebSockets, after-response work) has ended.
pub fn exchange(server: &StreamServer, input: &[u8], delivery: Delivery) -> Vec<u8> {
    let (stream, client) = connection(input, delivery);
    run(async {
        let client_side = async {
            if delivery.linger {
                client.sent().await;
                for _ in 0..QUIET_TURNS {
                    tokio::task::yield_now().await;
                }
                client.shut();
            }
        };
        futures_lite::future::zip(server.serve(stream), client_side).await;
        let output = client.read_to_end().await;
        server.settled().await;
        output
    })
}

/// The status codes of the HTTP/1.x responses in `output`, read one after the other (heads,
/// then bodies by their length or chunked framing), up to and including a
/// `101 Switching Protocols`, after which the connection speaks another protocol.
///
/// The answer to a `HEAD` request has a length but no body: a response head right where its
/// body would start is taken for that (no body the applications send starts with one).
/// Reading stops at bytes that are not a response (a body cut short by a dropped request).
pub fn statuses(output: &[u8]) -> Vec<u16> {
    let mut found = Vec::new();
    let mut rest = output;
    while let Some((status, after)) = response(rest) {
        found.push(status);
        if status == 101 {
            break;
        }
        rest = after;
    }
    found
}

/// One response at the front of `bytes`: its status and what follows it.
fn response(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(bytes.get(..head_end)?).ok()?;
    let status: u16 = head
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| head.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()?;
    let rest = &bytes[head_end..];
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    };
    let head_next = rest.starts_with(b"HTTP/1.1 ") || rest.starts_with(b"HTTP/1.0 ");
    if status < 200 || status == 204 || status == 304 || head_next {
        return Some((status, rest));
    }
    if header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        return Some((status, after_chunks(rest)?));
    }
    match header("content-length") {
        Some(length) => Some((status, rest.get(length.parse::<usize>().ok()?..)?)),
        // Delimited by the end of the connection.
        None => Some((status, &[][..])),
    }
}

/// What follows a chunked body at the front of `bytes`.
fn after_chunks(mut bytes: &[u8]) -> Option<&[u8]> {
    loop {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&bytes[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            // No trailers from these applications: the empty line ends the body.
            return bytes.strip_prefix(b"\r\n");
        }
        bytes = bytes.get(size..)?.strip_prefix(b"\r\n")?;
    }
}

/// Panics if the server answered any request with a 5xx: no handler of the applications fails
/// on purpose, so a 5xx is the framework's own failure.
pub fn assert_no_server_error(output: &[u8]) {
    if let Some(status) = statuses(output).into_iter().find(|s| *s >= 500) {
        panic!(
            "the server answered {status}:\n{}",
            String::from_utf8_lossy(&output[..output.len().min(4096)])
        );
    }
}

/// A response as the service answered it, its body read in full.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: portico::http::StatusCode,
    /// The headers.
    pub headers: portico::http::HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

/// Calls `service` with `request`, with no socket (the test client's way in), and reads the
/// whole response; panics if the body fails, or the framework answers 5xx.
pub fn call(service: &portico::AppService, request: portico::Request) -> Answer {
    use http_body_util::BodyExt as _;
    let what = format!("{} {}", request.method(), request.uri());
    let answer = run(async {
        let response = service.call(request).await;
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) => panic!("the body of the answer to {what} failed: {err}"),
        };
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    });
    assert!(
        !answer.status.is_server_error(),
        "{what} was answered {}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    answer
}
