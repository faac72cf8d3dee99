//! Tests of `audit_netlink`.

use super::rules::*;
use super::*;

#[test]
fn status_round_trip_and_short_struct() {
    let s = AuditStatus {
        mask: 5,
        enabled: 1,
        pid: 42,
        lost: 7,
        backlog_wait_time: 15000,
        ..Default::default()
    };
    assert_eq!(AuditStatus::parse(&s.encode()), Some(s));
    let short = &s.encode()[..36];
    assert_eq!(
        AuditStatus::parse(short).map(|p| (p.pid, p.backlog_wait_time)),
        Some((42, 0))
    );
    assert_eq!(AuditStatus::parse(&[0; 8]), None);
}

const ARCH_X86_64: u32 = crate::recording::audit::syscalls::AUDIT_ARCH_X86_64 as u32;
const ARCH_I386: u32 = crate::recording::audit::syscalls::AUDIT_ARCH_I386 as u32;

#[test]
fn every_audited_syscall_is_in_the_generated_tables() {
    for t in [&X86_64, &I386] {
        let names = t
            .exec
            .iter()
            .chain([&t.open, &t.openat])
            .chain(t.create)
            .chain(t.fcntl)
            .chain(REST)
            .chain(t.rest);
        for name in names {
            assert!(
                t.arch.syscall_number(name).is_some(),
                "{name} on {:?}",
                t.arch
            );
        }
    }
}

#[test]
fn the_rules_name_the_numbers_they_always_had() {
    // x86_64 and i386 numbers from the kernel's syscall tables, as the rules listed them
    // before they were built from names.
    let x86_64: &[u32] = &[
        59, 322, 2, 257, 85, 437, 72, 1, 20, 18, 296, 328, 3, 436, 32, 33, 292, 82, 264, 316, 87,
        263, 84, 76, 77, 90, 91, 268, 452, 92, 93, 94, 260, 155, 56, 57, 58, 435,
    ];
    let i386: &[u32] = &[
        11, 358, 5, 295, 8, 437, 55, 221, 4, 146, 181, 334, 379, 6, 436, 41, 63, 330, 38, 302, 353,
        10, 301, 40, 92, 193, 93, 194, 15, 94, 306, 452, 182, 212, 16, 198, 95, 207, 298, 217, 120,
        2, 190, 435,
    ];
    let rs = rules(&[]);
    for (arch, want) in [(ARCH_X86_64, x86_64), (ARCH_I386, i386)] {
        let mine: Vec<&Rule> = rs.iter().filter(|r| r.fields[0].2 == arch).collect();
        let mut got: Vec<u32> = (0..1024)
            .filter(|&nr| mine.iter().any(|r| r.has_syscall(nr)))
            .collect();
        let mut want = want.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        want.dedup();
        assert_eq!(got, want, "arch {arch:x}");
    }
}

#[test]
fn rule_layout_matches_audit_rule_data() {
    let r = Rule::syscalls(ARCH_X86_64, &[59, 322])
        .field(F_SUCCESS, OP_EQUAL, 1)
        .key("dockwatch");
    let b = r.encode();
    let word = |i: usize| u32::from_ne_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
    assert_eq!(b.len(), 4 * (3 + 64 * 4 + 1) + 9);
    assert_eq!(
        (word(0), word(1), word(2)),
        (AUDIT_FILTER_EXIT, AUDIT_ALWAYS, 3)
    );
    assert_eq!(word(3 + 1), 1 << (59 - 32), "execve bit");
    assert_eq!(word(3 + 10), 1 << (322 - 320), "execveat bit");
    let (fields, values, flags) = (3 + 64, 3 + 128, 3 + 192);
    assert_eq!(
        (word(fields), word(values), word(flags)),
        (F_ARCH, ARCH_X86_64, OP_EQUAL)
    );
    assert_eq!((word(fields + 2), word(values + 2)), (F_FILTERKEY, 9));
    assert_eq!(word(3 + 256), 9, "buflen");
    assert_eq!(&b[b.len() - 9..], b"dockwatch");
}

