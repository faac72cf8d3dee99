//! One process's descriptor table and the kernel's rules for it.
//!
//! The rules, as the kernel applies them (`fs/file.c`, `fs/exec.c`, `kernel/fork.c`):
//!
//! * `open` (and `creat`, `openat`, `openat2`) puts a new descriptor at the number it returned;
//! * `dup`, `dup2`, `dup3` and `fcntl(F_DUPFD[_CLOEXEC])` make the new number refer to the same
//!   open file as the old one, closing what the new number referred to before; the copy is
//!   close-on-exec only when asked (`dup3(O_CLOEXEC)`, `F_DUPFD_CLOEXEC`), never by inheritance;
//!   `dup2(fd, fd)` changes nothing;
//! * `close` removes one descriptor; `close_range(first, last, flags)` removes every descriptor
//!   in the range, or with `CLOSE_RANGE_CLOEXEC` marks them close-on-exec instead;
//! * `exec` removes the close-on-exec descriptors;
//! * a fork that makes a process copies the table as it stands at the fork; a thread shares its
//!   process's table (so tables are kept per process, not per task);
//! * exit drops the table.
//!
//! A call that the kernel says succeeded on a descriptor this table does not know (the process
//! got it before the recording started, or through a way audit does not show, such as
//! `SCM_RIGHTS`) still opens the new number, on an unknown file: later uses of it are not
//! attributed to whatever the number meant before.

use std::sync::Arc;

/// One open descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot<F> {
    /// The descriptor number.
    pub fd: i32,
    /// Closed by the next exec.
    pub cloexec: bool,
    /// The open file it refers to, when known.
    pub file: Option<F>,
}

/// A process's descriptors, sorted by number.
///
/// A process holds a handful of descriptors, so a sorted slice is both smaller and faster than a
/// map. It sits behind an `Arc`: a fork's copy is free, parent and child share one slice until
/// either changes it, and a change builds a new slice (tables are a few slots long, so the copy
/// costs less than the sharing saves, and most forked children exec or exit before changing
/// anything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdTable<F>(Arc<[Slot<F>]>);

impl<F> Default for FdTable<F> {
    fn default() -> Self {
        Self(Arc::new([]))
    }
}

/// What a dup did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duped<F> {
    /// The file both numbers now refer to, when known.
    pub file: Option<F>,
    /// What the new number referred to before (closed by the dup).
    pub replaced: Option<Slot<F>>,
}

