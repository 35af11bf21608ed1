//! Query parameters and string validations, continued: metadata (titles, descriptions,
//! aliases, deprecation), lists, hidden parameters and custom validation (tutorial007 to 015).

use super::*;

mod tutorial007 {
    use super::*;

    // FastAPI's `title="Query string"` is a schema title, which the comparison leaves out.
    #[portico::handler]
    async fn read_items(#[query(min_length = 3)] q: Option<String>) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_fixedquery() {
        let client = TestClient::new(app());
        let expected = items_and(Some("fixedquery"));
        assert_get(&client, &[("q", "fixedquery")], 200, expected).await;
    }

    #[portico::test]
    async fn q_fixedquery_too_short() {
        assert_get(
            &TestClient::new(app()),
            &[("q", "fa")],
            422,
            too_short("fa"),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            nullable(json!({"type": "string", "minLength": 3})),
        )]);
        assert_document(&client, expected).await;
    }
}

const DESCRIPTION: &str =
    "Query string for the items to search in the database that have a good match";

mod tutorial008 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(
            description = "Query string for the items to search in the database that have a good match",
            min_length = 3
        )]
        q: Option<String>,
    ) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_fixedquery() {
        let client = TestClient::new(app());
        let expected = items_and(Some("fixedquery"));
        assert_get(&client, &[("q", "fixedquery")], 200, expected).await;
    }

    #[portico::test]
    async fn q_fixedquery_too_short() {
        assert_get(
            &TestClient::new(app()),
            &[("q", "fa")],
            422,
            too_short("fa"),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let mut schema = nullable(json!({"type": "string", "minLength": 3}));
        schema["description"] = json!(DESCRIPTION);
        let mut q = param("query", "q", false, schema);
        q["description"] = json!(DESCRIPTION);
        assert_document(&client, items_document(vec![q])).await;
    }
}

mod tutorial009 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[query(alias = "item-query")] q: Option<String>) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn item_query_fixedquery() {
        let client = TestClient::new(app());
        let expected = items_and(Some("fixedquery"));
        assert_get(&client, &[("item-query", "fixedquery")], 200, expected).await;
    }

    #[portico::test]
    async fn q_fixedquery() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "fixedquery")], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "item-query",
            false,
            nullable(json!({"type": "string"})),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial010 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(
            alias = "item-query",
            title = "Query string",
            description = "Query string for the items to search in the database that have a good match",
            min_length = 3,
            max_length = 50,
            pattern = "^fixedquery$",
            deprecated
        )]
        q: Option<String>,
    ) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn item_query_fixedquery() {
        let client = TestClient::new(app());
        let expected = items_and(Some("fixedquery"));
        assert_get(&client, &[("item-query", "fixedquery")], 200, expected).await;
    }

    #[portico::test]
    async fn q_fixedquery() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "fixedquery")], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn item_query_nonregexquery() {
        let client = TestClient::new(app());
        let expected = pattern_mismatch("item-query", "nonregexquery");
        assert_get(&client, &[("item-query", "nonregexquery")], 422, expected).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let mut schema = nullable(json!({
            "type": "string", "minLength": 3, "maxLength": 50, "pattern": "^fixedquery$",
        }));
        schema["description"] = json!(DESCRIPTION);
        schema["deprecated"] = json!(true);
        let mut q = param("query", "item-query", false, schema);
        q["description"] = json!(DESCRIPTION);
        q["deprecated"] = json!(true);
        assert_document(&client, items_document(vec![q])).await;
    }
}

async fn assert_q(client: &TestClient, url: &str, expected: Value) {
    let response = client.get(url).await;
    assert_eq!(response.status(), 200, "{url}: {}", response.text());
    assert_eq!(response.json::<Value>(), expected, "{url}");
}

