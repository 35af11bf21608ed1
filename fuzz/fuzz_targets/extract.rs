//! `extract`: arbitrary requests to handlers with typed and validated parameters, through the
//! application's service with no socket (the test client's way in): query strings into
//! models and single parameters, headers and cookies into models, urlencoded and multipart
//! forms with files, JSON bodies, text and raw bodies, streamed bodies, body limits, and
//! every failure of a request collected into one 422 (`apps::extract_app`).
//!
//! The input reads as a small request: a first line `METHOD TARGET`, header lines
//! `name: value`, an empty line, then the body (lines end with `\n`). The first byte is the
//! control byte: bits 0 to 2 say in what pieces the body arrives (see `Delivery::from_byte`),
//! bit 3 whether its length is announced. Methods, targets and headers that are not valid
//! are skipped, as the server never passes them on.
//!
//! A bug is a panic, or a 5xx (no handler fails on purpose), or a 422 whose body is not
//! FastAPI's `{"detail": [...]}`.

#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use portico::http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use portico::{AppService, Body};
use portico_fuzz::{Delivery, apps, call, run};

fn service() -> &'static AppService {
    static SERVICE: OnceLock<AppService> = OnceLock::new();
    SERVICE.get_or_init(|| run(async { apps::extract_app().into_service() }))
}

/// The request the input describes, or `None` where the server would not pass it on.
fn request(control: u8, input: &[u8]) -> Option<Request<Body>> {
    let (head, body) = match input.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&input[..at], &input[at + 2..]),
        None => (input, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n');
    let first = lines.next()?;
    let space = first.iter().position(|b| *b == b' ')?;
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::from_bytes(&first[..space]).ok()?;
    *request.uri_mut() = Uri::try_from(&first[space + 1..]).ok()?;
    let headers = request.headers_mut();
    headers.insert(header::HOST, HeaderValue::from_static("fuzz"));
    for line in lines {
        let colon = line.iter().position(|b| *b == b':')?;
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        headers.append(name, value);
    }
    if control & 8 != 0 {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    *request.body_mut() = pieces(body, Delivery::from_byte(control & 7).chunk);
    Some(request)
}

/// `body` as a stream of pieces of at most `chunk` bytes (all at once for `0`).
fn pieces(body: &[u8], chunk: usize) -> Body {
    if chunk == 0 {
        return Body::from_bytes(body.to_vec());
    }
    let frames: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = body
        .chunks(chunk)
        .map(|piece| Ok(http_body::Frame::data(Bytes::copy_from_slice(piece))))
        .collect();
    Body::new(http_body_util::StreamBody::new(futures_lite::stream::iter(
        frames,
    )))
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let Some(request) = request(control, input) else {
        return;
    };
    let answer = call(service(), request);
    if answer.status == StatusCode::UNPROCESSABLE_ENTITY {
        let body: serde_json::Value = serde_json::from_slice(&answer.body)
            .unwrap_or_else(|err| panic!("a 422 whose body is not JSON ({err})"));
        assert!(
            body["detail"].as_array().is_some_and(|d| !d.is_empty()),
            "a 422 without its errors: {body}"
        );
    }
});
