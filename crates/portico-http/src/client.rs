//! The test client: requests answered by the application in-process, with no socket, through
//! the same [`AppService`] the server runs.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use http::header::{
    CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, HeaderName, HeaderValue, LOCATION, SET_COOKIE,
};
use http::{HeaderMap, Method, StatusCode, Version};
use http_body_util::BodyExt;
use portico_tasks::BlockingPortal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::body::{Body, ResponseBody};
use crate::service::AppService;

/// The most redirects one request follows.
const MAX_REDIRECTS: usize = 20;

/// Sends requests to an application in-process (Starlette's `TestClient`), through the same
/// code path as the server, with no socket. Cookies set by responses are kept and sent back;
/// redirects are followed when asked ([`follow_redirects`](Self::follow_redirects)).
///
/// This is the async client, for `#[portico::test]` functions; [`BlockingTestClient`] serves
/// plain `#[test]` functions. Clones share the cookie jar.
///
/// # Examples
///
/// ```
/// use portico_http::{App, TestClient};
///
/// async fn hello() -> &'static str {
///     "Hello, World!"
/// }
///
/// # async fn example() {
/// let client = TestClient::new(App::new().get("/", hello));
/// let response = client.get("/").await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.text(), "Hello, World!");
/// # }
/// ```
#[derive(Clone)]
pub struct TestClient {
    service: AppService,
    jar: Arc<Mutex<Vec<StoredCookie>>>,
    follow_redirects: bool,
    headers: HeaderMap,
}

#[derive(Debug, Clone)]
struct StoredCookie {
    name: String,
    value: String,
    path: String,
}

impl fmt::Debug for TestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient")
            .field("cookies", &self.cookies())
            .field("follow_redirects", &self.follow_redirects)
            .finish_non_exhaustive()
    }
}

macro_rules! request_shortcuts {
    ($ret:ident: $($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self, path: impl AsRef<str>) -> $ret {
                self.request(Method::$method, path)
            }
        )*
    };
}

impl TestClient {
    /// A client for `app`.
    ///
    /// # Panics
    ///
    /// If the application has mistakes (see [`App::try_into_service`]).
    #[track_caller]
    pub fn new(app: App) -> Self {
        Self::from_service(app.into_service())
    }

    /// A client for an application already built.
    pub fn from_service(service: AppService) -> Self {
        TestClient {
            service,
            jar: Arc::default(),
            follow_redirects: false,
            headers: HeaderMap::new(),
        }
    }

    /// Whether redirects are followed (off by default; Starlette's client follows them by
    /// default). At most 20 are followed; `303`, and `301`/`302` after a `POST`, turn the
    /// request into a `GET` without a body, as browsers do.
    pub fn follow_redirects(mut self, on: bool) -> Self {
        self.follow_redirects = on;
        self
    }

