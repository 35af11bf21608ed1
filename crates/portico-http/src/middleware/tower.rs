//! Interop with tower (the `tower` feature): tower layers as middleware, and an application as
//! a tower `Service`.

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body as HttpBody;
use tower_layer::Layer;
use tower_service::Service;

use super::{Carry, Chain, Wrap};
use crate::context::Locals;
use crate::response::BoxFuture;
use crate::{Body, BoxError};
use crate::{Request, Response};

/// The rest of the chain as a tower [`Service`]: what a layer given to
/// [`App::layer`](crate::App::layer) wraps. It takes requests with any body and never fails.
#[derive(Clone)]
pub struct NextService {
    inner: Arc<dyn Chain>,
}

impl fmt::Debug for NextService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextService").finish_non_exhaustive()
    }
}

/// `value` as a `T` when it is one.
fn same<A: 'static, T: 'static>(value: A) -> Result<T, A> {
    let mut slot = Some(value);
    let cast = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<T>>()
        .and_then(Option::take);
    match (cast, slot) {
        (Some(same), _) => Ok(same),
        (None, Some(value)) => Err(value),
        (None, None) => unreachable!("the value is in one of the two"),
    }
}

/// A request with any body, as Portico's.
pub(crate) fn into_request<B>(request: http::Request<B>) -> Request
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let body = match same::<B, Body>(body) {
        Ok(body) => body,
        Err(other) => Body::new(other),
    };
    Request::from_parts(parts, body)
}

impl<B> Service<http::Request<B>> for NextService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut request = into_request(request);
        // The locals are in the request's extensions (`TowerChain` put them there).
        let carry = match request.extensions_mut().remove::<super::RouteCall>() {
            Some(call) => Carry::Route(call.0),
            None => Carry::Entry(Locals::default()),
        };
        let fut = self.inner.call(request, carry);
        Box::pin(async move { Ok(fut.await) })
    }
}

/// A tower service in a chain.
struct TowerChain<S> {
    service: S,
}

impl<S, B> Chain for TowerChain<S>
where
    S: Service<Request, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, mut request: Request, mut carry: Carry) -> BoxFuture {
        // A tower service may read anything from the request: the locals go into its
        // extensions.
        super::move_locals(carry.locals_mut(), request.extensions_mut());
        if let Carry::Route(ctx) = carry {
            request.extensions_mut().insert(super::RouteCall(ctx));
        }
        let mut service = self.service.clone();
        Box::pin(async move {
            let ready: Result<(), BoxError> = poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into);
            let answer = match ready {
                Ok(()) => service.call(request).await.map_err(Into::into),
                Err(err) => Err(err),
            };
            match answer {
                Ok(response) => {
                    response.map(|body| same::<B, Body>(body).unwrap_or_else(Body::stream))
                }
                Err(err) => {
                    tracing::error!("a tower middleware failed: {err}");
                    crate::response::internal_error()
                }
            }
        })
    }
}

/// A tower layer as a middleware.
pub(crate) fn wrap_layer<L, B>(layer: L) -> Wrap
where
    L: Layer<NextService> + Send + Sync + 'static,
    L::Service: Service<Request, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request>>::Future: Send + 'static,
    <L::Service as Service<Request>>::Error: Into<BoxError>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Wrap::new(move |next| {
        Arc::new(TowerChain {
            service: layer.layer(NextService { inner: next }),
        })
    })
}
