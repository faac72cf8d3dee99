//! `/` search: which processes match a query: their pid (a number), comm, arguments,
//! container (id, name, image) or the paths of the files they changed. The process with the pid
//! comes first, then hits on a file path (the process that touched the file is the answer; the
//! shells whose script text names it are not), then the others, each in tree order; `n`/`N`
//! walk them. A file-path hit names the file record, so the file table can show its row.
//!
//! Matching is a case-insensitive (ASCII) substring test on the raw bytes, so it also finds text
//! next to invalid UTF-8.

use dockwatch_shared::model::investigation::{FileId, Investigation, NodeId};

use crate::file_table::is_runtime_record;

/// Where a process matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Its pid (or one of its threads' ids) is the query.
    Pid,
    /// Its comm.
    Comm,
    /// One of its arguments or its executable.
    Args,
    /// Its container id, name or image.
    Container,
    /// The path of a file it changed.
    Path,
}

impl Field {
    /// A short name for the status line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pid => "pid",
            Self::Comm => "comm",
            Self::Args => "args",
            Self::Container => "container",
            Self::Path => "file path",
        }
    }
}

/// One matching process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The process.
    pub node: NodeId,
    /// The field that matched (a file path before the others).
    pub field: Field,
    /// For a file-path hit, the first of its file records whose path matched.
    pub file: Option<FileId>,
}

/// A finished search and the hit the cursor is on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// What was searched for.
    pub query: String,
    /// The hits in tree order.
    pub hits: Vec<Hit>,
    /// The current hit.
    pub current: usize,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Every process in tree order (depth first, children by start time).
pub fn tree_order(inv: &Investigation) -> Vec<NodeId> {
    let mut order = Vec::with_capacity(inv.processes.len());
    let mut stack: Vec<NodeId> = inv.roots.iter().rev().copied().collect();
    while let Some(n) = stack.pop() {
        if order.len() > inv.processes.len() {
            break; // a cycle in bad input
        }
        order.push(n);
        stack.extend(inv.processes[n].children.iter().rev());
    }
    order
}

/// Searches `order` (see [`tree_order`]) for `query`; file records the container runtime made
/// are searched only with `plumbing` (see [`is_runtime_record`]).
pub fn search(inv: &Investigation, order: &[NodeId], query: &str, plumbing: bool) -> Search {
    let needle = query.as_bytes();
    let pid: Option<i32> = query.trim().parse().ok();
    let is_pid = |p: &dockwatch_shared::model::investigation::ProcessNode| {
        pid.is_some_and(|q| p.pid == q || p.tgid == q || p.threads.contains(&q))
    };
    let mut hits: Vec<Hit> = order
        .iter()
        .filter_map(|&node| {
            let p = &inv.processes[node];
            let file = p.files.iter().copied().find(|&f| {
                if !plumbing && is_runtime_record(inv, f) {
                    return false;
                }
                let r = &inv.files[f];
                contains(r.path.as_bytes(), needle)
                    || r.renamed_to
                        .as_ref()
                        .is_some_and(|t| contains(t.as_bytes(), needle))
            });
            let field = if is_pid(p) {
                Field::Pid
            } else if file.is_some() {
                Field::Path
            } else if p
                .comm
                .as_ref()
                .is_some_and(|c| contains(c.as_bytes(), needle))
            {
                Field::Comm
            } else if p
                .args
                .iter()
                .chain(p.exe.iter())
                .any(|a| contains(a.as_bytes(), needle))
            {
                Field::Args
            } else if [&p.container_id, &p.container_name, &p.image]
                .into_iter()
                .flatten()
                .any(|c| contains(c.as_bytes(), needle))
            {
                Field::Container
            } else {
                return None;
            };
            Some(Hit { node, field, file })
        })
        .collect();
    // The process with that pid first, then the processes that touched a matching file, then
    // the rest; the sort is stable, so each group stays in tree order.
    hits.sort_by_key(|h| match h.field {
        Field::Pid => 0,
        Field::Path => 1,
        _ => 2,
    });
    Search {
        query: query.to_owned(),
        hits,
        current: 0,
    }
}

