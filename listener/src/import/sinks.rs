//! Where imported events go: MongoDB (the store) and/or a capture file.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use dockwatch_shared::Event;
use dockwatch_shared::storage::capture::CaptureWriter;
use dockwatch_shared::storage::output::OutputPolicy;
use dockwatch_shared::storage::store::{MongoAddress, Store, StoreConfig};

use super::input::Logs;
use super::{BATCH, FILE_BATCH, ReadReport, read_log};
use crate::output::sink::Stamper;

/// Attempts per batch when MongoDB fails (a retried batch is never stored twice: event ids are
/// `run:seq`).
const ATTEMPTS: u32 = 3;

/// The outputs of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destinations {
    /// MongoDB server and database, when writing there.
    pub mongo: Option<(MongoAddress, String)>,
    /// Capture file, when writing one.
    pub write: Option<PathBuf>,
    /// How the capture file is created (`--force`, `--group-readable`).
    pub output: OutputPolicy,
}

impl Destinations {
    /// For the start-up line.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((t, db)) = &self.mongo {
            match t {
                MongoAddress::HostPort(h) => parts.push(format!("MongoDB {h} database {db}")),
                MongoAddress::Uri(_) => parts.push(format!("MongoDB (--uri) database {db}")),
            }
        }
        if let Some(w) = &self.write {
            parts.push(format!("capture file {}", w.display()));
        }
        parts.join(" and ")
    }
}

/// What an import did. Its text quotes the log (paths, parser errors): print it through
/// `message_for_terminal`.
#[derive(Debug)]
pub struct Summary {
    /// The logs, in reading order.
    path: String,
    read: ReadReport,
    written: u64,
    inserted: Option<(u64, u64)>,
    capture: Option<PathBuf>,
}

impl Summary {
    /// Why the log was imported only up to some point, when it was (see
    /// [`ReadReport::unreadable`]).
    pub fn unreadable(&self) -> Option<&str> {
        self.read.unreadable.as_deref()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.read.counters;
        writeln!(
            f,
            "godo: imported {}: {} lines, {} records in {} kernel events -> {} events ({} forks, {} gaps)",
            self.path, self.read.lines, c.records, c.assembled, c.events, c.forks, c.gaps
        )?;
        if let Some(why) = &self.read.unreadable {
            writeln!(
                f,
                "godo: a log could not be read to its end: {}. The events before that point are \
                 stored, with an input_unreadable gap there; the rest of that log is missing \
                 (a truncated or damaged file: `gzip -t` or `zstd -t` tells)",
                why
            )?;
        }
        if c.lost_serials > 0 {
            writeln!(
                f,
                "godo: {} audit serial numbers are missing from the log (recorded as gaps)",
                c.lost_serials
            )?;
        }
        if self.read.fd_tables_dropped > 0 {
            writeln!(
                f,
                "godo: the fd tables of {} processes were dropped (more than {} were kept); \
                 {} writes, closes and dups found no table for their process",
                self.read.fd_tables_dropped,
                super::MAX_FD_TABLES,
                self.read.without_fd_table
            )?;
        }
        if c.reboots > 0 {
            writeln!(
                f,
                "godo: the log spans {} reboots (the audit serial counter started again); the \
                 events after each have the boot id with -2, -3... appended",
                c.reboots
            )?;
        }
        if c.parse_errors > 0 {
            writeln!(
                f,
                "godo: {} lines could not be parsed (recorded as parse_error gaps); the first:",
                c.parse_errors
            )?;
            for e in &self.read.first_errors {
                writeln!(f, "godo:   {e}")?;
            }
        } else {
            writeln!(f, "godo: no parse errors")?;
        }
        if let Some((inserted, dups)) = self.inserted {
            writeln!(
                f,
                "godo: MongoDB: {inserted} events inserted, {dups} already there"
            )?;
        }
        if let Some(p) = &self.capture {
            writeln!(
                f,
                "godo: capture file {}: {} events",
                p.display(),
                self.written
            )?;
        }
        Ok(())
    }
}

fn store_config(target: &MongoAddress, db: &str) -> StoreConfig {
    let mut cfg = StoreConfig::with_address(target.clone());
    cfg.raw_db = db.to_owned();
    cfg
}

