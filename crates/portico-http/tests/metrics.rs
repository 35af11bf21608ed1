//! The `Metrics` middleware over real loopback sockets: counts and durations per route and
//! status class, the in-flight, connection and thread gauges, both text formats, and a load
//! run whose counts come out exact.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portico::telemetry::Metrics;
use portico::{App, HttpError, Path, Router};
use support::{Conn, Raw, serve};

async fn item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

async fn unavailable() -> Result<&'static str, HttpError> {
    Err(HttpError::new(http::StatusCode::SERVICE_UNAVAILABLE))
}

async fn boom() -> &'static str {
    panic!("boom, counted")
}

async fn forever() -> &'static str {
    std::future::pending::<()>().await;
    "never"
}

fn app(metrics: &Metrics) -> App {
    App::new()
        .get("/items/{id}", item)
        .get("/unavailable", unavailable)
        .get("/boom", boom)
        .get("/forever", forever)
        .get("/metrics", metrics.endpoint())
        .add_middleware(metrics.clone())
}

/// One GET on `conn`, kept alive.
async fn get(conn: &mut Conn, path: &str) -> Raw {
    get_with(conn, path, "").await
}

async fn get_with(conn: &mut Conn, path: &str, headers: &str) -> Raw {
    let request = format!("GET {path} HTTP/1.1\r\nhost: t\r\n{headers}\r\n");
    conn.send(request.as_bytes()).await;
    conn.response().await.expect("a response")
}

/// The value of the sample `series` (a name and its labels, as written on the page).
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

fn count(page: &str, route: &str, class: &str) -> f64 {
    let series = format!(
        r#"http_server_requests_total{{method="GET",route="{route}",status_class="{class}"}}"#
    );
    sample(page, &series).unwrap_or_else(|| panic!("no {series} in\n{page}"))
}

fn timed(page: &str, route: &str, class: &str) -> f64 {
    let series = format!(
        r#"http_server_request_duration_seconds_count{{method="GET",route="{route}",status_class="{class}"}}"#
    );
    sample(page, &series).unwrap_or_else(|| panic!("no {series} in\n{page}"))
}

async fn scrape(addr: SocketAddr) -> String {
    let mut conn = Conn::open(addr).await;
    let page = get(&mut conn, "/metrics").await;
    assert_eq!(page.status, 200);
    page.text()
}

