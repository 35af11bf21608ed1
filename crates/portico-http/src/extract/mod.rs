//! Parameters of path operations: how each is read from the request, and how it describes
//! itself to the OpenAPI document.
//!
//! A handler's parameters are extracted in order. Every parameter is tried even after one
//! failed validation, so that one 422 lists every invalid input of the request (path, query,
//! headers, cookies and body together). A parameter that answers with a response of its own
//! (413, 401...) stops the request at once.

use std::future::Future;
use std::sync::Arc;

use http::request::Parts;
use serde_json::Value;

use crate::app::{AppShared, RouteInfo};
use crate::body::BodyError;
use crate::error::{ErrorItem, HttpError, Source};
use crate::response::{IntoResponse, Response};

mod body;
mod cookie;
mod form;
mod header;
mod json;
mod multipart;
mod path;
mod query;
mod state;

pub use body::BodyStream;
pub use cookie::Cookie;
pub use form::Form;
pub use header::Header;
pub use multipart::{Multipart, MultipartField, UploadFile};
pub use path::Path;
pub use query::Query;
pub use state::State;

/// Why a parameter could not be extracted.
#[derive(Debug)]
pub enum Rejection {
    /// Invalid inputs, to report with every other parameter's in one 422.
    Invalid(Vec<ErrorItem>),
    /// A response to send at once (413, 415, 401, ...).
    Response(Response),
}

impl From<HttpError> for Rejection {
    /// The error's response; an exception handler registered for [`HttpError`] may replace it.
    fn from(err: HttpError) -> Self {
        Rejection::Response(crate::error::carry(err))
    }
}

impl From<Response> for Rejection {
    fn from(response: Response) -> Self {
        Rejection::Response(response)
    }
}

impl From<BodyError> for Rejection {
    /// 413 `Content Too Large` past the limit (as FastAPI, `text/plain`), 400 for a body that
    /// broke off or had invalid framing.
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge { .. } => Rejection::Response(crate::error::plain(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "Content Too Large",
            )),
            BodyError::Read(err) => {
                tracing::debug!("request body unreadable: {err}");
                Rejection::Response(
                    HttpError::bad_request()
                        .detail("The request body could not be read")
                        .into_response(),
                )
            }
        }
    }
}

/// What one request carries besides itself: the matched route, its path parameters and the
/// application's state and settings.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) app: Arc<AppShared>,
    pub(crate) route: Arc<RouteInfo>,
    /// Byte ranges of the path parameters in the request path, in the route's order.
    pub(crate) params: crate::router::Params,
    /// Where the request's background tasks and cleanups go, for routes that have them.
    pub(crate) after: Option<Arc<crate::background::AfterResponse>>,
    /// The request's dependencies, for routes that have some.
    pub(crate) deps: Option<Arc<crate::depends::RequestDeps>>,
    /// What travels beside the request: the connection's peer, the request id.
    pub(crate) locals: crate::middleware::Locals,
}

impl RequestContext {
    /// The route template that matched, e.g. `/items/{item_id}`.
    pub fn route(&self) -> &str {
        &self.route.template
    }

    /// The body size limit for this route, in bytes.
    pub fn body_limit(&self) -> usize {
        self.route.body_limit.unwrap_or(self.app.config.body_limit)
    }

    /// The raw (still percent-encoded) path parameters, as `(name, value)`.
    pub(crate) fn raw_params<'p>(
        &'p self,
        path: &'p str,
    ) -> impl Iterator<Item = (&'p str, &'p str)> {
        self.route
            .params
            .iter()
            .zip(self.params.iter())
            .map(move |(name, range)| (name.as_str(), path.get(range).unwrap_or_default()))
    }
}

/// One documented parameter of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParamDoc {
    /// Its name as the client writes it (`user-agent` for a header field `user_agent`).
    pub name: String,
    /// Where it is read from.
    pub source: Source,
    /// Its JSON Schema.
    pub schema: Value,
    /// Whether the request must carry it.
    pub required: bool,
}

/// The documented request body of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BodyDoc {
    /// The media type, e.g. `application/json`.
    pub media_type: &'static str,
    /// The body's JSON Schema.
    pub schema: Value,
    /// Whether a body is required.
    pub required: bool,
}

/// A response documented besides the handler's own (FastAPI's `responses=`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResponseDoc {
    /// Its status.
    pub status: http::StatusCode,
    /// What it means.
    pub description: String,
    /// The JSON Schema of its body, if documented.
    pub schema: Option<Value>,
}

/// What a handler's return type says about its successful response.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum ReturnDoc {
    /// Nothing is known (a `Response` built by hand, say): documented as JSON of any shape,
    /// as FastAPI does.
    #[default]
    Unknown,
    /// No body.
    Empty,
    /// A body of this media type, with its JSON Schema when it has one.
    Body {
        /// The media type, e.g. `application/json`.
        media_type: &'static str,
        /// The body's JSON Schema (with its definitions under `$defs`).
        schema: Option<Value>,
    },
}

