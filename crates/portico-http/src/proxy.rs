//! Running behind a proxy: the client's address, forwarded headers from trusted proxies, and
//! the root path the application is served under.
//!
//! A reverse proxy (nginx, a load balancer) connects to the application itself, so the
//! connection's peer is the proxy, the scheme is plain `http` even when the client used TLS,
//! and the `Host` may be the proxy's upstream name. The proxy says what the client used in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`;
//! [`ProxyHeaders`] believes them only from the proxies it is told to trust, since any client
//! can send them. With [`App::root_path`](crate::App::root_path) an application reached under
//! a prefix (`/api`) builds its redirects, `url_for` links and OpenAPI `servers` with it.
//!
//! # Examples
//!
//! ```
//! use portico_http::App;
//! use portico_http::proxy::{ClientAddr, ProxyHeaders};
//!
//! async fn who(client: ClientAddr) -> String {
//!     client.0.ip().to_string()
//! }
//!
//! let app = App::new()
//!     .root_path("/api")
//!     .get("/who", who)
//!     .add_middleware(ProxyHeaders::new(["127.0.0.1"]));
//! # drop(app);
//! ```

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use http::header::{HOST, HeaderName, HeaderValue, UPGRADE};
use http::request::Parts;

use crate::extract::{FromRequestParts, Rejection, RequestContext};
use crate::middleware::{Middleware, Next};
use crate::{Request, Response};

/// The address of the client: the connection's peer, or the client a trusted proxy names
/// (port 0 when the proxy does not say). Requests through the test client come from
/// `127.0.0.1:50000`. Requests over a Unix socket have none, and a handler asking for it is
/// answered 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

impl FromRequestParts for ClientAddr {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match parts
            .extensions
            .get::<ClientAddr>()
            .or(ctx.locals.peer.as_ref())
        {
            Some(addr) => Ok(*addr),
            None => {
                tracing::error!("a handler takes a ClientAddr but the connection has no address");
                Err(Rejection::Response(crate::error::internal_error()))
            }
        }
    }
}

/// The configured root path of the application, on requests when it has one.
#[derive(Debug, Clone)]
pub(crate) struct RootPath(pub(crate) Arc<str>);

/// The root path the request's application is served under (empty if none).
pub(crate) fn root_path_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<RootPath>()
        .map_or("", |root| &root.0)
}

