//! Task groups: children spawned on the runtime, in parallel, that never outlive their group.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use event_listener::EventListener;
use portico_rt::Runtime;

use crate::cancel::current_frame;
use crate::cancel::tree::{Busy, Node};
use crate::failure::{Failure, GroupError, TaskPanic};

mod completed;
mod gather;
mod handle;
mod shared;
mod soon;
mod start;

pub use completed::AsCompleted;
pub use gather::{amap, gather};
pub use handle::{TaskEnded, TaskHandle};
use shared::{Plain, Shared};
pub use soon::{PendingValue, SoonFuture, SoonValue};
pub(crate) use start::Started;
pub use start::{StartError, TaskStatus};

/// Runs `body` with a [`TaskGroup`] and returns once the body and every child it started have
/// finished: AnyIO's `async with create_task_group() as tg`.
///
/// * Children ([`TaskGroup::start_soon`], [`start`](TaskGroup::start),
///   [`soon`](TaskGroup::soon)) are `Send + 'static` tasks on the current runtime, running in
///   parallel with each other and with the body.
/// * The first failure, an `Err` or a panic in a child or in the body, cancels every other
///   child and the body. The group then returns [`GroupError`] with **every** failure it saw.
/// * [`TaskGroup::cancel`] cancels the children (and the body, if it has not finished) without
///   a failure, and the group exits normally, as in AnyIO: `Ok` with the body's value (see
///   [`TaskGroup::cancel`] for a body cancelled before it made one).
/// * Dropping the future returned here cancels every child.
///
/// When this returns, every child's future has been dropped: no child outlives its group.
///
/// # Examples
///
/// A fan-out with a deadline, each result read after the group:
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::{fail_after, task_group};
///
/// async fn fetch(page: u32) -> Result<String, std::io::Error> {
///     Ok(format!("page {page}"))
/// }
///
/// let pages = fail_after(Duration::from_secs(5), task_group(|tg| async move {
///     let pages: Vec<_> = (1..=3).map(|n| tg.soon(fetch(n))).collect();
///     Ok(pages)
/// }))
/// .await
/// .expect("in time")
/// .expect("no failure");
/// let pages: Vec<String> = pages.into_iter().map(|p| p.into_value().unwrap()).collect();
/// assert_eq!(pages, ["page 1", "page 2", "page 3"]);
/// # }
/// ```
///
/// # Panics
///
/// Panics if called outside a runtime (see [`portico_rt::current`]).
///
/// # Cancel safety
///
/// A cancel scope, timeout, group or tracker cancelled around the group does not drop it at
/// once: it delivers its cancellation to the group and waits until every child has ended,
/// drops and cleanups included. Then the group gives nothing back (the canceller drops it),
/// unless a child failed: that failure is returned, and passes through the canceller.
///
/// Dropped from outside (by `select!`, a join handle, a server dropping a request), the group
/// cannot wait: it cancels every child, whose futures the runtime drops right after, and the
/// nearest scope, group or tracker around it waits for them instead. With none around it,
/// nobody waits. Whatever the children had done stays done.
pub fn task_group<T, E, F, Fut>(body: F) -> Group<Fut, T, E>
where
    F: FnOnce(TaskGroup<E>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    T: 'static,
    E: Send + 'static,
{
    let rt = portico_rt::current().unwrap_or_else(|err| panic!("task_group: {err}"));
    let shared = Arc::new(Shared::new(rt, current_frame()));
    let body = body(TaskGroup {
        shared: shared.clone(),
    });
    Group {
        body: Some(body),
        output: None,
        shared,
        node: None,
        busy: None,
        watch: Vec::new(),
        idle: None,
        cancelled_above: false,
        stage: Stage::Running,
    }
}

/// A handle to a running task group, given to the body of [`task_group`]; clone it to let
/// children start siblings.
pub struct TaskGroup<E> {
    shared: Arc<Shared<E>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("cancelled", &self.shared.is_cancelled())
            .finish()
    }
}

/// The error of [`TaskGroup::try_start_soon`] once the group has returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupClosed(());

