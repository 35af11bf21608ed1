//! [`RouteSpec`]: what a route needs to run, worked out once when the application is built.
//!
//! A route's handler, its parameters and its dependencies declare two things when the route
//! is registered: what the OpenAPI document shows (their [`OperationDoc`]) and what running
//! them takes (this spec): the dependencies they ask for, the shared state they read, whether
//! they queue work for after the response, and the validation shapes of their input types,
//! compiled here so that no request compiles or looks one up in a global table.
//!
//! [`OperationDoc`]: crate::OperationDoc

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use http::{Method, StatusCode};
use schemars::JsonSchema;

use crate::validate::Shapes;

/// What a parameter asks of the dependency graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Need {
    pub(crate) type_id: TypeId,
    pub(crate) name: &'static str,
    /// Produced anew ([`Fresh`](crate::Fresh)) rather than taken from the request's cache.
    pub(crate) fresh: bool,
}

impl Need {
    pub(crate) fn of<T: 'static>(fresh: bool) -> Self {
        Need {
            type_id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
            fresh,
        }
    }
}

/// What a route needs to run: its place in the application, its limits, and what its handler,
/// parameters and dependencies declared when it was built: the dependencies they take, the state they read, whether
/// they queue work for after the response, and the validation shapes of their input types,
/// compiled once.
///
/// Parameters record themselves here through
/// [`FromRequestParts::spec`](crate::FromRequestParts::spec) (and its siblings); a custom
/// parameter that wraps built-in ones passes the call on, so that what they need is known.
///
/// # Examples
///
/// ```
/// use http::request::Parts;
/// use portico_http::{FromRequestParts, Query, Rejection, RequestContext, RouteSpec};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Paging {
///     page: Option<u32>,
/// }
///
/// /// The page asked for, 1 when none is.
/// struct Page(u32);
///
/// impl FromRequestParts for Page {
///     async fn from_request_parts(parts: &mut Parts, ctx: &RequestContext) -> Result<Self, Rejection> {
///         let Query(paging) = Query::<Paging>::from_request_parts(parts, ctx).await?;
///         Ok(Page(paging.page.unwrap_or(1)))
///     }
///
///     fn describe(doc: &mut portico_http::OperationDoc) {
///         Query::<Paging>::describe(doc);
///     }
///
///     fn spec(spec: &mut RouteSpec) {
///         // The query's validation shapes are compiled once, with the route.
///         Query::<Paging>::spec(spec);
///     }
/// }
/// ```
pub struct RouteSpec {
    pub(crate) method: Method,
    pub(crate) template: String,
    /// The template's parameter names, in order.
    pub(crate) path_params: Vec<String>,
    /// Its place among the application's routes.
    pub(crate) index: usize,
    /// Its name for `url_for`: set on the route, or its handler function's name.
    pub(crate) name: Option<String>,
    pub(crate) body_limit: Option<usize>,
    /// The content-type check, when the route or a router sets one.
    pub(crate) content_type_check: Option<super::ContentTypeCheck>,
    /// The status of a successful response, when the route sets one.
    pub(crate) status: Option<StatusCode>,
    /// Whether the handler is a plain `fn`, run on the thread pool.
    pub(crate) blocking: bool,
    /// Whether it is a WebSocket route.
    pub(crate) websocket: bool,
    /// The dependencies the route, its routers and its handler take, in that order.
    pub(crate) needs: Vec<Need>,
    /// The state types read, checked when the application starts.
    pub(crate) states: Vec<(TypeId, &'static str)>,
    /// Whether something queues work to run after the response.
    pub(crate) after_response: bool,
    /// OAuth2 scopes the route, its routers and its dependencies require.
    pub(crate) scopes: Vec<String>,
    /// The compiled validation shapes of the input types, by type.
    pub(crate) shapes: Vec<(TypeId, Arc<Shapes>)>,
    /// Mistakes found while the parts declared themselves.
    pub(crate) problems: Vec<String>,
    /// Whether a parameter reads the request's path itself (the whole request, its URI), so
    /// that the template's parameters need no `Path` to be read.
    pub(crate) reads_path: bool,
    /// What the route keeps of its successful JSON answers, when it does not keep them whole.
    pub(crate) response_fields: Option<Arc<crate::response::fields::ResponseFields>>,
}

impl RouteSpec {
    /// The spec of a route being built, before its parts declare themselves.
    pub(crate) fn new(method: Method, template: String, path_params: Vec<String>) -> Self {
        RouteSpec {
            method,
            template,
            path_params,
            index: 0,
            name: None,
            body_limit: None,
            content_type_check: None,
            status: None,
            blocking: false,
            websocket: false,
            needs: Vec::new(),
            states: Vec::new(),
            after_response: false,
            scopes: Vec::new(),
            shapes: Vec::new(),
            problems: Vec::new(),
            reads_path: false,
            response_fields: None,
        }
    }

