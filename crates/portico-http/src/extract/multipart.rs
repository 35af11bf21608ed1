//! multipart/form-data: [`Multipart`] (streamed fields) and [`UploadFile`] (a received file,
//! spooled to disk past 1 MiB).

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_TYPE;
use portico_openapi::{BodyDoc, OperationDoc};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer};
use serde_json::{Value, json};

use super::body::BodyStream;
use super::form::{Form, body_loc, finish};
use super::{FromRequest, Rejection, RequestContext};
use crate::context::FormLimits;
use crate::error::ErrorItem;
use crate::error::HttpError;
use crate::validate::Shapes;

/// Files larger than this are spooled to a temporary file, as FastAPI's `UploadFile` does.
pub(crate) const SPOOL_AT: usize = 1024 * 1024;

/// A multipart/form-data body, read one field at a time as it arrives: the low-level way to
/// receive uploads of any size. For typed forms with files, use [`Form`](crate::Form) with
/// [`UploadFile`] fields.
///
/// The form limits apply: by default at most 1,000 fields, 1,000 files and 1 MiB per text
/// field (the limits Starlette adopted), and the route's body limit for the whole body.
#[derive(Debug)]
pub struct Multipart {
    inner: multer::Multipart<'static>,
    limits: FormLimits,
    fields: usize,
    files: usize,
}

/// One field of a [`Multipart`] body.
#[derive(Debug)]
pub struct MultipartField {
    inner: multer::Field<'static>,
    text_limit: Option<usize>,
}

/// The 400 for a form that breaks a limit, worded as Starlette words it.
fn limit_error(message: String) -> Rejection {
    HttpError::bad_request().detail(message).into()
}

fn multipart_error(err: multer::Error) -> Rejection {
    match err {
        multer::Error::StreamReadFailed(inner) => match inner.downcast::<crate::BodyError>() {
            Ok(body_error) => (*body_error).into(),
            Err(_) => HttpError::bad_request()
                .detail("The multipart body could not be read")
                .into(),
        },
        multer::Error::StreamSizeExceeded { .. } => crate::BodyError::TooLarge { limit: 0 }.into(),
        other => HttpError::bad_request()
            .detail(format!("Invalid multipart body: {other}"))
            .into(),
    }
}

impl Multipart {
    #[allow(
        clippy::result_large_err,
        reason = "a rejection is a response, and this is not a hot path"
    )]
    pub(crate) fn new(request: crate::Request, ctx: &RequestContext) -> Result<Self, Rejection> {
        let (parts, body) = request.into_parts();
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = multer::parse_boundary(content_type)
            .map_err(|_| super::json::unsupported("multipart/form-data"))?;
        let stream = BodyStream::limited(body, ctx.body_limit());
        let inner = multer::Multipart::new(stream, boundary);
        Ok(Multipart {
            inner,
            limits: ctx.app.config.form_limits,
            fields: 0,
            files: 0,
        })
    }

    /// The next field, or `None` at the end of the body.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] (400 or 413) for a malformed body or a broken limit; return it from the
    /// handler with `?` (it answers as FastAPI would).
    pub async fn next_field(&mut self) -> Result<Option<MultipartField>, Rejection> {
        let Some(field) = self.inner.next_field().await.map_err(multipart_error)? else {
            return Ok(None);
        };
        let is_file = field.file_name().is_some();
        if is_file {
            self.files += 1;
            if self.files > self.limits.max_files {
                return Err(limit_error(format!(
                    "Too many files. Maximum number of files is {}.",
                    self.limits.max_files
                )));
            }
        } else {
            self.fields += 1;
            if self.fields > self.limits.max_fields {
                return Err(limit_error(format!(
                    "Too many fields. Maximum number of fields is {}.",
                    self.limits.max_fields
                )));
            }
        }
        let text_limit = (!is_file).then_some(self.limits.max_part_size);
        Ok(Some(MultipartField {
            inner: field,
            text_limit,
        }))
    }
}

impl FromRequest for Multipart {
    async fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Multipart::new(request, ctx)
    }

    fn describe(doc: &mut OperationDoc) {
        doc.body(BodyDoc::new(
            "multipart/form-data",
            serde_json::json!({"type": "object"}),
            true,
        ));
    }
}

