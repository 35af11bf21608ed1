//! Templates (FastAPI's `Jinja2Templates`): Jinja syntax from a directory, rendered by
//! minijinja, with `url_for`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use http::StatusCode;
use http::request::Parts;
use minijinja::value::{Kwargs, Serde};
use minijinja::{Environment, ErrorKind};
use serde::Serialize;

use portico_openapi::OperationDoc;

use crate::context::RouteSpec;
use crate::extract::{FromRequestParts, Rejection, RequestContext};
use crate::response::{Html, IntoResponse, Response};
use crate::routing::{UrlError, UrlMap};

/// Templates whose source is larger than this are rendered on the blocking pool.
const INLINE_SOURCE_LIMIT: usize = 32 * 1024;

/// Jinja templates from a directory, rendered with [minijinja](https://docs.rs/minijinja).
///
/// Register them as state, then take them as a handler parameter: the parameter knows the
/// application's routes and root path, so the templates' `url_for` works.
///
/// * Autoescaping is on for `.html`, `.htm` and `.xml` templates (and `.html.j2` and the
///   like), JSON-escaping for `.json` and `.js`; `{{ value | safe }}` opts out.
/// * `url_for(name, **params)` gives the path of a named route (a route is named after its
///   handler function unless [`Route::name`](crate::Route::name) says otherwise), with its
///   path parameters filled in, or of a file under a named mount:
///   `url_for('static', path='/app.css')` (see [`App::mount_as`](crate::App::mount_as)). The
///   path starts with the application's root path. Unlike Starlette's, it is a path, not an
///   absolute URL, so it stays right behind any proxy.
/// * Rendering happens on the event loop for templates up to 32 KiB of source, and on the
///   blocking pool for larger ones, so a big page never stalls other requests.
/// * A template that fails (missing, a syntax error, an undefined filter) is logged with
///   `tracing::error!` and answered 500; with [`debug`](Templates::debug) the 500 shows
///   minijinja's report, with the template's name and line. An exception handler for
///   [`TemplateError`] answers with a page of the application's own instead.
/// * The test client tells which template rendered with which context
///   ([`TestResponse::template`](crate::TestResponse::template)).
///
/// Templates are loaded when first used and reloaded when their file changes.
///
/// # Examples
///
/// ```
/// use portico_http::{App, Path, Templates, TemplateResponse};
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(
///     dir.path().join("item.html"),
///     "<h1>{{ name }}</h1><a href=\"{{ url_for('read_item', id=id) }}\">again</a>",
/// ).unwrap();
///
/// async fn read_item(Path(id): Path<u32>, templates: Templates) -> TemplateResponse {
///     let context = serde_json::json!({"name": "<tea>", "id": id});
///     templates.response("item.html", context).await
/// }
///
/// let app = App::new()
///     .state(Templates::new(dir.path()))
///     .get("/items/{id}", read_item);
/// let client = portico::testing::blocking_client(app);
/// let page = client.get("/items/7").send();
/// assert_eq!(page.text(), "<h1>&lt;tea&gt;</h1><a href=\"/items/7\">again</a>");
/// assert_eq!(page.template(), Some("item.html"));
/// assert_eq!(page.context().unwrap()["name"], "<tea>");
/// ```
#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
    debug: bool,
    /// The application's URLs, filled in when taken as a parameter.
    urls: Option<Arc<UrlMap>>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// Templates from `dir` (relative paths are from the working directory).
    pub fn new(dir: impl AsRef<std::path::Path>) -> Self {
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(dir));
        Templates::from_env(env)
    }

    /// Templates from an environment set up by hand: another loader, filters, globals. Its
    /// `url_for` is replaced by Portico's.
    pub fn from_env(mut env: Environment<'static>) -> Self {
        env.set_debug(true);
        Templates {
            env: Arc::new(env),
            debug: false,
            urls: None,
        }
    }

    /// Whether a failed template answers with minijinja's full report instead of a bare 500
    /// (off by default: the report shows template source).
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// Renders `name` with `context` (anything serde serialises into a map) into an HTML
    /// response, 200.
    pub async fn response(&self, name: &str, context: impl Serialize) -> TemplateResponse {
        let context = match serde_json::to_value(&context) {
            Ok(context) => context,
            Err(err) => {
                return TemplateResponse::failed(
                    name,
                    format!("the context does not serialise: {err}"),
                    self.debug,
                );
            }
        };
        let large = self
            .env
            .get_template(name)
            .is_ok_and(|t| t.source().len() > INLINE_SOURCE_LIMIT);
        let job = Render {
            env: self.env.clone(),
            urls: self.urls.clone().unwrap_or_default(),
            name: name.to_owned(),
            context,
        };
        let rendered = if large {
            portico_tasks::to_thread(move || job.run()).await
        } else {
            job.run()
        };
        match rendered {
            Ok((html, job)) => TemplateResponse {
                status: StatusCode::OK,
                outcome: Ok(html),
                rendered: Some(RenderedTemplate {
                    name: job.name,
                    context: job.context,
                }),
            },
            Err(err) => {
                let report = if self.debug {
                    format!("{err:#}")
                } else {
                    err.to_string()
                };
                TemplateResponse::failed(name, report, self.debug)
            }
        }
    }
}

/// One rendering, movable to another thread.
struct Render {
    env: Arc<Environment<'static>>,
    urls: Arc<UrlMap>,
    name: String,
    context: serde_json::Value,
}

