//! [`ProxyHeaders`]: believing the forwarded headers of trusted proxies.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use http::header::{HOST, HeaderName, HeaderValue};

use super::{Middleware, Next};
use crate::extract::ClientAddr;
use crate::{Request, Response};

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
