//! Providers: the functions that produce dependencies, and their settings.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use http::request::Parts;
use portico_openapi::OperationDoc;
use portico_tasks::{CapacityLimiter, LimiterPermit};

use crate::context::{AppShared, RouteSpec};
use crate::extract::{Args, FromRequestParts, RaisedError, Rejection, RequestContext};
use crate::response::{Caught, IntoResponse, Reply};
use crate::strategy::{Accepts, Runs};
use crate::teardown::{Catch, CleanupEntry, CleanupJob, CleanupScope, Outcome, TaskOutcome};

/// What dependency providers accept as their functions' result: a `Result`.
#[doc(hidden)]
#[derive(Debug)]
pub enum Provide {}

impl<T, E> Accepts<Result<T, E>> for Provide {}

/// A produced value, as the request's cache keeps it.
pub(crate) type AnyValue = Arc<dyn Any + Send + Sync>;

/// The value being produced, with the concurrency permit it holds; or the provider's error,
/// on its way to the application's exception handler for its type (which a handler's `Err`
/// takes too), a few words: the result is moved through several layers.
pub(crate) type Produce =
    Pin<Box<dyn Future<Output = Result<(AnyValue, Option<LimiterPermit>), RaisedError>> + Send>>;

/// What producing one provider gives.
pub(crate) type Produced = <Produce as Future>::Output;

type PrepareFuture<'a> = Pin<Box<dyn Future<Output = Result<Produce, Rejection>> + Send + 'a>>;

type ProduceFuture<'a> = Pin<Box<dyn Future<Output = Result<Produced, Rejection>> + Send + 'a>>;

/// A function that produces a dependency: an `async fn` (run on the event loop) or a plain `fn`
/// (run on the thread pool under the shared capacity limiter), of up to 12 head-only
/// parameters (extractors such as `Header`, `Query`, `State`, and other dependencies as
/// [`Depends`](super::Depends)), returning `Result<T, E>` where `E` answers the request when it
/// fails.
///
/// `M` is a marker type inference fills in.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dependency provider",
    label = "not a provider",
    note = "a provider is an `async fn` or a plain `fn` whose parameters are head-only extractors (`Header`, `Query`, `State`, `Depends<T>`, ...; at most 12) and which returns `Result<T, E>` with `E: IntoResponse`"
)]
pub trait ProviderFn<M>: Clone + Send + Sync + 'static {
    /// The type produced.
    type Value: Send + Sync + 'static;

    /// Extracts the parameters and returns the production of the value, which waits for
    /// `limiter` first when there is one.
    #[doc(hidden)]
    fn prepare<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        limiter: Option<CapacityLimiter>,
    ) -> impl Future<Output = Result<Produce, Rejection>> + Send + 'a;

    /// Extracts the parameters and produces the value, in one future: [`prepare`] with its
    /// production awaited in place, for a provider that nothing runs beside.
    ///
    /// [`prepare`]: Self::prepare
    #[doc(hidden)]
    fn produce<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        limiter: Option<CapacityLimiter>,
    ) -> impl Future<Output = Result<Produced, Rejection>> + Send + 'a;

    /// Describes the parameters (what the OpenAPI document shows for every route using it).
    #[doc(hidden)]
    fn describe(doc: &mut OperationDoc);

    /// Records what the parameters need to run (see
    /// [`FromRequestParts::spec`](crate::FromRequestParts::spec)).
    #[doc(hidden)]
    fn spec(spec: &mut RouteSpec);

    /// Whether it runs on the thread pool.
    #[doc(hidden)]
    fn is_blocking() -> bool;
}

/// A provider's parameters, or why they cannot be had.
async fn extract_args<A: Args>(parts: &mut Parts, ctx: &RequestContext) -> Result<A, Rejection> {
    let mut errors = Vec::new();
    match A::extract(parts, ctx, &mut errors).await {
        Ok(Some(args)) => Ok(args),
        Ok(None) => Err(Rejection::Invalid(errors)),
        Err(reply) => Err(Rejection::from_reply(reply)),
    }
}

