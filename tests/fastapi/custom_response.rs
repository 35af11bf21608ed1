//! Custom response: `docs_src/custom_response/tutorial001` to `tutorial010`.

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{
    App, Body, FileResponse, Html, IntoResponse, Json, OperationDoc, Redirect, Response, ReturnDoc,
    Route, State, StreamBody, Text,
};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document};

/// The document of one `GET` operation with no parameters, answering `responses`.
fn single(path: &str, summary: &str, operation_id: &str, responses: Value) -> Value {
    document(
        json!({path: {"get": {
            "summary": summary,
            "operationId": operation_id,
            "responses": responses,
        }}}),
        None,
    )
}

/// A 200 of `media_type` whose schema is a string.
fn text_response(media_type: &str) -> Value {
    json!({"200": {
        "description": "Successful Response",
        "content": {media_type: {"schema": {"type": "string"}}},
    }})
}

/// `GET /items/` answering `[{"item_id": "Foo"}]`, and its document, for 001 and 001b.
async fn assert_items_json(app: fn() -> App) {
    let client = TestClient::new(app());
    let response = client.get("/items/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!([{"item_id": "Foo"}]));
}

async fn assert_items_json_document(app: fn() -> App) {
    let expected = single(
        "/items/",
        "Read Items",
        "read_items_items__get",
        json!({"200": any_json_response()}),
    );
    assert_document(&TestClient::new(app()), expected).await;
}

/// `UJSONResponse` is another JSON encoder: in Rust, `Json`.
mod tutorial001 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"item_id": "Foo"}]))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn get_custom_response() {
        assert_items_json(app).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_items_json_document(app).await;
    }
}

/// `ORJSONResponse` is another JSON encoder (orjson): in Rust, `Json` built by the handler.
mod tutorial001b {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"item_id": "Foo"}]))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn get_custom_response() {
        assert_items_json(app).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_items_json_document(app).await;
    }
}

const HTML_CONTENTS: &str = "
    <html>
        <head>
            <title>Some HTML in here</title>
        </head>
        <body>
            <h1>Look ma! HTML!</h1>
        </body>
    </html>
    ";

/// FastAPI's `test_tutorial002_tutorial003_tutorial004`'s first test, against each app.
async fn assert_html(app: App) {
    let client = TestClient::new(app);
    let response = client.get("/items/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.text(), HTML_CONTENTS);
}

/// Its second test: the document, with the app's `content`.
async fn assert_html_document(app: App, content: Value) {
    let client = TestClient::new(app);
    let expected = single(
        "/items/",
        "Read Items",
        "read_items_items__get",
        json!({"200": {"description": "Successful Response", "content": content}}),
    );
    assert_document(&client, expected).await;
}

/// `response_class=HTMLResponse`: the return type `Html`.
mod tutorial002 {
    use super::*;

    async fn read_items() -> Html<&'static str> {
        Html(HTML_CONTENTS)
    }

    #[portico::test]
    async fn get_custom_response() {
        assert_html(App::new().get("/items/", read_items)).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let app = App::new().get("/items/", read_items);
        assert_html_document(app, json!({"text/html": {"schema": {"type": "string"}}})).await;
    }
}

/// An `HTMLResponse` returned directly: the handler returns a `Response`, documented as JSON.
mod tutorial003 {
    use super::*;

    async fn read_items() -> Response {
        let html_content = HTML_CONTENTS;
        (StatusCode::OK, Html(html_content)).into_response()
    }

    #[portico::test]
    async fn get_custom_response() {
        assert_html(App::new().get("/items/", read_items)).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let app = App::new().get("/items/", read_items);
        assert_html_document(app, json!({"application/json": {"schema": {}}})).await;
    }
}

/// The response built by another function, and `response_class=HTMLResponse` for the docs.
mod tutorial004 {
    use super::*;

