//! A plain-`fn` handler and the plain-`fn` dependencies only plain `fn`s need run in one trip
//! to the thread pool, in dependency order: on one thread, under one token of the thread
//! limiter, with the per-request cache, the 422 and the order of errors as before. An async
//! dependency still runs on the event loop, and what it needs first.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::time::Duration;

use portico::testing::TestClient;
use portico::{App, Depends, HttpError, Json, Path, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use support::role;

#[derive(Deserialize, JsonSchema)]
struct Who {
    request: u64,
}

thread_local! {
    /// The request whose session is open on this thread, as a blocking driver keeps its
    /// connection or transaction in a thread-local.
    static OPEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A database session, as a plain `fn` makes it (a blocking driver).
struct Db {
    request: u64,
}

fn db(Query(who): Query<Who>) -> Result<Db, HttpError> {
    OPEN.with(|open| open.set(who.request));
    // Long enough for other requests' plain fns to run meanwhile.
    std::thread::sleep(Duration::from_millis(2));
    Ok(Db {
        request: who.request,
    })
}

/// A user read through the session: a plain `fn` that needs another.
struct User {
    same_session: bool,
}

fn user(Depends(db): Depends<Db>) -> Result<User, HttpError> {
    Ok(User {
        same_session: OPEN.with(|open| open.get()) == db.request,
    })
}

#[derive(Serialize, JsonSchema)]
struct Seen {
    user_saw_its_session: bool,
    handler_saw_its_session: bool,
    role: &'static str,
}

fn read(Depends(db): Depends<Db>, Depends(user): Depends<User>) -> Json<Seen> {
    Json(Seen {
        user_saw_its_session: user.same_session,
        handler_saw_its_session: OPEN.with(|open| open.get()) == db.request,
        role: role(),
    })
}

/// Polls every future to its end, together.
async fn all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none()
                && let std::task::Poll::Ready(done) = future.as_mut().poll(cx)
            {
                *output = Some(done);
            }
        }
        if outputs.iter().all(Option::is_some) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[portico::test(timeout = 30)]
async fn a_plain_fn_handler_and_its_plain_fn_dependencies_run_on_one_thread_in_one_go() {
    // 32 requests at once, over 4 tokens: were each plain fn a trip of its own, other
    // requests' fns would run on a thread between a request's session and its use.
    let limiter = portico::tasks::default_thread_limiter().unwrap();
    let tokens = limiter.total_tokens();
    limiter.set_total_tokens(4);
    let client = TestClient::new(App::new().provide(db).provide(user).get("/read", read));
    for round in 0..3 {
        let requests = (1..=32)
            .map(|n| {
                client
                    .get(format!("/read?request={}", round * 100 + n))
                    .send()
            })
            .collect();
        for response in all(requests).await {
            assert_eq!(
                response.json::<serde_json::Value>(),
                json!({
                    "user_saw_its_session": true,
                    "handler_saw_its_session": true,
                    "role": "thread pool"
                })
            );
        }
    }
    limiter.set_total_tokens(tokens);
}

/// A dependency an `async fn` needs: produced before it, on its own trip.
struct Tenant(u64);

fn tenant(Path(id): Path<u64>) -> Result<Tenant, HttpError> {
    Ok(Tenant(id))
}

struct Quota(u64, &'static str);

async fn quota(Depends(tenant): Depends<Tenant>) -> Result<Quota, HttpError> {
    Ok(Quota(tenant.0 * 100, role()))
}

fn tenant_quota(Depends(quota): Depends<Quota>, Depends(t): Depends<Tenant>) -> String {
    format!(
        "{} {} (async on the {}, handler on the {})",
        t.0,
        quota.0,
        quota.1,
        role()
    )
}

#[portico::test]
async fn an_async_dependency_still_runs_on_the_event_loop_after_what_it_needs() {
    let app = App::new()
        .provide(tenant)
        .provide(quota)
        .get("/tenants/{id}", tenant_quota);
    let client = TestClient::new(app);
    assert_eq!(
        client.get("/tenants/7").await.text(),
        "7 700 (async on the event loop, handler on the thread pool)"
    );
}

#[derive(Deserialize, JsonSchema)]
struct Limit {
    limit: u32,
}

struct Paged(u32);

fn paged(Query(limit): Query<Limit>) -> Result<Paged, HttpError> {
    Ok(Paged(limit.limit))
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
}

fn create(Depends(paged): Depends<Paged>, Path(id): Path<u32>, Json(item): Json<Item>) -> String {
    format!("{id} {} {}", paged.0, item.name)
}

struct PagedAsync(u32);

async fn paged_async(Query(limit): Query<Limit>) -> Result<PagedAsync, HttpError> {
    Ok(PagedAsync(limit.limit))
}

async fn create_async(
    Depends(paged): Depends<PagedAsync>,
    Path(id): Path<u32>,
    Json(item): Json<Item>,
) -> String {
    format!("{id} {} {}", paged.0, item.name)
}

#[portico::test]
async fn every_invalid_input_joins_one_422_as_on_the_event_loop() {
    let app = App::new()
        .provide(paged)
        .provide(paged_async)
        .post("/items/{id}", create)
        .post("/async/{id}", create_async);
    let client = TestClient::new(app);
    let ok = client
        .post("/items/3?limit=5")
        .json(&json!({"name": "pen"}))
        .await;
    assert_eq!(ok.text(), "3 5 pen");
    let bad = client
        .post("/items/x?limit=many")
        .json(&json!({"name": 1}))
        .await;
    assert_eq!(bad.status(), 422);
    let body: serde_json::Value = bad.json();
    let locs: Vec<_> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["loc"].clone())
        .collect();
    assert_eq!(locs.len(), 3, "{body}");
    for loc in [
        json!(["query", "limit"]),
        json!(["path", "id"]),
        json!(["body", "name"]),
    ] {
        assert!(locs.contains(&loc), "{loc} in {body}");
    }
    // The same errors, in the same order, as the same route with async functions.
    let on_the_loop = client
        .post("/async/x?limit=many")
        .json(&json!({"name": 1}))
        .await;
    assert_eq!(on_the_loop.json::<serde_json::Value>(), body);
}

fn failing() -> Result<Paged, HttpError> {
    Err(HttpError::forbidden().detail("no"))
}

fn guarded(Depends(paged): Depends<Paged>, Json(item): Json<Item>) -> String {
    format!("{} {}", paged.0, item.name)
}

#[portico::test]
async fn a_dependency_answering_wins_over_an_invalid_body_as_before() {
    let app = App::new().provide(failing).post("/guarded", guarded);
    let client = TestClient::new(app);
    let response = client.post("/guarded").json(&json!({"name": 1})).await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.json::<serde_json::Value>(),
        json!({"detail": "no"})
    );
}