impl<F: Clone> FdTable<F> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table holding `slots` (as read from `/proc/PID/fd`); a number listed twice keeps its
    /// first entry.
    pub fn from_slots(mut slots: Vec<Slot<F>>) -> Self {
        slots.sort_by_key(|s| s.fd);
        slots.dedup_by_key(|s| s.fd);
        Self(slots.into())
    }

    fn find(&self, fd: i32) -> Result<usize, usize> {
        self.0.binary_search_by_key(&fd, |s| s.fd)
    }

    /// The descriptor `fd`, when open.
    pub fn get(&self, fd: i32) -> Option<&Slot<F>> {
        self.find(fd).ok().map(|i| &self.0[i])
    }

    /// The file behind `fd`, when it is open and its file is known.
    pub fn file(&self, fd: i32) -> Option<&F> {
        self.get(fd).and_then(|s| s.file.as_ref())
    }

    /// The open descriptors, by number.
    pub fn slots(&self) -> &[Slot<F>] {
        &self.0
    }

    /// Number of open descriptors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this table and `other` are the same shared slice (a fork not yet changed by
    /// either side).
    pub fn shares_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Applies `change` to a private copy of the slots, which then replaces the shared ones.
    fn edit<R>(&mut self, change: impl FnOnce(&mut Vec<Slot<F>>) -> R) -> R {
        let mut slots = self.0.to_vec();
        let r = change(&mut slots);
        self.0 = slots.into();
        r
    }

    fn put(&mut self, slot: Slot<F>) -> Option<Slot<F>> {
        self.edit(|t| match t.binary_search_by_key(&slot.fd, |s| s.fd) {
            Ok(i) => Some(std::mem::replace(&mut t[i], slot)),
            Err(i) => {
                t.insert(i, slot);
                None
            }
        })
    }

    /// An open (or creat) returned `fd` for `file`. Returns what `fd` referred to before, which
    /// the kernel must have closed in between (a close the recording missed).
    pub fn open(&mut self, fd: i32, cloexec: bool, file: F) -> Option<Slot<F>> {
        self.put(Slot {
            fd,
            cloexec,
            file: Some(file),
        })
    }

    /// A dup made `new` refer to what `old` refers to (`cloexec` for `dup3(O_CLOEXEC)` and
    /// `F_DUPFD_CLOEXEC`).
    pub fn dup(&mut self, old: i32, new: i32, cloexec: bool) -> Duped<F> {
        let file = self.file(old).cloned();
        if old == new {
            return Duped {
                file,
                replaced: None,
            };
        }
        let replaced = self.put(Slot {
            fd: new,
            cloexec,
            file: file.clone(),
        });
        Duped { file, replaced }
    }

    /// `close(fd)`: what it referred to, when it was open.
    pub fn close(&mut self, fd: i32) -> Option<Slot<F>> {
        let i = self.find(fd).ok()?;
        Some(self.edit(|t| t.remove(i)))
    }

    /// `close_range(first, last, flags)`. With `cloexec_only` (`CLOSE_RANGE_CLOEXEC`) the
    /// descriptors stay open and become close-on-exec, and nothing is returned; otherwise the
    /// closed descriptors are returned, by number.
    pub fn close_range(&mut self, first: i32, last: i32, cloexec_only: bool) -> Vec<Slot<F>> {
        let in_range = |s: &Slot<F>| first <= s.fd && s.fd <= last;
        if !self.0.iter().any(in_range) {
            return Vec::new();
        }
        self.edit(|t| {
            if cloexec_only {
                t.iter_mut()
                    .filter(|s| in_range(s))
                    .for_each(|s| s.cloexec = true);
                Vec::new()
            } else {
                let (closed, kept) = std::mem::take(t).into_iter().partition(in_range);
                *t = kept;
                closed
            }
        })
    }

    /// An exec: closes the close-on-exec descriptors and returns them, by number.
    pub fn exec(&mut self) -> Vec<Slot<F>> {
        if !self.0.iter().any(|s| s.cloexec) {
            return Vec::new();
        }
        self.edit(|t| {
            let (closed, kept) = std::mem::take(t).into_iter().partition(|s| s.cloexec);
            *t = kept;
            closed
        })
    }

    /// The table a forked child starts with: this one as it stands now.
    pub fn fork(&self) -> Self {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(t: &FdTable<&'static str>) -> Vec<(i32, bool, Option<&'static str>)> {
        t.slots()
            .iter()
            .map(|s| (s.fd, s.cloexec, s.file))
            .collect()
    }

    /// `sh -c 'echo x > /tmp/f'`: open as 3, dup2(3, 1), close(3): fd 1 is the file.
    #[test]
    fn a_shell_redirection_leaves_the_file_on_stdout() {
        let mut t = FdTable::from_slots(vec![Slot {
            fd: 1,
            cloexec: false,
            file: Some("tty"),
        }]);
        assert_eq!(t.open(3, false, "/tmp/f"), None);
        let d = t.dup(3, 1, false);
        assert_eq!(d.file, Some("/tmp/f"));
        assert_eq!(d.replaced.map(|s| s.file), Some(Some("tty")));
        assert_eq!(t.close(3).and_then(|s| s.file), Some("/tmp/f"));
        assert_eq!(files(&t), [(1, false, Some("/tmp/f"))]);
        assert_eq!(t.close(3), None, "closing a closed fd changes nothing");
    }

    #[test]
    fn dup_copies_are_not_close_on_exec_unless_asked() {
        let mut t = FdTable::new();
        t.open(3, true, "/lock");
        t.dup(3, 4, false);
        t.dup(3, 5, true);
        t.dup(3, 3, false);
        assert_eq!(
            files(&t),
            [
                (3, true, Some("/lock")),
                (4, false, Some("/lock")),
                (5, true, Some("/lock"))
            ]
        );
        let closed: Vec<i32> = t.exec().iter().map(|s| s.fd).collect();
        assert_eq!(closed, [3, 5]);
        assert_eq!(files(&t), [(4, false, Some("/lock"))]);
    }

    #[test]
    fn a_dup_of_an_unknown_fd_opens_an_unknown_file() {
        let mut t = FdTable::new();
        t.open(1, false, "/old");
        let d = t.dup(9, 1, false);
        assert_eq!(d.file, None);
        assert_eq!(files(&t), [(1, false, None)], "fd 1 is no longer /old");
    }

    #[test]
    fn close_range_closes_or_marks_the_range() {
        let mut t = FdTable::new();
        for fd in [0, 3, 4, 7, 20] {
            t.open(fd, false, "f");
        }
        t.close_range(4, 7, true);
        assert_eq!(
            files(&t)
                .iter()
                .map(|&(fd, c, _)| (fd, c))
                .collect::<Vec<_>>(),
            [(0, false), (3, false), (4, true), (7, true), (20, false)]
        );
        let closed: Vec<i32> = t
            .close_range(3, i32::MAX, false)
            .iter()
            .map(|s| s.fd)
            .collect();
        assert_eq!(closed, [3, 4, 7, 20]);
        assert_eq!(files(&t), [(0, false, Some("f"))]);
    }

    #[test]
    fn a_fork_shares_until_one_side_changes() {
        let mut parent = FdTable::new();
        parent.open(5, false, "/var/log/app.log");
        let mut child = parent.fork();
        assert!(child.shares_with(&parent));
        parent.close(5);
        assert!(!child.shares_with(&parent));
        assert_eq!(child.file(5), Some(&"/var/log/app.log"));
        assert_eq!(parent.file(5), None);
        child.open(6, false, "/tmp/x");
        assert_eq!(parent.len(), 0);
        assert_eq!(child.len(), 2);
    }

    #[test]
    fn an_open_over_a_tracked_fd_returns_the_missed_close() {
        let mut t = FdTable::new();
        t.open(3, false, "/a");
        assert_eq!(t.open(3, false, "/b").and_then(|s| s.file), Some("/a"));
        assert_eq!(t.file(3), Some(&"/b"));
    }
}