impl fmt::Display for GroupClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group has already returned; start tasks from inside it")
    }
}

impl std::error::Error for GroupClosed {}

impl<E: Send + 'static> TaskGroup<E> {
    /// Starts `fut` as a child and returns at once (AnyIO's `start_soon`).
    ///
    /// If the group is already cancelled, `fut` is dropped without running.
    ///
    /// # Panics
    ///
    /// Panics if the group has already returned (a clone of this handle outlived it); see
    /// [`try_start_soon`](Self::try_start_soon).
    pub fn start_soon<F>(&self, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        if let Err(err) = self.try_start_soon(fut) {
            panic!("TaskGroup::start_soon: {err}");
        }
    }

    /// As [`start_soon`](Self::start_soon), but fails instead of panicking once the group has
    /// returned.
    ///
    /// # Errors
    ///
    /// [`GroupClosed`] once the group has returned.
    pub fn try_start_soon<F>(&self, fut: F) -> Result<(), GroupClosed>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        self.shared.spawn(fut, Plain)
    }

    /// Starts `fut` as a child and returns a [`TaskHandle`] to it: await the handle for the
    /// child's value, or cancel this child alone (AnyIO's `TaskHandle`, and what tokio's
    /// `JoinSet::spawn` gives). The child fails the group like any other if it returns `Err`
    /// or panics; its value, which may be any `Send` type, goes to the handle.
    ///
    /// Dropping the handle leaves the child running in the group. A child that needs no handle
    /// costs less with [`start_soon`](Self::start_soon).
    ///
    /// If the group is already cancelled, `fut` is dropped without running, and the handle
    /// says [`TaskEnded::Cancelled`].
    ///
    /// # Panics
    ///
    /// Panics if the group has already returned, as [`start_soon`](Self::start_soon) does.
    pub fn spawn<T, F>(&self, fut: F) -> TaskHandle<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let (handle, on_end) = handle::handle();
        if let Err(err) = self.shared.spawn(fut, on_end) {
            panic!("TaskGroup::spawn: {err}");
        }
        handle
    }

    /// Starts a child and waits until it reports that it is ready, giving back the value it
    /// reported (AnyIO's `start` and `task_status.started(value)`).
    ///
    /// The child gets a [`TaskStatus`] and calls [`TaskStatus::started`] once ready (a server
    /// once it listens, say); it then runs on in the group. If it ends, fails or is cancelled
    /// before that, this returns the reason instead, and a failure before `started` is the
    /// caller's to handle: it does not fail the group.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn example() {
    /// use portico_tasks::{TaskStatus, task_group};
    ///
    /// task_group(|tg| async move {
    ///     let port = tg
    ///         .start(|status: TaskStatus<u16>| async move {
    ///             status.started(8080); // then serve...
    ///             Ok(())
    ///         })
    ///         .await
    ///         .expect("started");
    ///     assert_eq!(port, 8080);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .await
    /// .unwrap();
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StartError`]: the child ended without reporting, failed or panicked first, or was
    /// cancelled first.
    ///
    /// # Cancel safety
    ///
    /// A cancel scope or task group cancelled around a pending `start` cancels the child and
    /// waits for it to end, as AnyIO does; the `start` then gives nothing back (the canceller
    /// drops it). Dropped from outside before the child reported, the returned future cancels
    /// the child and cannot wait, so the group does: it returns only once the child's future
    /// is dropped. Once the child has reported, it runs on in the group.
    ///
    /// ```
    /// # async fn example() {
    /// use std::time::Duration;
    /// use portico_tasks::{TaskStatus, move_on_after, task_group};
    ///
    /// task_group(|tg| async move {
    ///     let slow = move_on_after(Duration::from_millis(5), tg.start(|_: TaskStatus<()>| async {
    ///         std::future::pending().await // never ready
    ///     }))
    ///     .await;
    ///     assert!(slow.is_none(), "given up on, and its child has ended by now");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .await
    /// .unwrap();
    /// # }
    /// ```
    pub async fn start<V, F, Fut>(&self, f: F) -> Result<V, StartError<E>>
    where
        V: Send + 'static,
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
    {
        start::start(&self.shared, f).await
    }

    /// Starts `fut` as a child whose value can be read once the group has returned, or
    /// awaited before (Asyncer's `soonify` and `SoonValue`, which cannot be awaited).
    ///
    /// An `Err` from `fut` fails the group like any child's. The value needs to be `Send`
    /// only. Unlike a [`TaskHandle`], a [`SoonValue`] cannot cancel its child; unlike a value
    /// from tokio's `JoinSet`, it is read by the code that started the child, in the order it
    /// chooses.
    ///
    /// # Panics
    ///
    /// Panics if the group has already returned, as [`start_soon`](Self::start_soon) does.
    pub fn soon<T, F>(&self, fut: F) -> SoonValue<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let (state, on_end) = handle::state();
        if let Err(err) = self.shared.spawn(fut, on_end) {
            panic!("TaskGroup::soon: {err}");
        }
        SoonValue::new(state)
    }

    /// Starts a collector whose children's values are handed out as they finish (AnyIO
    /// 4.16's `as_completed`, tokio's `JoinSet::join_next`); see [`AsCompleted`].
    ///
    /// The children run in this group, and their failures fail it; dropping the collector
    /// cancels those of its children that have not finished.
    pub fn as_completed<T: Send + 'static>(&self) -> AsCompleted<T, E> {
        AsCompleted::new(self.clone())
    }

    /// Cancels every child, and the group's body if it has not finished, without a failure
    /// (AnyIO's `tg.cancel_scope.cancel()`). Works from the body, from a child, or from
    /// anywhere a clone of this handle went.
    ///
    /// The group then exits normally, as in AnyIO, once every child has ended:
    ///
    /// * with `Ok(value)` if the body had already returned `Ok(value)`;
    /// * with `Ok(())` if the body returns nothing (`Result<(), E>`, AnyIO's only kind of
    ///   body) and was cancelled before it finished;
    /// * with a [`GroupError`] that [`is_cancelled`](GroupError::is_cancelled) only if the
    ///   body returns a value and was cancelled before it made one: Rust has no value to give
    ///   there.
    ///
    /// Children that fail while being cancelled still fail the group.
    ///
    /// # Examples
    ///
    /// A child ends the whole group, which is not an error:
    ///
    /// ```
    /// # async fn example() {
    /// use portico_tasks::task_group;
    ///
    /// task_group(|tg| async move {
    ///     let stopper = tg.clone();
    ///     tg.start_soon(std::future::pending()); // a server that would run for ever
    ///     tg.start_soon(async move {
    ///         stopper.cancel(); // say, on a shutdown message
    ///         Ok(())
    ///     });
    ///     std::future::pending::<Result<(), std::io::Error>>().await // cancelled too
    /// })
    /// .await
    /// .expect("a cancelled group exits normally");
    /// # }
    /// ```
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Whether the group is cancelled, by [`cancel`](Self::cancel) or by a failure.
    pub fn is_cancelled(&self) -> bool {
        self.shared.is_cancelled()
    }

    /// The runtime the group's children run on.
    pub fn runtime(&self) -> &Runtime {
        &self.shared.rt
    }
}

