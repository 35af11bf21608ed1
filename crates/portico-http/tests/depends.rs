//! Dependencies: produced once per request, async ones on the event loop and plain ones on
//! the thread pool, concurrently when independent; their errors; their cleanups (order, scope,
//! outcome, streaming, disconnects, the fastapi#3205 deadlock); concurrency caps; route, router
//! and app dependencies; overrides; mistakes found when the app is built.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bytes::Bytes;
use portico::tasks::Event;
use portico::testing::{TestClient, blocking_client_on};
use portico::{
    App, BackgroundTasks, CleanupScope, Depends, Fresh, Header, HttpError, Outcome, Path, Provider,
    Query, Route, Router, RuntimeKind, State, StreamBody,
};
use schemars::JsonSchema;
use serde::Deserialize;
use support::{Log, eventually, role};

/// Counts how often it was produced.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

struct Shared(usize);
struct Left(usize);
struct Right(usize);

async fn shared(State(counter): State<Counter>) -> Result<Shared, HttpError> {
    Ok(Shared(counter.0.fetch_add(1, Ordering::SeqCst) + 1))
}

async fn left(Depends(shared): Depends<Shared>) -> Result<Left, HttpError> {
    Ok(Left(shared.0))
}

fn right(Depends(shared): Depends<Shared>) -> Result<Right, HttpError> {
    Ok(Right(shared.0))
}

async fn both(
    Depends(l): Depends<Left>,
    Depends(r): Depends<Right>,
    Depends(s): Depends<Shared>,
    Fresh(fresh): Fresh<Shared>,
) -> String {
    format!("{} {} {} fresh {}", l.0, r.0, s.0, fresh.0)
}

fn cache_app(counter: &Counter) -> App {
    App::new()
        .state(counter.clone())
        .provide(shared)
        .provide(left)
        .provide(right)
        .get("/both", both)
}

#[portico::test]
async fn a_dependency_is_produced_once_per_request_unless_asked_fresh() {
    let counter = Counter::default();
    let client = TestClient::new(cache_app(&counter));
    // `Shared` is needed by `Left`, `Right` and the handler: produced once; `Fresh` runs it
    // again.
    assert_eq!(client.get("/both").await.text(), "1 1 1 fresh 2");
    assert_eq!(counter.0.load(Ordering::SeqCst), 2);
    // A new request, a new value.
    assert_eq!(client.get("/both").await.text(), "3 3 3 fresh 4");
}

struct Where(String);
struct WhereSync(String);

async fn where_async() -> Result<Where, HttpError> {
    Ok(Where(role().to_owned()))
}

fn where_sync() -> Result<WhereSync, HttpError> {
    Ok(WhereSync(role().to_owned()))
}

async fn where_they_ran(Depends(a): Depends<Where>, Depends(s): Depends<WhereSync>) -> String {
    format!("async on the {}, plain on the {}", a.0, s.0)
}

#[portico::test]
async fn plain_fn_providers_run_on_the_thread_pool() {
    let app = App::new()
        .provide(where_async)
        .provide(where_sync)
        .get("/", where_they_ran);
    let client = TestClient::new(app);
    assert_eq!(
        client.get("/").await.text(),
        "async on the event loop, plain on the thread pool"
    );
}

/// Two providers that each wait for the other: they only finish if they run together.
#[derive(Clone, Default)]
struct Meet(Arc<(Event, Event)>);
struct Ping;
struct Pong;

async fn ping(State(meet): State<Meet>) -> Result<Ping, HttpError> {
    meet.0.0.set();
    meet.0.1.wait().await;
    Ok(Ping)
}

async fn pong(State(meet): State<Meet>) -> Result<Pong, HttpError> {
    meet.0.1.set();
    meet.0.0.wait().await;
    Ok(Pong)
}

async fn met(_: Depends<Ping>, _: Depends<Pong>) -> &'static str {
    "met"
}

#[portico::test(timeout = 20)]
async fn independent_dependencies_are_produced_concurrently() {
    let app = App::new()
        .state(Meet::default())
        .provide(ping)
        .provide(pong)
        .get("/", met);
    let client = TestClient::new(app);
    let response = portico::tasks::fail_after(Duration::from_secs(5), client.get("/").send())
        .await
        .expect("both providers ran at the same time");
    assert_eq!(response.text(), "met");
}

