//! `e`: writing the selected subtree to a JSON file.
//!
//! The document has the report's shape, `{host, boot_id, generated_at, roots: [node]}`, each
//! node carrying its process fields, its `files` and its `children`. Byte strings keep their
//! lossless form (a string, or `{text, hex}` for invalid UTF-8).
//!
//! This module builds that document itself until `dockwatch_shared::report::export_json` (the
//! report's own writer) is available to this crate; then it only writes the file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dockwatch_shared::investigation::{Investigation, NodeId};
use serde_json::{Value, json};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file could not be created or written.
    #[error("cannot write {path}: {source} (choose a writable directory)")]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The node does not exist.
    #[error("process #{0} is not in this investigation")]
    NoSuchNode(NodeId),
}

fn node_json(inv: &Investigation, id: NodeId) -> Value {
    // Iterative post-order, so a pathologically deep tree cannot overflow the stack.
    let mut done: Vec<Option<Value>> = Vec::new();
    let mut slots = std::collections::HashMap::new();
    let mut stack = vec![(id, false)];
    while let Some((n, expanded)) = stack.pop() {
        let p = &inv.processes[n];
        if !expanded {
            stack.push((n, true));
            for &c in p.children.iter().rev() {
                stack.push((c, false));
            }
            continue;
        }
        let children: Vec<Value> = p
            .children
            .iter()
            .filter_map(|c| slots.remove(c).and_then(|i: usize| done[i].take()))
            .collect();
        let files: Vec<Value> = p
            .files
            .iter()
            .map(|&f| serde_json::to_value(&inv.files[f]).unwrap_or(Value::Null))
            .collect();
        let v = json!({
            "pid": p.pid, "tgid": p.tgid, "ppid": p.ppid, "threads": p.threads,
            "comm": p.comm, "exe": p.exe, "args": p.args, "cwd": p.cwd, "rootfs": p.rootfs,
            "container_id": p.container_id, "container_name": p.container_name, "image": p.image,
            "star": p.star, "role": p.role,
            "start": p.start.map(|t| t.to_rfc3339()), "exit": p.exit.map(|t| t.to_rfc3339()),
            "exit_code": p.exit_code, "signal": p.signal,
            "files": files, "children": children,
        });
        slots.insert(n, done.len());
        done.push(Some(v));
    }
    slots
        .remove(&id)
        .and_then(|i| done[i].take())
        .unwrap_or(Value::Null)
}

/// The export document for the subtree of `node`.
pub fn subtree_json(inv: &Investigation, node: NodeId) -> Result<Value, ExportError> {
    if node >= inv.processes.len() {
        return Err(ExportError::NoSuchNode(node));
    }
    Ok(json!({
        "host": inv.host,
        "boot_id": inv.boot_id,
        "generated_at": inv.generated_at.to_rfc3339(),
        "roots": [node_json(inv, node)],
        "gaps": inv.gaps,
        "stats": inv.stats,
    }))
}

/// Writes the subtree of `node` to `path`; returns the absolute path written.
pub fn write(inv: &Investigation, node: NodeId, path: &Path) -> Result<PathBuf, ExportError> {
    let doc = subtree_json(inv, node)?;
    let err = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    let file = File::create(path).map_err(err)?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, &doc).map_err(|e| err(e.into()))?;
    out.write_all(b"\n").map_err(err)?;
    out.flush().map_err(err)?;
    Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    #[test]
    fn exports_the_subtree_with_files_and_children() {
        let inv = synthetic::demo();
        let job = inv.processes.iter().position(|p| p.pid == 1420).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.json");
        let written = write(&inv, job, &path).unwrap();
        assert!(written.is_absolute());
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["host"], "synthetic-host");
        let root = &doc["roots"][0];
        assert_eq!(root["pid"], 1420);
        assert_eq!(root["container_name"], "batch-job");
        assert_eq!(root["children"].as_array().unwrap().len(), 6);
        assert_eq!(root["children"][1]["files"][0]["path"], "/out/root.txt");
    }

    #[test]
    fn an_unwritable_path_says_so() {
        let inv = synthetic::demo();
        let err = write(&inv, 0, Path::new("/nonexistent-dir/x.json")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.json"), "{err}");
    }
}
