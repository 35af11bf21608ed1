//! Static files mounted at a prefix: types, caching headers, conditional and range requests,
//! HEAD, the html mode, errors, and the paths that must never leave the directory.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::path::Path;

use portico::testing::blocking_client_on;
use portico::{App, RuntimeKind, StaticFiles};
use support::serve;

const SECRET: &str = "the secret outside the directory";

/// `root/public` is served; `root/secret.txt` is outside it.
fn site(root: &Path) -> std::path::PathBuf {
    let public = root.join("public");
    std::fs::create_dir_all(public.join("docs")).unwrap();
    std::fs::create_dir_all(public.join("empty")).unwrap();
    std::fs::write(root.join("secret.txt"), SECRET).unwrap();
    std::fs::write(public.join("app.css"), "body { margin: 0 }").unwrap();
    std::fs::write(public.join("app.js"), "console.log(1);").unwrap();
    std::fs::write(public.join("logo.svg"), "<svg></svg>").unwrap();
    std::fs::write(public.join("data.json"), "{\"a\":1}").unwrap();
    std::fs::write(public.join("index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(public.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    std::fs::write(public.join("404.html"), "<h1>lost</h1>").unwrap();
    std::fs::write(public.join("digits.txt"), "0123456789").unwrap();
    std::fs::write(public.join("with space.txt"), "spaced").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("secret.txt"), public.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(root, public.join("up")).unwrap();
        std::os::unix::fs::symlink(public.join("app.css"), public.join("alias.css")).unwrap();
    }
    public
}

#[portico::test]
fn files_are_served_with_their_type_and_validators(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let public = site(dir.path());
    let client = blocking_client_on(rt, App::new().mount("/static", StaticFiles::new(&public)));
    for (path, kind, body) in [
        ("/static/app.css", "text/css", "body { margin: 0 }"),
        ("/static/app.js", "text/javascript", "console.log(1);"),
        ("/static/logo.svg", "image/svg+xml", "<svg></svg>"),
        ("/static/data.json", "application/json", "{\"a\":1}"),
        ("/static/with%20space.txt", "text/plain", "spaced"),
        ("/static/alias.css", "text/css", "body { margin: 0 }"),
    ] {
        let response = client.get(path).send();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.header("content-type"), Some(kind), "{path}");
        assert_eq!(response.text(), body, "{path}");
        assert!(response.header("etag").is_some());
        assert!(response.header("last-modified").is_some());
    }
    let first = client.get("/static/app.css").send();
    let etag = first.header("etag").unwrap();
    let cached = client
        .get("/static/app.css")
        .header("if-none-match", etag)
        .send();
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().is_empty());
    let since = client
        .get("/static/app.css")
        .header("if-modified-since", first.header("last-modified").unwrap())
        .send();
    assert_eq!(since.status(), 304);

    let part = client
        .get("/static/digits.txt")
        .header("range", "bytes=2-4")
        .send();
    assert_eq!(part.status(), 206);
    assert_eq!(part.text(), "234");
    assert_eq!(part.header("content-range"), Some("bytes 2-4/10"));
    let past = client
        .get("/static/digits.txt")
        .header("range", "bytes=20-30")
        .send();
    assert_eq!(past.status(), 416);

    let head = client.head("/static/app.css").send();
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("content-type"), Some("text/css"));
    assert!(head.bytes().is_empty());

    let missing = client.get("/static/nope.css").send();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text(), r#"{"detail":"Not Found"}"#);
    // Directories are not listed, and index.html is not served without the html mode.
    assert_eq!(client.get("/static/").send().status(), 404);
    assert_eq!(client.get("/static/docs/").send().status(), 404);

    let post = client.post("/static/app.css").send();
    assert_eq!(post.status(), 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[portico::test]
fn the_html_mode_serves_a_site(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let public = site(dir.path());
    let app = App::new().mount("/site", StaticFiles::new(&public).html(true));
    let client = blocking_client_on(rt, app).follow_redirects(false);
    let home = client.get("/site/").send();
    assert_eq!(home.status(), 200);
    assert_eq!(home.text(), "<h1>home</h1>");
    assert_eq!(home.header("content-type"), Some("text/html"));
    assert_eq!(client.get("/site").send().text(), "<h1>home</h1>");
    assert_eq!(client.get("/site/docs/").send().text(), "<h1>docs</h1>");
    let bare = client.get("/site/docs?x=1").send();
    assert_eq!(bare.status(), 307);
    assert_eq!(
        bare.header("location"),
        Some("http://testserver/site/docs/?x=1")
    );
    let lost = client.get("/site/missing/page").send();
    assert_eq!(lost.status(), 404);
    assert_eq!(lost.text(), "<h1>lost</h1>");
    // A directory without an index is missing too.
    assert_eq!(client.get("/site/empty/").send().text(), "<h1>lost</h1>");
    // Paths that try to leave get the site's 404 page, never the file.
    assert_eq!(client.get("/site/%2e%2e/secret.txt").send().status(), 404);
}

/// Request paths that must never reach a file outside the directory.
const ESCAPES: &[&str] = &[
    "/static/..",
    "/static/../",
    "/static/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/static/%252e%252e/secret.txt",
    "/static/..%252fsecret.txt",
    "/static/..%5c..%5csecret.txt",
    "/static/%5csecret.txt",
    "/static/%2F..%2Fsecret.txt",
    "/static/%00",
    "/static/%00/../secret.txt",
    "/static/C%3A%5Csecret.txt",
    "/static/%c0%ae%c0%ae/secret.txt",
    "/static/%e0%80%ae%e0%80%ae/secret.txt",
    "/static/..;/secret.txt",
    "/static/...%2fsecret.txt",
    "/static%2f..%2fsecret.txt",
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/%2e./secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/docs/../../secret.txt",
    "/static/docs/%2e%2e/%2e%2e/secret.txt",
    "/static/..%5csecret.txt",
    "/static/%5c..%5csecret.txt",
    "/static/%2e%2e%5csecret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/C:%5cWindows%5cwin.ini",
    "/static/secret.txt%00.css",
    "/static/app.css%00",
    "/static/leak.txt",
    "/static/up/secret.txt",
];

#[portico::test]
fn no_path_leaves_the_directory(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let public = site(dir.path());
    let client = blocking_client_on(rt, App::new().mount("/static", StaticFiles::new(&public)));
    for path in ESCAPES {
        let response = client.get(path).send();
        assert_eq!(client.head(path).send().status(), 404, "HEAD {path}");
        assert_eq!(response.status(), 404, "{path}");
        assert!(
            !response.text().contains(SECRET),
            "{path} leaked the secret"
        );
    }
    // The same directory, with links leading out allowed.
    let client = blocking_client_on(
        rt,
        App::new().mount("/static", StaticFiles::new(&public).follow_symlinks(true)),
    );
    assert_eq!(client.get("/static/leak.txt").send().text(), SECRET);
    assert_eq!(client.get("/static/up/secret.txt").send().text(), SECRET);
    // Dot segments still never pass.
    assert_eq!(client.get("/static/../secret.txt").send().status(), 404);
    assert_eq!(client.get("/static/%2e%2e/secret.txt").send().status(), 404);
}

#[portico::test]
async fn no_path_leaves_the_directory_over_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let public = site(dir.path());
    let server = serve(App::new().mount("/static", StaticFiles::new(&public)));
    let mut raw: Vec<&str> = ESCAPES.to_vec();
    raw.push("http://t/static/../secret.txt");
    // What an HTTP client would normalise away, sent as it is.
    raw.extend([
        "/static/..\\secret.txt",
        "/static/./../secret.txt",
        "/static/%252e%252e/secret.txt",
    ]);
    for path in raw {
        let response = support::roundtrip(
            server.local_addr(),
            &format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            response.status == 404 || response.status == 400,
            "{path}: {}",
            response.status
        );
        assert!(
            !response.text().contains(SECRET),
            "{path} leaked the secret"
        );
    }
    let fine = support::roundtrip(
        server.local_addr(),
        "GET /static/app.css HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(fine.text(), "body { margin: 0 }");
    server.stop().await.unwrap();
}

#[test]
#[should_panic(expected = "StaticFiles: the directory `no/such/dir` does not exist")]
fn a_missing_directory_is_a_mistake_when_mounted() {
    let _ = App::new().mount("/static", StaticFiles::new("no/such/dir"));
}

#[portico::test]
fn a_directory_made_later_is_allowed_when_asked(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let later = dir.path().join("later");
    let app = App::new().mount("/static", StaticFiles::new(&later).check_dir(false));
    let client = blocking_client_on(rt, app);
    assert_eq!(client.get("/static/a.txt").send().status(), 404);
    std::fs::create_dir(&later).unwrap();
    std::fs::write(later.join("a.txt"), "now").unwrap();
    assert_eq!(client.get("/static/a.txt").send().text(), "now");
}
