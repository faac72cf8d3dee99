//! `e`: writing the selected subtree to a JSON file, in the report's export schema
//! (`dockwatch_shared::presentation::report::ExportDoc`, documented in `docs/report-schema.md`), compact.
//!
//! The file is created as `dockwatch_shared::storage::output` says: mode 0600, never through a symbolic
//! link (the default name is predictable, so a planted link must not be written through), and
//! over an existing regular file only when the analyst confirmed replacing it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dockwatch_shared::model::investigation::{Investigation, NodeId};
use dockwatch_shared::presentation::report::{ExportDoc, write_json};
use dockwatch_shared::storage::output::{self, OutputError, OutputPolicy};

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
    /// The file exists and replacing it was not confirmed.
    #[error("{path} exists: Enter again replaces it, or edit the name")]
    Exists {
        /// Where.
        path: PathBuf,
    },
    /// The name is a symbolic link; exports never write through one.
    #[error("{path} is a symbolic link: edit the name to write a new file")]
    Link {
        /// Where.
        path: PathBuf,
    },
    /// The node does not exist.
    #[error("process #{0} is not in this investigation")]
    NoSuchNode(NodeId),
}

/// Writes the subtree of `node` to `path` (replacing a regular file there with `replace`);
/// returns the absolute path written.
pub fn write(
    inv: &Investigation,
    node: NodeId,
    path: &Path,
    replace: bool,
) -> Result<PathBuf, ExportError> {
    if node >= inv.processes.len() {
        return Err(ExportError::NoSuchNode(node));
    }
    let err = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    let policy = OutputPolicy {
        replace,
        ..OutputPolicy::default()
    };
    let file = output::create(path, policy, &[]).map_err(|e| match e {
        OutputError::Exists { path } => ExportError::Exists { path },
        OutputError::Link { path } => ExportError::Link { path },
        OutputError::Create { source, .. } => err(source),
        other => err(std::io::Error::other(other)),
    })?;
    let mut out = BufWriter::new(file);
    write_json(&mut out, &ExportDoc::new(inv, Some(node)), false).map_err(|e| err(e.into()))?;
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
        let written = write(&inv, job, &path, false).unwrap();
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
    fn an_export_is_private_replaces_a_file_only_when_asked_and_never_follows_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let inv = synthetic::demo();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.json");
        write(&inv, 0, &path, false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let err = write(&inv, 0, &path, false).unwrap_err();
        assert!(matches!(err, ExportError::Exists { .. }), "{err}");
        let job = inv.processes.iter().position(|p| p.pid == 1420).unwrap();
        write(&inv, job, &path, true).unwrap();
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["roots"][0]["pid"], 1420, "replaced");
        let target = dir.path().join("victim");
        std::fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("planted.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write(&inv, 0, &link, true).unwrap_err();
        assert!(matches!(err, ExportError::Link { .. }), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn an_unwritable_path_says_so() {
        let inv = synthetic::demo();
        let err = write(&inv, 0, Path::new("/nonexistent-dir/x.json"), false).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.json"), "{err}");
    }
}
