//! The adapter's own reactor for sockets, on Linux: one epoll instance, each socket registered
//! once, edge-triggered, and waited on by whichever executor thread is idle.
//!
//! async-io registers sockets one-shot (an `epoll_ctl` to re-arm each wait for the next
//! request) and spends five system calls on each wait of its reactor (a `timerfd` armed and
//! re-registered, the wait, the wake-up `eventfd` read and re-registered), while its own thread
//! polls the reactor every 50 µs as long as any thread is in its `block_on`. For a server, that
//! is most of the system calls of a keep-alive request. Here a socket is registered when it is
//! made and removed when it is dropped; a wait is one `epoll_wait`; the wake-up `eventfd` is
//! written only to wake a thread that is in that wait, and never read (edge-triggered, each
//! write is an event).
//!
//! Timers, signals and whatever the application itself runs on async-io stay on async-io, whose
//! own thread drives them while no thread is in its `block_on`.
//!
//! # Who waits
//!
//! An executor thread with nothing to run waits on the epoll instance if no other thread does,
//! and parks otherwise. It leaves the wait as soon as a task is woken for it (the events it took
//! usually wake its own tasks), and hands the wait to a parked executor thread, if any, so that
//! a long task never holds up the others' sockets while a thread is free. A thread in
//! `Runtime::block_on` leaves the waiting to the executor threads, which wake it when its future
//! can go on; it waits itself only while no executor thread is running.
//!
//! # Readiness
//!
//! Each source keeps what the last events said (readable, writable) beside a count of the
//! events received. An operation takes a snapshot, tries the system call, and on `EAGAIN` clears
//! the readiness it found, only if no event has come since the snapshot (a compare-and-swap on
//! both): an edge that arrives while the call runs is never lost.

use std::future::Future;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use atomic_waker::AtomicWaker;
use rustix::event::{EventfdFlags, epoll, eventfd};
use slab::Slab;

/// The key of the wake-up `eventfd` in the epoll instance: no source's (slab keys are small).
const WAKE_UP: u64 = u64::MAX;

/// How many events one wait takes at most.
const EVENTS: usize = 256;

/// Readiness bits of [`Source::state`]; the count of events is above them. The `CLOSED` bits
/// stay once set: a hang-up or an error is a state, not an edge, and a read that returned data
/// before the end of the stream must still find the end without another event.
const READABLE: usize = 1;
const WRITABLE: usize = 2;
const READ_CLOSED: usize = 4;
const WRITE_CLOSED: usize = 8;
const ONE_EVENT: usize = 16;

/// A direction of I/O on a source.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The bit that an operation that would block clears.
    fn bit(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }

    /// The bits that let an operation go ahead.
    fn ready(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }
}

/// What a readiness check found, to clear it with if the operation would block.
#[derive(Clone, Copy)]
pub(crate) struct Snapshot(usize);

/// The process's reactor for the adapter's sockets.
pub(crate) struct Reactor {
    epoll: OwnedFd,
    /// Written to wake the thread in `epoll_wait`; registered edge-triggered, never read.
    wake_up: OwnedFd,
    /// The registered sources, by the key their events carry.
    sources: Mutex<Slab<Arc<Source>>>,
    /// Held by the thread that waits on the epoll instance.
    driver: Mutex<()>,
    /// Executor threads idle in [`block_on`] while another one waits on the epoll instance:
    /// one is woken to take the wait over when that one leaves it to run tasks.
    idle: Mutex<Vec<Thread>>,
    idle_count: AtomicUsize,
    /// Executor threads in [`block_on`].
    workers: AtomicUsize,
}

