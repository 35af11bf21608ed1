//! What `#[portico::handler]` records of a function: its name and doc comment, found again by
//! the function's type when a route uses it.

use std::any::TypeId;

/// A handler's name and doc comment, recorded by `#[portico::handler]` and found again by the
/// function's type when a route uses the function: the name gives the operation's default
/// `operationId`, summary and name for `url_for`; the doc comment becomes the description (as
/// FastAPI's docstring does).
#[derive(Debug)]
pub struct HandlerDoc {
    type_id: fn() -> TypeId,
    name: &'static str,
    doc: &'static str,
}

impl HandlerDoc {
    /// The record of the function whose type `type_id` gives, named `name`.
    #[doc(hidden)]
    pub const fn new(type_id: fn() -> TypeId, name: &'static str, doc: &'static str) -> Self {
        HandlerDoc { type_id, name, doc }
    }
}

inventory::collect!(HandlerDoc);

/// The type of a value: how `#[portico::handler]` names a function's type, which cannot be
/// written.
#[doc(hidden)]
pub fn type_id_of<T: 'static>(_: &T) -> TypeId {
    TypeId::of::<T>()
}

/// The name and doc comment (if not empty) recorded for the function of type `id`. Looked up
/// once per route, when the application is built.
pub(crate) fn recorded(id: TypeId) -> Option<(&'static str, Option<&'static str>)> {
    inventory::iter::<HandlerDoc>
        .into_iter()
        .find(|entry| (entry.type_id)() == id)
        .map(|entry| (entry.name, Some(entry.doc).filter(|doc| !doc.is_empty())))
}
