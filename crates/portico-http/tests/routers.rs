//! Routers nested to any depth (prefixes, tags, dependencies, documented responses) and mounts
//! of sub-applications and plain services.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use http::StatusCode;
use portico::testing::TestClient;
use portico::{App, HttpError, Path, Request, Router};
use support::Log;

struct Outer;
struct Middle;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Shop {
    shop: String,
}

fn nested(log: &Log) -> App {
    let (outer, middle) = (log.clone(), log.clone());
    let leaf = Router::new()
        .prefix("/items")
        .tag("items")
        .response(StatusCode::NOT_FOUND, "No such item")
        .get(
            "/{id}",
            |Path((shop, id)): Path<(String, u32)>| async move { format!("item {id} of {shop}") },
        )
        .get("/", || async { "all items" });
    let middle_router = Router::new()
        .prefix("/shop/{shop}")
        .tag("shops")
        .dependency::<Middle>()
        .response(StatusCode::NOT_FOUND, "No such shop")
        .include(leaf);
    let api = Router::new()
        .prefix("/api")
        .dependency::<Outer>()
        .include(middle_router);
    App::new()
        .provide(move || {
            outer.push("outer");
            Ok::<_, HttpError>(Outer)
        })
        // The shop router's dependency reads the prefix's `{shop}`: the routes under it need
        // not read it themselves.
        .provide(move |Path(shop): Path<Shop>| {
            middle.push("middle");
            assert_eq!(shop.shop, "main");
            Ok::<_, HttpError>(Middle)
        })
        .include(api)
}

#[portico::test]
async fn nested_routers_join_prefixes_tags_dependencies_and_responses() {
    let log = Log::default();
    let client = TestClient::new(nested(&log));
    assert_eq!(
        client.get("/api/shop/main/items/7").await.text(),
        "item 7 of main"
    );
    // Joined as FastAPI joins them: the prefix `/items` and the route `/` make `/items/`, and
    // the path without the slash is redirected there.
    assert_eq!(
        client.get("/api/shop/main/items/").await.text(),
        "all items"
    );
    let redirect = client.get("/api/shop/main/items").await;
    assert_eq!(redirect.status(), 307);
    assert_eq!(
        redirect.header("location"),
        Some("http://testserver/api/shop/main/items/")
    );
    assert_eq!(client.get("/items/7").await.status(), 404);
    let lines = log.lines();
    // Independent dependencies may run concurrently; each ran once per request.
    assert_eq!(lines.iter().filter(|l| *l == "outer").count(), 2);
    assert_eq!(lines.iter().filter(|l| *l == "middle").count(), 2);

    let service = client.service();
    let route = service
        .routes()
        .find(|r| r.path() == "/api/shop/{shop}/items/{id}")
        .unwrap();
    // Outer tags first; the inner response wins over the outer one for the same status.
    assert_eq!(route.doc().tags, ["shops", "items"]);
    let responses: Vec<(u16, &str)> = route
        .doc()
        .responses
        .iter()
        .map(|r| (r.status.as_u16(), r.description.as_str()))
        .collect();
    assert_eq!(responses, [(404, "No such item")]);
}

#[portico::test]
async fn mounted_apps_and_services_see_the_path_below_their_prefix() {
    let admin = App::new()
        .get("/", || async { "admin home" })
        .get("/users/{id}", |Path(id): Path<u32>| async move {
            format!("user {id}")
        });
    let echo = |request: Request| async move {
        format!(
            "{} {}",
            request.uri().path(),
            request.uri().query().unwrap_or("")
        )
    };
    let app = App::new()
        .get("/files/special", || async { "a route wins over a mount" })
        .mount("/admin", admin)
        .include(Router::new().prefix("/v1").mount("/files", echo));
    let client = TestClient::new(app);
    assert_eq!(client.get("/admin").await.text(), "admin home");
    assert_eq!(client.get("/admin/users/3").await.text(), "user 3");
    // The sub-application's own 404.
    let response = client.get("/admin/nothing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text(), r#"{"detail":"Not Found"}"#);
    assert_eq!(client.get("/v1/files/a/b?x=1").await.text(), "/a/b x=1");
    // A prefix matches whole segments only.
    assert_eq!(client.get("/administrator").await.status(), 404);
    assert_eq!(
        TestClient::new(
            App::new()
                .get("/files/special", || async { "a route wins over a mount" })
                .mount("/files", |_: Request| async { "mount" })
        )
        .get("/files/special")
        .await
        .text(),
        "a route wins over a mount"
    );
}

#[portico::test]
async fn the_empty_path_is_the_prefix_itself_and_needs_one() {
    let items = Router::new()
        .prefix("/items")
        .get("", || async { "without the slash" })
        .get("/", || async { "with the slash" });
    let client = TestClient::new(App::new().include(items));
    assert_eq!(client.get("/items").await.text(), "without the slash");
    assert_eq!(client.get("/items/").await.text(), "with the slash");

    let err = App::new()
        .get("", || async { "nowhere" })
        .try_into_service()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the empty path, which only a route of a router with a prefix may have"),
        "{err}"
    );
}
