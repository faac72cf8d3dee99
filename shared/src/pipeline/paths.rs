//! Path arithmetic for the `files` step: relative paths against a cwd, lexical clean-up, and
//! host paths below a container's rootfs taken back to the container's own (the mapping the
//! other way, through the container's mounts, is [`crate::pipeline::mounts`]). Pure byte
//! operations: Linux paths are bytes, and the files they name are long gone when the analyst
//! looks, so nothing here touches the file system (and `..` is resolved lexically).

use crate::model::text::ByteString;

fn is_clean_absolute(p: &[u8]) -> bool {
    if p.first() != Some(&b'/') {
        return false;
    }
    // Every component must be non-empty and not `.` or `..`; a lone `/` is clean.
    p.len() == 1
        || p[1..]
            .split(|&c| c == b'/')
            .all(|seg| !seg.is_empty() && seg != b"." && seg != b"..")
}

fn normalize_into<'a>(path: &'a [u8], out: &mut Vec<&'a [u8]>) {
    for seg in path.split(|&c| c == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
}

/// `path` as an absolute, clean path: joined to `cwd` when relative. Without a usable cwd a
/// relative path is returned as it was. No allocation when the path is already clean.
pub fn absolute(path: ByteString, cwd: Option<&ByteString>) -> ByteString {
    let p = path.as_bytes();
    if is_clean_absolute(p) {
        return path;
    }
    let relative = p.first() != Some(&b'/');
    let mut segs: Vec<&[u8]> = Vec::new();
    if relative {
        match cwd.filter(|c| c.as_bytes().first() == Some(&b'/')) {
            Some(c) => normalize_into(c.as_bytes(), &mut segs),
            None => return path,
        }
    }
    normalize_into(p, &mut segs);
    let mut out = Vec::with_capacity(p.len() + cwd.map_or(0, |c| c.len()) + 1);
    for s in &segs {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    ByteString::from_bytes(out)
}

/// True when `root` names a real rootfs (not unknown, not the host's `/`).
pub fn is_rootfs(root: Option<&ByteString>) -> bool {
    root.is_some_and(|r| !r.is_empty() && r.as_bytes() != b"/")
}

/// The path as the process saw it, from a path that may be a host path below `rootfs` (the
/// targets of `/proc/PID/fd` links can be either): the part below the rootfs, else `target`.
pub fn strip_rootfs(target: ByteString, rootfs: Option<&ByteString>) -> ByteString {
    if let Some(r) = rootfs.filter(|r| is_rootfs(Some(r))) {
        let r = r.as_bytes();
        let r = r.strip_suffix(b"/").unwrap_or(r);
        if let Some(rest) = target
            .as_bytes()
            .strip_prefix(r)
            .filter(|rest| rest.first() == Some(&b'/'))
        {
            return ByteString::from(rest);
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abs(p: &str, cwd: Option<&str>) -> String {
        let cwd = cwd.map(ByteString::from);
        absolute(p.into(), cwd.as_ref()).to_str_lossy().into_owned()
    }

    #[test]
    fn relative_paths_resolve_against_the_cwd() {
        assert_eq!(abs("out.txt", Some("/work")), "/work/out.txt");
        assert_eq!(abs("./a/../b", Some("/work/")), "/work/b");
        assert_eq!(abs("../../../x", Some("/a")), "/x");
        assert_eq!(abs("x", None), "x");
        assert_eq!(abs("x", Some("relative")), "x");
    }

    #[test]
    fn absolute_paths_are_cleaned_lexically() {
        assert_eq!(abs("/tmp//a/./b/", None), "/tmp/a/b");
        assert_eq!(abs("/tmp/a", Some("/ignored")), "/tmp/a");
        assert_eq!(abs("/..", None), "/");
        assert_eq!(abs("/", None), "/");
    }

    #[test]
    fn a_host_path_below_the_rootfs_becomes_the_containers_path() {
        let root = ByteString::from("/var/lib/docker/overlay2/abc/merged");
        let inner = strip_rootfs(
            "/var/lib/docker/overlay2/abc/merged/tmp/x".into(),
            Some(&root),
        );
        assert_eq!(inner.as_bytes(), b"/tmp/x");
        let inner = strip_rootfs("/tmp/y".into(), Some(&root));
        assert_eq!(inner.as_bytes(), b"/tmp/y");
        let inner = strip_rootfs("/var/lib/docker/overlay2/abc/merged2/x".into(), Some(&root));
        assert_eq!(inner.as_bytes(), b"/var/lib/docker/overlay2/abc/merged2/x");
        let slash = ByteString::from("/");
        assert_eq!(
            strip_rootfs("/tmp/z".into(), Some(&slash)).as_bytes(),
            b"/tmp/z"
        );
    }
}
