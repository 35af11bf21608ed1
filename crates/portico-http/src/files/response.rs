//! [`FileResponse`]: a file from disk, with validators, conditional requests and ranges.

use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::StatusCode;
use http::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    HeaderValue, LAST_MODIFIED,
};
use http_body::Frame;

use portico_openapi::{OperationDoc, ReturnDoc};

use crate::error::HttpError;
use crate::response::unfinished::{Conditions, Finishing};
use crate::response::{IntoResponse, Response, Unfinished};
use crate::{Body, BoxError};

/// Bytes read from disk per chunk (64 KiB, as Starlette reads them).
const CHUNK: u64 = 64 * 1024;

/// A file sent from disk (FastAPI's `FileResponse`).
///
/// The content type comes from the file's extension; `ETag` and `Last-Modified` from its
/// metadata. The request's `If-None-Match` and `If-Modified-Since` are honoured with 304, and
/// `Range` (single or several ranges, and `If-Range`) with 206 or 416. The file is read on the
/// blocking thread pool, 64 KiB at a time, never on the event loop. A missing file answers 404.
///
/// # Examples
///
/// ```
/// use portico_http::FileResponse;
///
/// async fn report() -> FileResponse {
///     FileResponse::new("reports/2026.pdf").attachment("report.pdf")
/// }
/// ```
#[derive(Debug, Clone)]
pub struct FileResponse {
    inner: Arc<FileSpec>,
}

#[derive(Debug)]
struct FileSpec {
    path: PathBuf,
    content_type: Option<String>,
    attachment: Option<String>,
}

impl FileResponse {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileResponse {
            inner: Arc::new(FileSpec {
                path: path.into(),
                content_type: None,
                attachment: None,
            }),
        }
    }

    /// Sets the content type instead of guessing it from the extension.
    pub fn content_type(self, content_type: impl Into<String>) -> Self {
        let spec = FileSpec {
            content_type: Some(content_type.into()),
            ..self.into_spec()
        };
        FileResponse {
            inner: Arc::new(spec),
        }
    }

    /// Asks the browser to download the file under `filename` (`Content-Disposition:
    /// attachment`).
    pub fn attachment(self, filename: impl Into<String>) -> Self {
        let spec = FileSpec {
            attachment: Some(filename.into()),
            ..self.into_spec()
        };
        FileResponse {
            inner: Arc::new(spec),
        }
    }

    fn into_spec(self) -> FileSpec {
        Arc::try_unwrap(self.inner).unwrap_or_else(|shared| FileSpec {
            path: shared.path.clone(),
            content_type: shared.content_type.clone(),
            attachment: shared.attachment.clone(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

impl IntoResponse for FileResponse {
    /// The file is opened once the handler has returned, with the request's conditional and
    /// range headers at hand.
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        Unfinished::defer(
            &mut response,
            Box::new(move |response: Response, cx: &Finishing<'_>| {
                let conditions = cx.conditions.cloned().unwrap_or_default();
                Box::pin(async move { self.open(response, &conditions).await })
            }),
        );
        response
    }

    /// A file of any type.
    fn describe_response(doc: &mut OperationDoc) {
        doc.returns(ReturnDoc::Body {
            media_type: "*/*",
            schema: Some(serde_json::json!({"type": "string", "format": "binary"})),
        });
    }
}

impl FileResponse {
    /// The file's response for a request with `conditions`, on `base` (the headers the handler
    /// set).
    async fn open(self, base: Response, conditions: &Conditions) -> Response {
        let spec = self.inner.clone();
        let opened = portico_tasks::to_thread(move || {
            let file = File::open(&spec.path)?;
            let meta = file.metadata()?;
            if meta.is_dir() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "a directory"));
            }
            Ok((file, meta.len(), meta.modified().ok(), spec))
        })
        .await;
        let (handle, len, modified, spec) = match opened {
            Ok(opened) => opened,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return HttpError::not_found().into_response();
            }
            Err(err) => {
                tracing::error!(path = %self.path().display(), "cannot open the file to send: {err}");
                return crate::response::internal_error();
            }
        };
        respond(base, handle, len, modified, &spec, conditions)
    }
}

fn etag_of(len: u64, modified: Option<SystemTime>) -> String {
    let stamp = modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{stamp:x}-{len:x}\"")
}

/// Whether an `If-None-Match` value lists `etag` (weak comparison, as RFC 9110 asks for it).
fn none_match(header: &HeaderValue, etag: &str) -> bool {
    let Ok(text) = header.to_str() else {
        return false;
    };
    let bare = etag.trim_start_matches("W/");
    text.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == bare)
}

