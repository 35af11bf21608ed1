//! [`MultipartForm`]: `multipart/form-data` bodies for tests.

use bytes::{Bytes, BytesMut};

/// One part of a [`MultipartForm`]: a name, a file name and content type for a file, the
/// content.
#[derive(Debug, Clone)]
pub(super) struct FormPart {
    pub(super) name: String,
    pub(super) file: Option<(String, String)>,
    pub(super) content: Bytes,
}

/// A multipart form for a test request: text fields and files.
///
/// ```
/// use portico_http::MultipartForm;
///
/// let form = MultipartForm::new().text("user", "ada").file("avatar", "ada.png", "image/png", vec![0u8; 16]);
/// # drop(form);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MultipartForm {
    pub(super) parts: Vec<FormPart>,
}

impl MultipartForm {
    /// An empty form.
    pub fn new() -> Self {
        MultipartForm::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.parts.push(FormPart {
            name: name.to_owned(),
            file: None,
            content: Bytes::copy_from_slice(value.as_bytes()),
        });
        self
    }

    /// Adds a file.
    pub fn file(
        mut self,
        name: &str,
        file_name: &str,
        content_type: &str,
        content: impl Into<Bytes>,
    ) -> Self {
        self.parts.push(FormPart {
            name: name.to_owned(),
            file: Some((file_name.to_owned(), content_type.to_owned())),
            content: content.into(),
        });
        self
    }

    /// The content type (with its boundary) and the encoded body.
    pub fn encode(self) -> (String, Bytes) {
        let boundary = "portico-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = BytesMut::new();
        for FormPart {
            name,
            file,
            content,
        } in self.parts
        {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some((file_name, content_type)) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(&content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (
            format!("multipart/form-data; boundary={boundary}"),
            body.freeze(),
        )
    }
}
