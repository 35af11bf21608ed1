//! Path operations: `async fn`s run on the event loop, plain `fn`s on the thread pool.
//!
//! A function is a handler when each of its parameters can be extracted (the last may read
//! the body) and it returns something that is [`IntoResponse`], or a future of it. Which of the
//! two it is decides where it runs, as FastAPI's `async def` / `def` rule does (see
//! `strategy`): a plain `fn` runs through [`portico_tasks::to_thread_with`] under the
//! application's capacity limiter, so a blocking call inside it never stalls the event loop.
//!
//! Calling a handler is the route's whole answer: its dependencies and parameters are
//! extracted (every invalid input in one 422), the function runs, and its reply is finished
//! into the response that is sent (an `Err` answered by the application's exception handler
//! for its type, deferred work done: see `response::unfinished`).

use std::future::Future;

use portico_openapi::OperationDoc;

use crate::context::RequestContext;
use crate::context::RouteSpec;
use crate::response::Response;

#[doc(hidden)]
pub mod check;
mod doc;
mod impls;
mod trip;

pub use doc::HandlerDoc;
pub(crate) use doc::recorded;
pub use doc::type_id_of;
#[cfg(feature = "websocket")]
pub(crate) use impls::{Kept, settle};

/// A path operation: implemented for every `async fn` and plain `fn` of up to 16 extractable
/// parameters that returns a response.
///
/// `M` is a marker that type inference fills in; it tells async handlers from blocking ones
/// and records the parameter types. Nothing needs to name it.
///
/// # Examples
///
/// ```
/// use portico_http::{App, Json, Path};
///
/// // Runs on the event loop.
/// async fn read(Path(id): Path<u64>) -> Json<u64> {
///     Json(id)
/// }
///
/// // Runs on the thread pool: blocking here is fine.
/// fn slow(Path(id): Path<u64>) -> String {
///     std::thread::sleep(std::time::Duration::from_millis(1));
///     id.to_string()
/// }
///
/// let app = App::new().get("/items/{id}", read).get("/slow/{id}", slow);
/// # drop(app);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a path operation",
    label = "not a handler",
    note = "a handler is an `async fn` or a plain `fn` whose parameters are extractors (`Path`, `Query`, `Json`, ...; a body-reading one last, at most 16) and whose return type implements `IntoResponse`",
    note = "put `#[portico::handler]` on the function to have the compiler name the parameter or return type at fault"
)]
pub trait Handler<M>: Clone + Send + Sync + 'static {
    /// Extracts the parameters from `request` and runs the handler; a parameter that fails
    /// gives the response instead (every invalid input together in one 422).
    fn call(
        &self,
        request: crate::Request,
        ctx: RequestContext,
    ) -> impl Future<Output = Response> + Send + 'static;

    /// Describes the parameters, for the OpenAPI document and the checks made when the route
    /// is added.
    fn describe(doc: &mut OperationDoc);

    /// Records what the parameters need to run, once, when the route is built (see
    /// [`FromRequestParts::spec`](crate::FromRequestParts::spec)). Needs nothing by default.
    fn spec(spec: &mut RouteSpec) {
        let _ = spec;
    }

    /// Whether the handler runs on the thread pool (a plain `fn`).
    fn is_blocking() -> bool;
}
