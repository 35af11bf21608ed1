//! Response compression: gzip, brotli and zstd from `Accept-Encoding`, streamed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_compression::Level;
use async_compression::futures::write::{BrotliEncoder, GzipEncoder, ZstdEncoder};
use bytes::Bytes;
use futures_io::AsyncWrite;
use http::header::{
    ACCEPT_ENCODING, ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    HeaderMap, HeaderValue,
};
use http::{Method, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::{Middleware, Next, add_vary};
use crate::{Body, BoxError};
use crate::{Request, Response};

/// A content coding [`Compression`] can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// `zstd` (level 3).
    Zstd,
    /// `br`, brotli (quality 4: most of brotli's gain at a fraction of its highest cost).
    Brotli,
    /// `gzip` (level 6).
    Gzip,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Encoding::Zstd => "zstd",
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

/// Compresses responses for clients that accept it (Starlette's `GZipMiddleware`, with brotli
/// and zstd besides gzip).
///
/// The coding is the client's most preferred one by `Accept-Encoding` quality, ties going to
/// zstd, then brotli, then gzip. A body smaller than the minimum size (500 bytes by default)
/// is sent as it is, as Starlette sends it (without `Vary`: it would go the same whatever the
/// client accepts); a streamed body, whose size is unknown, is compressed chunk by chunk,
/// each chunk flushed so that the client gets it at once. Left alone: responses that already
/// have a `Content-Encoding`, partial content (206), event streams, and images, audio, video
/// and archives, which compress badly. Every other response says `Vary: Accept-Encoding`,
/// compressed or not (it would have been compressed for another client); a compressed one
/// loses its `Content-Length` and its `ETag` becomes weak.
///
/// Compression runs on the task that sends the response: very large bodies cost event-loop
/// time in proportion to their size.
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::middleware::Compression;
///
/// let page = "<p>hello</p>".repeat(100);
/// let app = App::new()
///     .get("/", move || { let page = page.clone(); async move { page } })
///     .add_middleware(Compression::new());
///
/// let client = portico::testing::blocking_client(app);
/// let response = client.get("/").header("accept-encoding", "gzip").send();
/// assert_eq!(response.header("content-encoding"), Some("gzip"));
/// assert_eq!(response.header("vary"), Some("Accept-Encoding"));
/// ```
#[derive(Debug, Clone)]
pub struct Compression {
    minimum_size: u64,
    encodings: Vec<Encoding>,
}

impl Default for Compression {
    fn default() -> Self {
        Compression {
            minimum_size: 500,
            encodings: vec![Encoding::Zstd, Encoding::Brotli, Encoding::Gzip],
        }
    }
}

impl Compression {
    /// Compression with gzip, brotli and zstd, of bodies from 500 bytes.
    pub fn new() -> Self {
        Compression::default()
    }

    /// The smallest body compressed, in bytes (500 by default).
    pub fn minimum_size(mut self, bytes: u64) -> Self {
        self.minimum_size = bytes;
        self
    }

    /// The codings offered, in the order preferred when the client likes several equally.
    pub fn encodings(mut self, encodings: impl IntoIterator<Item = Encoding>) -> Self {
        self.encodings = encodings.into_iter().collect();
        self
    }

    /// What the request accepts, read now only if it spans several header lines.
    fn accept(&self, request: &Request) -> Accept {
        if request.method() == Method::HEAD {
            return Accept::Chosen(None);
        }
        let lines = request.headers().get_all(ACCEPT_ENCODING);
        let mut iter = lines.iter();
        match (iter.next(), iter.next()) {
            (None, _) => Accept::Chosen(None),
            (Some(line), None) => Accept::Line(line.clone()),
            (Some(_), Some(_)) => Accept::Chosen(self.choose(lines)),
        }
    }

    /// The coding to answer with, from the request's `Accept-Encoding` lines.
    fn choose<'a>(&self, lines: impl IntoIterator<Item = &'a HeaderValue>) -> Option<Encoding> {
        let mut best: Option<(Encoding, f32, usize)> = None;
        for value in lines {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim();
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                if quality <= 0.0 {
                    continue;
                }
                let candidates = self
                    .encodings
                    .iter()
                    .copied()
                    .enumerate()
                    .filter(|(_, e)| name == "*" || e.token().eq_ignore_ascii_case(name));
                for (rank, encoding) in candidates {
                    let better = match best {
                        None => true,
                        Some((_, q, r)) => quality > q || (quality == q && rank < r),
                    };
                    if better {
                        best = Some((encoding, quality, rank));
                    }
                }
            }
        }
        best.map(|(encoding, _, _)| encoding)
    }
}