#[derive(Deserialize, JsonSchema)]
struct Token {
    x_token: Option<String>,
}

struct User(String);

async fn user(Header(token): Header<Token>) -> Result<User, HttpError> {
    match token.x_token {
        Some(token) if token == "secret" => Ok(User("ada".into())),
        _ => Err(HttpError::unauthorized()
            .detail("Not authenticated")
            .header("www-authenticate", "Bearer")),
    }
}

#[derive(Deserialize, JsonSchema)]
struct Paging {
    limit: u32,
}

struct Page(u32);

async fn page(Query(paging): Query<Paging>) -> Result<Page, HttpError> {
    Ok(Page(paging.limit))
}

async fn items(Path(id): Path<u32>, Depends(page): Depends<Page>) -> String {
    format!("{id} {}", page.0)
}

async fn me(Depends(user): Depends<User>) -> String {
    user.0.clone()
}

#[portico::test]
async fn a_failing_dependency_answers_and_invalid_inputs_join_one_422() {
    let app = App::new()
        .provide(user)
        .provide(page)
        .get("/me", me)
        .get("/items/{id}", items);
    let client = TestClient::new(app);
    let response = client.get("/me").await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    assert_eq!(response.text(), r#"{"detail":"Not authenticated"}"#);
    let response = client.get("/me").header("x-token", "secret").await;
    assert_eq!(response.text(), "ada");

    // The dependency's query parameter and the handler's path parameter, in one list.
    let response = client.get("/items/abc?limit=-1").await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json();
    let locs: Vec<&serde_json::Value> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["loc"])
        .collect();
    assert_eq!(
        locs,
        [
            &serde_json::json!(["path", "id"]),
            &serde_json::json!(["query", "limit"])
        ],
        "{body}"
    );
    assert_eq!(client.get("/items/3?limit=10").await.text(), "3 10");
}

// Teardown: order, scopes, outcomes.

struct Outer;
struct Inner;
struct Early;

fn teardown_app(log: &Log) -> App {
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    let (a2, b2, c2) = (log.clone(), log.clone(), log.clone());
    App::new()
        .state(log.clone())
        .provide(
            Provider::new(move || {
                a.push("setup outer");
                Ok::<_, HttpError>(Outer)
            })
            .cleanup(move |_: &Outer, outcome: Outcome| {
                a2.push(format!("cleanup outer {outcome:?} on the {}", role()))
            }),
        )
        .provide(
            Provider::new(move |_: Depends<Outer>| {
                let b = b.clone();
                async move {
                    b.push("setup inner");
                    Ok::<_, HttpError>(Inner)
                }
            })
            .cleanup_async(move |_: Arc<Inner>, outcome: Outcome| {
                let b2 = b2.clone();
                async move { b2.push(format!("cleanup inner {outcome:?} on the {}", role())) }
            }),
        )
        .provide(
            Provider::new(move || {
                c.push("setup early");
                Ok::<_, HttpError>(Early)
            })
            .scope(CleanupScope::Function)
            .cleanup(move |_: &Early, outcome: Outcome| {
                c2.push(format!("cleanup early {outcome:?}"))
            }),
        )
        .get("/ok", teardown_ok)
        .get("/error", teardown_error)
        .get("/panic", teardown_panic)
        .get("/hang", teardown_hang)
        .get("/stream", teardown_stream)
}

async fn teardown_ok(
    _: Depends<Inner>,
    _: Depends<Early>,
    tasks: BackgroundTasks,
    State(log): State<Log>,
) -> &'static str {
    log.push("handler");
    tasks.add(move || log.push("background task"));
    "ok"
}

async fn teardown_error(
    _: Depends<Inner>,
    _: Depends<Early>,
    State(log): State<Log>,
) -> Result<&'static str, HttpError> {
    log.push("handler");
    Err(HttpError::conflict())
}

async fn teardown_panic(_: Depends<Inner>, _: Depends<Early>) -> &'static str {
    panic!("the handler panicked")
}

async fn teardown_hang(_: Depends<Inner>, State(log): State<Log>) -> &'static str {
    log.push("handler");
    std::future::pending::<()>().await;
    "never"
}

