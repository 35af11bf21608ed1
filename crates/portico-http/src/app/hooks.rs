//! [`Webhook`] and [`Callback`]: operations an application documents but does not serve, the
//! requests it sends to its users' servers. Each is declared with a handler, as a route is, so
//! that its body, parameters and answer are documented from the same types the sending code
//! uses; the handler is never called.

use std::fmt;

use http::Method;
use portico_openapi::{CallbackDoc, Operation, OperationDoc};

use super::build;
use super::route::{PathKind, Route};
use crate::depends::Registry;
use crate::handler::Handler;
use crate::routing::parse_callback;

/// A webhook: a request the application sends to the servers its users register, documented
/// in the OpenAPI document's top-level `webhooks` map (OpenAPI 3.1; FastAPI's `app.webhooks`)
/// under its name, and never served.
///
/// Its handler describes it as a route's does: its summary is the function's name in words,
/// its description the function's doc comment (with `#[portico::handler]`), its request body
/// the handler's `Json<T>` parameter, its successful answer the handler's return type. The
/// handler is never called; its body can be empty. Add it with [`App::webhook`](crate::App::webhook).
///
/// # Examples
///
/// ```
/// use portico_http::{App, Json, Webhook};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Subscription {
///     username: String,
///     monthly_fee: f64,
/// }
///
/// /// Sent to the URL registered for `new-subscription` when a user subscribes.
/// #[portico::handler]
/// async fn new_subscription(Json(_body): Json<Subscription>) {}
///
/// let app = App::new().webhook(Webhook::post("new-subscription", new_subscription));
/// let doc = app.openapi();
/// let hook = &doc["webhooks"]["new-subscription"]["post"];
/// assert_eq!(hook["summary"], "New Subscription");
/// assert_eq!(hook["operationId"], "new_subscriptionnew_subscription_post");
/// assert_eq!(
///     hook["requestBody"]["content"]["application/json"]["schema"]["$ref"],
///     "#/components/schemas/Subscription"
/// );
///
/// // Nothing answers it.
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.post("/new-subscription").send().status(), 404);
/// ```
pub struct Webhook {
    route: Route,
}

