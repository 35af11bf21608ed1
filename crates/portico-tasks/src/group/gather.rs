//! [`gather`] and [`amap`]: run futures as children of one group, values in argument order.

use std::future::Future;

use super::task_group;
use crate::failure::GroupError;

/// Runs every future as a child of a new task group and gives their values in the order the
/// futures were given (AnyIO 4.16's `gather`; Asyncer's `soonify` with every value read).
///
/// The group's rules hold: the first failure, an `Err` or a panic, cancels the others, and
/// the error holds every failure. Unlike tokio's `JoinSet`, which yields values in the order
/// tasks finish and leaves the others running on failure; for values in the order they
/// finish, use [`TaskGroup::as_completed`](crate::TaskGroup::as_completed).
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
///
/// async fn fetch(id: u64) -> Result<String, std::io::Error> {
///     portico_rt::current()?.sleep(Duration::from_millis(10 - id)).await; // the last is first
///     Ok(format!("item {id}"))
/// }
///
/// let items = portico_tasks::gather((1..=3).map(fetch)).await.unwrap();
/// assert_eq!(items, ["item 1", "item 2", "item 3"]);
/// # }
/// ```
///
/// # Errors
///
/// [`GroupError`] with every failure, if any child failed.
///
/// # Panics
///
/// Panics if called outside a runtime (see [`portico_rt::current`]).
///
/// # Cancel safety
///
/// As [`task_group`]'s: dropping the future cancels every child.
pub async fn gather<I, F, T, E>(futures: I) -> Result<Vec<T>, GroupError<E>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let values = task_group(|tg| async move {
        Ok(futures
            .into_iter()
            .map(|fut| tg.soon(fut))
            .collect::<Vec<_>>())
    })
    .await?;
    let values: Result<Vec<T>, _> = values.into_iter().map(|value| value.into_value()).collect();
    // Without a failure, every child returned its value before the group did.
    Ok(values.unwrap_or_else(|_| unreachable!("a group without failures ran every child")))
}

/// Calls `f` on each argument and runs the futures it makes as children of a new task
/// group, giving their values in argument order (AnyIO 4.16's `amap`): [`gather`] over
/// `args.into_iter().map(f)`.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// let lengths = portico_tasks::amap(
///     |word: &'static str| async move { Ok::<_, std::io::Error>(word.len()) },
///     ["one", "three", "five"],
/// )
/// .await
/// .unwrap();
/// assert_eq!(lengths, [3, 5, 4]);
/// # }
/// ```
///
/// # Errors
///
/// [`GroupError`] with every failure, if any child failed.
///
/// # Panics
///
/// Panics if called outside a runtime (see [`portico_rt::current`]).
pub async fn amap<A, I, M, F, T, E>(f: M, args: I) -> Result<Vec<T>, GroupError<E>>
where
    I: IntoIterator<Item = A>,
    M: FnMut(A) -> F,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    gather(args.into_iter().map(f)).await
}
