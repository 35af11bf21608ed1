//! The test client: requests answered by the application in-process, with no socket, through
//! the same [`AppService`] the server runs.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use http::header::{HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Method};

use crate::App;
use crate::service::AppService;

use request::Payload;

/// The most redirects one request follows.
pub(super) const MAX_REDIRECTS: usize = 20;

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
    pub(super) service: AppService,
    pub(super) jar: Arc<Mutex<Vec<StoredCookie>>>,
    pub(super) follow_redirects: bool,
    pub(super) headers: HeaderMap,
    /// The TLS every request shows, as if sent over it.
    #[cfg(feature = "tls")]
    pub(super) tls: Option<crate::tls::TlsInfo>,
}

#[derive(Debug, Clone)]
pub(super) struct StoredCookie {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) path: String,
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
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Sends every request as if over a TLS connection whose handshake settled `tls`: handlers
    /// and dependencies see it as [`TlsInfo`](crate::tls::TlsInfo), and a route that needs a
    /// client certificate ([`MutualTls`](crate::tls::MutualTls)) admits the client if `tls`
    /// has one. Nothing is encrypted: the requests still go straight to the application.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico::testing::TestClient;
    /// use portico_http::App;
    /// use portico_http::tls::{MutualTls, TlsInfo};
    /// use rustls::pki_types::CertificateDer;
    ///
    /// async fn admin(client: MutualTls) -> String {
    ///     format!("welcome, {} bytes of certificate", client.certificate().len())
    /// }
    ///
    /// # async fn example() {
    /// let app = || App::new().get("/admin", admin);
    /// let anonymous = TestClient::new(app()).tls(TlsInfo::simulated());
    /// assert_eq!(anonymous.get("/admin").await.status(), 403);
    ///
    /// let certificate = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
    /// let admitted = TestClient::new(app())
    ///     .tls(TlsInfo::simulated().with_peer_certificates(vec![certificate]));
    /// assert_eq!(admitted.get("/admin").await.text(), "welcome, 5 bytes of certificate");
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsInfo) -> Self {
        self.tls = Some(tls);
        self
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

    /// A request with any method; `path` may carry a query string. As in Starlette's client,
    /// a path without its leading `/` is from the root (`items/` is `/items/`).
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

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(super) fn store(jar: &Mutex<Vec<StoredCookie>>, name: &str, value: &str, path: &str) {
    let mut jar = jar.lock().unwrap_or_else(PoisonError::into_inner);
    jar.retain(|c| !(c.name == name && c.path == path));
    jar.push(StoredCookie {
        name: name.to_owned(),
        value: value.to_owned(),
        path: path.to_owned(),
    });
}

#[track_caller]
pub(super) fn header_pair(name: &str, value: &str) -> (HeaderName, HeaderValue) {
    let name = HeaderName::try_from(name)
        .unwrap_or_else(|err| panic!("invalid header name `{name}`: {err}"));
    let value = HeaderValue::try_from(value)
        .unwrap_or_else(|err| panic!("invalid value for header `{name}`: {err}"));
    (name, value)
}

#[macro_use]
mod request;
mod blocking;
mod multipart;
mod response;
#[cfg(feature = "websocket")]
#[macro_use]
mod websocket;
#[cfg(feature = "websocket")]
mod websocket_blocking;

pub use blocking::{BlockingTestClient, BlockingTestRequest};
pub use multipart::MultipartForm;
pub use request::TestRequest;
pub use response::{StreamingResponse, TestResponse};
#[cfg(feature = "websocket")]
pub use websocket::{WebSocketConnectError, WebSocketTestRequest, WebSocketTestSession};
#[cfg(feature = "websocket")]
pub use websocket_blocking::{BlockingWebSocketTestRequest, BlockingWebSocketTestSession};
