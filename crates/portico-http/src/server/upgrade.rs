//! [`ServerLink`]: what a connection upgraded to another protocol (a WebSocket) keeps of the
//! server once hyper has let go of it.
//!
//! hyper's connection task ends when it hands an upgraded connection over, and with it the
//! count of that connection as open. The link keeps it counted (so a graceful shutdown waits
//! for it, up to the grace period) and keeps it busy in the eyes of the socket wrapper (so it
//! is not closed as idle), and tells the WebSocket when draining starts and when the grace
//! period is over.

use std::sync::Arc;

use super::shared::Live;
use super::socket::ConnShared;
use super::{Phase, ServerShared};

/// The server, as an upgraded connection sees it; the connection counts as open and busy
/// while a clone lives.
#[derive(Clone)]
pub(crate) struct ServerLink(Arc<Held>);

struct Held {
    conn: Arc<ConnShared>,
    _live: Live,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.conn.done();
    }
}

impl ServerLink {
    pub(super) fn new(conn: &Arc<ConnShared>) -> Self {
        conn.dispatch();
        ServerLink(Arc::new(Held {
            conn: conn.clone(),
            _live: Live::new(&conn.server),
        }))
    }

    fn server(&self) -> &ServerShared {
        &self.0.conn.server
    }

    /// Resolves once the server has reached `phase` (or a later one).
    async fn reached(&self, phase: Phase) {
        let server = self.server();
        loop {
            if server.phase() as u8 >= phase as u8 {
                return;
            }
            let listener = server.phase_changed.listen();
            if server.phase() as u8 >= phase as u8 {
                return;
            }
            listener.await;
        }
    }

    /// Resolves once the server is shutting down.
    pub(crate) async fn draining(&self) {
        self.reached(Phase::Draining).await;
    }

    /// Resolves once the grace period of the shutdown is over.
    pub(crate) async fn cut(&self) {
        self.reached(Phase::Cut).await;
    }
}

impl std::fmt::Debug for ServerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerLink")
            .field("phase", &self.server().phase())
            .finish()
    }
}
