#![doc = include_str!("../GUIDE.md")]
#![forbid(unsafe_code)]

mod cancel;
mod failure;
mod group;
mod limiter;
mod portal;
mod scope;
mod stream;
mod sync;
mod thread;
mod tracker;
mod unwind;

pub use cancel::{
    CancelScope, Scoped, Shielded, TimeoutError, current_effective_deadline, fail_after, fail_at,
    move_on_after, move_on_at, shield,
};
pub use failure::{Failure, GroupError, TaskPanic};
pub use group::{
    AsCompleted, Group, GroupClosed, KeepBodyValue, PendingValue, SoonFuture, SoonValue,
    StartError, TaskEnded, TaskGroup, TaskHandle, TaskStatus, amap, gather, task_group,
};
pub use limiter::{
    AlreadyBorrowing, Borrower, CapacityLimiter, LimiterPermit, LimiterStatistics, WouldBlock,
};
pub use portal::{BlockingPortal, BlockingPortalProvider, PortalError, PortalLease, PortalTask};
pub use scope::{Scope, ScopeFuture, scope};
pub use stream::{
    MemoryReceiver, MemorySender, RecvError, SendError, StreamStatistics, TryRecvError,
    TrySendError, memory_stream,
};
pub use sync::{
    Condition, ConditionStatistics, Event, EventStatistics, Lock, LockGuard, LockStatistics,
    Semaphore, SemaphoreGuard, SemaphoreGuardArc, SemaphoreStatistics,
};
pub use thread::{
    Cancelled, DEFAULT_THREAD_TOKENS, FromThreadError, ToThread, check_cancelled,
    default_thread_limiter, from_thread, thread_limiter, to_thread, to_thread_with,
};
pub use tracker::TaskTracker;
