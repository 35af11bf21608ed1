//! What `#[portico::handler]` and `#[portico::provider]` check, one parameter and one return
//! type at a time, so that the compiler names the one at fault (a route's or a provider's
//! trait bound can only say that the whole function does not fit). Each function here is only
//! named in code that is type-checked and never run.

use std::future::Future;

use crate::extract::{FromRequest, FromRequestParts};
use crate::response::IntoResponse;

/// A parameter before a handler's last one, or any parameter of a provider.
pub fn head_parameter<T: FromRequestParts>() {}

/// A handler's last parameter, which may read the body.
pub fn last_parameter<T: FromRequest<M>, M>() {}

/// What a handler returns.
pub fn response<R: IntoResponse>(reply: R) -> R {
    reply
}

/// The future of an `async fn` handler or provider, which the server may move between
/// threads.
pub fn send<F: Future + Send>(future: F) -> F {
    future
}

/// What a provider returns.
pub fn provided<R: ProviderResult>(result: R) -> R {
    result
}

/// The result of a provider: `Result<T, E>`, where `E` answers the request when it fails.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not what a provider returns",
    label = "a provider returns `Result<T, E>`",
    note = "a provider returns `Result<T, E>` with `T: Send + Sync + 'static` and an error that is a response (`HttpError`, or yours with `impl IntoResponse`); a value that cannot fail is returned as `Ok::<_, HttpError>(value)`"
)]
pub trait ProviderResult {}

impl<T: Send + Sync + 'static, E: IntoResponse> ProviderResult for Result<T, E> {}