pin_project_lite::pin_project! {
    /// The future of a running task group, from [`task_group`].
    #[must_use = "a task group does nothing unless awaited"]
    pub struct Group<Fut, T, E> {
        #[pin]
        body: Option<Fut>,
        output: Option<T>,
        shared: Arc<Shared<E>>,
        // The body's canceller, from the first poll.
        node: Option<Arc<Node>>,
        // From the first poll until the group has ended, the cancellers above wait for it.
        busy: Option<Busy>,
        // Wakes the group when a canceller above is cancelled.
        watch: Vec<EventListener>,
        // Waiting for work the body handed to the group's node.
        idle: Option<EventListener>,
        // A canceller above was cancelled, and this group with it.
        cancelled_above: bool,
        stage: Stage,
    }

    impl<Fut, T, E> PinnedDrop for Group<Fut, T, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.stage == Stage::Running {
                // Dropped from outside before it ended, so it cannot wait: it cancels every
                // child and leaves them to the cancellers above, which wait for them.
                this.shared.abandon(this.busy.take());
            }
        }
    }
}

/// Where a group's future is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Running,
    /// Ended, cancelled from above with no failure: it gives nothing, and waits for the
    /// canceller above to drop it.
    Cut,
    /// Ended and returned.
    Returned,
}

impl<Fut, T, E> fmt::Debug for Group<Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("finished", &(self.stage != Stage::Running))
            .finish_non_exhaustive()
    }
}

