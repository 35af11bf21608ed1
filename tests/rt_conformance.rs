//! The runtime conformance suite: every adapter must behave the same. Each test runs once per
//! compiled-in runtime (`name::tokio`, `name::smol`).

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use portico::rt::{self, JoinHandle, ListenOptions, Runtime, TcpListener, TcpStream};

mod support;
use support::{DropFlag, Flag, raise_fd_limit, runtime};

#[portico::test]
async fn spawned_task_returns_its_value() {
    let rt = runtime();
    let handle = rt.spawn(async { String::from("done") });
    assert_eq!(handle.await.unwrap(), "done");
}

#[portico::test]
async fn large_futures_and_outputs_survive_the_trip() {
    let rt = runtime();
    let big = [3u64; 100];
    let handle = rt.spawn(async move {
        rt::current().unwrap().sleep(Duration::from_millis(1)).await;
        big.iter().map(|n| n * 2).collect::<Vec<_>>()
    });
    assert_eq!(handle.await.unwrap(), vec![6u64; 100]);
}

#[portico::test(workers = 2)]
async fn tasks_run_in_parallel_on_the_workers() {
    // Each task blocks its thread until the other arrives: this only finishes if both run at the
    // same time on different worker threads.
    let rt = runtime();
    let barrier = Arc::new(Barrier::new(2));
    let tasks: Vec<JoinHandle<std::thread::ThreadId>> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            rt.spawn(async move {
                barrier.wait();
                std::thread::current().id()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    assert_ne!(ids[0], ids[1]);
    assert!(
        !ids.contains(&std::thread::current().id()),
        "tasks run off the block_on thread"
    );
}

#[portico::test]
async fn dropping_the_handle_cancels_the_task() {
    let rt = runtime();
    let (dropped, flag) = DropFlag::new();
    let ran_past_sleep = Flag::default();
    let handle = rt.spawn({
        let ran_past_sleep = ran_past_sleep.clone();
        let rt = rt.clone();
        async move {
            let _flag = flag;
            rt.sleep(Duration::from_millis(100)).await;
            ran_past_sleep.set();
        }
    });
    rt.sleep(Duration::from_millis(10)).await;
    drop(handle);
    dropped.wait(&rt, Duration::from_secs(5)).await;
    rt.sleep(Duration::from_millis(200)).await;
    assert!(!ran_past_sleep.get(), "a cancelled task must not run on");
}

#[portico::test]
async fn a_detached_task_keeps_running() {
    let rt = runtime();
    let done = Flag::default();
    rt.spawn({
        let done = done.clone();
        let rt = rt.clone();
        async move {
            rt.sleep(Duration::from_millis(20)).await;
            done.set();
        }
    })
    .detach();
    done.wait(&rt, Duration::from_secs(5)).await;
}

#[portico::test]
async fn a_task_spawned_detached_runs_to_its_end() {
    let rt = runtime();
    let done = Flag::default();
    rt.spawn_detached({
        let done = done.clone();
        let rt = rt.clone();
        async move {
            rt.sleep(Duration::from_millis(20)).await;
            done.set();
        }
    });
    done.wait(&rt, Duration::from_secs(5)).await;
}

// One worker: had the panic reached it, nothing would run after.
#[portico::test(workers = 1)]
async fn a_panic_in_a_task_spawned_detached_leaves_the_runtime_working() {
    let rt = runtime();
    rt.spawn_detached(async { panic!("detached task exploded") });
    let done = Flag::default();
    rt.spawn_detached({
        let done = done.clone();
        async move { done.set() }
    });
    done.wait(&rt, Duration::from_secs(5)).await;
    assert_eq!(rt.spawn(async { 42 }).await.unwrap(), 42);
}

#[portico::test(workers = 2)]
async fn a_panic_is_reported_with_its_payload_and_not_propagated() {
    let rt = runtime();
    let err = rt
        .spawn(async { panic!("task exploded") })
        .await
        .unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(err.panic_message(), Some("task exploded"));
    assert_eq!(err.to_string(), "task panicked: task exploded");
    let payload = err.try_into_panic().ok().unwrap();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task exploded"));

    // Detached panics, more than there are workers, must not take a worker thread down.
    for n in 0..8 {
        rt.spawn(async move { panic!("detached panic {n}") })
            .detach();
    }
    rt.sleep(Duration::from_millis(50)).await;
    let barrier = Arc::new(Barrier::new(2));
    let both: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            rt.spawn(async move {
                barrier.wait();
            })
        })
        .collect();
    for task in both {
        task.await.unwrap();
    }
}

