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
/// SHA-256 of its first MiB (after decompression). The same file always gives the same id,
/// whatever its name or compression.
pub fn boot_id_from_file(path: &Path) -> Result<String, InputError> {
    let mut reader = LogReader::open(path)?;
    let mut head = Vec::with_capacity(HASHED);
    let mut line = Vec::new();
    while head.len() < HASHED && reader.next_line(&mut line)? {
        head.extend_from_slice(&line);
        head.push(b'\n');
    }
    head.truncate(HASHED);
    Ok(boot_id_from_bytes(&head))
}

/// The boot id of a log whose first MiB is `head`.
pub fn boot_id_from_bytes(head: &[u8]) -> String {
    let digest = Sha256::digest(head);
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
    fn host_is_the_file_name() {
        assert_eq!(
            host_from_file_name(Path::new("/x/web-1.audit.log")),
            "web-1.audit.log"
        );
    }
}