async fn teardown_stream(_: Depends<Inner>, State(log): State<Log>) -> StreamBody {
    let chunks = futures_lite::stream::iter(["one ", "two"].map(move |chunk| {
        log.push(format!("sent {}", chunk.trim()));
        Ok::<_, std::io::Error>(Bytes::from(chunk))
    }));
    StreamBody::new(chunks)
}

#[portico::test]
async fn cleanups_run_in_reverse_after_the_response_and_its_background_tasks() {
    let log = Log::default();
    let client = TestClient::new(teardown_app(&log));
    assert_eq!(client.get("/ok").await.text(), "ok");
    let lines = log.lines();
    // Early is independent of the other two and may run before, between or after them.
    let mut setups = lines[..3].to_vec();
    setups.sort();
    assert_eq!(setups, ["setup early", "setup inner", "setup outer"]);
    let at = |line: &str| lines.iter().position(|l| l == line);
    assert!(at("setup outer") < at("setup inner"), "{lines:?}");
    assert_eq!(
        lines[3..],
        [
            "handler",
            "cleanup early Success",
            "background task",
            "cleanup inner Success on the event loop",
            "cleanup outer Success on the thread pool",
        ],
        "{lines:?}"
    );
}

#[portico::test]
async fn cleanups_see_errors_and_panics() {
    let log = Log::default();
    let client = TestClient::new(teardown_app(&log));
    assert_eq!(client.get("/error").await.status(), 409);
    let lines = log.lines();
    assert_eq!(
        lines[3..],
        [
            "handler",
            "cleanup early Error(409)",
            "cleanup inner Error(409) on the event loop",
            "cleanup outer Error(409) on the thread pool",
        ],
        "{lines:?}"
    );

    let log = Log::default();
    let client = TestClient::new(teardown_app(&log));
    assert_eq!(client.get("/panic").await.status(), 500);
    assert_eq!(
        log.lines()[3..],
        [
            "cleanup early Panicked",
            "cleanup inner Panicked on the event loop",
            "cleanup outer Panicked on the thread pool",
        ]
    );
    // The app lives on.
    assert_eq!(client.get("/ok").await.status(), 200);
}

#[portico::test]
async fn cleanups_run_when_the_client_goes_away() {
    let log = Log::default();
    let client = TestClient::new(teardown_app(&log));
    // The request is dropped while its handler waits, as the server drops it when the client
    // disconnects.
    let gone =
        portico::tasks::move_on_after(Duration::from_millis(200), client.get("/hang").send()).await;
    assert!(gone.is_none());
    eventually(|| log.lines().len() == 5).await;
    assert_eq!(
        log.lines()[2..],
        [
            "handler",
            "cleanup inner Disconnected on the event loop",
            "cleanup outer Disconnected on the thread pool",
        ]
    );
}

#[portico::test]
async fn a_streaming_response_keeps_its_dependencies_open_until_it_ends() {
    let log = Log::default();
    let client = TestClient::new(teardown_app(&log));
    let mut response = client.get("/stream").send_streaming().await;
    assert_eq!(response.chunk().await.unwrap(), "one ");
    assert!(
        !log.lines().iter().any(|line| line.starts_with("cleanup")),
        "{:?}",
        log.lines()
    );
    assert_eq!(response.rest().await, "two");
    eventually(|| log.lines().len() == 6).await;
    assert_eq!(
        log.lines()[2..],
        [
            "sent one",
            "sent two",
            "cleanup inner Success on the event loop",
            "cleanup outer Success on the thread pool",
        ]
    );
}

// fastapi#3205: a connection pool smaller than the thread pool.

/// A blocking pool of connections, as a sync database driver has.
#[derive(Clone)]
struct BlockingPool(Arc<(Mutex<usize>, Condvar)>);

impl BlockingPool {
    fn new(size: usize) -> Self {
        BlockingPool(Arc::new((Mutex::new(size), Condvar::new())))
    }

    fn take(&self) {
        let (free, cond) = &*self.0;
        let mut free = free.lock().unwrap();
        while *free == 0 {
            free = cond.wait(free).unwrap();
        }
        *free -= 1;
    }

