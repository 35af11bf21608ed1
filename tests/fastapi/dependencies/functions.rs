//! Tutorials 001 (and 001_02), 002 to 004, 005 and 011: functions and classes as dependencies,
//! sub-dependencies.

use portico::{App, Depends, HttpError, Json, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{assert_json, client};
use crate::support::{assert_document, document, nullable, operation, param};

/// The parameters of `common_parameters` and `CommonQueryParams`, as FastAPI documents them.
fn common_params() -> Vec<Value> {
    vec![
        param("query", "q", false, nullable(json!({"type": "string"}))),
        param(
            "query",
            "skip",
            false,
            json!({"type": "integer", "default": 0}),
        ),
        param(
            "query",
            "limit",
            false,
            json!({"type": "integer", "default": 100}),
        ),
    ]
}

mod tutorial001 {
    use super::*;

    #[derive(Serialize)]
    struct Commons {
        q: Option<String>,
        skip: i64,
        limit: i64,
    }

    #[portico::provider]
    async fn common_parameters(
        #[query] q: Option<String>,
        #[query(default = 0)] skip: i64,
        #[query(default = 100)] limit: i64,
    ) -> Result<Commons, HttpError> {
        Ok(Commons { q, skip, limit })
    }

    async fn read_items(Depends(commons): Depends<Commons>) -> Json<Value> {
        Json(json!(*commons))
    }

    async fn read_users(Depends(commons): Depends<Commons>) -> Json<Value> {
        Json(json!(*commons))
    }

    fn app() -> App {
        App::new()
            .provide(common_parameters)
            .get("/items/", read_items)
            .get("/users/", read_users)
    }

    #[portico::test]
    async fn get() {
        let client = client(app());
        for (path, expected) in [
            ("/items", json!({"q": null, "skip": 0, "limit": 100})),
            ("/items?q=foo", json!({"q": "foo", "skip": 0, "limit": 100})),
            (
                "/items?q=foo&skip=5",
                json!({"q": "foo", "skip": 5, "limit": 100}),
            ),
            (
                "/items?q=foo&skip=5&limit=30",
                json!({"q": "foo", "skip": 5, "limit": 30}),
            ),
            ("/users", json!({"q": null, "skip": 0, "limit": 100})),
        ] {
            assert_json(&client.get(path).await, 200, &expected);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = document(
            json!({
                "/items/": {"get": operation("Read Items", "read_items_items__get", common_params())},
                "/users/": {"get": operation("Read Users", "read_users_users__get", common_params())},
            }),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

/// Tutorials 002, 003 and 004 declare `Depends(CommonQueryParams)` three ways; in Rust the
/// handler names the type once, so they are one app.
mod tutorial002 {
    use super::*;

    struct CommonQueryParams {
        q: Option<String>,
        skip: usize,
        limit: usize,
    }

    /// The class's `__init__`, as the provider (an associated fn cannot take
    /// `#[portico::handler]`'s parameters).
    #[portico::provider]
    async fn common_query_params(
        #[query] q: Option<String>,
        #[query(default = 0)] skip: usize,
        #[query(default = 100)] limit: usize,
    ) -> Result<CommonQueryParams, HttpError> {
        Ok(CommonQueryParams { q, skip, limit })
    }

    async fn read_items(Depends(commons): Depends<CommonQueryParams>) -> Json<Value> {
        let fake_items_db = [
            json!({"item_name": "Foo"}),
            json!({"item_name": "Bar"}),
            json!({"item_name": "Baz"}),
        ];
        let mut response = json!({});
        if let Some(q) = commons.q.as_deref().filter(|q| !q.is_empty()) {
            response["q"] = json!(q);
        }
        let items: Vec<Value> = fake_items_db
            .into_iter()
            .skip(commons.skip)
            .take(commons.limit)
            .collect();
        response["items"] = json!(items);
        Json(response)
    }

    fn app() -> App {
        App::new()
            .provide(common_query_params)
            .get("/items/", read_items)
    }

    #[portico::test]
    async fn get() {
        let client = client(app());
        let all = json!([{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]);
        for (path, expected) in [
            ("/items", json!({"items": all})),
            ("/items?q=foo", json!({"items": all, "q": "foo"})),
            (
                "/items?q=foo&skip=1",
                json!({"items": [{"item_name": "Bar"}, {"item_name": "Baz"}], "q": "foo"}),
            ),
            (
                "/items?q=bar&limit=2",
                json!({"items": [{"item_name": "Foo"}, {"item_name": "Bar"}], "q": "bar"}),
            ),
            (
                "/items?q=bar&skip=1&limit=1",
                json!({"items": [{"item_name": "Bar"}], "q": "bar"}),
            ),
            (
                "/items?limit=1&q=bar&skip=1",
                json!({"items": [{"item_name": "Bar"}], "q": "bar"}),
            ),
        ] {
            assert_json(&client.get(path).await, 200, &expected);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = document(
            json!({"/items/": {"get": operation("Read Items", "read_items_items__get", common_params())}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial005 {
    use super::*;

    struct QueryValue(Option<String>);
    struct QueryOrCookie(Option<String>);

    #[portico::provider]
    fn query_extractor(#[query] q: Option<String>) -> Result<QueryValue, HttpError> {
        Ok(QueryValue(q))
    }

    #[portico::provider]
    fn query_or_cookie_extractor(
        #[cookie] last_query: Option<String>,
        Depends(q): Depends<QueryValue>,
    ) -> Result<QueryOrCookie, HttpError> {
        match q.0.as_deref() {
            None | Some("") => Ok(QueryOrCookie(last_query)),
            Some(q) => Ok(QueryOrCookie(Some(q.to_owned()))),
        }
    }

    async fn read_query(Depends(query_or_default): Depends<QueryOrCookie>) -> Json<Value> {
        Json(json!({"q_or_cookie": query_or_default.0}))
    }

    fn app() -> App {
        App::new()
            .provide(query_extractor)
            .provide(query_or_cookie_extractor)
            .get("/items/", read_query)
    }

    #[portico::test]
    async fn get() {
        let client = client(app());
        for (path, cookie, expected) in [
            (
                "/items",
                Some("from_cookie"),
                json!({"q_or_cookie": "from_cookie"}),
            ),
            (
                "/items?q=foo",
                Some("from_cookie"),
                json!({"q_or_cookie": "foo"}),
            ),
            ("/items", None, json!({"q_or_cookie": null})),
        ] {
            let mut request = client.get(path);
            if let Some(cookie) = cookie {
                request = request.cookie("last_query", cookie);
            }
            assert_json(&request.await, 200, &expected);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = document(
            json!({"/items/": {"get": operation("Read Query", "read_query_items__get", vec![
                param("query", "q", false, nullable(json!({"type": "string"}))),
                param("cookie", "last_query", false, nullable(json!({"type": "string"}))),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial011 {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    struct CheckerParams {
        #[serde(default)]
        q: String,
    }

    struct FixedContentIncluded(bool);

    struct FixedContentQueryChecker {
        fixed_content: String,
    }

    impl FixedContentQueryChecker {
        /// The class's `__call__`.
        fn call(&self, q: &str) -> bool {
            !q.is_empty() && q.contains(&self.fixed_content)
        }
    }

    async fn read_query_check(Depends(included): Depends<FixedContentIncluded>) -> Json<Value> {
        Json(json!({"fixed_content_in_query": included.0}))
    }

    fn app() -> App {
        // Rust has no callable instances: the instance is captured by the provider closure.
        let checker = std::sync::Arc::new(FixedContentQueryChecker {
            fixed_content: "bar".into(),
        });
        App::new()
            .provide(move |Query(params): Query<CheckerParams>| {
                Ok::<_, HttpError>(FixedContentIncluded(checker.call(&params.q)))
            })
            .get("/query-checker/", read_query_check)
    }

    #[portico::test]
    async fn get() {
        let client = client(app());
        for (path, expected) in [
            ("/query-checker/", json!({"fixed_content_in_query": false})),
            (
                "/query-checker/?q=qwerty",
                json!({"fixed_content_in_query": false}),
            ),
            (
                "/query-checker/?q=foobar",
                json!({"fixed_content_in_query": true}),
            ),
        ] {
            assert_json(&client.get(path).await, 200, &expected);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = document(
            json!({"/query-checker/": {"get": operation(
                "Read Query Check",
                "read_query_check_query_checker__get",
                vec![param("query", "q", false, json!({"type": "string", "default": ""}))],
            )}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}
