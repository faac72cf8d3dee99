//! Running `godo` for the end-to-end tests: its binary, a running instance whose log is
//! collected, the kernel audit state it must leave as it found it, and the report JSON's nodes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The image every scenario runs.
pub const IMAGE: &str = "dockwatch-busybox:latest";

/// The `godo` binary of this build.
pub fn godo_binary() -> PathBuf {
    crate::workspace_binary("godo")
}

/// What `auditctl ARG` prints.
pub fn auditctl(arg: &str) -> String {
    let o = Command::new("auditctl")
        .arg(arg)
        .output()
        .expect("auditctl (Debian package auditd) is installed");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The audit state that must be the same before and after (counters that move on their own
/// are left out).
pub fn audit_state() -> (String, Vec<String>) {
    let status = auditctl("-s")
        .lines()
        .filter(|l| {
            !l.starts_with("lost")
                && !l.starts_with("backlog ")
                && !l.starts_with("backlog_wait_time_actual")
        })
        .map(String::from)
        .collect();
    (auditctl("-l"), status)
}

/// A running godo whose stderr is collected; killed if the test fails before it is stopped.
pub struct Godo {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Godo {
    /// Starts `bin` with `args` (and `-v`).
    pub fn start(bin: &PathBuf, args: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(args)
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start godo");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[godo] {line}");
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child: Some(child),
            lines: rx,
            log: Vec::new(),
        }
    }

    /// Waits until godo logs a line holding `needle`; panics with its log after `timeout`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let hit = l.contains(needle);
                self.log.push(l);
                if hit {
                    return;
                }
            }
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("godo exited early ({st}): {:#?}", self.log);
            }
        }
        panic!(
            "godo did not log {needle:?} within {timeout:?}: {:#?}",
            self.log
        );
    }

    /// Sends SIGTERM and waits for godo to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY: kill with a valid pid and signal.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(st) = child.try_wait().expect("wait godo") {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "godo did not exit within 180 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Godo {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill with a valid pid and signal; SIGTERM lets it restore the audit state.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }
}

/// This machine's host name and boot id, as godo stamps its events.
pub fn host_identity() -> (String, String) {
    let r = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    (
        r("/proc/sys/kernel/hostname"),
        r("/proc/sys/kernel/random/boot_id"),
    )
}

/// With `DOCKWATCH_E2E_KEEP=DIR`, keeps a copy of what a run produced (report, capture) there
/// for a look after a failure.
pub fn keep(file: &str, data: &[u8]) {
    if let Some(dir) = std::env::var_os("DOCKWATCH_E2E_KEEP") {
        let path = PathBuf::from(dir).join(file);
        match std::fs::write(&path, data) {
            Ok(()) => eprintln!("kept {}", path.display()),
            Err(e) => eprintln!("could not keep {}: {e}", path.display()),
        }
    }
}

/// Sends SIGTERM, waits up to `grace`, then SIGKILL.
pub fn stop_child(child: &mut Child, grace: Duration) {
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    // SAFETY: kill with a valid pid and signal.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The nodes of the report, depth first, each with its ancestors (root first).
pub fn report_nodes(doc: &Value) -> Vec<(&Value, Vec<&Value>)> {
    fn walk<'a>(n: &'a Value, up: &mut Vec<&'a Value>, out: &mut Vec<(&'a Value, Vec<&'a Value>)>) {
        out.push((n, up.clone()));
        up.push(n);
        for c in n["children"].as_array().into_iter().flatten() {
            walk(c, up, out);
        }
        up.pop();
    }
    let mut out = Vec::new();
    for r in doc["roots"].as_array().expect("roots").iter() {
        walk(r, &mut Vec::new(), &mut out);
    }
    out
}

/// A report node's arguments, as text.
pub fn args_of(n: &Value) -> Vec<&str> {
    n["args"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a.as_str().unwrap_or("<not utf-8>"))
        .collect()
}

/// A report node's files.
pub fn files_of(n: &Value) -> &[Value] {
    n["files"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Whether a report file record holds `op`.
pub fn has_op(f: &Value, op: &str) -> bool {
    f["ops"]
        .as_array()
        .is_some_and(|o| o.iter().any(|x| x == op))
}

/// Fails when a file record of the report reads earlier (opened, first write, or closed) than
/// the start of the process it belongs to: cause after effect.
pub fn assert_no_file_before_its_process(doc: &Value) {
    let early = files_before_their_process(doc);
    assert!(
        early.is_empty(),
        "{} file records are earlier than their process's start: {:?}",
        early.len(),
        &early[..early.len().min(10)]
    );
}

/// Every file record of the report whose first time (opened, first write, or closed) is earlier
/// than the start of the process it belongs to. Times are RFC 3339 in UTC with microseconds, so
/// they compare as text.
fn files_before_their_process(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (n, _) in report_nodes(doc) {
        let Some(start) = n["start"].as_str() else {
            continue;
        };
        for f in files_of(n) {
            let first = ["opened", "first_write", "closed"]
                .iter()
                .filter_map(|k| f[*k].as_str())
                .min();
            if let Some(first) = first.filter(|t| *t < start) {
                out.push(format!(
                    "pid {} started {start}, {} at {first}",
                    n["pid"], f["path"]
                ));
            }
        }
    }
    out
}

/// The C compiler that builds the static helper (with libc.a, from build-essential).
pub const CC: dockwatch_shared::testing::Need = dockwatch_shared::testing::Need::Program {
    name: "cc",
    package: "build-essential",
};

/// Builds `tests/helpers/fork_writer.c` statically into `dir` (it runs in the busybox image,
/// which has no C library); returns its path.
pub fn fork_writer(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("helpers/fork_writer.c");
    let bin = dir.join("fork_writer");
    let out = Command::new("cc")
        .args(["-static", "-O2", "-pthread", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc -static {}: {} (static linking needs libc6-dev, from build-essential)",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}
