//! What an [`AppService`] tells and lets change about its routes: dependency overrides for
//! tests, the lifespan, the OpenAPI document, `url_path_for`, and the list of routes.

use std::sync::Arc;

use http::Method;
use portico_openapi::OperationDoc;

use super::AppService;
use crate::context::RouteSpec;
use crate::depends::{IntoProvider, Replan};
use crate::error::BuildError;
use crate::lifespan::StartupError;

impl AppService {
    /// Replaces the provider of a dependency for every route, as FastAPI's
    /// `app.dependency_overrides[original] = fake` does: for tests, without touching handler
    /// code. Requests that start from now on use it; [`remove_override`](Self::remove_override)
    /// or [`clear_overrides`](Self::clear_overrides) go back to the original.
    ///
    /// # Panics
    ///
    /// If the replacement needs a dependency that has no provider, makes a cycle, or reads
    /// state nobody registered: the message names every mistake.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Depends, HttpError};
    ///
    /// struct Db(&'static str);
    ///
    /// async fn db() -> Result<Db, HttpError> {
    ///     Ok(Db("production"))
    /// }
    ///
    /// async fn which(Depends(db): Depends<Db>) -> &'static str {
    ///     db.0
    /// }
    ///
    /// let client = portico::testing::blocking_client(App::new().provide(db).get("/", which));
    /// client.service().override_dependency(|| async { Ok::<_, HttpError>(Db("fake")) });
    /// assert_eq!(client.get("/").send().text(), "fake");
    /// client.service().clear_overrides();
    /// assert_eq!(client.get("/").send().text(), "production");
    /// ```
    #[track_caller]
    pub fn override_dependency<M, P: IntoProvider<M>>(&self, provider: P) {
        let node = Arc::new(provider.into_provider().into_node());
        if let Err(problems) = self.inner.overrides.update(self.replan(), |providers| {
            providers.retain(|p| p.type_id != node.type_id);
            providers.push(node);
        }) {
            panic!("{}", BuildError { problems });
        }
    }

    /// Goes back to the original provider of `T`.
    pub fn remove_override<T: 'static>(&self) {
        // Removing an override cannot make a mistake the original app did not have.
        let _ = self.inner.overrides.update(self.replan(), |providers| {
            providers.retain(|p| p.type_id != std::any::TypeId::of::<T>());
        });
    }

    /// Goes back to every original provider.
    pub fn clear_overrides(&self) {
        let _ = self.inner.overrides.update(self.replan(), Vec::clear);
    }

    /// What the overrides need to plan every route again.
    fn replan(&self) -> Replan<'_> {
        let inner = &self.inner;
        Replan {
            registry: &inner.registry,
            routes: inner.table.endpoints().map(|(_, e)| &*e.spec).collect(),
            shared: &inner.shared,
            lifespan: inner.lifespan.is_some(),
        }
    }

    /// Runs the application's lifespan up to [`Lifespan::serve`](crate::Lifespan::serve): what
    /// the server does before it accepts connections and the test client before its first
    /// request. Runs once; later calls return what the first one came to. Does nothing for an
    /// application without a lifespan.
    ///
    /// # Errors
    ///
    /// The lifespan's own error, or state read by handlers that it did not provide.
    pub async fn startup(&self) -> Result<(), StartupError> {
        let Some(runner) = &self.inner.lifespan else {
            return Ok(());
        };
        let inner = &self.inner;
        runner
            .startup(&inner.shared, || {
                inner
                    .table
                    .endpoints()
                    .flat_map(|(_, e)| {
                        inner.shared.missing_states(
                            &e.spec,
                            "neither App::state nor the lifespan provided that type",
                        )
                    })
                    .collect()
            })
            .await
    }

    /// Ends the lifespan: [`Lifespan::serve`](crate::Lifespan::serve) returns, background
    /// services are cancelled and the teardown runs; resolves when the lifespan function has
    /// returned. What the server does after its last request; a test calls it to see the
    /// teardown. Does nothing if the lifespan never started.
    pub async fn shutdown(&self) {
        if let Some(runner) = &self.inner.lifespan {
            runner.shutdown().await;
        }
    }

    /// The application's OpenAPI 3.1 document (see [`App::openapi`](crate::App::openapi)), built once.
    pub fn openapi(&self) -> &serde_json::Value {
        self.inner.openapi.get_or_init(|| {
            let mut routes: Vec<RouteRef<'_>> = self.routes().collect();
            routes.sort_by_key(|route| route.spec.index);
            portico_openapi::document_with_webhooks(
                &self.inner.info,
                routes.iter().map(|route| portico_openapi::Operation {
                    method: route.method,
                    template: &route.spec.template,
                    doc: route.doc,
                }),
                self.inner
                    .webhooks
                    .iter()
                    .map(crate::app::WebhookDoc::operation),
            )
        })
    }

    /// The path of the route named `name` with `params` filled in (percent-encoded), or of
    /// `params`' `path` under the mount named `name`, after the root path: Starlette's
    /// `url_path_for`. `None` if nothing has that name or a parameter is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Path, Route};
    ///
    /// async fn read_item(Path(id): Path<u32>) -> String {
    ///     id.to_string()
    /// }
    ///
    /// let app = App::new()
    ///     .get("/items/{id}", read_item)
    ///     .route(Route::get("/about", || async { "us" }).name("about"))
    ///     .into_service();
    /// assert_eq!(app.url_path_for("read_item", &[("id", "a b")]).as_deref(), Some("/items/a%20b"));
    /// assert_eq!(app.url_path_for("about", &[]).as_deref(), Some("/about"));
    /// assert_eq!(app.url_path_for("read_item", &[]), None);
    /// ```
    pub fn url_path_for(&self, name: &str, params: &[(&str, &str)]) -> Option<String> {
        let urls = self.inner.shared.urls.get()?;
        let values = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        urls.path_for(name, &values).ok()
    }

    /// Every route: method, path template and what it documents, in the order they were
    /// added.
    pub fn routes(&self) -> impl Iterator<Item = RouteRef<'_>> {
        self.inner
            .table
            .endpoints()
            .map(|(method, endpoint)| RouteRef {
                method,
                spec: &endpoint.spec,
                doc: &self.inner.route_docs[endpoint.spec.index],
            })
    }
}

/// One route of an [`AppService`], as the OpenAPI generator reads it.
#[derive(Debug, Clone, Copy)]
pub struct RouteRef<'a> {
    method: &'a Method,
    spec: &'a RouteSpec,
    doc: &'a OperationDoc,
}

impl<'a> RouteRef<'a> {
    /// The method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The path template, in FastAPI's syntax.
    pub fn path(&self) -> &'a str {
        &self.spec.template
    }

    /// What the operation reads.
    pub fn doc(&self) -> &'a OperationDoc {
        self.doc
    }

    /// Whether the handler is a plain `fn`, run on the thread pool.
    pub fn is_blocking(&self) -> bool {
        self.spec.blocking
    }
}
