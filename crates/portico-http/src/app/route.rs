//! [`Route`]: one path operation being declared, with its settings, and the settings a
//! route shares with its routers and its application.

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use http::{Method, StatusCode};
use portico_openapi::{OperationDoc, ResponseDoc};

use crate::context::{Need, RouteSpec};
use crate::handler::Handler;
use crate::middleware::{Carry, Chain, Wrap};
use crate::response::BoxFuture;
use crate::routing::parse_template;

/// One path operation: a method, a path template and a handler, with its settings.
///
/// `App::get(path, handler)` and its siblings cover the common case; build a `Route` to set
/// more, such as its own body limit.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use portico_http::{App, Route};
///
/// async fn upload(body: Bytes) -> String {
///     format!("{} bytes", body.len())
/// }
///
/// let app = App::new().route(Route::post("/upload", upload).body_limit(64 * 1024 * 1024));
/// # drop(app);
/// ```
pub struct Route {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) handler: BoxedHandler,
    /// What the handler declares of itself, when the route is built.
    pub(crate) declare: Declare,
    /// Whether the handler is a plain `fn`, run on the thread pool.
    pub(super) blocking: bool,
    pub(super) body_limit: Option<usize>,
    pub(super) settings: RouteSettings,
    /// Its own middleware then its routers', innermost first.
    pub(super) middleware: Vec<Wrap>,
    /// Whether it is a WebSocket route.
    pub(crate) websocket: bool,
    /// What its path is: a served route's template, or the name or URL of an operation that is
    /// only documented.
    pub(super) kind: PathKind,
}

/// What a route's path is, and so whether the route is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathKind {
    /// A template the application answers requests on.
    Served,
    /// A webhook's name, only documented.
    Webhook,
    /// A callback's URL template, with runtime expressions, only documented.
    Callback,
}

/// A type-erased handler: the innermost link of its route's middleware chain.
pub(crate) type BoxedHandler = Arc<dyn Chain>;

struct Erased<H, M> {
    handler: H,
    _marker: PhantomData<fn() -> M>,
}

impl<H: Handler<M>, M: 'static> Chain for Erased<H, M> {
    fn call(&self, request: crate::Request, carry: Carry) -> BoxFuture {
        match carry {
            Carry::Route(ctx) => Box::pin(self.handler.call(request, ctx)),
            // A handler is only ever reached through its route.
            Carry::Entry(_) => Box::pin(async { crate::response::internal_error() }),
        }
    }
}

pub(crate) fn erase<H: Handler<M>, M: 'static>(handler: H) -> BoxedHandler {
    Arc::new(Erased {
        handler,
        _marker: PhantomData,
    })
}

/// How a handler declares itself: its documentation, what it needs to run, and its function's
/// type (for the name and doc comment `#[portico::handler]` recorded) and name.
#[derive(Clone, Copy)]
pub(crate) struct Declare {
    pub(crate) describe: fn(&mut OperationDoc),
    pub(crate) spec: fn(&mut RouteSpec),
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
}

impl Declare {
    pub(crate) fn of<H: Handler<M>, M: 'static>() -> Self {
        Declare {
            describe: H::describe,
            spec: H::spec,
            type_id: TypeId::of::<H>(),
            type_name: std::any::type_name::<H>(),
        }
    }
}

/// What a route's declaration sets: dependencies run for their effect, tags, documented
/// responses, scopes and visibility in the document (which a router or the application can
/// set for all of its routes too), and what only a route sets (its name, summary,
/// description, operation id, success status).
#[derive(Debug, Default, Clone)]
pub(super) struct RouteSettings {
    pub(super) needs: Vec<Need>,
    pub(super) tags: Vec<String>,
    pub(super) responses: Vec<ResponseDoc>,
    pub(super) scopes: Vec<String>,
    pub(super) deprecated: bool,
    pub(super) hidden: bool,
    pub(super) summary: Option<String>,
    pub(super) description: Option<String>,
    pub(super) operation_id: Option<String>,
    pub(super) status: Option<StatusCode>,
    pub(super) response_description: Option<String>,
    pub(super) name: Option<String>,
    pub(super) content_type_check: Option<crate::ContentTypeCheck>,
    pub(super) response_fields: crate::response::fields::ResponseFields,
    pub(super) callbacks: Vec<super::Callback>,
}

