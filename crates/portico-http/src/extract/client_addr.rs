//! [`ClientAddr`]: the address of the client.

use std::net::SocketAddr;

use http::request::Parts;

use super::{FromRequestParts, Rejection, RequestContext};

/// The address of the client: the connection's peer, or the client a trusted proxy names
/// (port 0 when the proxy does not say). Requests through the test client come from
/// `127.0.0.1:50000`. Requests over a Unix socket have none, and a handler asking for it is
/// answered 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

impl FromRequestParts for ClientAddr {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let peer = ctx.locals.peer.map(ClientAddr);
        match parts.extensions.get::<ClientAddr>().copied().or(peer) {
            Some(addr) => Ok(addr),
            None => {
                tracing::error!("a handler takes a ClientAddr but the connection has no address");
                Err(Rejection::Response(crate::response::internal_error()))
            }
        }
    }
}
