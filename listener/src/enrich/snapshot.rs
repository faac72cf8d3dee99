//! The start-up snapshot: one walk of `/proc` that records every existing process, its threads
//! and its open fds as [`Snapshot`] events, so a Docker daemon that was already running is known
//! (and starred) and writes through fds opened before `godo` started can be attributed.

use dockwatch_shared::model::event::{Event, EventKind, OpenFd, Pid, Snapshot, Source};
use dockwatch_shared::{ByteString, Timestamp};

use crate::enrich::proc_info::ProcReader;
use crate::recording::recorder::HostIdentity;

/// Reads the open fds of a process from `/proc/PID/fd` (link targets) and `/proc/PID/fdinfo`
/// (open flags). A process that is gone, or whose fds cannot be read, has none.
pub fn open_fds(reader: &ProcReader, tgid: Pid) -> Vec<OpenFd> {
    let dir = reader.root().join(tgid.to_string());
    let Ok(rd) = std::fs::read_dir(dir.join("fd")) else {
        return Vec::new();
    };
    let mut fds: Vec<OpenFd> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let fd: i32 = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            let flags = std::fs::read(dir.join("fdinfo").join(fd.to_string()))
                .ok()
                .and_then(|b| parse_fdinfo_flags(&b));
            Some(OpenFd {
                fd,
                target: ByteString::from_bytes(target.into_os_string().into_encoded_bytes()),
                flags,
            })
        })
        .collect();
    fds.sort_by_key(|f| f.fd);
    fds
}

/// The `flags:` line of `/proc/PID/fdinfo/N` (octal).
pub fn parse_fdinfo_flags(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b).ok()?;
    let v = s.lines().find_map(|l| l.strip_prefix("flags:"))?.trim();
    u32::from_str_radix(v, 8).ok()
}

/// Walks `/proc` once and returns one snapshot event per process (in pid order), stamped `time`.
/// Processes that vanish during the walk are recorded with what could be read.
pub fn take(reader: &ProcReader, id: &HostIdentity, time: Timestamp) -> Vec<Event> {
    let mut pids: Vec<Pid> = match std::fs::read_dir(reader.root()) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect(),
        Err(_) => return Vec::new(),
    };
    pids.sort_unstable();
    pids.into_iter()
        .map(|tgid| {
            let process = reader.read(tgid, tgid);
            let ppid = reader.stat(tgid, tgid).map(|s| s.ppid).unwrap_or(0);
            Event {
                host: id.host.clone(),
                boot_id: id.boot_id.clone(),
                run: String::new(),
                seq: 0,
                time,
                source: Source::Procfs,
                audit: None,
                kind: EventKind::Snapshot(Snapshot {
                    pid: tgid,
                    tgid,
                    ppid,
                    threads: reader.threads(tgid),
                    process,
                    fds: open_fds(reader, tgid),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn fdinfo_flags_are_octal() {
        assert_eq!(
            parse_fdinfo_flags(b"pos:\t0\nflags:\t0100001\nmnt_id:\t1\n"),
            Some(0o100001)
        );
        assert_eq!(parse_fdinfo_flags(b"pos:\t0\n"), None);
    }

    #[test]
    fn snapshot_sees_this_process_its_threads_and_an_open_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held-open");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"x").unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv().ok());

        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let events = take(&ProcReader::new(), &id, Timestamp(5));
        tx.send(()).unwrap();
        t.join().unwrap();

        let me = std::process::id() as Pid;
        let snap = events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Snapshot(s) if s.tgid == me => Some(s),
                _ => None,
            })
            .expect("this process is in the snapshot");
        assert!(!snap.threads.is_empty(), "the helper thread is listed");
        let want = ByteString::from_bytes(path.into_os_string().into_encoded_bytes());
        let fd = snap
            .fds
            .iter()
            .find(|f| f.target == want)
            .expect("open file listed");
        assert_eq!(fd.flags.map(|f| f & 3), Some(libc::O_WRONLY as u32));
        assert!(
            events
                .iter()
                .all(|e| e.source == Source::Procfs && e.time == Timestamp(5))
        );
        assert!(events.len() > 1, "init and others are there too");
    }
}
