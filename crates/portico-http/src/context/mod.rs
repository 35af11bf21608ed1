//! What a request runs with besides itself ([`RequestContext`]): the application it belongs to
//! (`shared`: state, settings, exception handlers), the route that matched (`spec`: what it
//! needs, worked out when the application was built), its path parameters, its dependencies
//! and its teardown.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use http::HeaderValue;
use schemars::JsonSchema;

use crate::routing::Params;
use crate::teardown::{Teardown, Watch};
use crate::validate::Shapes;

mod shared;
mod spec;

pub(crate) use shared::{AppShared, StateMap};
pub use shared::{ContentTypeCheck, DEFAULT_BODY_LIMIT, DEFAULT_CLEANUP_THREADS, FormLimits};
pub(crate) use spec::Need;
pub use spec::RouteSpec;

/// What Portico carries beside a request, out of its extensions (whose map costs allocations
/// on the first entry): the client's address and the request id. Middleware that reads the
/// request's extensions (function middleware, tower layers, mounted services, and types that
/// set [`Middleware::READS_EXTENSIONS`](crate::middleware::Middleware::READS_EXTENSIONS)) gets
/// them moved there first; extractors look in both.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locals {
    /// The connection's peer, for [`ClientAddr`](crate::proxy::ClientAddr).
    pub(crate) peer: Option<SocketAddr>,
    /// The id [`SetRequestId`](crate::middleware::SetRequestId) gave the request.
    pub(crate) request_id: Option<HeaderValue>,
    /// Where the caller waits for the request's after-response work, if it does.
    pub(crate) watch: Option<Watch>,
}

/// What one request carries besides itself: the matched route, its path parameters, its
/// dependencies and teardown, and the application's state and settings.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) app: Arc<AppShared>,
    pub(crate) route: Arc<RouteSpec>,
    /// Byte ranges of the path parameters in the request path, in the route's order.
    pub(crate) params: Params,
    /// Where the request's background tasks and cleanups go, for routes that have them.
    pub(crate) teardown: Option<Arc<Teardown>>,
    /// The request's dependencies, for routes that have some.
    pub(crate) deps: Option<Arc<crate::depends::RequestDeps>>,
    /// What travels beside the request: the connection's peer, the request id.
    pub(crate) locals: Locals,
}

impl RequestContext {
    /// The route template that matched, e.g. `/items/{item_id}`.
    pub fn route(&self) -> &str {
        &self.route.template
    }

    /// The body size limit for this route, in bytes.
    pub fn body_limit(&self) -> usize {
        self.route.body_limit.unwrap_or(self.app.config.body_limit)
    }

    /// What this route's body parameters do with a body of a type they do not read.
    pub fn content_type_check(&self) -> ContentTypeCheck {
        self.route.content_type_check.unwrap_or_default()
    }

    /// The raw (still percent-encoded) path parameters, as `(name, value)`.
    pub(crate) fn raw_params<'p>(
        &'p self,
        path: &'p str,
    ) -> impl Iterator<Item = (&'p str, &'p str)> {
        self.route
            .path_params
            .iter()
            .zip(self.params.iter())
            .map(move |(name, range)| (name.as_str(), path.get(range).unwrap_or_default()))
    }

    /// The validation shapes of `T`, compiled when the route (or the provider reading it) was
    /// built. A parameter whose shapes nobody declared (a custom parameter that reads a
    /// `Query<T>` without passing `spec` on) gets them compiled now, for this request only.
    pub(crate) fn shapes<T: JsonSchema + 'static>(&self) -> Cow<'_, Shapes> {
        if let Some(shapes) = self.route.shapes::<T>() {
            return Cow::Borrowed(shapes);
        }
        let providers = self.deps.iter().flat_map(|deps| &deps.plan.nodes);
        if let Some(shapes) = providers
            .into_iter()
            .find_map(|node| node.provider.spec.shapes::<T>())
        {
            return Cow::Borrowed(shapes);
        }
        tracing::debug!(
            r#type = std::any::type_name::<T>(),
            route = %self.route.template,
            "validation shapes compiled for one request: the parameter's `spec` was not called when the route was built"
        );
        Cow::Owned(Shapes::compile_or_accept_all::<T>())
    }
}