/// A callback: a request the application sends to its client's server because of an
/// operation, documented under that operation's `callbacks` in the OpenAPI document (FastAPI's
/// `callbacks=`), and never served. Attach it with `callback` on a [`Route`], or on a
/// [`Router`](crate::Router) or the [`App`](crate::App) for every route they hold.
///
/// Its URL is a template whose `{$...}` parts are OpenAPI runtime expressions, read from the
/// request that triggered it (`{$request.body#/id}`, `{$request.query.callback_url}`) and kept
/// as written; `{name}` parts are path parameters, read by its handler's `Path` as a route's.
/// The document keys it by its name (its handler function's, or [`name`](Self::name)), then by
/// its URL, then by its method.
///
/// Its handler describes it as a route's does: its `Json<T>` parameter is the body the
/// application sends, its return type what it expects back. The handler is never called.
///
/// # Panics
///
/// The constructors panic if the URL is empty, leaves a brace open, or has an empty runtime
/// expression `{$}`.
///
/// # Examples
///
/// ```
/// use portico_http::{App, Callback, Json, Query, Route};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Invoice {
///     id: String,
///     total: f64,
/// }
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct InvoiceEvent {
///     description: String,
///     paid: bool,
/// }
///
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct InvoiceEventReceived {
///     ok: bool,
/// }
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Notify {
///     callback_url: Option<String>,
/// }
///
/// async fn create_invoice(_notify: Query<Notify>, Json(invoice): Json<Invoice>) -> String {
///     format!("invoice {} received", invoice.id)
/// }
///
/// /// What the client's server answers to the notification.
/// async fn invoice_notification(Json(_event): Json<InvoiceEvent>) -> Json<InvoiceEventReceived> {
///     Json(InvoiceEventReceived { ok: true })
/// }
///
/// let notify = Callback::post(
///     "{$request.query.callback_url}/invoices/{$request.body#/id}",
///     invoice_notification,
/// );
/// let app = App::new().route(Route::post("/invoices/", create_invoice).callback(notify));
///
/// let doc = app.openapi();
/// let callback = &doc["paths"]["/invoices/"]["post"]["callbacks"]["invoice_notification"]
///     ["{$request.query.callback_url}/invoices/{$request.body#/id}"]["post"];
/// assert_eq!(callback["summary"], "Invoice Notification");
/// assert_eq!(
///     callback["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
///     "#/components/schemas/InvoiceEventReceived"
/// );
/// ```
pub struct Callback {
    route: Route,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("method", &self.route.method)
            .field("name", &self.route.path)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("method", &self.route.method)
            .field("url", &self.route.path)
            .field("name", &self.route.settings.name)
            .finish_non_exhaustive()
    }
}

/// A callback is cheap to clone, so that one can be attached to several routes, as FastAPI's
/// `callbacks=router.routes` is.
impl Clone for Callback {
    fn clone(&self) -> Self {
        let route = &self.route;
        Callback {
            route: Route {
                method: route.method.clone(),
                path: route.path.clone(),
                handler: route.handler.clone(),
                declare: route.declare,
                blocking: route.blocking,
                body_limit: route.body_limit,
                settings: route.settings.clone(),
                middleware: route.middleware.clone(),
                websocket: route.websocket,
                kind: route.kind,
            },
        }
    }
}

/// The per-method constructors of `Webhook` and `Callback`, from their `new`.
macro_rules! hook_constructors {
    ($arg:ident, $($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Panics
            ///
            /// As [`new`](Self::new).
            #[track_caller]
            pub fn $name<H: Handler<M>, M: 'static>($arg: impl Into<String>, handler: H) -> Self {
                Self::new(Method::$method, $arg, handler)
            }
        )*
    };
}

/// The documentation settings of `Webhook` and `Callback`, passed on to their route.
macro_rules! documented_settings {
    ($what:literal) => {
        #[doc = concat!("The summary of ", $what, " in the document, instead of its handler's name")]
        /// in words (`new_subscription` is "New Subscription").
        pub fn summary(self, summary: impl Into<String>) -> Self {
            Self { route: self.route.summary(summary) }
        }

        #[doc = concat!("The description of ", $what, " (Markdown), instead of its handler's doc")]
        /// comment.
        pub fn description(self, description: impl Into<String>) -> Self {
            Self { route: self.route.description(description) }
        }

        #[doc = concat!("The `operationId` of ", $what, ", instead of FastAPI's")]
        /// `{function}{name or URL}_{method}`. It must be unique in the document.
        pub fn operation_id(self, id: impl Into<String>) -> Self {
            Self { route: self.route.operation_id(id) }
        }

        #[doc = concat!("Tags ", $what, " in the document.")]
        pub fn tag(self, tag: impl Into<String>) -> Self {
            Self { route: self.route.tag(tag) }
        }

        #[doc = concat!("Documents another answer ", $what, " may get besides its handler's own.")]
        pub fn response(self, status: http::StatusCode, description: impl Into<String>) -> Self {
            Self { route: self.route.response(status, description) }
        }

        /// As [`response`](Self::response), with the JSON Schema of its body: a named type is a
        /// component.
        pub fn response_json<B: schemars::JsonSchema>(
            self,
            status: http::StatusCode,
            description: impl Into<String>,
        ) -> Self {
            Self { route: self.route.response_json::<B>(status, description) }
        }

        /// Documents an example of the JSON body of the answer of `status`.
        pub fn response_example(self, status: http::StatusCode, example: serde_json::Value) -> Self {
            Self { route: self.route.response_example(status, example) }
        }

        #[doc = concat!("The status of the successful answer to ", $what, " (200 by default).")]
        pub fn status_code(self, status: http::StatusCode) -> Self {
            Self { route: self.route.status_code(status) }
        }

        /// The description of the successful answer ("Successful Response" by default).
        pub fn response_description(self, description: impl Into<String>) -> Self {
            Self { route: self.route.response_description(description) }
        }

        #[doc = concat!("Marks ", $what, " deprecated in the document.")]
        pub fn deprecated(self) -> Self {
            Self { route: self.route.deprecated() }
        }

        #[doc = concat!("Leaves ", $what, " out of the document (`false`), as FastAPI's")]
        /// `include_in_schema=False`.
        pub fn include_in_schema(self, include: bool) -> Self {
            Self { route: self.route.include_in_schema(include) }
        }

        #[doc = concat!("Documents the dependency `T` for ", $what, ": its parameters and security")]
        /// requirements join the operation's, as FastAPI's `dependencies=[Depends(...)]`. Its
        /// provider must be registered with [`App::provide`](crate::App::provide).
        pub fn dependency<T: Send + Sync + 'static>(self) -> Self {
            Self { route: self.route.dependency::<T>() }
        }

        #[doc = concat!("Documents the OAuth2 `scopes` ", $what, " requires.")]
        pub fn scopes<S: Into<String>>(self, scopes: impl IntoIterator<Item = S>) -> Self {
            Self { route: self.route.scopes(scopes) }
        }
    };
}