/// Runs a provider's function, its parameters extracted (`call`), under `limiter`'s permit
/// when there is one: the production that [`ProviderFn::prepare`] returns boxed and
/// [`ProviderFn::produce`] awaits in place.
async fn production<C, R, S, V, E>(
    call: C,
    app: Arc<AppShared>,
    limiter: Option<CapacityLimiter>,
) -> Produced
where
    C: FnOnce() -> R + Send + 'static,
    R: Runs<S, Provide, Output = Result<V, E>>,
    V: Send + Sync + 'static,
    E: IntoResponse + Send + 'static,
{
    // The permit is waited for here, on the event loop: waiting holds no thread.
    let permit = match limiter {
        Some(limiter) => Some(limiter.acquire().await),
        None => None,
    };
    match R::run(call, app.thread_limiter()).await {
        Ok(value) => Ok((Arc::new(value) as AnyValue, permit)),
        Err(err) => Err(RaisedError(Caught::new(err))),
    }
}

macro_rules! providers {
    ($($t:ident),*) => {
        impl<F, R, S, V, E, $($t,)*> ProviderFn<(S, $($t,)*)> for F
        where
            F: Fn($($t,)*) -> R + Clone + Send + Sync + 'static,
            R: Runs<S, Provide, Output = Result<V, E>>,
            S: 'static,
            V: Send + Sync + 'static,
            E: IntoResponse + Send + 'static,
            ($($t,)*): Args,
            $($t: FromRequestParts + 'static,)*
        {
            type Value = V;

            #[allow(non_snake_case, reason = "the type names double as bindings")]
            fn prepare<'a>(
                &'a self,
                parts: &'a mut Parts,
                ctx: &'a RequestContext,
                limiter: Option<CapacityLimiter>,
            ) -> impl Future<Output = Result<Produce, Rejection>> + Send + 'a {
                async move {
                    let ($($t,)*) = extract_args::<($($t,)*)>(parts, ctx).await?;
                    let f = self.clone();
                    Ok(Box::pin(production(move || f($($t,)*), ctx.app.clone(), limiter))
                        as Produce)
                }
            }

            #[allow(non_snake_case, reason = "the type names double as bindings")]
            fn produce<'a>(
                &'a self,
                parts: &'a mut Parts,
                ctx: &'a RequestContext,
                limiter: Option<CapacityLimiter>,
            ) -> impl Future<Output = Result<Produced, Rejection>> + Send + 'a {
                async move {
                    let ($($t,)*) = extract_args::<($($t,)*)>(parts, ctx).await?;
                    let f = self.clone();
                    Ok(production(move || f($($t,)*), ctx.app.clone(), limiter).await)
                }
            }

            fn describe(doc: &mut OperationDoc) {
                <($($t,)*)>::describe(doc);
            }

            fn spec(spec: &mut RouteSpec) {
                <($($t,)*)>::spec(spec);
            }

            fn is_blocking() -> bool {
                R::BLOCKING
            }
        }
    };
}

providers!();
providers!(T1);
providers!(T1, T2);
providers!(T1, T2, T3);
providers!(T1, T2, T3, T4);
providers!(T1, T2, T3, T4, T5);
providers!(T1, T2, T3, T4, T5, T6);
providers!(T1, T2, T3, T4, T5, T6, T7);
providers!(T1, T2, T3, T4, T5, T6, T7, T8);
providers!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
providers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
providers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
providers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);

/// A provider function, type-erased.
trait ErasedPrepare: Send + Sync + 'static {
    fn prepare<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        limiter: Option<CapacityLimiter>,
    ) -> PrepareFuture<'a>;

    fn produce<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        limiter: Option<CapacityLimiter>,
    ) -> ProduceFuture<'a>;
}

struct Erased<F, M> {
    f: F,
    _marker: PhantomData<fn() -> M>,
}

impl<F: ProviderFn<M>, M: 'static> ErasedPrepare for Erased<F, M> {
    fn prepare<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        limiter: Option<CapacityLimiter>,
    ) -> PrepareFuture<'a> {
        Box::pin(self.f.prepare(parts, ctx, limiter))
    }

    fn produce<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        limiter: Option<CapacityLimiter>,
    ) -> ProduceFuture<'a> {
        Box::pin(self.f.produce(parts, ctx, limiter))
    }
}

