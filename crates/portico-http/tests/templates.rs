//! Templates: autoescaping, `url_for` for routes and mounts under a root path, what the test
//! client sees, errors in production and debug mode and through an exception handler, and
//! large templates off the event loop.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::Path as FsPath;

use portico::http::StatusCode;
use portico::minijinja::{Environment, path_loader};
use portico::testing::blocking_client_on;
use portico::{
    App, Html, HttpError, Path, RequestHead, Route, RuntimeKind, StaticFiles, TemplateError,
    TemplateResponse, Templates,
};
use serde::Serialize;
use serde_json::json;

fn write(dir: &FsPath, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[derive(Serialize)]
struct Item {
    name: String,
    tags: Vec<String>,
}

async fn show_item(
    templates: Templates,
    Path(id): Path<u32>,
) -> Result<TemplateResponse, HttpError> {
    if id == 0 {
        return Err(HttpError::not_found());
    }
    let item = Item {
        name: format!("<b>item {id}</b>"),
        tags: vec!["a&b".into(), "c".into()],
    };
    Ok(templates
        .response("item.html", json!({"item": item, "id": id}))
        .await)
}

async fn broken(templates: Templates) -> TemplateResponse {
    templates.response("broken.html", json!({})).await
}

async fn missing(templates: Templates) -> TemplateResponse {
    templates.response("nowhere.html", json!({})).await
}

fn site(dir: &FsPath, debug: bool) -> App {
    let static_dir = dir.join("static");
    std::fs::create_dir_all(&static_dir).unwrap();
    write(&static_dir, "app.css", "body{}");
    write(
        dir,
        "item.html",
        "<h1>{{ item.name }}</h1>\n\
         <ul>{% for tag in item.tags %}<li>{{ tag }}</li>{% endfor %}</ul>\n\
         <a href=\"{{ url_for('show_item', id=id + 1) }}\">next</a>\n\
         <a href=\"{{ url_for('home') }}\">home</a>\n\
         <link href=\"{{ url_for('static', path='/app.css') }}\">\n\
         {{ item.name | safe }}",
    );
    write(dir, "broken.html", "line one\n{% if %}\n");
    App::new()
        .state(Templates::new(dir).debug(debug))
        .get("/items/{id}", show_item)
        .route(Route::get("/", || async { "home" }).name("home"))
        .get("/broken", broken)
        .get("/missing", missing)
        .mount_as("/static", "static", StaticFiles::new(&static_dir))
}

#[portico::test]
fn templates_render_with_autoescape_and_url_for(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let client = blocking_client_on(rt, site(dir.path(), false));
    let page = client.get("/items/7").send();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = page.text();
    assert!(
        text.contains("<h1>&lt;b&gt;item 7&lt;&#x2f;b&gt;</h1>"),
        "{text}"
    );
    assert!(text.contains("<li>a&amp;b</li><li>c</li>"), "{text}");
    assert!(text.contains("<a href=\"/items/8\">next</a>"), "{text}");
    assert!(text.contains("<a href=\"/\">home</a>"), "{text}");
    assert!(text.contains("<link href=\"/static/app.css\">"), "{text}");
    assert!(text.ends_with("<b>item 7</b>"), "{text}");
    // What the test client tells.
    assert_eq!(page.template(), Some("item.html"));
    assert_eq!(
        page.context().unwrap(),
        &json!({"item": {"name": "<b>item 7</b>", "tags": ["a&b", "c"]}, "id": 7})
    );
    let plain = client.get("/").send();
    assert_eq!(plain.template(), None);
    // An error before rendering is an ordinary error.
    assert_eq!(client.get("/items/0").send().status(), 404);
}

#[portico::test]
fn url_for_carries_the_root_path(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let client = blocking_client_on(rt, site(dir.path(), false).root_path("/shop"));
    let text = client.get("/items/1").send().text();
    assert!(
        text.contains("<a href=\"/shop/items/2\">next</a>"),
        "{text}"
    );
    assert!(
        text.contains("<link href=\"/shop/static/app.css\">"),
        "{text}"
    );
    let service = client.service();
    assert_eq!(
        service.url_path_for("show_item", &[("id", "3")]).as_deref(),
        Some("/shop/items/3")
    );
    assert_eq!(
        service
            .url_path_for("static", &[("path", "/a b.css")])
            .as_deref(),
        Some("/shop/static/a%20b.css")
    );
    assert_eq!(service.url_path_for("nothing", &[]), None);
}

#[portico::test]
fn template_errors_are_a_500_with_a_report_only_in_debug(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let client = blocking_client_on(rt, site(dir.path(), false));
    for path in ["/broken", "/missing"] {
        let response = client.get(path).send();
        assert_eq!(response.status(), 500, "{path}");
        assert_eq!(response.text(), "Internal Server Error");
    }
    let dir = tempfile::tempdir().unwrap();
    let client = blocking_client_on(rt, site(dir.path(), true));
    let broken = client.get("/broken").send();
    assert_eq!(broken.status(), 500);
    let report = broken.text();
    assert!(report.contains("broken.html"), "{report}");
    assert!(report.contains("broken.html:2"), "{report}");
    assert!(report.contains("syntax error"), "{report}");
    let missing = client.get("/missing").send();
    assert!(
        missing.text().contains("nowhere.html"),
        "{}",
        missing.text()
    );
    // A url_for that cannot be built is a template error too.
    write(dir.path(), "item.html", "{{ url_for('show_item') }}");
    let bad = client.get("/items/1").send();
    assert_eq!(bad.status(), 500);
    assert!(
        bad.text().contains("needs the parameter `id`"),
        "{}",
        bad.text()
    );
}

#[portico::test]
fn an_exception_handler_answers_template_errors_with_its_own_page(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let app = site(dir.path(), false).exception_handler(
        |err: TemplateError, head: RequestHead| async move {
            let page = format!(
                "<h1>Sorry</h1><p>{} broke at {}</p>",
                err.name(),
                head.uri().path()
            );
            (StatusCode::SERVICE_UNAVAILABLE, Html(page))
        },
    );
    let client = blocking_client_on(rt, app);
    let broken = client.get("/broken").send();
    assert_eq!(broken.status(), 503);
    assert_eq!(
        broken.text(),
        "<h1>Sorry</h1><p>broken.html broke at /broken</p>"
    );
    let missing = client.get("/missing").send();
    assert_eq!(missing.status(), 503);
    assert_eq!(
        missing.text(),
        "<h1>Sorry</h1><p>nowhere.html broke at /missing</p>"
    );
    // A template that renders is left alone.
    let item = client.get("/items/1").send();
    assert_eq!(item.status(), 200);
    assert_eq!(item.template(), Some("item.html"));
}

#[test]
fn templates_must_be_registered() {
    let err = App::new().get("/", broken).try_into_service().unwrap_err();
    assert!(err.to_string().contains("Templates"), "{err}");
}

/// Where the template function runs: "blocking" on the blocking pool.
fn role() -> String {
    match portico::rt::thread_role() {
        portico::rt::ThreadRole::Driver(_) => "driver".into(),
        portico::rt::ThreadRole::Blocking(_) => "blocking".into(),
        _ => "outside".into(),
    }
}

async fn small(templates: Templates) -> TemplateResponse {
    templates.response("small.html", json!({})).await
}

async fn large(templates: Templates) -> TemplateResponse {
    templates.response("large.html", json!({})).await
}

#[portico::test]
fn large_templates_render_off_the_event_loop(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.html", "{{ role() }}");
    let padding = "<!-- padding -->\n".repeat(3000);
    write(
        dir.path(),
        "large.html",
        &format!("{padding}{{{{ role() }}}}"),
    );
    let mut env = Environment::new();
    env.set_loader(path_loader(dir.path()));
    env.add_function("role", role);
    let app = App::new()
        .state(Templates::from_env(env))
        .get("/small", small)
        .get("/large", large);
    let client = blocking_client_on(rt, app);
    assert_ne!(client.get("/small").send().text(), "blocking");
    assert!(client.get("/large").send().text().ends_with("blocking"));
}
