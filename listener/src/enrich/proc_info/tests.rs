//! Tests of `proc_info`.

use super::*;

const ID: &str = "3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

#[test]
fn container_id_from_cgroup_layouts() {
    let cases: Vec<(String, Option<&str>)> = vec![
        (
            format!("12:pids:/docker/{ID}\n11:memory:/docker/{ID}\n"),
            Some(ID),
        ),
        (format!("0::/system.slice/docker-{ID}.scope\n"), Some(ID)),
        (format!("4:cpu:/system.slice/docker-{ID}.scope\n"), Some(ID)),
        (
            format!("1:name=systemd:/docker/{ID}/init.scope\n"),
            Some(ID),
        ),
        (format!("0::/docker/{ID}\n"), Some(ID)),
        ("9:name=systemd:/\n8:pids:/\n".to_string(), None),
        (
            "0::/user.slice/user-0.slice/session-1.scope\n".to_string(),
            None,
        ),
        // Not Docker's parent segment: a 64-hex segment alone is not a container.
        (format!("0::/kubepods/{ID}\n"), None),
        // Upper-case or short ids are not Docker ids.
        (format!("0::/docker/{}\n", ID.to_uppercase()), None),
        ("0::/docker/abc\n".to_string(), None),
        (format!("0::/system.slice/docker-{ID}.scopex\n"), None),
        (String::new(), None),
        ("garbage without colons".to_string(), None),
    ];
    for (input, want) in cases {
        assert_eq!(
            container_id_from_cgroup(input.as_bytes()).as_deref(),
            want,
            "input {input:?}"
        );
    }
}

fn args(v: &[&str]) -> Vec<ByteString> {
    v.iter().map(|s| ByteString::from(*s)).collect()
}

#[test]
fn container_id_from_shim_and_runc_args() {
    let cases: Vec<(Vec<ByteString>, Option<&str>)> = vec![
        (
            args(&[
                "/usr/bin/containerd-shim-runc-v2",
                "-namespace",
                "moby",
                "-id",
                ID,
                "-address",
                "/run/containerd/containerd.sock",
            ]),
            Some(ID),
        ),
        (
            args(&["containerd-shim", "--id=".to_string().as_str()]),
            None,
        ),
        (
            args(&[
                "containerd-shim",
                "-namespace",
                "moby",
                "-workdir",
                &format!("/var/lib/containerd/io.containerd.runtime.v1.linux/moby/{ID}"),
                "-address",
                "x",
            ]),
            Some(ID),
        ),
        (
            args(&[
                "runc",
                "--root",
                "/var/run/docker/runtime-runc/moby",
                "create",
                "--bundle",
                &format!("/run/containerd/io.containerd.runtime.v2.task/moby/{ID}/"),
                "--pid-file",
                "p",
                ID,
            ]),
            Some(ID),
        ),
        (args(&["runc", "init"]), None),
        (args(&["containerd-shim-runc-v2", "-id", "short"]), None),
        (args(&[]), None),
    ];
    for (input, want) in cases {
        assert_eq!(
            container_id_from_args(&input).as_deref(),
            want,
            "args {input:?}"
        );
    }
    assert_eq!(
        container_id_from_args(&args(&["shim", &format!("--id={ID}")])).as_deref(),
        Some(ID)
    );
}

#[test]
fn roles_by_exe_basename() {
    let cases: &[(&str, Option<DockerRole>)] = &[
        ("/usr/bin/dockerd", Some(DockerRole::Dockerd)),
        (
            "/opt/docker/bin/dockerd (deleted)",
            Some(DockerRole::Dockerd),
        ),
        ("/usr/sbin/containerd", Some(DockerRole::Containerd)),
        (
            "/usr/bin/containerd-shim-runc-v2",
            Some(DockerRole::ContainerdShim),
        ),
        ("/usr/bin/runc", Some(DockerRole::Runc)),
        ("/usr/bin/docker", None),
        ("/usr/bin/dockerd-rootless.sh", None),
        ("", None),
    ];
    for (exe, want) in cases {
        assert_eq!(role_of_exe(exe.as_bytes()), *want, "{exe}");
    }
    let mut info = ProcessInfo {
        exe: Some("/usr/local/bin/dockerd".into()),
        ..Default::default()
    };
    classify(&mut info);
    assert!(info.star);
    info.exe = Some("/usr/bin/containerd".into());
    classify(&mut info);
    assert!(!info.star);
    assert_eq!(info.role, Some(DockerRole::Containerd));
}

#[test]
fn stat_with_spaces_and_parens_in_comm() {
    let line = b"1234 (a) b (c) S 99 1234 1234 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5555 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    assert_eq!(
        parse_stat(line),
        Some(StatLine {
            ppid: 99,
            start_ticks: 5555
        })
    );
    assert_eq!(parse_stat(b"garbage"), None);
}

