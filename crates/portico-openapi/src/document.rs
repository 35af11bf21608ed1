//! The document: every operation, with the named schemas they share.

use std::collections::HashMap;

use http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::components::Components;
use crate::hooks::{self, Shared};
use crate::info::Info;
use crate::operation::{OperationDoc, ReturnDoc};

/// The OpenAPI version of the documents Portico writes.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// One operation as the document builder sees it: a method, a route template in FastAPI's
/// syntax, and what the operation documents.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    /// The method.
    pub method: &'a Method,
    /// The route template (`/items/{item_id}`, `/files/{rest:path}`).
    pub template: &'a str,
    /// What the operation reads and answers.
    pub doc: &'a OperationDoc,
}

/// Builds the OpenAPI 3.1 document of `operations`, in their order, under `info`.
///
/// Schemas are taken apart into `components/schemas` (one per named type, renamed when two
/// differ), each operation gets FastAPI's `operationId` unless it has its own, and every
/// operation that validates input documents FastAPI's 422.
///
/// # Examples
///
/// ```
/// use portico_openapi::{Info, Operation, OperationDoc, ParamDoc, Source, document};
///
/// let mut doc = OperationDoc::default();
/// doc.handler_name = Some("read_item".into());
/// doc.param(ParamDoc::new("item_id", Source::Path, serde_json::json!({"type": "integer"})).required(true));
/// let op = Operation { method: &http::Method::GET, template: "/items/{item_id}", doc: &doc };
/// let document = document(&Info::default(), [op]);
/// let get = &document["paths"]["/items/{item_id}"]["get"];
/// assert_eq!(get["operationId"], "read_item_items__item_id__get");
/// assert_eq!(get["summary"], "Read Item");
/// assert_eq!(get["responses"]["422"]["description"], "Validation Error");
/// ```
pub fn document<'a>(info: &Info, operations: impl IntoIterator<Item = Operation<'a>>) -> Value {
    document_with_webhooks(info, operations, [])
}

/// As [`document`], with `webhooks`: operations the API does not serve but sends to its
/// users' servers, written under the document's top-level `webhooks` (OpenAPI 3.1, FastAPI's
/// `app.webhooks`). A webhook's `template` is its name, the key it is written under as is
/// (`new-subscription`); its schemas join the document's components, and its `operationId`
/// is made as a route's, from its handler's name and its own.
///
/// # Examples
///
/// ```
/// use portico_openapi::{BodyDoc, Info, Operation, OperationDoc, document_with_webhooks};
///
/// let mut hook = OperationDoc::default();
/// hook.handler_name = Some("new_subscription".into());
/// hook.body(BodyDoc::new("application/json", serde_json::json!({"type": "object"}), true));
/// let webhook = Operation { method: &http::Method::POST, template: "new-subscription", doc: &hook };
///
/// let doc = document_with_webhooks(&Info::default(), [], [webhook]);
/// let post = &doc["webhooks"]["new-subscription"]["post"];
/// assert_eq!(post["operationId"], "new_subscriptionnew_subscription_post");
/// assert_eq!(doc["paths"], serde_json::json!({}));
/// ```
pub fn document_with_webhooks<'a>(
    info: &Info,
    operations: impl IntoIterator<Item = Operation<'a>>,
    webhooks: impl IntoIterator<Item = Operation<'a>>,
) -> Value {
    let config = info;
    let mut components = Components::default();
    let mut schemes = Map::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let operations: Vec<Operation<'a>> = operations.into_iter().collect();
    let webhooks: Vec<Operation<'a>> = webhooks.into_iter().collect();
    // Inputs first: a type read and written keeps its name for what it reads, and what it
    // writes, when that differs (a defaulted field is always written), is `Name-Output`.
    for op in operations
        .iter()
        .chain(&webhooks)
        .filter(|op| !op.doc.hidden)
    {
        hooks::absorb_inputs(op.doc, &mut components);
    }
    let mut shared = Shared {
        components: &mut components,
        schemes: &mut schemes,
        ids: &mut ids,
    };
    let paths = path_items(&operations, openapi_path, &mut shared);
    // A webhook's name is its key as given, not a route template.
    let webhooks = path_items(&webhooks, str::to_owned, &mut shared);

    let mut info = Map::new();
    info.insert("title".into(), Value::String(config.title.clone()));
    insert_some(&mut info, "summary", config.summary.as_deref());
    insert_some(&mut info, "description", config.description.as_deref());
    insert_some(
        &mut info,
        "termsOfService",
        config.terms_of_service.as_deref(),
    );
    if let Some(contact) = &config.contact {
        info.insert("contact".into(), contact.to_value());
    }
    if let Some(license) = &config.license {
        info.insert("license".into(), license.to_value());
    }
    info.insert("version".into(), Value::String(config.version.clone()));

    let mut doc = Map::new();
    doc.insert("openapi".into(), Value::String(OPENAPI_VERSION.into()));
    doc.insert("info".into(), Value::Object(info));
    if !config.servers.is_empty() {
        let servers = config
            .servers
            .iter()
            .map(|(url, description)| {
                let mut server = Map::new();
                server.insert("url".into(), Value::String(url.clone()));
                insert_some(&mut server, "description", description.as_deref());
                Value::Object(server)
            })
            .collect();
        doc.insert("servers".into(), Value::Array(servers));
    }
    if config.root_path_in_servers {
        list_root_path(&mut doc, &config.root_path);
    }
    doc.insert("paths".into(), paths);
    if webhooks.as_object().is_some_and(|w| !w.is_empty()) {
        doc.insert("webhooks".into(), webhooks);
    }
    let mut component_map = Map::new();
    if !components.is_empty() {
        component_map.insert("schemas".into(), components.into_value());
    }
    if !schemes.is_empty() {
        component_map.insert("securitySchemes".into(), Value::Object(schemes));
    }
    if !component_map.is_empty() {
        doc.insert("components".into(), Value::Object(component_map));
    }
    if !config.tags.is_empty() {
        let tags = config.tags.iter().map(crate::info::Tag::to_value).collect();
        doc.insert("tags".into(), Value::Array(tags));
    }
    Value::Object(doc)
}

