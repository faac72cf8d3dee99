//! Live recording: wires the kernel readers, the recorder thread and the output stage together,
//! and runs the life cycle (start-up checks, signals, orderly shutdown that restores the
//! kernel's audit state).
//!
//! Threads: one per kernel socket (process connector, audit records, see `readers.rs`) and the
//! recorder thread; they and the periodic duties (`housekeeping.rs`: the recorder's tick, the
//! kernel's lost counter, the local database's exclusion, the status line) feed one bounded
//! queue, so a slow consumer makes the kernel sockets overflow (recorded as gaps) instead of
//! stalling audited processes. The output stage, the Docker lookups and the duties run on a
//! small tokio runtime. One cancellation token stops them all.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::enrich::docker::{DOCKER_SOCKET, DockerLookup};
use crate::enrich::proc_info::{ProcReader, pids_listening_on};
use crate::enrich::snapshot;
use crate::kernel::audit_netlink::{AuditReader, AuditSession, SessionConfig};
use crate::kernel::connector::{Connector, ConnectorReader};
use crate::output::sink::{self, CaptureOut, EventStore, SinkConfig, SinkStats, Stamper};
use crate::recording::audit::Counters;
use crate::recording::recorder::{HostIdentity, Input, Recorder, audit_decoder, container_of};
use anyhow::{Context, Result, bail};
use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{Event, EventKind, Gap, GapReason, Pid, Source};
use dockwatch_shared::storage::capture::{CaptureError, CaptureWriter};
use dockwatch_shared::storage::output::OutputPolicy;
use dockwatch_shared::storage::store::{MongoAddress, Store, StoreConfig, StoreError};
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

mod housekeeping;
mod readers;

/// What the command line asked for.
#[derive(Debug)]
pub struct Config {
    /// The database, unless only a capture file is written.
    pub database: Option<MongoAddress>,
    /// Raw event database name.
    pub db: String,
    /// The capture file to write the events to (`--write`), beside or instead of the database.
    pub write: Option<PathBuf>,
    /// Bytes of events held in memory while the database is away; beyond, events go to the
    /// capture only and a gap says how many.
    pub backlog: u64,
    /// Kernel audit backlog limit.
    pub kernel_backlog: u32,
    /// Multicast (beside auditd).
    pub multicast: bool,
    /// A file for every raw audit record and connector message as received (`--diag`).
    pub diag: Option<PathBuf>,
    /// How the capture and raw record files are created.
    pub output: OutputPolicy,
    /// Seconds between status lines on stderr (`--status-interval`); none when absent or 0.
    pub status_interval: Option<u64>,
    /// How much to log: 0 warnings, 1 info, 2 debug, more trace (`-v` given that often).
    pub verbose: u8,
}

/// The kernel's audit backlog wait time we set (jiffies): 0, so an audited task never waits
/// when the kernel queue is full (the default makes it sleep up to 60 s, stalling containers).
/// The record is dropped instead, the kernel's `lost` counter rises, and godo records a gap. A
/// large backlog limit (`--kernel-backlog`) and a dedicated reader thread keep that rare.
const BACKLOG_WAIT_TIME: u32 = 0;
/// Receive buffer of each kernel socket (`SO_RCVBUFFORCE`).
const SOCKET_BUFFER: usize = 64 << 20;
/// Inputs queued between the readers and the recorder thread.
const INPUT_QUEUE: usize = 65_536;
/// Container lookups waiting for the Docker API at most; more are recorded without names.
const CONTAINER_LOOKUPS: usize = 1024;
/// Coalesced writes are flushed every this many seconds.
const WRITE_FLUSH_SECS: u64 = 2;

struct MongoSink {
    config: StoreConfig,
    store: Option<Store>,
}

impl EventStore for MongoSink {
    type Error = StoreError;

    async fn insert(&mut self, events: &[Event]) -> Result<(), StoreError> {
        let store = match &mut self.store {
            Some(store) => store,
            unconnected => {
                let store = Store::connect(&self.config).await?;
                tracing::info!("connected to MongoDB at {}", self.config.address.display());
                unconnected.insert(store)
            }
        };
        store.insert_events(events).await.map(|_| ())
    }

    async fn close(self) {
        if let Some(store) = self.store {
            // Bounded: the events are stored by now, and a server gone away must not hold up
            // the exit.
            let _ = tokio::time::timeout(Duration::from_secs(5), store.shutdown()).await;
        }
    }
}

