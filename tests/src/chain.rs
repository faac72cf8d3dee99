//! A recording of the fork chain any container can make to blind an investigator: each process
//! forks the next and exits, `depth` times. Written as godo would record it (start-up snapshot of
//! the Docker daemon, containerd and a shim, then connector forks and exits, audit opens and
//! writes), so it goes through the real capture reader and pipeline.

use dockwatch_shared::model::event::{DockerRole, Event, EventKind, ProcessInfo, Source};
use dockwatch_shared::pipeline::synthetic::kind;
use dockwatch_shared::{ByteString, Pid, Timestamp};

/// The container the chain runs in.
pub const CONTAINER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
/// The first pid of the chain; the deepest is `FIRST_PID + depth - 1`.
pub const FIRST_PID: Pid = 10_000;
/// The file the deepest process writes.
pub const DEEPEST_FILE: &str = "/tmp/deepest-of-the-chain";

fn info(args: &[&[u8]], container: Option<&str>, role: Option<DockerRole>) -> ProcessInfo {
    let exe = args.first().copied().unwrap_or_default();
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    ProcessInfo {
        comm: Some(ByteString::from_bytes(base[..base.len().min(15)].to_vec())),
        exe: Some(ByteString::from_bytes(exe.to_vec())),
        args: args
            .iter()
            .map(|a| ByteString::from_bytes(a.to_vec()))
            .collect(),
        container_id: container.map(str::to_owned),
        star: base == b"dockerd",
        role,
        ..ProcessInfo::default()
    }
}

/// The events: `depth` processes chained below the container's shell, whose first argument
/// is `long_arg` bytes long (a process with a huge command line on screen).
pub fn events(depth: usize, long_arg: usize) -> Vec<Event> {
    let mut out = Vec::with_capacity(depth * 2 + 16);
    let mut push = |source: Source, kind: EventKind| {
        let seq = out.len() as u64;
        out.push(Event {
            host: "chain-host".into(),
            boot_id: "chain-boot".into(),
            run: "chainrun".into(),
            seq,
            time: Timestamp(1_764_000_000_000_000 + seq as i64 * 50),
            source,
            audit: None,
            kind,
        });
    };
    let snap = |pid, ppid, process| kind::snapshot(pid, ppid, process, vec![]);
    push(
        Source::Procfs,
        snap(1, 0, info(&[b"/sbin/init"], None, None)),
    );
    push(
        Source::Procfs,
        snap(
            100,
            1,
            info(&[b"/usr/bin/dockerd"], None, Some(DockerRole::Dockerd)),
        ),
    );
    push(
        Source::Procfs,
        snap(
            101,
            100,
            info(
                &[b"/usr/bin/containerd"],
                None,
                Some(DockerRole::Containerd),
            ),
        ),
    );
    push(
        Source::Procfs,
        snap(
            102,
            1,
            info(
                &[b"/usr/bin/containerd-shim-runc-v2"],
                None,
                Some(DockerRole::ContainerdShim),
            ),
        ),
    );
    let long = vec![b'x'; long_arg];
    push(
        Source::Procfs,
        snap(
            103,
            102,
            info(&[b"/bin/sh", b"-c", &long], Some(CONTAINER), None),
        ),
    );
    let mut parent = 103;
    for i in 0..depth {
        let child = FIRST_PID + i as Pid;
        push(
            Source::Connector,
            kind::fork(
                parent,
                parent,
                child,
                child,
                Some(info(&[b"sh"], Some(CONTAINER), None)),
            ),
        );
        if parent != 103 {
            push(Source::Connector, kind::exit(parent, parent, Some(0)));
        }
        parent = child;
    }
    push(
        Source::Audit,
        kind::open(parent, parent, DEEPEST_FILE, None, 3),
    );
    let at = Timestamp(1_764_000_000_000_000 + (depth as i64 * 2 + 8) * 50);
    push(
        Source::Audit,
        kind::write(parent, parent, 3, 1, (at, at), Some(64)),
    );
    out
}
