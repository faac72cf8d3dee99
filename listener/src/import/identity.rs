//! Host name and boot id for events imported from a log file.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::input::{InputError, LogReader};

/// Bytes of the (decompressed) log hashed to derive its boot id.
const HASHED: usize = 1 << 20;

/// The host name used when records carry no `node=` and no `--host` was given: the file name.
pub fn host_from_file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "audit-log".to_owned())
}

/// A boot id derived from the log's content: `audit-log-` and the first 32 hex digits of the
/// SHA-256 of its first MiB (after decompression, with a final newline when the log is shorter
/// and has none). The same log always gives the same id, whatever its name or compression, and
/// whether it is a file or a pipe. `reader` still starts at the beginning afterwards.
pub fn boot_id(reader: &mut LogReader) -> Result<String, InputError> {
    if reader.is_stream() {
        Ok(reader.with_head(HASHED, boot_id_from_bytes))
    } else {
        // A file is hashed through a second reader, line by line: no MiB held in memory.
        boot_id_from_file(reader.path())
    }
}

/// [`boot_id`] of the log file at `path`.
pub fn boot_id_from_file(path: &Path) -> Result<String, InputError> {
    let mut reader = LogReader::open(path)?;
    let mut hasher = Sha256::new();
    let mut hashed = 0usize;
    let mut line = Vec::new();
    // A log damaged within its first MiB (a cut `.gz`) is hashed up to the damage: the import
    // itself then stops there and reports it.
    while hashed < HASHED
        && reader
            .next_line(&mut line)
            .is_ok_and(|l| l != dockwatch_shared::storage::lines::Line::End)
    {
        line.push(b'\n');
        let take = line.len().min(HASHED - hashed);
        hasher.update(&line[..take]);
        hashed += take;
    }
    Ok(format_id(&hasher.finalize()))
}

/// The boot id of a log whose first MiB is `head` (the whole log when shorter).
pub fn boot_id_from_bytes(head: &[u8]) -> String {
    let head = &head[..head.len().min(HASHED)];
    let mut hasher = Sha256::new();
    hasher.update(head);
    if head.len() < HASHED && !head.is_empty() && !head.ends_with(b"\n") {
        // As a line-by-line read of the whole log sees its last line.
        hasher.update(b"\n");
    }
    format_id(&hasher.finalize())
}

fn format_id(digest: &[u8]) -> String {
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("audit-log-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_boot_id_whatever_the_compression() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"type=A msg=audit(1.000:1): a=1\n";
        let a = dir.path().join("a.log");
        let b = dir.path().join("b.zst");
        std::fs::write(&a, text).unwrap();
        std::fs::write(&b, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
        let id = boot_id_from_file(&a).unwrap();
        assert_eq!(id, boot_id_from_file(&b).unwrap());
        assert_eq!(id, boot_id_from_bytes(text));
        assert!(id.starts_with("audit-log-") && id.len() == 42, "{id}");
        std::fs::write(&a, b"type=A msg=audit(1.000:2): a=1\n").unwrap();
        assert_ne!(id, boot_id_from_file(&a).unwrap());
    }

    #[test]
    fn a_file_and_its_bytes_give_the_same_boot_id() {
        // Read from a file line by line, or from the head of a pipe: the same id, also for a
        // log without a final newline and for one longer than the hashed MiB.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let line = b"type=A msg=audit(1.000:1): a=1\n";
        let long: Vec<u8> = line.iter().copied().cycle().take(HASHED + 100).collect();
        for text in [
            &line[..line.len() - 1],
            &line[..],
            &long[..HASHED - 1],
            &long[..],
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(boot_id_from_file(&path).unwrap(), boot_id_from_bytes(text));
        }
        assert_ne!(boot_id_from_bytes(line), boot_id_from_bytes(&line[1..]));
    }

    #[test]
    fn host_is_the_file_name() {
        assert_eq!(
            host_from_file_name(Path::new("/x/web-1.audit.log")),
            "web-1.audit.log"
        );
    }
}
