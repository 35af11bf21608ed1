//! A WebSocket route: the opening handshake, the handler's task, and how the WebSocket ends.
//!
//! The handler runs in a task of its own, because it outlives the HTTP exchange: the response
//! future waits only until the handler decides the handshake (accepts, closes, or fails
//! first), answers with `101 Switching Protocols` (or the refusal), and leaves the task
//! running with the WebSocket.

use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use base64::Engine as _;
use futures_lite::FutureExt as _;
use http::header::{
    CONNECTION, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::core::{Core, Decision, Keepalive};
use super::io::Upgrade;
use super::message::{CloseWith, MAX_REASON, close_code, truncate_reason};
use super::socket::Slot;
use portico_openapi::OperationDoc;

use super::WebSocketConfig;
use crate::context::RequestContext;
use crate::context::RouteSpec;
use crate::error::{ErrorItem, HttpError, RequestValidationError, caught};
use crate::handler::{Handler, Kept, settle};
use crate::response::{BoxFuture, Reply, Response, Unfinished, internal_error};
use crate::routing::is_websocket_handshake;
use crate::teardown::{Outcome, Teardown};

/// A handler served as a WebSocket route.
pub(crate) struct WsRoute<H, M> {
    handler: H,
    _marker: PhantomData<fn() -> M>,
}

impl<H: Clone, M> Clone for WsRoute<H, M> {
    fn clone(&self) -> Self {
        WsRoute {
            handler: self.handler.clone(),
            _marker: PhantomData,
        }
    }
}

impl<H, M> WsRoute<H, M> {
    pub(crate) fn new(handler: H) -> Self {
        WsRoute {
            handler,
            _marker: PhantomData,
        }
    }
}

/// The marker of WebSocket routes among handlers.
pub(crate) enum Ws {}

impl<H: Handler<M>, M: 'static> Handler<(Ws, M)> for WsRoute<H, M> {
    fn call(
        &self,
        request: crate::Request,
        ctx: RequestContext,
    ) -> impl Future<Output = Response> + Send + 'static {
        let handler = self.handler.clone();
        // A refused handshake is an HTTP response like any other: exception handlers answer
        // its errors.
        let kept = Kept::of(&request, &ctx);
        let app = ctx.app.clone();
        let answer = handshake(
            request,
            ctx,
            Box::new(move |request, ctx| Box::pin(handler.call(request, ctx)) as BoxFuture),
        );
        async move {
            let response = answer.await;
            settle(Reply::Response(response), kept, &app).await.response
        }
    }

    fn describe(doc: &mut OperationDoc) {
        H::describe(doc);
        if H::is_blocking() {
            doc.problem("a WebSocket handler must be an `async fn`");
        }
    }

    fn spec(spec: &mut RouteSpec) {
        H::spec(spec);
    }

    fn is_blocking() -> bool {
        false
    }
}

/// The handler, ready to be called with the request that carries its WebSocket.
type Call = Box<dyn FnOnce(crate::Request, RequestContext) -> BoxFuture + Send>;

/// Marks a `101` answer to a handler that closed before accepting: the test client reports
/// the close at once, as Starlette's does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedBeforeAccept;

/// Checks the opening handshake, starts the handler, and answers once it has decided.
async fn handshake(mut request: crate::Request, mut ctx: RequestContext, call: Call) -> Response {
    let accept_key = match check(&request) {
        Ok(key) => key,
        Err(response) => return *response,
    };
    let Some(upgrade) = Upgrade::take(&mut request) else {
        return upgrade_required("This connection cannot switch to WebSocket: use HTTP/1.1");
    };
    let upgrade_is_memory = matches!(upgrade, Upgrade::Memory(_));
    let rt = match portico_rt::current() {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!("a WebSocket cannot start: {err}");
            return internal_error();
        }
    };
    let settings = ctx
        .app
        .state::<WebSocketConfig>()
        .copied()
        .unwrap_or_default();
    let (decide, mut decided) = portico_tasks::memory_stream(1);
    let core = Arc::new(Core::new(
        decide,
        upgrade,
        offered(request.headers()),
        settings.max_message_size,
        settings.close_timeout,
        // The test client's in-memory pipe has no peer to lose.
        settings
            .ping_interval
            .filter(|_| !upgrade_is_memory)
            .map(|interval| Keepalive {
                interval,
                timeout: settings.ping_timeout,
            }),
    ));
    request.extensions_mut().insert(Slot(core.clone()));
    // Cleanups and background tasks of the handler's dependencies wait for the WebSocket to
    // end, not for the `101` response.
    let after = ctx.teardown.as_ref().map(|_| {
        Arc::new(Teardown::new(
            ctx.app.running.work().clone(),
            ctx.app.cleanup_limiter.clone(),
        ))
    });
    if let Some(after) = &after {
        ctx.teardown = Some(after.clone());
    }
    let span = tracing::info_span!(
        "websocket",
        route = %ctx.route.template,
        close_code = tracing::field::Empty,
    );
    let running = ctx.app.running.clone();
    let handler = call(request, ctx);
    // The WebSocket is one of the application's upgraded connections, until the handshake is
    // decided a child of this response too: a client gone before that ends it.
    let abandoned = Abandoned::default();
    let given_up = abandoned.0.clone();
    let socket = run(handler, core, running.draining().clone(), AfterGuard(after));
    running.sockets().start_soon_on(
        &rt,
        async move { socket.or(async move { given_up.wait().await }).await }.instrument(span),
    );
    let answer = match decided.recv().await {
        Ok(Decision::Accept { protocol }) => switching(&accept_key, protocol.as_deref()),
        Ok(Decision::CloseBeforeAccept) => {
            let mut response = switching(&accept_key, None);
            response.extensions_mut().insert(ClosedBeforeAccept);
            response
        }
        Ok(Decision::Deny(response)) => response,
        Err(_) => return internal_error(),
    };
    abandoned.settle();
    answer
}

