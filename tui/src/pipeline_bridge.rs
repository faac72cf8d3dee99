//! The one place the investigator calls the filter pipeline (`dockwatch_shared::pipeline`):
//! events of one (host, boot) in, an [`Investigation`] out, with progress per step.
//!
//! Until the pipeline is part of this build, this reports that plainly instead of guessing.

use dockwatch_shared::investigation::Investigation;

use crate::event::JobMsg;
use crate::loader::{Failure, FailureKind, ReadEvents};

/// Runs the pipeline on the events; also returns warnings for the status line.
pub fn investigate(
    read: ReadEvents,
    _report: &(dyn Fn(JobMsg) + Sync),
) -> Result<(Investigation, Vec<String>), Failure> {
    Err(Failure {
        kind: FailureKind::NotAvailable,
        detail: format!(
            "read {} events of host {} boot {} ({} skipped), but this build has no filter \
             pipeline to turn them into a process tree",
            read.events.len(),
            read.host,
            read.boot_id,
            read.skipped
        ),
        hint: "Build dockwatch-tui from a revision that includes dockwatch_shared::pipeline; \
               meanwhile `dockwatch-tui --demo` shows the interface."
            .to_owned(),
    })
}
