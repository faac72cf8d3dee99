//! An import must not depend on the order its logs are given in, on the clock, or on one
//! damaged serial: the real log of `record.sh large` (2,500 rounds of write, append, mv,
//! cat | wc, rm), cut and damaged the ways real logs are.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a failure is the test failing.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use dockwatch_listener::import::input::Logs;
use dockwatch_listener::import::read_log;
use dockwatch_shared::Event;

/// Imports the logs (`name`, lines), given in this order, as host `h`, boot `b`.
fn import(dir: &std::path::Path, logs: &[(&str, &[Vec<u8>], bool)]) -> (Vec<Event>, u64) {
    let mut paths: Vec<PathBuf> = Vec::new();
    for (name, lines, gzip) in logs {
        let text: Vec<u8> = lines
            .iter()
            .flat_map(|l| [&l[..], b"\n"].concat())
            .collect();
        let path = dir.join(name);
        let bytes = if *gzip {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&text).unwrap();
            gz.finish().unwrap()
        } else {
            text
        };
        std::fs::write(&path, bytes).unwrap();
        paths.push(path);
    }
    let mut events = Vec::new();
    let report = read_log(Logs::open(&paths).unwrap(), "h", "b", false, 500, |b| {
        events.extend(b);
        true
    });
    (events, report.counters.reboots)
}

fn kinds(events: &[Event]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry(e.kind.name()).or_default() += 1;
    }
    m
}

/// The large log, and the index of a SYSCALL line near its middle (an event starts there).
fn large() -> (Vec<Vec<u8>>, usize) {
    let lines = common::fixture_lines("large-raw.log.zst");
    let half = (lines.len() / 2..lines.len())
        .find(|&i| lines[i].starts_with(b"type=SYSCALL"))
        .unwrap();
    (lines, half)
}

/// The events of the whole large log, imported once for all the tests of this file.
fn whole() -> &'static [Event] {
    static WHOLE: std::sync::OnceLock<Vec<Event>> = std::sync::OnceLock::new();
    WHOLE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (lines, _) = large();
        import(dir.path(), &[("whole.log", &lines, false)]).0
    })
}

/// auditd's rotation names the newest log `audit.log` and the older `audit.log.1` (here
/// gzipped): given in either order, or as the shell lists them, newest first, they give the
/// events of the log they were cut from; and the newest-first concatenation the shell recipe
/// makes (`<(zcat audit.log.*)`) loses none.
#[test]
fn rotated_logs_give_the_same_events_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, half) = large();
    let (older, newer) = lines.split_at(half);
    let whole = whole();
    let (given_newest_first, _) = import(
        dir.path(),
        &[("audit.log", newer, false), ("audit.log.1", older, true)],
    );
    let (given_oldest_first, _) = import(
        dir.path(),
        &[("audit.log.1", older, true), ("audit.log", newer, false)],
    );
    assert!(given_newest_first == whole, "newest first");
    assert!(given_oldest_first == whole, "oldest first");
    let want = kinds(whole);
    assert_eq!(want.get("rename"), Some(&2500));
    assert_eq!(want.get("unlink"), Some(&2500));
    // One stream, newest half first: every event is still there, nothing reported lost.
    let pasted: Vec<Vec<u8>> = newer.iter().chain(older).cloned().collect();
    let (concatenated, reboots) = import(dir.path(), &[("pasted.log", &pasted, false)]);
    let got = kinds(&concatenated);
    for kind in ["open", "rename", "unlink", "exec", "close"] {
        assert_eq!(got.get(kind), want.get(kind), "{kind} in the pasted log");
    }
    assert_eq!(got.get("gap"), None, "no fake loss");
    assert_eq!(reboots, 0);
}

/// Record times stepped back (a clock set back by NTP, or a record stamped 0): nothing is lost.
#[test]
fn a_clock_stepped_back_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, half) = large();
    let whole = whole();
    for back in [30u64, 3600, 1_700_000_000] {
        let stepped: Vec<Vec<u8>> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i < half {
                    return l.clone();
                }
                let text = String::from_utf8_lossy(l);
                let (head, rest) = text.split_once("msg=audit(").unwrap();
                let (sec, rest) = rest.split_once('.').unwrap();
                let sec: u64 = sec.parse().unwrap();
                format!("{head}msg=audit({}.{rest}", sec.saturating_sub(back)).into_bytes()
            })
            .collect();
        let (got, reboots) = import(dir.path(), &[("stepped.log", &stepped, false)]);
        assert_eq!(kinds(&got), kinds(whole), "stepped back {back} s");
        assert_eq!(reboots, 0);
    }
}

/// Records stamped with impossible times (the epoch, or a time that overflows microseconds, as a
/// hostile or damaged log can say) lose no event, and no time wraps negative: such an event
/// keeps time 0 ("unknown"), which the pipeline replaces with its neighbour's.
#[test]
fn impossible_record_times_lose_nothing_and_never_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, half) = large();
    let whole = whole();
    for stamp in ["9223372036854.999", "0.000"] {
        let damaged: Vec<Vec<u8>> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if !(half..half + 300).contains(&i) {
                    return l.clone();
                }
                let text = String::from_utf8_lossy(l);
                let (head, rest) = text.split_once("msg=audit(").unwrap();
                let (_, rest) = rest.split_once(':').unwrap();
                format!("{head}msg=audit({stamp}:{rest}").into_bytes()
            })
            .collect();
        let (got, reboots) = import(dir.path(), &[("damaged.log", &damaged, false)]);
        assert_eq!(kinds(&got), kinds(whole), "stamped {stamp}");
        assert_eq!(reboots, 0, "stamped {stamp}");
        assert!(
            got.iter().all(|e| e.time.0 >= 0),
            "stamped {stamp}: a time wrapped"
        );
        assert!(got.iter().any(|e| e.time.0 == 0), "stamped {stamp}");
    }
}

/// One digit of one record's serial changed, down (it looks like the counter starting again)
/// or up (it looks like 800,000 lost serials): not a reboot, no fake loss, no event lost when
/// the damaged record is one an event can do without.
#[test]
fn one_damaged_serial_is_not_a_reboot() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, half) = large();
    let whole = whole();
    let title = (half..lines.len())
        .find(|&i| lines[i].starts_with(b"type=PROCTITLE"))
        .unwrap();
    let serial = |l: &[u8]| -> u64 {
        let text = String::from_utf8_lossy(l);
        let s = text.split_once("):").unwrap().0.rsplit_once(':').unwrap().1;
        s.parse().unwrap()
    };
    let real = serial(&lines[title]);
    for bad in [real % 1000, real + 800_000] {
        let mut damaged = lines.clone();
        let text = String::from_utf8_lossy(&lines[title]).into_owned();
        damaged[title] = text
            .replacen(&format!(":{real})"), &format!(":{bad})"), 1)
            .into_bytes();
        assert_ne!(damaged[title], lines[title]);
        let (got, reboots) = import(dir.path(), &[("damaged.log", &damaged, false)]);
        assert_eq!(reboots, 0, "serial {real} logged as {bad}");
        assert_eq!(kinds(&got), kinds(whole), "serial {real} logged as {bad}");
        assert!(got.iter().all(|e| e.boot_id == "b"));
    }
}