#[test]
fn rule_set_covers_the_model_on_both_arches_and_excludes_pids() {
    let rs = rules(&[100, 200]);
    assert_eq!(rs.len(), 14);
    let arch_of = |r: &Rule| r.fields[0].2;
    for (arch, execve, write, pivot, clone3) in
        [(ARCH_X86_64, 59, 1, 155, 435), (ARCH_I386, 11, 4, 217, 435)]
    {
        let mine: Vec<&Rule> = rs.iter().filter(|r| arch_of(r) == arch).collect();
        for nr in [execve, write, pivot, clone3] {
            assert!(
                mine.iter().any(|r| r.has_syscall(nr)),
                "arch {arch:x} nr {nr}"
            );
        }
        // exec is not limited to successful calls; the write family is.
        let exec = mine.iter().find(|r| r.has_syscall(execve)).unwrap();
        assert!(!exec.fields.iter().any(|f| f.0 == F_SUCCESS));
        let w = mine.iter().find(|r| r.has_syscall(write)).unwrap();
        assert!(w.fields.contains(&(F_SUCCESS, OP_EQUAL, 1)));
    }
    for r in &rs {
        assert!(
            r.fields.contains(&(F_PID, OP_NOT_EQUAL, 100))
                && r.fields.contains(&(F_PID, OP_NOT_EQUAL, 200))
        );
        assert!(r.buf.ends_with(RULE_KEY.as_bytes()));
        assert_eq!(r.fields.last().map(|f| f.0), Some(F_FILTERKEY));
    }
    let open = rs
        .iter()
        .find(|r| r.has_syscall(257) && arch_of(r) == ARCH_X86_64)
        .unwrap();
    assert!(open.fields.contains(&(F_ARG2, OP_BIT_MASK, 0o1103)));
}

#[test]
fn records_are_cut_by_datagram_length() {
    let mut d = NlHeader::message(
        1300,
        0,
        0,
        b"audit(1.002:3): arch=c000003e syscall=59\n\0\0",
    );
    // nlmsg_len lies (the kernel sometimes leaves it short): the datagram wins.
    d[0..4].copy_from_slice(&20u32.to_ne_bytes());
    let r = decode_record(&d).unwrap();
    assert_eq!(r.rtype, 1300);
    assert_eq!(r.body, b"audit(1.002:3): arch=c000003e syscall=59");
    let batch = RecordBatch::of(&[
        r,
        RawRecord {
            rtype: 1320,
            body: b"",
        },
        RawRecord {
            rtype: 1327,
            body: b"audit(1.002:3): proctitle=78",
        },
    ]);
    let back: Vec<RawRecord<'_>> = batch.iter().collect();
    assert_eq!(back.len(), 3);
    assert_eq!(back[0], r);
    assert_eq!((back[1].rtype, back[1].body), (1320, &b""[..]));
    assert_eq!(back[2].body, b"audit(1.002:3): proctitle=78");
    assert_eq!(
        decode_record(&NlHeader::message(NLMSG_ERROR, 0, 0, &[0; 20])),
        None
    );
}

/// Real kernel, under the team's audit lock: the rules appear in `auditctl -l` with our key,
/// and afterwards the rules and status are exactly as before.
#[test]
fn live_session_installs_and_restores() {
    use dockwatch_shared::testing::{Need, require};
    if !require(&[Need::Root]) {
        return;
    }
    let _lock = dockwatch_shared::testing::AuditLock::take();
    let auditctl = |arg: &str| {
        let o = std::process::Command::new("auditctl")
            .arg(arg)
            .output()
            .expect("auditctl is installed");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let status_lines = |s: String| {
        s.lines()
            .filter(|l| {
                !l.starts_with("lost")
                    && !l.starts_with("backlog ")
                    && !l.starts_with("backlog_wait_time_actual")
            })
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (rules_before, status_before) = (auditctl("-l"), status_lines(auditctl("-s")));
    let reader = AuditReader::open(false, 1 << 20).unwrap();
    let cfg = SessionConfig {
        multicast: false,
        backlog_limit: 8192,
        backlog_wait_time: 0,
        exclude_pids: vec![std::process::id()],
    };
    let session = AuditSession::start(&cfg, &reader).unwrap();
    let during = auditctl("-l");
    let status_during = auditctl("-s");
    // A restarted database server: the rules now exclude another pid, as many as before.
    let mut session = session;
    session.set_exclusions(&[std::process::id(), 1]).unwrap();
    let swapped = auditctl("-l");
    assert_eq!(session.rules_installed(), 14);
    assert_eq!(swapped.matches("-F key=dockwatch").count(), 14, "{swapped}");
    assert_eq!(swapped.matches("-F pid!=1 ").count(), 14, "{swapped}");
    // A record for a write by a child arrives on the reader.
    std::process::Command::new("/bin/sh")
        .args(["-c", "echo x > /dev/null"])
        .status()
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let mut seen_key = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !seen_key {
        if let Ok(Ok(Some(r))) = reader.recv(&mut buf) {
            seen_key |= r.rtype == 1300 && r.body.windows(15).any(|w| w == b"key=\"dockwatch\"");
        }
    }
    session.restore().unwrap();
    drop(reader);
    assert_eq!(during.matches("-F key=dockwatch").count(), 14, "{during}");
    assert!(during.contains("-F pid!="), "{during}");
    assert!(
        status_during.contains(&format!("pid {}", std::process::id())),
        "{status_during}"
    );
    assert!(
        status_during.contains("backlog_limit 8192"),
        "{status_during}"
    );
    assert!(seen_key, "a SYSCALL record with our key arrived");
    assert_eq!(auditctl("-l"), rules_before);
    assert_eq!(status_lines(auditctl("-s")), status_before);
}