impl<Fut, T, E> Group<Fut, T, E>
where
    Fut: Future<Output = Result<T, E>>,
    T: 'static,
    E: Send + 'static,
{
    /// Makes the group give back the body's value even when the group fails: the future
    /// then gives the value, if the body made one, and `Ok(())` or every failure.
    ///
    /// AnyIO has no body value to keep (a block has none); in Asyncer, the values of
    /// `soonify` children that finished stay readable after a failure, and this is how a body
    /// that returns its [`SoonValue`]s hands them out when a sibling failed. A `JoinSet` has
    /// no body: each task's value is handed out on its own.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn example() {
    /// use portico_tasks::task_group;
    ///
    /// let (value, result) = task_group(|tg| async move {
    ///     let done = tg.soon(async { Ok(1) });
    ///     done.wait().await.unwrap();
    ///     // No wait after this start: the body returns before the failure can cancel it.
    ///     tg.start_soon(async { Err("the network is down") });
    ///     Ok(done)
    /// })
    /// .keep_body_value()
    /// .await;
    /// assert!(result.is_err(), "the group failed");
    /// let done = value.expect("the body returned before the failure");
    /// assert_eq!(done.into_value(), Ok(1));
    /// # }
    /// ```
    pub fn keep_body_value(self) -> KeepBodyValue<Fut, T, E> {
        KeepBodyValue { group: self }
    }

    /// Polls the group until it has ended: the body's value, if it made one, and every
    /// failure.
    ///
    /// Cancelled from above (a cancel scope, an enclosing group, a tracker's shutdown), the
    /// group cancels itself and waits for its children like any cancelled group; then, with
    /// no failure to report, it gives nothing and stays pending for the canceller to drop it,
    /// as AnyIO's cancellation passes through the group to the scope that caught it. With a
    /// failure, it returns the failure, which the canceller passes on.
    fn poll_end(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<(Option<T>, Vec<Failure<E>>)> {
        loop {
            let ended = self.as_mut().poll_once(cx);
            if ended.is_ready() {
                return ended;
            }
            // Before waiting, listen for a cancellation from above (the listeners are made
            // only for a group that waits), and if one came meanwhile, deliver it now.
            let this = self.as_mut().project();
            let (Stage::Running, false, Some(busy)) =
                (*this.stage, *this.cancelled_above, this.busy.as_ref())
            else {
                return Poll::Pending;
            };
            if !busy.poll_cancel_requested(this.watch, cx) {
                return Poll::Pending;
            }
        }
    }

    fn poll_once(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(Option<T>, Vec<Failure<E>>)> {
        let mut this = self.project();
        match *this.stage {
            Stage::Running => {}
            // Polled again by a combinator beside it, before the canceller drops it.
            Stage::Cut => return Poll::Pending,
            Stage::Returned => panic!("task group polled after completion"),
        }
        let node = this.node.get_or_insert_with(Node::child_of_current);
        let busy = this.busy.get_or_insert_with(Busy::enter);
        if !*this.cancelled_above && busy.cancel_requested() {
            *this.cancelled_above = true;
            this.watch.clear();
            this.shared.cancel();
        }
        // Twice at most: a cancellation seen after the body's poll, with work inside the body
        // that must end first (a shield, a thread), is shown to that work by one more poll.
        for _ in 0..2 {
            let Some(body) = this.body.as_mut().as_pin_mut() else {
                break;
            };
            let cancelled = this.shared.is_cancelled();
            if cancelled {
                if !node.is_busy() {
                    // Cancelled while the body runs: the body goes too.
                    this.body.set(None);
                    break;
                }
                node.request();
            }
            // Stored before the body runs, so that a failure while it runs wakes the group.
            this.shared.register(cx.waker());
            match node.enter(|| panic::catch_unwind(AssertUnwindSafe(|| body.poll(cx)))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(Ok(output))) => {
                    *this.output = Some(output);
                    this.body.set(None);
                }
                Ok(Poll::Ready(Err(err))) => {
                    this.body.set(None);
                    this.shared.fail(Failure::Error(err));
                }
                Err(payload) => {
                    this.body.set(None);
                    this.shared.fail(Failure::Panic(TaskPanic::new(payload)));
                }
            }
            if cancelled || !this.shared.is_cancelled() {
                break;
            }
        }
        // Cancelled, the body goes once the work inside it has ended: work it polls wakes the
        // group, and work it handed over (a group it dropped) notifies the node.
        if this.body.is_some() && this.shared.is_cancelled() && node.poll_idle(this.idle, cx) {
            this.body.set(None);
        }
        if this.body.is_some() {
            return Poll::Pending;
        }
        // Work that a group dropped inside the body handed to this one ends first.
        if !node.poll_idle(this.idle, cx) {
            return Poll::Pending;
        }
        let Some(failures) = this.shared.try_close(cx.waker()) else {
            return Poll::Pending;
        };
        // Ended: the cancellers above no longer wait for this group.
        *this.busy = None;
        this.watch.clear();
        if *this.cancelled_above && failures.is_empty() {
            *this.stage = Stage::Cut;
            return Poll::Pending;
        }
        *this.stage = Stage::Returned;
        // A body cancelled before it finished that returns nothing still has its value.
        Poll::Ready((this.output.take().or_else(unit_value), failures))
    }
}

impl<Fut, T, E> Future for Group<Fut, T, E>
where
    Fut: Future<Output = Result<T, E>>,
    T: 'static,
    E: Send + 'static,
{
    type Output = Result<T, GroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (output, failures) = std::task::ready!(self.poll_end(cx));
        if !failures.is_empty() {
            return Poll::Ready(Err(GroupError::new(failures)));
        }
        // No failure: the body returned, or the group was cancelled first; a cancelled body
        // that returns nothing exits normally, as AnyIO's does.
        Poll::Ready(output.ok_or_else(|| GroupError::new(failures)))
    }
}

