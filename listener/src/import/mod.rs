//! `godo --audit-log FILE`: imports an auditd log (the `audit.log` of a host) instead of
//! listening to the kernel. No root needed.
//!
//! The log is read line by line (RAW or ENRICHED format; plain, gzip or zstd, detected from the
//! content), parsed and assembled by [`crate::recording::audit`], stamped with a run id and sequence numbers,
//! and written in batches to MongoDB and/or a capture file:
//!
//! * `--write FILE` alone writes only the capture file (no database is needed or contacted);
//! * `--mongo`/`--uri` given explicitly, or no `--write`, writes to MongoDB (`--db`, default
//!   `test`); with `--write` too, both get the same events.
//!
//! Identity of the imported events: `host` is the record's `node=` when auditd wrote one, else
//! `--host`, else the log's file name; `boot_id` is `--boot-id`, else derived from the file's
//! content (`audit-log-` and the first 32 hex digits of the SHA-256 of its first MiB, after
//! decompression), so importing the same file twice gives the same host and boot. A log that
//! spans reboots (the audit serial counter starts again) gives the events after the first
//! reboot that id with `-2` appended, after the second `-3`, and so on; the fd tables start
//! afresh at each.
//!
//! Lines that cannot be parsed are counted, the first few are reported at the end, and each
//! run of them is recorded as a `gap` event (`parse_error`); the import goes on.

pub mod identity;
mod importer;
pub mod input;
mod sinks;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use dockwatch_shared::Event;
use dockwatch_shared::presentation::sanitize::{for_terminal, message_for_terminal};
use dockwatch_shared::presentation::throttle::{Throttle, progress_due};

use crate::recording::audit::{Counters, ParseError, parse_log_line};
use dockwatch_shared::storage::lines::Line;
use input::Logs;

pub use importer::{Importer, MAX_FD_TABLES, WRITE_IDLE_MICROS};
pub use sinks::Destinations;

/// Events per batch written to the sinks: large enough for efficient MongoDB inserts, small
/// enough that the batches in flight stay around a megabyte.
pub const BATCH: usize = 500;
/// Events per batch written to a capture file alone: no round trips to amortise, so small
/// batches, which keep the event vector and the writer's buffer small.
pub const FILE_BATCH: usize = 64;
/// Parse errors quoted in the final report.
const QUOTED_ERRORS: usize = 5;
/// Files at least this large get a progress line (compressed files: an eighth of it).
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// The command-line options of the offline import (flattened into `godo`'s own).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ImportArgs {
    /// Import these auditd logs (RAW or ENRICHED; plain, .gz or .zst; a rotated set in any
    /// order: they are read in the order of their first records) instead of recording live.
    /// Needs no root. Writes to MongoDB, or only to the --write file when that is the only
    /// output given.
    #[arg(long, value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub audit_log: Vec<PathBuf>,
    /// Host name for imported records that carry no `node=` (default: the log's file name).
    #[arg(long, value_name = "NAME", requires = "audit_log")]
    pub host: Option<String>,
    /// Boot id for the imported events (default: derived from the log's content).
    #[arg(long, value_name = "ID", requires = "audit_log")]
    pub boot_id: Option<String>,
}

/// What reading a log produced.
#[derive(Clone, Debug, Default)]
pub struct ReadReport {
    /// Lines read (empty lines included).
    pub lines: u64,
    /// The assembler's counters at the end.
    pub counters: Counters,
    /// The first parse errors, with their line numbers.
    pub first_errors: Vec<String>,
    /// fd tables dropped because too many processes were kept ([`MAX_FD_TABLES`]).
    pub fd_tables_dropped: u64,
    /// Writes, closes and dups of a process without an fd table.
    pub without_fd_table: u64,
    /// Why the log could not be read to its end (a truncated or corrupt file), when it could
    /// not. Everything before that point was imported, with an `input_unreadable` gap there.
    pub unreadable: Option<String>,
}

