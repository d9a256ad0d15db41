//! Stopping the node: one [`Sender`] held by whoever decides (the signal handler, a test), any
//! number of [`Receiver`]s held by the threads and tasks that must stop (camera feeds, camera
//! workers, the config watcher, the audit checkpointer, the console server). Signalling, or
//! dropping the sender, wakes every receiver at once: blocked threads in [`Receiver::wait_for`],
//! async tasks awaiting [`Receiver::wait`], and the next [`Receiver::check`] of a loop.
//! Modelled on Moonfire NVR's `base/shutdown.rs`.

use parking_lot::{Condvar, Mutex};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Shutdown was requested: whoever got this should finish what it holds and return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownError;

impl std::fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("shutdown requested")
    }
}

impl std::error::Error for ShutdownError {}

#[derive(Default)]
struct Inner {
    /// Read without the lock by [`Receiver::check`], which loops call once per unit of work.
    requested: AtomicBool,
    /// Guards the wake-up: set under it, so that a waiter that saw `false` is always notified.
    lock: Mutex<Vec<Waker>>,
    cv: Condvar,
}

impl Inner {
    fn signal(&self) {
        let wakers = {
            let mut w = self.lock.lock();
            self.requested.store(true, Ordering::SeqCst);
            std::mem::take(&mut *w)
        };
        self.cv.notify_all();
        for w in wakers {
            w.wake();
        }
    }
}

/// Requests shutdown by [`Sender::signal`] or by being dropped (so a panic or an early return
/// of its owner also stops everything it started).
pub struct Sender(Arc<Inner>);

impl Sender {
    pub fn signal(&self) {
        self.0.signal();
    }

    pub fn receiver(&self) -> Receiver {
        Receiver(self.0.clone())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.signal();
    }
}

/// Learns of shutdown; clones see the same request.
#[derive(Clone)]
pub struct Receiver(Arc<Inner>);

/// A sender and its first receiver.
pub fn channel() -> (Sender, Receiver) {
    let inner = Arc::new(Inner::default());
    (Sender(inner.clone()), Receiver(inner))
}

impl Receiver {
    /// A receiver that is never signalled: for callers that stop only when their work ends
    /// (command-line tools, tests).
    pub fn never() -> Self {
        Receiver(Arc::new(Inner::default()))
    }

    /// `Err` once shutdown was requested.
    pub fn check(&self) -> Result<(), ShutdownError> {
        if self.0.requested.load(Ordering::SeqCst) {
            Err(ShutdownError)
        } else {
            Ok(())
        }
    }

    /// Blocks for `timeout` or until shutdown, whichever comes first: `Ok` after a full
    /// timeout, `Err` on shutdown (at once if it was already requested).
    pub fn wait_for(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.0.lock.lock();
        loop {
            self.check()?;
            if self.0.cv.wait_until(&mut guard, deadline).timed_out() {
                return self.check();
            }
        }
    }

    /// Resolves once shutdown was requested.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        Wait(self.0.clone())
    }
}

struct Wait(Arc<Inner>);

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut wakers = self.0.lock.lock();
        if self.0.requested.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_sender_wakes_a_blocked_waiter_at_once() {
        let (tx, rx) = channel();
        assert_eq!(rx.check(), Ok(()));
        let waiter = std::thread::spawn(move || {
            let t = Instant::now();
            (rx.wait_for(Duration::from_secs(30)), t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(tx);
        let (res, waited) = waiter.join().unwrap();
        assert_eq!(res, Err(ShutdownError));
        assert!(waited < Duration::from_secs(5), "woken, not timed out: {waited:?}");
    }

    #[test]
    fn a_full_wait_without_shutdown_is_ok_and_never_never_stops() {
        let (tx, rx) = channel();
        assert_eq!(rx.wait_for(Duration::from_millis(20)), Ok(()));
        tx.signal();
        assert_eq!(rx.clone().check(), Err(ShutdownError));
        assert_eq!(rx.wait_for(Duration::from_secs(30)), Err(ShutdownError), "already requested: no wait");
        assert_eq!(Receiver::never().wait_for(Duration::from_millis(10)), Ok(()));
    }

    #[test]
    fn the_future_resolves_on_signal() {
        struct Flag(AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let (tx, rx) = channel();
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = Box::pin(rx.wait());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        tx.signal();
        assert!(flag.0.load(Ordering::SeqCst), "the task was woken");
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    }
}
