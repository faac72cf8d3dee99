//! The pace of progress reports: often enough to show that work goes on, seldom enough to cost
//! nothing and not to flood a screen or a log.
//!
//! Loops over events report progress every [`PROGRESS_EVERY`] items (a count, so the pure
//! pipeline stays free of clocks); the program that shows the reports passes them through a
//! [`Throttle`], which lets one through at most once per interval.

use std::time::{Duration, Instant};

/// Items a loop handles between two progress reports.
pub const PROGRESS_EVERY: u64 = 16_384;

/// True when a loop at item `i` should report progress.
pub fn progress_due(i: u64) -> bool {
    i % PROGRESS_EVERY == 0
}

/// Lets a report through at most once per interval (the first one always).
#[derive(Debug, Clone)]
pub struct Throttle {
    interval: Duration,
    last: Option<Instant>,
}

impl Throttle {
    /// A throttle that lets one report through per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
        }
    }

    /// True when a report is due now (and counts it as made).
    pub fn due(&mut self) -> bool {
        if self.last.is_some_and(|t| t.elapsed() < self.interval) {
            return false;
        }
        self.last = Some(Instant::now());
        true
    }

    /// Counts a report made now whatever the interval (a new stage, the last report).
    pub fn reset(&mut self) {
        self.last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_report_per_interval_and_the_first_at_once() {
        let mut t = Throttle::new(Duration::from_secs(3600));
        assert!(t.due());
        assert!(!t.due());
        let mut t = Throttle::new(Duration::ZERO);
        assert!(t.due() && t.due());
        assert!(progress_due(0) && progress_due(PROGRESS_EVERY) && !progress_due(1));
    }
}
