//! [`OperationDoc`]: what one path operation reads and answers, as its parameters, body and
//! return type describe themselves.

use serde_json::Value;

/// Where a parameter is read from: OpenAPI's `in`, and the first part of every validation
/// error's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A cookie.
    Cookie,
    /// The request body (JSON, form, multipart).
    Body,
}

impl Source {
    /// The name FastAPI uses in `loc`, and OpenAPI in `in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Path => "path",
            Source::Query => "query",
            Source::Header => "header",
            Source::Cookie => "cookie",
            Source::Body => "body",
        }
    }
}

/// One documented parameter of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParamDoc {
    /// Its name as the client writes it (`user-agent` for a header field `user_agent`).
    pub name: String,
    /// Where it is read from.
    pub source: Source,
    /// Its JSON Schema.
    pub schema: Value,
    /// Whether the request must carry it.
    pub required: bool,
}

/// The documented request body of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BodyDoc {
    /// The media type, e.g. `application/json`.
    pub media_type: &'static str,
    /// The body's JSON Schema.
    pub schema: Value,
    /// Whether a body is required.
    pub required: bool,
    /// Whether the document names the body's schema after the operation, `Body_<operationId>`,
    /// as FastAPI names the object of several body parameters (or of an embedded one).
    pub named_by_operation: bool,
}

/// A response documented besides the handler's own (FastAPI's `responses=`). One with the
/// status of the handler's own response, or of another declared before it, adds to that one,
/// as FastAPI merges them: its description replaces the earlier one, its media types join.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResponseDoc {
    /// Its status.
    pub status: http::StatusCode,
    /// What it means; empty keeps the description of the response it adds to, or else is the
    /// status's reason phrase.
    pub description: String,
    /// The JSON Schema of its body, if documented.
    pub schema: Option<Value>,
    /// The media types it may come in besides JSON (`image/png`), each with the JSON Schema of
    /// its body if known.
    pub media_types: Vec<(String, Option<Value>)>,
    /// An example of its JSON body.
    pub example: Option<Value>,
}

impl ResponseDoc {
    /// A response of `status`, described in words, with the JSON Schema of its body if known.
    pub fn new(status: http::StatusCode, description: impl Into<String>) -> Self {
        ResponseDoc {
            status,
            description: description.into(),
            schema: None,
            media_types: Vec::new(),
            example: None,
        }
    }

    /// The JSON Schema of its body.
    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Another media type it may come in, with the JSON Schema of that body if known.
    pub fn media_type(mut self, media_type: impl Into<String>, schema: Option<Value>) -> Self {
        let media_type = media_type.into();
        self.media_types.retain(|(known, _)| *known != media_type);
        self.media_types.push((media_type, schema));
        self
    }

    /// An example of its JSON body.
    pub fn example(mut self, example: Value) -> Self {
        self.example = Some(example);
        self
    }

    /// Adds `later`, a response declared after this one with the same status, to this one:
    /// what `later` says replaces what this one says, its media types join this one's.
    ///
    /// ```
    /// use http::StatusCode;
    /// use portico_openapi::ResponseDoc;
    ///
    /// let mut found = ResponseDoc::new(StatusCode::OK, "The item");
    /// found.merge(ResponseDoc::new(StatusCode::OK, "").media_type("image/png", None));
    /// assert_eq!(found.description, "The item");
    /// assert_eq!(found.media_types.len(), 1);
    /// ```
    pub fn merge(&mut self, later: ResponseDoc) {
        if !later.description.is_empty() {
            self.description = later.description;
        }
        if later.schema.is_some() {
            self.schema = later.schema;
        }
        for (media_type, schema) in later.media_types {
            self.media_types.retain(|(known, _)| *known != media_type);
            self.media_types.push((media_type, schema));
        }
        if later.example.is_some() {
            self.example = later.example;
        }
    }
}

/// What a handler's return type says about its successful response.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum ReturnDoc {
    /// Nothing is known (a response built by hand, say): documented as JSON of any shape, as
    /// FastAPI does.
    #[default]
    Unknown,
    /// No body.
    Empty,
    /// A body of this media type, with its JSON Schema when it has one.
    Body {
        /// The media type, e.g. `application/json`.
        media_type: &'static str,
        /// The body's JSON Schema (with its definitions under `$defs`).
        schema: Option<Value>,
    },
}

/// A security requirement of an operation, from a security tool among its parameters or
/// dependencies: the scheme it declares and the scopes it needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SecurityDoc {
    /// The scheme's name in `components/securitySchemes` (FastAPI's: the tool's class name
    /// unless one is given).
    pub name: String,
    /// The OpenAPI Security Scheme Object.
    pub scheme: Value,
    /// Scopes the requirement itself asks for (OAuth2).
    pub scopes: Vec<String>,
    /// Whether a request without the credential is refused (401) rather than let through.
    pub required: bool,
}

impl SecurityDoc {
    /// A requirement of the scheme `scheme` named `name`.
    pub fn new(name: impl Into<String>, scheme: Value, required: bool) -> Self {
        SecurityDoc {
            name: name.into(),
            scheme,
            scopes: Vec::new(),
            required,
        }
    }

    /// Whether the scheme has scopes (OAuth2 and OpenID Connect).
    pub fn takes_scopes(&self) -> bool {
        matches!(
            self.scheme.get("type").and_then(Value::as_str),
            Some("oauth2" | "openIdConnect")
        )
    }
}

