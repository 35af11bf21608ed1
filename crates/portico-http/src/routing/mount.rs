//! Mounts: a service (another application, static files, any async function) that answers
//! every request under a path prefix.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::response::{BoxFuture, IntoResponse, Reply};
use crate::running::Running;

/// A service mounted at a path prefix.
pub(crate) struct Mount {
    pub(crate) prefix: String,
    /// Its name for `url_for`, if it has one.
    pub(crate) name: Option<String>,
    pub(crate) service: MountService,
    /// What a mounted application has running, stopped with the one it is mounted in.
    pub(crate) running: Option<Running>,
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("prefix", &self.prefix)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A mounted service, type-erased.
pub(crate) type MountService = Arc<dyn Fn(crate::Request) -> BoxFuture<Reply> + Send + Sync>;

/// A service ready to be mounted, as [`IntoMount`] makes it.
#[doc(hidden)]
pub struct Mounted(pub(crate) MountService, pub(crate) Option<Running>);

impl fmt::Debug for Mounted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mounted").finish_non_exhaustive()
    }
}

/// What [`Router::mount`](crate::Router::mount) and [`App::mount`](crate::App::mount) accept:
/// an [`App`](crate::App) (built when mounted), an [`AppService`](crate::AppService),
/// [`StaticFiles`](crate::StaticFiles), or an async function from
/// [`Request`](crate::Request) to something [`IntoResponse`].
pub trait IntoMount<M> {
    /// The service, type-erased.
    #[doc(hidden)]
    fn into_mount(self) -> Mounted;
}

/// The marker of applications mounted in others.
#[doc(hidden)]
#[derive(Debug)]
pub enum MountApp {}

/// The marker of functions mounted as services.
#[doc(hidden)]
#[derive(Debug)]
pub enum MountFn {}

impl<F, Fut, R> IntoMount<MountFn> for F
where
    F: Fn(crate::Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn into_mount(self) -> Mounted {
        Mounted(
            Arc::new(move |request| {
                let fut = self(request);
                Box::pin(async move { fut.await.into_reply() }) as BoxFuture<Reply>
            }),
            None,
        )
    }
}
