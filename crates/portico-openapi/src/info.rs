//! What an API says about itself in its document: `info`, `servers` and `tags`.

use serde_json::{Map, Value};

use crate::document::insert_some;

/// Whom to contact about the API (OpenAPI's `info.contact`).
///
/// ```
/// use portico_openapi::Contact;
///
/// let contact = Contact::new().name("API team").email("api@example.com");
/// # drop(contact);
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

    pub(crate) fn to_value(&self) -> Value {
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
/// use portico_openapi::License;
///
/// let license = License::new("MIT").identifier("MIT");
/// # drop(license);
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

    pub(crate) fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), Value::String(self.name.clone()));
        insert_some(&mut map, "identifier", self.identifier.as_deref());
        insert_some(&mut map, "url", self.url.as_deref());
        Value::Object(map)
    }
}

/// What an API says about itself in its document: OpenAPI's `info`, `servers` and `tags`.
///
/// # Examples
///
/// ```
/// let mut info = portico_openapi::Info::default();
/// info.title = "Shop".into();
/// info.tags.push(("items".into(), "What the shop sells".into()));
/// let doc = portico_openapi::document(&info, []);
/// assert_eq!(doc["info"]["title"], "Shop");
/// assert_eq!(doc["tags"][0]["name"], "items");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Info {
    /// The API's title ("Portico" by default).
    pub title: String,
    /// The API's version ("0.1.0" by default), not the OpenAPI version.
    pub version: String,
    /// A short summary.
    pub summary: Option<String>,
    /// A description (Markdown).
    pub description: Option<String>,
    /// Servers the API is reached at, with an optional description each.
    pub servers: Vec<(String, Option<String>)>,
    /// The prefix the API is served under behind a proxy: listed first among the servers
    /// unless it is there already (empty for none).
    pub root_path: String,
    /// Whom to contact.
    pub contact: Option<Contact>,
    /// The license.
    pub license: Option<License>,
    /// The terms of service, a URL.
    pub terms_of_service: Option<String>,
    /// Tag names with their descriptions, in the order the document lists them.
    pub tags: Vec<(String, String)>,
}

impl Default for Info {
    fn default() -> Self {
        Info {
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
        }
    }
}
