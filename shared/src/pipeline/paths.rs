//! Path arithmetic for the `files` step: relative paths against a cwd, lexical clean-up, and
//! container paths mapped to host paths through a rootfs. Pure byte operations: Linux paths are
//! bytes, and the files they name are long gone when the analyst looks, so nothing here touches
//! the file system (and `..` is resolved lexically).

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

/// The host's name for `path` (absolute, as the process sees it): `rootfs` + `path` for a
/// process with a rootfs; the path itself for a process outside any container; unknown for a
/// container process whose rootfs is unknown, and for a relative path.
pub fn host_path(
    rootfs: Option<&ByteString>,
    in_container: bool,
    path: &ByteString,
) -> Option<ByteString> {
    if path.as_bytes().first() != Some(&b'/') {
        return None;
    }
    match rootfs {
        Some(r) if is_rootfs(Some(r)) => {
            let r = r.as_bytes();
            let r = r.strip_suffix(b"/").unwrap_or(r);
            let mut out = Vec::with_capacity(r.len() + path.len());
            out.extend_from_slice(r);
            out.extend_from_slice(path.as_bytes());
            Some(ByteString::from_bytes(out))
        }
        _ if !in_container => Some(path.clone()),
        _ => None,
    }
}

/// Splits a path that may already be a host path below `rootfs` (the targets of `/proc/PID/fd`
/// links can be either) into (path as the process sees it, host path).
pub fn split_host_path(
    target: ByteString,
    rootfs: Option<&ByteString>,
    in_container: bool,
) -> (ByteString, Option<ByteString>) {
    if let Some(r) = rootfs.filter(|r| is_rootfs(Some(r))) {
        let r = r.as_bytes();
        let r = r.strip_suffix(b"/").unwrap_or(r);
        if let Some(rest) = target
            .as_bytes()
            .strip_prefix(r)
            .filter(|rest| rest.first() == Some(&b'/'))
        {
            let inner = ByteString::from(rest);
            return (inner, Some(target));
        }
    }
    let host = host_path(rootfs, in_container, &target);
    (target, host)
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
    fn host_paths_go_through_the_rootfs() {
        let root = ByteString::from("/var/lib/docker/overlay2/abc/merged/");
        let p = ByteString::from("/tmp/x");
        assert_eq!(
            host_path(Some(&root), true, &p).unwrap().as_bytes(),
            b"/var/lib/docker/overlay2/abc/merged/tmp/x"
        );
        assert_eq!(host_path(None, false, &p).unwrap().as_bytes(), b"/tmp/x");
        assert_eq!(host_path(None, true, &p), None);
        let slash = ByteString::from("/");
        assert_eq!(host_path(Some(&slash), true, &p), None);
        assert_eq!(host_path(None, false, &ByteString::from("rel")), None);
    }

    #[test]
    fn a_host_path_below_the_rootfs_splits_into_both_names() {
        let root = ByteString::from("/var/lib/docker/overlay2/abc/merged");
        let (inner, host) = split_host_path(
            "/var/lib/docker/overlay2/abc/merged/tmp/x".into(),
            Some(&root),
            true,
        );
        assert_eq!(inner.as_bytes(), b"/tmp/x");
        assert_eq!(
            host.unwrap().as_bytes(),
            b"/var/lib/docker/overlay2/abc/merged/tmp/x"
        );
        let (inner, host) = split_host_path("/tmp/y".into(), Some(&root), true);
        assert_eq!(inner.as_bytes(), b"/tmp/y");
        assert_eq!(
            host.unwrap().as_bytes(),
            b"/var/lib/docker/overlay2/abc/merged/tmp/y"
        );
    }
}
