//! `h2`: arbitrary HTTP/2 frames after the client's connection preface, on one connection to
//! the real server over an in-memory stream (HTTP/2 by prior knowledge, told apart from
//! HTTP/1.1 by the preface, as on a socket): SETTINGS, HEADERS with HPACK blocks,
//! CONTINUATION, DATA, WINDOW_UPDATE, RST_STREAM, PING, GOAWAY, in any order and framing. The
//! application is the `http1` target's.
//!
//! The first byte is the control byte (see `Delivery::from_byte`): bits 0 to 3 say how the
//! bytes arrive, bit 4 whether the client waits for the server to go quiet (its streams
//! answered) before it shuts its write half. The rest follows the preface the harness sends;
//! the client reads until the server lets go of the connection.
//!
//! A bug is a panic or a run past `portico_fuzz::HANG`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portico_fuzz::{Delivery, apps, exchange, stream_server};
use portico_http::StreamServer;

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn server() -> &'static StreamServer {
    static SERVER: OnceLock<StreamServer> = OnceLock::new();
    SERVER.get_or_init(|| stream_server(apps::server_app().serve("in-memory")))
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, frames)) = data.split_first() else {
        return;
    };
    let mut input = Vec::with_capacity(PREFACE.len() + frames.len());
    input.extend_from_slice(PREFACE);
    input.extend_from_slice(frames);
    exchange(server(), &input, Delivery::from_byte(control));
});