struct CaptureFile(CaptureWriter);

impl CaptureOut for CaptureFile {
    fn write_batch(&mut self, events: &[Event]) -> Result<(), CaptureError> {
        self.0.write_batch(events)
    }
    fn finish(self: Box<Self>) -> Result<(), CaptureError> {
        self.0.finish()
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("dockwatch_listener={level},godo={level}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The local port of the database when it runs on this host (its server is excluded from audit):
/// the first server the address names, as the driver parses it.
fn local_db_port(db: &MongoAddress) -> Option<u16> {
    let (host, port) = db.tcp_servers().ok()?.into_iter().next()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let local = matches!(host, "127.0.0.1" | "localhost" | "::1" | "0.0.0.0")
        || std::fs::read_to_string("/proc/sys/kernel/hostname").is_ok_and(|h| h.trim() == host);
    local.then_some(port)
}

fn gap(
    id: &HostIdentity,
    source: Source,
    reason: GapReason,
    lost: Option<u64>,
    from: Timestamp,
    detail: String,
) -> Event {
    let now = Timestamp::now();
    Event {
        host: id.host.clone(),
        boot_id: id.boot_id.clone(),
        run: String::new(),
        seq: 0,
        time: now,
        source,
        audit: None,
        kind: EventKind::Gap(Gap {
            reason,
            lost,
            from,
            to: now,
            detail: Some(detail),
        }),
    }
}

/// Runs godo until SIGINT/SIGTERM.
pub fn run(cfg: Config) -> Result<()> {
    init_tracing(cfg.verbose);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "godo must run as root: it installs kernel audit rules, becomes the audit daemon and listens to the \
             process connector. Run it with sudo, or as the systemd service in assets/godo.service."
        );
    }
    let id = HostIdentity::detect();
    let run_id = sink::new_run_id();
    tracing::info!(host = %id.host, boot_id = %id.boot_id, run = %run_id, "starting");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("godo-io")
        .build()
        .context("starting the async runtime")?;

    let capture: Option<Box<dyn CaptureOut>> = match &cfg.write {
        Some(p) => Some(Box::new(CaptureFile(
            CaptureWriter::create_with(p, cfg.output, &[])
                .with_context(|| format!("creating the capture file {}", p.display()))?,
        ))),
        None => None,
    };
    let store = cfg.database.as_ref().map(|d| {
        let mut c = StoreConfig::with_address(d.clone());
        c.raw_db.clone_from(&cfg.db);
        MongoSink {
            config: c,
            store: None,
        }
    });
    let diag = match &cfg.diag {
        Some(p) => Some(
            dockwatch_shared::storage::output::create(p, cfg.output, &[])
                .with_context(|| format!("creating the diag file {}", p.display()))?,
        ),
        None => None,
    };

    // Who not to audit: godo, and a database server on this host.
    let mut exclude: Vec<Pid> = vec![std::process::id() as Pid];
    let db_port = cfg.database.as_ref().and_then(local_db_port);
    let mut server = Vec::new();
    if let Some(port) = db_port {
        server = pids_listening_on(port);
        server.sort_unstable();
        tracing::info!(?server, port, "not auditing the local database server");
        exclude.extend(&server);
    }

    // Subscribe to the connector before the snapshot, so no process falls between the two.
    let connector = Connector::subscribe(SOCKET_BUFFER)
        .context("subscribing to the process connector (needs root and CONFIG_PROC_EVENTS)")?;
    let audit_reader =
        AuditReader::open(cfg.multicast, SOCKET_BUFFER).context("opening the audit socket")?;
    let session = AuditSession::start(
        &SessionConfig {
            multicast: cfg.multicast,
            backlog_limit: cfg.kernel_backlog,
            backlog_wait_time: BACKLOG_WAIT_TIME,
            exclude_pids: exclude.iter().map(|&p| p as u32).collect(),
        },
        &audit_reader,
    )
    .context("setting up kernel audit")?;
    tracing::info!(
        rules = session.rules_installed(),
        multicast = cfg.multicast,
        "audit rules installed"
    );
    let session = Arc::new(Mutex::new(Some(session)));

    let procs = ProcReader::new();
    let snap = snapshot::take(&procs, &id, Timestamp::now());
    let mut conn_reader = ConnectorReader::new(id.clone(), procs);
    for ev in &snap {
        if let EventKind::Snapshot(s) = &ev.kind {
            let container = container_of(ev)
                .zip(s.process.container_id_from)
                .map(|(cid, from)| (cid.to_string(), from));
            conn_reader.know_process(s.tgid, container);
        }
    }
    tracing::info!(processes = snap.len(), "start-up snapshot taken");

    let cancel = CancellationToken::new();
    let (in_tx, in_rx) = sync_channel::<Input>(INPUT_QUEUE);
    in_tx
        .send(Input::Events(snap))
        .context("queueing the snapshot")?;
    let (sink_tx, sink_rx) = tokio::sync::mpsc::channel::<Vec<Event>>(1024);
    let (cid_tx, cid_rx) = tokio::sync::mpsc::channel::<String>(CONTAINER_LOOKUPS);
    let stats = Arc::new(SinkStats::default());
    let kernel_lost = Arc::new(AtomicU64::new(0));
    let audit_overflows = Arc::new(AtomicU64::new(0));

    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    readers.push(spawn("godo-connector", {
        let (tx, cancel, id) = (in_tx.clone(), cancel.clone(), id.clone());
        move || readers::connector_loop(connector, conn_reader, tx, cancel, id)
    })?);
    readers.push(spawn("godo-audit", {
        let (tx, cancel, id) = (in_tx.clone(), cancel.clone(), id.clone());
        let overflows = audit_overflows.clone();
        move || readers::audit_loop(audit_reader, tx, cancel, id, overflows)
    })?);

    let recorder = Recorder::new(
        audit_decoder(&id),
        exclude.iter().copied().collect::<HashSet<Pid>>(),
        WRITE_FLUSH_SECS,
        diag,
    );
    let handler = std::thread::Builder::new()
        .name("godo-recorder".into())
        .spawn(move || recorder_loop(recorder, in_rx, sink_tx, cid_tx))
        .context("starting thread godo-recorder")?;

    let sink_cfg = SinkConfig {
        backlog_bytes: cfg.backlog as usize,
        ..SinkConfig::default()
    };
    let sink_task = rt.spawn(sink::run(
        sink_rx,
        Stamper::new(run_id.clone()),
        store,
        capture,
        sink_cfg,
        stats.clone(),
    ));
    rt.spawn(docker_loop(
        DockerLookup::connect(DOCKER_SOCKET, id.clone()),
        cid_rx,
        in_tx.clone(),
        cancel.clone(),
    ));
    let lost = match housekeeping::LostCounter::open(id.clone(), kernel_lost.clone()) {
        Ok(counter) => Some(counter),
        Err(e) => {
            tracing::error!("cannot poll the audit lost counter: {e}");
            None
        }
    };
    let chores = housekeeping::Housekeeping {
        recorder: in_tx.clone(),
        lost,
        exclusion: db_port.map(|port| housekeeping::DatabaseExclusion {
            port,
            server,
            session: session.clone(),
        }),
        status: cfg
            .status_interval
            .filter(|&s| s > 0)
            .map(|secs| housekeeping::StatusLine {
                every: Duration::from_secs(secs),
                stats: stats.clone(),
                lost: kernel_lost.clone(),
            }),
    };
    let chores = rt.spawn(housekeeping::run(chores, cancel.clone()));

    // Wait for the first signal; a second one restores the audit state and exits at once.
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        tracing::info!("signal received: stopping");
        let session = session.clone();
        tokio::spawn(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            eprintln!("godo: second signal: restoring audit settings and exiting now");
            if let Some(s) = session.lock().ok().and_then(|mut g| g.take()) {
                let _ = s.restore();
            }
            std::process::exit(130);
        });
        Ok::<(), std::io::Error>(())
    })
    .context("waiting for signals")?;

    cancel.cancel();
    for r in readers {
        let _ = r.join();
    }
    let _ = rt.block_on(chores);
    // The readers are stopped: take our rules out and put the audit settings back. The lock is
    // held while restoring, so a second signal waits for it instead of exiting half-way.
    let restore = session
        .lock()
        .ok()
        .and_then(|mut g| g.take().map(|s| s.restore()));
    let _ = in_tx.send(Input::Stop);
    drop(in_tx);
    let audit = handler.join().unwrap_or_default();
    let summary = rt.block_on(sink_task).context("the output stage failed")?;
    tracing::info!(?summary, ?audit, "stopped");
    if cfg.status_interval.is_some() {
        // One plain line for scripts (the benchmark counts kernel events with it).
        eprintln!(
            "godo: at exit: {} events written; audit {} records in {} kernel events, {} serials missing; \
             lost {} (kernel counter) {} (socket overflows) {} (backlog full)",
            summary.accepted,
            audit.records,
            audit.assembled,
            audit.lost_serials,
            kernel_lost.load(Ordering::Relaxed),
            audit_overflows.load(Ordering::Relaxed),
            summary.dropped,
        );
    }
    if summary.unstored > 0 {
        eprintln!(
            "godo: {} events could not be stored in the database before exit{}",
            summary.unstored,
            if cfg.write.is_some() {
                " (the capture file has them)"
            } else {
                ""
            }
        );
    }
    if let Some(e) = summary.capture_error {
        eprintln!(
            "godo: the capture file is incomplete: {}",
            dockwatch_shared::presentation::sanitize::message_for_terminal(&e.to_string())
        );
    }
    if let Some(Err(e)) = restore {
        bail!(
            "the audit state could not be fully restored: {e}; check `auditctl -l` and `auditctl -s`"
        );
    }
    Ok(())
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .with_context(|| format!("starting thread {name}"))
}