/// What a path operation reads and answers, collected from its parameters and return type when
/// the route is registered; the document is built from it.
///
/// # Examples
///
/// What a parameter type records about itself:
///
/// ```
/// use portico_openapi::{OperationDoc, ParamDoc, Source};
///
/// let mut doc = OperationDoc::default();
/// doc.param(ParamDoc::new("x-token", Source::Header, serde_json::json!({"type": "string"})).required(true));
/// assert!(doc.validates);
/// assert_eq!(doc.params[0].name, "x-token");
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OperationDoc {
    /// The route's path parameter names, in order (filled in before parameters describe
    /// themselves, so that they can check against it).
    pub path_params: Vec<String>,
    /// Every parameter.
    pub params: Vec<ParamDoc>,
    /// The request body, if any.
    pub body: Option<BodyDoc>,
    /// Whether the operation validates input (and so may answer 422).
    pub validates: bool,
    /// Mistakes found while describing (a `Path<T>` that does not fit the route, say), reported
    /// when the route is registered.
    pub problems: Vec<String>,
    /// The operation's tags, its routers' first.
    pub tags: Vec<String>,
    /// Responses documented by the route or its routers besides the handler's own.
    pub responses: Vec<ResponseDoc>,
    /// The successful response, as the handler's return type describes it.
    pub returns: ReturnDoc,
    /// The status of a successful response, when the route sets one (FastAPI's
    /// `status_code`); 200 otherwise.
    pub status: Option<http::StatusCode>,
    /// The description of the successful response ("Successful Response" by default).
    pub response_description: Option<String>,
    /// The summary set on the route; the handler's name in words otherwise.
    pub summary: Option<String>,
    /// The description set on the route; the handler's doc comment otherwise.
    pub description: Option<String>,
    /// The `operationId` set on the route; FastAPI's `{name}{path}_{method}` otherwise.
    pub operation_id: Option<String>,
    /// Whether the operation is deprecated.
    pub deprecated: bool,
    /// Whether the operation is left out of the document (FastAPI's `include_in_schema=False`).
    pub hidden: bool,
    /// Security requirements of its parameters and dependencies.
    pub security: Vec<SecurityDoc>,
    /// Scopes the route, its routers and its dependencies require, for its OAuth2
    /// requirements.
    pub scopes: Vec<String>,
    /// The name of the handler's function (`read_item`), which gives the default
    /// `operationId` and summary; `None` for a closure.
    pub handler_name: Option<String>,
    /// The handler's doc comment, the default description (FastAPI's docstring).
    pub handler_doc: Option<String>,
    /// The requests the API sends its client's server because of this operation, written
    /// under the operation's `callbacks` (FastAPI's `callbacks=`).
    pub callbacks: Vec<crate::CallbackDoc>,
}

impl ParamDoc {
    /// An optional parameter named `name`, read from `source`, with its JSON Schema.
    pub fn new(name: impl Into<String>, source: Source, schema: Value) -> Self {
        ParamDoc {
            name: name.into(),
            source,
            schema,
            required: false,
        }
    }

    /// Whether the request must carry it.
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }
}

impl BodyDoc {
    /// A body of `media_type` with its JSON Schema; `required` says whether a request must
    /// have it.
    pub fn new(media_type: &'static str, schema: Value, required: bool) -> Self {
        BodyDoc {
            media_type,
            schema,
            required,
            named_by_operation: false,
        }
    }

    /// The same body, its schema named `Body_<operationId>` in the document's components.
    pub fn named_by_operation(mut self) -> Self {
        self.named_by_operation = true;
        self
    }
}

impl OperationDoc {
    /// Records a parameter.
    pub fn param(&mut self, param: ParamDoc) {
        self.validates = true;
        self.params.push(param);
    }

    /// Records the request body.
    pub fn body(&mut self, body: BodyDoc) {
        self.validates = true;
        self.body = Some(body);
    }

    /// Records what the successful response holds.
    pub fn returns(&mut self, returns: ReturnDoc) {
        self.returns = returns;
    }

    /// Records a security requirement (once per scheme; the scopes of a repeat join the
    /// first's).
    pub fn security(&mut self, requirement: SecurityDoc) {
        match self
            .security
            .iter_mut()
            .find(|r| r.name == requirement.name)
        {
            Some(existing) => {
                for scope in requirement.scopes {
                    if !existing.scopes.contains(&scope) {
                        existing.scopes.push(scope);
                    }
                }
                existing.required |= requirement.required;
            }
            None => self.security.push(requirement),
        }
    }

    /// Records a mistake in the operation's declaration.
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// Adds what another description (a dependency's) reads: its parameters (once each by name
    /// and source), security requirements, scopes and mistakes, the mistakes prefixed with
    /// `context`.
    pub fn merge(&mut self, other: OperationDoc, context: &str) {
        for param in other.params {
            if !self
                .params
                .iter()
                .any(|p| p.name == param.name && p.source == param.source)
            {
                self.param(param);
            }
        }
        for requirement in other.security {
            self.security(requirement);
        }
        for scope in other.scopes {
            if !self.scopes.contains(&scope) {
                self.scopes.push(scope);
            }
        }
        for problem in other.problems {
            self.problem(format!("{context}: {problem}"));
        }
    }
}
