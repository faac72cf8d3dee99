//! Creating the files the tools write (capture files, reports, exports, `--diag`), safely.
//!
//! Those files hold every argument and path a host ran (secrets included), and `godo` runs as
//! root, so an output:
//!
//! * is created readable by its owner only (mode 0600), or by its group too on request (0640);
//! * is never written through a symbolic link (`O_NOFOLLOW`): a link planted where a root
//!   process will write would otherwise get its target overwritten;
//! * never replaces an existing file unless asked to (`O_EXCL`; `--force` replaces a regular
//!   file, still not through a link);
//! * is never the file being read: writing the capture onto the log it is made from would
//!   truncate the input while it is read.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// How to create an output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputPolicy {
    /// Replace an existing regular file (`--force`).
    pub replace: bool,
    /// Readable by the file's group too (0640 instead of 0600).
    pub group_readable: bool,
}

/// Why an output could not be created.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file exists and replacing it was not asked for.
    #[error("{path} exists: give another name, or --force to replace it")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The path is a symbolic link.
    #[error("{path} is a symbolic link: outputs are never written through one; give the real path")]
    Link {
        /// The file.
        path: PathBuf,
    },
    /// The path names a file being read.
    #[error("{path} is {input}, which is being read: write the output elsewhere")]
    IsInput {
        /// The output.
        path: PathBuf,
        /// The input it is.
        input: PathBuf,
    },
    /// Any other failure to create it.
    #[error("cannot create {path}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Creates `path` for writing as the module documentation says; `inputs` are the files being
/// read, which it must not be.
pub fn create(path: &Path, policy: OutputPolicy, inputs: &[&Path]) -> Result<File, OutputError> {
    if let Ok(out) = std::fs::metadata(path) {
        for input in inputs {
            let same = std::fs::metadata(input)
                .is_ok_and(|i| i.dev() == out.dev() && i.ino() == out.ino());
            if same {
                return Err(OutputError::IsInput {
                    path: path.to_owned(),
                    input: input.to_path_buf(),
                });
            }
        }
    }
    let mut options = OpenOptions::new();
    options
        .write(true)
        .mode(if policy.group_readable { 0o640 } else { 0o600 })
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    if policy.replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options.open(path).map_err(|source| {
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if link || source.raw_os_error() == Some(libc::ELOOP) {
            OutputError::Link {
                path: path.to_owned(),
            }
        } else if source.kind() == io::ErrorKind::AlreadyExists {
            OutputError::Exists {
                path: path.to_owned(),
            }
        } else {
            OutputError::Create {
                path: path.to_owned(),
                source,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_output_is_private_new_and_never_a_link_nor_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("capture.jsonl");
        let f = create(&out, OutputPolicy::default(), &[]).unwrap();
        drop(f);
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Existing: refused, unless replacing is asked for.
        let err = create(&out, OutputPolicy::default(), &[]).unwrap_err();
        assert!(matches!(err, OutputError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("--force"), "{err}");
        std::fs::write(&out, b"old").unwrap();
        let replace = OutputPolicy {
            replace: true,
            ..OutputPolicy::default()
        };
        drop(create(&out, replace, &[]).unwrap());
        assert_eq!(std::fs::read(&out).unwrap(), b"", "replaced");
        // A planted link, to a file and to nowhere: refused, the target untouched.
        let target = dir.path().join("shadow");
        std::fs::write(&target, b"secret").unwrap();
        for (name, to) in [
            ("link", target.clone()),
            ("dangling", dir.path().join("none")),
        ] {
            let link = dir.path().join(name);
            std::os::unix::fs::symlink(&to, &link).unwrap();
            for policy in [OutputPolicy::default(), replace] {
                let err = create(&link, policy, &[]).unwrap_err();
                assert!(matches!(err, OutputError::Link { .. }), "{name}: {err}");
            }
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"secret");
        assert!(!dir.path().join("none").exists());
        // The file being read, by another name too.
        let input = dir.path().join("audit.log");
        std::fs::write(&input, b"type=SYSCALL\n").unwrap();
        let alias = dir.path().join("alias");
        std::fs::hard_link(&input, &alias).unwrap();
        let err = create(&alias, replace, &[&input]).unwrap_err();
        assert!(matches!(err, OutputError::IsInput { .. }), "{err}");
        assert_eq!(std::fs::read(&input).unwrap(), b"type=SYSCALL\n");
        // Group-readable on request.
        let shared = dir.path().join("shared.json");
        let group = OutputPolicy {
            group_readable: true,
            ..OutputPolicy::default()
        };
        drop(create(&shared, group, &[]).unwrap());
        let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
