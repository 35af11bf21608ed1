//! What a response still needs from the application once its handler has returned, and the
//! one way it says so.
//!
//! A response is complete where it is made: an error's response has its status, headers and
//! body from the start. Two things can only be done later, by the application that serves the
//! request, and both travel in the response as one documented hook, [`Unfinished`]:
//!
//! * an **error** the application's exception handlers may answer instead (the response is
//!   the error's own until then): see [`Caught`];
//! * **deferred work** that needs the request or the server: a file opened with the request's
//!   conditional headers ([`FileResponse`](crate::FileResponse)), an event stream that ends
//!   when the server starts shutting down ([`EventStream`](crate::EventStream)).
//!
//! [`finish`] resolves the hook, where the handler's reply becomes the route's response
//! (and where the application answers on its own: 404, 405, mounts). No response leaves the
//! application with the hook still on it (a debug assertion in the response future checks).

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, RANGE};
use http::{HeaderMap, HeaderValue};

use super::{BoxFuture, IntoResponse, Response};

/// An error on its way to the application's exception handlers: the error, its type, and
/// how it answers on its own.
pub(crate) struct Caught {
    type_id: TypeId,
    type_name: &'static str,
    error: Box<dyn Any + Send>,
    render: fn(Box<dyn Any + Send>) -> Response,
}

impl Caught {
    pub(crate) fn new<E: IntoResponse + Send + 'static>(error: E) -> Self {
        fn render<E: IntoResponse + 'static>(error: Box<dyn Any + Send>) -> Response {
            match error.downcast::<E>() {
                Ok(error) => error.into_response(),
                Err(_) => super::internal_error(),
            }
        }
        Caught {
            type_id: TypeId::of::<E>(),
            type_name: std::any::type_name::<E>(),
            error: Box::new(error),
            render: render::<E>,
        }
    }

    /// The error's type.
    pub(crate) fn type_id(&self) -> TypeId {
        self.type_id
    }

    /// The error, if it is an `E`.
    #[cfg(feature = "websocket")]
    pub(crate) fn downcast_ref<E: 'static>(&self) -> Option<&E> {
        self.error.downcast_ref()
    }

    /// The error, if it is an `E`; else the error back.
    pub(crate) fn take<E: 'static>(self) -> Result<E, Caught> {
        if self.type_id != TypeId::of::<E>() {
            return Err(self);
        }
        match self.error.downcast::<E>() {
            Ok(error) => Ok(*error),
            Err(error) => Err(Caught { error, ..self }),
        }
    }

    /// The error, for its handler.
    pub(crate) fn into_error(self) -> Box<dyn Any + Send> {
        self.error
    }

    /// The error's own response.
    pub(crate) fn into_response(self) -> Response {
        (self.render)(self.error)
    }
}

impl fmt::Debug for Caught {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Caught").field(&self.type_name).finish()
    }
}

/// What a handler's return value comes to: a response, or an error that the application's
/// exception handlers may answer (a handler's `Err`).
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Response),
    Error(Caught),
}

