//! [`MatchedRoute`]: the route template that answered a request, for the application's
//! middleware, which runs before routing.

use std::fmt;
use std::sync::Arc;

/// The template of the route that answered a request (`/items/{item_id}`), in the response's
/// extensions: how the application's middleware, which runs before the request is routed,
/// learns which route it went to. Metrics and traces label requests with it rather than with
/// the path, whose values are unbounded.
///
/// It is there when a [`Middleware`](super::Middleware) of the application sets
/// [`READS_ROUTE`](super::Middleware::READS_ROUTE), for a request that matched a route (its
/// handler's answer, an error or a panic alike) or matched a path under another method (the
/// 405); not for a 404, a redirect to the other spelling of the path, or a mounted service.
/// (A function middleware does not ask for it: a type that implements `Middleware` does.)
/// Middleware that runs after routing (a router's or a route's) reads the template from
/// [`Next::route`](super::Next::route) instead, before the request goes on.
///
/// # Examples
///
/// ```
/// use portico_http::middleware::{MatchedRoute, Middleware, Next};
/// use portico_http::{App, Path, Request, Response};
///
/// struct RouteHeader;
///
/// impl Middleware for RouteHeader {
///     const READS_ROUTE: bool = true;
///
///     async fn call(&self, request: Request, next: Next) -> Response {
///         let mut response = next.run(request).await;
///         let route = response.extensions().get::<MatchedRoute>().cloned();
///         if let Some(route) = route {
///             response.headers_mut().insert("x-route", route.as_str().parse().unwrap());
///         }
///         response
///     }
/// }
///
/// async fn item(Path(id): Path<u32>) -> String {
///     id.to_string()
/// }
///
/// let app = App::new().get("/items/{id}", item).add_middleware(RouteHeader);
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/items/7").send().header("x-route"), Some("/items/{id}"));
/// assert_eq!(client.get("/nowhere").send().header("x-route"), None);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MatchedRoute(pub(crate) Arc<str>);

impl MatchedRoute {
    /// The template, as the route was declared (with the prefixes of its routers).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The template, shared: cloning it is a reference count.
    pub fn as_arc(&self) -> &Arc<str> {
        &self.0
    }
}

impl fmt::Debug for MatchedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MatchedRoute").field(&&*self.0).finish()
    }
}

impl fmt::Display for MatchedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
