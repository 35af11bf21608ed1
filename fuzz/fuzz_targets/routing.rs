//! `routing`: arbitrary bytes as a request target (path and query), through the application's
//! service with no socket (the test client's way in): route matching with static, templated
//! and catch-all segments (`{id}`, `{rest:path}`, `{*rest}`), typed path parameters,
//! percent-decoding, nested routers with templated prefixes, a mounted application and a
//! mounted service, the other-slash redirect, 404 and 405, and the root path stripped from
//! the front (`apps::routing_app`).
//!
//! The first byte is the control byte: bits 0 to 2 pick the method (GET, POST, HEAD, PUT,
//! DELETE, OPTIONS, PATCH, or a method of its own), bit 3 serves the application under the
//! root path `/api`. The rest is the target; one that is not a valid URI is skipped, as the
//! server never passes one on.
//!
//! A bug is a panic, a 5xx, or a redirect without a `Location`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portico::http::{Method, Request, StatusCode, Uri, header};
use portico::{AppService, Body};
use portico_fuzz::{apps, call, run};

struct Services {
    plain: AppService,
    rooted: AppService,
}

fn services() -> &'static Services {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    SERVICES.get_or_init(|| {
        // Built inside the runtime, as a server builds its application.
        run(async {
            Services {
                plain: apps::routing_app().into_service(),
                rooted: apps::routing_app().root_path("/api").into_service(),
            }
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, target)) = data.split_first() else {
        return;
    };
    let Ok(uri) = Uri::try_from(target) else {
        return;
    };
    let method = match control & 7 {
        0 => Method::GET,
        1 => Method::POST,
        2 => Method::HEAD,
        3 => Method::PUT,
        4 => Method::DELETE,
        5 => Method::OPTIONS,
        6 => Method::PATCH,
        _ => Method::from_bytes(b"PURGE").expect("a valid method"),
    };
    let services = services();
    let service = if control & 8 == 0 {
        &services.plain
    } else {
        &services.rooted
    };
    let mut request = Request::new(Body::empty());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    request
        .headers_mut()
        .insert(header::HOST, header::HeaderValue::from_static("fuzz"));
    let answer = call(service, request);
    if answer.status == StatusCode::TEMPORARY_REDIRECT {
        assert!(
            answer.headers.contains_key(header::LOCATION),
            "a redirect without a Location"
        );
    }
});
