//! The keep-alive load of `cargo xtask drain`, `rolling` and `cluster`: client threads that
//! speak HTTP/1.1 by hand over std's `TcpStream`, so that the fate of every request is known.
//!
//! A request is *started* once its bytes are written. From then on the client reads until it
//! has a complete response; a connection that ends (closed, reset, garbled) before that is a
//! **lost** request. A client writes its next request as soon as it has read a response,
//! without first looking whether the server closed the connection in the meantime: the
//! strictest client, the one a server's drain has to survive. (A pooling client that checks a
//! connection before reusing it, as hyper's pool and curl do, narrows the window but cannot
//! close it: the server's close may be on its way while the client looks.)

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::AddAssign;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a client waits for a response before counting the request as timed out. Longer
/// than the server's grace period (30 s), so a request the server still holds is not given
/// up early.
const READ_TIMEOUT: Duration = Duration::from_secs(45);

/// One request a client sends again and again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// `GET`, `POST`, ...
    pub(crate) method: &'static str,
    /// The path and query.
    pub(crate) path: &'static str,
    /// A JSON body, or empty for none. Each `{id}` in it becomes a number of the request's
    /// own, unique in the process; the numbers of the requests answered 2xx are kept (see
    /// [`Load::stop_with_ids`]).
    pub(crate) body: &'static str,
}

/// The next number for `{id}`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Request {
    /// Whether the body takes a number of its own each time.
    fn numbered(&self) -> bool {
        self.body.contains("{id}")
    }

    /// The request with `{id}` in its body replaced by `id`.
    fn bytes_with(&self, addr: SocketAddr, id: u64) -> Vec<u8> {
        self.bytes_for(addr, &self.body.replace("{id}", &id.to_string()))
    }

    fn bytes(&self, addr: SocketAddr) -> Vec<u8> {
        self.bytes_for(addr, self.body)
    }

    fn bytes_for(&self, addr: SocketAddr, body: &str) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n",
            self.method, self.path
        );
        if !body.is_empty() {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        head.into_bytes()
    }
}

/// What a client does after a response with `Connection: close`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnClose {
    /// It stops: the server is going away (`cargo xtask drain`).
    Stop,
    /// It opens a new connection: a proxy ends a connection now and then (`cargo xtask rolling`).
    Reconnect,
}

/// What the clients saw.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    /// Complete responses with a 2xx status.
    pub(crate) answered: u64,
    /// Of those, the ones completed after the signal (see [`Load::signal`]).
    pub(crate) answered_after_signal: u64,
    /// Complete responses with another status.
    pub(crate) non_2xx: u64,
    /// Complete responses that said `Connection: close`.
    pub(crate) closing: u64,
    /// Requests written whose connection ended before a complete response.
    pub(crate) lost: u64,
    /// Requests written with no response within [`READ_TIMEOUT`].
    pub(crate) timed_out: u64,
    /// Requests whose write failed (the connection was already reset): not started.
    pub(crate) unsent: u64,
    /// New connections refused (the server no longer listens): nothing was started on them.
    pub(crate) refused: u64,
}

impl Tally {
    /// Requests that got no 2xx answer.
    pub(crate) fn failed(&self) -> u64 {
        self.non_2xx + self.lost + self.timed_out
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.answered += other.answered;
        self.answered_after_signal += other.answered_after_signal;
        self.non_2xx += other.non_2xx;
        self.closing += other.closing;
        self.lost += other.lost;
        self.timed_out += other.timed_out;
        self.unsent += other.unsent;
        self.refused += other.refused;
    }
}

/// Client threads running against one address.
#[derive(Debug)]
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    signalled: Arc<AtomicBool>,
    threads: Vec<JoinHandle<(Tally, Vec<u64>)>>,
}

impl Load {
    /// Connects `clients` connections to `addr` (all of them before returning, so that each
    /// is open when the caller goes on), then starts one thread per connection looping on
    /// `request`.
    pub(crate) fn start(
        addr: SocketAddr,
        clients: usize,
        request: Request,
        on_close: OnClose,
    ) -> Result<Load, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let signalled = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(clients);
        for n in 0..clients {
            let stream =
                connect(addr).map_err(|err| format!("client {n}: connecting to {addr}: {err}"))?;
            let client = Client {
                addr,
                request,
                fixed: (!request.numbered()).then(|| request.bytes(addr)),
                acked: Vec::new(),
                on_close,
                stop: stop.clone(),
                signalled: signalled.clone(),
                tally: Tally::default(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("client-{n}"))
                .stack_size(256 * 1024)
                .spawn(move || client.run(stream))
                .map_err(|err| format!("starting client {n}: {err}"))?;
            threads.push(thread);
        }
        Ok(Load {
            stop,
            signalled,
            threads,
        })
    }

    /// Marks now as the moment of the signal: responses completed from now on are counted in
    /// [`Tally::answered_after_signal`].
    pub(crate) fn signal(&self) {
        self.signalled.store(true, Ordering::Relaxed);
    }

    /// Tells the clients to stop after their current request, waits for them, and adds up
    /// what they saw.
    pub(crate) fn stop(self) -> Tally {
        self.stop_with_ids().0
    }

    /// As [`stop`](Self::stop), and returns the `{id}` numbers of the requests answered 2xx.
    pub(crate) fn stop_with_ids(self) -> (Tally, Vec<u64>) {
        self.stop.store(true, Ordering::Relaxed);
        self.join_with_ids()
    }

