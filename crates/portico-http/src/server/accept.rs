//! Accepting connections: one loop per listener, until the server stops accepting.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::FutureExt;
use portico_rt::{Runtime, TcpListener};

use super::socket::Transport;
use super::{ServerShared, conn};
use crate::service::AppService;

pub(super) enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(portico_rt::UnixListener),
}

impl Listener {
    /// A connection already queued, without waiting.
    fn try_accept(&self) -> io::Result<Option<Accepted>> {
        Ok(match self {
            Listener::Tcp(listener) => listener.try_accept()?.map(|(s, _)| Accepted::Tcp(s)),
            #[cfg(unix)]
            Listener::Unix(listener) => listener.try_accept()?.map(|(s, _)| Accepted::Unix(s)),
        })
    }

    pub(super) fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(listener) => listener.local_addr().ok(),
            #[cfg(unix)]
            Listener::Unix(_) => None,
        }
    }
}

/// Whether an `accept` error concerns only the connection being accepted.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Accepts connections until `stop` is set, each served as a child of the server's tracker of
/// connections; then takes the connections already queued, and the listener closes.
pub(super) async fn accept(
    listener: Listener,
    service: AppService,
    server: Arc<ServerShared>,
    slots: Arc<portico_tasks::Semaphore>,
    rt: Runtime,
    stop: Arc<portico_tasks::Event>,
) {
    let serving = accept_loop(&listener, &service, &server, &slots, &rt);
    serving.or(async { stop.wait().await }).await;
    // Closing the listener resets the connections the kernel has queued for it, and their
    // clients may have sent a request already (a proxy that has just opened a connection to
    // this instance sends at once): those are taken and served first, like any other.
    loop {
        let Some(slot) = slots.try_acquire_arc() else {
            break;
        };
        match listener.try_accept() {
            Ok(Some(stream)) => start(stream, slot, &service, &server, &rt),
            Ok(None) => break,
            Err(err) if is_connection_error(&err) => {}
            Err(_) => break,
        }
    }
}

async fn accept_loop(
    listener: &Listener,
    service: &AppService,
    server: &Arc<ServerShared>,
    slots: &Arc<portico_tasks::Semaphore>,
    rt: &Runtime,
) {
    loop {
        let slot = slots.acquire_arc().await;
        let accepted = match listener {
            Listener::Tcp(listener) => listener
                .accept()
                .await
                .map(|(stream, _)| Accepted::Tcp(stream)),
            #[cfg(unix)]
            Listener::Unix(listener) => listener
                .accept()
                .await
                .map(|(stream, _)| Accepted::Unix(stream)),
        };
        match accepted {
            Ok(stream) => start(stream, slot, service, server, rt),
            Err(err) if is_connection_error(&err) => {}
            Err(err) => {
                // Out of file descriptors or memory: wait a little for some to come back.
                tracing::error!("cannot accept connections: {err}");
                rt.sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves `stream` as a child of the server's tracker of connections, holding `slot`.
fn start(
    stream: Accepted,
    slot: portico_tasks::SemaphoreGuardArc,
    service: &AppService,
    server: &Arc<ServerShared>,
    rt: &Runtime,
) {
    let (service, server2, rt2) = (service.clone(), server.clone(), rt.clone());
    server.connections.start_soon_on(rt, async move {
        match stream {
            Accepted::Tcp(stream) => serve(stream, service, server2, rt2, slot).await,
            #[cfg(unix)]
            Accepted::Unix(stream) => serve(stream, service, server2, rt2, slot).await,
        }
    });
}

/// Serves an accepted connection: over TLS when the server has it (the handshake boxed, so
/// that a plain connection's task stays the size it was).
async fn serve<S: Transport>(
    stream: S,
    service: AppService,
    server: Arc<ServerShared>,
    rt: Runtime,
    slot: portico_tasks::SemaphoreGuardArc,
) {
    #[cfg(feature = "tls")]
    if let Some(tls) = server.config.tls.clone() {
        Box::pin(super::tls::serve(stream, &tls, service, server, rt, slot)).await;
        return;
    }
    conn::serve(stream, service, server, rt, slot).await;
}

enum Accepted {
    Tcp(portico_rt::TcpStream),
    #[cfg(unix)]
    Unix(portico_rt::UnixStream),
}
