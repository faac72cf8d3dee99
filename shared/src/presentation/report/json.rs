//! Writing the JSON document of an investigation: streamed straight from the [`Investigation`]
//! (no intermediate JSON tree, so a report of a million events costs little more memory than the
//! investigation itself), compact unless pretty printing is asked for, and safe for a terminal.
//!
//! "Safe" here: recorded strings are attacker-chosen, and a JSON report is often read with
//! `cat` or `less -R`. JSON itself only requires escaping control characters below U+0020; this
//! writer also escapes the C1 controls (U+0080..U+009F, among them U+009B, a one-character CSI
//! that terminals act on), the Unicode bidirectional controls (which reorder what a reader
//! sees, e.g. U+202E) and the line and paragraph separators, as `\uXXXX`. Any JSON parser reads
//! them back unchanged.

use std::cell::RefCell;
use std::io;

use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::MAX_JSON_DEPTH;
use crate::model::investigation::{
    ExecRecord, FileOp, FileRecord, GapRecord, Investigation, NodeId, Stats,
};
use crate::model::mounts::FsKind;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;

/// Whether `c` is escaped as `\uXXXX` beyond what JSON requires (see the module docs).
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// A formatter that escapes what [`needs_escape`] names and otherwise formats like `F`.
struct SafeFormatter<F>(F);

impl<F: Formatter> Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as JSON to `writer` (compact, or indented with `pretty`), escaping as the
/// module docs say; no trailing newline.
pub fn write_json<W: io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
    pretty: bool,
) -> serde_json::Result<()> {
    if pretty {
        let mut ser =
            serde_json::Serializer::with_formatter(writer, SafeFormatter(PrettyFormatter::new()));
        value.serialize(&mut ser)
    } else {
        let mut ser =
            serde_json::Serializer::with_formatter(writer, SafeFormatter(CompactFormatter));
        value.serialize(&mut ser)
    }
}

/// The export document of an investigation (or of one subtree), serialised on the fly: `{host,
/// boot_id, generated_at, stats, gaps, roots}`; see [`super::export_json`] for the shape.
#[derive(Debug)]
pub struct ExportDoc<'a> {
    inv: &'a Investigation,
    tops: Vec<NodeId>,
    stats: Stats,
}

impl<'a> ExportDoc<'a> {
    /// The whole tree, or the subtree of `subtree` (an unknown id gives no roots). The stats
    /// describe what is exported: for a subtree, its tasks, processes and file records (the
    /// events read and the repairs stay those of the whole investigation).
    pub fn new(inv: &'a Investigation, subtree: Option<NodeId>) -> Self {
        let tops = match subtree {
            Some(id) if id < inv.processes.len() => vec![id],
            Some(_) => Vec::new(),
            None => inv.roots.clone(),
        };
        let stats = match subtree {
            None => inv.stats.clone(),
            Some(_) => subtree_stats(inv, &tops),
        };
        Self { inv, tops, stats }
    }
}

/// The counts of the processes below `tops` (themselves included).
fn subtree_stats(inv: &Investigation, tops: &[NodeId]) -> Stats {
    let (mut processes, mut tasks, mut files) = (0u64, 0u64, 0u64);
    let mut stack: Vec<NodeId> = tops.to_vec();
    while let Some(n) = stack.pop() {
        let Some(p) = inv.processes.get(n) else {
            continue;
        };
        if processes > inv.processes.len() as u64 {
            break; // a cycle in bad input
        }
        processes += 1;
        tasks += 1 + p.threads.len() as u64;
        files += p.files.len() as u64;
        stack.extend_from_slice(&p.children);
    }
    Stats {
        tasks,
        processes,
        tree_processes: processes,
        files,
        ..inv.stats.clone()
    }
}

fn rfc3339(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::to_rfc3339)
}

impl Serialize for ExportDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let inv = self.inv;
        let mut map = s.serialize_map(Some(7))?;
        map.serialize_entry("host", &inv.host)?;
        map.serialize_entry("boot_id", &inv.boot_id)?;
        map.serialize_entry("generated_at", &inv.generated_at.to_rfc3339())?;
        map.serialize_entry("stats", &self.stats)?;
        map.serialize_entry("gaps", &Gaps(&inv.gaps))?;
        map.serialize_entry("containers", &Containers(inv))?;
        let walk = Walk {
            inv,
            seen: RefCell::new(vec![false; inv.processes.len()]),
            cut: RefCell::new(Vec::new()),
        };
        map.serialize_entry(
            "roots",
            &Roots {
                walk: &walk,
                tops: &self.tops,
            },
        )?;
        map.end()
    }
}