#[portico::test]
async fn blocking_closure_round_trip() {
    let rt = runtime();
    let (value, runtime_name) = rt
        .spawn_blocking(|| (21 * 2, rt::current().unwrap().name()))
        .await
        .unwrap();
    assert_eq!(value, 42);
    assert_eq!(runtime_name, rt.name());

    let err = rt
        .spawn_blocking(|| panic!("closure exploded"))
        .await
        .unwrap_err();
    assert_eq!(err.panic_message(), Some("closure exploded"));
}

#[portico::test(workers = 1)]
async fn blocking_closures_leave_the_executor_free() {
    // With one worker, a closure that waits for a task could only finish if it runs elsewhere.
    let rt = runtime();
    let (tx, rx) = mpsc::channel();
    let waiter = rt.spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)));
    let sender = rt.spawn(async move { tx.send(7).unwrap() });
    sender.await.unwrap();
    assert_eq!(waiter.await.unwrap(), Ok(7));
}

#[portico::test]
async fn a_started_blocking_closure_runs_to_its_end_when_dropped() {
    let rt = runtime();
    let (started_tx, started_rx) = mpsc::channel();
    let finished = Flag::default();
    let handle = rt.spawn_blocking({
        let finished = finished.clone();
        move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            finished.set();
        }
    });
    rt.spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    drop(handle);
    finished.wait(&rt, Duration::from_secs(5)).await;
}

#[portico::test]
async fn max_blocking_threads_bounds_the_closures_running_at_once() {
    let rt = runtime();
    let kind: portico::RuntimeKind = rt.name().parse().unwrap();
    let most = rt
        .spawn_blocking(move || {
            let owned = portico::Builder::new()
                .runtime(kind)
                .worker_threads(1)
                .max_blocking_threads(2)
                .build()
                .unwrap();
            let most = owned.handle().block_on(async {
                let rt = rt::current().unwrap();
                let running = Arc::new(AtomicUsize::new(0));
                let most = Arc::new(AtomicUsize::new(0));
                // Closures meet in pairs, so two must run at once; with no bound all six would.
                let pairs = Arc::new(Barrier::new(2));
                let closures: Vec<_> = (0..6)
                    .map(|_| {
                        let (running, most, pairs) = (running.clone(), most.clone(), pairs.clone());
                        rt.spawn_blocking(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            pairs.wait();
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                for closure in closures {
                    closure.await.unwrap();
                }
                most.load(Ordering::SeqCst)
            });
            owned.shutdown_timeout(Duration::from_secs(5));
            most
        })
        .await
        .unwrap();
    assert_eq!(most, 2, "two blocking threads, and never more");
}

#[portico::test]
async fn shutdown_cancels_a_queued_blocking_closure_and_waits_for_a_started_one() {
    let rt = runtime();
    let kind: portico::RuntimeKind = rt.name().parse().unwrap();
    let (running, queued, late) = rt
        .spawn_blocking(move || {
            let owned = portico::Builder::new()
                .runtime(kind)
                .worker_threads(1)
                .max_blocking_threads(1)
                .build()
                .unwrap();
            let handle = owned.handle().clone();
            let (started_tx, started_rx) = mpsc::channel();
            let running = handle.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                "finished"
            });
            started_rx.recv().unwrap();
            // The only blocking thread is busy: this one waits in the queue.
            let queued = handle.spawn_blocking(|| "ran");
            owned.shutdown_timeout(Duration::from_secs(5));
            let late = handle.spawn_blocking(|| ());
            (running, queued, late)
        })
        .await
        .unwrap();
    assert_eq!(running.await.unwrap(), "finished", "shutdown waited for it");
    assert!(queued.await.unwrap_err().is_cancelled());
    assert!(late.await.unwrap_err().is_cancelled());
}

#[portico::test]
async fn sleep_waits_for_its_duration() {
    let rt = runtime();
    let start = Instant::now();
    rt.sleep(Duration::from_millis(50)).await;
    assert!(start.elapsed() >= Duration::from_millis(50));

    // A deadline in the past completes at once, and the runtime's clock moves forward.
    let before = rt.now();
    rt.sleep_until(before - Duration::from_secs(1)).await;
    assert!(rt.now() >= before);
}

#[portico::test]
async fn a_reset_sleep_fires_at_its_new_deadline() {
    let rt = runtime();
    let start = Instant::now();
    let mut sleep = rt.sleep(Duration::from_secs(3600));
    sleep.reset(start + Duration::from_millis(30));
    assert_eq!(sleep.deadline(), start + Duration::from_millis(30));
    (&mut sleep).await;
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(start.elapsed() < Duration::from_secs(3600));
}

#[portico::test]
async fn timeout_gives_the_value_or_elapsed() {
    let rt = runtime();
    assert_eq!(rt.timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));

    let (dropped, flag) = DropFlag::new();
    let slow = async move {
        let _flag = flag;
        std::future::pending::<()>().await;
    };
    let start = Instant::now();
    let err = rt
        .timeout(Duration::from_millis(30), slow)
        .await
        .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(err.to_string(), "deadline has elapsed");
    assert!(dropped.get(), "the timed-out future is dropped");

    let deadline = rt.now() + Duration::from_millis(20);
    let at = rt.timeout_at(deadline, std::future::pending::<()>()).await;
    assert!(at.is_err());
    assert!(rt.now() >= deadline);
}

