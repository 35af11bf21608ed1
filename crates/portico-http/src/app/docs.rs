//! The application's settings for its OpenAPI document and docs pages, and the routes that
//! serve them (the pages' HTML and files come from `portico-openapi`).

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use portico_openapi::ui::Pages;
use portico_openapi::{Contact, Info, License, Tag};

use super::{App, Route, build, hooks};
use crate::response::{Html, IntoResponse};

impl App {
    /// The API's title in the document and on the docs pages ("Portico" by default).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.docs.info.title = title.into();
        self
    }

    /// The API's version in the document ("0.1.0" by default), not the OpenAPI version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.docs.info.version = version.into();
        self
    }

    /// A short summary of the API.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.docs.info.summary = Some(summary.into());
        self
    }

    /// A description of the API (Markdown).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.docs.info.description = Some(description.into());
        self
    }

    /// The API's terms of service, a URL.
    pub fn terms_of_service(mut self, url: impl Into<String>) -> Self {
        self.docs.info.terms_of_service = Some(url.into());
        self
    }

    /// Whom to contact about the API.
    pub fn contact(mut self, contact: Contact) -> Self {
        self.docs.info.contact = Some(contact);
        self
    }

    /// The API's license.
    pub fn license(mut self, license: License) -> Self {
        self.docs.info.license = Some(license);
        self
    }

    /// Adds a server the API is reached at (OpenAPI's `servers`), with an optional
    /// description; the docs pages send their requests there.
    pub fn server(mut self, url: impl Into<String>, description: Option<&str>) -> Self {
        self.docs
            .info
            .servers
            .push((url.into(), description.map(str::to_owned)));
        self
    }

    /// Describes a tag in the document (FastAPI's `openapi_tags`); tags are listed in the order
    /// they are described. Tag routes with `tag`.
    pub fn tag_description(
        mut self,
        tag: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.docs_tag(tag.into()).description = Some(description.into());
        self
    }

    /// Points a tag's description in the document to its external documentation, `url`, with
    /// an optional description of it (the `externalDocs` of FastAPI's `openapi_tags`).
    pub fn tag_external_docs(
        mut self,
        tag: impl Into<String>,
        url: impl Into<String>,
        description: Option<&str>,
    ) -> Self {
        self.docs_tag(tag.into()).external_docs =
            Some((url.into(), description.map(str::to_owned)));
        self
    }

    /// The description of `tag` in the document, added after the others if it has none yet.
    fn docs_tag(&mut self, tag: String) -> &mut Tag {
        let tags = &mut self.docs.info.tags;
        let index = match tags.iter().position(|known| known.name == tag) {
            Some(index) => index,
            None => {
                tags.push(Tag::new(tag));
                tags.len() - 1
            }
        };
        &mut tags[index]
    }

    /// Whether the document lists the root path (see [`root_path`](Self::root_path)), or the
    /// prefix the application is mounted at in another, first among its servers: FastAPI's
    /// `root_path_in_servers`, on by default.
    pub fn root_path_in_servers(mut self, listed: bool) -> Self {
        self.docs.info.root_path_in_servers = listed;
        self
    }

    /// Where the document is served (`/openapi.json` by default); `None` serves neither it nor
    /// the docs pages. [`App::openapi`] still builds it.
    pub fn openapi_url(mut self, url: Option<&str>) -> Self {
        self.docs.openapi_url = url.map(str::to_owned);
        self
    }

    /// Where Swagger UI is served (`/docs` by default), or `None`. Its script and style are
    /// served under this path too, so that the page works with no internet connection.
    pub fn docs_url(mut self, url: Option<&str>) -> Self {
        self.docs.docs_url = url.map(str::to_owned);
        self
    }

    /// Where ReDoc is served (`/redoc` by default), or `None`; its script is served under this
    /// path too.
    pub fn redoc_url(mut self, url: Option<&str>) -> Self {
        self.docs.redoc_url = url.map(str::to_owned);
        self
    }

    /// Where Swagger UI's OAuth2 redirect page is served (`/docs/oauth2-redirect` by
    /// default), or `None`.
    pub fn swagger_ui_oauth2_redirect_url(mut self, url: Option<&str>) -> Self {
        self.docs.oauth2_redirect_url = url.map(str::to_owned);
        self
    }

    /// Loads the docs pages' scripts and styles from the jsDelivr CDN, as FastAPI does, instead
    /// of from the application (off by default: the pages then need the internet).
    pub fn docs_from_cdn(mut self, cdn: bool) -> Self {
        self.docs.cdn = cdn;
        self
    }

    /// The OpenAPI 3.1 document of the application, as `GET /openapi.json` serves it: every
    /// route with its parameters, body, responses, security and callbacks, and every webhook,
    /// from the same types that answer requests. Routes whose declarations have mistakes are
    /// described as far as they can be; [`try_into_service`](Self::try_into_service) reports
    /// the mistakes.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Json, Path};
    ///
    /// /// Read one item.
    /// #[portico::handler]
    /// async fn read_item(Path(item_id): Path<u64>) -> Json<u64> {
    ///     Json(item_id)
    /// }
    ///
    /// let app = App::new().title("Shop").version("1.2.0").get("/items/{item_id}", read_item);
    /// let doc = app.openapi();
    /// assert_eq!(doc["openapi"], "3.1.0");
    /// let op = &doc["paths"]["/items/{item_id}"]["get"];
    /// assert_eq!(op["operationId"], "read_item_items__item_id__get");
    /// assert_eq!(op["summary"], "Read Item");
    /// assert_eq!(op["description"], "Read one item.");
    /// assert_eq!(op["parameters"][0]["schema"]["type"], "integer");
    /// ```
    pub fn openapi(&self) -> serde_json::Value {
        let mut problems = Vec::new();
        let declared: Vec<_> = self
            .router
            .routes
            .iter()
            .filter_map(|route| {
                build::declare(
                    route,
                    Some(&self.router.settings),
                    0,
                    &self.registry,
                    &mut problems,
                )
                .map(|declared| (route, declared))
            })
            .collect();
        let webhooks = hooks::declare_webhooks(&self.webhooks, &self.registry, &mut problems);
        portico_openapi::document_with_webhooks(
            &self.docs.info,
            declared
                .iter()
                .map(|(route, declared)| portico_openapi::Operation {
                    method: &route.method,
                    template: &route.path,
                    doc: &declared.doc,
                }),
            webhooks.iter().map(hooks::WebhookDoc::operation),
        )
    }
}

