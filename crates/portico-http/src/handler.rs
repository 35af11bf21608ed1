//! Path operations: `async fn`s run on the event loop, plain `fn`s on the thread pool.
//!
//! A function is a handler when each of its parameters can be extracted (the last may read
//! the body) and it returns something that is [`IntoResponse`], or a future of it. Which of the
//! two it is decides where it runs, as FastAPI's `async def` / `def` rule does: a plain `fn`
//! runs through [`portico_tasks::to_thread`] under the runtime's shared capacity limiter, so a
//! blocking call inside it never stalls the event loop.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use crate::error::{ErrorItem, RequestValidationError};
use crate::extract::{FromRequest, FromRequestParts, OperationDoc, Rejection, RequestContext};
use crate::response::{IntoResponse, Response};

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
    note = "a handler is an `async fn` or a plain `fn` whose parameters are extractors (`Path`, `Query`, `Json`, ...; a body-reading one last, at most 16) and whose return type implements `IntoResponse`"
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

    /// Whether the handler runs on the thread pool (a plain `fn`).
    fn is_blocking() -> bool;
}

/// The marker of `async fn` handlers.
#[derive(Debug, Clone, Copy)]
pub enum Async {}

/// The marker of plain `fn` handlers, run on the thread pool.
#[derive(Debug, Clone, Copy)]
pub enum Blocking {}

/// A type-erased handler, as the route table keeps it.
pub(crate) type BoxedHandler = std::sync::Arc<dyn ErasedHandler>;

pub(crate) type BoxFuture<T = Response> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn call(&self, request: crate::Request, ctx: RequestContext) -> BoxFuture;
}

struct Erased<H, M> {
    handler: H,
    _marker: PhantomData<fn() -> M>,
}

impl<H: Handler<M>, M: 'static> ErasedHandler for Erased<H, M> {
    fn call(&self, request: crate::Request, ctx: RequestContext) -> BoxFuture {
        Box::pin(self.handler.call(request, ctx))
    }
}

pub(crate) fn erase<H: Handler<M>, M: 'static>(handler: H) -> BoxedHandler {
    std::sync::Arc::new(Erased {
        handler,
        _marker: PhantomData,
    })
}

/// The 422 for every invalid input, in FastAPI's order: path, query, header, cookie, then body.
pub(crate) fn invalid(mut errors: Vec<ErrorItem>) -> Response {
    errors.sort_by_key(|item| match item.loc.first() {
        Some(crate::LocPart::Key(source)) => match source.as_ref() {
            "path" => 0,
            "query" => 1,
            "header" => 2,
            "cookie" => 3,
            "body" => 4,
            _ => 5,
        },
        _ => 5,
    });
    RequestValidationError::new(errors).into_response()
}

/// Produces the dependencies of a handler without parameters (those of its route, router or
/// application), answering with their error if one fails.
async fn route_dependencies(request: crate::Request, ctx: RequestContext) -> Result<(), Response> {
    if ctx.deps.is_none() {
        return Ok(());
    }
    let (mut parts, _body) = request.into_parts();
    let mut errors = Vec::new();
    crate::depends::resolve(&mut parts, &ctx, &mut errors).await?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(errors))
    }
}

impl<F, Fut, R> Handler<(Async,)> for F
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(
        &self,
        request: crate::Request,
        ctx: RequestContext,
    ) -> impl Future<Output = Response> + Send + 'static {
        let f = self.clone();
        async move {
            if let Err(response) = route_dependencies(request, ctx).await {
                return response;
            }
            f().await.into_response()
        }
    }

    fn describe(doc: &mut OperationDoc) {
        R::describe_response(doc);
    }

    fn is_blocking() -> bool {
        false
    }
}

impl<F, R> Handler<(Blocking,)> for F
where
    F: Fn() -> R + Clone + Send + Sync + 'static,
    R: IntoResponse + Send + 'static,
{
    fn call(
        &self,
        request: crate::Request,
        ctx: RequestContext,
    ) -> impl Future<Output = Response> + Send + 'static {
        let f = self.clone();
        async move {
            if let Err(response) = route_dependencies(request, ctx).await {
                return response;
            }
            portico_tasks::to_thread(move || f().into_response()).await
        }
    }

    fn describe(doc: &mut OperationDoc) {
        R::describe_response(doc);
    }

    fn is_blocking() -> bool {
        true
    }
}

