//! [`TaskGroup::soon`](super::TaskGroup::soon)(super::TaskGroup::soon): a child's value, read after the group.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

/// Splits `fut` into the value handle and the child that fills it.
pub(super) fn soon<T, E, F>(fut: F) -> (SoonValue<T>, impl Future<Output = Result<(), E>>)
where
    F: Future<Output = Result<T, E>>,
{
    let slot = Arc::new(OnceLock::new());
    let value = SoonValue { slot: slot.clone() };
    let child = async move {
        let result = fut.await?;
        let _ = slot.set(result);
        // The slot is released before the child reports its end, so the value is owned by the
        // `SoonValue` alone once the group has returned.
        drop(slot);
        Ok(())
    };
    (value, child)
}

/// The value of a child started with [`TaskGroup::soon`](super::TaskGroup::soon), readable once it has finished.
///
/// Read it after the group has returned: then it is there, unless the child was cancelled (and
/// the group returned an error). Reading it earlier is not a panic but a [`PendingValue`] error.
pub struct SoonValue<T> {
    slot: Arc<OnceLock<T>>,
}

impl<T: fmt::Debug> fmt::Debug for SoonValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SoonValue").field(&self.slot.get()).finish()
    }
}

impl<T> SoonValue<T> {
    /// Whether the child has produced its value.
    pub fn is_ready(&self) -> bool {
        self.slot.get().is_some()
    }

    /// The value, by reference.
    ///
    /// # Errors
    ///
    /// [`PendingValue`] if the child has not produced it (yet).
    pub fn get(&self) -> Result<&T, PendingValue> {
        self.slot.get().ok_or(PendingValue(()))
    }

    /// The value, by value.
    ///
    /// # Errors
    ///
    /// [`PendingValue`] if the child has not produced it, or is still finishing: call this
    /// after the group has returned.
    pub fn into_value(self) -> Result<T, PendingValue> {
        Arc::try_unwrap(self.slot)
            .ok()
            .and_then(OnceLock::into_inner)
            .ok_or(PendingValue(()))
    }
}

/// The error of reading a [`SoonValue`] whose child has not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingValue(());

impl fmt::Display for PendingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the task has not produced its value yet: read a SoonValue after its task group has \
             returned",
        )
    }
}

impl std::error::Error for PendingValue {}