/// What the application says about itself in its document, and where the document and the
/// docs pages are served.
#[derive(Debug, Clone)]
pub(crate) struct DocsConfig {
    pub(crate) info: Info,
    pub(crate) openapi_url: Option<String>,
    pub(crate) docs_url: Option<String>,
    pub(crate) redoc_url: Option<String>,
    pub(crate) oauth2_redirect_url: Option<String>,
    /// Load the docs pages' scripts from a CDN rather than from the application.
    pub(crate) cdn: bool,
}

impl Default for DocsConfig {
    fn default() -> Self {
        DocsConfig {
            info: Info::default(),
            openapi_url: Some("/openapi.json".to_owned()),
            docs_url: Some("/docs".to_owned()),
            redoc_url: Some("/redoc".to_owned()),
            oauth2_redirect_url: Some("/docs/oauth2-redirect".to_owned()),
            cdn: false,
        }
    }
}

/// The document, once the application is built, shared with the route that serves it.
pub(crate) type DocumentCell = Arc<OnceLock<Bytes>>;

/// The document as a mounted application serves it, with the prefix it was reached under,
/// once made.
type MountedDocument = Arc<OnceLock<(String, Bytes)>>;

/// The document as served to `request`: when the application is mounted in another, with the
/// prefix it was reached under listed first among its servers (FastAPI's `root_path`, which a
/// mount extends), unless `listed` is off. An application is mounted at one prefix, so the
/// document with it is made once.
fn served_document(
    cell: &DocumentCell,
    mounted: &MountedDocument,
    listed: bool,
    request: &crate::Request,
) -> Bytes {
    let body = cell.get().cloned().unwrap_or_default();
    let Some(prefix) = crate::routing::mounted_under(request).filter(|_| listed) else {
        return body;
    };
    if let Some((known, served)) = mounted.get()
        && *known == prefix
    {
        return served.clone();
    }
    let Ok(mut document) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    portico_openapi::add_root_server(&mut document, &prefix);
    let served = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
    let _ = mounted.set((prefix, served.clone()));
    served
}