/// Whether a response of this type is worth compressing.
fn compressible(headers: &HeaderMap) -> bool {
    let Some(kind) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let kind = kind.split(';').next().unwrap_or("").trim();
    let is = |other: &str| kind.eq_ignore_ascii_case(other);
    let starts = |prefix: &str| {
        kind.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if is("image/svg+xml") {
        return true;
    }
    !(is("text/event-stream")
        || starts("image/")
        || starts("audio/")
        || starts("video/")
        || starts("font/woff")
        || [
            "application/zip",
            "application/gzip",
            "application/x-gzip",
            "application/zstd",
            "application/x-bzip2",
            "application/x-7z-compressed",
            "application/x-xz",
        ]
        .iter()
        .any(|archive| is(archive)))
}

/// A request's `Accept-Encoding`, kept to be read only for a body worth compressing.
enum Accept {
    /// One header line.
    Line(HeaderValue),
    /// The coding chosen already (none for `HEAD`, or without the header).
    Chosen(Option<Encoding>),
}

impl Middleware for Compression {
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let accept = self.accept(&request);
        let fut = next.run(request);
        async move {
            let mut response = fut.await;
            let status = response.status();
            if response.headers().contains_key(CONTENT_ENCODING)
                || status == StatusCode::PARTIAL_CONTENT
                || status == StatusCode::NO_CONTENT
                || status == StatusCode::NOT_MODIFIED
                || status.is_informational()
                || !compressible(response.headers())
            {
                return response;
            }
            let hint = response.body().size_hint();
            if hint.exact().is_some_and(|size| size < self.minimum_size) {
                return response;
            }
            add_vary(response.headers_mut(), "Accept-Encoding");
            let encoding = match accept {
                Accept::Line(line) => self.choose([&line]),
                Accept::Chosen(encoding) => encoding,
            };
            let Some(encoding) = encoding else {
                return response;
            };
            let headers = response.headers_mut();
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
            headers.remove(CONTENT_LENGTH);
            headers.remove(ACCEPT_RANGES);
            if let Some(etag) = headers.get(ETAG)
                && !etag.as_bytes().starts_with(b"W/")
                && let Ok(weak) = HeaderValue::from_bytes(&[b"W/", etag.as_bytes()].concat())
            {
                headers.insert(ETAG, weak);
            }
            let body = std::mem::take(response.body_mut());
            let mut encoder = Encoder::new(encoding);
            if let Some(bytes) = body.as_bytes() {
                // A body held in memory is compressed at once, and keeps a length.
                let mut cx = Context::from_waker(std::task::Waker::noop());
                let compressed = encoder.chunk(&mut cx, bytes, false).and_then(|mut out| {
                    let end = encoder.finish(&mut cx)?;
                    if !end.is_empty() {
                        let mut joined = Vec::with_capacity(out.len() + end.len());
                        joined.extend_from_slice(&out);
                        joined.extend_from_slice(&end);
                        out = Bytes::from(joined);
                    }
                    Ok(out)
                });
                *response.body_mut() = match compressed {
                    Ok(out) => Body::full(out),
                    Err(err) => {
                        tracing::error!("compression failed: {err}");
                        return crate::response::internal_error();
                    }
                };
                return response;
            }
            *response.body_mut() = Body::stream(Compressed {
                inner: body,
                encoder: Some(encoder),
                trailers: None,
            });
            response
        }
    }
}

/// An encoder writing into memory.
enum Encoder {
    Gzip(GzipEncoder<Vec<u8>>),
    Brotli(Box<BrotliEncoder<Vec<u8>>>),
    Zstd(ZstdEncoder<Vec<u8>>),
}

impl Encoder {
    fn new(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Gzip => {
                Encoder::Gzip(GzipEncoder::with_quality(Vec::new(), Level::Precise(6)))
            }
            Encoding::Brotli => Encoder::Brotli(Box::new(BrotliEncoder::with_quality(
                Vec::new(),
                Level::Precise(4),
            ))),
            Encoding::Zstd => {
                Encoder::Zstd(ZstdEncoder::with_quality(Vec::new(), Level::Precise(3)))
            }
        }
    }

    fn writer(&mut self) -> Pin<&mut (dyn AsyncWrite + Send + Unpin)> {
        match self {
            Encoder::Gzip(e) => Pin::new(e),
            Encoder::Brotli(e) => Pin::new(&mut **e),
            Encoder::Zstd(e) => Pin::new(e),
        }
    }

    fn output(&mut self) -> Bytes {
        let out = match self {
            Encoder::Gzip(e) => e.get_mut(),
            Encoder::Brotli(e) => e.get_mut(),
            Encoder::Zstd(e) => e.get_mut(),
        };
        Bytes::from(std::mem::take(out))
    }

    /// Compresses `data`, flushing if asked so that what the client gets so far decodes in full.
    /// The sink is memory, so every step finishes at once.
    fn chunk(&mut self, cx: &mut Context<'_>, mut data: &[u8], flush: bool) -> io::Result<Bytes> {
        while !data.is_empty() {
            match self.writer().poll_write(cx, data) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => data = &data[n..],
                Poll::Ready(Err(err)) => return Err(err),
                Poll::Pending => return Err(io::ErrorKind::WouldBlock.into()),
            }
        }
        if flush {
            match self.writer().poll_flush(cx) {
                Poll::Ready(result) => result?,
                Poll::Pending => return Err(io::ErrorKind::WouldBlock.into()),
            }
        }
        Ok(self.output())
    }

    /// Ends the stream: what is left, and the trailer.
    fn finish(&mut self, cx: &mut Context<'_>) -> io::Result<Bytes> {
        match self.writer().poll_close(cx) {
            Poll::Ready(result) => result?,
            Poll::Pending => return Err(io::ErrorKind::WouldBlock.into()),
        }
        Ok(self.output())
    }
}

/// A body compressed as it is sent.
struct Compressed {
    inner: Body,
    /// `None` once the trailer is out.
    encoder: Option<Encoder>,
    /// The inner body's trailers, sent after the compressed end.
    trailers: Option<Frame<Bytes>>,
}

impl HttpBody for Compressed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(encoder) = &mut this.encoder else {
                return Poll::Ready(this.trailers.take().map(Ok));
            };
            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let out = encoder.chunk(cx, &data, true)?;
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    // Trailers go out as they are, after the compressed data.
                    Err(frame) => {
                        let out = encoder.finish(cx)?;
                        this.encoder = None;
                        if out.is_empty() {
                            return Poll::Ready(Some(Ok(frame)));
                        }
                        this.trailers = Some(frame);
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                },
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => {
                    let out = encoder.finish(cx)?;
                    this.encoder = None;
                    return Poll::Ready((!out.is_empty()).then(|| Ok(Frame::data(out))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