#[portico::test]
async fn requests_are_counted_per_route_and_status_class() {
    let metrics = Metrics::new();
    let server = serve(app(&metrics));
    let mut conn = Conn::open(server.local_addr()).await;
    for n in 0..7 {
        assert_eq!(get(&mut conn, &format!("/items/{n}")).await.status, 200);
    }
    for _ in 0..3 {
        assert_eq!(get(&mut conn, "/items/not-a-number").await.status, 422);
    }
    for _ in 0..2 {
        assert_eq!(get(&mut conn, "/unavailable").await.status, 503);
    }
    assert_eq!(get(&mut conn, "/boom").await.status, 500);
    for _ in 0..4 {
        assert_eq!(get(&mut conn, "/nowhere").await.status, 404);
    }
    conn.send(b"DELETE /items/1 HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.unwrap().status, 405);

    let page = get(&mut conn, "/metrics").await;
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let page = page.text();
    assert_eq!(count(&page, "/items/{id}", "2xx"), 7.0);
    assert_eq!(timed(&page, "/items/{id}", "2xx"), 7.0);
    assert_eq!(count(&page, "/items/{id}", "4xx"), 3.0);
    assert_eq!(timed(&page, "/items/{id}", "4xx"), 3.0);
    assert_eq!(count(&page, "/unavailable", "5xx"), 2.0);
    assert_eq!(count(&page, "/boom", "5xx"), 1.0);
    // No route matched: one fixed label, never the path.
    assert_eq!(count(&page, "", "4xx"), 4.0);
    assert!(!page.contains("/nowhere"), "{page}");
    let deleted =
        r#"http_server_requests_total{method="DELETE",route="/items/{id}",status_class="4xx"}"#;
    assert_eq!(sample(&page, deleted), Some(1.0), "{page}");
    // The scrape is the one request in flight, on the one connection open.
    let in_flight = r#"http_server_requests_in_flight{method="GET"}"#;
    assert_eq!(sample(&page, in_flight), Some(1.0), "{page}");
    assert_eq!(sample(&page, "http_server_open_connections"), Some(1.0));
    assert_eq!(sample(&page, "http_server_threads_busy"), Some(0.0));
    assert_eq!(sample(&page, "http_server_threads_limit"), Some(40.0));
    // The first scrape is counted by the second.
    let again = get(&mut conn, "/metrics").await.text();
    assert_eq!(count(&again, "/metrics", "2xx"), 1.0);
    server.stop().await.unwrap();
}

#[portico::test]
async fn gauges_show_what_is_running_now() {
    let metrics = Metrics::new();
    let (release, held) = std::sync::mpsc::channel::<()>();
    let held = Arc::new(Mutex::new(held));
    // A plain `fn`: it holds a thread of the limiter until released.
    let wait = move || {
        let _ = held.lock().unwrap().recv_timeout(Duration::from_secs(20));
        "released"
    };
    let server = serve(app(&metrics).get("/wait", wait));
    let addr = server.local_addr();
    let mut waiting = Conn::open(addr).await;
    waiting.send(b"GET /wait HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let mut idle = Conn::open(addr).await;
    assert_eq!(get(&mut idle, "/items/1").await.status, 200);
    let mut scraper = Conn::open(addr).await;
    // Until the waiting request holds its thread.
    let rt = portico::rt::current().unwrap();
    let mut page = String::new();
    for _ in 0..200 {
        page = get(&mut scraper, "/metrics").await.text();
        if sample(&page, "http_server_threads_busy") == Some(1.0) {
            break;
        }
        rt.sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        sample(&page, "http_server_threads_busy"),
        Some(1.0),
        "{page}"
    );
    let in_flight = r#"http_server_requests_in_flight{method="GET"}"#;
    assert_eq!(sample(&page, in_flight), Some(2.0), "{page}");
    // The waiting one, the idle one, and the scrape's.
    assert_eq!(sample(&page, "http_server_open_connections"), Some(3.0));
    release.send(()).unwrap();
    assert_eq!(waiting.response().await.unwrap().text(), "released");
    let page = get(&mut idle, "/metrics").await.text();
    assert_eq!(
        sample(&page, "http_server_threads_busy"),
        Some(0.0),
        "{page}"
    );
    assert_eq!(sample(&page, in_flight), Some(1.0), "{page}");
    assert_eq!(count(&page, "/wait", "2xx"), 1.0);
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_request_whose_client_left_leaves_the_gauge_uncounted() {
    let metrics = Metrics::new();
    let server = serve(app(&metrics));
    let addr = server.local_addr();
    let mut gone = Conn::open(addr).await;
    gone.send(b"GET /forever HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let in_flight = r#"http_server_requests_in_flight{method="GET"}"#;
    let rt = portico::rt::current().unwrap();
    let mut scraper = Conn::open(addr).await;
    let mut page = String::new();
    for _ in 0..200 {
        page = get(&mut scraper, "/metrics").await.text();
        if sample(&page, in_flight) == Some(2.0) {
            break;
        }
        rt.sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sample(&page, in_flight), Some(2.0), "{page}");
    assert_eq!(sample(&page, "http_server_open_connections"), Some(2.0));
    drop(gone);
    // Until the server has seen the client go: its request is dropped, then its connection.
    for _ in 0..200 {
        page = get(&mut scraper, "/metrics").await.text();
        if sample(&page, in_flight) == Some(1.0)
            && sample(&page, "http_server_open_connections") == Some(1.0)
        {
            break;
        }
        rt.sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sample(&page, in_flight), Some(1.0), "{page}");
    assert!(!page.contains(r#"route="/forever""#), "{page}");
    assert_eq!(sample(&page, "http_server_open_connections"), Some(1.0));
    server.stop().await.unwrap();
}

#[portico::test]
async fn openmetrics_is_served_when_asked_for() {
    let metrics = Metrics::new();
    let server = serve(app(&metrics));
    let mut conn = Conn::open(server.local_addr()).await;
    get(&mut conn, "/items/1").await;
    let accept = "accept: application/openmetrics-text;version=1.0.0;q=0.6,text/plain;q=0.3\r\n";
    let page = get_with(&mut conn, "/metrics", accept).await;
    assert_eq!(
        page.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let page = page.text();
    assert!(page.ends_with("# EOF\n"), "{page}");
    assert_eq!(count(&page, "/items/{id}", "2xx"), 1.0);
    server.stop().await.unwrap();
}

#[portico::test]
async fn on_a_router_only_its_routes_are_measured() {
    let metrics = Metrics::new();
    let api = Router::new()
        .prefix("/api")
        .get("/items/{id}", item)
        .add_middleware(metrics.clone());
    let app = App::new()
        .include(api)
        .get("/items/{id}", item)
        .get("/metrics", metrics.endpoint());
    let server = serve(app);
    let mut conn = Conn::open(server.local_addr()).await;
    for path in ["/api/items/1", "/api/items/2", "/items/3", "/nowhere"] {
        get(&mut conn, path).await;
    }
    let page = get(&mut conn, "/metrics").await.text();
    assert_eq!(count(&page, "/api/items/{id}", "2xx"), 2.0);
    assert!(!page.contains(r#"route="/items/{id}""#), "{page}");
    assert!(!page.contains(r#"route="""#), "{page}");
    server.stop().await.unwrap();
}

/// 2,000 requests on 16 keep-alive connections at once: the page counts every one.
#[portico::test(timeout = 120)]
async fn a_load_run_is_counted_exactly() {
    const CONNECTIONS: usize = 16;
    const PER_CONNECTION: usize = 125;
    let metrics = Metrics::new();
    let server = serve(app(&metrics));
    let addr = server.local_addr();
    let rt = portico::rt::current().unwrap();
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            rt.spawn(async move {
                let mut conn = Conn::open(addr).await;
                let mut failed = 0;
                for n in 0..PER_CONNECTION {
                    // One request in five is invalid: a 422 on the same route.
                    let path = if n % 5 == 4 {
                        format!("/items/x{c}")
                    } else {
                        format!("/items/{n}")
                    };
                    let expected = if n % 5 == 4 { 422 } else { 200 };
                    if get(&mut conn, &path).await.status != expected {
                        failed += 1;
                    }
                }
                failed
            })
        })
        .collect();
    for client in clients {
        assert_eq!(client.await.unwrap(), 0);
    }
    let page = scrape(addr).await;
    let total = (CONNECTIONS * PER_CONNECTION) as f64;
    assert_eq!(count(&page, "/items/{id}", "2xx"), total * 4.0 / 5.0);
    assert_eq!(count(&page, "/items/{id}", "4xx"), total / 5.0);
    assert_eq!(
        timed(&page, "/items/{id}", "2xx") + timed(&page, "/items/{id}", "4xx"),
        total
    );
    let in_flight = r#"http_server_requests_in_flight{method="GET"}"#;
    assert_eq!(sample(&page, in_flight), Some(1.0), "{page}");
    server.stop().await.unwrap();
}