type MakeCleanup = Arc<dyn Fn(AnyValue) -> CleanupJob + Send + Sync>;

/// A registered provider, with everything known of it.
pub(crate) struct ProviderNode {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    prepare: Box<dyn ErasedPrepare>,
    /// Describes its parameters into a route's documentation.
    pub(crate) describe: fn(&mut OperationDoc),
    /// What its parameters need: other providers, state, validation shapes.
    pub(crate) spec: RouteSpec,
    pub(crate) blocking: bool,
    pub(crate) scope: CleanupScope,
    /// OAuth2 scopes every route using it requires.
    pub(crate) scopes: Vec<String>,
    cleanup: Option<MakeCleanup>,
    catches: Vec<Catch>,
    limiter: Option<CapacityLimiter>,
}

impl fmt::Debug for ProviderNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("type", &self.type_name)
            .field("blocking", &self.blocking)
            .field("scope", &self.scope)
            .field("cleanup", &self.cleanup.is_some())
            .field(
                "max_concurrency",
                &self.limiter.as_ref().map(CapacityLimiter::total_tokens),
            )
            .finish()
    }
}

impl ProviderNode {
    pub(crate) fn has_cleanup(&self) -> bool {
        self.cleanup.is_some()
    }

    /// Whether a request using it needs a teardown: a cleanup to run, or errors to catch.
    pub(crate) fn needs_teardown(&self) -> bool {
        self.cleanup.is_some() || !self.catches.is_empty()
    }

    pub(crate) fn holds_permit(&self) -> bool {
        self.limiter.is_some()
    }

    /// Extracts the provider's parameters; what is returned produces the value.
    pub(crate) fn prepare<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
    ) -> PrepareFuture<'a> {
        self.prepare.prepare(parts, ctx, self.limiter.clone())
    }

    /// Extracts the provider's parameters and produces its value, in one future (one
    /// allocation, not two): for a provider that nothing else is produced beside.
    pub(crate) fn produce<'a>(
        &'a self,
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
    ) -> ProduceFuture<'a> {
        self.prepare.produce(parts, ctx, self.limiter.clone())
    }

    /// Records a produced value's cleanup with the request (or lets its permit go, when it has
    /// no cleanup: the cap then covers production only).
    pub(crate) fn settle(
        &self,
        value: &AnyValue,
        permit: Option<LimiterPermit>,
        ctx: &RequestContext,
    ) {
        if !self.catches.is_empty()
            && let Some(teardown) = &ctx.teardown
        {
            for catch in &self.catches {
                teardown.push_catch(value.clone(), catch.clone());
            }
        }
        let Some(cleanup) = &self.cleanup else {
            return;
        };
        let entry = CleanupEntry {
            scope: self.scope,
            name: self.type_name,
            job: cleanup(value.clone()),
            permit,
        };
        match &ctx.teardown {
            Some(teardown) => teardown.push_cleanup(entry),
            None => tracing::error!(
                "the cleanup of {} has nowhere to run (a route planned without cleanups): skipped",
                self.type_name
            ),
        }
    }
}

