//! [`Form`]: urlencoded and multipart forms, with file uploads.

use std::borrow::Cow;

use http::header::CONTENT_TYPE;
use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use portico_openapi::{BodyDoc, OperationDoc, Source};

use super::json::{has_no_body, unsupported};
use super::query::Pairs;
use super::{FromRequest, Rejection, RequestContext};
use crate::context::{ContentTypeCheck, RouteSpec};
use crate::error::{ErrorItem, HttpError, LocPart};
use crate::validate::{self, FIELDS, Shapes};

/// A form body, converted and validated into the struct `T` (FastAPI's `Form` parameters and
/// form models): `application/x-www-form-urlencoded`, or `multipart/form-data` when `T` has
/// `UploadFile` fields (the `multipart` feature).
///
/// Each field of `T` is a form field; `Option` fields are optional and a `Vec` collects a
/// repeated field. As in FastAPI, an empty value counts as absent. Every invalid field is
/// reported in one 422 with `loc` `["body", name]`. Uploaded files are received in memory up to
/// 1 MiB and spooled to a temporary file beyond; a file sent for a text field, or text for a
/// file field, is a validation error.
///
/// Limits, by default (see `App::form_limits`): 1,000 fields, 1,000 files, 1 MiB per text part,
/// and the route's body limit for the whole body. Breaking one answers 400 (413 for the body
/// limit), worded as Starlette words it. A body of any other type is read as an empty form, as
/// FastAPI reads it (every required field missing, 422), or answers 415 under
/// [`ContentTypeCheck::Refuse`].
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

#[cfg(feature = "multipart")]
pub(super) fn body_loc(name: &str) -> Vec<LocPart> {
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
            // No body at all, or one of another type (FastAPI's form is then empty): every
            // required field is missing.
            None if has_no_body(&parts, &body)
                || ctx.content_type_check() != ContentTypeCheck::Refuse =>
            {
                return finish::<T>(shapes, Vec::new(), Vec::new(), |decode| decode());
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
                finish::<T>(shapes, pairs, Vec::new(), |decode| decode())
            }
            Kind::Multipart => {
                #[cfg(feature = "multipart")]
                {
                    let request = crate::Request::from_parts(parts, body);
                    super::multipart::read_form::<T>(shapes, request, ctx).await
                }
                #[cfg(not(feature = "multipart"))]
                {
                    drop((parts, body));
                    Err(unsupported(
                        "application/x-www-form-urlencoded (multipart/form-data needs Portico's `multipart` feature)",
                    ))
                }
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
        // Form parameters of `#[portico::handler]` (FastAPI's `Form()` and `File()`) are
        // documented as FastAPI documents them, `Body_<operationId>`; a form model (FastAPI's
        // `Annotated[Model, Form()]`) by its own name.
        let body = if schema.get(FIELDS) == Some(&Value::Bool(true)) {
            let mut schema = schema;
            if let Some(map) = schema.as_object_mut() {
                map.remove(FIELDS);
            }
            BodyDoc::new(media_type, schema, true).named_by_operation()
        } else {
            BodyDoc::new(
                media_type,
                portico_openapi::doc_schema_for::<T>(false),
                true,
            )
        };
        doc.body(body);
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}

pub(super) fn too_many_fields(max: usize) -> Rejection {
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
pub(super) fn finish<T: DeserializeOwned + JsonSchema + 'static>(
    shapes: &Shapes,
    pairs: Vec<(String, String)>,
    mut errors: Vec<ErrorItem>,
    // Runs the decoding, with the form's uploads at hand (see `multipart::with_uploads`).
    with_uploads: impl FnOnce(
        &mut dyn FnMut() -> Result<T, Vec<ErrorItem>>,
    ) -> Result<T, Vec<ErrorItem>>,
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
        let mut loc = Some(loc);
        let mut decode =
            || validate::from_inputs::<T, _>(shapes, &pairs, loc.take().unwrap_or_default());
        return with_uploads(&mut decode)
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