impl Render {
    fn run(self) -> Result<(String, Render), minijinja::Error> {
        let urls = self.urls.clone();
        let url_for = minijinja::Value::from_function(move |name: &str, params: Kwargs| {
            // A path built here is safe to put in an attribute as it is.
            url_for(&urls, name, &params).map(minijinja::Value::from_safe_string)
        });
        let template = self.env.get_template(&self.name)?;
        let html = template.render(minijinja::context! {
            url_for => url_for,
            ..minijinja::Value::from(Serde(&self.context))
        })?;
        Ok((html, self))
    }
}

impl FromRequestParts for Templates {
    async fn from_request_parts(
        _parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match ctx.app.state::<Templates>() {
            Some(templates) => {
                let mut templates = templates.clone();
                templates.urls = ctx.app.urls.get().cloned();
                Ok(templates)
            }
            // Checked when the application is built (see `spec`).
            None => Err(Rejection::Response(crate::response::internal_error())),
        }
    }

    fn spec(spec: &mut RouteSpec) {
        spec.state::<Templates>();
    }
}

/// Which template rendered with which context, kept on the response for the test client.
#[derive(Debug, Clone)]
pub(crate) struct RenderedTemplate {
    pub(crate) name: String,
    pub(crate) context: serde_json::Value,
}

/// A rendered template, or why it failed: what [`Templates::response`] returns.
#[derive(Debug)]
#[must_use]
pub struct TemplateResponse {
    status: StatusCode,
    outcome: Result<String, TemplateError>,
    rendered: Option<RenderedTemplate>,
}

/// A template that failed to render: missing, a syntax error, an undefined filter, a
/// `url_for` that cannot be built. A failed [`TemplateResponse`] answers with it.
///
/// Its own response is a bare 500, or minijinja's report with
/// [`Templates::debug`]; the failure is logged either way. Register an exception handler for
/// it ([`App::exception_handler`](crate::App::exception_handler)) to answer with an error
/// page of the application's own.
///
/// # Examples
///
/// ```
/// use http::StatusCode;
/// use portico_http::{App, Html, RequestHead, TemplateError, TemplateResponse, Templates};
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("page.html"), "{% if %}").unwrap();
///
/// async fn page(templates: Templates) -> TemplateResponse {
///     templates.response("page.html", serde_json::json!({})).await
/// }
///
/// let app = App::new()
///     .state(Templates::new(dir.path()))
///     .get("/", page)
///     .exception_handler(|err: TemplateError, _: RequestHead| async move {
///         let page = format!("<h1>Sorry</h1><p>{} is broken.</p>", err.name());
///         (StatusCode::INTERNAL_SERVER_ERROR, Html(page))
///     });
/// let client = portico::testing::blocking_client(app);
/// let response = client.get("/").send();
/// assert_eq!(response.status(), 500);
/// assert_eq!(response.text(), "<h1>Sorry</h1><p>page.html is broken.</p>");
/// ```
#[derive(Debug, Clone)]
pub struct TemplateError {
    name: String,
    report: String,
    debug: bool,
}

impl TemplateError {
    /// The template's name, as given to [`Templates::response`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// minijinja's report: what failed, with the template's name and line where it has them.
    pub fn report(&self) -> &str {
        &self.report
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template {} failed: {}", self.name, self.report)
    }
}

impl std::error::Error for TemplateError {}

impl IntoResponse for TemplateError {
    /// A bare 500, or with [`Templates::debug`] the report as plain text.
    fn into_response(self) -> Response {
        if self.debug {
            let text = format!("template {} failed:\n\n{}", self.name, self.report);
            let mut response = crate::response::plain(StatusCode::INTERNAL_SERVER_ERROR, "");
            *response.body_mut() = crate::Body::from(text);
            response
        } else {
            crate::response::internal_error()
        }
    }
}

impl TemplateResponse {
    fn failed(name: &str, report: String, debug: bool) -> Self {
        TemplateResponse {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            outcome: Err(TemplateError {
                name: name.to_owned(),
                report,
                debug,
            }),
            rendered: None,
        }
    }

    /// Answers with another status (a rendered 404 page, say); a failed rendering stays 500.
    pub fn status(mut self, status: StatusCode) -> Self {
        if self.outcome.is_ok() {
            self.status = status;
        }
        self
    }

    /// Whether the template rendered.
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }

    /// Why the template did not render, if it failed.
    pub fn error(&self) -> Option<&TemplateError> {
        self.outcome.as_ref().err()
    }
}

impl IntoResponse for TemplateResponse {
    fn into_response(self) -> Response {
        match self.outcome {
            Ok(html) => {
                let mut response = (self.status, Html(html)).into_response();
                if let Some(rendered) = self.rendered {
                    response.extensions_mut().insert(rendered);
                }
                response
            }
            Err(failure) => {
                tracing::error!(template = %failure.name, "the template failed: {}", failure.report);
                // Its own response, unless an exception handler for it answers instead.
                crate::error::caught(failure)
            }
        }
    }

    fn describe_response(doc: &mut OperationDoc) {
        Html::<String>::describe_response(doc);
    }
}

/// `url_for(name, **params)` in a template.
fn url_for(urls: &UrlMap, name: &str, params: &Kwargs) -> Result<String, minijinja::Error> {
    let mut values = HashMap::new();
    for key in params.args() {
        let value: minijinja::Value = params.get(key)?;
        values.insert(key.to_owned(), value.to_string());
    }
    urls.path_for(name, &values).map_err(|err| match err {
        UrlError::Unknown => minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("url_for: no route or mount is named `{name}`"),
        ),
        UrlError::Missing(missing) => minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("url_for('{name}') needs the parameter `{missing}`"),
        ),
    })
}