/// Lists `root_path`, the prefix an application is reached under (behind a proxy, or as a
/// mounted application), first among the `servers` of `document`, unless it is empty or listed
/// already: what FastAPI does with `root_path` when `root_path_in_servers` is on.
///
/// # Examples
///
/// ```
/// let mut document = portico_openapi::document(&portico_openapi::Info::default(), []);
/// portico_openapi::add_root_server(&mut document, "/subapi/");
/// assert_eq!(document["servers"], serde_json::json!([{"url": "/subapi"}]));
/// portico_openapi::add_root_server(&mut document, "/subapi");
/// assert_eq!(document["servers"].as_array().unwrap().len(), 1);
/// ```
pub fn add_root_server(document: &mut Value, root_path: &str) {
    if let Value::Object(doc) = document {
        list_root_path(doc, root_path);
    }
}

fn list_root_path(doc: &mut Map<String, Value>, root_path: &str) {
    let root_path = root_path.trim_end_matches('/');
    if root_path.is_empty() {
        return;
    }
    let servers = doc
        .entry("servers")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(servers) = servers
        && !servers.iter().any(|server| server["url"] == root_path)
    {
        servers.insert(0, json!({ "url": root_path }));
    }
}

/// The path items of `operations`, keyed by `key(template)` in the order first seen: the
/// document's `paths`, or its `webhooks`.
fn path_items(
    operations: &[Operation<'_>],
    key: impl Fn(&str) -> String,
    shared: &mut Shared<'_>,
) -> Value {
    let mut items: Map<String, Value> = Map::new();
    for op in operations.iter().filter(|op| !op.doc.hidden) {
        let path = key(op.template);
        let written = operation(op, &path, shared);
        let method = op.method.as_str().to_ascii_lowercase();
        let item = items
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(method, written);
        }
    }
    Value::Object(items)
}