/// How long the readers and the recorder thread wait between draining rounds while their
/// input keeps coming.
///
/// Every datagram that reaches a socket a reader is blocked on, and every input a sender puts
/// into an empty queue while the recorder is blocked on it, costs a thread wake-up (a context
/// switch, and futex calls on both sides of a queue): at tens of thousands a second that was
/// a fifth of godo's CPU. So each of them blocks only when its input has been empty for a
/// round; while input keeps coming it drains what is there, sleeps this long and drains again
/// (the socket buffers and the queue hold far more than arrives in that time), and nobody
/// wakes it. The cost is at most this much latency; a full batch is handed on at once.
const DRAIN_PAUSE: Duration = Duration::from_millis(2);

fn recorder_loop(
    mut rec: Recorder,
    rx: Receiver<Input>,
    sink: tokio::sync::mpsc::Sender<Vec<Event>>,
    cids: tokio::sync::mpsc::Sender<String>,
) -> Counters {
    let mut new_cids = Vec::new();
    let mut out = Vec::new();
    let mut last_send = Instant::now();
    let mut busy = false;
    'run: loop {
        if busy {
            std::thread::sleep(DRAIN_PAUSE);
            busy = false;
        } else {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Input::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(input) => {
                    rec.handle(input, &mut out, &mut new_cids);
                    busy = true;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        loop {
            match rx.try_recv() {
                Ok(Input::Stop) | Err(TryRecvError::Disconnected) => break 'run,
                Ok(input) => {
                    rec.handle(input, &mut out, &mut new_cids);
                    busy = true;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        for c in new_cids.drain(..) {
            if let Err(TrySendError::Full(c)) = cids.try_send(c) {
                tracing::warn!(
                    "too many container lookups waiting; container {c} recorded without its name"
                );
            }
        }
        // Batch what is ready: at most 1000 events, at most 100 ms old.
        if out.len() >= 1000
            || (!out.is_empty() && last_send.elapsed() >= Duration::from_millis(100))
        {
            if sink.blocking_send(std::mem::take(&mut out)).is_err() {
                return rec.audit_counters();
            }
            last_send = Instant::now();
        }
    }
    // Drain what was queued before the stop, then finish.
    while let Ok(input) = rx.try_recv() {
        if !matches!(input, Input::Stop) {
            rec.handle(input, &mut out, &mut new_cids);
        }
    }
    rec.finish(&mut out);
    if !out.is_empty() {
        let _ = sink.blocking_send(out);
    }
    rec.audit_counters()
}

/// Looks up the containers the recorder names, and hands their names and images to it.
async fn docker_loop(
    mut lookup: DockerLookup,
    mut rx: tokio::sync::mpsc::Receiver<String>,
    tx: SyncSender<Input>,
    cancel: CancellationToken,
) {
    loop {
        let cid = tokio::select! {
            () = cancel.cancelled() => return,
            cid = rx.recv() => match cid {
                Some(cid) => cid,
                None => return,
            },
        };
        if let Some(ev) = lookup.lookup(&cid).await {
            if tx.try_send(Input::Events(vec![ev])).is_err() {
                tracing::warn!("recorder queue full; container {cid} recorded without its name");
            }
        }
    }
}

#[cfg(test)]
mod tests;
