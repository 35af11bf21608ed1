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

/// Request headers, looked up by field name.
struct HeaderInputs<'a>(&'a http::HeaderMap);

impl Inputs for HeaderInputs<'_> {
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        self.0
            .get_all(header_name(name))
            .iter()
            .filter_map(|v| v.to_str().ok())
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequestParts for Header<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let headers = HeaderInputs(&parts.headers);
        validate::from_inputs::<T, _>(
            &ctx.shapes::<T>(),
            &headers,
            vec![Source::Header.as_str().into()],
        )
        .map(Header)
        .map_err(|mut errors| {
            // Errors name the header as the client sent it, as FastAPI's do.
            for error in &mut errors {
                if let Some(LocPart::Key(field)) = error.loc.get_mut(1) {
                    *field = header_name(field).into();
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
