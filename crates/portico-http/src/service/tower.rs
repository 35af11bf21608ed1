//! An application as a tower `Service` (the `tower` feature).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body as HttpBody;
use tower_service::Service;

use super::{AppService, ResponseFuture};
use crate::middleware::into_request;
use crate::{BoxError, Response};

/// An application as a tower [`Service`] (feature `tower`), to embed it in another
/// tower-based server or framework. It takes requests with any body and never fails.
impl<B> Service<http::Request<B>> for AppService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> ServiceFuture {
        ServiceFuture(AppService::call(self, into_request(request)))
    }
}

/// The future of [`AppService`] as a tower service.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ServiceFuture(ResponseFuture);

impl Future for ServiceFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(Ok)
    }
}
