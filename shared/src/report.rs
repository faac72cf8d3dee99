//! The report and export formats of an [`Investigation`]: the JSON document of
//! `dockwatch-tui report --format json` and of the TUI's export ([`export_json`], schema in
//! `docs/report-schema.md`), and the plain text report ([`render_text`]).
//!
//! Both are built without recursion (an attacker can fork a chain as deep as it likes), and the
//! text report passes every attacker-chosen string (comm, args, paths, container names, gap
//! details) through [`crate::sanitize`], so it is safe to print to a terminal. The JSON keeps
//! byte strings in the model's lossless form (a string, or `{text, hex}` when not UTF-8).

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::investigation::{FileOp, FileRecord, Investigation, NodeId, ProcessNode};
use crate::sanitize::for_terminal;
use crate::text::ByteString;
use crate::time::Timestamp;

fn bytes(b: &ByteString) -> Value {
    serde_json::to_value(b).unwrap_or(Value::Null)
}

fn opt_bytes(b: Option<&ByteString>) -> Value {
    b.map_or(Value::Null, bytes)
}

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

fn op_name(op: FileOp) -> Value {
    serde_json::to_value(op).unwrap_or(Value::Null)
}

fn file_json(f: &FileRecord) -> Value {
    json!({
        "path": bytes(&f.path),
        "host_path": opt_bytes(f.host_path.as_ref()),
        "pid": f.pid,
        "fd": f.fd,
        "ops": f.ops.iter().map(|&op| op_name(op)).collect::<Vec<_>>(),
        "opened": time(f.opened),
        "first_write": time(f.first_write),
        "last_write": time(f.last_write),
        "writes": f.writes,
        "closed": time(f.closed),
        "renamed_to": opt_bytes(f.renamed_to.as_ref()),
    })
}

fn node_json(inv: &Investigation, n: &ProcessNode, children: Vec<Value>) -> Value {
    let files: Vec<Value> = n
        .files
        .iter()
        .filter_map(|&f| inv.files.get(f))
        .map(file_json)
        .collect();
    json!({
        "pid": n.pid,
        "tgid": n.tgid,
        "ppid": n.ppid,
        "threads": n.threads,
        "comm": opt_bytes(n.comm.as_ref()),
        "exe": opt_bytes(n.exe.as_ref()),
        "args": n.args.iter().map(bytes).collect::<Vec<_>>(),
        "cwd": opt_bytes(n.cwd.as_ref()),
        "rootfs": opt_bytes(n.rootfs.as_ref()),
        "container_id": n.container_id,
        "container_name": n.container_name,
        "image": n.image,
        "inherited": n.inherited,
        "star": n.star,
        "start": time(n.start),
        "exit": time(n.exit),
        "exit_code": n.exit_code,
        "files": files,
        "children": children,
    })
}

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