impl RouteSettings {
    /// Puts `outer` (an including router's) before these: its dependencies and tags are listed
    /// first, as in FastAPI; a response documented here wins over the outer one. What only a
    /// route sets is not inherited.
    pub(super) fn inherit(&mut self, outer: &RouteSettings) {
        let mut needs = outer.needs.clone();
        needs.extend(
            self.needs
                .drain(..)
                .filter(|need| !outer.needs.contains(need)),
        );
        self.needs = needs;
        let mut tags = outer.tags.clone();
        tags.extend(self.tags.drain(..).filter(|tag| !outer.tags.contains(tag)));
        self.tags = tags;
        for response in &outer.responses {
            if !self.responses.iter().any(|r| r.status == response.status) {
                self.responses.push(response.clone());
            }
        }
        let mut scopes = outer.scopes.clone();
        scopes.extend(
            self.scopes
                .drain(..)
                .filter(|scope| !outer.scopes.contains(scope)),
        );
        self.scopes = scopes;
        self.deprecated |= outer.deprecated;
        self.hidden |= outer.hidden;
        self.content_type_check = self.content_type_check.or(outer.content_type_check);
        // The outer callbacks first, as FastAPI lists a router's before its routes'.
        let mut callbacks = outer.callbacks.clone();
        callbacks.append(&mut self.callbacks);
        self.callbacks = callbacks;
    }

    pub(super) fn tag(&mut self, tag: impl Into<String>) {
        let tag = tag.into();
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }

    /// Declares `response`; one declared before with its status takes what it adds.
    pub(super) fn response(&mut self, response: ResponseDoc) {
        match self
            .responses
            .iter_mut()
            .find(|r| r.status == response.status)
        {
            Some(declared) => declared.merge(response),
            None => self.responses.push(response),
        }
    }
}

