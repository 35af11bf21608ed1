//! What every connection of one server shares: its settings, its phase (serving, draining,
//! cut) and the count of open connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use event_listener::Event;
use portico_rt::Runtime;

use super::ServerConfig;
use super::hyper_rt::{Exec, Timer};

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Serving = 0,
    /// Not accepting; finishing what was received; long-lived streams told to end.
    Draining = 1,
    /// The grace period is over: connections are dropped.
    Cut = 2,
}

/// What every connection of a server shares.
pub(crate) struct ServerShared {
    pub(crate) config: ServerConfig,
    phase: AtomicU8,
    pub(crate) phase_changed: Event,
    /// Connections open.
    live: AtomicUsize,
    live_changed: Event,
    pub(crate) http1: hyper::server::conn::http1::Builder,
    pub(crate) http2: hyper::server::conn::http2::Builder<Exec>,
}

impl ServerShared {
    pub(super) fn new(config: ServerConfig, rt: &Runtime) -> Self {
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(Timer(rt.clone()))
            // The connection's socket wrapper times heads out, with a 408 (see `io`).
            .header_read_timeout(None)
            .keep_alive(config.keep_alive)
            .max_header_size(config.max_header_size);
        let mut http2 = hyper::server::conn::http2::Builder::new(Exec(rt.clone()));
        http2
            .timer(Timer(rt.clone()))
            .max_header_list_size(u32::try_from(config.max_header_size).unwrap_or(u32::MAX));
        ServerShared {
            config,
            phase: AtomicU8::new(Phase::Serving as u8),
            phase_changed: Event::new(),
            live: AtomicUsize::new(0),
            live_changed: Event::new(),
            http1,
            http2,
        }
    }

    pub(crate) fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Serving,
            1 => Phase::Draining,
            _ => Phase::Cut,
        }
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.phase() != Phase::Serving
    }

    pub(super) fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
        self.phase_changed.notify(usize::MAX);
    }

    pub(super) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Waits until no connection is open.
    pub(super) async fn closed(&self) {
        loop {
            if self.live() == 0 {
                return;
            }
            let listener = self.live_changed.listen();
            if self.live() == 0 {
                return;
            }
            listener.await;
        }
    }
}

/// Counts a connection as open while it lives.
pub(super) struct Live(Arc<ServerShared>);

impl Live {
    pub(super) fn new(server: &Arc<ServerShared>) -> Self {
        server.live.fetch_add(1, Ordering::AcqRel);
        Live(server.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.live_changed.notify(usize::MAX);
        }
    }
}