#[portico::test]
async fn a_duration_too_long_for_the_clock_waits_as_good_as_forever() {
    let rt = runtime();
    // `Duration::MAX` cannot be added to an `Instant`: no panic, no overflow to the past.
    assert_eq!(rt.timeout(Duration::MAX, async { 7 }).await, Ok(7));
    let forever = rt.sleep(Duration::MAX);
    let waited = rt.timeout(Duration::from_millis(30), forever).await;
    assert!(waited.is_err(), "a sleep of Duration::MAX ended at once");
}

#[portico::test(timeout = 120)]
async fn tcp_echo_with_a_thousand_concurrent_connections() {
    const CONNECTIONS: usize = 1000;
    raise_fd_limit(4 * CONNECTIONS as u64 + 256);
    let rt = runtime();
    let listener = ListenOptions::new()
        .backlog(CONNECTIONS as u32)
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));

    let server = rt.spawn({
        let rt = rt.clone();
        let (open, peak) = (open.clone(), peak.clone());
        async move {
            let mut connections = Vec::with_capacity(CONNECTIONS);
            for _ in 0..CONNECTIONS {
                let (mut stream, peer) = listener.accept().await.unwrap();
                assert!(
                    stream.nodelay().unwrap(),
                    "ListenOptions sets TCP_NODELAY by default"
                );
                assert_eq!(stream.peer_addr().unwrap(), peer);
                let (open, peak) = (open.clone(), peak.clone());
                connections.push(rt.spawn(async move {
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let mut buf = [0u8; 64];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                }));
            }
            for connection in connections {
                connection.await.unwrap();
            }
        }
    });

    // Every client connects and says hello before any of them is answered, so all thousand
    // connections are open at once.
    let connected = Arc::new(AtomicUsize::new(0));
    let release = Flag::default();
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|n| {
            let (connected, release, rt2) = (connected.clone(), release.clone(), rt.clone());
            rt.spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                connected.fetch_add(1, Ordering::SeqCst);
                release.wait(&rt2, Duration::from_secs(60)).await;
                let message = format!("hello {n:04}");
                stream.write_all(message.as_bytes()).await.unwrap();
                let mut echoed = vec![0u8; message.len()];
                stream.read_exact(&mut echoed).await.unwrap();
                assert_eq!(echoed, message.as_bytes());
                stream.close().await.unwrap();
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while connected.load(Ordering::SeqCst) < CONNECTIONS
        || open.load(Ordering::SeqCst) < CONNECTIONS
    {
        assert!(
            Instant::now() < deadline,
            "connections stalled at {}",
            connected.load(Ordering::SeqCst)
        );
        rt.sleep(Duration::from_millis(5)).await;
    }
    release.set();
    for client in clients {
        client.await.unwrap();
    }
    server.await.unwrap();
    assert_eq!(peak.load(Ordering::SeqCst), CONNECTIONS);
    assert_eq!(open.load(Ordering::SeqCst), 0);
}

#[portico::test]
async fn a_refused_connection_is_an_error() {
    // Bind then drop a listener: nothing listens on that port any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[portico::test]
async fn listeners_built_from_std_sockets_accept() {
    let rt = runtime();
    let std_listener = ListenOptions::new()
        .reuse_port(true)
        .bind_std("127.0.0.1:0")
        .unwrap();
    let listener = rt.tcp_listener(std_listener).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = rt.spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"x").await.unwrap();
        stream.local_addr().unwrap()
    });
    let (mut conn, peer) = listener.accept().await.unwrap();
    let mut byte = [0u8];
    conn.read_exact(&mut byte).await.unwrap();
    assert_eq!(&byte, b"x");
    assert_eq!(client.await.unwrap(), peer);
    assert!(
        !conn.nodelay().unwrap(),
        "a listener from std leaves TCP_NODELAY alone"
    );
}

