//! [`Header`]: parameters from request headers.

use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use portico_openapi::{OperationDoc, Source};

use super::{FromRequestParts, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::error::LocPart;
use crate::validate::{self, Inputs};

/// Request headers, converted and validated into the struct `T` (FastAPI's header parameter
/// models). A field `user_agent` reads the header `user-agent` (matched without regard to
/// case, as FastAPI's `convert_underscores` does); a `Vec` field collects a repeated header.
/// With `#[portico::handler]`, `#[header(alias = "...")]` and
/// `#[header(convert_underscores = false)]` read a header under the name as written.
///
/// # Examples
///
/// ```
/// use portico_http::Header;
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Client {
///     user_agent: String,
///     x_request_id: Option<String>,
/// }
///
/// async fn whoami(Header(client): Header<Client>) -> String {
///     client.user_agent
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<T>(pub T);

/// The header a field reads: `user_agent` → `user-agent`.
pub(crate) fn header_name(field: &str) -> String {
    field.replace('_', "-").to_ascii_lowercase()
}

/// The header a field of a struct whose `verbatim` fields keep their names reads.
fn header_of(field: &str, verbatim: &[String]) -> String {
    if verbatim.iter().any(|name| name == field) {
        field.to_owned()
    } else {
        header_name(field)
    }
}

/// Request headers, looked up by field name.
struct HeaderInputs<'a> {
    headers: &'a http::HeaderMap,
    verbatim: &'a [String],
}

impl Inputs for HeaderInputs<'_> {
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        self.headers
            .get_all(header_of(name, self.verbatim))
            .iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// Every header's name as a field name (`save-data` as `save_data`), for a model that
    /// forbids extras.
    fn names(&self) -> Vec<std::borrow::Cow<'_, str>> {
        self.headers
            .keys()
            .map(|name| {
                let name = name.as_str();
                if self
                    .verbatim
                    .iter()
                    .any(|field| field.eq_ignore_ascii_case(name))
                {
                    std::borrow::Cow::Borrowed(name)
                } else {
                    std::borrow::Cow::Owned(name.replace('-', "_"))
                }
            })
            .collect()
    }

    fn received(&self) -> Vec<(std::borrow::Cow<'_, str>, Vec<&str>)> {
        self.headers
            .keys()
            .map(|name| {
                let values = self.headers.get_all(name).iter();
                let values = values.filter_map(|v| v.to_str().ok()).collect();
                (std::borrow::Cow::Borrowed(name.as_str()), values)
            })
            .collect()
    }

    /// A field reads its header, and a header sent under the field's own name is not an
    /// extra one either (FastAPI's rule).
    fn reads(&self, field: &str, received: &str) -> bool {
        field.eq_ignore_ascii_case(received)
            || header_of(field, self.verbatim).eq_ignore_ascii_case(received)
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequestParts for Header<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let shapes = ctx.shapes::<T>();
        let headers = HeaderInputs {
            headers: &parts.headers,
            verbatim: &shapes.verbatim,
        };
        validate::from_inputs::<T, _>(&shapes, &headers, vec![Source::Header.as_str().into()])
            .map(Header)
            .map_err(|mut errors| {
                // Errors name the header as the client sent it, as FastAPI's do for single
                // parameters; a model's name its fields.
                for error in errors.iter_mut().filter(|_| !shapes.model) {
                    if let Some(LocPart::Key(field)) = error.loc.get_mut(1) {
                        *field = header_of(field, &shapes.verbatim).into();
                    }
                }
                Rejection::Invalid(errors)
            })
    }

    fn describe(doc: &mut OperationDoc) {
        super::query::describe_fields::<T>(doc, Source::Header, "Header", header_name);
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}