/// Ends the WebSocket's task if the handshake is given up before it is decided (the
/// response future dropped: the client went away).
#[derive(Default)]
struct Abandoned(Arc<portico_tasks::Event>, bool);

impl Abandoned {
    /// The handshake is decided: the WebSocket runs on its own.
    fn settle(mut self) {
        self.1 = true;
    }
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if !self.1 {
            self.0.set();
        }
    }
}

/// Checks an opening handshake (RFC 6455, section 4.2.1); the `Sec-WebSocket-Accept` to
/// answer it with, or the refusal.
fn check(request: &crate::Request) -> Result<String, Box<Response>> {
    let headers = request.headers();
    if !is_websocket_handshake(headers) {
        return Err(Box::new(upgrade_required(
            "This path is a WebSocket: open it with a WebSocket client",
        )));
    }
    if request.method() != Method::GET {
        return Err(Box::new(caught(
            HttpError::bad_request().detail("A WebSocket handshake is a GET request"),
        )));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(Box::new(caught(
            HttpError::new(StatusCode::UPGRADE_REQUIRED)
                .detail("Unsupported WebSocket version: this server speaks version 13")
                .header(SEC_WEBSOCKET_VERSION, "13"),
        )));
    }
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes)
        .filter(|key| {
            base64::engine::general_purpose::STANDARD
                .decode(key)
                .is_ok_and(|nonce| nonce.len() == 16)
        });
    match key {
        Some(key) => Ok(derive_accept_key(key)),
        None => Err(Box::new(caught(
            HttpError::bad_request().detail("Missing or invalid Sec-WebSocket-Key"),
        ))),
    }
}

/// 426 Upgrade Required, for a plain HTTP request to a WebSocket route.
fn upgrade_required(detail: &'static str) -> Response {
    caught(
        HttpError::new(StatusCode::UPGRADE_REQUIRED)
            .detail(detail)
            .header(UPGRADE, "websocket"),
    )
}

/// The subprotocols the client offers, in its order.
fn offered(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|protocol| !protocol.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `101 Switching Protocols`.
fn switching(accept_key: &str, protocol: Option<&str>) -> Response {
    let mut response = Response::default();
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(value) = HeaderValue::from_str(accept_key) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, value);
    }
    if let Some(value) = protocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    response
}

/// The cleanups and background tasks of a WebSocket's dependencies: started when it ends, or
/// when its task is dropped.
struct AfterGuard(Option<Arc<Teardown>>);

impl AfterGuard {
    async fn end(&mut self, outcome: Outcome) {
        let Some(after) = self.0.take() else {
            return;
        };
        if !outcome.is_success() {
            after.fail(outcome);
        }
        if let Some(wait) = after.run_function_scope() {
            wait.await;
        }
        after.start();
    }
}

impl Drop for AfterGuard {
    fn drop(&mut self) {
        if let Some(after) = self.0.take() {
            after.fail(Outcome::Disconnected);
            after.start();
        }
    }
}

/// How a WebSocket's handler ended.
enum Ended {
    /// It returned, or panicked.
    Handler(std::thread::Result<Response>),
    /// The peer is gone (it stopped answering pings, or closed while the handler was not
    /// receiving), and the handler did not end in the close timeout.
    PeerGone,
}

