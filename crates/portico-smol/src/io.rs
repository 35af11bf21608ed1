//! A non-blocking socket and its registration for readiness: with the adapter's own reactor on
//! Linux ([`crate::reactor`]), with async-io elsewhere (or if the reactor could not start).

use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use async_io::Async;

#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::reactor::{Direction, Reactor, Registration};

/// A non-blocking socket, registered for readiness.
pub(crate) struct Registered<T: AsFd> {
    inner: Inner<T>,
}

enum Inner<T: AsFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Own { registration: Registration, io: T },
    AsyncIo {
        io: Async<T>,
        /// The last read left nothing behind: wait for the reactor before the next one.
        drained: AtomicBool,
    },
}

impl<T: AsFd> Registered<T> {
    /// Makes `io` non-blocking and registers it.
    pub(crate) fn new(io: T) -> io::Result<Self> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(reactor) = Reactor::get() {
            rustix::io::ioctl_fionbio(&io, true)?;
            let registration = reactor.register(io.as_fd())?;
            return Ok(Registered {
                inner: Inner::Own { registration, io },
            });
        }
        Ok(Registered {
            inner: Inner::AsyncIo {
                io: Async::new(io)?,
                drained: AtomicBool::new(false),
            },
        })
    }

    /// A socket connected by async-io, moved to this registration.
    pub(crate) fn from_async(io: Async<T>) -> io::Result<Self> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if Reactor::get().is_some() {
            return Registered::new(io.into_inner()?);
        }
        Ok(Registered {
            inner: Inner::AsyncIo {
                io,
                drained: AtomicBool::new(false),
            },
        })
    }

    pub(crate) fn get_ref(&self) -> &T {
        match &self.inner {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Inner::Own { io, .. } => io,
            Inner::AsyncIo { io, .. } => io.get_ref(),
        }
    }

    /// Runs `op` once the socket may be readable, until it does not fail with `EAGAIN`.
    ///
    /// `drained` says, of a successful result, that the socket has most likely nothing left to
    /// read (a short read): the next call then waits for the reactor first rather than make a
    /// system call bound to fail with `EAGAIN`. No data is missed: readiness that arrives
    /// meanwhile is recorded by the reactor.
    pub(crate) fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        match &self.inner {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Inner::Own { registration, io } => loop {
                let snapshot = ready!(registration.poll_ready(Direction::Read, cx));
                match op(io) {
                    Ok(done) => {
                        if drained(&done) {
                            registration.clear(Direction::Read, snapshot);
                        }
                        return Poll::Ready(Ok(done));
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        registration.clear(Direction::Read, snapshot);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Poll::Ready(Err(err)),
                }
            },
            Inner::AsyncIo { io, drained: flag } => loop {
                if flag.load(Ordering::Relaxed) {
                    ready!(io.poll_readable(cx))?;
                    flag.store(false, Ordering::Relaxed);
                }
                match op(io.get_ref()) {
                    Ok(done) => {
                        flag.store(drained(&done), Ordering::Relaxed);
                        return Poll::Ready(Ok(done));
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        flag.store(true, Ordering::Relaxed);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Poll::Ready(Err(err)),
                }
            },
        }
    }

    /// Runs `op` once the socket may be writable, until it does not fail with `EAGAIN`.
    pub(crate) fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        match &self.inner {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Inner::Own { registration, io } => loop {
                let snapshot = ready!(registration.poll_ready(Direction::Write, cx));
                match op(io) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        registration.clear(Direction::Write, snapshot);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    done => return Poll::Ready(done),
                }
            },
            Inner::AsyncIo { io, .. } => loop {
                match op(io.get_ref()) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        ready!(io.poll_writable(cx))?;
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    done => return Poll::Ready(done),
                }
            },
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl<T: AsFd> Drop for Registered<T> {
    fn drop(&mut self) {
        // Before the socket closes (the fields drop after this), so that its number, which the
        // system may give to the next socket, is no longer in the epoll instance.
        if let Inner::Own { registration, io } = &self.inner {
            registration.deregister(io.as_fd());
        }
    }
}
