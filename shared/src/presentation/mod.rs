//! What the analyst and scripts see.
//!
//! * [`report`]: the JSON export and the text report of an investigation;
//! * [`sanitize`]: making attacker-chosen text safe to show in a terminal;
//! * [`throttle`]: the pace of progress reports.

pub mod report;
pub mod sanitize;
pub mod throttle;
