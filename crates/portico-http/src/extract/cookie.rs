//! [`Cookie`]: parameters from request cookies.

use http::header::COOKIE;
use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use portico_openapi::{OperationDoc, Source};

use super::{FromRequestParts, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::validate::{self, Inputs};

/// Request cookies, converted and validated into the struct `T` (FastAPI's cookie parameter
/// models): each field is a cookie.
///
/// To set cookies on the response, see [`SetCookie`](crate::SetCookie).
///
/// # Examples
///
/// ```
/// use portico_http::Cookie;
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Session {
///     session_id: String,
/// }
///
/// async fn me(Cookie(session): Cookie<Session>) -> String {
///     session.session_id
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cookie<T>(pub T);

/// Every cookie of the request, percent-decoded, in order.
pub(crate) fn request_cookies(parts: &Parts) -> Vec<(String, String)> {
    let mut cookies = Vec::new();
    for header in parts.headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for cookie in cookie::Cookie::split_parse_encoded(text).flatten() {
            cookies.push((cookie.name().to_owned(), cookie.value().to_owned()));
        }
    }
    cookies
}

/// Request cookies, looked up by name.
struct CookieInputs(Vec<(String, String)>);

impl Inputs for CookieInputs {
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<std::borrow::Cow<'_, str>> {
        let mut names: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for (name, _) in &self.0 {
            if !names.iter().any(|n| n == name) {
                names.push(std::borrow::Cow::Borrowed(name));
            }
        }
        names
    }

    /// Each cookie's last value: FastAPI reads cookies as a map.
    fn received(&self) -> Vec<(std::borrow::Cow<'_, str>, Vec<&str>)> {
        self.names()
            .into_iter()
            .filter_map(|name| {
                let value = self.last(&name)?;
                Some((name, vec![value]))
            })
            .collect()
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequestParts for Cookie<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let cookies = CookieInputs(request_cookies(parts));
        validate::from_inputs::<T, _>(
            &ctx.shapes::<T>(),
            &cookies,
            vec![Source::Cookie.as_str().into()],
        )
        .map(Cookie)
        .map_err(Rejection::Invalid)
    }

    fn describe(doc: &mut OperationDoc) {
        super::query::describe_fields::<T>(doc, Source::Cookie, "Cookie", str::to_owned);
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}
