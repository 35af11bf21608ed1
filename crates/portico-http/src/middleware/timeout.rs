//! [`Timeout`]: a time limit per request.

use std::future::Future;
use std::time::Duration;

use super::{Middleware, Next};
use crate::error::HttpError;
use crate::response::IntoResponse;
use crate::{Request, Response};

/// Gives up on a request that takes longer than a time limit: the handler is cancelled (its
/// future dropped, inside a cancel scope of `portico-tasks`, so its dependencies' cleanups
/// still run) and the client gets 504 `{"detail": "Gateway Timeout"}`.
///
/// A plain `fn` handler already running on the thread pool cannot be interrupted: the client
/// gets its 504 at the deadline and the function runs to its end, its result unused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use portico_http::App;
/// use portico_http::middleware::Timeout;
///
/// async fn slow() -> &'static str {
///     std::future::pending::<()>().await;
///     "never"
/// }
///
/// let app = App::new()
///     .get("/slow", slow)
///     .add_middleware(Timeout::new(Duration::from_millis(50)));
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/slow").send().status(), 504);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timeout {
    limit: Duration,
}

impl Timeout {
    /// A limit of `limit` per request, from when the middleware sees it to when the response
    /// head is ready (a streamed body may go on after).
    pub fn new(limit: Duration) -> Self {
        Timeout { limit }
    }
}

impl Middleware for Timeout {
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let fut = portico_tasks::move_on_after(self.limit, next.run(request));
        let limit = self.limit;
        async move {
            match fut.await {
                Some(response) => response,
                None => {
                    tracing::warn!(?limit, "request timed out");
                    HttpError::new(http::StatusCode::GATEWAY_TIMEOUT).into_response()
                }
            }
        }
    }
}
