//! [`Form`]: urlencoded and multipart forms, with file uploads.

use std::borrow::Cow;

use http::header::CONTENT_TYPE;
use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::json::{has_no_body, unsupported};
use super::multipart::{MARKER, Multipart, with_uploads};
use super::query::Pairs;
use portico_openapi::{BodyDoc, OperationDoc, Source};

use super::{FromRequest, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::error::{ErrorItem, HttpError, LocPart};
use crate::validate::{self, Shapes};

/// A form body, converted and validated into the struct `T` (FastAPI's `Form` parameters and
/// form models): `application/x-www-form-urlencoded`, or `multipart/form-data` when `T` has
/// [`UploadFile`](crate::UploadFile) fields.
///
/// Each field of `T` is a form field; `Option` fields are optional and a `Vec` collects a
/// repeated field. As in FastAPI, an empty value counts as absent. Every invalid field is
/// reported in one 422 with `loc` `["body", name]`. Uploaded files are received in memory up to
/// 1 MiB and spooled to a temporary file beyond; a file sent for a text field, or text for a
/// file field, is a validation error.
///
/// Limits, by default (see `App::form_limits`): 1,000 fields, 1,000 files, 1 MiB per text part,
/// and the route's body limit for the whole body. Breaking one answers 400 (413 for the body
/// limit), worded as Starlette words it. Any other content type answers 415.
///
/// # Examples
///
/// ```
/// use portico_http::{Form, UploadFile};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Avatar {
///     user: String,
///     image: UploadFile,
/// }
///
/// async fn upload(Form(form): Form<Avatar>) -> String {
///     format!("{} sent {} bytes", form.user, form.image.size())
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

/// The kind of body a content type announces.
enum Kind {
    Urlencoded,
    Multipart,
}

fn kind_of(parts: &Parts) -> Option<Kind> {
    let value = parts.headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(Kind::Urlencoded)
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        Some(Kind::Multipart)
    } else {
        None
    }
}

fn body_loc(name: &str) -> Vec<LocPart> {
    vec![Source::Body.as_str().into(), name.to_owned().into()]
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequest for Form<T> {
    async fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let (parts, body) = request.into_parts();
        let shapes = ctx.shapes::<T>();
        let shapes = &*shapes;
        let kind = match kind_of(&parts) {
            Some(kind) => kind,
            // No body at all: every required field is missing.
            None if has_no_body(&parts, &body) => {
                return finish::<T>(shapes, Vec::new(), Vec::new(), Vec::new());
            }
            None => {
                let expected = if shapes.files.is_empty() {
                    "application/x-www-form-urlencoded or multipart/form-data"
                } else {
                    "multipart/form-data"
                };
                return Err(unsupported(expected));
            }
        };
        match kind {
            Kind::Urlencoded => {
                let bytes = body.collect_limited(ctx.body_limit()).await?;
                let limits = ctx.app.config.form_limits;
                let pairs: Vec<(String, String)> =
                    form_urlencoded::parse(&bytes).into_owned().collect();
                if pairs.len() > limits.max_fields {
                    return Err(too_many_fields(limits.max_fields));
                }
                finish::<T>(shapes, pairs, Vec::new(), Vec::new())
            }
            Kind::Multipart => {
                let files = &shapes.files;
                let mut multipart = Multipart::new(crate::Request::from_parts(parts, body), ctx)?;
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
                finish::<T>(shapes, pairs, uploads, errors)
            }
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let schema = portico_openapi::schema_for::<T>();
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            doc.problem(format!(
                "Form<{}> needs a struct whose fields are the form fields",
                std::any::type_name::<T>()
            ));
        }
        let files = Shapes::compile(&schema).is_ok_and(|shapes| !shapes.files.is_empty());
        let media_type = if files {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        doc.body(BodyDoc::new(media_type, schema, true));
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}

fn too_many_fields(max: usize) -> Rejection {
    HttpError::bad_request()
        .detail(format!(
            "Too many fields. Maximum number of fields is {max}."
        ))
        .into()
}

/// Validates the collected fields into `T`, with the errors found while reading.
#[allow(
    clippy::result_large_err,
    reason = "a rejection is a response, and this is not a hot path"
)]
fn finish<T: DeserializeOwned + JsonSchema + 'static>(
    shapes: &Shapes,
    pairs: Vec<(String, String)>,
    uploads: Vec<crate::UploadFile>,
    mut errors: Vec<ErrorItem>,
) -> Result<Form<T>, Rejection> {
    let reported: Vec<&LocPart> = errors.iter().filter_map(|e| e.loc.get(1)).collect();
    let reported: Vec<String> = reported
        .into_iter()
        .filter_map(|part| match part {
            LocPart::Key(key) => Some(key.to_string()),
            LocPart::Index(_) => None,
        })
        .collect();
    // As FastAPI, an empty value is no value.
    let pairs = Pairs::form(
        pairs
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
            .collect(),
    );
    let loc = vec![Source::Body.as_str().into()];
    if errors.is_empty() {
        return with_uploads(uploads, || {
            validate::from_inputs::<T, _>(shapes, &pairs, loc)
        })
        .map(Form)
        .map_err(Rejection::Invalid);
    }
    // Fields already reported (a file for a text field, say) are not reported twice.
    let more = validate::check_inputs(shapes, &pairs, loc);
    errors.extend(more.into_iter().filter(|item| match item.loc.get(1) {
        Some(LocPart::Key(key)) => !reported.iter().any(|r| r == key.as_ref()),
        _ => true,
    }));
    Err(Rejection::Invalid(errors))
}
