//! Dependencies, as FastAPI has them: a value a path operation asks for by type
//! ([`Depends<T>`]), produced once per request by a function registered with
//! [`App::provide`](crate::App::provide), which asks for its own parameters and dependencies in
//! turn.
//!
//! * **Providers** are `async fn`s (run on the event loop) or plain `fn`s (run on the thread
//!   pool under the shared capacity limiter, like plain `fn` handlers). Their parameters are any
//!   head-only extractors (`Header`, `Query`, `Cookie`, `State`, ...) and other dependencies.
//!   They return `Result<T, E>`; an `Err` answers the request with `E`'s response (a 401 from an
//!   auth dependency, say), and invalid parameters join the handler's own in one 422.
//! * **Once per request**: a dependency needed by several others in one request is produced
//!   once and shared ([`Depends<T>`] holds an `Arc<T>`). [`Fresh<T>`] asks for a value of its
//!   own instead (FastAPI's `use_cache=False`). Dependencies that do not need each other are
//!   produced concurrently.
//! * **Checked when the app is built**: a missing provider or a cycle is a build error naming
//!   the route, not a failure at request time.
//! * **Teardown**: [`Provider::cleanup`] runs after the response has been sent and after the
//!   request's background tasks ([`Scope::Request`]), or right after the handler returns
//!   ([`Scope::Function`]); cleanups run in reverse order of setup, see the request's
//!   [`Outcome`], and run when the handler errors or panics or the client goes away. Plain `fn`
//!   cleanups run on threads of their own, never waiting for a token of the shared limiter (the
//!   deadlock of fastapi#3205).
//! * **Limits**: [`Provider::max_concurrency`] caps how many requests hold the value at once;
//!   waiting holds no thread.
//! * **Overrides**: [`AppService::override_dependency`](crate::AppService::override_dependency)
//!   swaps a provider for tests.

mod overrides;
mod plan;
mod provider;
mod resolve;

use std::any::TypeId;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use http::StatusCode;
use http::request::Parts;

use crate::extract::{FromRequestParts, OperationDoc, Rejection, RequestContext};

pub(crate) use overrides::{Overrides, Replan};
pub(crate) use plan::{Plan, Registry, RequestDeps};
pub(crate) use provider::{CleanupEntry, CleanupJob, ProviderNode};
pub use provider::{IntoProvider, Provider, ProviderFn};
pub(crate) use resolve::resolve;

/// A dependency of a path operation or of another dependency: the value of type `T` the
/// provider registered with [`App::provide`](crate::App::provide) produced for this request,
/// shared by everything in the request that asks for it.
///
/// # Examples
///
/// ```
/// use portico_http::{App, Depends, Header, HttpError};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Auth {
///     x_token: Option<String>,
/// }
///
/// struct User {
///     name: String,
/// }
///
/// /// Produces the user from the `x-token` header; answers 401 without one.
/// async fn current_user(Header(auth): Header<Auth>) -> Result<User, HttpError> {
///     match auth.x_token {
///         Some(token) => Ok(User { name: token }),
///         None => Err(HttpError::unauthorized().detail("Not authenticated")),
///     }
/// }
///
/// async fn me(Depends(user): Depends<User>) -> String {
///     format!("hello {}", user.name)
/// }
///
/// let app = App::new().provide(current_user).get("/me", me);
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/me").header("x-token", "ada").send().text(), "hello ada");
/// assert_eq!(client.get("/me").send().status(), 401);
/// ```
pub struct Depends<T>(pub Arc<T>);

/// A dependency produced anew for this parameter instead of taken from the request's cache:
/// FastAPI's `Depends(..., use_cache=False)`. Its own dependencies still come from the cache.
pub struct Fresh<T>(pub Arc<T>);

macro_rules! wrapper_impls {
    ($name:ident) => {
        impl<T> Deref for $name<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }

        impl<T: fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
    };
}

wrapper_impls!(Depends);
wrapper_impls!(Fresh);

/// When a dependency's cleanup runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// After the response has been sent and after the request's background tasks (the
    /// default, FastAPI's `scope="request"`): a streaming response keeps the value open until
    /// its last chunk.
    #[default]
    Request,
    /// Right after the handler returns, before the response is sent (FastAPI's
    /// `scope="function"`). A request-scoped dependency may not depend on a function-scoped
    /// one.
    Function,
}

/// How the request went, as a cleanup sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler answered, whatever status it chose.
    Success,
    /// The handler or a dependency answered with an error (`Err`, an invalid input, an
    /// `HttpError`); the status is the error's.
    Error(StatusCode),
    /// The handler or a dependency panicked (the client got a 500).
    Panicked,
    /// The client went away before the whole response was sent.
    Disconnected,
}

impl Outcome {
    /// Whether the request succeeded (commit rather than roll back).
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// What a parameter asks of the dependency graph, recorded when it describes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Need {
    pub(crate) type_id: TypeId,
    pub(crate) name: &'static str,
    /// Produced anew ([`Fresh`]) rather than taken from the cache.
    pub(crate) fresh: bool,
}

impl Need {
    pub(crate) fn of<T: 'static>(fresh: bool) -> Self {
        Need {
            type_id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
            fresh,
        }
    }
}

/// The request's dependency state, or the 500 of an application built wrong.
fn request_deps(ctx: &RequestContext) -> Result<&RequestDeps, Box<Rejection>> {
    ctx.deps.as_deref().ok_or_else(|| {
        tracing::error!("a dependency was asked for by a route without a dependency plan");
        Box::new(Rejection::Response(crate::error::internal_error()))
    })
}

impl<T: Send + Sync + 'static> FromRequestParts for Depends<T> {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let deps = request_deps(ctx).map_err(|rejection| *rejection)?;
        match deps.cached::<T>() {
            Some(value) => Ok(Depends(value)),
            // It failed: its errors are in the request's list already.
            None => Err(Rejection::Invalid(Vec::new())),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        doc.needs.push(Need::of::<T>(false));
    }
}

impl<T: Send + Sync + 'static> FromRequestParts for Fresh<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let deps = request_deps(ctx).map_err(|rejection| *rejection)?;
        let value = deps.produce_fresh(TypeId::of::<T>(), parts, ctx).await?;
        match value.downcast::<T>() {
            Ok(value) => Ok(Fresh(value)),
            Err(_) => Err(Rejection::Response(crate::error::internal_error())),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        doc.needs.push(Need::of::<T>(true));
    }
}