/// The investigation as one JSON document: `{host, boot_id, generated_at, roots: [node], gaps,
/// stats}` with nested nodes (see `docs/report-schema.md`). With `subtree`, `roots` holds only
/// that node and what is below it (the TUI's export of one subtree); `gaps` and `stats` stay
/// those of the whole investigation. An unknown `subtree` id gives an empty `roots`. A chain of
/// processes deeper than [`MAX_JSON_DEPTH`] continues as extra entries of `roots`, whose `ppid`
/// names the process they hang below.
pub fn export_json(inv: &Investigation, subtree: Option<NodeId>) -> Value {
    let mut tops: Vec<NodeId> = match subtree {
        Some(id) if id < inv.processes.len() => vec![id],
        Some(_) => Vec::new(),
        None => inv.roots.clone(),
    };
    let mut seen = vec![false; inv.processes.len()];
    let mut built: Vec<Option<Value>> = vec![None; inv.processes.len()];
    let mut roots: Vec<Value> = Vec::new();
    let mut next = 0;
    while next < tops.len() {
        let top = tops[next];
        next += 1;
        let mut cut = Vec::new();
        let order = preorder_limited(inv, &[top], &mut seen, Some(MAX_JSON_DEPTH), &mut cut);
        // Children before parents: walk the pre-order backwards, parking finished nodes.
        for &(id, _) in order.iter().rev() {
            let node = &inv.processes[id];
            let children = node
                .children
                .iter()
                .filter_map(|&c| built.get_mut(c).and_then(Option::take))
                .collect();
            built[id] = Some(node_json(inv, node, children));
        }
        roots.extend(built.get_mut(top).and_then(Option::take));
        tops.extend(cut);
    }
    let gaps: Vec<Value> = inv
        .gaps
        .iter()
        .map(|g| {
            json!({
                "reason": serde_json::to_value(g.reason).unwrap_or(Value::Null),
                "lost": g.lost,
                "from": g.from.to_rfc3339(),
                "to": g.to.to_rfc3339(),
                "detail": g.detail,
            })
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("host".into(), Value::String(inv.host.clone()));
    doc.insert("boot_id".into(), Value::String(inv.boot_id.clone()));
    doc.insert(
        "generated_at".into(),
        Value::String(inv.generated_at.to_rfc3339()),
    );
    doc.insert("roots".into(), Value::Array(roots));
    doc.insert("gaps".into(), Value::Array(gaps));
    doc.insert(
        "stats".into(),
        serde_json::to_value(&inv.stats).unwrap_or(Value::Null),
    );
    Value::Object(doc)
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

fn process_line(out: &mut String, n: &ProcessNode, depth: usize) {
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
    let _ = write!(
        out,
        "{indent}{deep}{pid} {comm} [{container}] {start} - {exit}",
        pid = n.pid,
        comm = safe(n.comm.as_ref()),
        start = opt_time(n.start, "?"),
        exit = opt_time(n.exit, "running"),
    );
    match (n.exit_code, n.signal) {
        (Some(code), _) => {
            let _ = write!(out, " (exit {code})");
        }
        (None, Some(sig)) => {
            let _ = write!(out, " (signal {sig})");
        }
        _ => {}
    }
    if n.star {
        out.push_str(" *dockerd*");
    }
    out.push('\n');
    let args: Vec<String> = n.args.iter().map(arg).collect();
    let _ = writeln!(out, "{indent}    args: {}", args.join(" "));
}

fn ops_text(ops: &[FileOp]) -> String {
    ops.iter()
        .map(|op| match op {
            FileOp::Open => "open",
            FileOp::Create => "create",
            FileOp::Write => "write",
            FileOp::Close => "close",
            FileOp::Rename => "rename",
            FileOp::Unlink => "unlink",
            FileOp::Truncate => "truncate",
            FileOp::Chmod => "chmod",
            FileOp::Chown => "chown",
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn file_lines(out: &mut String, f: &FileRecord) {
    let _ = write!(out, "    {}", f.path.display_safe());
    if let Some(to) = &f.renamed_to {
        let _ = write!(out, " -> {}", to.display_safe());
    }
    if let Some(host) = f.host_path.as_ref().filter(|h| **h != f.path) {
        let _ = write!(out, "  (host {})", host.display_safe());
    }
    out.push('\n');
    let _ = write!(out, "        {}", ops_text(&f.ops));
    if let Some(fd) = f.fd {
        let _ = write!(out, " fd {fd}");
    }
    if f.pid != 0 {
        let _ = write!(out, " by {}", f.pid);
    }
    if let Some(t) = f.opened {
        let _ = write!(out, "; opened {t}");
    }
    if f.writes > 0 {
        let _ = write!(
            out,
            "; {} write(s) {} .. {}",
            f.writes,
            opt_time(f.first_write, "?"),
            opt_time(f.last_write, "?")
        );
    }
    if let Some(t) = f.closed {
        let how = if f.closed_at_exit { " (at exit)" } else { "" };
        let _ = write!(out, "; closed {t}{how}");
    }
    out.push('\n');
}

/// The plain text report: a header with the counts and repairs, the gaps, the process tree
/// (indented; one line per process with pid, comm, container short id and start - exit, then
/// its args), then the changed files of each process with their times. Safe to print to a
/// terminal.
pub fn render_text(inv: &Investigation) -> String {
    let mut out = String::new();
    let s = &inv.stats;
    let r = &s.repairs;
    let _ = writeln!(
        out,
        "dockwatch report: host {}, boot {}, generated {}",
        for_terminal(&inv.host),
        for_terminal(&inv.boot_id),
        inv.generated_at
    );
    let _ = writeln!(
        out,
        "{} events, {} tasks, {} processes ({} in the Docker tree), {} file records, {} gaps",
        s.events, s.tasks, s.processes, s.tree_processes, s.files, s.gaps
    );
    let _ = writeln!(
        out,
        "repairs: {} rootfs propagated, {} thread parents and {} exits from their leader, {} files closed at exit",
        r.rootfs_propagated, r.ppid_from_leader, r.exit_from_leader, r.close_from_exit
    );
    if !inv.gaps.is_empty() {
        out.push_str("\nGaps (events lost; the tree and files may be incomplete there):\n");
        for g in &inv.gaps {
            let reason = serde_json::to_value(g.reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let lost = g.lost.map_or_else(|| "?".to_owned(), |n| n.to_string());
            let _ = write!(out, "  {} .. {}  {reason}, {lost} lost", g.from, g.to);
            if let Some(d) = &g.detail {
                let _ = write!(out, " ({})", for_terminal(d));
            }
            out.push('\n');
        }
    }

    out.push_str("\nProcess tree:\n");
    let order = preorder(inv, &inv.roots);
    if order.is_empty() {
        out.push_str("  (no dockerd, containerd or containerd-shim process in the events)\n");
    }
    for &(id, depth) in &order {
        process_line(&mut out, &inv.processes[id], depth + 1);
    }

    out.push_str("\nChanged files:\n");
    let mut any = false;
    for &(id, _) in &order {
        let n = &inv.processes[id];
        if n.files.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(
            out,
            "  {} {} [{}]",
            n.pid,
            safe(n.comm.as_ref()),
            short_container(n)
        );
        for f in n.files.iter().filter_map(|&f| inv.files.get(f)) {
            file_lines(&mut out, f);
        }
    }
    if !any {
        out.push_str("  (none)\n");
    }
    out
}

#[cfg(test)]
mod tests;