#[cfg(unix)]
#[portico::test]
async fn unix_socket_echo() {
    use portico::rt::{UnixListener, UnixStream};
    let rt = runtime();
    let dir = support::TempDir::new("unix-echo");
    let path = dir.path().join("echo.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = rt.spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await.unwrap();
        stream.write_all(&buf).await.unwrap();
    });
    let mut client = UnixStream::connect(&path).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    let mut back = [0u8; 5];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hello");
    assert_eq!(
        client.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    server.await.unwrap();
}

#[portico::test]
async fn the_end_of_a_stream_follows_a_read_that_did_not_fill_the_buffer() {
    let rt = runtime();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The client's bytes and its end are both in the server's socket before the server reads:
    // the first read takes the bytes and leaves room in the buffer, and the end must still be
    // seen, though the runtime heard of it before that read.
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    client.close().await.unwrap();
    drop(client);
    let (mut conn, _) = listener.accept().await.unwrap();
    rt.sleep(Duration::from_millis(20)).await;
    let mut buf = [0u8; 1024];
    let n = conn.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"hello");
    let end = rt
        .timeout(Duration::from_secs(10), conn.read(&mut buf))
        .await;
    assert_eq!(end.expect("the end of the stream is seen").unwrap(), 0);
}

#[portico::test]
async fn try_accept_takes_a_queued_connection_without_waiting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(
        listener.try_accept().unwrap().is_none(),
        "nothing queued yet"
    );
    // A blocking connect returns once the kernel has queued the connection: no reactor has
    // reported it to the listener.
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    let (mut conn, peer) = listener
        .try_accept()
        .unwrap()
        .expect("the queued connection");
    assert_eq!(peer, client.local_addr().unwrap());
    assert!(
        listener.try_accept().unwrap().is_none(),
        "the queue is empty"
    );
    std::io::Write::write_all(&mut client, b"x").unwrap();
    let mut byte = [0u8];
    conn.read_exact(&mut byte).await.unwrap();
    assert_eq!(&byte, b"x");
}

#[portico::test(workers = 2)]
async fn sockets_are_served_while_a_task_holds_one_worker() {
    use std::sync::atomic::AtomicBool;
    let rt = runtime();
    let (started, echoed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    // A task that keeps its worker thread until the echo below is done (or 10 s have passed):
    // only the other worker is left to wait for the sockets.
    let hog = rt.spawn({
        let (started, echoed) = (started.clone(), echoed.clone());
        async move {
            started.store(true, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(10);
            while !echoed.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            echoed.load(Ordering::SeqCst)
        }
    });
    while !started.load(Ordering::SeqCst) {
        rt.sleep(Duration::from_millis(1)).await;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rt.spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 5];
        conn.read_exact(&mut buf).await.unwrap();
        conn.write_all(&buf).await.unwrap();
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    let mut back = [0u8; 5];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hello");
    echoed.store(true, Ordering::SeqCst);
    server.await.unwrap();
    assert!(
        hog.await.unwrap(),
        "the echo finished while the task held its worker"
    );
}

#[portico::test]
async fn the_end_of_a_stream_wakes_a_reader_that_waits() {
    let rt = runtime();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = rt.spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"hello").await.unwrap();
        rt::current()
            .unwrap()
            .sleep(Duration::from_millis(20))
            .await;
        // Closed while the server waits for more.
        stream.close().await.unwrap();
    });
    let (mut conn, _) = listener.accept().await.unwrap();
    let mut received = Vec::new();
    let read = rt.timeout(Duration::from_secs(10), conn.read_to_end(&mut received));
    read.await.expect("the end wakes the reader").unwrap();
    assert_eq!(received, b"hello");
    client.await.unwrap();
}

#[portico::test]
async fn current_runtime_answers_on_every_kind_of_thread() {
    let rt = runtime();
    let name = rt.name();
    // The thread inside block_on (this test's own thread).
    assert_eq!(rt::current().unwrap().name(), name);
    // An executor worker.
    assert_eq!(
        rt.spawn(async { rt::current().unwrap().name() })
            .await
            .unwrap(),
        name
    );
    // The blocking pool.
    assert_eq!(
        rt.spawn_blocking(|| rt::current().unwrap().name())
            .await
            .unwrap(),
        name
    );
    // A thread no runtime owns: a clear error, not a panic.
    let outside = std::thread::spawn(|| rt::current().map(|rt| rt.name()))
        .join()
        .unwrap();
    let err = outside.unwrap_err();
    assert!(
        err.to_string()
            .contains("no Portico runtime is running on this thread"),
        "{err}"
    );
    // And an entered guard makes it answer there too.
    let entered = std::thread::spawn({
        let rt = rt.clone();
        move || {
            let _guard = rt.enter();
            rt::current().map(|rt| rt.name())
        }
    });
    assert_eq!(entered.join().unwrap().unwrap(), name);
}