/// A security requirement of an operation, from a security tool among its parameters or
/// dependencies: the scheme it declares and the scopes it needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SecurityDoc {
    /// The scheme's name in `components/securitySchemes` (FastAPI's: the tool's class name
    /// unless one is given).
    pub name: String,
    /// The OpenAPI Security Scheme Object.
    pub scheme: Value,
    /// Scopes the requirement itself asks for (OAuth2).
    pub scopes: Vec<String>,
    /// Whether a request without the credential is refused (401) rather than let through.
    pub required: bool,
}

impl SecurityDoc {
    /// A requirement of the scheme `scheme` named `name`.
    pub fn new(name: impl Into<String>, scheme: Value, required: bool) -> Self {
        SecurityDoc {
            name: name.into(),
            scheme,
            scopes: Vec::new(),
            required,
        }
    }

    /// Whether the scheme has scopes (OAuth2 and OpenID Connect).
    pub(crate) fn takes_scopes(&self) -> bool {
        matches!(
            self.scheme.get("type").and_then(Value::as_str),
            Some("oauth2" | "openIdConnect")
        )
    }
}

/// What a path operation reads and answers, collected from its parameters and return type when
/// the route is registered; the OpenAPI document is built from it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OperationDoc {
    /// The route's path parameter names, in order (filled in before parameters describe
    /// themselves, so that they can check against it).
    pub path_params: Vec<String>,
    /// Every parameter.
    pub params: Vec<ParamDoc>,
    /// The request body, if any.
    pub body: Option<BodyDoc>,
    /// Whether the operation validates input (and so may answer 422).
    pub validates: bool,
    /// Mistakes found while describing (a `Path<T>` that does not fit the route, say), reported
    /// when the route is registered.
    pub problems: Vec<String>,
    /// The operation's tags, its routers' first.
    pub tags: Vec<String>,
    /// Responses documented by the route or its routers besides the handler's own.
    pub responses: Vec<ResponseDoc>,
    /// The successful response, as the handler's return type describes it.
    pub returns: ReturnDoc,
    /// The status of a successful response, when the route sets one (FastAPI's
    /// `status_code`); 200 otherwise.
    pub status: Option<http::StatusCode>,
    /// The description of the successful response ("Successful Response" by default).
    pub response_description: Option<String>,
    /// The summary set on the route; the handler's doc comment gives it otherwise.
    pub summary: Option<String>,
    /// The description set on the route; the handler's doc comment gives it otherwise.
    pub description: Option<String>,
    /// The `operationId` set on the route; FastAPI's `{name}{path}_{method}` otherwise.
    pub operation_id: Option<String>,
    /// Whether the operation is deprecated.
    pub deprecated: bool,
    /// Whether the operation is left out of the document (FastAPI's `include_in_schema=False`).
    pub hidden: bool,
    /// Security requirements of its parameters and dependencies.
    pub security: Vec<SecurityDoc>,
    /// Scopes the route, its routers and its dependencies require, for its OAuth2
    /// requirements.
    pub scopes: Vec<String>,
    /// The handler's type name (a function's path), for its name and doc comment.
    pub(crate) handler: Option<&'static str>,
    /// State types the operation reads, checked when the application starts.
    pub(crate) states: Vec<(std::any::TypeId, &'static str)>,
    /// Whether the operation queues work to run after its response.
    pub(crate) after_response: bool,
    /// The dependencies its parameters take.
    pub(crate) needs: Vec<crate::depends::Need>,
}

impl OperationDoc {
    /// Records a parameter.
    pub fn param(&mut self, param: ParamDoc) {
        self.validates = true;
        self.params.push(param);
    }

    /// Records the request body.
    pub fn body(&mut self, body: BodyDoc) {
        self.validates = true;
        self.body = Some(body);
    }

    /// Records what the successful response holds.
    pub fn returns(&mut self, returns: ReturnDoc) {
        self.returns = returns;
    }

    /// Records a security requirement (once per scheme).
    pub fn security(&mut self, requirement: SecurityDoc) {
        match self
            .security
            .iter_mut()
            .find(|r| r.name == requirement.name)
        {
            Some(existing) => {
                for scope in requirement.scopes {
                    if !existing.scopes.contains(&scope) {
                        existing.scopes.push(scope);
                    }
                }
                existing.required |= requirement.required;
            }
            None => self.security.push(requirement),
        }
    }

    /// The handler's function name, if it is a function (not a closure).
    pub(crate) fn handler_name(&self) -> Option<&'static str> {
        self.handler.and_then(crate::openapi::handler_name)
    }

    /// The handler's doc comment, if `#[portico::handler]` recorded one.
    pub(crate) fn handler_doc(&self) -> Option<&'static str> {
        self.handler.and_then(crate::openapi::handler_doc)
    }

    /// Records a mistake in the operation's declaration.
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }
}

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
}

/// A parameter that consumes the whole request (its body): it must be the handler's last.
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

impl<T: FromRequestParts> FromRequest<private::ViaParts> for T {
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
}

impl FromRequest for crate::Request {
    async fn from_request(
        request: crate::Request,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(request)
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
    /// `None` instead of a rejection, for a parameter that may be absent or invalid.
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(T::from_request_parts(parts, ctx).await.ok())
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
}
