//! What changed between two investigations of a followed recording, as the JSON lines of
//! `report --follow`: one line per process that appeared or changed (it exited, exec'd, its
//! name became known), per file record that appeared or changed (more writes, closed,
//! renamed), per new gap, and per process or file record a later investigation no longer
//! has (placed otherwise, under another identity). Each line is built from the export document, so its `process`,
//! `file` and `gap` objects have the fields the report's have (docs/report-schema.md).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::model::investigation::Investigation;

/// The previous investigation, as the lines it would give, to compare the next one with.
#[derive(Debug, Default)]
pub struct Changes {
    processes: HashMap<String, Value>,
    /// Each file record with the `who` of its process.
    files: HashMap<String, (Value, Value)>,
    gaps: HashSet<String>,
}

/// A process's identity in the lines: its pid and start (pids are reused).
fn process_key(node: &Map<String, Value>) -> String {
    format!("{}@{}", node["tgid"], node["start"])
}

impl Changes {
    /// No investigation seen yet: the first call reports everything as new.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines for `inv`, a later investigation of the same recording than the last one
    /// given, in the export document's order (parents before children, files in time order,
    /// gaps last).
    pub fn next(&mut self, inv: &Investigation) -> Vec<Value> {
        let doc = super::export_json(inv, None);
        let mut lines = Vec::new();
        let mut processes = HashMap::new();
        let mut files = HashMap::new();
        let mut stack: Vec<(Value, Option<Value>)> = doc["roots"]
            .as_array()
            .map(|roots| roots.iter().rev().map(|r| (r.clone(), None)).collect())
            .unwrap_or_default();
        while let Some((node, parent)) = stack.pop() {
            let Value::Object(mut node) = node else {
                continue;
            };
            let children = node.remove("children");
            let node_files = node.remove("files");
            let key = process_key(&node);
            let who = json!({
                "pid": node["pid"],
                "tgid": node["tgid"],
                "start": node["start"],
                "container_name": node["container_name"],
            });
            let mut process = Value::Object(node);
            if let Some(parent) = &parent {
                process["parent"] = parent.clone();
            }
            if self.processes.get(&key) != Some(&process) {
                lines.push(json!({
                    "change": "process",
                    "new": !self.processes.contains_key(&key),
                    "process": process,
                }));
            }
            let mut seen_paths: HashMap<String, usize> = HashMap::new();
            for file in node_files.iter().flat_map(|f| f.as_array()).flatten() {
                // The n-th record of a path in the process: records only come after it.
                let path = file["path"].to_string();
                let nth = seen_paths.entry(path.clone()).or_insert(0);
                let file_key = format!("{key} {path} {nth}");
                *nth += 1;
                if self.files.get(&file_key).map(|(_, f)| f) != Some(file) {
                    lines.push(json!({
                        "change": "file",
                        "new": !self.files.contains_key(&file_key),
                        "process": who,
                        "file": file,
                    }));
                }
                files.insert(file_key, (who.clone(), file.clone()));
            }
            processes.insert(key, process);
            if let Some(Value::Array(children)) = children {
                stack.extend(children.into_iter().rev().map(|c| (c, Some(who.clone()))));
            }
        }
        // What a later investigation placed otherwise (a process's start known better once
        // its fork arrived gives it another key): said, so a reader's picture stays true.
        for (key, process) in &self.processes {
            if !processes.contains_key(key) {
                lines.push(json!({ "change": "removed", "process": process }));
            }
        }
        for (key, (who, file)) in &self.files {
            if !files.contains_key(key) {
                lines.push(json!({ "change": "removed", "process": who, "file": file }));
            }
        }
        let mut gaps = HashSet::new();
        for gap in doc["gaps"].as_array().into_iter().flatten() {
            let key = gap.to_string();
            if !self.gaps.contains(&key) {
                lines.push(json!({ "change": "gap", "gap": gap }));
            }
            gaps.insert(key);
        }
        *self = Self {
            processes,
            files,
            gaps,
        };
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Event;
    use crate::model::time::Timestamp;
    use crate::pipeline::investigate;

    /// The events of the demo capture, recorded by godo on a Docker host.
    fn demo_events() -> Vec<Event> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo.jsonl.zst");
        crate::storage::capture::read_all(&path).unwrap().0
    }

    fn lines(changes: &mut Changes, events: &[Event]) -> Vec<Value> {
        let (host, boot) = (&events[0].host, &events[0].boot_id);
        changes.next(&investigate(
            events.iter().cloned(),
            host,
            boot,
            Timestamp(1),
            &mut |_| {},
        ))
    }

    fn kinds(lines: &[Value]) -> Vec<(String, bool)> {
        lines
            .iter()
            .map(|l| {
                (
                    l["change"].as_str().unwrap_or("?").to_owned(),
                    l["new"].as_bool().unwrap_or(true),
                )
            })
            .collect()
    }

    #[test]
    fn the_first_investigation_is_all_new_and_the_same_one_again_changes_nothing() {
        let events = demo_events();
        let mut changes = Changes::new();
        let first = lines(&mut changes, &events);
        assert!(!first.is_empty());
        assert!(kinds(&first).iter().all(|(_, new)| *new), "{first:?}");
        assert!(lines(&mut changes, &events).is_empty());
    }

    #[test]
    fn a_later_investigation_gives_only_what_appeared_or_changed() {
        let events = demo_events();
        let cut = events.len() * 2 / 3;
        let mut changes = Changes::new();
        let first = lines(&mut changes, &events[..cut]);
        let later = lines(&mut changes, &events);
        let all = lines(&mut Changes::new(), &events);
        assert!(!later.is_empty(), "the last events changed nothing");
        assert!(later.len() < all.len(), "{later:?}");
        // Every line of the full investigation is either unchanged since the first or in the
        // later lines.
        let first_text: HashSet<String> = first
            .iter()
            .map(|l| l.to_string().replace("\"new\":true", ""))
            .collect();
        for line in &all {
            let text = line.to_string().replace("\"new\":true", "");
            let announced = later.iter().any(|l| {
                l["change"] == line["change"]
                    && (l["process"] == line["process"] || l["gap"] == line["gap"])
                    && l["file"] == line["file"]
            });
            assert!(
                first_text.contains(&text) || announced,
                "{line} neither unchanged nor announced"
            );
        }
    }

    #[test]
    fn the_process_lines_applied_in_order_give_the_last_investigation_s_processes() {
        let events = demo_events();
        let key = |p: &Value| format!("{}@{}", p["tgid"], p["start"]);
        let mut changes = Changes::new();
        let mut picture: HashMap<String, Value> = HashMap::new();
        for cut in [events.len() / 3, events.len() * 2 / 3, events.len()] {
            for line in lines(&mut changes, &events[..cut]) {
                match (line["change"].as_str(), line.get("file")) {
                    (Some("process"), _) => {
                        picture.insert(key(&line["process"]), line["process"].clone());
                    }
                    (Some("removed"), None) => {
                        picture.remove(&key(&line["process"]));
                    }
                    _ => {}
                }
            }
        }
        let truth: HashMap<String, Value> = lines(&mut Changes::new(), &events)
            .into_iter()
            .filter(|l| l["change"] == "process")
            .map(|l| (key(&l["process"]), l["process"].clone()))
            .collect();
        assert!(truth.len() > 10);
        assert_eq!(picture, truth);
    }
}
