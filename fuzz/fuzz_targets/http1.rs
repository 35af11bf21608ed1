//! `http1`: arbitrary bytes as what a client sends on one connection to the real server, over
//! an in-memory stream: request heads, bodies with a length or chunked framing, pipelined
//! requests, upgrade requests, HTTP/2 prefaces, garbage. The application has a JSON route, a
//! validated path and query route, form and file routes, a streamed body, a streamed
//! response, after-response work and WebSockets (`portico_fuzz::apps::server_app`).
//!
//! The first byte is the control byte (see `Delivery::from_byte`): bits 0 to 3 say how the
//! bytes arrive (in pieces of 1 to 512 bytes, with reads that find nothing in between), bit 4
//! whether the client waits for the server to go quiet before it shuts its write half (off, it
//! shuts it at once, and requests still in flight are dropped, their handlers cancelled, as
//! when a client goes away). The rest is the client's bytes; the client reads until the
//! server lets go of the connection.
//!
//! A bug is a panic, a run past `portico_fuzz::HANG`, or a 5xx answer (no handler fails on
//! purpose).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portico_fuzz::{Delivery, apps, assert_no_server_error, exchange, stream_server};
use portico_http::StreamServer;

fn server() -> &'static StreamServer {
    static SERVER: OnceLock<StreamServer> = OnceLock::new();
    SERVER.get_or_init(|| stream_server(apps::server_app().serve("in-memory")))
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let output = exchange(server(), input, Delivery::from_byte(control));
    assert_no_server_error(&output);
});
