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
//!   request's background tasks ([`CleanupScope::Request`]), or right after the handler returns
//!   ([`CleanupScope::Function`]); cleanups run in reverse order of setup, see the request's
//!   [`Outcome`](crate::Outcome), and run when the handler errors or panics or the client goes away. Plain `fn`
//!   cleanups run on threads of their own, never waiting for a token of the shared limiter (the
//!   deadlock of fastapi#3205).
//! * **Limits**: [`Provider::max_concurrency`] caps how many requests hold the value at once;
//!   waiting holds no thread.
//! * **Overrides**: [`AppService::override_dependency`](crate::AppService::override_dependency)
//!   swaps a provider for tests.

//!
//! [`CleanupScope::Request`]: crate::CleanupScope::Request
//! [`CleanupScope::Function`]: crate::CleanupScope::Function

mod overrides;
mod plan;
mod provider;
mod resolve;

use std::any::TypeId;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use http::request::Parts;

use crate::context::RouteSpec;
use crate::extract::{FromRequestParts, Rejection, RequestContext};

pub(crate) use overrides::{Overrides, Replan};
pub(crate) use plan::{Plan, Registry, RequestDeps};
pub(crate) use provider::ProviderNode;
pub use provider::{IntoProvider, Provider, ProviderFn};
pub(crate) use resolve::{Phase, Resolution, resolve};

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

/// The request's dependency state, or the 500 of an application built wrong.
fn request_deps(ctx: &RequestContext) -> Result<&RequestDeps, Box<Rejection>> {
    ctx.deps.as_deref().ok_or_else(|| {
        tracing::error!("a dependency was asked for by a route without a dependency plan");
        Box::new(Rejection::Response(crate::response::internal_error()))
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

    fn spec(spec: &mut RouteSpec) {
        spec.depends::<T>();
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
            Err(_) => Err(Rejection::Response(crate::response::internal_error())),
        }
    }

    fn spec(spec: &mut RouteSpec) {
        spec.depends_fresh::<T>();
    }
}