impl Reactor {
    /// The reactor, started on first use; `None` if the system refused an epoll instance or an
    /// `eventfd` (the adapter then stays on async-io).
    pub(crate) fn get() -> Option<&'static Reactor> {
        static REACTOR: OnceLock<Option<Reactor>> = OnceLock::new();
        REACTOR.get_or_init(|| Reactor::new().ok()).as_ref()
    }

    fn new() -> io::Result<Self> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake_up = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &wake_up,
            epoll::EventData::new_u64(WAKE_UP),
            epoll::EventFlags::IN | epoll::EventFlags::ET,
        )?;
        Ok(Reactor {
            epoll,
            wake_up,
            sources: Mutex::new(Slab::new()),
            driver: Mutex::new(()),
            idle: Mutex::new(Vec::new()),
            idle_count: AtomicUsize::new(0),
            workers: AtomicUsize::new(0),
        })
    }

    /// Registers `fd` for both directions, edge-triggered, until the source is dropped.
    pub(crate) fn register(&'static self, fd: BorrowedFd<'_>) -> io::Result<Registration> {
        let mut sources = lock(&self.sources);
        let entry = sources.vacant_entry();
        let key = entry.key();
        let source = Arc::new(Source {
            // Ready until a call says otherwise: a new socket is tried before it is waited on.
            state: AtomicUsize::new(READABLE | WRITABLE),
            reader: AtomicWaker::new(),
            writer: AtomicWaker::new(),
        });
        epoll::add(
            &self.epoll,
            fd,
            epoll::EventData::new_u64(key as u64),
            epoll::EventFlags::IN
                | epoll::EventFlags::OUT
                | epoll::EventFlags::RDHUP
                | epoll::EventFlags::ET,
        )?;
        entry.insert(source.clone());
        Ok(Registration {
            reactor: self,
            key,
            source,
        })
    }

    /// Wakes the thread waiting on the epoll instance, if any.
    fn wake_up(&self) {
        // The counter only overflows after 2^64 - 2 wake-ups nobody read; an error here means
        // the write would block, and the descriptor is readable (so awake) already.
        let _ = rustix::io::write(&self.wake_up, &1u64.to_ne_bytes());
    }

    /// Waits for events (until one comes, or at most `limit`) and collects the wakers of the
    /// sources they concern into `buffers`, to be woken with [`Buffers::wake`] once the caller
    /// no longer counts as waiting.
    fn poll_events(&self, buffers: &mut Buffers, limit: Option<Duration>) {
        let Buffers { events, wakers } = buffers;
        events.clear();
        let timeout = limit.map(|limit| rustix::event::Timespec {
            tv_sec: limit.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: limit.subsec_nanos().into(),
        });
        let room = rustix::buffer::spare_capacity(events);
        if epoll::wait(&self.epoll, room, timeout.as_ref()).is_err() {
            // Interrupted by a signal, or a failure the next wait reports again.
            return;
        }
        let sources = lock(&self.sources);
        for event in events.iter() {
            let key = event.data.u64();
            // A source removed after its event was queued is gone: nothing to wake.
            let Some(source) = usize::try_from(key).ok().and_then(|key| sources.get(key)) else {
                continue;
            };
            source.ready(readiness(event.flags), wakers);
        }
    }

    /// Wakes one idle thread, to drive while this one runs tasks.
    fn hand_over(&self) {
        if self.idle_count.load(Ordering::SeqCst) == 0 {
            return;
        }
        if let Some(thread) = lock(&self.idle).pop() {
            self.idle_count.fetch_sub(1, Ordering::SeqCst);
            thread.unpark();
        }
    }
}

/// What a wait on the epoll instance fills: its events, then the wakers they call for. Each
/// thread in [`block_on`] has its own (an epoll event is not `Send`).
struct Buffers {
    events: Vec<epoll::Event>,
    wakers: Vec<Waker>,
}

impl Buffers {
    /// Wakes the wakers collected, outside every lock of the reactor (a waker may drop a task,
    /// and with it a socket that removes its registration). Returns how many there were.
    fn wake(&mut self) -> usize {
        let woken = self.wakers.len();
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
        woken
    }
}