impl Search {
    /// The current hit.
    pub fn hit(&self) -> Option<Hit> {
        self.hits.get(self.current).copied()
    }

    /// Moves to the next hit (wrapping) and returns it.
    pub fn next_hit(&mut self) -> Option<Hit> {
        if self.hits.is_empty() {
            return None;
        }
        self.current = (self.current + 1) % self.hits.len();
        self.hit()
    }

    /// Moves to the previous hit (wrapping) and returns it.
    pub fn prev_hit(&mut self) -> Option<Hit> {
        if self.hits.is_empty() {
            return None;
        }
        self.current = (self.current + self.hits.len() - 1) % self.hits.len();
        self.hit()
    }

    /// Starts at the first pid or file-path hit when there is one (that process is what was
    /// asked for), else at the first hit at or after `node` in tree order.
    pub fn start_from(&mut self, order_index: impl Fn(NodeId) -> usize, node: NodeId) {
        if self
            .hits
            .first()
            .is_some_and(|h| matches!(h.field, Field::Pid | Field::Path))
        {
            self.current = 0;
            return;
        }
        let here = order_index(node);
        self.current = self
            .hits
            .iter()
            .position(|h| order_index(h.node) >= here)
            .unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    fn pids(inv: &Investigation, s: &Search) -> Vec<(i32, Field)> {
        s.hits
            .iter()
            .map(|h| (inv.processes[h.node].pid, h.field))
            .collect()
    }

    #[test]
    fn finds_comm_args_container_and_paths_case_insensitively() {
        let inv = synthetic::demo();
        let order = tree_order(&inv);
        assert_eq!(order.len(), inv.processes.len());
        let s = search(&inv, &order, "GREP", true);
        assert_eq!(pids(&inv, &s), [(1420, Field::Args), (1422, Field::Comm)]);
        let s = search(&inv, &order, "batch-job", true);
        assert_eq!(s.hits.len(), 7, "every process of the container");
        assert_eq!(s.hits[0].field, Field::Container);
        // The process that wrote the file comes first, with its record; then the shell whose
        // script text names it.
        let s = search(&inv, &order, "report.txt", true);
        assert_eq!(pids(&inv, &s), [(1423, Field::Path), (1420, Field::Args)]);
        let file = s.hits[0].file.expect("a file-path hit names its record");
        let r = &inv.files[file];
        let names = [Some(&r.path), r.renamed_to.as_ref()];
        assert!(
            names
                .iter()
                .flatten()
                .any(|p| p.to_str_lossy().ends_with("report.txt")),
            "{r:?}"
        );
        assert_eq!(inv.files[file].node, s.hits[0].node);
        assert_eq!(s.hits[1].file, None);
        // A number finds the process with that pid first.
        let s = search(&inv, &order, "1423", true);
        assert_eq!(
            s.hits.first().map(|h| (inv.processes[h.node].pid, h.field)),
            Some((1423, Field::Pid))
        );
        let s = search(&inv, &order, "hits", true);
        assert_eq!(pids(&inv, &s), [(1301, Field::Path)], "it wrote /tmp/hits");
        let s = search(&inv, &order, "httpd.log", true);
        assert_eq!(pids(&inv, &s), [(1220, Field::Path)]);
        assert!(search(&inv, &order, "no such thing", true).hits.is_empty());
    }

    #[test]
    fn next_and_prev_wrap() {
        let inv = synthetic::demo();
        let order = tree_order(&inv);
        let mut s = search(&inv, &order, "grep", true);
        assert_eq!(s.current, 0);
        assert_eq!(s.prev_hit().map(|h| inv.processes[h.node].pid), Some(1422));
        assert_eq!(s.next_hit().map(|h| inv.processes[h.node].pid), Some(1420));
        let mut empty = Search::default();
        assert_eq!(empty.next_hit(), None);
    }
}