    /// A spec for what a dependency's provider needs, apart from any route.
    pub(crate) fn for_provider() -> Self {
        RouteSpec::new(Method::GET, String::new(), Vec::new())
    }

    /// The route template, e.g. `/items/{item_id}`.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The names of the template's parameters, in order.
    pub fn path_params(&self) -> &[String] {
        &self.path_params
    }

    /// Records that a parameter takes the dependency `T` from the request's cache
    /// ([`Depends<T>`](crate::Depends)).
    pub fn depends<T: Send + Sync + 'static>(&mut self) {
        self.need(Need::of::<T>(false));
    }

    /// Records that a parameter takes a dependency `T` of its own
    /// ([`Fresh<T>`](crate::Fresh)).
    pub fn depends_fresh<T: Send + Sync + 'static>(&mut self) {
        self.need(Need::of::<T>(true));
    }

    pub(crate) fn need(&mut self, need: Need) {
        if !self.needs.contains(&need) {
            self.needs.push(need);
        }
    }

    /// Records that a parameter reads the shared state `T` ([`State<T>`](crate::State)): the
    /// application checks that something provides it.
    pub fn state<T: 'static>(&mut self) {
        let entry = (TypeId::of::<T>(), std::any::type_name::<T>());
        if !self.states.contains(&entry) {
            self.states.push(entry);
        }
    }

    /// Records that a parameter queues work to run after the response
    /// ([`BackgroundTasks`](crate::BackgroundTasks)).
    pub fn after_response(&mut self) {
        self.after_response = true;
    }

    /// Compiles the validation shapes of `T`, an input type, for the route's requests to use.
    /// A schema that cannot be used (an invalid `pattern`, say) is a mistake reported when the
    /// application is built.
    pub fn validates<T: JsonSchema + 'static>(&mut self) {
        let id = TypeId::of::<T>();
        if self.shapes.iter().any(|(t, _)| *t == id) {
            return;
        }
        match Shapes::compile(&portico_openapi::schema_for::<T>()) {
            Ok(shapes) => self.shapes.push((id, Arc::new(shapes))),
            Err(err) => self.problem(format!(
                "the schema of {} cannot be used: {err}",
                std::any::type_name::<T>()
            )),
        }
    }

    /// Records that a parameter reads the request's path itself, as the whole
    /// [`Request`](crate::Request) and the [`Uri`](http::Uri) do. A route's template parameters
    /// must otherwise each be read by a [`Path`](crate::Path) (of the handler or of one of its
    /// dependencies): one that nothing reads is a mistake reported when the application is built.
    pub fn reads_path(&mut self) {
        self.reads_path = true;
    }

    /// Records a mistake in the route's declaration, reported when the application is built.
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// The compiled shapes of `T`, when a part of the route declared it.
    pub(crate) fn shapes<T: 'static>(&self) -> Option<&Shapes> {
        let id = TypeId::of::<T>();
        self.shapes
            .iter()
            .find(|(t, _)| *t == id)
            .map(|(_, s)| &**s)
    }

    /// Adds what a dependency's provider needs: its state and its shapes.
    pub(crate) fn absorb(&mut self, provider: &RouteSpec) {
        for state in &provider.states {
            if !self.states.contains(state) {
                self.states.push(*state);
            }
        }
        self.after_response |= provider.after_response;
        self.reads_path |= provider.reads_path;
    }
}

impl fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteSpec")
            .field("method", &self.method)
            .field("template", &self.template)
            .field("blocking", &self.blocking)
            .field("needs", &self.needs.len())
            .field("shapes", &self.shapes.len())
            .finish_non_exhaustive()
    }
}
