//! [`TestRequest`]: a request being built, and how it is sent (cookies, redirects).

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, HeaderValue, LOCATION};
use http::{HeaderMap, Method, StatusCode, Version};
use http_body_util::BodyExt;
use serde::Serialize;

use super::{
    MAX_REDIRECTS, MultipartForm, StreamingResponse, TestClient, TestResponse, header_pair,
};
use crate::Body;

pub(super) enum Payload {
    Empty,
    Bytes(Bytes),
    Stream(Body),
}

/// A request being built by a [`TestClient`]; `.await` it (or call [`send`](Self::send)) to
/// get the response.
pub struct TestRequest {
    pub(super) client: TestClient,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: HeaderMap,
    pub(super) body: Payload,
    pub(super) follow_redirects: Option<bool>,
}

impl fmt::Debug for TestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The request builders, shared by [`TestRequest`] and [`BlockingTestRequest`].
macro_rules! request_builders {
    ($($field:ident)?) => {
        /// Adds a header.
        ///
        /// # Panics
        ///
        /// If the name or value is not valid HTTP.
        #[track_caller]
        pub fn header(mut self, name: &str, value: &str) -> Self {
            let (name, value) = header_pair(name, value);
            self$(.$field)?.headers.append(name, value);
            self
        }

        /// Adds query parameters (percent-encoded here).
        pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
            self$(.$field)?.query.extend(pairs.iter().map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())));
            self
        }

        /// Sends a cookie with this request only (the jar is left alone).
        pub fn cookie(mut self, name: &str, value: &str) -> Self {
            let pair = format!("{name}={value}");
            match HeaderValue::from_str(&pair) {
                Ok(value) => {
                    self$(.$field)?.headers.append(COOKIE, value);
                }
                Err(err) => panic!("invalid cookie `{pair}`: {err}"),
            }
            self
        }

        /// Sends `value` as a JSON body, with `Content-Type: application/json`.
        ///
        /// # Panics
        ///
        /// If `value` cannot be serialised.
        #[track_caller]
        pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
            let bytes = serde_json::to_vec(value).unwrap_or_else(|err| panic!("cannot serialise the JSON body: {err}"));
            self.content_type("application/json").body(bytes)
        }

        /// Sends `pairs` as an urlencoded form.
        pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
            let mut encoder = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                encoder.append_pair(k.as_ref(), v.as_ref());
            }
            self.content_type("application/x-www-form-urlencoded").body(encoder.finish())
        }

        /// Sends a multipart form.
        pub fn multipart(self, form: MultipartForm) -> Self {
            let (content_type, body) = form.encode();
            self.content_type(&content_type).body(body)
        }

        /// Sets `Content-Type`.
        ///
        /// # Panics
        ///
        /// If the value is not valid HTTP.
        #[track_caller]
        pub fn content_type(mut self, value: &str) -> Self {
            let (name, value) = header_pair("content-type", value);
            self$(.$field)?.headers.insert(name, value);
            self
        }

        /// Sets the body (with its `Content-Length`).
        pub fn body(mut self, body: impl Into<Bytes>) -> Self {
            self$(.$field)?.body = Payload::Bytes(body.into());
            self
        }

        /// Sets a streamed body (sent without `Content-Length`, as chunks).
        pub fn body_stream(mut self, body: Body) -> Self {
            self$(.$field)?.body = Payload::Stream(body);
            self
        }

        /// Whether this request follows redirects, whatever the client says.
        pub fn follow_redirects(mut self, on: bool) -> Self {
            self$(.$field)?.follow_redirects = Some(on);
            self
        }
    };
}

impl TestRequest {
    request_builders!();