/// The readiness bits an event's flags mean: the end of the peer's stream, a hang-up or an
/// error are closed states, so that every later call goes ahead and reports them.
fn readiness(flags: epoll::EventFlags) -> usize {
    use epoll::EventFlags as F;
    let mut ready = 0;
    if flags.contains(F::IN) {
        ready |= READABLE;
    }
    if flags.contains(F::OUT) {
        ready |= WRITABLE;
    }
    if flags.intersects(F::RDHUP | F::HUP | F::ERR) {
        ready |= READ_CLOSED;
    }
    if flags.intersects(F::HUP | F::ERR) {
        ready |= WRITE_CLOSED;
    }
    ready
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held; a poisoned one is still consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the reactor knows of one socket, shared with the events that concern it.
struct Source {
    /// Readiness bits, with the count of events received above them.
    state: AtomicUsize,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Source {
    /// Records an event, and collects the wakers of whoever waits for what it made ready.
    fn ready(&self, ready: usize, wakers: &mut Vec<Waker>) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some((state | ready).wrapping_add(ONE_EVENT))
            });
        if ready & Direction::Read.ready() != 0 {
            wakers.extend(self.reader.take());
        }
        if ready & Direction::Write.ready() != 0 {
            wakers.extend(self.writer.take());
        }
    }
}

/// A socket's registration with the [`Reactor`]; removed when dropped (drop it before the
/// socket is closed).
pub(crate) struct Registration {
    reactor: &'static Reactor,
    key: usize,
    source: Arc<Source>,
}

impl Registration {
    /// Ready when the last events (or none yet) said `direction` is ready; otherwise registers
    /// `cx` to be woken when an event does.
    pub(crate) fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<Snapshot> {
        let bits = direction.ready();
        let state = self.source.state.load(Ordering::Acquire);
        if state & bits != 0 {
            return Poll::Ready(Snapshot(state));
        }
        let waker = match direction {
            Direction::Read => &self.source.reader,
            Direction::Write => &self.source.writer,
        };
        waker.register(cx.waker());
        // Looked at again once registered: an event in between is not missed.
        let state = self.source.state.load(Ordering::Acquire);
        if state & bits != 0 {
            Poll::Ready(Snapshot(state))
        } else {
            Poll::Pending
        }
    }

    /// Clears `direction`'s readiness after a call that would block, unless an event came
    /// since `snapshot` was taken.
    pub(crate) fn clear(&self, direction: Direction, snapshot: Snapshot) {
        let _ = self.source.state.compare_exchange(
            snapshot.0,
            snapshot.0 & !direction.bit(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Removes the registration of `fd`, which must be the registered socket.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) {
        // Fails only if the socket was not registered, which cannot be.
        let _ = epoll::delete(&self.reactor.epoll, fd);
        lock(&self.reactor.sources).try_remove(self.key);
    }
}

/// A thread's waker in [`block_on`]: wakes it from `epoll_wait` or from parking.
struct ThreadWaker {
    thread: Thread,
    /// Set by a wake, cleared by the thread before it polls again.
    woken: AtomicBool,
    /// Set while the thread waits on the epoll instance.
    in_epoll: AtomicBool,
    reactor: &'static Reactor,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::SeqCst) {
            // The thread marks `in_epoll` before it reads `woken`, and this reads `in_epoll`
            // after it set `woken`: one of the two sees the other.
            if self.in_epoll.load(Ordering::SeqCst) {
                self.reactor.wake_up();
            } else {
                self.thread.unpark();
            }
        }
    }
}

/// How long a thread that is not an executor thread waits on the epoll instance, or parks,
/// before it looks again whether an executor thread could wait instead.
const CALLER_WAIT: Duration = Duration::from_millis(50);

/// Who runs a [`block_on`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// An executor thread: it waits on the epoll instance whenever it is idle and no other
    /// executor thread does.
    Worker,
    /// Any other thread (`Runtime::block_on`): it leaves the waiting to the executor threads,
    /// which wake it when its future can go on. Waiting itself, it would hand them every
    /// event they need, a thread wake-up each time. While no executor thread is running, it
    /// waits itself.
    Caller,
}

