//! `e`: writing the selected subtree to a JSON file, in the report's export schema
//! (`dockwatch_shared::report::export_json`, documented in `docs/report-schema.md`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dockwatch_shared::investigation::{Investigation, NodeId};
use dockwatch_shared::report::export_json;

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

/// Writes the subtree of `node` to `path`; returns the absolute path written.
pub fn write(inv: &Investigation, node: NodeId, path: &Path) -> Result<PathBuf, ExportError> {
    if node >= inv.processes.len() {
        return Err(ExportError::NoSuchNode(node));
    }
    let doc = export_json(inv, Some(node));
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
    use serde_json::Value;

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