    fn generate_html_response() -> Html<&'static str> {
        Html(HTML_CONTENTS)
    }

    async fn read_items() -> Html<&'static str> {
        generate_html_response()
    }

    #[portico::test]
    async fn get_custom_response() {
        assert_html(App::new().get("/items/", read_items)).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let app = App::new().get("/items/", read_items);
        assert_html_document(app, json!({"text/html": {"schema": {"type": "string"}}})).await;
    }
}

mod tutorial005 {
    use super::*;

    async fn main() -> Text<&'static str> {
        Text("Hello World")
    }

    fn app() -> App {
        App::new().get("/", main)
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        let response = client.get("/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.text(), "Hello World");
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = single("/", "Main", "main__get", text_response("text/plain"));
        assert_document(&TestClient::new(app()), expected).await;
    }
}

mod tutorial006 {
    use super::*;

    async fn redirect_typer() -> Redirect {
        Redirect::to("https://typer.tiangolo.com")
    }

    fn app() -> App {
        App::new().get("/typer", redirect_typer)
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        let response = client.get("/typer").follow_redirects(false).await;
        assert_eq!(response.status(), 307, "{}", response.text());
        assert_eq!(
            response.header("location"),
            Some("https://typer.tiangolo.com")
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = single(
            "/typer",
            "Redirect Typer",
            "redirect_typer_typer_get",
            json!({"200": any_json_response()}),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// A redirect as FastAPI's `response_class=RedirectResponse` documents it: the route's status
/// with no body. (Portico's `Redirect` says nothing of itself, which documents JSON.)
struct RedirectResponse(StatusCode, Redirect);

impl IntoResponse for RedirectResponse {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }

    fn describe_response(doc: &mut OperationDoc) {
        doc.returns(ReturnDoc::Empty);
    }
}

/// `response_class=RedirectResponse`: 307, documented with no body.
mod tutorial006b {
    use super::*;

    async fn redirect_fastapi() -> RedirectResponse {
        let to = Redirect::to("https://fastapi.tiangolo.com");
        RedirectResponse(StatusCode::TEMPORARY_REDIRECT, to)
    }

    fn app() -> App {
        App::new().route(
            Route::get("/fastapi", redirect_fastapi).status_code(StatusCode::TEMPORARY_REDIRECT),
        )
    }

    #[portico::test]
    async fn redirect_response_class() {
        let client = TestClient::new(app());
        let response = client.get("/fastapi").follow_redirects(false).await;
        assert_eq!(response.status(), 307);
        assert_eq!(
            response.header("location"),
            Some("https://fastapi.tiangolo.com")
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = single(
            "/fastapi",
            "Redirect Fastapi",
            "redirect_fastapi_fastapi_get",
            json!({"307": {"description": "Successful Response"}}),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// `response_class=RedirectResponse, status_code=302`.
mod tutorial006c {
    use super::*;

    async fn redirect_pydantic() -> RedirectResponse {
        let to = Redirect::to("https://docs.pydantic.dev/");
        RedirectResponse(StatusCode::FOUND, to)
    }

    fn app() -> App {
        App::new().route(Route::get("/pydantic", redirect_pydantic).status_code(StatusCode::FOUND))
    }

    #[portico::test]
    async fn redirect_status_code() {
        let client = TestClient::new(app());
        let response = client.get("/pydantic").follow_redirects(false).await;
        assert_eq!(response.status(), 302);
        assert_eq!(
            response.header("location"),
            Some("https://docs.pydantic.dev/")
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = single(
            "/pydantic",
            "Redirect Pydantic",
            "redirect_pydantic_pydantic_get",
            json!({"302": {"description": "Successful Response"}}),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}

mod tutorial007 {
    use super::*;

    async fn main() -> StreamBody {
        let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(&b"some fake video bytes"[..]));
        StreamBody::new(futures_lite::stream::iter(chunks))
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(App::new().get("/", main));
        let fake_content = b"some fake video bytes";
        let response = client.get("/").await;
        assert_eq!(response.bytes().as_ref(), fake_content.repeat(10));
    }
}

/// FastAPI's tests point the module's `some_file_path` at a temporary file: here the path is
/// the app's state.
#[derive(Clone)]
struct SomeFilePath(std::path::PathBuf);

/// A temporary directory holding `large-video-file.mp4` with `content`, removed on drop.
struct VideoFile(std::path::PathBuf);

impl VideoFile {
    fn new(name: &str, content: &[u8]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "portico-fastapi-custom-response-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("large-video-file.mp4"), content).unwrap();
        VideoFile(dir)
    }

    fn path(&self) -> SomeFilePath {
        SomeFilePath(self.0.join("large-video-file.mp4"))
    }
}

impl Drop for VideoFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn assert_serves_file(name: &str, app: fn(SomeFilePath) -> App) {
    let test_content = b"Fake video bytes";
    let file = VideoFile::new(name, test_content);
    let client = TestClient::new(app(file.path()));
    let response = client.get("/").await;
    assert_eq!(response.bytes().as_ref(), test_content);
}

/// A plain `fn` (FastAPI's `def`) streaming a file it opens.
mod tutorial008 {
    use std::io::Read;

    use super::*;

    fn main(State(some_file_path): State<SomeFilePath>) -> StreamBody {
        let mut file_like = std::fs::File::open(&some_file_path.0).unwrap();
        let iterfile = std::iter::from_fn(move || {
            let mut chunk = vec![0; 64 * 1024];
            match file_like.read(&mut chunk) {
                Ok(0) => None,
                Ok(n) => {
                    chunk.truncate(n);
                    Some(Ok::<_, std::io::Error>(chunk))
                }
                Err(err) => Some(Err(err)),
            }
        });
        StreamBody::new(futures_lite::stream::iter(iterfile)).content_type("video/mp4")
    }

    #[portico::test]
    async fn get() {
        assert_serves_file("008", |path| App::new().state(path).get("/", main)).await;
    }
}

mod tutorial009 {
    use super::*;

    async fn main(State(some_file_path): State<SomeFilePath>) -> FileResponse {
        FileResponse::new(&some_file_path.0)
    }

    #[portico::test]
    async fn get() {
        assert_serves_file("009", |path| App::new().state(path).get("/", main)).await;
    }
}

/// `response_class=FileResponse` returning the path: in Rust the handler returns the
/// `FileResponse` itself, which is 009.
mod tutorial009b {
    use super::*;

    async fn main(State(some_file_path): State<SomeFilePath>) -> FileResponse {
        FileResponse::new(some_file_path.0.clone())
    }

    #[portico::test]
    async fn get() {
        assert_serves_file("009b", |path| App::new().state(path).get("/", main)).await;
    }
}

/// A response class of one's own: JSON indented by two spaces (orjson's `OPT_INDENT_2`).
mod tutorial009c {
    use super::*;

    struct CustomOrjsonResponse(Value);

    impl IntoResponse for CustomOrjsonResponse {
        fn into_response(self) -> Response {
            let content = serde_json::to_vec_pretty(&self.0).unwrap();
            let headers = [("content-type", "application/json")];
            (headers, Body::from(content)).into_response()
        }
    }

    async fn main() -> CustomOrjsonResponse {
        CustomOrjsonResponse(json!({"message": "Hello World"}))
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(App::new().get("/", main));
        let response = client.get("/").await;
        assert_eq!(
            response.bytes().as_ref(),
            b"{\n  \"message\": \"Hello World\"\n}"
        );
    }
}

/// `default_response_class=HTMLResponse`: Portico has no default class; the handler returns
/// `Html`.
mod tutorial010 {
    use super::*;

    async fn read_items() -> Html<&'static str> {
        Html("<h1>Items</h1><p>This is a list of items.</p>")
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn get_custom_response() {
        let client = TestClient::new(app());
        let response = client.get("/items/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.text(),
            "<h1>Items</h1><p>This is a list of items.</p>"
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = single(
            "/items/",
            "Read Items",
            "read_items_items__get",
            text_response("text/html"),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}
