//! Unix domain socket listeners and streams.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

crate::net::socket_types! {
    /// A Unix domain socket server.
    listener UnixListener,
    /// A Unix domain socket connection, readable and writable through futures-io.
    stream UnixStream,
    raw stream: dyn crate::adapter::RawStream<Addr = SocketAddr>,
    addr: SocketAddr,
    options: (),
    std: "std::os::unix::net::UnixListener", "std::os::unix::net::UnixStream",
}

impl UnixListener {
    /// Binds to `path` on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or as [`std::os::unix::net::UnixListener::bind`] fails (for
    /// instance when the path exists).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let rt = crate::current()?;
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        rt.unix_listener(listener)
    }

    /// Unix sets nothing on the connections it accepts.
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the listener code shared with TCP, whose settings can fail, calls this"
    )]
    fn on_accept((): &(), _: &UnixStream) -> io::Result<()> {
        Ok(())
    }
}

impl UnixStream {
    /// Connects to the socket at `path` on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or as the connection attempt fails.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        crate::current()?.unix_connect(path).await
    }
}
