//! [`BlockingTestClient`]: the test client for plain `#[test]` functions, through a blocking
//! portal.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use http::header::{COOKIE, HeaderValue};
use portico_tasks::BlockingPortal;
use serde::Serialize;

use super::request::Payload;
use super::{MultipartForm, TestClient, TestRequest, TestResponse, header_pair};
use crate::App;
use crate::Body;
use crate::service::AppService;

/// The test client for plain `#[test]` functions: each call blocks until the response is
/// read. The application runs on the runtime behind a [`BlockingPortal`], as Starlette's
/// `TestClient` runs the app on AnyIO's.
///
/// Build one with `portico::blocking_test_client` (which starts a runtime) or from a portal
/// of your own with [`with_portal`](Self::with_portal).
#[derive(Clone)]
pub struct BlockingTestClient {
    pub(super) client: TestClient,
    pub(super) portal: Arc<BlockingPortal>,
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

    /// Sends every request as if over TLS (see [`TestClient::tls`]).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsInfo) -> Self {
        self.client = self.client.tls(tls);
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
    pub(super) inner: TestRequest,
    pub(super) portal: Arc<BlockingPortal>,
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