/// Adds the builder methods of what routers and the application can set for their routes to
/// `Route`, `Router` and `App`.
macro_rules! settings_methods {
    ($what:literal, $($meta:ident).+) => {
        #[doc = concat!("Runs the dependency `T` for ", $what, " for its effect (an auth check, a rate")]
        /// limit) before the handler, without a handler parameter: FastAPI's
        /// `dependencies=[Depends(...)]`. Its failure answers the request; its value is cached for
        /// the request like any other.
        pub fn dependency<T: Send + Sync + 'static>(mut self) -> Self {
            let need = crate::context::Need::of::<T>(false);
            if !self.$($meta).+.needs.contains(&need) {
                self.$($meta).+.needs.push(need);
            }
            self
        }

        #[doc = concat!("What the body parameters of ", $what, " do with a body of a type they do")]
        /// not read (see [`ContentTypeCheck`](crate::ContentTypeCheck)); the app's otherwise.
        pub fn content_type_check(mut self, check: crate::ContentTypeCheck) -> Self {
            self.$($meta).+.content_type_check = Some(check);
            self
        }

        #[doc = concat!("FastAPI's `strict_content_type` for ", $what, ": `false` reads a JSON body")]
        /// sent without a `Content-Type` ([`ContentTypeCheck::Lax`](crate::ContentTypeCheck)),
        /// `true` refuses it with a 422 ([`ContentTypeCheck::Strict`](crate::ContentTypeCheck)).
        pub fn strict_content_type(self, strict: bool) -> Self {
            self.content_type_check(if strict {
                crate::ContentTypeCheck::Strict
            } else {
                crate::ContentTypeCheck::Lax
            })
        }

        #[doc = concat!("Tags ", $what, " in the OpenAPI document (FastAPI's `tags`).")]
        pub fn tag(mut self, tag: impl Into<String>) -> Self {
            self.$($meta).+.tag(tag);
            self
        }

        #[doc = concat!("Documents a response ", $what, " may give besides its own (FastAPI's `responses`),")]
        /// such as a 404 raised by a dependency.
        pub fn response(mut self, status: http::StatusCode, description: impl Into<String>) -> Self {
            self.$($meta).+.response(portico_openapi::ResponseDoc::new(status, description));
            self
        }

        #[doc = concat!("Requires the OAuth2 `scopes` for ", $what, ": they join the scopes of its")]
        /// security requirements in the OpenAPI document and what [`SecurityScopes`] gives the
        /// security dependencies that check them (FastAPI's `Security(..., scopes=[...])`).
        ///
        /// [`SecurityScopes`]: crate::security::SecurityScopes
        pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
            for scope in scopes {
                let scope = scope.into();
                if !self.$($meta).+.scopes.contains(&scope) {
                    self.$($meta).+.scopes.push(scope);
                }
            }
            self
        }

        #[doc = concat!("Documents `callback` as a request the API sends because of ", $what)]
        /// (FastAPI's `callbacks=`): it is written under the operation's `callbacks` in the
        /// OpenAPI document and never served. A router's or the application's callbacks come
        /// before a route's own. See [`Callback`](crate::Callback) for an example.
        pub fn callback(mut self, callback: crate::Callback) -> Self {
            self.$($meta).+.callbacks.push(callback);
            self
        }

        #[doc = concat!("Marks ", $what, " deprecated in the OpenAPI document.")]
        pub fn deprecated(mut self) -> Self {
            self.$($meta).+.deprecated = true;
            self
        }

        #[doc = concat!("Runs `f`, an `async fn(request, next) -> response`, around ", $what, ":")]
        /// FastAPI's `@app.middleware("http")`. The last one added is the outermost (see the
        /// [`middleware`](crate::middleware) module for the order and an example).
        pub fn middleware<F, Fut, R>(mut self, f: F) -> Self
        where
            F: Fn(crate::Request, crate::middleware::Next) -> Fut + Send + Sync + 'static,
            Fut: std::future::Future<Output = R> + Send + 'static,
            R: crate::IntoResponse,
        {
            self.middleware.push(crate::middleware::wrap_fn(f));
            self
        }

        #[doc = concat!("Runs a [`Middleware`](crate::middleware::Middleware) around ", $what, ", such as")]
        /// [`Cors`](crate::middleware::Cors) or `Compression`:
        /// Starlette's `add_middleware`. The last one added is the outermost.
        pub fn add_middleware<W: crate::middleware::Middleware>(mut self, middleware: W) -> Self {
            self.middleware.push(crate::middleware::wrap_middleware(middleware));
            self
        }

        #[doc = concat!("Runs a tower [`Layer`](tower_layer::Layer) around ", $what, " (feature `tower`),")]
        /// as a middleware among the others: tower-http's layers work as they do with other
        /// tower-based frameworks. A service that fails is answered 500, its error logged.
        ///
        /// # Examples
        ///
        /// ```
        /// use portico_http::App;
        /// use tower_http::set_header::SetResponseHeaderLayer;
        ///
        /// let app = App::new().get("/", || async { "hi" }).layer(
        ///     SetResponseHeaderLayer::overriding(
        ///         http::header::X_FRAME_OPTIONS,
        ///         http::HeaderValue::from_static("DENY"),
        ///     ),
        /// );
        /// let client = portico::testing::blocking_client(app);
        /// assert_eq!(client.get("/").send().header("x-frame-options"), Some("DENY"));
        /// ```
        #[cfg(feature = "tower")]
        pub fn layer<L, B>(mut self, layer: L) -> Self
        where
            L: tower_layer::Layer<crate::middleware::NextService> + Send + Sync + 'static,
            L::Service: tower_service::Service<crate::Request, Response = http::Response<B>>
                + Clone
                + Send
                + Sync
                + 'static,
            <L::Service as tower_service::Service<crate::Request>>::Future: Send + 'static,
            <L::Service as tower_service::Service<crate::Request>>::Error: Into<crate::BoxError>,
            B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
            B::Error: Into<crate::BoxError>,
        {
            self.middleware.push(crate::middleware::wrap_layer(layer));
            self
        }

        #[doc = concat!("Leaves ", $what, " out of the OpenAPI document (FastAPI's")]
        /// `include_in_schema=False`); it still answers requests.
        pub fn include_in_schema(mut self, include: bool) -> Self {
            self.$($meta).+.hidden = !include;
            self
        }

        /// As [`response`](Self::response), with the JSON Schema of its body (FastAPI's
        /// `responses={404: {"model": Message}}`): a named type is a component.
        pub fn response_json<B: schemars::JsonSchema>(
            mut self,
            status: http::StatusCode,
            description: impl Into<String>,
        ) -> Self {
            self.$($meta).+.response(
                portico_openapi::ResponseDoc::new(status, description).schema(portico_openapi::doc_schema_for::<B>(true)),
            );
            self
        }

        /// Documents another media type the response of `status` may come in, with no schema
        /// (FastAPI's `responses={200: {"content": {"image/png": {}}}}`): it joins the media
        /// types of that response, the handler's own or one declared before.
        pub fn response_media_type(
            mut self,
            status: http::StatusCode,
            media_type: impl Into<String>,
        ) -> Self {
            self.$($meta).+.response(
                portico_openapi::ResponseDoc::new(status, "").media_type(media_type, None),
            );
            self
        }

        /// Documents an example of the JSON body of the response of `status`, the handler's
        /// own or one declared before (FastAPI's
        /// `responses={200: {"content": {"application/json": {"example": ...}}}}`).
        pub fn response_example(mut self, status: http::StatusCode, example: serde_json::Value) -> Self {
            self.$($meta).+.response(portico_openapi::ResponseDoc::new(status, "").example(example));
            self
        }
    };
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("blocking", &self.blocking)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

