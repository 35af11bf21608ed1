//! The application's settings for its OpenAPI document and docs pages.

use crate::openapi::{Contact, License};

use super::{App, build};

impl App {
    /// The API's title in the document and on the docs pages ("Portico" by default).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.docs.title = title.into();
        self
    }

    /// The API's version in the document ("0.1.0" by default), not the OpenAPI version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.docs.version = version.into();
        self
    }

    /// A short summary of the API.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.docs.summary = Some(summary.into());
        self
    }

    /// A description of the API (Markdown).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.docs.description = Some(description.into());
        self
    }

    /// The API's terms of service, a URL.
    pub fn terms_of_service(mut self, url: impl Into<String>) -> Self {
        self.docs.terms_of_service = Some(url.into());
        self
    }

    /// Whom to contact about the API.
    pub fn contact(mut self, contact: Contact) -> Self {
        self.docs.contact = Some(contact);
        self
    }

    /// The API's license.
    pub fn license(mut self, license: License) -> Self {
        self.docs.license = Some(license);
        self
    }

    /// Adds a server the API is reached at (OpenAPI's `servers`), with an optional
    /// description; the docs pages send their requests there.
    pub fn server(mut self, url: impl Into<String>, description: Option<&str>) -> Self {
        self.docs
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
        let tag = tag.into();
        let description = description.into();
        match self.docs.tags.iter_mut().find(|(name, _)| *name == tag) {
            Some(entry) => entry.1 = description,
            None => self.docs.tags.push((tag, description)),
        }
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
    /// route with its parameters, body, responses and security, from the same types that
    /// answer requests. Routes whose declarations have mistakes are described as far as they
    /// can be; [`try_into_service`](Self::try_into_service) reports the mistakes.
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
    /// assert_eq!(op["summary"], "Read one item.");
    /// assert_eq!(op["parameters"][0]["schema"]["type"], "integer");
    /// ```
    pub fn openapi(&self) -> serde_json::Value {
        let mut problems = Vec::new();
        let documented: Vec<_> = self
            .router
            .routes
            .iter()
            .filter_map(|route| {
                build::document_route(route, &self.registry, &mut problems)
                    .map(|documented| (route, documented))
            })
            .collect();
        crate::openapi::document(
            &self.docs,
            documented
                .iter()
                .map(|(route, documented)| crate::openapi::Operation {
                    method: &route.method,
                    template: &route.path,
                    doc: &documented.doc,
                }),
        )
    }
}
