//! Setting cookies on a response.

use http::HeaderMap;
use http::header::{HeaderValue, SET_COOKIE};

use cookie::{Cookie, SameSite};

/// Cookies to set on a response, as a part of a `(parts..., body)` tuple. Each is a
/// `(name, value)` pair or a cookie built with [`cookie::Cookie::build`](crate::cookie::Cookie::build)
/// for its attributes.
///
/// Unless a cookie says otherwise, it gets `Path=/` and `SameSite=Lax`, the defaults FastAPI's
/// `set_cookie` uses.
///
/// # Examples
///
/// ```
/// use portico_http::SetCookie;
/// use portico_http::cookie::Cookie;
///
/// async fn login() -> (SetCookie, &'static str) {
///     let session = Cookie::build(("session", "abc123")).http_only(true);
///     (SetCookie::new(session).and(("theme", "dark")), "welcome")
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct SetCookie {
    cookies: Vec<Cookie<'static>>,
}

impl SetCookie {
    /// One cookie to set.
    pub fn new(cookie: impl Into<Cookie<'static>>) -> Self {
        SetCookie {
            cookies: vec![cookie.into()],
        }
    }

    /// Adds another cookie.
    pub fn and(mut self, cookie: impl Into<Cookie<'static>>) -> Self {
        self.cookies.push(cookie.into());
        self
    }

    /// Tells the client to forget the cookie `name` (an empty value that expired long ago).
    pub fn remove(mut self, name: impl Into<String>) -> Self {
        let mut cookie = Cookie::new(name.into(), "");
        cookie.make_removal();
        self.cookies.push(cookie);
        self
    }

    pub(crate) fn append_to(self, headers: &mut HeaderMap) {
        for mut cookie in self.cookies {
            if cookie.path().is_none() {
                cookie.set_path("/");
            }
            if cookie.same_site().is_none() {
                cookie.set_same_site(SameSite::Lax);
            }
            match HeaderValue::try_from(cookie.encoded().to_string()) {
                Ok(value) => {
                    headers.append(SET_COOKIE, value);
                }
                Err(_) => tracing::error!(
                    name = cookie.name(),
                    "a cookie could not be encoded and was skipped"
                ),
            }
        }
    }
}
