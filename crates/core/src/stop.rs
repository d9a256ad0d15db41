//! Stopping a long job (an export) from outside: when whoever asked for it goes away, or when
//! its time budget is spent. The job polls [`StopToken::check`] between units of work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a job was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The requester went away (client disconnected, node stopping).
    Cancelled,
    /// The job ran past its budget (the budget given).
    OverBudget(Duration),
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Cancelled => f.write_str("cancelled: the requester went away"),
            Stopped::OverBudget(b) => write!(f, "stopped after its time budget of {} s", b.as_secs_f64()),
        }
    }
}

impl std::error::Error for Stopped {}

/// Shared between the job and whoever may stop it; clones see the same cancellation.
#[derive(Debug, Clone)]
pub struct StopToken {
    cancelled: Arc<AtomicBool>,
    deadline: Option<(Instant, Duration)>,
}

impl StopToken {
    /// A token that stops the job once `budget` has passed from now (or never, with `None`).
    pub fn new(budget: Option<Duration>) -> Self {
        Self { cancelled: Arc::new(AtomicBool::new(false)), deadline: budget.map(|b| (Instant::now() + b, b)) }
    }

    /// Never stops on its own; for callers with nobody to go away (tests, command line).
    pub fn never() -> Self {
        Self::new(None)
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// `Err` once cancelled or past the budget: the job should stop and undo what it started.
    pub fn check(&self) -> Result<(), Stopped> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(Stopped::Cancelled);
        }
        match self.deadline {
            Some((at, budget)) if Instant::now() >= at => Err(Stopped::OverBudget(budget)),
            _ => Ok(()),
        }
    }

    /// Cancels the token when dropped: held by an async request handler, it stops the blocking
    /// job as soon as the handler is dropped because its client disconnected.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// The same token: clones of one another.
impl PartialEq for StopToken {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.cancelled, &other.cancelled) && self.deadline == other.deadline
    }
}

/// See [`StopToken::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(StopToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_on_cancel_on_drop_and_after_the_budget() {
        let t = StopToken::never();
        assert_eq!(t.check(), Ok(()));
        drop(t.clone().cancel_on_drop());
        assert_eq!(t.check(), Err(Stopped::Cancelled));
        let b = StopToken::new(Some(Duration::from_millis(20)));
        assert_eq!(b.check(), Ok(()));
        std::thread::sleep(Duration::from_millis(25));
        assert_eq!(b.check(), Err(Stopped::OverBudget(Duration::from_millis(20))));
        assert_eq!(b.check().unwrap_err().to_string(), "stopped after its time budget of 0.02 s");
    }
}
