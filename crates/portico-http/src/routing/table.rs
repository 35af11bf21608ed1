//! The route table: one entry per path template, an endpoint per method, matched with a radix
//! tree (matchit) after a hash lookup for templates without parameters.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use http::header::{CONNECTION, UPGRADE};
use http::{HeaderMap, HeaderValue, Method};

use super::template;

/// Path parameters as byte ranges of the request path, kept inline for up to four.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    len: u8,
    inline: [(u32, u32); 4],
    spill: Vec<(u32, u32)>,
}

impl Params {
    fn push(&mut self, start: usize, end: usize) {
        let range = (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(end).unwrap_or(u32::MAX),
        );
        match self.inline.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = range;
                self.len += 1;
            }
            None => self.spill.push(range),
        }
    }

    /// The ranges, in the route's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        self.inline[..usize::from(self.len)]
            .iter()
            .chain(&self.spill)
            .map(|&(start, end)| start as usize..end as usize)
    }
}

/// The standard methods, in the order of [`MethodTable`]'s slots.
const METHODS: [Method; 9] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::HEAD,
    Method::OPTIONS,
    Method::TRACE,
    Method::CONNECT,
];

fn slot_of(method: &Method) -> Option<usize> {
    METHODS.iter().position(|m| m == method)
}

/// One path template and its endpoint per method.
struct PathMethods<E> {
    slots: [Option<E>; 9],
    other: Vec<(Method, E)>,
    /// The WebSocket route here: it answers a `GET` that opens a WebSocket, and every `GET`
    /// when the path has no plain `GET` route.
    websocket: Option<E>,
    /// The `Allow` header of a 405 here.
    allow: HeaderValue,
    /// The path template, as written.
    template: Arc<str>,
}

/// One route for the table: its method, its template, whether it opens WebSockets, and what
/// answers it.
pub(crate) struct Entry<E> {
    pub(crate) method: Method,
    pub(crate) template: Arc<str>,
    pub(crate) websocket: bool,
    pub(crate) endpoint: E,
}

/// What a request's method and path lead to.
pub(crate) enum Match<'a, E> {
    /// An endpoint, with the path parameters (`HEAD` falls back to `GET`).
    Endpoint { endpoint: &'a E, params: Params },
    /// The path exists but not for this method.
    MethodNotAllowed {
        /// The `Allow` header.
        allow: &'a HeaderValue,
        /// The path template that matched.
        template: &'a str,
    },
    /// Nothing here; with the other spelling of the path (with or without the trailing slash)
    /// when that one exists.
    NotFound { other_slash: Option<String> },
}

/// The route table, ready to match.
pub(crate) struct Table<E> {
    matcher: matchit::Router<usize>,
    /// Templates without parameters, matched by a hash lookup before the radix tree.
    statics: HashMap<Box<str>, usize, BuildHasherDefault<FxHasher>>,
    entries: Vec<PathMethods<E>>,
    redirect_slashes: bool,
}

/// The Fx hash (rustc's): a multiply and a rotate per word, fine for short keys known in
/// advance, such as paths.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl<E> std::fmt::Debug for Table<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("paths", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// Builds the table.
///
/// # Errors
///
/// A message naming the route, for two handlers on one method and path or a template matchit
/// refuses (two templates that overlap ambiguously).
pub(crate) fn build<E>(routes: Vec<Entry<E>>, redirect_slashes: bool) -> Result<Table<E>, String> {
    let mut matcher = matchit::Router::new();
    let mut statics = HashMap::default();
    let mut entries: Vec<PathMethods<E>> = Vec::new();
    let mut by_template: Vec<String> = Vec::new();
    for Entry {
        method,
        template,
        websocket,
        endpoint,
    } in routes
    {
        let (matchit_path, names) = template::parse(&template)?;
        let index = match by_template.iter().position(|t| *t == matchit_path) {
            Some(index) => index,
            None => {
                matcher
                    .insert(matchit_path.clone(), entries.len())
                    .map_err(|err| format!("cannot add the route `{template}`: {err}"))?;
                if names.is_empty() && !matchit_path.contains(['{', '}']) {
                    statics.insert(matchit_path.clone().into_boxed_str(), entries.len());
                }
                by_template.push(matchit_path);
                entries.push(PathMethods {
                    slots: Default::default(),
                    other: Vec::new(),
                    websocket: None,
                    allow: HeaderValue::from_static(""),
                    template: template.clone(),
                });
                entries.len() - 1
            }
        };
        let entry = &mut entries[index];
        if websocket {
            if entry.websocket.replace(endpoint).is_some() {
                return Err(format!("two WebSocket handlers for {}", by_template[index]));
            }
            continue;
        }
        let taken = match slot_of(&method) {
            Some(slot) => entry.slots[slot].replace(endpoint).is_some(),
            None => {
                let taken = entry.other.iter().any(|(m, _)| *m == method);
                entry.other.push((method.clone(), endpoint));
                taken
            }
        };
        if taken {
            return Err(format!("two handlers for {method} {}", by_template[index]));
        }
    }
    for entry in &mut entries {
        let mut allowed: Vec<&str> = Vec::new();
        for (slot, method) in METHODS.iter().enumerate() {
            let head_by_get = slot == 5 && entry.slots[0].is_some();
            let get_by_websocket = slot == 0 && entry.websocket.is_some();
            if entry.slots[slot].is_some() || head_by_get || get_by_websocket {
                allowed.push(method.as_str());
            }
        }
        allowed.extend(entry.other.iter().map(|(m, _)| m.as_str()));
        entry.allow = HeaderValue::from_str(&allowed.join(", "))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
    }
    Ok(Table {
        matcher,
        statics,
        entries,
        redirect_slashes,
    })
}

