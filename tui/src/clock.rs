//! How the tables show a time: the time of day (UTC; the title bar says the day), or, on
//! request (`R`), the time since the start of the process's container, so a container's story
//! reads from its own zero.

use std::collections::HashMap;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::investigation::{Investigation, NodeId};
use dockwatch_shared::presentation::containers::containers;

use crate::timefilter::short_time;

/// The clock of the tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Clock {
    /// Times since the container's start instead of times of day.
    pub relative: bool,
    /// Each container's start (its first workload process's), by container id.
    starts: HashMap<String, Timestamp>,
}

impl Clock {
    /// The clock for `inv`, showing times of day.
    pub fn new(inv: &Investigation) -> Self {
        let starts = containers(inv)
            .into_iter()
            .filter_map(|c| c.start.map(|s| (c.id, s)))
            .collect();
        Self {
            relative: false,
            starts,
        }
    }

    /// `t`, a time of process `node`'s: since its container's start when relative (a process
    /// outside any container keeps its time of day).
    pub fn show(&self, inv: &Investigation, node: Option<NodeId>, t: Timestamp) -> String {
        let start = node
            .filter(|_| self.relative)
            .and_then(|n| inv.processes.get(n))
            .and_then(|p| p.container_id.as_deref())
            .and_then(|id| self.starts.get(id));
        match start {
            Some(s) => since(t.as_micros() - s.as_micros()),
            None => short_time(t),
        }
    }
}

/// A duration in microseconds as `+S.mmms`, `+MmSS.mmms` or `+HhMMmSSs` (`-` before the start).
fn since(micros: i64) -> String {
    let sign = if micros < 0 { '-' } else { '+' };
    let ms = micros.unsigned_abs() / 1_000;
    let (h, m, s, ms) = (
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000,
    );
    match (h, m) {
        (0, 0) => format!("{sign}{s}.{ms:03}s"),
        (0, m) => format!("{sign}{m}m{s:02}.{ms:03}s"),
        (h, m) => format!("{sign}{h}h{m:02}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    #[test]
    fn relative_times_count_from_the_container_s_start() {
        let inv = synthetic::demo();
        let mut clock = Clock::new(&inv);
        let grep = inv.processes.iter().position(|p| p.pid == 1422).unwrap();
        let t = inv.processes[grep].start.unwrap();
        assert_eq!(clock.show(&inv, Some(grep), t), short_time(t));
        clock.relative = true;
        // The batch job's container started with its sh at 10:02:00.300; grep at .400.
        assert_eq!(clock.show(&inv, Some(grep), t), "+0.100s");
        let dockerd = inv.processes.iter().position(|p| p.pid == 812).unwrap();
        assert_eq!(
            clock.show(&inv, Some(dockerd), t),
            short_time(t),
            "no container"
        );
        assert_eq!(since(61_250_000), "+1m01.250s");
        assert_eq!(since(-5_000), "-0.005s");
        assert_eq!(since(3_725_000_000), "+1h02m05s");
    }
}