/// A provider with its settings: a cleanup (FastAPI's dependencies with `yield`), its scope and
/// a concurrency cap. Register it with [`App::provide`](crate::App::provide).
///
/// # Examples
///
/// A connection per request, committed or rolled back once the response is sent.
///
/// ```
/// use std::sync::Mutex;
/// use portico_http::{App, Depends, HttpError, Outcome, Provider};
///
/// struct Tx(Mutex<Vec<&'static str>>);
///
/// fn begin() -> Result<Tx, HttpError> {
///     Ok(Tx(Mutex::new(vec!["begin"])))
/// }
///
/// fn write(Depends(tx): Depends<Tx>) -> &'static str {
///     tx.0.lock().unwrap().push("insert");
///     "written"
/// }
///
/// let app = App::new()
///     .provide(Provider::new(begin).max_concurrency(10).cleanup(|tx: &Tx, outcome: Outcome| {
///         let mut log = tx.0.lock().unwrap();
///         log.push(if outcome.is_success() { "commit" } else { "rollback" });
///     }))
///     .post("/write", write);
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.post("/write").send().text(), "written");
/// ```
pub struct Provider<T> {
    node: ProviderNode,
    _value: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Provider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<T: Send + Sync + 'static> Provider<T> {
    /// A provider of `T`: an `async fn` or a plain `fn` returning `Result<T, E>` (see
    /// [`ProviderFn`]).
    pub fn new<M: 'static, F: ProviderFn<M, Value = T>>(f: F) -> Self {
        let mut spec = RouteSpec::for_provider();
        F::spec(&mut spec);
        Provider {
            node: ProviderNode {
                type_id: TypeId::of::<T>(),
                type_name: std::any::type_name::<T>(),
                prepare: Box::new(Erased {
                    f,
                    _marker: PhantomData,
                }),
                describe: F::describe,
                spec,
                blocking: F::is_blocking(),
                scope: CleanupScope::Request,
                scopes: Vec::new(),
                cleanup: None,
                catches: Vec::new(),
                limiter: None,
            },
            _value: PhantomData,
        }
    }

    /// A plain `fn` run on the value when the request is done with it (see [`CleanupScope`]), on a
    /// thread of the cleanup pool, which is not the shared limiter's: a cleanup that gives a
    /// connection back can always run, however busy the pool is. It may return `()` or
    /// `Result<(), E>`; errors and panics are logged.
    pub fn cleanup<F, R>(mut self, f: F) -> Self
    where
        F: Fn(&T, Outcome) -> R + Send + Sync + 'static,
        R: TaskOutcome,
    {
        let f = Arc::new(f);
        self.node.cleanup = Some(Arc::new(move |value: AnyValue| {
            let f = f.clone();
            CleanupJob::Blocking(Box::new(move |outcome| match value.downcast::<T>() {
                Ok(value) => f(&value, outcome).failure(),
                Err(_) => Some("the value has another type".to_owned()),
            }))
        }));
        self
    }

    /// As [`cleanup`](Self::cleanup), with an async function run on the event loop.
    pub fn cleanup_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Arc<T>, Outcome) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TaskOutcome,
    {
        let f = Arc::new(f);
        self.node.cleanup = Some(Arc::new(move |value: AnyValue| {
            let f = f.clone();
            CleanupJob::Async(Box::new(move |outcome| {
                Box::pin(async move {
                    match value.downcast::<T>() {
                        Ok(value) => f(value, outcome).await.failure(),
                        Err(_) => Some("the value has another type".to_owned()),
                    }
                })
            }))
        }));
        self
    }

    /// Catches the errors of type `E` that the handler answers with (its `Err`), or a provider
    /// set up after this one (one that depends on it), before the response is sent, as a
    /// FastAPI dependency with `yield` does with `try`/`except` around its `yield`: `f` gets
    /// the value this provider produced and the error, and returns `Ok(answer)` to answer
    /// with `answer` instead, as if the handler had failed with it (it goes to the
    /// application's exception handler for its type, as a `raise HTTPException` in the
    /// `except` does), or `Err(error)` to let the error go on its way.
    ///
    /// When several providers of a request catch the same type, the one set up last (the
    /// innermost) sees the error first; an answer is offered to the ones set up before it.
    /// `f` runs on the event loop: keep it short. The request still counts as failed: the
    /// cleanups see [`Outcome::Error`] with the status of the answer sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Depends, HttpError, IntoResponse, Provider, Response, http};
    ///
    /// struct Username(String);
    ///
    /// #[derive(Debug)]
    /// struct OwnerError(String);
    ///
    /// impl IntoResponse for OwnerError {
    ///     fn into_response(self) -> Response {
    ///         HttpError::new(http::StatusCode::INTERNAL_SERVER_ERROR).into_response()
    ///     }
    /// }
    ///
    /// fn get_username() -> Result<Username, HttpError> {
    ///     Ok(Username("Rick".into()))
    /// }
    ///
    /// fn get_item(Depends(user): Depends<Username>) -> Result<&'static str, OwnerError> {
    ///     Err(OwnerError(user.0.clone()))
    /// }
    ///
    /// let app = App::new()
    ///     .provide(Provider::new(get_username).catch(|_: &Username, err: OwnerError| {
    ///         Ok::<_, OwnerError>(HttpError::bad_request().detail(format!("Owner error: {}", err.0)))
    ///     }))
    ///     .get("/items/plumbus", get_item);
    /// let client = portico::testing::blocking_client(app);
    /// let response = client.get("/items/plumbus").send();
    /// assert_eq!(response.status(), 400);
    /// assert_eq!(response.text(), r#"{"detail":"Owner error: Rick"}"#);
    /// ```
    pub fn catch<E, R, F>(mut self, f: F) -> Self
    where
        E: IntoResponse + Send + 'static,
        R: IntoResponse + Send + 'static,
        F: Fn(&T, E) -> Result<R, E> + Send + Sync + 'static,
    {
        let run = move |value: &AnyValue, caught: Caught| {
            let Some(value) = value.downcast_ref::<T>() else {
                return Err(caught);
            };
            match f(value, caught.take::<E>()?) {
                Ok(answer) => Ok(Reply::Error(Caught::new(answer))),
                Err(error) => Err(Caught::new(error)),
            }
        };
        self.node.catches.push(Catch {
            type_id: TypeId::of::<E>(),
            run: Arc::new(run),
        });
        self
    }

    /// When the cleanup runs: after the response (the default) or before it.
    pub fn scope(mut self, scope: CleanupScope) -> Self {
        self.node.scope = scope;
        self
    }

    /// At most `n` requests hold a value of this provider at once (FastAPI's
    /// `Depends(max_concurrency=n)`): one with a cleanup holds its slot until the cleanup has
    /// run, one without until it is produced. Waiting holds no thread; a second use within one
    /// request (the cache) takes no second slot.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    #[track_caller]
    pub fn max_concurrency(mut self, n: usize) -> Self {
        assert!(n > 0, "max_concurrency must be at least 1");
        self.node.limiter = Some(CapacityLimiter::new(n));
        self
    }

    /// OAuth2 scopes that every route using this dependency requires (FastAPI's
    /// `Security(dependency, scopes=[...])`): they join the route's security requirements in
    /// the document and what [`SecurityScopes`](crate::security::SecurityScopes) gives.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        for scope in scopes {
            let scope = scope.into();
            if !self.node.scopes.contains(&scope) {
                self.node.scopes.push(scope);
            }
        }
        self
    }

    pub(crate) fn into_node(self) -> ProviderNode {
        self.node
    }
}