    /// Waits for the clients to end on their own, and adds up what they saw.
    pub(crate) fn join(self) -> Tally {
        self.join_with_ids().0
    }

    fn join_with_ids(self) -> (Tally, Vec<u64>) {
        let mut total = Tally::default();
        let mut ids = Vec::new();
        for thread in self.threads {
            // A client thread does not panic; if one did, its requests are unaccounted for,
            // which the caller cannot tell from zero, so count it as a lost request.
            let (tally, acked) = thread.join().unwrap_or((
                Tally {
                    lost: 1,
                    ..Tally::default()
                },
                Vec::new(),
            ));
            total += tally;
            ids.extend(acked);
        }
        (total, ids)
    }
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    Ok(stream)
}

struct Client {
    addr: SocketAddr,
    request: Request,
    /// The request's bytes, when they are the same each time.
    fixed: Option<Vec<u8>>,
    /// The `{id}` numbers of the requests answered 2xx.
    acked: Vec<u64>,
    on_close: OnClose,
    stop: Arc<AtomicBool>,
    signalled: Arc<AtomicBool>,
    tally: Tally,
}

/// How one request on a connection ended.
enum Outcome {
    /// A complete response; `true` when the connection stays open.
    Answered { keep_alive: bool },
    /// Nothing was started: the write failed.
    Unsent,
    /// Written, but the connection ended first.
    Lost,
    /// Written, and no response came within [`READ_TIMEOUT`].
    TimedOut,
}

impl Client {
    fn run(mut self, first: TcpStream) -> (Tally, Vec<u64>) {
        let mut conn = Some(BufReader::new(first));
        while !self.stop.load(Ordering::Relaxed) {
            let mut reader = match conn.take() {
                Some(reader) => reader,
                None => match connect(self.addr) {
                    Ok(stream) => BufReader::new(stream),
                    Err(_) => {
                        // Refused (or any other failure to connect): the server no longer
                        // listens. Nothing was started.
                        self.tally.refused += 1;
                        if self.on_close == OnClose::Stop {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                },
            };
            match self.exchange(&mut reader) {
                Outcome::Answered { keep_alive } => {
                    if keep_alive {
                        conn = Some(reader);
                    } else if self.on_close == OnClose::Stop {
                        break;
                    }
                }
                Outcome::Unsent => self.tally.unsent += 1,
                Outcome::Lost => self.tally.lost += 1,
                Outcome::TimedOut => self.tally.timed_out += 1,
            }
        }
        (self.tally, self.acked)
    }

    /// Writes the request on the connection and reads its response.
    fn exchange(&mut self, reader: &mut BufReader<TcpStream>) -> Outcome {
        let numbered;
        let (id, bytes) = match &self.fixed {
            Some(bytes) => (None, bytes),
            None => {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                numbered = self.request.bytes_with(self.addr, id);
                (Some(id), &numbered)
            }
        };
        if reader.get_mut().write_all(bytes).is_err() {
            // Refused by a connection already reset: the request did not go out whole, and a
            // server answers no partial request.
            return Outcome::Unsent;
        }
        match read_response(reader) {
            Ok(response) => {
                if (200..300).contains(&response.status) {
                    self.tally.answered += 1;
                    self.acked.extend(id);
                    if self.signalled.load(Ordering::Relaxed) {
                        self.tally.answered_after_signal += 1;
                    }
                } else {
                    self.tally.non_2xx += 1;
                }
                if response.close {
                    self.tally.closing += 1;
                }
                Outcome::Answered {
                    keep_alive: !response.close,
                }
            }
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Outcome::TimedOut
            }
            Err(_) => Outcome::Lost,
        }
    }
}

struct Response {
    status: u16,
    close: bool,
}

/// Reads one complete response: the head, then a body of `Content-Length` bytes, in chunks, or
/// up to the end of the stream.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<Response> {
    let garbled = |what: &str| std::io::Error::new(ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    read_line(reader, &mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| garbled("no status line"))?;
    let http10 = line.starts_with("HTTP/1.0");
    let mut length = None;
    let mut chunked = false;
    let mut close = http10;
    loop {
        read_line(reader, &mut line)?;
        if line == "\r\n" || line == "\n" {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(garbled("a header without a colon"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| garbled("bad length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    if chunked {
        loop {
            read_line(reader, &mut line)?;
            let size = line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16).map_err(|_| garbled("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    read_line(reader, &mut line)?;
                    if line == "\r\n" || line == "\n" {
                        break;
                    }
                }
                break;
            }
            skip(reader, size + 2)?;
        }
    } else if let Some(length) = length {
        skip(reader, length)?;
    } else if (100..200).contains(&status) || status == 204 || status == 304 {
        // No body.
    } else {
        // The body runs to the end of the stream.
        std::io::copy(reader, &mut std::io::sink())?;
        close = true;
    }
    Ok(Response { status, close })
}

/// Reads one line into `line` (replacing what was there); the end of the stream is an error.
fn read_line(reader: &mut BufReader<TcpStream>, line: &mut String) -> std::io::Result<()> {
    line.clear();
    if reader.read_line(line)? == 0 {
        return Err(ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

fn skip(reader: &mut BufReader<TcpStream>, n: usize) -> std::io::Result<()> {
    let copied = std::io::copy(&mut reader.by_ref().take(n as u64), &mut std::io::sink())?;
    if copied < n as u64 {
        return Err(ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}