mod tutorial011 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[query] q: Option<Vec<String>>) -> Json<Value> {
        Json(json!({"q": q}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn multi_query_values() {
        let client = TestClient::new(app());
        assert_q(&client, "/items/?q=foo&q=bar", json!({"q": ["foo", "bar"]})).await;
    }

    #[portico::test]
    async fn query_no_values() {
        assert_q(&TestClient::new(app()), "/items/", json!({"q": null})).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            nullable(json!({"type": "array", "items": {"type": "string"}})),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial012 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(default = vec!["foo".to_owned(), "bar".to_owned()])] q: Vec<String>,
    ) -> Json<Value> {
        Json(json!({"q": q}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn default_query_values() {
        assert_q(
            &TestClient::new(app()),
            "/items/",
            json!({"q": ["foo", "bar"]}),
        )
        .await;
    }

    #[portico::test]
    async fn multi_query_values() {
        let client = TestClient::new(app());
        assert_q(
            &client,
            "/items/?q=baz&q=foobar",
            json!({"q": ["baz", "foobar"]}),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            json!({"type": "array", "items": {"type": "string"}, "default": ["foo", "bar"]}),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial013 {
    use super::*;

    // FastAPI's bare `list` holds anything: a list of JSON values.
    #[portico::handler]
    async fn read_items(#[query(default = Vec::new())] q: Vec<Value>) -> Json<Value> {
        Json(json!({"q": q}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn multi_query_values() {
        let client = TestClient::new(app());
        assert_q(&client, "/items/?q=foo&q=bar", json!({"q": ["foo", "bar"]})).await;
    }

    #[portico::test]
    async fn query_no_values() {
        assert_q(&TestClient::new(app()), "/items/", json!({"q": []})).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            json!({"type": "array", "items": {}, "default": []}),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial014 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(include_in_schema = false)] hidden_query: Option<String>,
    ) -> Json<Value> {
        match hidden_query {
            Some(hidden_query) if !hidden_query.is_empty() => {
                Json(json!({"hidden_query": hidden_query}))
            }
            _ => Json(json!({"hidden_query": "Not found"})),
        }
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    // FastAPI's test client follows redirects (here `/items` to `/items/`) unless told not to.
    fn client() -> TestClient {
        TestClient::new(app()).follow_redirects(true)
    }

    #[portico::test]
    async fn hidden_query() {
        let response = client().get("/items?hidden_query=somevalue").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"hidden_query": "somevalue"})
        );
    }

    #[portico::test]
    async fn no_hidden_query() {
        let response = client().get("/items").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"hidden_query": "Not found"})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let mut expected = items_document(vec![]);
        expected["paths"]["/items/"]["get"]["responses"]["422"] =
            crate::support::validation_response();
        assert_document(&client(), expected).await;
    }
}

mod tutorial015 {
    use super::*;

    const DATA: [(&str, &str); 3] = [
        ("isbn-9781529046137", "The Hitchhiker's Guide to the Galaxy"),
        ("imdb-tt0371724", "The Hitchhiker's Guide to the Galaxy"),
        (
            "isbn-9781439512982",
            "Isaac Asimov: The Complete Stories, Vol. 2",
        ),
    ];

    /// Pydantic's `AfterValidator(check_valid_id)`: a string checked as it is deserialised.
    #[derive(Deserialize)]
    #[serde(try_from = "String")]
    struct ItemId(String);

    /// Documented as the string it is read from, inline as Pydantic's validator leaves it.
    impl JsonSchema for ItemId {
        fn inline_schema() -> bool {
            true
        }

        fn schema_name() -> std::borrow::Cow<'static, str> {
            "ItemId".into()
        }

        fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
            String::json_schema(generator)
        }
    }

    impl TryFrom<String> for ItemId {
        type Error = String;

        fn try_from(id: String) -> Result<Self, String> {
            if id.starts_with("isbn-") || id.starts_with("imdb-") {
                Ok(ItemId(id))
            } else {
                Err(r#"Invalid ID format, it must start with "isbn-" or "imdb-""#.to_owned())
            }
        }
    }

    #[portico::handler]
    async fn read_items(#[query] id: Option<ItemId>) -> Json<Value> {
        let (id, name) = match id {
            Some(ItemId(id)) => {
                let name = DATA
                    .iter()
                    .find(|(key, _)| *key == id)
                    .map(|(_, name)| *name);
                (id, name)
            }
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos() as usize;
                let (id, name) = DATA[nanos % DATA.len()];
                (id.to_owned(), Some(name))
            }
        };
        Json(json!({"id": id, "name": name}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    // FastAPI's test client follows redirects (here `/items` to `/items/`) unless told not to.
    fn client() -> TestClient {
        TestClient::new(app()).follow_redirects(true)
    }

    #[portico::test]
    async fn get_random_item() {
        let response = client().get("/items").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        let body = response.json::<Value>();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "name"], "{body}");
        assert!(body["id"].is_string() && body["name"].is_string(), "{body}");
    }

    #[portico::test]
    async fn get_item() {
        let response = client().get("/items?id=isbn-9781529046137").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"id": "isbn-9781529046137", "name": "The Hitchhiker's Guide to the Galaxy"})
        );
    }

    #[portico::test]
    async fn get_item_does_not_exist() {
        let response = client().get("/items?id=isbn-nope").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"id": "isbn-nope", "name": null})
        );
    }

    #[portico::test]
    async fn get_invalid_item() {
        let response = client().get("/items?id=wtf-yes").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": [{
                "type": "value_error",
                "loc": ["query", "id"],
                "msg": r#"Value error, Invalid ID format, it must start with "isbn-" or "imdb-""#,
                "input": "wtf-yes",
                "ctx": {"error": {}},
            }]})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = items_document(vec![param(
            "query",
            "id",
            false,
            nullable(json!({"type": "string"})),
        )]);
        assert_document(&client(), expected).await;
    }
}