#[test]
fn status_uid_and_cmdline() {
    assert_eq!(
        parse_status_uid(b"Name:\tx\nUid:\t1000\t0\t0\t0\n"),
        Some(1000)
    );
    assert_eq!(parse_status_uid(b"Name:\tx\n"), None);
    assert_eq!(
        parse_status_ns_pids(b"Name:\tsh\nNSpid:\t48213\t7\nNSpgid:\t1\n"),
        Some(vec![7])
    );
    assert_eq!(
        parse_status_ns_pids(b"NSpid:\t48213\t96\t1\n"),
        Some(vec![96, 1]),
        "a pid namespace inside a container's"
    );
    assert_eq!(parse_status_ns_pids(b"NSpid:\t412\n"), Some(vec![]));
    assert_eq!(parse_status_ns_pids(b"Name:\tx\n"), None);
    let mountinfo = b"22 1 254:0 / / rw - ext4 /dev/vda rw\n\
        46 42 0:39 / /var/lib/docker/overlay2/2a72/merged rw - overlay overlay rw\n\
        52 46 0:39 /etc /mnt/bound rw - overlay overlay rw\n\
        60 22 0:40 / /srv/with\\040space rw - tmpfs tmpfs rw\n";
    assert_eq!(
        mount_point_of(mountinfo, "00:27"),
        Some("/var/lib/docker/overlay2/2a72/merged".into())
    );
    assert_eq!(
        mount_point_of(mountinfo, "00:28"),
        Some("/srv/with space".into())
    );
    assert_eq!(mount_point_of(mountinfo, "00:29"), None);
    assert_eq!(mount_point_of(mountinfo, "zz"), None);
    assert_eq!(parse_status_ns_pids(b"NSpid:\t1\tx\n"), None);
    assert_eq!(
        parse_status_ns_pids(b"NSpid:\t17501\t0\n"),
        None,
        "an exiting task"
    );
    assert_eq!(
        split_cmdline(b"sh\0-c\0echo x\0"),
        args(&["sh", "-c", "echo x"])
    );
    assert_eq!(split_cmdline(b""), Vec::<ByteString>::new());
    assert_eq!(split_cmdline(b"a\0\0b\0"), args(&["a", "", "b"]));
}

/// Real kernel, as root: a process started in a pid namespace of its own (`unshare
/// --pid --fork`) is pid 1 there, and the translation says so, through the namespace's
/// file or, on older kernels, its `NSpid`.
#[test]
fn a_host_pid_is_translated_into_a_nested_pid_namespace() {
    use dockwatch_shared::testing::{Need, require};
    if !require(&[Need::Root]) {
        return;
    }
    let mut unshare = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "sleep", "30"])
        .spawn()
        .expect("unshare (util-linux) runs");
    let procs = ProcReader::new();
    let up = unshare.id() as Pid;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let sleeper = loop {
        let kids =
            std::fs::read_to_string(format!("/proc/{up}/task/{up}/children")).unwrap_or_default();
        if let Some(p) = kids.split_whitespace().next().and_then(|p| p.parse().ok()) {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "no child of unshare");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let ns = procs.pid_namespace(sleeper).expect("its namespace");
    assert_ne!(Some(ns), procs.pid_namespace(std::process::id() as Pid));
    let mut namespaces = PidNamespaces::default();
    let inside = namespaces.pid_in(&procs, ns, sleeper, sleeper, sleeper);
    let _ = unshare.kill();
    let _ = unshare.wait();
    assert_eq!(inside, Some(1));
}

#[test]
fn listening_sockets_by_port() {
    let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:6989 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000 100 0 0 10 0\n   1: 0100007F:6989 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 4243 1\n   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1\n";
    assert_eq!(listening_inodes(table, 27017), vec![4242]);
    assert_eq!(listening_inodes(table, 22), vec![99]);
    assert!(listening_inodes(table, 80).is_empty());
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    assert_eq!(pids_listening_on(port), vec![std::process::id() as Pid]);
}

#[test]
fn reads_this_process_and_marks_a_gone_one() {
    let r = ProcReader::new();
    let me = std::process::id() as Pid;
    let info = r.read(me, me);
    assert!(info.missing.is_empty(), "{:?}", info.missing);
    assert!(info.exe.is_some() && info.cwd.is_some() && !info.args.is_empty());
    let start = info.start_time.expect("start time");
    let now = Timestamp::now();
    assert!(
        start <= now && now.0 - start.0 < 3_600_000_000,
        "{start} vs {now}"
    );

    // Pid 0 has no /proc entry: every field is missing, and nothing panics.
    let gone = r.read(i32::MAX - 1, i32::MAX - 1);
    for f in [
        "comm",
        "exe",
        "args",
        "cwd",
        "root",
        "uid",
        "start_time",
        "cgroup",
    ] {
        assert!(
            gone.missing.iter().any(|m| m == f),
            "{f} not marked missing"
        );
    }
}
