//! [`StaticFiles`]: a directory served under a path prefix (FastAPI's `StaticFiles`).

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use http::header::{ALLOW, HeaderValue, LOCATION};
use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;

use super::FileResponse;
use crate::error::HttpError;
use crate::response::{BoxFuture, Html, IntoResponse, Reply, Response};
use crate::routing::{IntoMount, Mounted};

/// Serves the files of a directory, mounted at a prefix with
/// [`App::mount`](crate::App::mount) (or [`mount_as`](crate::App::mount_as), to name it for
/// `url_for`).
///
/// * `GET` and `HEAD`, with the content type from the file's extension, `ETag`,
///   `Last-Modified`, 304 for `If-None-Match` / `If-Modified-Since`, and `Range` (206, or 416
///   past the end), as [`FileResponse`]; files are opened and read on the blocking pool, never
///   on the event loop.
/// * Anything else: 405 with `Allow: GET, HEAD`.
/// * A missing file: 404 `{"detail":"Not Found"}`; in [`html`](StaticFiles::html) mode, a
///   directory answers with its `index.html` (a directory asked for without its trailing slash
///   is redirected to it, 307), and a missing file with the root's `404.html` (status 404) when
///   there is one.
/// * Never a file outside the directory, whatever the path: each segment is decoded once and
///   refused if it is `..`, holds a `/`, a backslash or a NUL byte, or names a Windows drive;
///   and the file's real path (symbolic links resolved) must lie inside the directory's,
///   unless [`follow_symlinks`](StaticFiles::follow_symlinks) allows links leading out.
///
/// # Panics
///
/// When mounted, if the directory does not exist: a mistake to see at start-up, not on the
/// first request. [`check_dir(false)`](StaticFiles::check_dir) allows a directory created
/// later.
///
/// # Examples
///
/// ```
/// use portico_http::{App, StaticFiles};
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("app.css"), "body { margin: 0 }").unwrap();
/// let app = App::new().mount_as("/static", "static", StaticFiles::new(dir.path()));
///
/// let client = portico::testing::blocking_client(app);
/// let css = client.get("/static/app.css").send();
/// assert_eq!(css.status(), 200);
/// assert_eq!(css.header("content-type"), Some("text/css"));
/// assert_eq!(client.get("/static/../Cargo.toml").send().status(), 404);
/// ```
#[derive(Clone)]
pub struct StaticFiles {
    dir: PathBuf,
    html: bool,
    follow_symlinks: bool,
    check_dir: bool,
}

impl fmt::Debug for StaticFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticFiles")
            .field("dir", &self.dir)
            .field("html", &self.html)
            .field("follow_symlinks", &self.follow_symlinks)
            .finish()
    }
}

impl StaticFiles {
    /// Serves the files under `dir` (relative paths are from the working directory).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StaticFiles {
            dir: dir.into(),
            html: false,
            follow_symlinks: false,
            check_dir: true,
        }
    }

    /// Serves a site: `index.html` for a directory, `404.html` for a missing file (off by
    /// default).
    pub fn html(mut self, on: bool) -> Self {
        self.html = on;
        self
    }

    /// Whether a symbolic link may lead out of the directory (off by default: such a file is
    /// answered 404).
    pub fn follow_symlinks(mut self, on: bool) -> Self {
        self.follow_symlinks = on;
        self
    }

    /// Whether mounting checks that the directory exists (on by default).
    pub fn check_dir(mut self, on: bool) -> Self {
        self.check_dir = on;
        self
    }
}

/// The marker of [`StaticFiles`] as a mount.
#[doc(hidden)]
#[derive(Debug)]
pub enum MountStatic {}

impl IntoMount<MountStatic> for StaticFiles {
    #[track_caller]
    fn into_mount(self) -> Mounted {
        if self.check_dir && !self.dir.is_dir() {
            panic!(
                "StaticFiles: the directory `{}` does not exist",
                self.dir.display()
            );
        }
        let files = Arc::new(self);
        Mounted(
            Arc::new(move |request: crate::Request| {
                let files = files.clone();
                Box::pin(async move { Reply::Response(files.serve(request).await) })
                    as BoxFuture<Reply>
            }),
            None,
        )
    }
}