impl<E> Table<E> {
    /// Finds what answers `method` on `path`; `headers` tell a `GET` that opens a WebSocket
    /// from a plain one, where a path has both kinds of route.
    pub(crate) fn find(&self, method: &Method, path: &str, headers: &HeaderMap) -> Match<'_, E> {
        // A path with no parameters needs no tree walk.
        if let Some(&index) = self.statics.get(path) {
            return self.endpoint(&self.entries[index], method, headers, Params::default());
        }
        let Ok(matched) = self.matcher.at(path) else {
            return Match::NotFound {
                other_slash: self.other_slash(path),
            };
        };
        let mut params = Params::default();
        let base = path.as_ptr() as usize;
        for (_, value) in matched.params.iter() {
            // matchit hands out slices of `path`; their offsets locate the values.
            let start = (value.as_ptr() as usize).saturating_sub(base);
            params.push(start, start + value.len());
        }
        self.endpoint(&self.entries[*matched.value], method, headers, params)
    }

    /// The endpoint of `entry` for `method`.
    fn endpoint<'a>(
        &'a self,
        entry: &'a PathMethods<E>,
        method: &Method,
        headers: &HeaderMap,
        params: Params,
    ) -> Match<'a, E> {
        let endpoint = match slot_of(method) {
            Some(0) => match (&entry.slots[0], &entry.websocket) {
                (Some(get), Some(websocket)) => {
                    if is_websocket_handshake(headers) {
                        websocket
                    } else {
                        get
                    }
                }
                (Some(endpoint), None) | (None, Some(endpoint)) => endpoint,
                (None, None) => {
                    return Match::MethodNotAllowed {
                        allow: &entry.allow,
                        template: &entry.template,
                    };
                }
            },
            // HEAD falls back to GET, as HTTP asks.
            Some(5) => match (&entry.slots[5], &entry.slots[0]) {
                (Some(endpoint), _) | (None, Some(endpoint)) => endpoint,
                (None, None) => {
                    return Match::MethodNotAllowed {
                        allow: &entry.allow,
                        template: &entry.template,
                    };
                }
            },
            Some(slot) => match &entry.slots[slot] {
                Some(endpoint) => endpoint,
                None => {
                    return Match::MethodNotAllowed {
                        allow: &entry.allow,
                        template: &entry.template,
                    };
                }
            },
            None => match entry.other.iter().find(|(m, _)| m == method) {
                Some((_, endpoint)) => endpoint,
                None => {
                    return Match::MethodNotAllowed {
                        allow: &entry.allow,
                        template: &entry.template,
                    };
                }
            },
        };
        Match::Endpoint { endpoint, params }
    }

    /// The path with its trailing slash toggled, if that one exists (FastAPI's
    /// `redirect_slashes`). Not for a target that is no path (`CONNECT host:443`, whose path
    /// is empty; `OPTIONS *`): it is not found.
    fn other_slash(&self, path: &str) -> Option<String> {
        if !self.redirect_slashes || path == "/" || !path.starts_with('/') {
            return None;
        }
        let other = match path.strip_suffix('/') {
            Some(trimmed) => trimmed.to_owned(),
            None => format!("{path}/"),
        };
        self.matcher.at(&other).is_ok().then_some(other)
    }

    /// Every endpoint, with its method, in the order the paths were added.
    pub(crate) fn endpoints(&self) -> impl Iterator<Item = (&Method, &E)> {
        self.entries.iter().flat_map(|entry| {
            entry
                .slots
                .iter()
                .zip(METHODS.iter())
                .filter_map(|(slot, method)| slot.as_ref().map(|e| (method, e)))
                .chain(entry.websocket.iter().map(|e| (&METHODS[0], e)))
                .chain(entry.other.iter().map(|(m, e)| (m, e)))
        })
    }
}

/// Whether a request's headers ask to open a WebSocket (`Upgrade: websocket` and
/// `Connection: upgrade`), which picks the WebSocket route of a path that has a plain `GET`
/// route too.
pub(crate) fn is_websocket_handshake(headers: &HeaderMap) -> bool {
    has_token(headers, UPGRADE, "websocket") && has_token(headers, CONNECTION, "upgrade")
}

/// Whether a header holds `token` in its comma-separated list (case-insensitively).
fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    })
}