/// One operation object; `path` is the key it is written under, which its default
/// `operationId` is made from.
pub(crate) fn operation(op: &Operation<'_>, path: &str, shared: &mut Shared<'_>) -> Value {
    let Shared {
        components,
        schemes,
        ids,
    } = shared;
    let doc = op.doc;
    let mut out = Map::new();
    if !doc.tags.is_empty() {
        out.insert("tags".into(), json!(doc.tags));
    }
    let (summary, description) = summary_and_description(doc);
    insert_some(&mut out, "summary", summary.as_deref());
    insert_some(&mut out, "description", description.as_deref());
    let operation_id = doc
        .operation_id
        .clone()
        .unwrap_or_else(|| default_operation_id(doc.handler_name.as_deref(), path, op.method));
    // Unique within the document, as OpenAPI requires: a repeat gets a number.
    let seen = ids.entry(operation_id.clone()).or_insert(0);
    *seen += 1;
    let operation_id = if *seen == 1 {
        operation_id
    } else {
        format!("{operation_id}_{seen}")
    };
    out.insert("operationId".into(), Value::String(operation_id.clone()));
    if doc.deprecated {
        out.insert("deprecated".into(), Value::Bool(true));
    }

    let params: Vec<Value> = doc
        .params
        .iter()
        .map(|param| {
            let schema = components.absorb(&param.schema, false);
            let mut p = Map::new();
            p.insert("name".into(), Value::String(param.name.clone()));
            p.insert("in".into(), Value::String(param.source.as_str().into()));
            p.insert("required".into(), Value::Bool(param.required));
            if let Some(description) = schema.get("description").and_then(Value::as_str) {
                p.insert("description".into(), Value::String(description.to_owned()));
            }
            if schema.get("deprecated") == Some(&Value::Bool(true)) {
                p.insert("deprecated".into(), Value::Bool(true));
            }
            p.insert("schema".into(), schema);
            Value::Object(p)
        })
        .collect();
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }

    if let Some(body) = &doc.body {
        let mut schema = components.absorb(&body.schema, false);
        if body.named_by_operation && schema.get("$ref").is_none() {
            let name = format!("Body_{operation_id}");
            if let Some(map) = schema.as_object_mut() {
                map.insert("title".into(), Value::String(name.clone()));
            }
            components.insert(&name, schema);
            schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        }
        out.insert(
            "requestBody".into(),
            json!({
                "content": { body.media_type: { "schema": schema } },
                "required": body.required,
            }),
        );
    }
    if let Some(callbacks) = hooks::callbacks(
        doc,
        &mut Shared {
            components,
            schemes,
            ids,
        },
    ) {
        out.insert("callbacks".into(), callbacks);
    }

    let mut responses: Vec<(String, Value)> = Vec::new();
    let status = doc.status.unwrap_or(StatusCode::OK);
    let mut success = Map::new();
    success.insert(
        "description".into(),
        Value::String(
            doc.response_description
                .clone()
                .unwrap_or_else(|| "Successful Response".to_owned()),
        ),
    );
    let no_content = status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational();
    match &doc.returns {
        _ if no_content => {}
        ReturnDoc::Empty => {}
        ReturnDoc::Unknown => {
            success.insert(
                "content".into(),
                json!({"application/json": {"schema": {}}}),
            );
        }
        ReturnDoc::Body { media_type, schema } => {
            let schema = schema
                .as_ref()
                .map_or_else(|| json!({}), |s| components.absorb(s, true));
            success.insert(
                "content".into(),
                json!({ *media_type: { "schema": schema } }),
            );
        }
    }
    responses.push((status.as_str().to_owned(), Value::Object(success)));

    for response in &doc.responses {
        let code = response.status.as_str().to_owned();
        let index = match responses.iter().position(|(c, _)| *c == code) {
            Some(index) => index,
            None => {
                responses.push((code, Value::Object(Map::new())));
                responses.len() - 1
            }
        };
        if let Value::Object(existing) = &mut responses[index].1 {
            add_response(existing, response, components);
        }
    }

    let mut security = Vec::new();
    for requirement in &doc.security {
        schemes
            .entry(requirement.name.clone())
            .or_insert_with(|| requirement.scheme.clone());
        let scopes: Vec<&String> = if requirement.takes_scopes() {
            let mut scopes: Vec<&String> = requirement.scopes.iter().collect();
            for scope in &doc.scopes {
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
            scopes
        } else {
            Vec::new()
        };
        let entry = json!({ requirement.name.clone(): scopes });
        if !security.contains(&entry) {
            security.push(entry);
        }
    }
    if !security.is_empty() {
        out.insert("security".into(), Value::Array(security));
    }

    if doc.validates && !responses.iter().any(|(c, _)| c == "422") {
        add_validation_schemas(components);
        responses.push((
            "422".into(),
            json!({
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
            }),
        ));
    }
    responses.sort_by(|a, b| a.0.cmp(&b.0));
    out.insert(
        "responses".into(),
        Value::Object(responses.into_iter().collect()),
    );
    Value::Object(out)
}

