//! The kernel socket readers, one thread each: they drain their socket in batches and hand the
//! batches to the recorder's queue, until the recording is cancelled.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{GapReason, Source};
use tokio_util::sync::CancellationToken;

use super::{DRAIN_PAUSE, gap};
use crate::kernel::audit_netlink::{AuditReader, RECORD_SLOT, RecordBatch};
use crate::kernel::connector::{Connector, ConnectorReader};
use crate::kernel::netlink::Received;
use crate::recording::recorder::{HostIdentity, Input};

/// Connector datagrams taken in one go before their events are handed to the recorder (see
/// [`AUDIT_BATCH`]).
const CONNECTOR_BATCH: usize = 64;
/// Room for one connector datagram (a `proc_event` with its headers is under 100 bytes).
const CONNECTOR_SLOT: usize = 512;

pub(super) fn connector_loop(
    c: Connector,
    mut r: ConnectorReader,
    tx: SyncSender<Input>,
    cancel: CancellationToken,
    _id: HostIdentity,
) {
    let mut buf = vec![0u8; 65536];
    // As the audit reader: rounds DRAIN_PAUSE apart while forks keep coming.
    let mut pause = false;
    let mut many = vec![0u8; 32 * CONNECTOR_SLOT];
    let mut lens = Vec::new();
    while !cancel.is_cancelled() {
        let mut out = Vec::with_capacity(2 * CONNECTOR_BATCH);
        let mut taken = 0;
        if pause {
            std::thread::sleep(DRAIN_PAUSE);
        } else {
            match c.recv(&mut buf) {
                Ok(Received::Datagram(n)) => {
                    r.handle(&buf[..n], &mut out);
                    taken += 1;
                }
                Ok(Received::Overflow) => out.push(r.overflow_gap()),
                // Quiet for a while: no exec is coming for the held name changes.
                Ok(Received::Timeout) => r.flush(&mut out),
                Err(e) => {
                    tracing::error!("process connector read failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        // What the socket already holds goes in the same hand-over, taken in few calls.
        while taken < CONNECTOR_BATCH {
            match c.try_recv_many(&mut many, CONNECTOR_SLOT, &mut lens) {
                Ok(Received::Datagram(n)) => {
                    for (i, &len) in lens.iter().enumerate() {
                        let at = i * CONNECTOR_SLOT;
                        r.handle(&many[at..at + len], &mut out);
                    }
                    taken += n;
                }
                Ok(Received::Overflow) => out.push(r.overflow_gap()),
                Ok(Received::Timeout) | Err(_) => break,
            }
        }
        pause = taken > 0 && taken < CONNECTOR_BATCH;
        if !out.is_empty() && tx.send(Input::Events(out)).is_err() {
            return;
        }
    }
    let mut out = Vec::new();
    r.flush(&mut out);
    if !out.is_empty() {
        let _ = tx.send(Input::Events(out));
    }
}

/// Audit records handed to the recorder in one message at most: after each wake-up the reader
/// drains what the socket already holds, so a busy stream costs one queue hand-over (and one
/// thread wake-up) per batch instead of per record.
const AUDIT_BATCH: usize = 256;

pub(super) fn audit_loop(
    r: AuditReader,
    tx: SyncSender<Input>,
    cancel: CancellationToken,
    id: HostIdentity,
    overflows: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 1 << 16];
    let overflow_gap = || {
        let now = Timestamp::now();
        gap(
            &id,
            Source::Audit,
            GapReason::SocketOverflow,
            None,
            now,
            "audit socket overflowed (ENOBUFS)".into(),
        )
    };
    // While records keep coming, the reader drains the socket in rounds DRAIN_PAUSE apart
    // instead of being woken by each datagram (see DRAIN_PAUSE); a full batch goes on at once.
    let mut pause = false;
    let mut many = vec![0u8; 32 * RECORD_SLOT];
    let mut lens = Vec::new();
    while !cancel.is_cancelled() {
        let mut batch = RecordBatch::with_capacity(AUDIT_BATCH);
        let mut overflowed = false;
        if pause {
            std::thread::sleep(DRAIN_PAUSE);
        } else {
            match r.recv(&mut buf) {
                Ok(Ok(Some(rec))) => batch.push(rec),
                Ok(Ok(None)) => continue,
                Ok(Err(_overflow)) => overflowed = true,
                Err(e) => {
                    tracing::error!("audit read failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            }
        }
        while !overflowed && batch.len() < AUDIT_BATCH {
            match r.try_recv_many(&mut many, &mut lens, &mut batch) {
                Ok(Ok(0)) => break,
                Ok(Ok(_)) => {}
                Ok(Err(_overflow)) => overflowed = true,
                // An error the next blocking read reports: hand on what we have.
                Err(_) => break,
            }
        }
        pause = !batch.is_empty() && batch.len() < AUDIT_BATCH;
        if !batch.is_empty() && tx.send(Input::Audit(batch)).is_err() {
            return;
        }
        if overflowed {
            overflows.fetch_add(1, Ordering::Relaxed);
            if tx.send(Input::Events(vec![overflow_gap()])).is_err() {
                return;
            }
        }
    }
}
