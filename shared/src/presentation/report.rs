//! The report and export formats of an [`Investigation`]: the JSON document of
//! `dockwatch-tui report --format json` and of the TUI's export ([`export_json`], schema in
//! `docs/report-schema.md`), and the plain text report ([`write_text`]).
//!
//! Both are built without recursion (an attacker can fork a chain as deep as it likes), and the
//! text report passes every attacker-chosen string (comm, args, paths, container names, gap
//! details) through [`crate::presentation::sanitize`], so it is safe to print to a terminal. The JSON keeps
//! byte strings in the model's lossless form (a string, or `{text, hex}` when not UTF-8).

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::Value;

mod changes;
mod json;
pub use changes::Changes;
pub use json::{ExportDoc, needs_escape, write_json};

use crate::model::investigation::{FileOp, FileRecord, Investigation, NodeId, ProcessNode};
use crate::model::text::ByteString;
use crate::model::time::Timestamp;
use crate::presentation::sanitize::for_terminal;

/// The nodes below `roots` (themselves included) in depth-first pre-order, with their depth.
/// With `limit`, nodes at depth `limit - 1` are leaves here and their children are appended to
/// `cut` instead.
fn preorder_limited(
    inv: &Investigation,
    roots: &[NodeId],
    seen: &mut [bool],
    limit: Option<usize>,
    cut: &mut Vec<NodeId>,
) -> Vec<(NodeId, usize)> {
    let mut out = Vec::new();
    let mut stack: Vec<(NodeId, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((id, depth)) = stack.pop() {
        let Some(node) = inv.processes.get(id) else {
            continue;
        };
        if std::mem::replace(&mut seen[id], true) {
            continue;
        }
        out.push((id, depth));
        if limit.is_some_and(|l| depth + 1 >= l) {
            cut.extend(node.children.iter().copied());
        } else {
            stack.extend(node.children.iter().rev().map(|&c| (c, depth + 1)));
        }
    }
    out
}

fn preorder(inv: &Investigation, roots: &[NodeId]) -> Vec<(NodeId, usize)> {
    let mut seen = vec![false; inv.processes.len()];
    preorder_limited(inv, roots, &mut seen, None, &mut Vec::new())
}

/// The deepest nesting of process nodes in the JSON document. Common JSON parsers refuse
/// documents nested deeper than 128 levels (serde_json's default), and each process level is two
/// (object and `children` array): a deeper chain continues as further entries of `roots`.
pub const MAX_JSON_DEPTH: usize = 60;

/// The investigation as one JSON document: `{host, boot_id, generated_at, stats, gaps, roots:
/// [node]}` with nested nodes (see `docs/report-schema.md`). With `subtree`, `roots` holds only
/// that node and what is below it (the TUI's export of one subtree), and `stats` count its
/// tasks, processes and file records; `gaps` stay those of the whole investigation. An unknown `subtree` id gives an empty `roots`. A chain of
/// processes deeper than [`MAX_JSON_DEPTH`] continues as extra entries of `roots`, whose `ppid`
/// names the process they hang below.
///
/// Files are written with [`write_json`] and [`ExportDoc`], which stream the document; this
/// builds it in memory, for tests and small subtrees.
pub fn export_json(inv: &Investigation, subtree: Option<NodeId>) -> Value {
    serde_json::to_value(ExportDoc::new(inv, subtree)).unwrap_or(Value::Null)
}

/// Deepest indentation the text report draws; deeper nodes say their depth instead.
const MAX_INDENT: usize = 32;

fn safe(b: Option<&ByteString>) -> String {
    b.map_or_else(|| "?".to_owned(), |b| b.display_safe().into_owned())
}

fn arg(a: &ByteString) -> String {
    let s = a.display_safe();
    if s.is_empty() || s.contains([' ', '\'', '"']) {
        format!("'{}'", s.replace('\'', "'\\''"))
    } else {
        s.into_owned()
    }
}

fn short_container(n: &ProcessNode) -> String {
    match &n.container_id {
        Some(id) => {
            let short: String = id.chars().take(12).collect();
            for_terminal(&short).into_owned()
        }
        None => "host".to_owned(),
    }
}

fn opt_time(t: Option<Timestamp>, none: &str) -> String {
    t.map_or_else(|| none.to_owned(), |t| t.to_rfc3339())
}

fn process_line(out: &mut dyn Write, n: &ProcessNode, depth: usize) -> io::Result<()> {
    let indent = "  ".repeat(depth.min(MAX_INDENT));
    let deep = if depth > MAX_INDENT {
        format!("[depth {depth}] ")
    } else {
        String::new()
    };
    let mut container = short_container(n);
    if let Some(name) = &n.container_name {
        let _ = write!(container, " {}", for_terminal(name));
    }
    write!(
        out,
        "{indent}{deep}{pid} {comm} [{container}] {start} - {exit}",
        pid = n.pid,
        comm = safe(n.comm.as_ref()),
        start = opt_time(n.start, "?"),
        exit = opt_time(n.exit, "running"),
    )?;
    match (n.exit_code, n.signal) {
        (Some(code), _) => write!(out, " (exit {code})")?,
        (None, Some(sig)) => write!(out, " (signal {sig})")?,
        _ => {}
    }
    if n.star {
        out.write_all(b" *dockerd*")?;
    }
    out.write_all(b"\n")?;
    let args: Vec<String> = n.args.iter().map(arg).collect();
    writeln!(out, "{indent}    args: {}", args.join(" "))
}

fn ops_text(ops: &[FileOp]) -> String {
    ops.iter().map(|op| op.name()).collect::<Vec<_>>().join(",")
}

fn file_lines(out: &mut dyn Write, f: &FileRecord) -> io::Result<()> {
    write!(out, "    {}", f.path.display_safe())?;
    if let Some(to) = &f.renamed_to {
        write!(out, " -> {}", to.display_safe())?;
    }
    if let Some(host) = f.host_path.as_ref().filter(|h| **h != f.path) {
        write!(out, "  (host {})", host.display_safe())?;
    }
    if let Some(upper) = &f.upper_path {
        write!(out, "  (upper {})", upper.display_safe())?;
    }
    if let Some(fs) = f.fs {
        write!(out, "  [{}]", fs.name())?;
    }
    out.write_all(b"\n")?;
    write!(out, "        {}", ops_text(&f.ops))?;
    if let Some(fd) = f.fd {
        write!(out, " fd {fd}")?;
    }
    if f.pid != 0 {
        write!(out, " by {}", f.pid)?;
    }
    if let Some(t) = f.opened {
        write!(out, "; opened {t}")?;
    }
    if f.writes > 0 {
        write!(
            out,
            "; {} write(s) {} .. {}",
            f.writes,
            opt_time(f.first_write, "?"),
            opt_time(f.last_write, "?")
        )?;
    }
    if let Some(t) = f.closed {
        let how = if f.closed_at_exit { " (at exit)" } else { "" };
        write!(out, "; closed {t}{how}")?;
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// The plain text report: a header with the counts and repairs, the gaps, the process tree
/// (indented; one line per process with pid, comm, container short id and start - exit, then
/// its args), then the changed files of each process with their times. Safe to print to a
/// terminal. Written as it is made, so a large investigation's report is never held whole.
pub fn write_text(inv: &Investigation, out: &mut dyn Write) -> io::Result<()> {
    let s = &inv.stats;
    let r = &s.repairs;
    writeln!(
        out,
        "dockwatch report: host {}, boot {}, generated {}",
        for_terminal(&inv.host),
        for_terminal(&inv.boot_id),
        inv.generated_at
    )?;
    writeln!(
        out,
        "{} events, {} tasks, {} processes ({} in the Docker tree), {} file records, {} gaps",
        s.events, s.tasks, s.processes, s.tree_processes, s.files, s.gaps
    )?;
    writeln!(
        out,
        "repairs: {} rootfs propagated, {} thread parents and {} exits from their leader, {} files closed at exit, \
         {} file times moved to their process's start (audit's coarse clock)",
        r.rootfs_propagated,
        r.ppid_from_leader,
        r.exit_from_leader,
        r.close_from_exit,
        r.file_times_to_start
    )?;
    if r.times_from_neighbours > 0 {
        writeln!(
            out,
            "warning: {} events had impossible times (at or before 1970, or beyond 9999) and were given their neighbour's in their run",
            r.times_from_neighbours
        )?;
    }
    if !inv.gaps.is_empty() {
        out.write_all(b"\nGaps (events lost; the tree and files may be incomplete there):\n")?;
        for g in &inv.gaps {
            let reason = serde_json::to_value(g.reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let lost = g.lost.map_or_else(|| "?".to_owned(), |n| n.to_string());
            write!(out, "  {} .. {}  {reason}, {lost} lost", g.from, g.to)?;
            if let Some(d) = &g.detail {
                write!(out, " ({})", for_terminal(d))?;
            }
            out.write_all(b"\n")?;
        }
    }

    let containers = crate::presentation::containers::containers_with_changes(inv);
    if !containers.is_empty() {
        out.write_all(b"\nContainers (what each workload changed; runtime plumbing left out):\n")?;
    }
    for (c, changes) in &containers {
        let exit = match (c.exit, c.exit_code) {
            (Some(_), Some(code)) => format!("exited {code}"),
            (Some(_), None) => "exited".to_owned(),
            (None, _) => "still running".to_owned(),
        };
        writeln!(
            out,
            "  {} ({}) {}: {} processes, {exit}, {} changed paths",
            for_terminal(c.name.as_deref().unwrap_or("?")),
            c.id.get(..12).unwrap_or(&c.id),
            for_terminal(c.image.as_deref().unwrap_or("?")),
            c.processes,
            changes.len()
        )?;
        for ch in changes {
            let writers: Vec<String> = ch
                .writers
                .iter()
                .map(|&n| inv.processes[n].pid.to_string())
                .collect();
            writeln!(
                out,
                "    {}  {}  by {}",
                ch.path.display_safe(),
                for_terminal(&ch.state.describe()),
                writers.join(",")
            )?;
        }
    }

    out.write_all(b"\nProcess tree:\n")?;
    let order = preorder(inv, &inv.roots);
    if order.is_empty() {
        out.write_all(b"  (no dockerd, containerd or containerd-shim process in the events)\n")?;
    }
    for &(id, depth) in &order {
        process_line(out, &inv.processes[id], depth + 1)?;
    }

    out.write_all(b"\nChanged files:\n")?;
    let mut any = false;
    for &(id, _) in &order {
        let n = &inv.processes[id];
        if n.files.is_empty() {
            continue;
        }
        any = true;
        writeln!(
            out,
            "  {} {} [{}]",
            n.pid,
            safe(n.comm.as_ref()),
            short_container(n)
        )?;
        for f in n.files.iter().filter_map(|&f| inv.files.get(f)) {
            file_lines(out, f)?;
        }
    }
    if !any {
        out.write_all(b"  (none)\n")?;
    }
    Ok(())
}

/// [`write_text`] into a string, for tests and small investigations.
pub fn render_text(inv: &Investigation) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_text(inv, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