pin_project_lite::pin_project! {
    /// A task group that gives back its body's value even when it fails, from
    /// [`Group::keep_body_value`].
    #[must_use = "a task group does nothing unless awaited"]
    pub struct KeepBodyValue<Fut, T, E> {
        #[pin]
        group: Group<Fut, T, E>,
    }
}

impl<Fut, T, E> fmt::Debug for KeepBodyValue<Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeepBodyValue")
            .field("group", &self.group)
            .finish()
    }
}

impl<Fut, T, E> Future for KeepBodyValue<Fut, T, E>
where
    Fut: Future<Output = Result<T, E>>,
    T: 'static,
    E: Send + 'static,
{
    /// The body's value, if it made one, and whether anything failed. A group cancelled with
    /// [`TaskGroup::cancel`] and no failure gives `Ok(())`.
    type Output = (Option<T>, Result<(), GroupError<E>>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (output, failures) = std::task::ready!(self.project().group.poll_end(cx));
        let result = if failures.is_empty() {
            Ok(())
        } else {
            Err(GroupError::new(failures))
        };
        Poll::Ready((output, result))
    }
}

/// `Some(())` when `T` is `()`: the value of a body that returns nothing, which a body
/// cancelled before it finished still has. `None` for any other type.
fn unit_value<T: 'static>() -> Option<T> {
    let unit: Box<dyn Any> = Box::new(());
    unit.downcast::<T>().ok().map(|unit| *unit)
}