/// What [`App::provide`](crate::App::provide) accepts: a provider function, or a configured
/// [`Provider`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dependency provider",
    label = "not a provider",
    note = "a provider is an `async fn` or a plain `fn` whose parameters are head-only extractors (`Header`, `Query`, `State`, `Depends<T>`, ...; at most 12) and which returns `Result<T, E>` with `E: IntoResponse`",
    note = "a provider of a value that cannot fail still returns a `Result`: `Ok::<_, HttpError>(value)`; put `#[portico::provider]` on it to have the compiler name the parameter or return type at fault"
)]
pub trait IntoProvider<M> {
    /// The type produced.
    type Value: Send + Sync + 'static;

    /// The provider.
    fn into_provider(self) -> Provider<Self::Value>;
}

/// The marker of an already configured [`Provider`].
#[doc(hidden)]
#[derive(Debug)]
pub enum Configured {}

#[diagnostic::do_not_recommend]
impl<F: ProviderFn<M>, M: 'static> IntoProvider<M> for F {
    type Value = F::Value;

    fn into_provider(self) -> Provider<F::Value> {
        Provider::new(self)
    }
}

#[diagnostic::do_not_recommend]
impl<T: Send + Sync + 'static> IntoProvider<Configured> for Provider<T> {
    type Value = T;

    fn into_provider(self) -> Provider<T> {
        self
    }
}