    /// Sends the request and reads the whole response.
    ///
    /// # Panics
    ///
    /// If the response body fails while it is read (a stream that ended with an error), or a
    /// redirect loop goes past 20 hops.
    pub async fn send(self) -> TestResponse {
        let (head, body, after) = self.exchange().await;
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) => panic!("the response body failed while it was read: {err}"),
        };
        // As Starlette's client does, return once the request's background tasks have run
        // (the body, now dropped, started them).
        after.await;
        TestResponse::new(head, bytes)
    }

    /// Sends the request and returns the response as soon as its head is ready, to read a
    /// streamed body (server-sent events, say) chunk by chunk.
    ///
    /// # Panics
    ///
    /// As [`send`](Self::send).
    pub async fn send_streaming(self) -> StreamingResponse {
        let (head, body, _after) = self.exchange().await;
        StreamingResponse {
            status: head.status,
            headers: head.headers,
            body,
        }
    }

    fn target(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let mut encoder = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            encoder.append_pair(k, v);
        }
        let separator = if self.path.contains('?') { '&' } else { '?' };
        format!("{}{separator}{}", self.path, encoder.finish())
    }

    /// The response to the request (after its redirects, when they are followed), and what
    /// resolves once its after-response work has run.
    async fn exchange(
        self,
    ) -> (
        http::response::Parts,
        Body,
        impl Future<Output = ()> + Send + use<>,
    ) {
        // The lifespan starts before the first request, as the server's does.
        if let Err(err) = self.client.service.startup().await {
            panic!("{err}");
        }
        let follow = self
            .follow_redirects
            .unwrap_or(self.client.follow_redirects);
        let client = self.client.clone();
        let mut method = self.method.clone();
        let mut target = self.target();
        let mut headers = self.headers;
        let mut body = self.body;
        for _ in 0..=MAX_REDIRECTS {
            let replay = match &body {
                Payload::Empty => Some(Payload::Empty),
                Payload::Bytes(bytes) => Some(Payload::Bytes(bytes.clone())),
                Payload::Stream(_) => None,
            };
            let request = build(
                &client,
                &method,
                &target,
                &headers,
                std::mem::replace(&mut body, Payload::Empty),
            );
            // Starlette's test client comes from port 50000 too.
            let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 50000));
            let (response, after) = client.service.call_watched(request, Some(peer));
            let response = response.await;
            let (parts, response_body) = response.into_parts();
            client.keep_cookies(&parts.headers);
            let location = parts
                .headers
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            let next = match (follow, parts.status, location, replay) {
                (true, status, Some(location), Some(replay)) if status.is_redirection() => {
                    Some((status, location, replay))
                }
                _ => None,
            };
            let Some((status, location, replay)) = next else {
                return (parts, response_body, after);
            };
            let becomes_get = status == StatusCode::SEE_OTHER
                || ((status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::FOUND)
                    && method == Method::POST);
            if becomes_get {
                if method != Method::HEAD {
                    method = Method::GET;
                }
                headers.remove(CONTENT_TYPE);
                body = Payload::Empty;
            } else {
                body = replay;
            }
            target = relative_target(&location);
        }
        panic!("more than {MAX_REDIRECTS} redirects");
    }
}

/// The path and query of a `Location`, absolute or not.
pub(super) fn relative_target(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(slash) => rest[slash..].to_owned(),
            None => "/".to_owned(),
        },
        None => location.to_owned(),
    }
}

/// `target` as Starlette's client (httpx) resolves it against its base URL,
/// `http://testserver/`: a path without its leading `/` (`items/`, `?q=1`) is from the root.
/// An absolute URL, and `*` (`OPTIONS *`), are left as they are.
fn from_root(target: &str) -> Cow<'_, str> {
    let absolute = target.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if absolute || target.starts_with('/') || target == "*" {
        Cow::Borrowed(target)
    } else {
        Cow::Owned(format!("/{target}"))
    }
}

pub(super) fn build(
    client: &TestClient,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: Payload,
) -> crate::Request {
    let target = from_root(target);
    let path = target.split('?').next().unwrap_or("/");
    let mut request = crate::Request::new(Body::empty());
    *request.method_mut() = method.clone();
    *request.uri_mut() = target
        .parse()
        .unwrap_or_else(|err| panic!("invalid request target `{target}`: {err}"));
    *request.version_mut() = Version::HTTP_11;
    let request_headers = request.headers_mut();
    request_headers.insert(HOST, HeaderValue::from_static("testserver"));
    request_headers.extend(headers.clone());
    if let Some(cookies) = client.cookie_header(path) {
        request_headers.append(COOKIE, cookies);
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = &client.tls {
        request.extensions_mut().insert(tls.clone());
    }
    *request.body_mut() = match body {
        Payload::Empty => Body::empty(),
        Payload::Bytes(bytes) => {
            request
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Body::from_bytes(bytes)
        }
        Payload::Stream(body) => {
            request.headers_mut().insert(
                http::header::TRANSFER_ENCODING,
                HeaderValue::from_static("chunked"),
            );
            body
        }
    };
    request
}

impl IntoFuture for TestRequest {
    type Output = TestResponse;
    type IntoFuture = Pin<Box<dyn Future<Output = TestResponse> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