    /// A header sent with every request.
    ///
    /// # Panics
    ///
    /// If the name or value is not valid HTTP.
    #[track_caller]
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        let (name, value) = header_pair(name, value);
        self.headers.append(name, value);
        self
    }

    /// The cookies kept, as `(name, value)`.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.jar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect()
    }

    /// The value of the cookie `name`, if one is kept.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.clone())
    }

    /// Keeps a cookie, sent with every request from now on.
    pub fn set_cookie(&self, name: &str, value: &str) {
        store(&self.jar, name, value, "/");
    }

    /// The application this client calls.
    pub fn service(&self) -> &AppService {
        &self.service
    }

    /// Runs the application's lifespan up to its `serve`; the first request does it otherwise
    /// (and panics if it fails). Call it to see a startup error.
    ///
    /// # Errors
    ///
    /// As [`AppService::startup`].
    pub async fn startup(&self) -> Result<(), crate::StartupError> {
        self.service.startup().await
    }

    /// Ends the application's lifespan (its `serve` returns, background services are
    /// cancelled) and waits for its teardown. A client dropped without it leaves the lifespan
    /// waiting until the runtime shuts down.
    pub async fn shutdown(&self) {
        self.service.shutdown().await;
    }

    /// A request with any method; `path` may carry a query string.
    pub fn request(&self, method: Method, path: impl AsRef<str>) -> TestRequest {
        TestRequest {
            client: self.clone(),
            method,
            path: path.as_ref().to_owned(),
            query: Vec::new(),
            headers: self.headers.clone(),
            body: Payload::Empty,
            follow_redirects: None,
        }
    }

    request_shortcuts! { TestRequest:
        /// A `GET` request.
        get => GET;
        /// A `POST` request.
        post => POST;
        /// A `PUT` request.
        put => PUT;
        /// A `DELETE` request.
        delete => DELETE;
        /// A `PATCH` request.
        patch => PATCH;
        /// A `HEAD` request.
        head => HEAD;
        /// An `OPTIONS` request.
        options => OPTIONS;
    }

    fn cookie_header(&self, path: &str) -> Option<HeaderValue> {
        let jar = self.jar.lock().unwrap_or_else(PoisonError::into_inner);
        let pairs: Vec<String> = jar
            .iter()
            .filter(|c| path.starts_with(&c.path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        if pairs.is_empty() {
            None
        } else {
            HeaderValue::from_str(&pairs.join("; ")).ok()
        }
    }

    fn keep_cookies(&self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let Ok(cookie) = cookie::Cookie::parse_encoded(text) else {
                continue;
            };
            let expired = cookie
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative())
                || cookie
                    .expires_datetime()
                    .is_some_and(|at| at.unix_timestamp() <= unix_now());
            let mut jar = self.jar.lock().unwrap_or_else(PoisonError::into_inner);
            if expired {
                jar.retain(|c| c.name != cookie.name());
            } else {
                drop(jar);
                store(
                    &self.jar,
                    cookie.name(),
                    cookie.value(),
                    cookie.path().unwrap_or("/"),
                );
            }
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn store(jar: &Mutex<Vec<StoredCookie>>, name: &str, value: &str, path: &str) {
    let mut jar = jar.lock().unwrap_or_else(PoisonError::into_inner);
    jar.retain(|c| !(c.name == name && c.path == path));
    jar.push(StoredCookie {
        name: name.to_owned(),
        value: value.to_owned(),
        path: path.to_owned(),
    });
}

#[track_caller]
fn header_pair(name: &str, value: &str) -> (HeaderName, HeaderValue) {
    let name = HeaderName::try_from(name)
        .unwrap_or_else(|err| panic!("invalid header name `{name}`: {err}"));
    let value = HeaderValue::try_from(value)
        .unwrap_or_else(|err| panic!("invalid value for header `{name}`: {err}"));
    (name, value)
}

enum Payload {
    Empty,
    Bytes(Bytes),
    Stream(Body),
}

/// A request being built by a [`TestClient`]; `.await` it (or call [`send`](Self::send)) to
/// get the response.
pub struct TestRequest {
    client: TestClient,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Payload,
    follow_redirects: Option<bool>,
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
        let (head, body) = self.exchange().await;
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) => panic!("the response body failed while it was read: {err}"),
        };
        // As Starlette's client does, return once the request's background tasks have run
        // (the body, now dropped, started them).
        if let Some(after) = head.extensions.get::<crate::background::AfterHandle>() {
            after.0.wait().await;
        }
        TestResponse {
            status: head.status,
            version: head.version,
            headers: head.headers,
            body: bytes,
        }
    }

    /// Sends the request and returns the response as soon as its head is ready, to read a
    /// streamed body (server-sent events, say) chunk by chunk.
    ///
    /// # Panics
    ///
    /// As [`send`](Self::send).
    pub async fn send_streaming(self) -> StreamingResponse {
        let (head, body) = self.exchange().await;
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

    async fn exchange(self) -> (http::response::Parts, ResponseBody) {
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
            let response = client.service.call(request).await;
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
                return (parts, response_body);
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
fn relative_target(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(slash) => rest[slash..].to_owned(),
            None => "/".to_owned(),
        },
        None => location.to_owned(),
    }
}

fn build(
    client: &TestClient,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: Payload,
) -> crate::Request {
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

/// A response read by a test client.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name`, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON into `T` (`serde_json::Value` for any JSON).
    ///
    /// # Panics
    ///
    /// If the body is not JSON of that shape; the message shows the body.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        match serde_json::from_slice(&self.body) {
            Ok(value) => value,
            Err(err) => panic!(
                "the response body is not the JSON expected ({err}): {}",
                self.text()
            ),
        }
    }
}

/// A response whose body is read as it comes, from [`TestRequest::send_streaming`].
pub struct StreamingResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: ResponseBody,
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl StreamingResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name`, as text.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next chunk of the body, or `None` at its end.
    ///
    /// # Panics
    ///
    /// If the body fails.
    pub async fn chunk(&mut self) -> Option<Bytes> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(data);
                    }
                }
                Err(err) => panic!("the response body failed while it was read: {err}"),
            }
        }
    }

    /// The rest of the body.
    ///
    /// # Panics
    ///
    /// If the body fails.
    pub async fn rest(mut self) -> Bytes {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            all.extend_from_slice(&chunk);
        }
        all.freeze()
    }
}

/// One part of a [`MultipartForm`]: a name, a file name and content type for a file, the
/// content.
#[derive(Debug, Clone)]
struct FormPart {
    name: String,
    file: Option<(String, String)>,
    content: Bytes,
}

/// A multipart form for a test request: text fields and files.
///
/// ```
/// use portico_http::MultipartForm;
///
/// let form = MultipartForm::new().text("user", "ada").file("avatar", "ada.png", "image/png", vec![0u8; 16]);
/// # drop(form);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MultipartForm {
    parts: Vec<FormPart>,
}