#[portico::test]
#[should_panic(expected = "from inside a runtime")]
async fn block_on_inside_a_runtime_is_refused() {
    let rt = runtime();
    rt.block_on(async {});
}

#[portico::test]
async fn shutdown_cancels_tasks_and_leaves_no_thread_behind() {
    let rt = runtime();
    let kind: portico::RuntimeKind = rt.name().parse().unwrap();
    // A runtime built and stopped on a blocking thread, as `main` would.
    let report = rt
        .spawn_blocking(move || {
            let prefix = format!("shut-{}", &kind.name()[..1]);
            let owned = portico::Builder::new()
                .runtime(kind)
                .worker_threads(3)
                .thread_name(&prefix)
                .build()
                .unwrap();
            let handle = owned.handle().clone();
            let (dropped, flag) = DropFlag::new();
            let pending = handle.spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
            let work = handle.block_on(async {
                let rt = rt::current().unwrap();
                let a = rt.spawn_blocking(|| 1).await.unwrap();
                let b = rt.spawn(async { 2 }).await.unwrap();
                a + b
            });
            let before = support::threads_named_once_started(&prefix, 3, Duration::from_secs(2));
            owned.shutdown_timeout(Duration::from_secs(5));
            let after = support::threads_named_once_gone(&prefix, Duration::from_secs(2));
            let late = handle.spawn(async { 1 });
            (work, before, after, dropped.get(), pending, late)
        })
        .await
        .unwrap();
    let (work, before, after, cancelled, pending, late) = report;
    assert_eq!(work, 3);
    if cfg!(target_os = "linux") {
        assert!(before >= 3, "the workers were running ({before} threads)");
        assert_eq!(after, 0, "every thread of the runtime has exited");
    }
    assert!(
        cancelled,
        "shutdown drops the futures of tasks still running"
    );
    assert!(pending.await.unwrap_err().is_cancelled());
    assert!(
        late.await.unwrap_err().is_cancelled(),
        "spawning after shutdown gives a cancelled task"
    );
}

#[cfg(unix)]
#[portico::test]
async fn shutdown_signal_reports_sigterm() {
    let rt = runtime();
    let signal = rt.shutdown_signal().unwrap();
    support::send_sigterm_to_self();
    let got = rt
        .timeout(Duration::from_secs(10), signal)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, rt::Signal::Terminate);
}

#[portico::test]
async fn join_error_says_cancelled_when_the_task_never_finished() {
    // The only way a caller sees a cancellation is a task that the runtime dropped; a task
    // spawned on a runtime that then stopped is the portable way to get one.
    let rt = runtime();
    let kind: portico::RuntimeKind = rt.name().parse().unwrap();
    let err = rt
        .spawn_blocking(move || {
            let owned = portico::Builder::new()
                .runtime(kind)
                .worker_threads(1)
                .build()
                .unwrap();
            let task = owned.handle().spawn(std::future::pending::<()>());
            owned.shutdown_timeout(Duration::from_secs(5));
            task
        })
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert!(err.is_cancelled());
    assert!(!err.is_panic());
    assert_eq!(err.panic_message(), None);
    assert_eq!(err.to_string(), "task was cancelled");
}

#[portico::test]
async fn spawning_from_many_threads_loses_no_task() {
    // A correctness check that the inline task storage survives contention: plain threads spawn
    // onto the runtime and join from their own `block_on`.
    let rt = runtime();
    let spawners: Vec<_> = (0..4usize)
        .map(|t| {
            let handle = rt.clone();
            std::thread::spawn(move || {
                let tasks: Vec<_> = (0..2000usize)
                    .map(|i| handle.spawn(async move { t * 10_000 + i }))
                    .collect();
                handle.block_on(async {
                    let mut joined = 0;
                    for (i, task) in tasks.into_iter().enumerate() {
                        assert_eq!(task.await.unwrap(), t * 10_000 + i);
                        joined += 1;
                    }
                    joined
                })
            })
        })
        .collect();
    let total = rt
        .spawn_blocking(move || {
            spawners
                .into_iter()
                .map(|s| s.join().unwrap())
                .sum::<usize>()
        })
        .await
        .unwrap();
    assert_eq!(total, 8000);
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<JoinHandle<u8>>();
    send_sync::<Runtime>();
    send_sync::<TcpStream>();
    send_sync::<TcpListener>();
}
