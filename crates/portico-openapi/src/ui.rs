//! The interactive documentation: Swagger UI and ReDoc pages for a document, their scripts
//! and styles embedded with the `assets` feature (so that the pages work with no internet
//! connection) or loaded from the jsDelivr CDN.
//!
//! # Examples
//!
//! ```
//! use portico_openapi::ui::Pages;
//!
//! let pages = Pages::new("Shop", "/openapi.json").docs_url(Some("/docs"));
//! let html = pages.swagger_html();
//! assert!(html.contains("Shop - Swagger UI"));
//! assert!(html.contains("\"/openapi.json\""));
//! ```

/// The Swagger UI version whose files are embedded (or loaded from the CDN).
pub const SWAGGER_UI_VERSION: &str = "5.35.0";
/// The ReDoc version whose script is embedded (or loaded from the CDN).
pub const REDOC_VERSION: &str = "2.5.4";

/// Swagger UI's script, `swagger-ui-bundle.js`, gzip-compressed.
#[cfg(feature = "assets")]
pub const SWAGGER_UI_JS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js.gz");
/// Swagger UI's style sheet, `swagger-ui.css`, gzip-compressed.
#[cfg(feature = "assets")]
pub const SWAGGER_UI_CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css.gz");
/// The script of Swagger UI's OAuth2 redirect page, `oauth2-redirect.js`, gzip-compressed.
#[cfg(feature = "assets")]
pub const OAUTH2_REDIRECT_JS: &[u8] = include_bytes!("../assets/swagger-ui/oauth2-redirect.js.gz");
/// ReDoc's script, `redoc.standalone.js`, gzip-compressed.
#[cfg(feature = "assets")]
pub const REDOC_JS: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js.gz");

/// One file a docs page loads from the application, when the assets are embedded: kept
/// gzip-compressed, served so to the clients that take gzip (every browser) and
/// [inflated](Self::inflate) for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Where it is served (under the page's own path).
    pub path: String,
    /// Its bytes, gzip-compressed (a `.gz` file's, as `gzip -n` writes it).
    pub gzipped: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

impl Asset {
    /// The file's own bytes.
    ///
    /// # Errors
    ///
    /// If the embedded bytes are not a gzip member without optional fields (they always are).
    #[cfg(feature = "assets")]
    pub fn inflate(&self) -> Result<Vec<u8>, String> {
        // A gzip member as `gzip -n` writes it: a 10-byte header with no optional field, the
        // deflate stream, then the CRC-32 and size of the data (8 bytes).
        let data = self.gzipped;
        let deflated = match data {
            [0x1f, 0x8b, 8, 0, ..] if data.len() >= 18 => &data[10..data.len() - 8],
            _ => return Err(format!("{}: not a plain gzip member", self.path)),
        };
        miniz_oxide::inflate::decompress_to_vec(deflated)
            .map_err(|err| format!("{}: {err:?}", self.path))
    }
}

/// The docs pages of one document: where they and the document are served, and where their
/// scripts come from. Every path is as the browser sees it (with the root path in front).
#[derive(Debug, Clone)]
pub struct Pages {
    title: String,
    openapi_url: String,
    docs_url: Option<String>,
    redoc_url: Option<String>,
    oauth2_redirect_url: Option<String>,
    cdn: bool,
}

impl Pages {
    /// Pages titled after the API `title`, showing the document served at `openapi_url`; no
    /// page is served until [`docs_url`](Self::docs_url) or [`redoc_url`](Self::redoc_url)
    /// says where.
    pub fn new(title: impl Into<String>, openapi_url: impl Into<String>) -> Self {
        Pages {
            title: title.into(),
            openapi_url: openapi_url.into(),
            docs_url: None,
            redoc_url: None,
            oauth2_redirect_url: None,
            cdn: !cfg!(feature = "assets"),
        }
    }

    /// Where Swagger UI is served.
    pub fn docs_url(mut self, url: Option<&str>) -> Self {
        self.docs_url = url.map(str::to_owned);
        self
    }

    /// Where ReDoc is served.
    pub fn redoc_url(mut self, url: Option<&str>) -> Self {
        self.redoc_url = url.map(str::to_owned);
        self
    }

    /// Where Swagger UI's OAuth2 redirect page is served.
    pub fn oauth2_redirect_url(mut self, url: Option<&str>) -> Self {
        self.oauth2_redirect_url = url.map(str::to_owned);
        self
    }