/// Adds a declared response to the one documented for its status (empty if none), as FastAPI
/// merges `responses=` into an operation's: a description given replaces the earlier one, a
/// schema given replaces the JSON body's, and media types join the content. A response
/// declared with a description alone has no content, as FastAPI's.
fn add_response(
    existing: &mut Map<String, Value>,
    response: &crate::operation::ResponseDoc,
    components: &mut Components,
) {
    let description = Some(response.description.as_str())
        .filter(|d| !d.is_empty())
        .or_else(|| existing.get("description").and_then(Value::as_str))
        .or_else(|| response.status.canonical_reason())
        .unwrap_or("Additional Response")
        .to_owned();
    existing.insert("description".into(), Value::String(description));
    let mut media = |media_type: &str, key: &str, value: Value| {
        let content = existing
            .entry("content")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(content) = content {
            let entry = content
                .entry(media_type)
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(entry), false) = (entry, key.is_empty()) {
                entry.insert(key.into(), value);
            }
        }
    };
    if let Some(schema) = &response.schema {
        media(
            "application/json",
            "schema",
            components.absorb(schema, true),
        );
    }
    if let Some(example) = &response.example {
        media("application/json", "example", example.clone());
    }
    for (media_type, schema) in &response.media_types {
        match schema {
            Some(schema) => media(media_type, "schema", components.absorb(schema, true)),
            None => media(media_type, "", Value::Null),
        }
    }
}

/// FastAPI's `HTTPValidationError` and `ValidationError`, the body of every 422.
fn add_validation_schemas(components: &mut Components) {
    components.insert(
        "HTTPValidationError",
        json!({
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {
                "detail": {
                    "title": "Detail",
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ValidationError"},
                },
            },
        }),
    );
    components.insert(
        "ValidationError",
        json!({
            "title": "ValidationError",
            "type": "object",
            "properties": {
                "loc": {
                    "title": "Location",
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": {"title": "Message", "type": "string"},
                "type": {"title": "Error Type", "type": "string"},
                "input": {"title": "Input"},
                "ctx": {"title": "Context", "type": "object"},
            },
            "required": ["loc", "msg", "type"],
        }),
    );
}

/// An operation's summary and description, as FastAPI makes them: the summary set on the
/// route, or the handler's name in words (`read_item` is "Read Item"); the description set on
/// the route, or the handler's whole doc comment (FastAPI's docstring).
fn summary_and_description(doc: &OperationDoc) -> (Option<String>, Option<String>) {
    let summary = doc
        .summary
        .clone()
        .or_else(|| doc.handler_name.as_deref().map(title_case));
    let comment = doc
        .handler_doc
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned);
    let description = doc.description.clone().or(comment);
    (summary, description)
}

/// `read_item` as "Read Item".
fn title_case(name: &str) -> String {
    name.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// FastAPI's default `operationId`: the handler's name and the path with every character that
/// is not a letter, digit or `_` made `_`, then the method: `read_item_items__item_id__get`.
fn default_operation_id(name: Option<&str>, path: &str, method: &Method) -> String {
    let raw = format!("{}{path}", name.unwrap_or_default());
    let mut id: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let id_trimmed = id.trim_start_matches('_');
    if id_trimmed.len() != id.len() {
        id = id_trimmed.to_owned();
    }
    format!("{id}_{}", method.as_str().to_ascii_lowercase())
}

/// A route template as OpenAPI writes it: `{rest:path}` and `{*rest}` are `{rest}`; `{{` and
/// `}}` are literal braces.
///
/// ```
/// assert_eq!(portico_openapi::openapi_path("/files/{rest:path}"), "/files/{rest}");
/// ```
pub fn openapi_path(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut name = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    name.push(c);
                }
                let name = name.trim_start_matches('*');
                let name = name.split(':').next().unwrap_or(name);
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
            other => out.push(other),
        }
    }
    out
}

pub(crate) fn insert_some(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_follow_fastapi() {
        assert_eq!(
            default_operation_id(Some("read_item"), "/items/{item_id}", &Method::GET),
            "read_item_items__item_id__get"
        );
        assert_eq!(
            default_operation_id(None, "/items/{item_id}", &Method::POST),
            "items__item_id__post"
        );
    }

    #[test]
    fn templates_become_openapi_paths() {
        assert_eq!(openapi_path("/files/{rest:path}"), "/files/{rest}");
        assert_eq!(openapi_path("/files/{*rest}"), "/files/{rest}");
        assert_eq!(openapi_path("/a/{id}/b"), "/a/{id}/b");
    }

    #[test]
    fn names_become_summaries_in_words() {
        assert_eq!(title_case("read_own_items"), "Read Own Items");
    }
}
