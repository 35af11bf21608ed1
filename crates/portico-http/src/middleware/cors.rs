//! Cross-origin resource sharing, with Starlette's `CORSMiddleware` defaults and answers.

use std::future::Future;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, COOKIE, HeaderMap, HeaderValue,
    ORIGIN, VARY,
};
use http::{Method, StatusCode};

use super::{Middleware, Next, add_vary};
use crate::response::plain;
use crate::{Request, Response};

/// The methods `allow_methods(["*"])` stands for.
const ALL_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";

/// Headers a browser may always send, so always allowed in a preflight.
const SAFELISTED_HEADERS: [&str; 4] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// Answers CORS preflight requests and adds the `Access-Control-*` headers to the responses of
/// allowed origins, as Starlette's `CORSMiddleware`.
///
/// Defaults, Starlette's: no origin allowed, methods `GET` only, no extra header, no
/// credentials, no exposed header, `max-age` 600 seconds. A preflight (`OPTIONS` with `Origin`
/// and `Access-Control-Request-Method`) is answered here, never by a route: 200 `OK` when the
/// origin, method and headers are allowed, 400 `Disallowed CORS origin` (or `method`,
/// `headers`, comma-separated) otherwise. Other requests reach the application; the response
/// of an allowed origin gets `Access-Control-Allow-Origin` (`*` when any origin is allowed
/// and no credentials are, otherwise the origin itself, with `Vary: Origin`).
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::middleware::Cors;
///
/// let cors = Cors::new()
///     .allow_origins(["https://app.example.com"])
///     .allow_origin_regex(r"https://.*\.preview\.example\.com")
///     .allow_methods(["*"])
///     .allow_headers(["*"])
///     .allow_credentials(true);
/// let app = App::new().get("/", || async { "hi" }).add_middleware(cors);
///
/// let client = portico::testing::blocking_client(app);
/// let response = client
///     .options("/")
///     .header("origin", "https://app.example.com")
///     .header("access-control-request-method", "PUT")
///     .send();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.header("access-control-allow-origin"), Some("https://app.example.com"));
/// assert_eq!(response.header("access-control-max-age"), Some("600"));
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
    any_origin: bool,
    origin_regex: Option<regex::Regex>,
    methods: Vec<Method>,
    any_method: bool,
    headers: Vec<String>,
    any_header: bool,
    credentials: bool,
    expose: Option<HeaderValue>,
    max_age: u64,
}

impl Default for Cors {
    fn default() -> Self {
        Cors {
            origins: Vec::new(),
            any_origin: false,
            origin_regex: None,
            methods: vec![Method::GET],
            any_method: false,
            headers: Vec::new(),
            any_header: false,
            credentials: false,
            expose: None,
            max_age: 600,
        }
    }
}

impl Cors {
    /// A CORS policy with Starlette's defaults (which allow no origin yet).
    pub fn new() -> Self {
        Cors::default()
    }

    /// The origins allowed, such as `https://example.com` (scheme, host and port, no path);
    /// `"*"` allows any.
    pub fn allow_origins<S: AsRef<str>>(mut self, origins: impl IntoIterator<Item = S>) -> Self {
        for origin in origins {
            let origin = origin.as_ref();
            if origin == "*" {
                self.any_origin = true;
            } else {
                self.origins.push(origin.trim_end_matches('/').to_owned());
            }
        }
        self
    }

    /// Also allows every origin that matches `regex` in full.
    ///
    /// # Panics
    ///
    /// If `regex` is not a valid regular expression.
    #[track_caller]
    pub fn allow_origin_regex(mut self, regex: &str) -> Self {
        match regex::Regex::new(&format!("^(?:{regex})$")) {
            Ok(regex) => self.origin_regex = Some(regex),
            Err(err) => panic!("allow_origin_regex: {err}"),
        }
        self
    }

