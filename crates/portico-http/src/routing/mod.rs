//! Routing: which route answers a request. The route table (a radix tree over FastAPI-style
//! templates, one endpoint per method, 405 with `Allow`, the other-slash redirect), the
//! templates themselves, and the application's named routes for `url_for`.
//!
//! The table is generic over what it leads to; the application's service keeps its
//! endpoints in it (see `service`). Services mounted at a prefix are tried when no route
//! matches.

mod mount;
mod prefix;
mod table;
mod template;
mod urls;

pub use mount::IntoMount;
pub(crate) use mount::{Mount, MountApp, MountService, Mounted};
pub(crate) use prefix::{MountPrefix, RootPath, mounted_under, redirect_url, root_path_of};
#[cfg(feature = "websocket")]
pub(crate) use table::is_websocket_handshake;
pub(crate) use table::{Entry, Match, Params, Table, build};
pub(crate) use template::parse as parse_template;
pub(crate) use template::parse_callback;
#[cfg(feature = "templates")]
pub(crate) use urls::UrlError;
pub(crate) use urls::UrlMap;
