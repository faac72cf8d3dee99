//! What the details pane says: everything known about one process, as lines of text.

use dockwatch_shared::ByteString;
use dockwatch_shared::model::investigation::{Investigation, NodeId};
use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

fn field(name: &'static str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<10}"), Style::default().fg(Color::DarkGray)),
        Span::raw(value),
    ])
}

fn opt(b: &Option<ByteString>) -> String {
    b.as_ref()
        .map_or_else(|| "-".to_owned(), |v| v.display_safe().into_owned())
}

/// Bytes of arguments shown in the pane; the rest is counted (the JSON export has them all).
/// An argument can be megabytes long, and the pane is drawn again on every key.
pub const ARGS_SHOWN: usize = 16 * 1024;

/// Arguments as one line, each sanitised; an argument with spaces (or empty) is quoted. At
/// most [`ARGS_SHOWN`] bytes of them are shown, then how many more there are.
pub fn args_line(args: &[ByteString]) -> String {
    let mut budget = ARGS_SHOWN;
    let mut shown = Vec::new();
    let mut hidden = 0usize;
    for a in args {
        let bytes = a.as_bytes();
        if budget == 0 {
            hidden += bytes.len();
            continue;
        }
        let cut = bytes.len().min(budget);
        budget -= cut;
        hidden += bytes.len() - cut;
        let s = if cut < bytes.len() {
            ByteString::from_bytes(bytes[..cut].to_vec())
                .display_safe()
                .into_owned()
        } else {
            a.display_safe().into_owned()
        };
        shown.push(if s.is_empty() || s.contains(' ') {
            format!("'{s}'")
        } else {
            s
        });
    }
    let mut line = shown.join(" ");
    if hidden > 0 {
        line.push_str(&format!(
            " … ({hidden} more bytes; the export `e` has them all)"
        ));
    }
    line
}

/// A process's life for overlap tests: from its start (or the beginning of time) to its exit (or
/// the end of time, while it still ran at the end of the recording).
pub fn life_span(
    p: &dockwatch_shared::model::investigation::ProcessNode,
) -> (dockwatch_shared::Timestamp, dockwatch_shared::Timestamp) {
    (
        p.start.unwrap_or(dockwatch_shared::Timestamp(i64::MIN)),
        p.exit.unwrap_or(dockwatch_shared::Timestamp(i64::MAX)),
    )
}

/// The pane's lines for a process.
pub fn lines(inv: &Investigation, id: NodeId) -> Vec<Line<'static>> {
    let p = &inv.processes[id];
    let mut out = vec![field(
        "pid",
        format!(
            "{}   tgid {}   ppid {}",
            p.pid,
            p.tgid,
            p.ppid.map_or_else(|| "-".to_owned(), |v| v.to_string())
        ),
    )];
    out.push(field(
        "threads",
        if p.threads.is_empty() {
            "none besides the leader".to_owned()
        } else {
            p.threads
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
    out.push(field("args", args_line(&p.args)));
    out.push(field("exe", opt(&p.exe)));
    // More than one program: each exec, so the analyst sees which one made a file (the file
    // table names it too).
    if p.execs.len() > 1 {
        for (i, e) in p.execs.iter().enumerate() {
            out.push(field(
                if i == 0 { "execs" } else { "" },
                format!(
                    "{}. {} {}",
                    i + 1,
                    crate::timefilter::short_time(e.time),
                    args_line(&e.args)
                ),
            ));
        }
    }
    out.push(field("cwd", opt(&p.cwd)));
    out.push(field("rootfs", opt(&p.rootfs)));
    let s = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "-".to_owned(), |v| for_terminal(v).into_owned())
    };
    out.push(field("container", s(&p.container_id)));
    out.push(field("name", s(&p.container_name)));
    out.push(field("image", s(&p.image)));
    let role = match (p.star, p.role) {
        (true, _) => "Docker daemon (starred)".to_owned(),
        (false, Some(r)) => format!("{r:?}"),
        (false, None) => "-".to_owned(),
    };
    out.push(field("role", role));
    if !p.inherited.is_empty() {
        // A forked child that never exec'd, or was gone before /proc could be read: these
        // fields are its parent's at the fork, not read from the process itself.
        out.push(field(
            "inherited",
            format!("{} (its parent's at the fork)", p.inherited.join(", ")),
        ));
    }
    out.push(field(
        "started",
        p.start.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()),
    ));
    let exited = match (p.start, p.exit) {
        (Some(s), Some(e)) => format!(
            "{} (after {:.3} s)",
            e.to_rfc3339(),
            (e.as_micros() - s.as_micros()) as f64 / 1e6
        ),
        (None, Some(e)) => e.to_rfc3339(),
        _ => "still running at the end of the recording".to_owned(),
    };
    out.push(field("exited", exited));
    let (code, style) = match (p.exit_code, p.signal) {
        (Some(0), _) => ("0".to_owned(), Style::default()),
        (Some(c), _) => (
            c.to_string(),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        (None, Some(sig)) => (
            format!("killed by signal {sig}"),
            Style::default().fg(Color::Red),
        ),
        (None, None) => ("-".to_owned(), Style::default()),
    };
    out.push(Line::from(vec![
        Span::styled(
            format!("{:<10}", "exit code"),
            Style::default().fg(Color::DarkGray),
        ),
        Span::styled(code, style),
    ]));
    out.push(field("files", format!("{} file records", p.files.len())));
    // Where the story of this process may be incomplete.
    let (start, end) = life_span(p);
    let gaps: Vec<String> = inv
        .gaps
        .iter()
        .filter(|g| g.from <= end && g.to >= start)
        .map(|g| {
            format!(
                "{}..{} ({} lost)",
                crate::timefilter::short_time(g.from),
                crate::timefilter::short_time(g.to),
                g.lost.map_or_else(|| "?".to_owned(), |n| n.to_string())
            )
        })
        .collect();
    if !gaps.is_empty() {
        out.push(Line::from(vec![
            Span::styled(
                format!("{:<10}", "lost"),
                Style::default().fg(Color::DarkGray),
            ),
            Span::styled(
                format!(
                    "events were lost while it lived: {} (! lists the gaps)",
                    gaps.join(", ")
                ),
                Style::default().fg(Color::Magenta),
            ),
        ]));
    }
    out
}

