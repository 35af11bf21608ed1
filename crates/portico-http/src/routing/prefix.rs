//! The prefixes a request's path was found under, kept on the request for the middleware and
//! mounted services that build URLs from it: the application's root path and a mount's
//! prefix. (Data, as axum's `OriginalUri`: nothing here steers the request.)

use std::sync::Arc;

use crate::Request;

/// The configured root path of the application, on its requests when it has one.
#[derive(Debug, Clone)]
pub(crate) struct RootPath(pub(crate) Arc<str>);

/// The root path the request's application is served under (empty if none).
pub(crate) fn root_path_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<RootPath>()
        .map_or("", |root| &root.0)
}

/// The prefix a mounted service was reached under, on the requests it is handed.
#[derive(Debug, Clone)]
pub(crate) struct MountPrefix(pub(crate) String);

/// The prefix the request's mount was reached under, with the root path before it (empty if
/// none).
pub(crate) fn mount_prefix_of(request: &Request) -> String {
    let mount = request
        .extensions()
        .get::<MountPrefix>()
        .map_or("", |prefix| prefix.0.as_str());
    format!("{}{mount}", root_path_of(request))
}