impl Webhook {
    /// A webhook named `name`: a `method` request the application sends, described by
    /// `handler`. The name is the webhook's key in the document (`new-subscription`), any
    /// text but the empty one.
    ///
    /// # Panics
    ///
    /// If `name` is empty.
    #[track_caller]
    pub fn new<H: Handler<M>, M: 'static>(
        method: Method,
        name: impl Into<String>,
        handler: H,
    ) -> Self {
        let name = name.into();
        assert!(!name.is_empty(), "a webhook needs a name");
        Webhook {
            route: Route::of_kind(method, name, handler, PathKind::Webhook),
        }
    }

    hook_constructors! {
        name,
        /// A `POST` webhook.
        post => POST;
        /// A `PUT` webhook.
        put => PUT;
        /// A `PATCH` webhook.
        patch => PATCH;
        /// A `DELETE` webhook.
        delete => DELETE;
        /// A `GET` webhook.
        get => GET;
    }

    documented_settings!("the webhook");

    /// The method.
    pub fn method(&self) -> &Method {
        &self.route.method
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.route.path
    }
}

impl Callback {
    /// A callback: a `method` request to `url`, described by `handler`.
    ///
    /// # Panics
    ///
    /// If `url` is empty, leaves a brace open, has an empty runtime expression `{$}`, or
    /// names a path parameter twice.
    #[track_caller]
    pub fn new<H: Handler<M>, M: 'static>(
        method: Method,
        url: impl Into<String>,
        handler: H,
    ) -> Self {
        let url = url.into();
        if let Err(err) = parse_callback(&url) {
            panic!("{err}");
        }
        Callback {
            route: Route::of_kind(method, url, handler, PathKind::Callback),
        }
    }

    hook_constructors! {
        url,
        /// A `POST` callback.
        post => POST;
        /// A `PUT` callback.
        put => PUT;
        /// A `PATCH` callback.
        patch => PATCH;
        /// A `DELETE` callback.
        delete => DELETE;
        /// A `GET` callback.
        get => GET;
    }

    documented_settings!("the callback");

    /// The callback's name, its key in the operation's `callbacks`, instead of its handler
    /// function's name (FastAPI's `name=`). A callback whose handler is a closure needs one.
    pub fn name(self, name: impl Into<String>) -> Self {
        Callback {
            route: self.route.name(name),
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.route.method
    }

    /// The URL template.
    pub fn url(&self) -> &str {
        &self.route.path
    }
}

/// A webhook as the document shows it.
#[derive(Debug)]
pub(crate) struct WebhookDoc {
    method: Method,
    name: String,
    doc: OperationDoc,
}

impl WebhookDoc {
    /// The webhook as the document builder takes it.
    pub(crate) fn operation(&self) -> Operation<'_> {
        Operation {
            method: &self.method,
            template: &self.name,
            doc: &self.doc,
        }
    }
}

/// Has each webhook declare itself; mistakes go to `problems`, a webhook declared twice among
/// them.
pub(super) fn declare_webhooks(
    webhooks: &[Webhook],
    registry: &Registry,
    problems: &mut Vec<String>,
) -> Vec<WebhookDoc> {
    let mut docs: Vec<WebhookDoc> = Vec::with_capacity(webhooks.len());
    for webhook in webhooks {
        let route = &webhook.route;
        if docs
            .iter()
            .any(|known| known.method == route.method && known.name == route.path)
        {
            problems.push(format!(
                "two webhooks for {} {}; a webhook is documented once per method and name",
                route.method, route.path
            ));
            continue;
        }
        if let Some(declared) = build::declare(route, None, 0, registry, problems) {
            docs.push(WebhookDoc {
                method: route.method.clone(),
                name: route.path.clone(),
                doc: declared.doc,
            });
        }
    }
    docs
}

/// Has each callback of a route declare itself. A mistake is reported once however many
/// routes share the callback.
pub(super) fn declare_callbacks(
    callbacks: &[Callback],
    registry: &Registry,
    problems: &mut Vec<String>,
) -> Vec<CallbackDoc> {
    let mut docs = Vec::with_capacity(callbacks.len());
    for callback in callbacks {
        let route = &callback.route;
        let mut found = Vec::new();
        let declared = build::declare(route, None, 0, registry, &mut found);
        let name = route.settings.name.clone().or_else(|| {
            declared
                .as_ref()
                .and_then(|declared| declared.doc.handler_name.clone())
        });
        if name.is_none() {
            found.push(format!(
                "{}: its handler is a closure, which has no name to key the callback by in the document; give it one with `Callback::name`",
                route.label()
            ));
        }
        for problem in found {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        let (Some(declared), Some(name)) = (declared, name) else {
            continue;
        };
        let Ok((url, _)) = parse_callback(&route.path) else {
            continue;
        };
        docs.push(CallbackDoc::new(
            name,
            url,
            route.method.clone(),
            declared.doc,
        ));
    }
    docs
}
