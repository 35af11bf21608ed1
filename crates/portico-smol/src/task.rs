//! Spawning onto async-executor.

use async_executor::Executor;
use portico_rt::adapter::{RawJoin, RawTask};

pub(crate) fn spawn(executor: &Executor<'static>, task: RawTask) -> RawJoin {
    // async-executor spawns with `propagate_panic`.
    RawJoin::from_async_task(executor.spawn(task))
}

/// async-task's handle, detached at once: no join handle to box.
pub(crate) fn spawn_detached(executor: &Executor<'static>, task: RawTask) {
    executor.spawn(task).detach();
}