/// The scheme the client used: the URI's when a trusted proxy said, otherwise `http`, or `ws`
/// for a WebSocket handshake (`https` and `wss` behind a TLS proxy).
pub(crate) fn request_scheme(request: &Request) -> &str {
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
pub(crate) fn request_host(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// A set of addresses: single IPs, CIDR blocks, or every address.
#[derive(Debug, Clone)]
enum Trusted {
    Any,
    Net(IpAddr, u8),
}

impl Trusted {
    fn parse(text: &str) -> Option<Trusted> {
        let text = text.trim();
        if text == "*" {
            return Some(Trusted::Any);
        }
        let (ip, bits) = match text.split_once('/') {
            Some((ip, bits)) => (IpAddr::from_str(ip).ok()?, bits.parse::<u8>().ok()?),
            None => {
                let ip = IpAddr::from_str(text).ok()?;
                (ip, if ip.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Trusted::Net(ip, bits))
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self, ip) {
            (Trusted::Any, _) => true,
            (Trusted::Net(IpAddr::V4(net), bits), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (Trusted::Net(IpAddr::V6(net), bits), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Believes `Forwarded`, or `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`,
/// from the proxies it trusts (uvicorn's `--proxy-headers --forwarded-allow-ips`), and ignores
/// them from anyone else.
///
/// For a request whose connection comes from a trusted address: the client
/// ([`ClientAddr`]) is the nearest untrusted address of the forwarded chain, read from the
/// right; the scheme and host become the forwarded ones, so that redirects, URLs built for
/// the request and [`HttpsRedirect`](crate::middleware::HttpsRedirect) see what the client
/// used. Add it as the outermost middleware (last), so that the others see the corrected
/// request.
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::proxy::ProxyHeaders;
///
/// // nginx on this machine, and a load balancer's private network.
/// let proxies = ProxyHeaders::new(["127.0.0.1", "::1", "10.0.0.0/8"]);
/// let app = App::new().get("/", || async { "hi" }).add_middleware(proxies);
/// # drop(app);
/// ```
#[derive(Debug, Clone)]
pub struct ProxyHeaders {
    trusted: Vec<Trusted>,
}

impl ProxyHeaders {
    /// Trusts the proxies at `addresses`: IPs, CIDR blocks (`10.0.0.0/8`), or `*` for any
    /// (only when nothing but the proxy can reach the application).
    ///
    /// # Panics
    ///
    /// If an address is neither.
    #[track_caller]
    pub fn new<S: AsRef<str>>(addresses: impl IntoIterator<Item = S>) -> Self {
        match Self::try_new(addresses) {
            Ok(proxies) => proxies,
            Err(err) => panic!("{err}"),
        }
    }

    /// As [`new`](Self::new), for addresses read from a command line or a setting.
    ///
    /// # Errors
    ///
    /// The first text that is not an IP, a CIDR block or `*`.
    pub fn try_new<S: AsRef<str>>(addresses: impl IntoIterator<Item = S>) -> Result<Self, String> {
        let trusted = addresses
            .into_iter()
            .map(|a| {
                Trusted::parse(a.as_ref())
                    .ok_or_else(|| format!("`{}` is not an IP address or CIDR block", a.as_ref()))
            })
            .collect::<Result<_, _>>()?;
        Ok(ProxyHeaders { trusted })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|t| t.contains(ip))
    }

    /// What the trusted proxies say: client, scheme, host.
    fn forwarded(&self, request: &Request) -> Forwarded {
        let headers = request.headers();
        let rfc = all_values(headers, &http::header::FORWARDED);
        if !rfc.is_empty() {
            return self.parse_rfc7239(&rfc);
        }
        let chain = all_values(headers, &HeaderName::from_static("x-forwarded-for"));
        let client = chain
            .split(',')
            .map(str::trim)
            .rev()
            .filter_map(parse_node)
            .find(|addr| !self.trusts(addr.ip()));
        let last = |name: &'static str| {
            all_values(headers, &HeaderName::from_static(name))
                .rsplit(',')
                .map(str::trim)
                .find(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Forwarded {
            client,
            proto: last("x-forwarded-proto"),
            host: last("x-forwarded-host"),
        }
    }

    fn parse_rfc7239(&self, value: &str) -> Forwarded {
        let mut out = Forwarded::default();
        // Elements from the right: the nearest proxy's first.
        for element in value.rsplit(',') {
            let mut node = None;
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "for" => node = parse_node(value),
                    "proto" if out.proto.is_none() => out.proto = Some(value.to_owned()),
                    "host" if out.host.is_none() => out.host = Some(value.to_owned()),
                    _ => {}
                }
            }
            if let Some(addr) = node {
                out.client = Some(addr);
                if !self.trusts(addr.ip()) {
                    break;
                }
            }
        }
        out
    }
}

#[derive(Debug, Default)]
struct Forwarded {
    client: Option<SocketAddr>,
    proto: Option<String>,
    host: Option<String>,
}

/// Every value of a header, joined with commas.
fn all_values(headers: &http::HeaderMap, name: &HeaderName) -> String {
    let mut joined = String::new();
    for value in headers.get_all(name) {
        if let Ok(value) = value.to_str() {
            if !joined.is_empty() {
                joined.push(',');
            }
            joined.push_str(value);
        }
    }
    joined
}

/// An address in a forwarded chain: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` or `::1`.
fn parse_node(text: &str) -> Option<SocketAddr> {
    let text = text.trim().trim_matches('"');
    SocketAddr::from_str(text).ok().or_else(|| {
        IpAddr::from_str(text.trim_matches(['[', ']']))
            .ok()
            .map(|ip| SocketAddr::new(ip, 0))
    })
}

impl Middleware for ProxyHeaders {
    const READS_EXTENSIONS: bool = true;

    fn call(&self, mut request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let peer = request.extensions().get::<ClientAddr>().map(|c| c.0.ip());
        if peer.is_some_and(|ip| self.trusts(ip)) {
            let forwarded = self.forwarded(&request);
            if let Some(client) = forwarded.client {
                request.extensions_mut().insert(ClientAddr(client));
            }
            let host = forwarded
                .host
                .and_then(|h| HeaderValue::from_str(&h).ok())
                .or_else(|| request.headers().get(HOST).cloned());
            if let Some(host) = &host {
                request.headers_mut().insert(HOST, host.clone());
            }
            let scheme = forwarded.proto.map(|p| p.to_ascii_lowercase());
            let scheme = match scheme.as_deref() {
                Some("https" | "wss") => Some(http::uri::Scheme::HTTPS),
                Some("http" | "ws") => Some(http::uri::Scheme::HTTP),
                _ => None,
            };
            if let (Some(scheme), Some(host)) = (scheme, host) {
                let mut parts = request.uri().clone().into_parts();
                parts.scheme = Some(scheme);
                parts.authority = host.to_str().ok().and_then(|h| h.parse().ok());
                if parts.path_and_query.is_none() {
                    parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
                }
                if parts.authority.is_some()
                    && let Ok(uri) = http::Uri::from_parts(parts)
                {
                    *request.uri_mut() = uri;
                }
            }
        }
        next.run(request)
    }
}