/// Deferred work: the response, made complete with what the request and the server know.
pub(crate) type Deferred = Box<dyn FnOnce(Response, &Finishing<'_>) -> BoxFuture + Send>;

/// What a response still needs once its handler has returned; see the [module docs](self).
///
/// It sits in the response's extensions (hence the lock: extensions must be `Sync` and
/// `Clone`); [`finish`] takes it out.
#[derive(Clone)]
pub(crate) struct Unfinished(Arc<Mutex<Option<Pending>>>);

enum Pending {
    /// The response is the error's own; a handler registered for its type replaces it.
    Error(Caught),
    /// Work to do with the request's conditions or the server's state.
    Deferred(Deferred),
}

impl Unfinished {
    /// Marks `response` as the own response of `error`, which an exception handler may
    /// replace.
    pub(crate) fn error(response: &mut Response, error: Caught) {
        response
            .extensions_mut()
            .insert(Unfinished(Arc::new(Mutex::new(Some(Pending::Error(
                error,
            ))))));
    }

    /// Leaves `work` to be done on `response` once the request's conditions and the server's
    /// state are at hand.
    pub(crate) fn defer(response: &mut Response, work: Deferred) {
        response
            .extensions_mut()
            .insert(Unfinished(Arc::new(Mutex::new(Some(Pending::Deferred(
                work,
            ))))));
    }

    /// Whether `response` still has something to do.
    pub(crate) fn is_on(response: &Response) -> bool {
        response.extensions().get::<Unfinished>().is_some()
    }

    /// Takes the error off `response`, if it carries one (the response stays as it is).
    pub(crate) fn take_error(response: &mut Response) -> Option<Caught> {
        match take(response)? {
            Pending::Error(caught) => Some(caught),
            Pending::Deferred(work) => {
                Unfinished::defer(response, work);
                None
            }
        }
    }
}

fn take(response: &mut Response) -> Option<Pending> {
    let hook = response.extensions_mut().remove::<Unfinished>()?;
    hook.0.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// The request headers a deferred response may depend on, captured before the handler ran:
/// the conditional and range headers of a `GET` or `HEAD`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions {
    pub(crate) range: Option<HeaderValue>,
    pub(crate) if_range: Option<HeaderValue>,
    pub(crate) if_none_match: Option<HeaderValue>,
    pub(crate) if_modified_since: Option<HeaderValue>,
}

impl Conditions {
    /// The conditional and range headers of a request, if it has any: one pass over the
    /// headers, and nothing kept (or allocated) for the usual request that has none.
    pub(crate) fn capture(method: &http::Method, headers: &HeaderMap) -> Option<Box<Self>> {
        // Only `GET` and `HEAD` have conditions or ranges that a deferred response honours.
        if !matches!(*method, http::Method::GET | http::Method::HEAD) {
            return None;
        }
        let mut found: Option<Box<Self>> = None;
        for (name, value) in headers {
            let slot = if name == RANGE {
                &mut found.get_or_insert_default().range
            } else if name == IF_RANGE {
                &mut found.get_or_insert_default().if_range
            } else if name == IF_NONE_MATCH {
                &mut found.get_or_insert_default().if_none_match
            } else if name == IF_MODIFIED_SINCE {
                &mut found.get_or_insert_default().if_modified_since
            } else {
                continue;
            };
            slot.get_or_insert_with(|| value.clone());
        }
        found
    }
}

/// What resolving a response may use: the request's conditions, the server's shutdown, and
/// the application's exception handlers.
pub(crate) struct Finishing<'a> {
    pub(crate) conditions: Option<&'a Conditions>,
    /// Set once the server starts shutting down.
    pub(crate) draining: Option<&'a Arc<portico_tasks::Event>>,
    /// Answers an error with the application's handler for its type, or gives it back.
    pub(crate) handle: &'a (dyn Fn(Caught) -> Result<BoxFuture, Caught> + Sync),
}

/// How resolving went.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) response: Response,
    /// Whether the reply was an error (answered by its own response or a handler's).
    pub(crate) failed: bool,
}

/// Resolves a reply into the response that is sent: an error goes to its exception handler
/// (or answers on its own), deferred work is done. What an exception handler answers is
/// resolved too, except that its own errors answer on their own.
pub(crate) async fn finish(reply: Reply, cx: &Finishing<'_>) -> Finished {
    let mut failed = false;
    let mut response = match reply {
        Reply::Response(response) => response,
        Reply::Error(caught) => {
            failed = true;
            answer(caught, cx).await
        }
    };
    loop {
        match take(&mut response) {
            None => return Finished { response, failed },
            Some(Pending::Error(caught)) => {
                if failed {
                    // An exception handler's own error: its response stands.
                    continue;
                }
                failed = true;
                let own = response;
                response = match (cx.handle)(caught) {
                    Ok(handled) => handled.await,
                    Err(_) => own,
                };
            }
            Some(Pending::Deferred(work)) => response = work(response, cx).await,
        }
    }
}

/// An error's answer: its handler's, or its own.
async fn answer(caught: Caught, cx: &Finishing<'_>) -> Response {
    match (cx.handle)(caught) {
        Ok(handled) => handled.await,
        Err(caught) => caught.into_response(),
    }
}

/// Where no exception handler is registered.
pub(crate) fn no_handlers(caught: Caught) -> Result<BoxFuture, Caught> {
    Err(caught)
}
