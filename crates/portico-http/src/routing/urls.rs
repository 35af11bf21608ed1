//! The application's named routes and mounts, for `url_for` and
//! [`AppService::url_path_for`](crate::AppService::url_path_for).

use std::collections::HashMap;

use super::template::{fill, mount_path};

/// The application's named routes and mounts, for `url_for`.
#[derive(Debug, Default)]
pub(crate) struct UrlMap {
    pub(crate) root_path: String,
    /// Route name -> path template.
    pub(crate) routes: HashMap<String, String>,
    /// Mount name -> prefix.
    pub(crate) mounts: HashMap<String, String>,
}

impl UrlMap {
    /// The path of the route named `name` with `values` filled in (percent-encoded), or of the
    /// `path` value under the mount named `name`, after the root path.
    ///
    /// # Errors
    ///
    /// [`UrlError::Unknown`] when nothing has that name, [`UrlError::Missing`] naming a
    /// parameter without a value.
    pub(crate) fn path_for(
        &self,
        name: &str,
        values: &HashMap<String, String>,
    ) -> Result<String, UrlError> {
        let path = if let Some(prefix) = self.mounts.get(name) {
            let rest = values.get("path").map_or("", String::as_str);
            format!("{prefix}{}", mount_path(rest))
        } else if let Some(template) = self.routes.get(name) {
            fill(template, values).map_err(UrlError::Missing)?
        } else {
            return Err(UrlError::Unknown);
        };
        Ok(format!("{}{path}", self.root_path))
    }
}

/// Why a URL could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// No route or mount has the name.
    Unknown,
    /// The route needs this parameter.
    Missing(String),
}