fn not_modified_since(header: &HeaderValue, modified: Option<SystemTime>) -> bool {
    let (Ok(text), Some(modified)) = (header.to_str(), modified) else {
        return false;
    };
    let Ok(since) = httpdate::parse_http_date(text) else {
        return false;
    };
    // HTTP dates have whole seconds.
    let modified = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let since = since
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    modified <= since
}

/// A byte range, inclusive, within a file of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: u64,
    end: u64,
}

/// Parses a `Range` header against a file of `len` bytes: `None` if it is not a byte range
/// (ignore it), `Some(Err)` if no range is satisfiable (416), else the ranges.
fn parse_ranges(header: &HeaderValue, len: u64) -> Option<Result<Vec<ByteRange>, ()>> {
    let text = header.to_str().ok()?.trim();
    let specs = text.strip_prefix("bytes=")?;
    let mut ranges = Vec::new();
    for spec in specs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (first, last) = spec.split_once('-')?;
        let range = match (first.trim(), last.trim()) {
            ("", suffix) => {
                let suffix: u64 = suffix.parse().ok()?;
                if suffix == 0 || len == 0 {
                    continue;
                }
                ByteRange {
                    start: len.saturating_sub(suffix),
                    end: len - 1,
                }
            }
            (start, "") => {
                let start: u64 = start.parse().ok()?;
                if start >= len {
                    continue;
                }
                ByteRange {
                    start,
                    end: len - 1,
                }
            }
            (start, end) => {
                let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
                if start > end {
                    return None;
                }
                if start >= len {
                    continue;
                }
                ByteRange {
                    start,
                    end: end.min(len - 1),
                }
            }
        };
        ranges.push(range);
    }
    Some(if ranges.is_empty() {
        Err(())
    } else {
        Ok(ranges)
    })
}

fn header(value: String) -> HeaderValue {
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn respond(
    mut response: Response,
    file: File,
    len: u64,
    modified: Option<SystemTime>,
    spec: &FileSpec,
    conditions: &Conditions,
) -> Response {
    let etag = etag_of(len, modified);
    let content_type = spec.content_type.clone().unwrap_or_else(|| {
        mime_guess::from_path(&spec.path)
            .first_or_octet_stream()
            .to_string()
    });
    let headers = response.headers_mut();
    headers.insert(ETAG, header(etag.clone()));
    if let Some(modified) = modified {
        headers.insert(LAST_MODIFIED, header(httpdate::fmt_http_date(modified)));
    }
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(name) = &spec.attachment {
        let name = name.replace(['"', '\\', '\r', '\n'], "_");
        headers.insert(
            CONTENT_DISPOSITION,
            header(format!("attachment; filename=\"{name}\"")),
        );
    }

    let not_modified = match (&conditions.if_none_match, &conditions.if_modified_since) {
        (Some(tags), _) => none_match(tags, &etag),
        (None, Some(since)) => not_modified_since(since, modified),
        (None, None) => false,
    };
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }

    // `If-Range`: the range applies only if the client's copy is still current.
    let range_applies = match &conditions.if_range {
        None => true,
        Some(value) => match value.to_str() {
            Ok(text) if text.starts_with('"') || text.starts_with("W/") => text == etag,
            Ok(text) => modified.is_some_and(|m| {
                httpdate::parse_http_date(text).is_ok_and(|date| {
                    let secs = |t: SystemTime| {
                        t.duration_since(UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0)
                    };
                    secs(m) <= secs(date)
                })
            }),
            Err(_) => false,
        },
    };
    let ranges = match &conditions.range {
        Some(range) if range_applies => parse_ranges(range, len),
        _ => None,
    };
    match ranges {
        None => {
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, header(content_type));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            *response.body_mut() = Body::stream(FileBody::new(file, vec![Part::Range(0, len)]));
            response
        }
        Some(Err(())) => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            response
                .headers_mut()
                .insert(CONTENT_RANGE, header(format!("bytes */{len}")));
            response
        }
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let ByteRange { start, end } = ranges[0];
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, header(content_type));
            headers.insert(CONTENT_RANGE, header(format!("bytes {start}-{end}/{len}")));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(end - start + 1));
            *response.body_mut() =
                Body::stream(FileBody::new(file, vec![Part::Range(start, end + 1)]));
            response
        }
        Some(Ok(ranges)) => {
            // Several ranges: a multipart/byteranges body, each part with its own headers.
            let boundary = {
                use std::hash::{BuildHasher, RandomState};
                format!("{:016x}", RandomState::new().hash_one(len))
            };
            let mut parts = Vec::new();
            let mut total = 0u64;
            for range in &ranges {
                let head = format!(
                    "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {}-{}/{len}\r\n\r\n",
                    range.start, range.end
                );
                total += head.len() as u64 + (range.end - range.start + 1) + 2;
                parts.push(Part::Literal(Bytes::from(head)));
                parts.push(Part::Range(range.start, range.end + 1));
                parts.push(Part::Literal(Bytes::from_static(b"\r\n")));
            }
            let tail = format!("--{boundary}--\r\n");
            total += tail.len() as u64;
            parts.push(Part::Literal(Bytes::from(tail)));
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                header(format!("multipart/byteranges; boundary={boundary}")),
            );
            headers.insert(CONTENT_LENGTH, HeaderValue::from(total));
            *response.body_mut() = Body::stream(FileBody::new(file, parts));
            response
        }
    }
}