/// A route serving a page, made for the prefix its application was reached under: `make("")`
/// at once; under a mount, `make(prefix)`, once (an application is mounted at one prefix), so
/// that a mounted application's docs load its own document and files, as FastAPI's do.
fn page(path: &str, make: impl Fn(&str) -> String + Send + Sync + 'static) -> Route {
    let page = Bytes::from(make(""));
    let make = Arc::new(make);
    let mounted: Arc<OnceLock<(String, Bytes)>> = Arc::default();
    Route::get(path, move |request: crate::Request| {
        let body = match crate::routing::mounted_under(&request) {
            None => page.clone(),
            Some(prefix) => match mounted.get() {
                Some((known, page)) if *known == prefix => page.clone(),
                _ => {
                    let page = Bytes::from(make(&prefix));
                    let _ = mounted.set((prefix, page.clone()));
                    page
                }
            },
        };
        async move { Html(body).into_response() }
    })
}

/// The routes that serve the document and the docs pages, left out of the document themselves;
/// none when `openapi_url` is off.
pub(crate) fn routes(config: &DocsConfig, document: &DocumentCell) -> Vec<Route> {
    let Some(openapi_url) = config.openapi_url.clone() else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    let cell = document.clone();
    let listed = config.info.root_path_in_servers;
    let mounted = MountedDocument::default();
    routes.push(Route::get(&openapi_url, move |request: crate::Request| {
        let body = served_document(&cell, &mounted, listed, &request);
        async move {
            let mut response = body.into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }));
    // The pages for an application reached under `prefix` (empty when not mounted).
    let pages_under = {
        let (config, openapi_url) = (config.clone(), openapi_url.clone());
        move |prefix: &str| {
            let root = format!("{prefix}{}", config.info.root_path);
            let rooted = |url: &Option<String>| url.as_ref().map(|url| format!("{root}{url}"));
            Pages::new(config.info.title.clone(), format!("{root}{openapi_url}"))
                .docs_url(rooted(&config.docs_url).as_deref())
                .redoc_url(rooted(&config.redoc_url).as_deref())
                .oauth2_redirect_url(
                    config
                        .docs_url
                        .as_ref()
                        .and(rooted(&config.oauth2_redirect_url))
                        .as_deref(),
                )
                .cdn(config.cdn)
        }
    };
    if let Some(docs) = &config.docs_url {
        let under = pages_under.clone();
        routes.push(page(docs, move |prefix| under(prefix).swagger_html()));
        if let Some(redirect) = &config.oauth2_redirect_url {
            let under = pages_under.clone();
            routes.push(page(redirect, move |prefix| {
                under(prefix).oauth2_redirect_html()
            }));
        }
    }
    if let Some(redoc) = &config.redoc_url {
        let under = pages_under.clone();
        routes.push(page(redoc, move |prefix| under(prefix).redoc_html()));
    }
    #[cfg(feature = "docs-ui")]
    routes.extend((pages_under("").assets(&config.info.root_path).into_iter()).map(files::route));
    routes
        .into_iter()
        .map(|route| route.include_in_schema(false))
        .collect()
}

/// The docs pages' own files, served by the application rather than a CDN.
#[cfg(feature = "docs-ui")]
mod files {
    use std::sync::Arc;

    use bytes::Bytes;
    use http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
    use http::{HeaderMap, HeaderValue};
    use portico_openapi::ui::Asset;

    use super::Route;
    use crate::response::{IntoResponse, Response};

    /// The route serving one file.
    pub(super) fn route(file: Asset) -> Route {
        let path = file.path.clone();
        let file = Arc::new(file);
        Route::get(path, move |headers: HeaderMap| {
            let file = file.clone();
            async move { asset(&file, &headers) }
        })
    }

    /// A docs page's file, cached by browsers for a day: as it is kept, gzip-compressed, for a
    /// client that takes gzip (every browser), inflated for another.
    fn asset(file: &Asset, headers: &HeaderMap) -> Response {
        let takes_gzip = headers
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|coding| {
                let mut parts = coding.split(';');
                let name = parts.next().unwrap_or_default().trim();
                let refused =
                    parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
            });
        let mut response = if takes_gzip {
            let mut response = Bytes::from_static(file.gzipped).into_response();
            response
                .headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        } else {
            match file.inflate() {
                Ok(bytes) => bytes.into_response(),
                Err(err) => {
                    tracing::error!("a docs file cannot be served: {err}");
                    return crate::response::internal_error();
                }
            }
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.content_type));
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        );
        response
    }
}
