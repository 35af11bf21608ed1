//! Checks on where a request was sent: trusted hosts, and HTTPS only.

use std::future::Future;

use http::StatusCode;
use http::header::{HOST, HeaderValue, LOCATION, UPGRADE};

use super::{Middleware, Next};
use crate::response::plain;
use crate::routing::root_path_of;
use crate::{Request, Response};

/// Refuses requests whose `Host` is not one of the application's (Starlette's
/// `TrustedHostMiddleware`): the defence against host-header attacks on links built from it.
///
/// Patterns are host names (`example.com`), wildcards for every subdomain (`*.example.com`),
/// or `*` for any. Ports are ignored. Any other host is answered 400 `Invalid host header`;
/// with [`www_redirect`](TrustedHost::www_redirect) (on by default) a request to `example.com`
/// when only `www.example.com` is allowed is redirected there (307).
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::middleware::TrustedHost;
///
/// let app = App::new()
///     .get("/", || async { "hi" })
///     .add_middleware(TrustedHost::new(["example.com", "*.example.com"]));
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/").header("host", "api.example.com").send().status(), 200);
/// let refused = client.get("/").header("host", "evil.test").send();
/// assert_eq!(refused.status(), 400);
/// assert_eq!(refused.text(), "Invalid host header");
/// ```
#[derive(Debug, Clone)]
pub struct TrustedHost {
    patterns: Vec<String>,
    www_redirect: bool,
}

impl TrustedHost {
    /// Allows the hosts matching `patterns`.
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Self {
        TrustedHost {
            patterns: patterns
                .into_iter()
                .map(|p| p.as_ref().to_ascii_lowercase())
                .collect(),
            www_redirect: true,
        }
    }

    /// Whether a host whose `www.` form is allowed is redirected there (on by default).
    pub fn www_redirect(mut self, on: bool) -> Self {
        self.www_redirect = on;
        self
    }

    fn allows(&self, host: &str) -> bool {
        self.patterns.iter().any(|pattern| {
            pattern == "*"
                || pattern == host
                || pattern
                    .strip_prefix('*')
                    .is_some_and(|suffix| suffix.starts_with('.') && host.ends_with(suffix))
        })
    }
}

/// A host without its port (IPv6 literals keep their brackets).
fn without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// The request's full URL as the client wrote it, with another scheme or host.
fn full_url(request: &Request, scheme: &str, host: &str) -> String {
    let root = root_path_of(request);
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    format!("{scheme}://{host}{root}{path_and_query}")
}

fn redirect(location: String) -> Response {
    let mut response = Response::new(crate::Body::empty());
    *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    match HeaderValue::from_str(&location) {
        Ok(location) => {
            response.headers_mut().insert(LOCATION, location);
            response
        }
        Err(_) => plain(StatusCode::BAD_REQUEST, "Invalid host header"),
    }
}

impl Middleware for TrustedHost {
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let host = request_host(&request).map(|h| without_port(h).to_ascii_lowercase());
        let verdict = match &host {
            Some(host) if self.allows(host) => None,
            Some(host) if self.www_redirect && self.allows(&format!("www.{host}")) => {
                let full = request_host(&request).unwrap_or(host);
                Some(redirect(full_url(
                    &request,
                    request_scheme(&request),
                    &format!("www.{full}"),
                )))
            }
            _ => Some(plain(StatusCode::BAD_REQUEST, "Invalid host header")),
        };
        let fut = verdict.is_none().then(|| next.run(request));
        async move {
            match (verdict, fut) {
                (Some(answer), _) => answer,
                (None, Some(fut)) => fut.await,
                (None, None) => crate::response::internal_error(),
            }
        }
    }
}

/// Redirects every plain `http` (and `ws`) request to the same URL on `https` (`wss`) with 307,
/// as Starlette's `HTTPSRedirectMiddleware`; port 80 is dropped from the host.
///
/// Behind a proxy that ends TLS, add [`ProxyHeaders`](crate::proxy::ProxyHeaders) outside it so
/// that the scheme the client used is known.
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::middleware::HttpsRedirect;
///
/// let app = App::new().get("/", || async { "hi" }).add_middleware(HttpsRedirect);
/// let client = portico::testing::blocking_client(app);
/// let response = client.get("/?a=1").header("host", "example.com").send();
/// assert_eq!(response.status(), 307);
/// assert_eq!(response.header("location"), Some("https://example.com/?a=1"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpsRedirect;

impl Middleware for HttpsRedirect {
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let scheme = request_scheme(&request);
        let answer = matches!(scheme, "http" | "ws").then(|| {
            let secure = if scheme == "ws" { "wss" } else { "https" };
            let host = request_host(&request).unwrap_or("localhost");
            let host = match host.strip_suffix(":80") {
                Some(bare) => bare,
                None => host,
            };
            redirect(full_url(&request, secure, host))
        });
        let fut = answer.is_none().then(|| next.run(request));
        async move {
            match (answer, fut) {
                (Some(answer), _) => answer,
                (None, Some(fut)) => fut.await,
                (None, None) => crate::response::internal_error(),
            }
        }
    }
}

/// The scheme the client used: the URI's when a trusted proxy said, otherwise `http`, or `ws`
/// for a WebSocket handshake (`https` and `wss` behind a TLS proxy).
fn request_scheme(request: &Request) -> &str {
    let websocket = request
        .headers()
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    match (request.uri().scheme_str(), websocket) {
        (Some("https"), true) => "wss",
        (Some(scheme), false) => scheme,
        (_, true) => "ws",
        (None, false) => "http",
    }
}

/// The host (and port) the client sent the request to.
fn request_host(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
}