/// A piece of a file response: bytes to send as they are, or a range of the file.
#[derive(Debug)]
enum Part {
    Literal(Bytes),
    /// `start..end`, end exclusive.
    Range(u64, u64),
}

type Read64 = Pin<Box<dyn Future<Output = (File, io::Result<Vec<u8>>)> + Send>>;

/// Streams parts of a file, reading each chunk on the blocking pool.
struct FileBody {
    file: Option<File>,
    parts: std::collections::VecDeque<Part>,
    reading: Option<Read64>,
}

impl FileBody {
    fn new(file: File, parts: Vec<Part>) -> Self {
        FileBody {
            file: Some(file),
            parts: parts.into(),
            reading: None,
        }
    }
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(reading) = self.reading.as_mut() {
                let (file, read) = std::task::ready!(reading.as_mut().poll(cx));
                self.reading = None;
                self.file = Some(file);
                return Poll::Ready(Some(
                    read.map(|chunk| Frame::data(Bytes::from(chunk)))
                        .map_err(Into::into),
                ));
            }
            let Some(part) = self.parts.pop_front() else {
                return Poll::Ready(None);
            };
            match part {
                Part::Literal(bytes) => return Poll::Ready(Some(Ok(Frame::data(bytes)))),
                Part::Range(start, end) if start >= end => continue,
                Part::Range(start, end) => {
                    let take = (end - start).min(CHUNK);
                    if start + take < end {
                        self.parts.push_front(Part::Range(start + take, end));
                    }
                    let Some(mut file) = self.file.take() else {
                        return Poll::Ready(None);
                    };
                    self.reading = Some(Box::pin(portico_tasks::to_thread(move || {
                        let mut chunk = vec![0u8; take as usize];
                        let read = file
                            .seek(SeekFrom::Start(start))
                            .and_then(|_| file.read_exact(&mut chunk));
                        (file, read.map(|()| chunk))
                    })));
                }
            }
        }
    }
}

impl fmt::Debug for FileBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileBody")
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(text: &str, len: u64) -> Option<Result<Vec<(u64, u64)>, ()>> {
        parse_ranges(&HeaderValue::from_str(text).expect("ascii"), len)
            .map(|r| r.map(|v| v.into_iter().map(|r| (r.start, r.end)).collect()))
    }

    #[test]
    fn byte_ranges_parse_as_rfc_9110_says() {
        assert_eq!(ranges("bytes=0-3", 13), Some(Ok(vec![(0, 3)])));
        assert_eq!(ranges("bytes=5-", 13), Some(Ok(vec![(5, 12)])));
        assert_eq!(ranges("bytes=-4", 13), Some(Ok(vec![(9, 12)])));
        assert_eq!(
            ranges("bytes=0-100", 13),
            Some(Ok(vec![(0, 12)])),
            "an end past the file is cut"
        );
        assert_eq!(ranges("bytes=0-1, 4-5", 13), Some(Ok(vec![(0, 1), (4, 5)])));
        assert_eq!(ranges("bytes=20-30", 13), Some(Err(())), "unsatisfiable");
        assert_eq!(ranges("bytes=5-2", 13), None, "invalid: ignored");
        assert_eq!(ranges("items=0-1", 13), None, "not bytes: ignored");
    }

    #[test]
    fn etags_compare_weakly() {
        let etag = "\"abc-1\"";
        assert!(none_match(&HeaderValue::from_static("\"abc-1\""), etag));
        assert!(none_match(
            &HeaderValue::from_static("W/\"abc-1\", \"x\""),
            etag
        ));
        assert!(none_match(&HeaderValue::from_static("*"), etag));
        assert!(!none_match(&HeaderValue::from_static("\"other\""), etag));
    }
}
