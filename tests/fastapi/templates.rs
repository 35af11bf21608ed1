//! Templates: `docs_src/templates/tutorial001`.
//!
//! FastAPI's test copies `templates/` and `static/` into the working directory; here they are
//! written into a temporary directory of the test's own. The page links to itself and to its
//! stylesheet with `url_for`, which in Portico gives a path where Starlette gives an absolute
//! URL (see the README, difference (i)).

use std::path::Path;

use portico::testing::TestClient;
use portico::{App, StaticFiles, TemplateResponse, Templates};
use serde_json::json;

/// `templates/item.html`.
const ITEM_HTML: &str = r#"<!DOCTYPE html>
<html>
<head>
    <title>Item {{ id }}</title>
    <link rel="stylesheet" href="{{ url_for('static', path='/styles.css') }}">
</head>
<body>
    <h1><a href="{{ url_for('read_item', id=id) }}">Item ID: {{ id }}</a></h1>
</body>
</html>
"#;

/// `static/styles.css`.
const STYLES_CSS: &str = "h1 {\n    color: green;\n}\n";

#[portico::handler]
async fn read_item(#[path] id: String, templates: Templates) -> TemplateResponse {
    templates.response("item.html", json!({"id": id})).await
}

fn app(dir: &Path) -> App {
    App::new()
        .mount_as("/static", "static", StaticFiles::new(dir.join("static")))
        .state(Templates::new(dir.join("templates")))
        .get("/items/{id}", read_item)
}

/// A directory with `templates/item.html` and `static/styles.css`, removed on drop.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (sub, name, text) in [
        ("templates", "item.html", ITEM_HTML),
        ("static", "styles.css", STYLES_CSS),
    ] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join(name), text).unwrap();
    }
    dir
}

#[portico::test]
async fn item_page_and_stylesheet() {
    let dir = site();
    let client = TestClient::new(app(dir.path()));
    let response = client.get("/items/foo").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    // (i) FastAPI: `href="http://testserver/items/foo"`.
    assert!(
        response
            .text()
            .contains(r#"<h1><a href="/items/foo">Item ID: foo</a></h1>"#),
        "{}",
        response.text()
    );
    let response = client.get("/static/styles.css").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert!(response.text().contains("color: green;"));
}

/// The stylesheet's link, under the mount named `static`, and the page's own link follow the
/// application's root path, as Starlette's absolute URLs do.
#[portico::test]
async fn url_for_follows_the_root_path() {
    let dir = site();
    let client = TestClient::new(app(dir.path()).root_path("/shop"));
    let text = client.get("/items/foo").await.text();
    assert!(
        text.contains(r#"<link rel="stylesheet" href="/shop/static/styles.css">"#),
        "{text}"
    );
    assert!(
        text.contains(r#"<h1><a href="/shop/items/foo">Item ID: foo</a></h1>"#),
        "{text}"
    );
}