/// Rows the pane's content takes at `width` columns (for scrolling limits).
pub fn content_height(inv: &Investigation, id: NodeId, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines(inv, id)
        .iter()
        .map(|l| l.width().div_ceil(width).max(1))
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::model::investigation::ProcessNode;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn fields_held_from_the_parent_are_said_to_be() {
        let mut inv = Investigation::default();
        inv.processes.push(ProcessNode {
            comm: Some("rm".into()),
            args: vec!["/bin/sh".into(), "-c".into(), "rm x".into()],
            inherited: vec!["args".into(), "cwd".into()],
            ..ProcessNode::default()
        });
        let shown = text(&lines(&inv, 0));
        assert!(
            shown
                .iter()
                .any(|l| l.starts_with("inherited") && l.contains("args, cwd (its parent's")),
            "{shown:#?}"
        );
        inv.processes[0].inherited.clear();
        assert!(
            !text(&lines(&inv, 0))
                .iter()
                .any(|l| l.starts_with("inherited"))
        );
    }

    #[test]
    fn every_program_of_a_process_that_exec_d_twice_is_listed() {
        use dockwatch_shared::Timestamp;
        use dockwatch_shared::model::investigation::ExecRecord;
        let mut inv = Investigation::default();
        let exec = |us: i64, args: &[&str]| ExecRecord {
            time: Timestamp(1_764_000_000_000_000 + us),
            exe: Some("/bin/busybox".into()),
            args: args.iter().map(|&a| a.into()).collect(),
        };
        inv.processes.push(ProcessNode {
            args: vec!["sleep".into(), "3".into()],
            execs: vec![
                exec(0, &["sh", "-c", "echo x > b.txt; sleep 3"]),
                exec(900, &["sleep", "3"]),
            ],
            ..ProcessNode::default()
        });
        let shown = text(&lines(&inv, 0));
        let execs: Vec<&String> = shown.iter().filter(|l| l.contains(". ")).collect();
        assert_eq!(execs.len(), 2, "{shown:#?}");
        assert!(
            execs[0].starts_with("execs") && execs[0].contains("1. ") && execs[0].contains("sh -c")
        );
        assert!(
            execs[1].contains("2. ") && execs[1].contains("sleep 3"),
            "{shown:#?}"
        );
        // One program: no list.
        inv.processes[0].execs.truncate(1);
        assert!(!text(&lines(&inv, 0)).iter().any(|l| l.starts_with("execs")));
    }
}
