//! What a task group returns when it fails: every failure it saw, errors and panics alike.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use portico_rt::Panic;

/// A panic caught in a task, kept so that it can be inspected or re-raised.
///
/// The payload sits behind a mutex so that errors holding it stay `Sync` and convert into
/// `Box<dyn Error + Send + Sync>` (and so `anyhow::Error`).
pub struct TaskPanic {
    message: Option<String>,
    payload: Mutex<Option<Panic>>,
}

impl TaskPanic {
    pub(crate) fn new(payload: Panic) -> Self {
        let message = portico_rt::panic_message(payload.as_ref()).map(str::to_owned);
        TaskPanic {
            message,
            payload: Mutex::new(Some(payload)),
        }
    }

    /// The panic message, when the task panicked with a string (as `panic!` does).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The payload, to re-raise with [`std::panic::resume_unwind`]. `None` once taken.
    pub fn take_payload(&self) -> Option<Panic> {
        self.payload
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Re-raises the panic on the calling thread.
    pub fn resume(self) -> ! {
        let message = self.message.clone();
        match self
            .payload
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(payload) => std::panic::resume_unwind(payload),
            None => std::panic::resume_unwind(Box::new(message.unwrap_or_default())),
        }
    }
}

impl fmt::Debug for TaskPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TaskPanic").field(&self.message).finish()
    }
}

impl fmt::Display for TaskPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "task panicked: {message}"),
            None => f.write_str("task panicked"),
        }
    }
}

impl std::error::Error for TaskPanic {}

/// One failure in a task group: a task (or the group's body) returned an error or panicked.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure<E> {
    /// The task returned `Err`.
    Error(E),
    /// The task panicked.
    Panic(TaskPanic),
}

impl<E> Failure<E> {
    /// The error, if this failure is one.
    pub fn as_error(&self) -> Option<&E> {
        match self {
            Failure::Error(err) => Some(err),
            Failure::Panic(_) => None,
        }
    }

    /// The panic, if this failure is one.
    pub fn as_panic(&self) -> Option<&TaskPanic> {
        match self {
            Failure::Panic(panic) => Some(panic),
            Failure::Error(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(err) => err.fmt(f),
            Failure::Panic(panic) => panic.fmt(f),
        }
    }
}

/// Why a task group gave no value: every failure it saw (AnyIO's `ExceptionGroup`), or a
/// cancellation.
///
/// The first failure cancels the rest of the group, but the failures of children that were
/// already failing are kept too, in the order the group saw them. A group with no failure
/// returns this error only when it was cancelled ([`TaskGroup::cancel`]) before a body that
/// returns a value had made it, since then there is no value to return; a body that returns
/// `()` exits `Ok` instead, as in AnyIO.
///
/// [`TaskGroup::cancel`]: crate::TaskGroup::cancel
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use portico_tasks::task_group;
///
/// let result = task_group(|tg| async move {
///     tg.start_soon(async { Err("first") });
///     tg.start_soon(async { Err("second") });
///     Ok::<(), &str>(())
/// })
/// .await;
/// let err = result.unwrap_err();
/// // Both children failed before either could be cancelled, or only one did: either way
/// // every failure that happened is here.
/// assert!(err.errors().all(|e| *e == "first" || *e == "second"));
/// # }
/// ```
pub struct GroupError<E> {
    failures: Vec<Failure<E>>,
}

impl<E> GroupError<E> {
    pub(crate) fn new(failures: Vec<Failure<E>>) -> Self {
        GroupError { failures }
    }

    /// Whether the group was cancelled before its body made its value, with nothing failing.
    pub fn is_cancelled(&self) -> bool {
        self.failures.is_empty()
    }

    /// Every failure, in the order the group saw them.
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// Every failure, by value.
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }

    /// The errors among the failures.
    pub fn errors(&self) -> impl Iterator<Item = &E> {
        self.failures.iter().filter_map(Failure::as_error)
    }

    /// The panics among the failures.
    pub fn panics(&self) -> impl Iterator<Item = &TaskPanic> {
        self.failures.iter().filter_map(Failure::as_panic)
    }

    /// The errors, by value, dropping the panics.
    pub fn into_errors(self) -> Vec<E> {
        self.failures
            .into_iter()
            .filter_map(|failure| match failure {
                Failure::Error(err) => Some(err),
                Failure::Panic(_) => None,
            })
            .collect()
    }

    /// Re-raises the first panic, if a task panicked; otherwise gives the error back.
    ///
    /// Use it where a panic in a child should behave like a panic in the caller:
    /// `task_group(..).await.map_err(GroupError::resume_panic)`.
    pub fn resume_panic(self) -> Self {
        match self
            .failures
            .iter()
            .position(|f| matches!(f, Failure::Panic(_)))
        {
            Some(index) => match self.failures.into_iter().nth(index) {
                Some(Failure::Panic(panic)) => panic.resume(),
                _ => unreachable!("the position of a panic"),
            },
            None => self,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failures.as_slice() {
            [] => f.write_str("task group cancelled"),
            [only] => write!(f, "task group failed: {only}"),
            [first, rest @ ..] => {
                write!(
                    f,
                    "task group failed with {} failures; first: {first}",
                    rest.len() + 1
                )
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.failures.first()? {
            Failure::Error(err) => Some(err),
            Failure::Panic(panic) => Some(panic),
        }
    }
}