/// Produces the request's dependencies, then extracts each parameter into a binding of its
/// type's name; returns from the enclosing future with the response when one fails (every
/// invalid input together in one 422).
macro_rules! extract_params {
    ($request:ident, $ctx:ident, $m:ident; $($head:ident),*; $last:ident) => {
        let (mut parts, body) = $request.into_parts();
        let mut body = Some(body);
        let mut errors = Vec::new();
        if let Err(response) = crate::depends::resolve(&mut parts, &$ctx, &mut errors).await {
            return response;
        }
        $(
            let $head = match <$head as FromRequestParts>::from_request_parts(&mut parts, &$ctx).await {
                Ok(value) => Some(value),
                Err(Rejection::Invalid(found)) => {
                    errors.extend(found);
                    None
                }
                Err(Rejection::Response(response)) => return response,
            };
        )*
        let $last = match <$last as FromRequest<$m>>::from_split(&mut parts, &mut body, &$ctx).await {
            Ok(value) => Some(value),
            Err(Rejection::Invalid(found)) => {
                errors.extend(found);
                None
            }
            Err(Rejection::Response(response)) => return response,
        };
        drop((parts, body, $ctx));
        let ($(Some($head),)* Some($last),) = ($($head,)* $last,) else {
            return invalid(errors);
        };
        if !errors.is_empty() {
            // A dependency of the route itself had invalid inputs.
            return invalid(errors);
        }
    };
}

macro_rules! handlers {
    ($($head:ident),* ; $last:ident) => {
        impl<F, Fut, R, M, $($head,)* $last> Handler<(Async, M, $($head,)* $last,)> for F
        where
            F: Fn($($head,)* $last) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoResponse,
            M: 'static,
            $($head: FromRequestParts + 'static,)*
            $last: FromRequest<M> + 'static,
        {
            #[allow(non_snake_case, unused_mut, reason = "the type names double as bindings")]
            fn call(&self, request: crate::Request, ctx: RequestContext) -> impl Future<Output = Response> + Send + 'static {
                let f = self.clone();
                async move {
                    extract_params!(request, ctx, M; $($head),*; $last);
                    f($($head,)* $last).await.into_response()
                }
            }

            fn describe(doc: &mut OperationDoc) {
                $($head::describe(doc);)*
                <$last as FromRequest<M>>::describe(doc);
                R::describe_response(doc);
            }

            fn is_blocking() -> bool {
                false
            }
        }

        impl<F, R, M, $($head,)* $last> Handler<(Blocking, M, $($head,)* $last,)> for F
        where
            F: Fn($($head,)* $last) -> R + Clone + Send + Sync + 'static,
            R: IntoResponse + Send + 'static,
            M: 'static,
            $($head: FromRequestParts + 'static,)*
            $last: FromRequest<M> + 'static,
        {
            #[allow(non_snake_case, unused_mut, reason = "the type names double as bindings")]
            fn call(&self, request: crate::Request, ctx: RequestContext) -> impl Future<Output = Response> + Send + 'static {
                let f = self.clone();
                async move {
                    extract_params!(request, ctx, M; $($head),*; $last);
                    portico_tasks::to_thread(move || f($($head,)* $last).into_response()).await
                }
            }

            fn describe(doc: &mut OperationDoc) {
                $($head::describe(doc);)*
                <$last as FromRequest<M>>::describe(doc);
                R::describe_response(doc);
            }

            fn is_blocking() -> bool {
                true
            }
        }
    };
}

handlers!(; T1);
handlers!(T1; T2);
handlers!(T1, T2; T3);
handlers!(T1, T2, T3; T4);
handlers!(T1, T2, T3, T4; T5);
handlers!(T1, T2, T3, T4, T5; T6);
handlers!(T1, T2, T3, T4, T5, T6; T7);
handlers!(T1, T2, T3, T4, T5, T6, T7; T8);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8; T9);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9; T10);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10; T11);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11; T12);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12; T13);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13; T14);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14; T15);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15; T16);