impl MultipartField {
    /// The field's name.
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The file name, for a file field.
    pub fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// The field's content type, if the client gave one.
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type().map(|m| m.essence_str())
    }

    /// The field's own headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The next chunk of the field's content, or `None` at its end.
    ///
    /// # Errors
    ///
    /// As [`Multipart::next_field`]; a text field past 1 MiB (by default) is a 400.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Rejection> {
        let chunk = self.inner.chunk().await.map_err(multipart_error)?;
        if let (Some(chunk), Some(limit)) = (&chunk, self.text_limit.as_mut()) {
            match limit.checked_sub(chunk.len()) {
                Some(left) => *limit = left,
                None => {
                    return Err(limit_error(
                        "Part exceeded maximum size of 1024KB.".to_owned(),
                    ));
                }
            }
        }
        Ok(chunk)
    }

    /// The whole content in memory.
    ///
    /// # Errors
    ///
    /// As [`chunk`](Self::chunk).
    pub async fn bytes(mut self) -> Result<Bytes, Rejection> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// The whole content as text (400 if it is not UTF-8).
    ///
    /// # Errors
    ///
    /// As [`chunk`](Self::chunk).
    pub async fn text(self) -> Result<String, Rejection> {
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.into()).map_err(|_| {
            HttpError::bad_request()
                .detail("A form field is not valid UTF-8")
                .into()
        })
    }

    /// Receives the field as an [`UploadFile`]: in memory up to 1 MiB, spooled to a temporary
    /// file beyond (written on the blocking pool).
    ///
    /// # Errors
    ///
    /// As [`chunk`](Self::chunk); a 500 if the temporary file cannot be written.
    pub async fn into_upload(mut self) -> Result<UploadFile, Rejection> {
        let file_name = self.file_name().map(str::to_owned);
        let content_type = self.content_type().map(str::to_owned);
        let headers = self.headers().clone();
        let mut memory = BytesMut::new();
        let mut spool: Option<tempfile::NamedTempFile> = None;
        let mut size = 0u64;
        while let Some(chunk) = self.chunk().await? {
            size += chunk.len() as u64;
            memory.extend_from_slice(&chunk);
            // Past the threshold, write to disk in batches: one thread hop per 256 KiB at most.
            if memory.len() >= SPOOL_AT || (spool.is_some() && memory.len() >= SPOOL_AT / 4) {
                let batch = memory.split().freeze();
                let file = spool.take();
                spool = Some(spool_write(file, batch).await?);
            }
        }
        let content = match spool {
            None => Content::Memory(memory.freeze()),
            Some(file) => {
                let file = spool_write(Some(file), memory.freeze()).await?;
                Content::Spooled(Arc::new(file))
            }
        };
        Ok(UploadFile {
            file_name,
            content_type,
            headers,
            size,
            content,
        })
    }
}

/// Appends `bytes` to the spool file (creating it first), on the blocking pool.
async fn spool_write(
    file: Option<tempfile::NamedTempFile>,
    bytes: Bytes,
) -> Result<tempfile::NamedTempFile, Rejection> {
    portico_tasks::to_thread(move || {
        let mut file = match file {
            Some(file) => file,
            None => tempfile::NamedTempFile::new()?,
        };
        file.write_all(&bytes)?;
        Ok::<_, io::Error>(file)
    })
    .await
    .map_err(|err| {
        tracing::error!("cannot spool an upload to a temporary file: {err}");
        Rejection::Response(crate::response::internal_error())
    })
}

#[derive(Debug, Clone)]
enum Content {
    Memory(Bytes),
    Spooled(Arc<tempfile::NamedTempFile>),
}

/// A file received in a multipart form (FastAPI's `UploadFile`): held in memory up to 1 MiB,
/// in a temporary file beyond, which is deleted when the last clone is dropped.
///
/// Use it as a field of a [`Form`](crate::Form) struct; it documents itself as a binary string.
#[derive(Debug, Clone)]
pub struct UploadFile {
    file_name: Option<String>,
    content_type: Option<String>,
    headers: HeaderMap,
    size: u64,
    content: Content,
}

impl UploadFile {
    /// The name the client gave the file.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The content type the client gave the file.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The part's own headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether the content was spooled to a temporary file.
    pub fn is_spooled(&self) -> bool {
        matches!(self.content, Content::Spooled(_))
    }

    /// The temporary file's path, for a spooled file.
    pub fn path(&self) -> Option<&Path> {
        match &self.content {
            Content::Spooled(file) => Some(file.path()),
            Content::Memory(_) => None,
        }
    }

