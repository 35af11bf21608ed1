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

/// The prefix the request's application was reached under when it is mounted in another: the
/// root path, then every mount's prefix (FastAPI's `root_path` in a mounted application).
/// `None` for a request to an application that is not mounted.
pub(crate) fn mounted_under(request: &Request) -> Option<String> {
    request.extensions().get::<MountPrefix>()?;
    Some(mount_prefix_of(request))
}

/// `path_and_query`, a path of the request's application with its query, as the URL Starlette
/// makes of it for a redirect: after the prefix the application was reached under (its root
/// path and mounts), on the scheme and host the request was sent to; the path alone for a
/// request that names no host.
pub(crate) fn redirect_url(request: &Request, path_and_query: &str) -> String {
    let prefix = mount_prefix_of(request);
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| request.uri().authority().map(http::uri::Authority::as_str));
    match host {
        Some(host) => {
            let scheme = request.uri().scheme_str().unwrap_or("http");
            format!("{scheme}://{host}{prefix}{path_and_query}")
        }
        None => format!("{prefix}{path_and_query}"),
    }
}
