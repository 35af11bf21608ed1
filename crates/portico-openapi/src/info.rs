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
/// info.tags.push(portico_openapi::Tag::new("items").description("What the shop sells"));
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
    /// unless it is there already or `root_path_in_servers` is off (empty for none).
    pub root_path: String,
    /// Whether the root path (and the prefix a mounted application is reached under) is
    /// listed among the servers: FastAPI's `root_path_in_servers`, on by default.
    pub root_path_in_servers: bool,
    /// Whom to contact.
    pub contact: Option<Contact>,
    /// The license.
    pub license: Option<License>,
    /// The terms of service, a URL.
    pub terms_of_service: Option<String>,
    /// The tags described, in the order the document lists them.
    pub tags: Vec<Tag>,
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
            root_path_in_servers: true,
            contact: None,
            license: None,
            terms_of_service: None,
            tags: Vec::new(),
        }
    }
}

/// A tag the document describes (an entry of OpenAPI's `tags`, FastAPI's `openapi_tags`): its
/// name, a description, and where its external documentation is.
///
/// ```
/// use portico_openapi::{Info, Tag};
///
/// let mut info = Info::default();
/// info.tags.push(
///     Tag::new("items")
///         .description("What the shop sells")
///         .external_docs("https://example.com/items", Some("The catalogue")),
/// );
/// let doc = portico_openapi::document(&info, []);
/// assert_eq!(doc["tags"][0]["externalDocs"]["url"], "https://example.com/items");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Tag {
    /// The tag's name, as operations are tagged with it.
    pub name: String,
    /// What the tag's operations are about (Markdown).
    pub description: Option<String>,
    /// The URL of the tag's external documentation, with a description of it.
    pub external_docs: Option<(String, Option<String>)>,
}

impl Tag {
    /// A tag with nothing said about it yet.
    pub fn new(name: impl Into<String>) -> Self {
        Tag {
            name: name.into(),
            description: None,
            external_docs: None,
        }
    }

    /// What the tag's operations are about.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Where the tag's external documentation is, with an optional description of it.
    pub fn external_docs(mut self, url: impl Into<String>, description: Option<&str>) -> Self {
        self.external_docs = Some((url.into(), description.map(str::to_owned)));
        self
    }

    pub(crate) fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), Value::String(self.name.clone()));
        insert_some(&mut map, "description", self.description.as_deref());
        if let Some((url, description)) = &self.external_docs {
            let mut docs = Map::new();
            insert_some(&mut docs, "description", description.as_deref());
            docs.insert("url".into(), Value::String(url.clone()));
            map.insert("externalDocs".into(), Value::Object(docs));
        }
        Value::Object(map)
    }
}
