//! What an application says about itself in its document (`info`, `servers`, `tags`) and
//! where the document and the docs pages are served.

use serde_json::{Map, Value};

use super::insert_some;

/// Whom to contact about the API (OpenAPI's `info.contact`).
///
/// ```
/// use portico_http::{App, Contact};
///
/// let app = App::new().contact(Contact::new().name("API team").email("api@example.com"));
/// # drop(app);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    name: Option<String>,
    url: Option<String>,
    email: Option<String>,
}

impl Contact {
    /// An empty contact.
    pub fn new() -> Self {
        Contact::default()
    }

    /// The person or team.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A web page about them.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Their email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    pub(super) fn to_value(&self) -> Value {
        let mut map = Map::new();
        insert_some(&mut map, "name", self.name.as_deref());
        insert_some(&mut map, "url", self.url.as_deref());
        insert_some(&mut map, "email", self.email.as_deref());
        Value::Object(map)
    }
}

/// The API's license (OpenAPI's `info.license`): a name, with an SPDX identifier or a URL.
///
/// ```
/// use portico_http::{App, License};
///
/// let app = App::new().license(License::new("MIT").identifier("MIT"));
/// # drop(app);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct License {
    name: String,
    identifier: Option<String>,
    url: Option<String>,
}

impl License {
    /// A license by its name.
    pub fn new(name: impl Into<String>) -> Self {
        License {
            name: name.into(),
            identifier: None,
            url: None,
        }
    }

    /// Its SPDX identifier (`MIT`, `Apache-2.0`). OpenAPI allows an identifier or a URL, not
    /// both: this clears the URL.
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self.url = None;
        self
    }

    /// Where to read it. Clears the identifier.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self.identifier = None;
        self
    }

    pub(super) fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), Value::String(self.name.clone()));
        insert_some(&mut map, "identifier", self.identifier.as_deref());
        insert_some(&mut map, "url", self.url.as_deref());
        Value::Object(map)
    }
}

/// What the application says about itself in its document, and where the document and the
/// docs pages are served.
#[derive(Debug, Clone)]
pub(crate) struct DocsConfig {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) servers: Vec<(String, Option<String>)>,
    /// The application's root path: first among the servers, and in the docs pages' links.
    pub(crate) root_path: String,
    pub(crate) contact: Option<Contact>,
    pub(crate) license: Option<License>,
    pub(crate) terms_of_service: Option<String>,
    /// Tag names with their descriptions, in the order the document lists them.
    pub(crate) tags: Vec<(String, String)>,
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
            title: "Portico".to_owned(),
            version: "0.1.0".to_owned(),
            summary: None,
            description: None,
            servers: Vec::new(),
            root_path: String::new(),
            contact: None,
            license: None,
            terms_of_service: None,
            tags: Vec::new(),
            openapi_url: Some("/openapi.json".to_owned()),
            docs_url: Some("/docs".to_owned()),
            redoc_url: Some("/redoc".to_owned()),
            oauth2_redirect_url: Some("/docs/oauth2-redirect".to_owned()),
            cdn: false,
        }
    }
}