/// The WebSocket's task: the handler, watched by the application's shutdown (a close with
/// 1001 when it starts; the application's tracker of upgraded connections drops what is left
/// when its grace period is over) and by the keepalive, then the end.
async fn run(
    handler: BoxFuture,
    core: Arc<Core>,
    draining: Arc<portico_tasks::Event>,
    mut after: AfterGuard,
) {
    let watch = async {
        draining.wait().await;
        tracing::debug!("the application shuts down: closing the WebSocket");
        let _ = core
            .close(close_code::GOING_AWAY, "Server shutting down")
            .await;
        std::future::pending::<Ended>().await
    };
    let handled = async { Ended::Handler(AssertUnwindSafe(handler).catch_unwind().await) };
    let gone = async {
        core.peer_gone().await;
        Ended::PeerGone
    };
    let outcome = match handled.or(watch).or(gone).await {
        Ended::Handler(Ok(response)) => finish(&core, response).await,
        Ended::Handler(Err(payload)) => {
            let message = portico_rt::panic_message(payload.as_ref()).unwrap_or("(no message)");
            tracing::error!("a WebSocket handler panicked: {message}");
            if core.is_pending() {
                core.deny(internal_error());
            } else {
                close(&core, close_code::INTERNAL_ERROR, "Internal Error").await;
            }
            Outcome::Panicked
        }
        Ended::PeerGone => {
            tracing::warn!("a WebSocket's handler went on after its peer was gone: dropping it");
            Outcome::Disconnected
        }
    };
    let code = core.disconnect().code;
    tracing::Span::current().record("close_code", code);
    tracing::info!(close_code = code, "closed");
    after.end(outcome).await;
}

/// The handler returned: refuses the handshake or closes the WebSocket, as its answer says.
async fn finish(core: &Core, mut response: Response) -> Outcome {
    if let Some(caught) = Unfinished::take_error(&mut response)
        && let Some(invalid) = caught.downcast_ref::<RequestValidationError>()
    {
        // An invalid parameter: FastAPI closes with 1008 and the errors as the reason
        // (before accepting: the handshake completes only to close).
        tracing::debug!("invalid WebSocket parameters: {invalid}");
        let reason = close_reason(invalid.errors());
        close(core, close_code::POLICY_VIOLATION, &reason).await;
        return Outcome::Error(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    if core.is_pending() {
        if failed {
            // A dependency or the handler refused before accepting: the client gets the
            // HTTP response instead.
            core.deny(response);
            return Outcome::Error(status);
        }
        // Returned without accepting: refused, as uvicorn refuses it.
        core.deny(caught(
            HttpError::forbidden().detail("The WebSocket was not accepted"),
        ));
        return Outcome::Success;
    }
    let (code, reason) = match response.extensions().get::<CloseWith>() {
        Some(CloseWith(close)) => (close.code, close.reason.clone()),
        None if status.is_server_error() => {
            (close_code::INTERNAL_ERROR, "Internal Error".to_owned())
        }
        None if failed => (
            close_code::POLICY_VIOLATION,
            status.canonical_reason().unwrap_or("Error").to_owned(),
        ),
        None => (close_code::NORMAL_CLOSURE, String::new()),
    };
    close(core, code, &reason).await;
    if failed {
        Outcome::Error(status)
    } else {
        Outcome::Success
    }
}

/// Closes the WebSocket with `code` unless it closed already, and waits for the peer's
/// answer (within the close timeout).
async fn close(core: &Core, code: u16, reason: &str) {
    if !core.is_closed() {
        let _ = core.close(code, reason).await;
    }
    core.await_close_answer().await;
}

/// The close reason for invalid parameters: FastAPI's list of errors as JSON, shortened to fit
/// in a close frame's 123 bytes: without `input` and `ctx`, then with `type` and `loc` only,
/// then the first error alone, cut.
fn close_reason(errors: &[ErrorItem]) -> String {
    let detail = serde_json::to_value(errors).unwrap_or(Value::Null);
    let full = detail.to_string();
    if full.len() <= MAX_REASON {
        return full;
    }
    let short: Vec<Value> = detail
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let mut item = item.clone();
            if let Some(object) = item.as_object_mut() {
                object.remove("input");
                object.remove("ctx");
            }
            item
        })
        .collect();
    let all = Value::Array(short.clone()).to_string();
    if all.len() <= MAX_REASON {
        return all;
    }
    let located: Vec<Value> = short
        .iter()
        .map(|item| json!({ "type": item["type"], "loc": item["loc"] }))
        .collect();
    let located = Value::Array(located).to_string();
    if located.len() <= MAX_REASON {
        return located;
    }
    let first = Value::Array(short.into_iter().take(1).collect()).to_string();
    truncate_reason(&first).to_owned()
}