/// Reads whole logs and turns them into events with an [`Importer`], handing them (unstamped)
/// to `emit` in order, `batch` at a time. `emit` returns `false` to stop early (its receiver
/// went away). A log that cannot be read to its end (a truncated `.gz`, a disk error) still
/// gives every event before that point, with an `input_unreadable` gap there, and the logs
/// after it are read; [`ReadReport::unreadable`] says why it stopped.
pub fn read_log(
    mut logs: Logs,
    host: &str,
    boot_id: &str,
    progress: bool,
    batch: usize,
    mut emit: impl FnMut(Vec<Event>) -> bool,
) -> ReadReport {
    let batch = batch.max(1);
    let several = logs.len() > 1;
    let mut import = Importer::new(host, boot_id);
    let mut report = ReadReport::default();
    let mut line = Vec::with_capacity(16 * 1024);
    let mut out = Vec::with_capacity(batch);
    let min = match logs.compression() {
        input::Compression::Plain => PROGRESS_MIN_BYTES,
        _ => PROGRESS_MIN_BYTES / 8,
    };
    let show = progress && logs.file_len() >= min;
    let mut meter = Progress::new(show);
    // Where a line is: its number, and its log's name when there are several.
    let at = |logs: &Logs| {
        let (path, n) = logs.position();
        match path.filter(|_| several) {
            Some(p) => format!("{} line {n}", p.display()),
            None => format!("line {n}"),
        }
    };
    loop {
        let here = at(&logs);
        match logs.next_line(&mut line) {
            Ok(Line::Read) => {}
            Ok(Line::End) => break,
            Ok(Line::TooLong { len }) => {
                report.lines += 1;
                let e = ParseError::TooLong(usize::try_from(len).unwrap_or(usize::MAX));
                if report.first_errors.len() < QUOTED_ERRORS {
                    report.first_errors.push(format!("{here}: {e}"));
                }
                import.parse_error(&e, here);
                continue;
            }
            Err(e) => {
                // The error with its causes, on one line.
                let why = format!("{:#}", anyhow::Error::new(e));
                import.input_unreadable(format!("{here}: {why}"), &mut out);
                report.unreadable = Some(match report.unreadable.take() {
                    Some(earlier) => format!("{earlier}; {why}"),
                    None => why,
                });
                logs.skip_current();
                continue;
            }
        }
        report.lines += 1;
        if line.iter().all(|&c| c == b' ' || c == b'\r') {
            continue;
        }
        match parse_log_line(&line) {
            Ok(record) => import.push(record, &mut out),
            Err(e) => {
                if report.first_errors.len() < QUOTED_ERRORS {
                    report.first_errors.push(format!("{here}: {e}"));
                }
                import.parse_error(&e, here);
            }
        }
        if !emit_batches(&mut out, batch, false, &mut emit) {
            return report;
        }
        if progress_due(report.lines) {
            meter.tick(&logs, import.counters());
        }
    }
    import.finish(&mut out);
    emit_batches(&mut out, batch, true, &mut emit);
    meter.done(&logs, import.counters());
    report.counters = import.counters().clone();
    (report.fd_tables_dropped, report.without_fd_table) = import.fd_counters();
    report
}

/// Hands the events of `out` to `emit` in batches of `batch` (the last one shorter when `all`,
/// else it stays in `out`). Never more at once: a flush of held writes can add many events in
/// one go, and the sinks' buffers would keep the size of the largest batch.
/// `false` when `emit` wants no more.
fn emit_batches(
    out: &mut Vec<Event>,
    batch: usize,
    all: bool,
    emit: &mut impl FnMut(Vec<Event>) -> bool,
) -> bool {
    while out.len() >= batch || (all && !out.is_empty()) {
        let rest = out.split_off(out.len().min(batch));
        if !emit(std::mem::replace(out, rest)) {
            return false;
        }
    }
    true
}

/// The progress line on stderr.
struct Progress {
    show: bool,
    tty: bool,
    start: Instant,
    /// A line per half second on a terminal, per 5 s in a log.
    throttle: Throttle,
}

impl Progress {
    fn new(show: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let mut throttle = Throttle::new(if tty {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(5)
        });
        throttle.reset();
        Self {
            show,
            tty,
            start: Instant::now(),
            throttle,
        }
    }

    fn tick(&mut self, reader: &Logs, c: &Counters) {
        if self.show && self.throttle.due() {
            self.print(reader, c, false);
        }
    }

    fn done(&mut self, reader: &Logs, c: &Counters) {
        if self.show {
            self.print(reader, c, true);
        }
    }

    fn print(&self, reader: &Logs, c: &Counters, last: bool) {
        let total = reader.file_len().max(1);
        let pct = reader.file_read() as f64 * 100.0 / total as f64;
        let secs = self.start.elapsed().as_secs_f64().max(0.001);
        let line = format!(
            "godo: {:5.1}% of {} MB, {} records ({:.0}/s), {} events, {} parse errors",
            pct.min(100.0),
            total >> 20,
            c.records,
            c.records as f64 / secs,
            c.events,
            c.parse_errors
        );
        if self.tty {
            eprint!("\r{line}\x1b[K{}", if last { "\n" } else { "" });
        } else {
            eprintln!("{line}");
        }
    }
}