    /// The whole content (read from disk on the blocking pool if spooled).
    ///
    /// # Errors
    ///
    /// Whatever reading the temporary file reports.
    pub async fn bytes(&self) -> io::Result<Bytes> {
        match &self.content {
            Content::Memory(bytes) => Ok(bytes.clone()),
            Content::Spooled(file) => {
                let path = file.path().to_path_buf();
                portico_tasks::to_thread(move || std::fs::read(path).map(Bytes::from)).await
            }
        }
    }

    /// Writes the content to `path` (on the blocking pool).
    ///
    /// # Errors
    ///
    /// Whatever copying or writing reports.
    pub async fn save_to(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let target = path.as_ref().to_path_buf();
        match &self.content {
            Content::Memory(bytes) => {
                let bytes = bytes.clone();
                portico_tasks::to_thread(move || std::fs::write(target, bytes)).await
            }
            Content::Spooled(file) => {
                let source = file.path().to_path_buf();
                portico_tasks::to_thread(move || std::fs::copy(source, target).map(drop)).await
            }
        }
    }
}

impl JsonSchema for UploadFile {
    fn schema_name() -> Cow<'static, str> {
        "UploadFile".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "binary" })
    }
}

/// The marker that stands for an upload in the value a form is deserialised from.
pub(crate) const MARKER: &str = "\u{1}portico-upload:";

thread_local! {
    /// The uploads of the form being deserialised on this thread.
    static UPLOADS: RefCell<Vec<Option<UploadFile>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` (a deserialisation) with `uploads` available to [`UploadFile`]'s `Deserialize`.
pub(crate) fn with_uploads<R>(uploads: Vec<UploadFile>, f: impl FnOnce() -> R) -> R {
    let previous = UPLOADS.with(|slot| slot.replace(uploads.into_iter().map(Some).collect()));
    let result = f();
    UPLOADS.with(|slot| *slot.borrow_mut() = previous);
    result
}

impl<'de> Deserialize<'de> for UploadFile {
    /// Only a form being read can produce an `UploadFile`: from anything else (a text field
    /// where a file was expected, say) this is an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let index = text
            .strip_prefix(MARKER)
            .and_then(|i| i.parse::<usize>().ok());
        let upload = index
            .and_then(|i| UPLOADS.with(|slot| slot.borrow_mut().get_mut(i).and_then(Option::take)));
        upload.ok_or_else(|| de::Error::custom("Expected UploadFile, received a text field"))
    }
}

impl fmt::Display for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} bytes)",
            self.file_name.as_deref().unwrap_or("upload"),
            self.size
        )
    }
}

/// Reads a multipart form into `T` (whose shapes are `shapes`): text fields as values, files
/// for the fields that take uploads, every mistake reported by field.
pub(super) async fn read_form<T: DeserializeOwned + JsonSchema + 'static>(
    shapes: &Shapes,
    request: crate::Request,
    ctx: &RequestContext,
) -> Result<Form<T>, Rejection> {
    let files = &shapes.files;
    let mut multipart = Multipart::new(request, ctx)?;
    let mut pairs = Vec::new();
    let mut uploads = Vec::new();
    let mut errors = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        let wants_file = files.contains(&name);
        match (field.file_name().is_some(), wants_file) {
            (true, true) => {
                pairs.push((name, format!("{MARKER}{}", uploads.len())));
                uploads.push(field.into_upload().await?);
            }
            (true, false) => {
                // A file for a text field; an unknown file is skipped unread.
                if shapes.has_field(&name) {
                    let input = json!(field.file_name().unwrap_or_default());
                    errors.push(ErrorItem::new(
                        "string_type",
                        body_loc(&name),
                        "Input should be a valid string",
                        input,
                    ));
                }
            }
            (false, true) => {
                let text = field.text().await?;
                errors.push(
                    ErrorItem::new(
                        "value_error",
                        body_loc(&name),
                        "Value error, Expected UploadFile, received: <class 'str'>",
                        Value::String(text),
                    )
                    .with_ctx(json!({"error": {}})),
                );
            }
            (false, false) => pairs.push((name, field.text().await?)),
        }
    }
    finish::<T>(shapes, pairs, errors, |decode| {
        with_uploads(uploads, decode)
    })
}
