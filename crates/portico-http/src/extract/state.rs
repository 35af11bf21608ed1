//! [`State`]: values shared by the whole application.

use http::request::Parts;

use super::{FromRequestParts, Rejection, RequestContext};
use crate::context::RouteSpec;

/// A value the application shares with every request, registered with `App::state` (a
/// connection pool, a configuration). `T` is cloned per request: share big things through an
/// `Arc` inside.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use portico_http::{App, State};
///
/// #[derive(Clone)]
/// struct Config {
///     greeting: Arc<str>,
/// }
///
/// async fn hello(State(config): State<Config>) -> String {
///     config.greeting.to_string()
/// }
///
/// let app = App::new().state(Config { greeting: "hi".into() }).get("/", hello);
/// # drop(app);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromRequestParts for State<T> {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match ctx.app.state::<T>() {
            Some(value) => Ok(State(value.clone())),
            // Checked when the application starts, so this is a bug in how it was built.
            None => {
                tracing::error!(
                    "no state of type {} was registered",
                    std::any::type_name::<T>()
                );
                Err(Rejection::Response(crate::response::internal_error()))
            }
        }
    }

    fn spec(spec: &mut RouteSpec) {
        spec.state::<T>();
    }
}
