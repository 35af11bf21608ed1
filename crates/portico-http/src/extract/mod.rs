//! Parameters of path operations: how each is read from the request, and how it describes
//! itself to the OpenAPI document.
//!
//! A handler's parameters are extracted in order. Every parameter is tried even after one
//! failed validation, so that one 422 lists every invalid input of the request (path, query,
//! headers, cookies and body together). A parameter that answers with a response of its own
//! (413, 401...) stops the request at once. Handlers and dependency providers extract theirs
//! the same way (see `args`).
//!
//! Each parameter type also declares itself when its route is built: what the OpenAPI
//! document shows (`describe`) and what it needs to run (`spec`).

use std::future::Future;

use http::request::Parts;
use portico_openapi::OperationDoc;

pub(crate) use crate::context::RequestContext;
use crate::context::RouteSpec;

mod args;
mod body;
mod client_addr;
mod cookie;
mod embed;
mod form;
mod header;
mod json;
#[cfg(feature = "multipart")]
mod multipart;
mod path;
mod query;
mod rejection;
mod state;

pub(crate) use args::Args;
pub use body::BodyStream;
pub use client_addr::ClientAddr;
pub use cookie::Cookie;
pub use embed::Embed;
pub use form::Form;
pub use header::Header;
#[cfg(feature = "multipart")]
pub use multipart::{Multipart, MultipartField, UploadFile};
pub use path::Path;
pub use query::Query;
pub use rejection::{RaisedError, Rejection};
pub use state::State;

/// A parameter read from the request's head (path, query, headers, cookies, state): anything
/// but the body, so several may be used at once.
///
/// # Examples
///
/// A custom parameter: the client's address as a proxy reports it.
///
/// ```
/// use http::request::Parts;
/// use portico_http::{FromRequestParts, Rejection, RequestContext};
///
/// struct ForwardedFor(Option<String>);
///
/// impl FromRequestParts for ForwardedFor {
///     async fn from_request_parts(parts: &mut Parts, _ctx: &RequestContext) -> Result<Self, Rejection> {
///         let value = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
///         Ok(ForwardedFor(value.map(str::to_owned)))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a request's head",
    label = "not a head parameter",
    note = "a parameter that is not the last reads the request's head: `Path<T>`, `Query<T>`, `Header<T>`, `Cookie<T>`, `State<T>`, `Depends<T>`, ... (a provider's parameters all do); a body extractor (`Json<T>`, `Form<T>`, `String`, `Bytes`) can only be a handler's last parameter",
    note = "a plain type such as `u32` is read with an extractor around it (`Path<u32>`), or named with `#[path]`, `#[query]`, `#[header]` or `#[cookie]` under `#[portico::handler]`"
)]
pub trait FromRequestParts: Sized + Send {
    /// Reads the parameter.
    fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send;

    /// Describes what the parameter reads, for the OpenAPI document (and to check it against
    /// the route when the route is registered). Reads nothing documented by default.
    fn describe(doc: &mut OperationDoc) {
        let _ = doc;
    }

    /// Records what the parameter needs to run (dependencies, shared state, the validation
    /// shapes of its input type), once, when the route is built. Needs nothing by default.
    fn spec(spec: &mut RouteSpec) {
        let _ = spec;
    }
}

/// A parameter that consumes the whole request (its body): it must be the handler's last.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a request parameter",
    label = "not an extractor",
    note = "a handler's parameters are extractors: `Path<T>`, `Query<T>`, `Header<T>`, `Json<T>`, `Form<T>`, `State<T>`, `Depends<T>`, ... (the input types `T: DeserializeOwned + JsonSchema`)",
    note = "a plain type such as `u32` is read with an extractor around it (`Path<u32>`), or named with `#[path]`, `#[query]`, `#[header]` or `#[cookie]` under `#[portico::handler]`"
)]
pub trait FromRequest<M = private::ViaRequest>: Sized + Send {
    /// Reads the parameter.
    fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send;