/// The relative path a request path names, or `None` if it may not name a file here.
fn relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for raw in path.split('/') {
        let segment = percent_decode_str(raw).decode_utf8().ok()?;
        if segment.is_empty() || segment == "." {
            continue;
        }
        let suspicious = segment == ".."
            || segment.contains(['/', '\\', '\0'])
            || (segment.len() >= 2
                && segment.as_bytes()[1] == b':'
                && segment.as_bytes()[0].is_ascii_alphabetic());
        if suspicious {
            return None;
        }
        // One normal component, nothing else.
        let mut components = Path::new(&*segment).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(part)), None) => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

/// What a path leads to on disk.
enum Lookup {
    File(PathBuf),
    /// A directory asked for without its trailing slash (html mode).
    AddSlash,
    Missing,
    /// `404.html` of the root, in html mode.
    Custom404(String),
}

impl StaticFiles {
    async fn serve(&self, request: crate::Request) -> Response {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return HttpError::new(StatusCode::METHOD_NOT_ALLOWED)
                .header(ALLOW, HeaderValue::from_static("GET, HEAD"))
                .into_response();
        }
        let path = request.uri().path().to_owned();
        let Some(relative) = relative(&path) else {
            return HttpError::not_found().into_response();
        };
        let (dir, html, follow) = (self.dir.clone(), self.html, self.follow_symlinks);
        let trailing = path.ends_with('/');
        let found =
            portico_tasks::to_thread(move || look_up(&dir, &relative, html, follow, trailing))
                .await;
        match found {
            Ok(Lookup::File(file)) => FileResponse::new(file).into_response(),
            Ok(Lookup::AddSlash) => {
                let location = match request.uri().query() {
                    Some(query) => {
                        crate::routing::redirect_url(&request, &format!("{path}/?{query}"))
                    }
                    None => crate::routing::redirect_url(&request, &format!("{path}/")),
                };
                let mut response = Response::new(crate::Body::empty());
                *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                if let Ok(location) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(LOCATION, location);
                }
                response
            }
            Ok(Lookup::Custom404(page)) => (StatusCode::NOT_FOUND, Html(page)).into_response(),
            Ok(Lookup::Missing) => HttpError::not_found().into_response(),
            Err(err) => {
                tracing::error!(path, "static files: {err}");
                crate::response::internal_error()
            }
        }
    }
}

fn look_up(
    dir: &Path,
    relative: &Path,
    html: bool,
    follow: bool,
    trailing: bool,
) -> io::Result<Lookup> {
    let root = match dir.canonicalize() {
        Ok(root) => root,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Missing),
        Err(err) => return Err(err),
    };
    let inside = |path: &Path| -> io::Result<Option<PathBuf>> {
        match path.canonicalize() {
            Ok(real) if follow || real.starts_with(&root) => Ok(Some(real)),
            Ok(_) => Ok(None),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(err) => Err(err),
        }
    };
    let candidate = root.join(relative);
    let found = match inside(&candidate)? {
        Some(real) if real.is_file() => Lookup::File(real),
        Some(real) if real.is_dir() && html => {
            let index = real.join("index.html");
            match inside(&index)? {
                Some(index) if index.is_file() && (trailing || relative.as_os_str().is_empty()) => {
                    Lookup::File(index)
                }
                Some(index) if index.is_file() => Lookup::AddSlash,
                _ => Lookup::Missing,
            }
        }
        _ => Lookup::Missing,
    };
    if html
        && matches!(found, Lookup::Missing)
        && let Some(page) = inside(&root.join("404.html"))?
        && page.is_file()
    {
        return Ok(Lookup::Custom404(std::fs::read_to_string(page)?));
    }
    Ok(found)
}