    /// Loads the scripts and styles from the jsDelivr CDN, as FastAPI does. Always the case
    /// without the `assets` feature, whatever is asked here.
    pub fn cdn(mut self, cdn: bool) -> Self {
        self.cdn = cdn || !cfg!(feature = "assets");
        self
    }

    /// Whether the pages load their files from the CDN rather than from the application.
    pub fn uses_cdn(&self) -> bool {
        self.cdn
    }

    /// Where each file a page loads is, for this set of pages.
    fn links(&self) -> Links {
        let docs = self.docs_url.as_deref().unwrap_or_default();
        let redoc = self.redoc_url.as_deref().unwrap_or_default();
        if self.cdn {
            let swagger =
                format!("https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}");
            Links {
                swagger_js: format!("{swagger}/swagger-ui-bundle.js"),
                swagger_css: format!("{swagger}/swagger-ui.css"),
                oauth2_js: format!("{swagger}/oauth2-redirect.js"),
                redoc_js: format!(
                    "https://cdn.jsdelivr.net/npm/redoc@{REDOC_VERSION}/bundles/redoc.standalone.js"
                ),
            }
        } else {
            Links {
                swagger_js: format!("{docs}/swagger-ui-bundle.js"),
                swagger_css: format!("{docs}/swagger-ui.css"),
                oauth2_js: format!(
                    "{}.js",
                    self.oauth2_redirect_url.as_deref().unwrap_or_default()
                ),
                redoc_js: format!("{redoc}/redoc.standalone.js"),
            }
        }
    }

    /// The files the pages load from the application, with the paths they are loaded from
    /// (without the root path, which a proxy strips): none when they come from the CDN.
    /// `root_path` is the prefix in front of every URL given to these pages.
    pub fn assets(&self, root_path: &str) -> Vec<Asset> {
        if self.cdn {
            return Vec::new();
        }
        #[cfg(feature = "assets")]
        {
            let local = |url: String| {
                url.strip_prefix(root_path)
                    .map(str::to_owned)
                    .unwrap_or(url)
            };
            let links = self.links();
            let mut assets = Vec::new();
            const JS: &str = "text/javascript; charset=utf-8";
            if self.docs_url.is_some() {
                assets.push(Asset {
                    path: local(links.swagger_js),
                    gzipped: SWAGGER_UI_JS,
                    content_type: JS,
                });
                assets.push(Asset {
                    path: local(links.swagger_css),
                    gzipped: SWAGGER_UI_CSS,
                    content_type: "text/css; charset=utf-8",
                });
                if self.oauth2_redirect_url.is_some() {
                    assets.push(Asset {
                        path: local(links.oauth2_js),
                        gzipped: OAUTH2_REDIRECT_JS,
                        content_type: JS,
                    });
                }
            }
            if self.redoc_url.is_some() {
                assets.push(Asset {
                    path: local(links.redoc_js),
                    gzipped: REDOC_JS,
                    content_type: JS,
                });
            }
            assets
        }
        #[cfg(not(feature = "assets"))]
        {
            // Without the files, the pages always load them from the CDN (see `cdn`).
            let _ = root_path;
            Vec::new()
        }
    }
}

/// Where a page finds its files.
struct Links {
    swagger_js: String,
    swagger_css: String,
    oauth2_js: String,
    redoc_js: String,
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

impl Pages {
    /// The Swagger UI page.
    pub fn swagger_html(&self) -> String {
        let links = self.links();
        let title = html_escape(&format!("{} - Swagger UI", self.title));
        let redirect = match &self.oauth2_redirect_url {
            Some(url) => format!(
                "\n        oauth2RedirectUrl: window.location.origin + {},",
                js_string(url)
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
            css = html_escape(&links.swagger_css),
            js = html_escape(&links.swagger_js),
            url = js_string(&self.openapi_url),
        )
    }

    /// The ReDoc page (with the system's fonts: nothing is fetched from elsewhere).
    pub fn redoc_html(&self) -> String {
        let links = self.links();
        let title = html_escape(&format!("{} - ReDoc", self.title));
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
            url = html_escape(&self.openapi_url),
            js = html_escape(&links.redoc_js),
        )
    }

    /// The page Swagger UI opens after an OAuth2 authorization, handing the result back.
    pub fn oauth2_redirect_html(&self) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><title>Swagger UI: OAuth2 Redirect</title></head>\n<body>\n<script src=\"{}\"></script>\n</body>\n</html>\n",
            html_escape(&self.links().oauth2_js)
        )
    }
}
