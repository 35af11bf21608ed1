//! An in-memory connection: the client's bytes, delivered in pieces as the input says, then the
//! end of the stream (the client shuts its write half), at once or once the server has gone
//! quiet; what the server writes is kept, and the client learns when the server lets go of its
//! end.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

/// The most a server may write on one connection before the run fails: far past any answer to
/// an input of a fuzzer's size (64 MiB, arbitrarily), so more is a loop that never ends.
const MAX_OUTPUT: usize = 64 << 20;

/// How the client's bytes reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The most bytes one read returns (`0`: no limit).
    pub chunk: usize,
    /// Whether a read finds nothing first (and the server waits, its timers armed) before each
    /// piece after the first.
    pub pause: bool,
    /// Whether the client, its bytes sent, waits for the server to go quiet before it shuts its
    /// write half (requests in flight are answered), rather than at once (they are dropped, as
    /// when a client goes away).
    pub linger: bool,
}

impl Delivery {
    /// Everything at once, then the end of the stream once the server is quiet.
    pub const ALL: Delivery = Delivery {
        chunk: 0,
        pause: false,
        linger: true,
    };

    /// The delivery a control byte picks: its low three bits the size of a read (everything,
    /// or 1, 2, 3, 7, 16, 64 or 512 bytes), bit 3 whether reads pause, bit 4 whether the client
    /// lingers.
    pub fn from_byte(byte: u8) -> Delivery {
        const CHUNKS: [usize; 8] = [0, 1, 2, 3, 7, 16, 64, 512];
        Delivery {
            chunk: CHUNKS[usize::from(byte & 7)],
            pause: byte & 8 != 0,
            linger: byte & 16 != 0,
        }
    }
}

#[derive(Default)]
struct Shared {
    /// What the server wrote.
    output: Vec<u8>,
    /// Whether the server shut its write half.
    shut: bool,
    /// Whether the server dropped its end.
    dropped: bool,
    /// Whether the server has read every byte the client sends.
    exhausted: bool,
    /// Whether the client has shut its write half (a lingering client, once it has).
    ended: bool,
    /// The server's read waiting for the client to shut its write half.
    reader: Option<Waker>,
    /// The client waiting for the server.
    client: Option<Waker>,
}

/// The server's end of an in-memory connection.
pub struct ServerEnd {
    input: Vec<u8>,
    read: usize,
    delivery: Delivery,
    /// Whether the next read finds nothing (with `pause`).
    hold: bool,
    shared: Arc<Mutex<Shared>>,
}

/// The client's end of an in-memory connection.
pub struct ClientEnd {
    shared: Arc<Mutex<Shared>>,
}

/// A connection whose client sends `input` as `delivery` says, then shuts its write half (a
/// lingering client when [`ClientEnd::shut`] is called).
pub fn connection(input: &[u8], delivery: Delivery) -> (ServerEnd, ClientEnd) {
    let shared = Arc::new(Mutex::new(Shared {
        ended: !delivery.linger,
        ..Shared::default()
    }));
    let server = ServerEnd {
        input: input.to_vec(),
        read: 0,
        delivery,
        hold: false,
        shared: shared.clone(),
    };
    (server, ClientEnd { shared })
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ClientEnd {
    /// Waits until the server has read every byte the client sends, or let go of its end.
    pub async fn sent(&self) {
        std::future::poll_fn(|cx| {
            let mut shared = lock(&self.shared);
            if shared.exhausted || shared.dropped {
                return Poll::Ready(());
            }
            shared.client = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }

    /// Shuts the client's write half: the server reads the end of the stream.
    pub fn shut(&self) {
        let reader = {
            let mut shared = lock(&self.shared);
            shared.ended = true;
            shared.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// Waits until the server has let go of its end (reading until the end of the stream, and
    /// then some: an upgraded connection may keep a shut stream), and returns what it wrote.
    pub async fn read_to_end(self) -> Vec<u8> {
        std::future::poll_fn(|cx| {
            let mut shared = lock(&self.shared);
            if shared.dropped {
                return Poll::Ready(std::mem::take(&mut shared.output));
            }
            shared.client = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl AsyncRead for ServerEnd {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.read == this.input.len() {
            let mut shared = lock(&this.shared);
            shared.exhausted = true;
            if let Some(client) = shared.client.take() {
                client.wake();
            }
            if shared.ended {
                return Poll::Ready(Ok(0));
            }
            shared.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if this.hold {
            this.hold = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let left = &this.input[this.read..];
        let mut n = left.len().min(buf.len());
        if this.delivery.chunk > 0 {
            n = n.min(this.delivery.chunk);
        }
        buf[..n].copy_from_slice(&left[..n]);
        this.read += n;
        this.hold = this.delivery.pause;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for ServerEnd {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut shared = lock(&self.shared);
        if shared.shut {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        shared.output.extend_from_slice(buf);
        assert!(
            shared.output.len() <= MAX_OUTPUT,
            "the server wrote more than {MAX_OUTPUT} bytes for {} bytes of input",
            self.input.len()
        );
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.shared).shut = true;
        Poll::Ready(Ok(()))
    }
}

impl Drop for ServerEnd {
    fn drop(&mut self) {
        let client = {
            let mut shared = lock(&self.shared);
            shared.dropped = true;
            shared.client.take()
        };
        if let Some(client) = client {
            client.wake();
        }
    }
}
