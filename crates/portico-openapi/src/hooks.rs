//! Operations the API documents but does not serve: the requests it makes to its users'
//! servers. A callback ([`CallbackDoc`]) belongs to the operation whose request triggers it and
//! is written under that operation's `callbacks`; a webhook is an operation of the document's
//! top-level `webhooks` map (see [`document_with_webhooks`](crate::document_with_webhooks)).

use std::collections::HashMap;

use http::Method;
use serde_json::{Map, Value};

use crate::components::Components;
use crate::document::{Operation, operation};
use crate::operation::OperationDoc;

/// A callback of an operation: a request the API sends to its client's server while (or after)
/// answering that operation, documented under the operation's `callbacks` (FastAPI's
/// `callbacks=`).
///
/// The document keys it by `name`, then by `expression`, then by `method`: callbacks that
/// share a name and an expression are one Path Item with several methods.
///
/// # Examples
///
/// ```
/// use http::Method;
/// use portico_openapi::{CallbackDoc, Info, Operation, OperationDoc, document};
///
/// let mut notify = OperationDoc::default();
/// notify.handler_name = Some("invoice_notification".into());
///
/// let mut create = OperationDoc::default();
/// create.handler_name = Some("create_invoice".into());
/// create.callbacks.push(CallbackDoc::new(
///     "invoice_notification",
///     "{$request.body#/callback_url}/invoices/{$request.body#/id}",
///     Method::POST,
///     notify,
/// ));
///
/// let op = Operation { method: &Method::POST, template: "/invoices/", doc: &create };
/// let doc = document(&Info::default(), [op]);
/// let callback = &doc["paths"]["/invoices/"]["post"]["callbacks"]["invoice_notification"]
///     ["{$request.body#/callback_url}/invoices/{$request.body#/id}"]["post"];
/// assert_eq!(callback["summary"], "Invoice Notification");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallbackDoc {
    /// The callback's name, its key in the operation's `callbacks` (FastAPI's: the callback
    /// route's name, its function's unless given).
    pub name: String,
    /// The URL the request goes to, a template whose `{$...}` parts are OpenAPI runtime
    /// expressions (`{$request.body#/id}`), written as is.
    pub expression: String,
    /// The request's method.
    pub method: Method,
    /// What the request carries and what the client's server is expected to answer.
    pub doc: OperationDoc,
}

impl CallbackDoc {
    /// The callback `name`: a `method` request to `expression`, described by `doc`.
    pub fn new(
        name: impl Into<String>,
        expression: impl Into<String>,
        method: Method,
        doc: OperationDoc,
    ) -> Self {
        CallbackDoc {
            name: name.into(),
            expression: expression.into(),
            method,
            doc,
        }
    }
}

/// What is shared by every operation written into one document: its named schemas, security
/// schemes and the `operationId`s given so far.
pub(crate) struct Shared<'s> {
    pub(crate) components: &'s mut Components,
    pub(crate) schemes: &'s mut Map<String, Value>,
    pub(crate) ids: &'s mut HashMap<String, usize>,
}

/// The `callbacks` object of an operation documented by `doc`, or `None` when it has no
/// callback to show. A callback's security scheme joins the document's, as a route's does.
pub(crate) fn callbacks(doc: &OperationDoc, shared: &mut Shared<'_>) -> Option<Value> {
    let mut out: Map<String, Value> = Map::new();
    for callback in doc.callbacks.iter().filter(|c| !c.doc.hidden) {
        let op = Operation {
            method: &callback.method,
            template: &callback.expression,
            doc: &callback.doc,
        };
        let written = operation(&op, &callback.expression, shared);
        let method = callback.method.as_str().to_ascii_lowercase();
        let by_expression = out
            .entry(callback.name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(by_expression) = by_expression {
            let item = by_expression
                .entry(callback.expression.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(item) = item {
                item.insert(method, written);
            }
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Takes the schemas `doc` reads (its parameters' and body's, and its callbacks') into
/// `components`, as inputs: a type read and written keeps its name for what it reads.
pub(crate) fn absorb_inputs(doc: &OperationDoc, components: &mut Components) {
    for param in &doc.params {
        components.absorb(&param.schema, false);
    }
    if let Some(body) = &doc.body {
        components.absorb(&body.schema, false);
    }
    for callback in doc.callbacks.iter().filter(|c| !c.doc.hidden) {
        absorb_inputs(&callback.doc, components);
    }
}
