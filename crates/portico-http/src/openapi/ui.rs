//! The interactive documentation: Swagger UI and ReDoc pages, with their scripts and styles
//! served by the application itself (or, on request, loaded from a CDN), and the routes that
//! serve them with the document.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

use super::DocsConfig;
use crate::app::Route;
use crate::response::{IntoResponse, Response};

const SWAGGER_UI_VERSION: &str = "5.35.0";
const REDOC_VERSION: &str = "2.5.4";

const SWAGGER_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");
const OAUTH2_REDIRECT_JS: &[u8] = include_bytes!("../../assets/swagger-ui/oauth2-redirect.js");
const REDOC_JS: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

/// Where a page finds its assets.
struct Assets {
    swagger_js: String,
    swagger_css: String,
    redoc_js: String,
}

impl Assets {
    fn of(config: &DocsConfig) -> Self {
        let root = &config.root_path;
        let docs = format!("{root}{}", config.docs_url.as_deref().unwrap_or_default());
        let redoc = format!("{root}{}", config.redoc_url.as_deref().unwrap_or_default());
        if config.cdn {
            let swagger =
                format!("https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}");
            Assets {
                swagger_js: format!("{swagger}/swagger-ui-bundle.js"),
                swagger_css: format!("{swagger}/swagger-ui.css"),
                redoc_js: format!(
                    "https://cdn.jsdelivr.net/npm/redoc@{REDOC_VERSION}/bundles/redoc.standalone.js"
                ),
            }
        } else {
            Assets {
                swagger_js: format!("{docs}/swagger-ui-bundle.js"),
                swagger_css: format!("{docs}/swagger-ui.css"),
                redoc_js: format!("{redoc}/redoc.standalone.js"),
            }
        }
    }
}

/// Text for an HTML attribute or element.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

/// A JavaScript string literal that cannot close the `<script>` element it sits in.
fn js_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned())
        .to_string()
        .replace("</", "<\\/")
}

/// The Swagger UI page.
pub(crate) fn swagger_html(config: &DocsConfig, openapi_url: &str) -> String {
    let assets = Assets::of(config);
    let title = html_escape(&format!("{} - Swagger UI", config.title));
    let redirect = match &config.oauth2_redirect_url {
        Some(url) => format!(
            "\n        oauth2RedirectUrl: window.location.origin + {},",
            js_string(&format!("{}{url}", config.root_path))
        ),
        None => String::new(),
    };
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <link rel="stylesheet" type="text/css" href="{css}">
</head>
<body>
    <div id="swagger-ui"></div>
    <script src="{js}"></script>
    <script>
    window.ui = SwaggerUIBundle({{
        url: {url},
        dom_id: "#swagger-ui",
        layout: "BaseLayout",
        deepLinking: true,
        showExtensions: true,
        showCommonExtensions: true,{redirect}
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    }});
    </script>
</body>
</html>
"##,
        css = html_escape(&assets.swagger_css),
        js = html_escape(&assets.swagger_js),
        url = js_string(openapi_url),
    )
}

/// The ReDoc page (with the system's fonts: nothing is fetched from elsewhere).
pub(crate) fn redoc_html(config: &DocsConfig, openapi_url: &str) -> String {
    let assets = Assets::of(config);
    let title = html_escape(&format!("{} - ReDoc", config.title));
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
    <noscript>ReDoc needs JavaScript to show the API documentation.</noscript>
    <redoc spec-url="{url}"></redoc>
    <script src="{js}"></script>
</body>
</html>
"#,
        url = html_escape(openapi_url),
        js = html_escape(&assets.redoc_js),
    )
}

/// The page Swagger UI opens after an OAuth2 authorization, handing the result back.
fn oauth2_redirect_html(script: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><title>Swagger UI: OAuth2 Redirect</title></head>\n<body>\n<script src=\"{}\"></script>\n</body>\n</html>\n",
        html_escape(script)
    )
}

/// A fixed body with its content type, cached by browsers for a day.
fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    let mut response = Bytes::from_static(body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

fn html(page: Bytes) -> Response {
    let mut response = page.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The document, once the application is built, shared with the route that serves it.
pub(crate) type DocumentCell = Arc<OnceLock<Bytes>>;

/// The routes that serve the document and the docs pages, left out of the document themselves;
/// none when `openapi_url` is off.
pub(crate) fn routes(config: &DocsConfig, document: &DocumentCell) -> Vec<Route> {
    let Some(openapi_url) = config.openapi_url.clone() else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    let cell = document.clone();
    routes.push(Route::get(&openapi_url, move || {
        let cell = cell.clone();
        async move {
            let body = cell.get().cloned().unwrap_or_default();
            let mut response = body.into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }));
    if let Some(docs) = &config.docs_url {
        let url = format!("{}{openapi_url}", config.root_path);
        let page = Bytes::from(swagger_html(config, &url));
        routes.push(Route::get(docs, move || {
            let page = page.clone();
            async move { html(page) }
        }));
        if !config.cdn {
            routes.push(Route::get(
                format!("{docs}/swagger-ui-bundle.js"),
                || async { asset(SWAGGER_JS, "text/javascript; charset=utf-8") },
            ));
            routes.push(Route::get(format!("{docs}/swagger-ui.css"), || async {
                asset(SWAGGER_CSS, "text/css; charset=utf-8")
            }));
        }
        if let Some(redirect) = &config.oauth2_redirect_url {
            let script = format!("{redirect}.js");
            let page = Bytes::from(oauth2_redirect_html(&script));
            routes.push(Route::get(redirect, move || {
                let page = page.clone();
                async move { html(page) }
            }));
            routes.push(Route::get(script, || async {
                asset(OAUTH2_REDIRECT_JS, "text/javascript; charset=utf-8")
            }));
        }
    }
    if let Some(redoc) = &config.redoc_url {
        let url = format!("{}{openapi_url}", config.root_path);
        let page = Bytes::from(redoc_html(config, &url));
        routes.push(Route::get(redoc, move || {
            let page = page.clone();
            async move { html(page) }
        }));
        if !config.cdn {
            routes.push(Route::get(
                format!("{redoc}/redoc.standalone.js"),
                || async { asset(REDOC_JS, "text/javascript; charset=utf-8") },
            ));
        }
    }
    routes
        .into_iter()
        .map(|route| route.include_in_schema(false))
        .collect()
}