    /// The methods allowed in a cross-origin request (`GET` by default); `"*"` allows any.
    ///
    /// # Panics
    ///
    /// If a name is not a valid method.
    #[track_caller]
    pub fn allow_methods<S: AsRef<str>>(mut self, methods: impl IntoIterator<Item = S>) -> Self {
        self.methods.clear();
        for method in methods {
            let method = method.as_ref();
            if method == "*" {
                self.any_method = true;
                continue;
            }
            match Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
                Ok(method) => self.methods.push(method),
                Err(_) => panic!("allow_methods: `{method}` is not a method"),
            }
        }
        self
    }

    /// The request headers allowed besides the always-safe ones (`Accept`,
    /// `Accept-Language`, `Content-Language`, `Content-Type`); `"*"` allows any.
    pub fn allow_headers<S: AsRef<str>>(mut self, headers: impl IntoIterator<Item = S>) -> Self {
        for header in headers {
            let header = header.as_ref();
            if header == "*" {
                self.any_header = true;
            } else {
                self.headers.push(header.to_ascii_lowercase());
            }
        }
        self
    }

    /// Whether cross-origin requests may carry cookies and credentials (off by default). With
    /// it, responses name the origin instead of `*`.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// The response headers a browser lets the page read.
    ///
    /// # Panics
    ///
    /// If the list is not a valid header value.
    #[track_caller]
    pub fn expose_headers<S: AsRef<str>>(mut self, headers: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = headers.into_iter().map(|h| h.as_ref().to_owned()).collect();
        match HeaderValue::from_str(&list.join(", ")) {
            Ok(value) => self.expose = (!list.is_empty()).then_some(value),
            Err(_) => panic!("expose_headers: not a valid header list"),
        }
        self
    }

    /// How long a browser may cache a preflight answer, in seconds (600 by default).
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = seconds;
        self
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.any_origin
            || self.origins.iter().any(|allowed| allowed == origin)
            || self
                .origin_regex
                .as_ref()
                .is_some_and(|regex| regex.is_match(origin))
    }

    fn method_allowed(&self, method: &str) -> bool {
        self.any_method || self.methods.iter().any(|m| m.as_str() == method)
    }

    /// Whether the origin is echoed rather than answered with `*`.
    fn echoes_origin(&self, request_has_cookie: bool) -> bool {
        !self.any_origin || self.credentials || request_has_cookie
    }

    fn preflight(&self, origin: &HeaderValue, headers: &HeaderMap) -> Response {
        let origin_ok = origin.to_str().is_ok_and(|o| self.origin_allowed(o));
        let method_ok = headers
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| self.method_allowed(m));
        let requested = headers
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|h| h.to_str().ok());
        let headers_ok = self.any_header
            || requested.is_none_or(|list| {
                list.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .all(|h| SAFELISTED_HEADERS.contains(&h.as_str()) || self.headers.contains(&h))
            });
        let mut failures = Vec::new();
        if !origin_ok {
            failures.push("origin");
        }
        if !method_ok {
            failures.push("method");
        }
        if !headers_ok {
            failures.push("headers");
        }
        let mut response = if failures.is_empty() {
            plain(StatusCode::OK, "OK")
        } else {
            let text = format!("Disallowed CORS {}", failures.join(", "));
            let mut response = plain(StatusCode::BAD_REQUEST, "");
            *response.body_mut() = crate::Body::from(text);
            response
        };
        let out = response.headers_mut();
        if origin_ok {
            let allow = if self.echoes_origin(false) {
                origin.clone()
            } else {
                HeaderValue::from_static("*")
            };
            out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        }
        let methods = if self.any_method {
            HeaderValue::from_static(ALL_METHODS)
        } else {
            let list: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
            HeaderValue::from_str(&list.join(", ")).unwrap_or(HeaderValue::from_static("GET"))
        };
        out.insert(ACCESS_CONTROL_ALLOW_METHODS, methods);
        let allow_headers = match (self.any_header, requested) {
            (true, Some(requested)) => HeaderValue::from_str(requested).ok(),
            _ => {
                let mut list: Vec<&str> = SAFELISTED_HEADERS.to_vec();
                list.extend(self.headers.iter().map(String::as_str));
                HeaderValue::from_str(&list.join(", ")).ok()
            }
        };
        if let Some(allow_headers) = allow_headers {
            out.insert(ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        }
        out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(self.max_age));
        if self.credentials {
            out.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        out.insert(
            VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        response
    }

    fn simple(&self, origin: HeaderValue, had_cookie: bool, response: &mut Response) {
        let out = response.headers_mut();
        if self.echoes_origin(had_cookie) {
            out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            add_vary(out, "Origin");
        } else {
            out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        if self.credentials {
            out.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(expose) = &self.expose {
            out.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}

impl Middleware for Cors {
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let origin = request.headers().get(ORIGIN).cloned();
        let preflight = request.method() == Method::OPTIONS
            && origin.is_some()
            && request
                .headers()
                .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        let answer = match &origin {
            Some(origin) if preflight => Some(self.preflight(origin, request.headers())),
            _ => None,
        };
        // The origin is echoed only when it is allowed; a response to any other origin goes
        // out without CORS headers, and the browser keeps it from the page.
        let allowed = origin.filter(|o| o.to_str().is_ok_and(|o| self.origin_allowed(o)));
        let had_cookie = request.headers().contains_key(COOKIE);
        let fut = answer.is_none().then(|| next.run(request));
        async move {
            if let Some(answer) = answer {
                return answer;
            }
            let Some(fut) = fut else {
                return crate::response::internal_error();
            };
            let mut response = fut.await;
            match allowed {
                Some(origin) => self.simple(origin, had_cookie, &mut response),
                None if !self.any_origin || self.credentials => {
                    add_vary(response.headers_mut(), "Origin")
                }
                None => {}
            }
            response
        }
    }
}