/// Runs the import: the `--audit-log` path of `godo`.
pub fn run(args: &ImportArgs, destinations: Destinations) -> anyhow::Result<()> {
    if args.audit_log.is_empty() {
        anyhow::bail!("no --audit-log FILE given");
    }
    let mut logs = Logs::open(&args.audit_log)?;
    let Some(first) = logs.first_mut() else {
        anyhow::bail!("no --audit-log FILE given");
    };
    let path = first.path().to_owned();
    let host = args
        .host
        .clone()
        .unwrap_or_else(|| identity::host_from_file_name(&path));
    let boot_id = match &args.boot_id {
        Some(b) => b.clone(),
        None => identity::boot_id(first).with_context(|| {
            format!(
                "reading {} to derive its boot id (or pass --boot-id)",
                path.display()
            )
        })?,
    };
    let names = logs
        .paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let stamper = crate::output::sink::Stamper::new(crate::output::sink::new_run_id());
    eprintln!(
        "godo: importing {} as host {}, boot {}, run {} -> {}",
        for_terminal(&names),
        for_terminal(&host),
        for_terminal(&boot_id),
        stamper.run(),
        destinations.describe()
    );
    let summary = if destinations.mongo.is_none() {
        // A capture file alone needs no async runtime: read, stamp and write on this thread,
        // one batch at a time.
        sinks::import_to_file(logs, &host, &boot_id, stamper, &destinations)?
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(sinks::import_to(logs, host, boot_id, stamper, destinations))?
    };
    eprintln!("{}", message_for_terminal(&summary.to_string()));
    if summary.unreadable().is_some() {
        anyhow::bail!(
            "{names} could not be read to its end; everything before the damage was imported"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::fd_paths::{Assembled, FdPaths};
    use crate::import::input::LogReader;
    use crate::recording::audit::{Assembler, parse_log_line};
    use dockwatch_shared::EventKind;
    use std::path::Path;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Events as text, with each write's count, bytes and times summed per (process, fd,
    /// path) into one line, so that runs split by a flush compare equal to one merged run.
    fn normalised(events: &[Event]) -> Vec<String> {
        let mut writes: std::collections::BTreeMap<String, (u64, Option<u64>)> = Default::default();
        let mut rest = Vec::new();
        for e in events {
            match &e.kind {
                EventKind::Write(w) => {
                    let key = format!("{} {} {} {:?}", e.host, w.tgid, w.fd, w.path);
                    let sum = writes.entry(key).or_insert((0, Some(0)));
                    sum.0 += w.count;
                    sum.1 = sum.1.zip(w.bytes).map(|(a, b)| a + b);
                }
                _ => rest.push(serde_json::to_string(e).unwrap()),
            }
        }
        rest.sort();
        rest.extend(writes.into_iter().map(|(k, v)| format!("{k} {v:?}")));
        rest
    }

    /// The events of `events` with `boot`, as sorted JSON without times and serials.
    fn of_boot(events: &[Event], boot: &str) -> Vec<String> {
        let mut out: Vec<String> = events
            .iter()
            .filter(|e| e.boot_id == boot)
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap();
                let o = v.as_object_mut().unwrap();
                for k in [
                    "time",
                    "boot_id",
                    "first",
                    "last",
                    "from",
                    "to",
                    "clone_serial",
                ] {
                    o.remove(k);
                }
                if let Some(a) = o.get_mut("audit").and_then(|a| a.as_object_mut()) {
                    a.remove("serial");
                }
                v.to_string()
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_log_spanning_a_reboot_gets_a_boot_id_per_boot() {
        // The small real log, then the same records as a later boot would log them: serials
        // counted from the start again, ten minutes later.
        let text = std::fs::read_to_string(fixture("small-raw.log")).unwrap();
        let mut log = text.clone();
        for line in text.lines() {
            let (head, rest) = line.split_once("msg=audit(").unwrap();
            let (stamp, tail) = rest.split_once(')').unwrap();
            let (time, serial) = stamp.split_once(':').unwrap();
            let (sec, ms) = time.split_once('.').unwrap();
            let sec: u64 = sec.parse().unwrap();
            let serial: u64 = serial.parse().unwrap();
            let serial = if serial > 100_000 {
                serial - 100_000
            } else {
                serial
            };
            log.push_str(&format!(
                "{head}msg=audit({}.{ms}:{serial}){tail}\n",
                sec + 600
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, log).unwrap();
        let mut got = Vec::new();
        let report = read_log(
            Logs::one(LogReader::open(&path).unwrap()),
            "h",
            "b",
            false,
            100,
            |b| {
                got.extend(b);
                true
            },
        );
        assert_eq!(report.counters.reboots, 1);
        let mut once = Vec::new();
        read_log(
            Logs::one(LogReader::open(&fixture("small-raw.log")).unwrap()),
            "h",
            "b",
            false,
            100,
            |b| {
                once.extend(b);
                true
            },
        );
        let (first, second) = (of_boot(&got, "b"), of_boot(&got, "b-2"));
        assert_eq!(first.len() + second.len(), got.len(), "no other boot id");
        // Each boot tells the whole story of its own (forks of pids seen in the old boot
        // included, writes with their paths), as the log alone does.
        assert_eq!(first, of_boot(&once, "b"));
        assert_eq!(second, first);
    }

    #[test]
    fn flushing_quiet_writes_loses_none() {
        let path = fixture("small-raw.log");
        let mut got = Vec::new();
        let mut batches = 0;
        read_log(
            Logs::one(LogReader::open(&path).unwrap()),
            "h",
            "b",
            false,
            7,
            |b| {
                assert!(b.len() <= 7, "batch of {}", b.len());
                batches += 1;
                got.extend(b);
                true
            },
        );
        // The same log with every write held back until the end.
        let mut asm = Assembler::new("h", "b");
        let mut fds = FdPaths::replay(1 << 16);
        let (mut staged, mut want): (Vec<Assembled>, Vec<Event>) = (Vec::new(), Vec::new());
        for line in std::fs::read(&path).unwrap().split(|&c| c == b'\n') {
            if let Ok(r) = parse_log_line(line) {
                asm.push(r, &mut staged);
            }
        }
        asm.finish(&mut staged);
        for item in staged {
            match item {
                Assembled::Event(e) => fds.process(e, &mut want),
                Assembled::Clone { time, call, .. } => fds.clone_call(time, call, &mut want),
            }
        }
        fds.finish(&mut want);
        assert!(
            got.iter().filter(|e| e.kind.name() == "write").count() > 0,
            "the fixture has writes"
        );
        assert_eq!(normalised(&got), normalised(&want));
        assert!(batches >= 1);
    }

    #[test]
    fn a_truncated_log_gives_every_event_before_the_cut_and_a_gap() {
        use std::io::{Read, Write};
        let text = std::fs::read(fixture("small-raw.log")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let cut = &gz[..gz.len() * 3 / 5];
        // What can be read of the cut file: its whole lines up to the damage.
        let mut readable = Vec::new();
        let err = flate2::read::MultiGzDecoder::new(cut)
            .read_to_end(&mut readable)
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        let whole_lines = readable.iter().rposition(|&c| c == b'\n').unwrap() + 1;
        assert!(whole_lines > text.len() / 4, "the cut leaves a good part");
        let dir = tempfile::tempdir().unwrap();
        let (cut_path, prefix_path) = (dir.path().join("cut.gz"), dir.path().join("prefix"));
        std::fs::write(&cut_path, cut).unwrap();
        std::fs::write(&prefix_path, &readable[..whole_lines]).unwrap();
        let import = |path: &Path| {
            let mut events = Vec::new();
            let report = read_log(
                Logs::one(LogReader::open(path).unwrap()),
                "h",
                "b",
                false,
                10,
                |b| {
                    events.extend(b);
                    true
                },
            );
            (events, report)
        };
        let (mut got, report) = import(&cut_path);
        let (want, whole) = import(&prefix_path);
        assert_eq!(whole.unreadable, None);
        let why = report.unreadable.expect("the cut is reported");
        assert!(why.contains("cut.gz") && why.contains("deflate"), "{why}");
        // Every event of the readable part, and one gap that says where the rest went.
        let gap = got
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Gap(g) if g.reason == dockwatch_shared::model::event::GapReason::InputUnreadable))
            .expect("an input_unreadable gap");
        let gap = got.remove(gap);
        let EventKind::Gap(g) = &gap.kind else {
            unreachable!()
        };
        assert_eq!(g.lost, None);
        let detail = g.detail.as_deref().unwrap_or_default();
        let next_line = whole.lines + 1;
        assert!(
            detail.starts_with(&format!("line {next_line}: ")),
            "{detail}"
        );
        assert_eq!(normalised(&got), normalised(&want));
        assert!(want.len() > 20);
    }
}