/// The logs' paths, for messages.
fn log_names(log: &Logs) -> String {
    let names: Vec<String> = log
        .paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    names.join(", ")
}

/// Reads the log on a thread of its own and writes its events, stamped, to the outputs.
pub async fn import_to(
    log: Logs,
    host: String,
    boot_id: String,
    mut stamper: Stamper,
    dest: Destinations,
) -> anyhow::Result<Summary> {
    let store =
        match &dest.mongo {
            Some((target, db)) => {
                // The store's error names the address and the cause; this says what else to do.
                let store = Store::connect(&store_config(target, db)).await.with_context(|| {
                format!(
                    "storing the import in database {db} (give --write FILE alone to import \
                     without a database)"
                )
            })?;
                store
                    .ensure_indexes()
                    .await
                    .context("creating the event indexes in MongoDB")?;
                Some(store)
            }
            None => None,
        };
    let mut capture = match &dest.write {
        Some(p) => Some(
            CaptureWriter::create_with(p, dest.output, &log.paths())
                .with_context(|| format!("creating the capture file {}", p.display()))?,
        ),
        None => None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Event>>(4);
    let path = log_names(&log);
    let reader = std::thread::Builder::new()
        .name("audit-log-reader".into())
        .spawn(move || {
            read_log(log, &host, &boot_id, true, BATCH, |b| {
                tx.blocking_send(b).is_ok()
            })
        })
        .context("starting the log reader thread")?;
    let mut written = 0u64;
    let (mut inserted, mut dups) = (0u64, 0u64);
    let mut failure = None;
    while let Some(mut batch) = rx.recv().await {
        stamper.stamp_all(&mut batch);
        if let Some(c) = capture.as_mut() {
            if let Err(e) = c.write_batch(&batch) {
                failure = Some(anyhow::Error::new(e).context("writing the capture file"));
                break;
            }
        }
        if let Some(store) = &store {
            match insert(store, &batch).await {
                Ok((i, d)) => {
                    inserted += i;
                    dups += d;
                }
                Err(e) => {
                    failure = Some(e.context(format!(
                        "writing to MongoDB after {written} events; the events before are stored"
                    )));
                    break;
                }
            }
        }
        written += batch.len() as u64;
    }
    drop(rx);
    let read = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the log reader thread panicked"))?;
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(c) = capture {
        c.finish().context("finishing the capture file")?;
    }
    Ok(Summary {
        path,
        read,
        written,
        inserted: store.as_ref().map(|_| (inserted, dups)),
        capture: dest.write.clone(),
    })
}

/// Reads the log and writes its events, stamped, to the capture file only (no database).
pub fn import_to_file(
    log: Logs,
    host: &str,
    boot_id: &str,
    mut stamper: Stamper,
    dest: &Destinations,
) -> anyhow::Result<Summary> {
    let Some(file) = &dest.write else {
        anyhow::bail!("no capture file to write (give --write FILE)");
    };
    let mut capture = CaptureWriter::create_with(file, dest.output, &log.paths())
        .with_context(|| format!("creating the capture file {}", file.display()))?;
    let mut written = 0u64;
    let mut failure = None;
    let path = log_names(&log);
    let read = read_log(log, host, boot_id, true, FILE_BATCH, |mut batch| {
        stamper.stamp_all(&mut batch);
        match capture.write_batch(&batch) {
            Ok(()) => {
                written += batch.len() as u64;
                true
            }
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    });
    if let Some(e) = failure {
        return Err(
            anyhow::Error::new(e).context(format!("writing the capture file {}", file.display()))
        );
    }
    capture.finish().context("finishing the capture file")?;
    Ok(Summary {
        path,
        read,
        written,
        inserted: None,
        capture: Some(file.clone()),
    })
}

async fn insert(store: &Store, batch: &[Event]) -> anyhow::Result<(u64, u64)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match store.insert_events(batch).await {
            Ok(r) => return Ok((r.inserted, r.duplicates)),
            Err(e) if attempt < ATTEMPTS => {
                eprintln!("godo: MongoDB insert failed ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
}