/// A second session user, produced beside `User` rather than after it.
struct Audit {
    same_session: bool,
}

fn audit(Query(who): Query<Who>) -> Result<Audit, HttpError> {
    Ok(Audit {
        same_session: OPEN.with(|open| open.get()) == who.request,
    })
}

async fn read_async(Depends(_db): Depends<Db>, Depends(audit): Depends<Audit>) -> Json<bool> {
    Json(audit.same_session)
}

#[portico::test(timeout = 30)]
async fn plain_fn_dependencies_of_an_async_handler_ready_together_share_one_trip() {
    let limiter = portico::tasks::default_thread_limiter().unwrap();
    let tokens = limiter.total_tokens();
    limiter.set_total_tokens(4);
    let app = App::new()
        .provide(db)
        .provide(audit)
        .get("/read", read_async);
    let client = TestClient::new(app);
    for round in 0..3 {
        let requests = (1..=32)
            .map(|n| {
                client
                    .get(format!("/read?request={}", round * 100 + n))
                    .send()
            })
            .collect();
        for response in all(requests).await {
            assert_eq!(response.text(), "true");
        }
    }
    limiter.set_total_tokens(tokens);
}

/// A connection from a blocking driver's pool: dropping it hands it back, which may block, so
/// it had better not be dropped on the event loop.
struct Conn {
    request: u64,
}

/// The next request number for the test below.
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Where each request's `Conn` was dropped: the thread's role and its id.
static DROPPED: std::sync::Mutex<Vec<(u64, &'static str, String)>> =
    std::sync::Mutex::new(Vec::new());

impl Drop for Conn {
    fn drop(&mut self) {
        let thread = format!("{:?}", std::thread::current().id());
        DROPPED.lock().unwrap().push((self.request, role(), thread));
    }
}

fn conn(Query(who): Query<Who>) -> Result<Conn, HttpError> {
    Ok(Conn {
        request: who.request,
    })
}

fn with_conn(Depends(conn): Depends<Conn>) -> String {
    assert!(conn.request > 0);
    format!("{:?}", std::thread::current().id())
}

#[portico::test(timeout = 30)]
async fn a_plain_fn_dependency_is_dropped_on_its_trip_thread_not_on_the_event_loop() {
    let client = TestClient::new(App::new().provide(conn).get("/conn", with_conn));
    for _ in 0..8 {
        // A number of its own: the two runtimes' tests share the static.
        let request = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = client.get(format!("/conn?request={request}")).send().await;
        assert_eq!(response.status(), 200);
        let handler_thread = response.text();
        // Dropped before the response went out: on the thread that ran the handler.
        let dropped = DROPPED.lock().unwrap().clone();
        let at = dropped.iter().find(|(r, ..)| *r == request);
        assert_eq!(
            at,
            Some(&(request, "thread pool", handler_thread)),
            "request {request}: {dropped:?}"
        );
    }
}