macro_rules! route_constructors {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Panics
            ///
            /// If `path` is not a valid template (see [`Route::new`]).
            #[track_caller]
            pub fn $name<H: Handler<M>, M: 'static>(path: impl Into<String>, handler: H) -> Self {
                Self::new(Method::$method, path, handler)
            }
        )*
    };
}

impl Route {
    /// A route for `method` on `path`, answered by `handler`.
    ///
    /// Path templates use FastAPI's syntax: `/items/{item_id}` for one segment,
    /// `/files/{rest:path}` (or `/files/{*rest}`) for the rest of the path; `{{` and `}}` are
    /// literal braces. Static segments win over parameters.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid template: it must start with `/` (or be empty, for a route of
    /// a router with a prefix: see [`Router::prefix`](crate::Router::prefix)), close every
    /// brace, and name each parameter once.
    #[track_caller]
    pub fn new<H: Handler<M>, M: 'static>(
        method: Method,
        path: impl Into<String>,
        handler: H,
    ) -> Self {
        let path = path.into();
        // The empty path waits for a router's prefix; without one, building the app reports it.
        if !path.is_empty()
            && let Err(err) = parse_template(&path)
        {
            panic!("{err}");
        }
        Self::of_kind(method, path, handler, PathKind::Served)
    }

    /// A route whose path the caller has checked for its `kind`.
    pub(super) fn of_kind<H: Handler<M>, M: 'static>(
        method: Method,
        path: String,
        handler: H,
        kind: PathKind,
    ) -> Self {
        Route {
            method,
            path,
            handler: erase(handler),
            declare: Declare::of::<H, M>(),
            blocking: H::is_blocking(),
            body_limit: None,
            settings: RouteSettings::default(),
            middleware: Vec::new(),
            websocket: false,
            kind,
        }
    }

    /// What mistakes in its declaration are reported under: `GET /items`, or `the webhook POST
    /// new-subscription`.
    pub(super) fn label(&self) -> String {
        match self.kind {
            PathKind::Served => format!("{} {}", self.method, self.path),
            PathKind::Webhook => format!("the webhook {} {}", self.method, self.path),
            PathKind::Callback => format!("the callback {} {}", self.method, self.path),
        }
    }

    route_constructors! {
        /// A `GET` route (which answers `HEAD` too).
        get => GET;
        /// A `POST` route.
        post => POST;
        /// A `PUT` route.
        put => PUT;
        /// A `DELETE` route.
        delete => DELETE;
        /// A `PATCH` route.
        patch => PATCH;
        /// A `HEAD` route (a `GET` route answers `HEAD` already).
        head => HEAD;
        /// An `OPTIONS` route.
        options => OPTIONS;
        /// A `TRACE` route.
        trace => TRACE;
    }

    /// The largest body this route accepts, in bytes, instead of the router's or the
    /// application's (2 MiB by default). Past it the request is answered 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    settings_methods!("this route", settings);

    /// The route's name for `url_for` in templates and
    /// [`AppService::url_path_for`](crate::AppService::url_path_for), instead of its handler
    /// function's name (FastAPI's `name=`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.settings.name = Some(name.into());
        self
    }

    /// The operation's summary in the OpenAPI document, instead of the handler's name in words
    /// (`read_item` is "Read Item"), as FastAPI's `summary`.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.settings.summary = Some(summary.into());
        self
    }

    /// The operation's description (Markdown), instead of the rest of the handler's doc
    /// comment.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.settings.description = Some(description.into());
        self
    }

    /// The operation's `operationId`, instead of FastAPI's `{name}{path}_{method}`
    /// (`read_item_items__item_id__get`). It must be unique in the document.
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.settings.operation_id = Some(id.into());
        self
    }

    /// The status of a successful response (FastAPI's `status_code`): documented, and given to
    /// the handler's response when it answers 200 (a handler that sets another status, or
    /// fails, keeps its own).
    ///
    /// ```
    /// use http::StatusCode;
    /// use portico_http::{App, Json, Route};
    ///
    /// async fn create(Json(name): Json<String>) -> Json<String> {
    ///     Json(name)
    /// }
    ///
    /// let app = App::new().route(Route::post("/items", create).status_code(StatusCode::CREATED));
    /// let client = portico::testing::blocking_client(app);
    /// assert_eq!(client.post("/items").json(&"pen").send().status(), 201);
    /// ```
    pub fn status_code(mut self, status: StatusCode) -> Self {
        self.settings.status = Some(status);
        self
    }

    /// The description of the successful response ("Successful Response" by default).
    pub fn response_description(mut self, description: impl Into<String>) -> Self {
        self.settings.response_description = Some(description.into());
        self
    }

    /// Answers only these top-level fields of the handler's successful JSON response (of each
    /// item, for a list), FastAPI's `response_model_include`. The document still describes the
    /// whole model, as FastAPI's does.
    ///
    /// ```
    /// use portico_http::{App, Json, Route};
    ///
    /// async fn read() -> Json<serde_json::Value> {
    ///     Json(serde_json::json!({"name": "Bar", "description": "The Bar fighters", "tax": 20.2}))
    /// }
    ///
    /// let route = Route::get("/items/bar/name", read).response_model_include(["name", "description"]);
    /// let client = portico::testing::blocking_client(App::new().route(route));
    /// let answer = client.get("/items/bar/name").send();
    /// assert_eq!(answer.text(), r#"{"name":"Bar","description":"The Bar fighters"}"#);
    /// ```
    pub fn response_model_include<S: Into<String>>(
        mut self,
        fields: impl IntoIterator<Item = S>,
    ) -> Self {
        self.settings.response_fields.include = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Leaves these top-level fields out of the handler's successful JSON response (of each
    /// item, for a list), FastAPI's `response_model_exclude`.
    pub fn response_model_exclude<S: Into<String>>(
        mut self,
        fields: impl IntoIterator<Item = S>,
    ) -> Self {
        self.settings
            .response_fields
            .exclude
            .extend(fields.into_iter().map(Into::into));
        self
    }

    /// Leaves the fields whose value is `null` out of the handler's successful JSON response,
    /// at every depth, FastAPI's `response_model_exclude_none`. (FastAPI's
    /// `response_model_exclude_unset` is the model [`Partial`](crate::Partial), which remembers
    /// the fields its input set.)
    pub fn response_model_exclude_none(mut self) -> Self {
        self.settings.response_fields.exclude_none = true;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template.
    pub fn path(&self) -> &str {
        &self.path
    }
}