/// Runs `fut` to completion on this thread, as async-io's `block_on` does, with the adapter's
/// reactor.
pub(crate) fn block_on<T>(
    reactor: &'static Reactor,
    role: Role,
    fut: impl Future<Output = T>,
) -> T {
    let mut fut = pin!(fut);
    let this = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
        in_epoll: AtomicBool::new(false),
        reactor,
    });
    let waker = Waker::from(this.clone());
    let mut cx = Context::from_waker(&waker);
    let mut buffers = Buffers {
        events: Vec::with_capacity(EVENTS),
        wakers: Vec::new(),
    };
    let _worker = (role == Role::Worker).then(|| WorkerGuard::enter(reactor));
    // Whether this thread has looked at the epoll instance since it last polled `fut`.
    let mut looked = false;
    loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            return output;
        }
        if this.woken.swap(false, Ordering::SeqCst) {
            // Woken while polling (a task that yielded, say): look for I/O on the way, without
            // waiting, so that a busy thread still sees its sockets' events; not again right
            // after a wait, which has just taken them.
            if !std::mem::take(&mut looked)
                && let Ok(driving) = reactor.driver.try_lock()
            {
                reactor.poll_events(&mut buffers, Some(Duration::ZERO));
                drop(driving);
                buffers.wake();
            }
            continue;
        }
        looked = false;
        match role {
            Role::Worker => {
                looked = this.drive(&mut buffers, None);
                if !looked {
                    this.park_idle();
                }
            }
            Role::Caller => {
                while !this.woken.load(Ordering::SeqCst) {
                    if reactor.workers.load(Ordering::SeqCst) == 0 {
                        this.drive(&mut buffers, Some(CALLER_WAIT));
                        break;
                    }
                    thread::park_timeout(CALLER_WAIT);
                }
            }
        }
    }
}

/// Counts an executor thread in [`block_on`]; when it leaves, an idle one takes its place.
struct WorkerGuard(&'static Reactor);

impl WorkerGuard {
    fn enter(reactor: &'static Reactor) -> Self {
        reactor.workers.fetch_add(1, Ordering::SeqCst);
        WorkerGuard(reactor)
    }
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.workers.fetch_sub(1, Ordering::SeqCst);
        self.0.hand_over();
    }
}

impl ThreadWaker {
    /// Waits on the epoll instance until this thread is woken (or, with a limit, at most that
    /// long), if no other thread waits there; `false` if one does.
    fn drive(&self, buffers: &mut Buffers, limit: Option<Duration>) -> bool {
        let reactor = self.reactor;
        let driving = match reactor.driver.try_lock() {
            Ok(driving) => driving,
            Err(TryLockError::WouldBlock) => return false,
            Err(TryLockError::Poisoned(poisoned)) => {
                // A panic while this lock was held, which guards no data: take it all the same.
                reactor.driver.clear_poison();
                poisoned.into_inner()
            }
        };
        loop {
            self.in_epoll.store(true, Ordering::SeqCst);
            if self.woken.load(Ordering::SeqCst) {
                self.in_epoll.store(false, Ordering::SeqCst);
                break;
            }
            reactor.poll_events(buffers, limit);
            self.in_epoll.store(false, Ordering::SeqCst);
            buffers.wake();
            if limit.is_some() || self.woken.load(Ordering::SeqCst) {
                break;
            }
        }
        drop(driving);
        // An idle thread takes the wait over while this one runs its tasks.
        reactor.hand_over();
        true
    }

    /// Parks this thread, idle while another one drives, until it is woken or handed the wait.
    fn park_idle(&self) {
        let reactor = self.reactor;
        lock(&reactor.idle).push(thread::current());
        reactor.idle_count.fetch_add(1, Ordering::SeqCst);
        // Looked at again once listed: a driver that left before it could hand over to this
        // thread has released the wait.
        let free = reactor.driver.try_lock().is_ok();
        if !free && !self.woken.load(Ordering::SeqCst) {
            thread::park();
        }
        let me = thread::current().id();
        let mut idle = lock(&reactor.idle);
        if let Some(at) = idle.iter().position(|t| t.id() == me) {
            idle.swap_remove(at);
            reactor.idle_count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