    fn give_back(&self) {
        let (free, cond) = &*self.0;
        *free.lock().unwrap() += 1;
        cond.notify_one();
    }
}

struct PooledConn(BlockingPool);

fn pooled(State(pool): State<BlockingPool>) -> Result<PooledConn, HttpError> {
    pool.take();
    Ok(PooledConn(pool))
}

async fn use_conn(_: Depends<PooledConn>) -> &'static str {
    "done"
}

#[portico::test(timeout = 60)]
async fn plain_cleanups_never_wait_for_the_shared_limiter() {
    // Two threads for plain fns, one connection: both threads end up blocked in `pooled`
    // waiting for the connection, which only a cleanup gives back. (A plain fn handler would
    // need one of those threads too: `Provider::max_concurrency(pool size)` avoids that, as
    // its waiting holds no thread; see the next test.)
    portico::tasks::default_thread_limiter()
        .unwrap()
        .set_total_tokens(2);
    let pool = BlockingPool::new(1);
    let app = App::new()
        .state(pool.clone())
        .provide(Provider::new(pooled).cleanup(|conn: &PooledConn, _: Outcome| conn.0.give_back()))
        .get("/", use_conn);
    let client = TestClient::new(app);
    let requests = (0..8).map(|_| {
        let client = client.clone();
        async move { client.get("/").send().await.text() }
    });
    let answers = portico::tasks::fail_after(Duration::from_secs(20), async {
        let rt = portico::rt::current().unwrap();
        let handles: Vec<_> = requests.map(|fut| rt.spawn(fut)).collect();
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.unwrap());
        }
        answers
    })
    .await;
    if answers.is_err() {
        // Free the stuck threads, so that the test fails instead of hanging.
        for _ in 0..8 {
            pool.give_back();
        }
    }
    assert_eq!(answers.expect("no deadlock"), vec!["done"; 8]);
}

#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

struct Slot(Gauge);

fn slot(State(gauge): State<Gauge>) -> Result<Slot, HttpError> {
    let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.max.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(5));
    Ok(Slot(gauge))
}

fn hold(_: Depends<Slot>) -> &'static str {
    std::thread::sleep(Duration::from_millis(5));
    "held"
}

#[portico::test(timeout = 60)]
async fn max_concurrency_caps_holders_until_their_cleanup_without_holding_threads() {
    // One thread for plain fns: a request waiting for the slot on a thread would starve the
    // holder, which needs that thread for its handler.
    portico::tasks::default_thread_limiter()
        .unwrap()
        .set_total_tokens(1);
    let gauge = Gauge::default();
    let app = App::new()
        .state(gauge.clone())
        .provide(
            Provider::new(slot)
                .max_concurrency(1)
                .cleanup(|slot: &Slot, _: Outcome| {
                    slot.0.now.fetch_sub(1, Ordering::SeqCst);
                }),
        )
        .get("/", hold);
    let client = TestClient::new(app);
    let rt = portico::rt::current().unwrap();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            rt.spawn(async move { client.get("/").send().await.text() })
        })
        .collect();
    let answers = portico::tasks::fail_after(Duration::from_secs(20), async {
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.unwrap());
        }
        answers
    })
    .await
    .expect("no deadlock");
    assert_eq!(answers, vec!["held"; 6]);
    assert_eq!(gauge.max.load(Ordering::SeqCst), 1);
}

// Dependencies of routes, routers and the app, run for their effect.

struct Audit;
struct Admin;
struct RateLimit;

fn effects_app(log: &Log) -> App {
    let (audit, admin, limit) = (log.clone(), log.clone(), log.clone());
    let admin_routes = Router::new()
        .prefix("/admin")
        .dependency::<Admin>()
        .get("/stats", || async { "stats" });
    App::new()
        .provide(move || {
            audit.push("audit");
            Ok::<_, HttpError>(Audit)
        })
        .provide(move |Header(token): Header<Token>| {
            admin.push("admin check");
            match token.x_token.as_deref() {
                Some("root") => Ok(Admin),
                _ => Err(HttpError::forbidden()),
            }
        })
        .provide(move || {
            limit.push("rate limit");
            Err::<RateLimit, _>(HttpError::new(http::StatusCode::TOO_MANY_REQUESTS))
        })
        .dependency::<Audit>()
        .include(admin_routes)
        .get("/public", || async { "public" })
        .route(Route::get("/limited", || async { "never" }).dependency::<RateLimit>())
}