impl MultipartForm {
    /// An empty form.
    pub fn new() -> Self {
        MultipartForm::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.parts.push(FormPart {
            name: name.to_owned(),
            file: None,
            content: Bytes::copy_from_slice(value.as_bytes()),
        });
        self
    }

    /// Adds a file.
    pub fn file(
        mut self,
        name: &str,
        file_name: &str,
        content_type: &str,
        content: impl Into<Bytes>,
    ) -> Self {
        self.parts.push(FormPart {
            name: name.to_owned(),
            file: Some((file_name.to_owned(), content_type.to_owned())),
            content: content.into(),
        });
        self
    }

    /// The content type (with its boundary) and the encoded body.
    pub fn encode(self) -> (String, Bytes) {
        let boundary = "portico-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = BytesMut::new();
        for FormPart {
            name,
            file,
            content,
        } in self.parts
        {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some((file_name, content_type)) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(&content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (
            format!("multipart/form-data; boundary={boundary}"),
            body.freeze(),
        )
    }
}

/// The test client for plain `#[test]` functions: each call blocks until the response is
/// read. The application runs on the runtime behind a [`BlockingPortal`], as Starlette's
/// `TestClient` runs the app on AnyIO's.
///
/// Build one with `portico::blocking_test_client` (which starts a runtime) or from a portal
/// of your own with [`with_portal`](Self::with_portal).
#[derive(Clone)]
pub struct BlockingTestClient {
    client: TestClient,
    portal: Arc<BlockingPortal>,
}

impl fmt::Debug for BlockingTestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingTestClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl BlockingTestClient {
    /// A client for `app`, running it through `portal`.
    ///
    /// # Panics
    ///
    /// If the application has mistakes (see [`App::try_into_service`]).
    #[track_caller]
    pub fn with_portal(app: App, portal: BlockingPortal) -> Self {
        BlockingTestClient {
            client: TestClient::new(app),
            portal: Arc::new(portal),
        }
    }

    /// The async client underneath (sharing the cookie jar).
    pub fn async_client(&self) -> &TestClient {
        &self.client
    }

    /// The application under test (to override a dependency, say).
    pub fn service(&self) -> &AppService {
        self.client.service()
    }

    /// Runs the application's lifespan up to its `serve` (see [`TestClient::startup`]).
    ///
    /// # Errors
    ///
    /// As [`AppService::startup`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn startup(&self) -> Result<(), crate::StartupError> {
        let service = self.client.service().clone();
        self.portal
            .call(async move { service.startup().await })
            .unwrap_or_else(|err| panic!("the test client's runtime is gone: {err}"))
    }

    /// Ends the application's lifespan and waits for its teardown (see
    /// [`TestClient::shutdown`]).
    ///
    /// # Panics
    ///
    /// As [`startup`](Self::startup).
    pub fn shutdown(&self) {
        let service = self.client.service().clone();
        self.portal
            .call(async move { service.shutdown().await })
            .unwrap_or_else(|err| panic!("the test client's runtime is gone: {err}"));
    }

    /// The portal the requests go through.
    pub fn portal(&self) -> &BlockingPortal {
        &self.portal
    }

    /// Whether redirects are followed (see [`TestClient::follow_redirects`]).
    pub fn follow_redirects(mut self, on: bool) -> Self {
        self.client = self.client.follow_redirects(on);
        self
    }

    /// The value of the cookie `name`, if one is kept.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.client.cookie(name)
    }

    /// Keeps a cookie, sent with every request from now on.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.client.set_cookie(name, value);
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: impl AsRef<str>) -> BlockingTestRequest {
        BlockingTestRequest {
            inner: self.client.request(method, path),
            portal: self.portal.clone(),
        }
    }

    request_shortcuts! { BlockingTestRequest:
        /// A `GET` request.
        get => GET;
        /// A `POST` request.
        post => POST;
        /// A `PUT` request.
        put => PUT;
        /// A `DELETE` request.
        delete => DELETE;
        /// A `PATCH` request.
        patch => PATCH;
        /// A `HEAD` request.
        head => HEAD;
        /// An `OPTIONS` request.
        options => OPTIONS;
    }
}

/// A request being built by a [`BlockingTestClient`]; [`send`](Self::send) it.
#[derive(Debug)]
pub struct BlockingTestRequest {
    inner: TestRequest,
    portal: Arc<BlockingPortal>,
}

impl BlockingTestRequest {
    request_builders!(inner);

    /// Sends the request and blocks until the whole response is read.
    ///
    /// # Panics
    ///
    /// As [`TestRequest::send`]; also if the portal has stopped, or if called from async code.
    pub fn send(self) -> TestResponse {
        match self.portal.call(self.inner.send()) {
            Ok(response) => response,
            Err(err) => panic!("the test client's runtime is gone: {err}"),
        }
    }
}