struct Gaps<'a>(&'a [GapRecord]);

impl Serialize for Gaps<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for g in self.0 {
            seq.serialize_element(&GapOut(g))?;
        }
        seq.end()
    }
}

struct GapOut<'a>(&'a GapRecord);

impl Serialize for GapOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let mut st = s.serialize_struct("gap", 5)?;
        st.serialize_field("reason", &g.reason)?;
        st.serialize_field("lost", &g.lost)?;
        st.serialize_field("from", &g.from.to_rfc3339())?;
        st.serialize_field("to", &g.to.to_rfc3339())?;
        st.serialize_field("detail", &g.detail)?;
        st.end()
    }
}

/// The state of one walk over the tree: which nodes are written (each once, whatever the
/// shape of the data), and the nodes below the depth limit, written later as further roots.
struct Walk<'a> {
    inv: &'a Investigation,
    seen: RefCell<Vec<bool>>,
    cut: RefCell<Vec<NodeId>>,
}

impl Walk<'_> {
    /// Marks `id` written; false when it already was (or does not exist).
    fn visit(&self, id: NodeId) -> bool {
        match self.seen.borrow_mut().get_mut(id) {
            Some(seen) => !std::mem::replace(seen, true),
            None => false,
        }
    }
}

struct Roots<'a> {
    walk: &'a Walk<'a>,
    tops: &'a [NodeId],
}

impl Serialize for Roots<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut queue: Vec<NodeId> = self.tops.to_vec();
        let mut next = 0;
        while next < queue.len() {
            let id = queue[next];
            next += 1;
            if self.walk.visit(id) {
                seq.serialize_element(&NodeOut {
                    walk: self.walk,
                    id,
                    depth: 0,
                })?;
                queue.append(&mut self.walk.cut.borrow_mut());
            }
        }
        seq.end()
    }
}

struct NodeOut<'a> {
    walk: &'a Walk<'a>,
    id: NodeId,
    depth: usize,
}

impl Serialize for NodeOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let inv = self.walk.inv;
        let n = &inv.processes[self.id];
        let mut st = s.serialize_struct("process", 20)?;
        st.serialize_field("pid", &n.pid)?;
        st.serialize_field("tgid", &n.tgid)?;
        st.serialize_field("ppid", &n.ppid)?;
        st.serialize_field("threads", &n.threads)?;
        st.serialize_field("comm", &n.comm)?;
        st.serialize_field("exe", &n.exe)?;
        st.serialize_field("args", &n.args)?;
        st.serialize_field("cwd", &n.cwd)?;
        st.serialize_field("rootfs", &n.rootfs)?;
        st.serialize_field("container_id", &n.container_id)?;
        st.serialize_field("container_name", &n.container_name)?;
        st.serialize_field("image", &n.image)?;
        st.serialize_field("inherited", &n.inherited)?;
        st.serialize_field("star", &n.star)?;
        st.serialize_field("runtime", &crate::presentation::containers::is_plumbing(n))?;
        st.serialize_field("start", &rfc3339(n.start))?;
        st.serialize_field("exit", &rfc3339(n.exit))?;
        st.serialize_field("exit_code", &n.exit_code)?;
        st.serialize_field("execs", &Execs(&n.execs))?;
        st.serialize_field("files", &Files { inv, ids: &n.files })?;
        st.serialize_field(
            "children",
            &Children {
                walk: self.walk,
                id: self.id,
                depth: self.depth,
            },
        )?;
        st.end()
    }
}

/// The containers of the investigation, each with the paths its workload changed (see
/// [`crate::presentation::containers`]); times as RFC 3339, writers by pid.
struct Containers<'a>(&'a Investigation);

