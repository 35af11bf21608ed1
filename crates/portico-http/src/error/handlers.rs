//! Exception handlers: the application's answer to errors of a type, instead of their own
//! (FastAPI's `@app.exception_handler`).

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::{HeaderMap, Method, Uri};

use crate::response::{BoxFuture, Caught, IntoResponse};

/// The request an exception handler answers: its method, URI, headers and the route that
/// matched.
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) route: Option<Arc<str>>,
}

impl RequestHead {
    pub(crate) fn of<B>(request: &http::Request<B>, route: Option<Arc<str>>) -> Self {
        RequestHead {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            route,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URI as sent.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The route template that matched, if one did.
    pub fn route(&self) -> Option<&str> {
        self.route.as_deref()
    }
}

/// An exception handler, type-erased: it answers the error if it has the right type.
type Handler = Arc<dyn Fn(Box<dyn Any + Send>, RequestHead) -> BoxFuture + Send + Sync>;

/// The application's exception handlers, by error type.
#[derive(Clone, Default)]
pub(crate) struct ErrorHandlers {
    handlers: Vec<(TypeId, &'static str, Handler)>,
}

impl fmt::Debug for ErrorHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.handlers.iter().map(|(_, name, _)| name))
            .finish()
    }
}

impl ErrorHandlers {
    /// Registers `handler` for errors of type `E`, replacing one registered before.
    pub(crate) fn insert<E, F, Fut, R>(&mut self, handler: F)
    where
        E: Send + 'static,
        F: Fn(E, RequestHead) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let erased: Handler = Arc::new(move |error: Box<dyn Any + Send>, head: RequestHead| {
            match error.downcast::<E>() {
                Ok(error) => {
                    let fut = handler(*error, head);
                    Box::pin(async move { fut.await.into_response() }) as BoxFuture
                }
                // `handle` looks handlers up by the error's type, so this cannot happen.
                Err(_) => Box::pin(async { crate::response::internal_error() }),
            }
        });
        let id = TypeId::of::<E>();
        self.handlers.retain(|(t, _, _)| *t != id);
        self.handlers.push((id, std::any::type_name::<E>(), erased));
    }

    /// Whether any handler is registered (when none is, a request's head is not kept for
    /// one).
    pub(crate) fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }

    /// The handler's answer to `caught`, or `caught` back when no handler takes its type (or
    /// there is no request head to hand it).
    pub(crate) fn handle(
        &self,
        caught: Caught,
        head: Option<&RequestHead>,
    ) -> Result<BoxFuture, Caught> {
        let Some(head) = head else {
            return Err(caught);
        };
        match self
            .handlers
            .iter()
            .find(|(id, _, _)| *id == caught.type_id())
        {
            Some((_, _, handler)) => Ok(handler(caught.into_error(), head.clone())),
            None => Err(caught),
        }
    }
}
