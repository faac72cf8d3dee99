//! A real terminal for the TUI's end-to-end tests: a private tmux server per test (its own
//! socket, so it neither sees nor disturbs anyone else's sessions), driven with `send-keys` and
//! read back with `capture-pane`; killed when dropped.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::process::Command;
use std::time::{Duration, Instant};

/// How long a screen may take to show what a test waits for.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// One tmux server with one session running a command.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts a private tmux server whose one session runs `command` in a `width` x `height`
    /// terminal.
    pub fn start(command: &str, width: u16, height: u16) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let socket = format!("dwtest-{}-{nanos}", std::process::id());
        let t = Tmux { socket };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
        ]);
        t
    }

    /// Runs a tmux command against this server; returns its output.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen's text.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Sends keys (tmux key names, or literal text with `literal`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` literally.
    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", "--", text]);
    }

    /// Waits until the screen satisfies `ok`; returns it, or panics showing the last screen.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(TIMEOUT, what, ok)
    }

    /// Like `wait_for`, with a longer limit (loading from a busy database).
    pub fn wait_for_within(
        &self,
        limit: Duration,
        what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen shows `needle`; returns the screen.
    pub fn wait_text(&self, needle: &str) -> String {
        self.wait_for(needle, |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

/// The first line of `screen` holding `needle` (panics showing the screen when none does).
pub fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}:\n{screen}"))
}

/// The file pane's rows holding `needle`: lines of the screen that start with a time.
pub fn file_rows<'a>(screen: &'a str, needle: &'a str) -> impl Iterator<Item = &'a str> {
    screen
        .lines()
        .map(|l| l.trim_start_matches(['│', ' ']))
        .filter(move |l| {
            l.contains(needle)
                && l.as_bytes().get(2) == Some(&b':')
                && l.as_bytes().first().is_some_and(u8::is_ascii_digit)
        })
}

/// Whether the file pane shows a row holding `needle`.
pub fn has_file_row(screen: &str, needle: &str) -> bool {
    file_rows(screen, needle).next().is_some()
}

/// The first file row holding `needle` (panics showing the screen when there is none).
pub fn file_row<'a>(screen: &'a str, needle: &'a str) -> &'a str {
    file_rows(screen, needle)
        .next()
        .unwrap_or_else(|| panic!("no file row with {needle:?}:\n{screen}"))
}