    /// Describes what the parameter reads, for the OpenAPI document.
    fn describe(doc: &mut OperationDoc) {
        let _ = doc;
    }

    /// Records what the parameter needs to run, once, when the route is built (see
    /// [`FromRequestParts::spec`]). Needs nothing by default.
    fn spec(spec: &mut RouteSpec) {
        let _ = spec;
    }

    /// Whether [`from_split`](Self::from_split) takes the parts (and the body) away: true but
    /// for head-only parameters, which read the parts in place. Not meant to be overridden.
    #[doc(hidden)]
    const TAKES_REQUEST: bool = true;

    /// How a handler extracts its last parameter from a request already taken apart: by
    /// default, the request is put back together for [`from_request`](Self::from_request);
    /// head-only parameters read the parts in place. Not meant to be overridden.
    #[doc(hidden)]
    fn from_split(
        parts: &mut Parts,
        body: &mut Option<crate::Body>,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send {
        let parts = std::mem::replace(parts, http::Request::new(()).into_parts().0);
        Self::from_request(
            crate::Request::from_parts(parts, body.take().unwrap_or_default()),
            ctx,
        )
    }
}

mod private {
    /// The marker of parameters that read the body.
    #[derive(Debug, Clone, Copy)]
    pub enum ViaRequest {}
    /// The marker of head-only parameters used in the last position.
    #[derive(Debug, Clone, Copy)]
    pub enum ViaParts {}
}

#[diagnostic::do_not_recommend]
impl<T: FromRequestParts> FromRequest<private::ViaParts> for T {
    const TAKES_REQUEST: bool = false;

    async fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let (mut parts, _body) = request.into_parts();
        T::from_request_parts(&mut parts, ctx).await
    }

    fn from_split(
        parts: &mut Parts,
        _body: &mut Option<crate::Body>,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send {
        T::from_request_parts(parts, ctx)
    }

    fn describe(doc: &mut OperationDoc) {
        T::describe(doc);
    }

    fn spec(spec: &mut RouteSpec) {
        T::spec(spec);
    }
}

impl FromRequest for crate::Request {
    async fn from_request(
        request: crate::Request,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(request)
    }

    fn spec(spec: &mut RouteSpec) {
        spec.reads_path();
    }
}

impl FromRequestParts for http::Method {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(parts.method.clone())
    }
}

impl FromRequestParts for http::Uri {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(parts.uri.clone())
    }

    fn spec(spec: &mut RouteSpec) {
        spec.reads_path();
    }
}

impl FromRequestParts for http::HeaderMap {
    /// Every header, as sent.
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(parts.headers.clone())
    }
}

impl FromRequestParts for RequestContext {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(ctx.clone())
    }
}

impl<T: FromRequestParts> FromRequestParts for Option<T> {
    /// `None` for a parameter that is absent: every error of `T` is a `missing` one, or `T`
    /// answered on its own, with a response or an error for the exception handlers (an
    /// optional credential that was not sent). Input
    /// that is there but invalid is still a 422, as FastAPI answers `?limit=abc` for an
    /// optional `limit`.
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match T::from_request_parts(parts, ctx).await {
            Ok(value) => Ok(Some(value)),
            Err(Rejection::Invalid(errors) | Rejection::InvalidBody { errors, .. })
                if !errors.iter().all(|error| error.kind == "missing") =>
            {
                Err(Rejection::Invalid(errors))
            }
            Err(_) => Ok(None),
        }
    }

    /// As `T`, but not required (a security requirement included: the request may come
    /// without the credential).
    fn describe(doc: &mut OperationDoc) {
        let from = doc.params.len();
        let before: Vec<String> = doc.security.iter().map(|s| s.name.clone()).collect();
        T::describe(doc);
        for param in &mut doc.params[from..] {
            param.required = false;
        }
        for requirement in &mut doc.security {
            if !before.contains(&requirement.name) {
                requirement.required = false;
            }
        }
    }

    fn spec(spec: &mut RouteSpec) {
        T::spec(spec);
    }
}
