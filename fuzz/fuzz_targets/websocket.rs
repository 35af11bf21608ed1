//! `websocket`: arbitrary bytes as the frames a client sends after a WebSocket handshake the
//! server accepts, on one connection to the real server over an in-memory stream: masked and
//! unmasked frames, fragments, control frames, close codes and reasons, invalid UTF-8,
//! messages past the limit (4 KiB here, closed with 1009). The handler greets, then echoes
//! text, JSON and binary messages until the WebSocket closes (`apps::server_app`'s
//! `/ws/{room}`); with bit 5 of the control byte the handshake goes to `/refuse`, whose handler
//! closes with its own code at once.
//!
//! The first byte is the control byte: bits 0 to 3 say how the bytes arrive (see
//! `Delivery::from_byte`). The rest follows the handshake the harness sends; the client, its
//! bytes sent, waits for the server to go quiet before it shuts its write half (so that the
//! handshake is answered whatever the server reads first), then reads until the server lets go
//! of the connection.
//!
//! A bug is a panic, a run past `portico_fuzz::HANG`, or a handshake not answered `101`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portico_fuzz::{Delivery, apps, exchange, statuses, stream_server};
use portico_http::StreamServer;

const HANDSHAKE: &[u8] = b"GET /ws/lobby?greeting=hi HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const REFUSED: &[u8] = b"GET /refuse HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn server() -> &'static StreamServer {
    static SERVER: OnceLock<StreamServer> = OnceLock::new();
    SERVER.get_or_init(|| stream_server(apps::server_app().serve("in-memory").http1_only()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, frames)) = data.split_first() else {
        return;
    };
    let handshake = if control & 32 == 0 {
        HANDSHAKE
    } else {
        REFUSED
    };
    let mut input = Vec::with_capacity(handshake.len() + frames.len());
    input.extend_from_slice(handshake);
    input.extend_from_slice(frames);
    let delivery = Delivery {
        linger: true,
        ..Delivery::from_byte(control)
    };
    let output = exchange(server(), &input, delivery);
    assert_eq!(
        statuses(&output).first(),
        Some(&101),
        "the handshake was not accepted:\n{}",
        String::from_utf8_lossy(&output[..output.len().min(2048)])
    );
});
