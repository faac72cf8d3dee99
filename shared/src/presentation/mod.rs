//! What the analyst and scripts see.
//!
//! * [`containers`]: what each container did (its changed paths, with who and when);
//! * [`report`]: the JSON export and the text report of an investigation;
//! * [`sanitize`]: making attacker-chosen text safe to show in a terminal;
//! * [`throttle`]: the pace of progress reports.

pub mod containers;
pub mod report;
pub mod sanitize;
pub mod throttle;