impl Serialize for Containers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::presentation::containers::{PathState, containers_with_changes};
        #[derive(Serialize)]
        struct ChangeOut<'a> {
            path: &'a ByteString,
            host_path: Option<&'a ByteString>,
            upper_path: Option<&'a ByteString>,
            fs: Option<FsKind>,
            state: &'a PathState,
            summary: String,
            writers: Vec<crate::Pid>,
            first: Option<String>,
            last: Option<String>,
        }
        #[derive(Serialize)]
        struct ContainerOut<'a> {
            id: &'a str,
            name: Option<&'a str>,
            image: Option<&'a str>,
            start: Option<String>,
            exit: Option<String>,
            exit_code: Option<i32>,
            processes: usize,
            changes: Vec<ChangeOut<'a>>,
        }
        let inv = self.0;
        let list = containers_with_changes(inv);
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for (c, found) in &list {
            let changes = found
                .iter()
                .map(|ch| ChangeOut {
                    path: &ch.path,
                    host_path: ch.host_path.as_ref(),
                    upper_path: ch.upper_path.as_ref(),
                    fs: ch.fs,
                    state: &ch.state,
                    summary: ch.state.describe(),
                    writers: ch.writers.iter().map(|&n| inv.processes[n].pid).collect(),
                    first: rfc3339(ch.first),
                    last: rfc3339(ch.last),
                })
                .collect();
            seq.serialize_element(&ContainerOut {
                id: &c.id,
                name: c.name.as_deref(),
                image: c.image.as_deref(),
                start: rfc3339(c.start),
                exit: rfc3339(c.exit),
                exit_code: c.exit_code,
                processes: c.processes,
                changes,
            })?;
        }
        seq.end()
    }
}

/// A process's execs, with times as RFC 3339 like every time of the report.
struct Execs<'a>(&'a [ExecRecord]);

impl Serialize for Execs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct ExecOut<'a> {
            time: Option<String>,
            exe: Option<&'a ByteString>,
            args: &'a [ByteString],
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&ExecOut {
                time: rfc3339(Some(e.time)),
                exe: e.exe.as_ref(),
                args: &e.args,
            })?;
        }
        seq.end()
    }
}

struct Files<'a> {
    inv: &'a Investigation,
    ids: &'a [usize],
}

impl Serialize for Files<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for &id in self.ids {
            let Some(f) = self.inv.files.get(id) else {
                continue;
            };
            let mut out = FileOut::from(f);
            out.by_runtime = self
                .inv
                .processes
                .get(f.node)
                .is_some_and(crate::presentation::containers::is_plumbing)
                || crate::presentation::containers::by_the_runtime(self.inv, id);
            seq.serialize_element(&out)?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct FileOut<'a> {
    path: &'a ByteString,
    host_path: Option<&'a ByteString>,
    upper_path: Option<&'a ByteString>,
    fs: Option<FsKind>,
    pid: crate::Pid,
    fd: Option<i32>,
    ops: &'a [FileOp],
    opened: Option<String>,
    first_write: Option<String>,
    last_write: Option<String>,
    writes: u64,
    closed: Option<String>,
    renamed_to: Option<&'a ByteString>,
    exec: Option<usize>,
    by_runtime: bool,
}

impl<'a> From<&'a FileRecord> for FileOut<'a> {
    fn from(f: &'a FileRecord) -> Self {
        Self {
            path: &f.path,
            host_path: f.host_path.as_ref(),
            upper_path: f.upper_path.as_ref(),
            fs: f.fs,
            pid: f.pid,
            fd: f.fd,
            ops: &f.ops,
            opened: rfc3339(f.opened),
            first_write: rfc3339(f.first_write),
            last_write: rfc3339(f.last_write),
            writes: f.writes,
            closed: rfc3339(f.closed),
            renamed_to: f.renamed_to.as_ref(),
            exec: f.exec,
            by_runtime: false,
        }
    }
}

struct Children<'a> {
    walk: &'a Walk<'a>,
    id: NodeId,
    depth: usize,
}

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let children = &self.walk.inv.processes[self.id].children;
        let mut seq = s.serialize_seq(None)?;
        if self.depth + 1 >= MAX_JSON_DEPTH {
            // Deeper nodes continue as further roots (their `ppid` says where they hang).
            self.walk.cut.borrow_mut().extend(children.iter().copied());
        } else {
            for &c in children {
                if self.walk.visit(c) {
                    seq.serialize_element(&NodeOut {
                        walk: self.walk,
                        id: c,
                        depth: self.depth + 1,
                    })?;
                }
            }
        }
        seq.end()
    }
}