#[portico::test]
async fn route_router_and_app_dependencies_run_for_their_effect() {
    let log = Log::default();
    let client = TestClient::new(effects_app(&log));
    // What one request ran (independent dependencies run concurrently, in no set order).
    let ran = |from: usize| {
        let mut lines = log.lines()[from..].to_vec();
        lines.sort();
        lines
    };
    assert_eq!(client.get("/public").await.text(), "public");
    assert_eq!(ran(0), ["audit"]);
    assert_eq!(client.get("/admin/stats").await.status(), 403);
    // The failure may cancel the audit before it ran.
    let after_refusal = log.lines().len();
    assert!(ran(1).contains(&"admin check".to_owned()));
    assert_eq!(
        client
            .get("/admin/stats")
            .header("x-token", "root")
            .await
            .text(),
        "stats"
    );
    assert_eq!(ran(after_refusal), ["admin check", "audit"]);
    // A route's own dependency.
    let before = log.lines().len();
    assert_eq!(client.get("/limited").await.status(), 429);
    assert!(ran(before).contains(&"rate limit".to_owned()));
}

#[portico::test]
fn overrides_replace_a_provider_and_go_away_again(rt: RuntimeKind) {
    let counter = Counter::default();
    let client = blocking_client_on(rt, cache_app(&counter));
    client
        .service()
        .override_dependency(|| async { Ok::<_, HttpError>(Shared(100)) });
    // Everything needing `Shared`, however deep, gets the replacement.
    assert_eq!(client.get("/both").send().text(), "100 100 100 fresh 100");
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    client.service().remove_override::<Shared>();
    assert_eq!(client.get("/both").send().text(), "1 1 1 fresh 2");
}

struct Egg;
struct Chicken;

async fn egg(_: Depends<Chicken>) -> Result<Egg, HttpError> {
    Ok(Egg)
}

async fn chicken(_: Depends<Egg>) -> Result<Chicken, HttpError> {
    Ok(Chicken)
}

struct Late;

#[test]
fn cycles_missing_providers_and_scope_mistakes_are_found_when_the_app_is_built() {
    let err = App::new()
        .provide(egg)
        .provide(chicken)
        .get("/", |_: Depends<Egg>| async { "" })
        .try_into_service()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dependency cycle: depends::Egg -> depends::Chicken -> depends::Egg"),
        "{err}"
    );

    let err = App::new()
        .get("/users", |_: Depends<User>| async { "" })
        .try_into_service()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("GET /users: the handler needs `depends::User`, but no provider of it was registered with App::provide"),
        "{err}"
    );

    let err = App::new()
        .provide(
            Provider::new(|| async { Ok::<_, HttpError>(Early) })
                .scope(CleanupScope::Function)
                .cleanup(|_: &Early, _: Outcome| {}),
        )
        .provide(
            Provider::new(|_: Depends<Early>| async { Ok::<_, HttpError>(Late) })
                .cleanup(|_: &Late, _: Outcome| {}),
        )
        .get("/", |_: Depends<Late>| async { "" })
        .try_into_service()
        .unwrap_err()
        .to_string();
    assert!(err.contains("`depends::Late` is cleaned up after the response but depends on `depends::Early`, which is cleaned up before it"), "{err}");
}

#[test]
fn what_a_dependency_reads_is_documented_on_every_route_using_it() {
    let service = App::new()
        .provide(user)
        .provide(page)
        .get("/me", me)
        .get("/items/{id}", items)
        .into_service();
    let params: Vec<(String, String)> = service
        .routes()
        .filter(|route| !route.doc().hidden)
        .map(|route| {
            let names: Vec<String> = route.doc().params.iter().map(|p| p.name.clone()).collect();
            (route.path().to_owned(), names.join(","))
        })
        .collect();
    assert_eq!(
        params,
        [
            ("/me".to_owned(), "x-token".to_owned()),
            ("/items/{id}".to_owned(), "id,limit".to_owned()),
        ]
    );
}
