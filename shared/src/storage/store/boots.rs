//! The boot list without a scan of the event log: one summary document per (host, boot) in
//! `<raw_db>.boots`, shaped like the `$group` result it replaces
//! (`{_id: {host, boot_id}, events, first, last}`), kept by the writer.
//!
//! Each batch adds its events with `$inc`/`$min`/`$max` (one upsert per boot in the batch). A
//! summary is recounted from the log (one index-served count and two index-served finds) when
//! it is new (the boot may hold events written before summaries existed) and when the batch
//! held events already stored (duplicates are not counted twice). A log written before this
//! collection existed gets its summaries once, from one aggregation, when a writer first opens
//! it; until then, and for a reader of such a log, the boot list falls back to the aggregation.
//! Every operation here is one that a sharded collection accepts.

use std::collections::BTreeMap;

use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::Collection;

use super::{BootSummary, EVENTS_COLLECTION, Store, StoreError, boot_summary, sort_boots};
use crate::model::event::Event;

/// Name of the collection, in the raw database, of the per-boot summaries.
pub const BOOTS_COLLECTION: &str = "boots";

/// What one batch adds to one boot's summary.
#[derive(Debug, PartialEq, Eq)]
struct Tally {
    events: i64,
    first: i64,
    last: i64,
}

/// The batch's events counted per (host, boot).
fn tally(events: &[Event]) -> BTreeMap<(&str, &str), Tally> {
    let mut out: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    for e in events {
        let t = e.time.as_micros();
        let entry = out
            .entry((e.host.as_str(), e.boot_id.as_str()))
            .or_insert(Tally {
                events: 0,
                first: t,
                last: t,
            });
        entry.events += 1;
        entry.first = entry.first.min(t);
        entry.last = entry.last.max(t);
    }
    out
}

fn key(host: &str, boot_id: &str) -> Document {
    doc! { "_id": { "host": host, "boot_id": boot_id } }
}

impl Store {
    fn boots_collection(&self) -> Collection<Document> {
        self.raw.collection(BOOTS_COLLECTION)
    }

    /// Adds a stored batch to its boots' summaries; `duplicates`: the batch held events stored
    /// before, so its boots are recounted instead.
    pub(super) async fn add_to_boot_summaries(
        &self,
        events: &[Event],
        duplicates: bool,
    ) -> Result<(), StoreError> {
        let err = |source| StoreError::command("update the boot summaries", source);
        for ((host, boot_id), t) in tally(events) {
            let new = if duplicates {
                true
            } else {
                let update = doc! {
                    "$inc": { "events": t.events },
                    "$min": { "first": t.first },
                    "$max": { "last": t.last },
                };
                let result = self
                    .boots_collection()
                    .update_one(key(host, boot_id), update)
                    .upsert(true)
                    .await
                    .map_err(err)?;
                result.upserted_id.is_some()
            };
            if new {
                self.recount_boot(host, boot_id).await?;
            }
        }
        Ok(())
    }

    /// Rewrites one boot's summary from the log (served by the `host, boot_id, time` index).
    async fn recount_boot(&self, host: &str, boot_id: &str) -> Result<(), StoreError> {
        let err = |source| StoreError::command("recount a boot's events", source);
        let filter = doc! { "host": host, "boot_id": boot_id };
        let events = self.events_collection();
        let count = events.count_documents(filter.clone()).await.map_err(err)?;
        let edge = |order: i32| {
            events
                .find_one(filter.clone())
                .sort(doc! { "time": order })
                .projection(doc! { "time": 1 })
        };
        let time = |d: Option<Document>| match d.as_ref().and_then(|d| d.get("time")) {
            Some(bson::Bson::Int64(t)) => Some(*t),
            Some(bson::Bson::Int32(t)) => Some(i64::from(*t)),
            _ => None,
        };
        let first = time(edge(1).await.map_err(err)?);
        let last = time(edge(-1).await.map_err(err)?);
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(()); // nothing stored for it (yet)
        };
        let summary = doc! {
            "events": i64::try_from(count).unwrap_or(i64::MAX),
            "first": first,
            "last": last,
        };
        self.boots_collection()
            .replace_one(key(host, boot_id), summary)
            .upsert(true)
            .await
            .map_err(err)?;
        Ok(())
    }

    /// For a log written before summaries existed: every boot's summary, from one aggregation.
    /// Nothing to do when summaries exist or the log is empty.
    pub(super) async fn backfill_boot_summaries(&self) -> Result<(), StoreError> {
        let err = |source| StoreError::command("summarize the boots of the log", source);
        if self
            .boots_collection()
            .find_one(doc! {})
            .await
            .map_err(err)?
            .is_some()
        {
            return Ok(());
        }
        let groups = self.aggregate_boots().await?;
        if groups.is_empty() {
            return Ok(());
        }
        self.boots_collection()
            .insert_many(groups)
            .ordered(false)
            .await
            .map_err(err)?;
        Ok(())
    }

    /// The `$group` of the whole log by (host, boot), as summary documents.
    async fn aggregate_boots(&self) -> Result<Vec<Document>, StoreError> {
        let err = |source| StoreError::command("list boots", source);
        let pipeline = [doc! { "$group": {
            "_id": { "host": "$host", "boot_id": "$boot_id" },
            "events": { "$sum": 1 },
            "first": { "$min": "$time" },
            "last": { "$max": "$time" },
        } }];
        self.raw
            .collection::<Document>(EVENTS_COLLECTION)
            .aggregate(pipeline)
            .await
            .map_err(err)?
            .try_collect()
            .await
            .map_err(err)
    }

    /// Every (host, boot) in the log with its event count and time range, sorted by host, then
    /// by first event time: from the summaries, or (a log written before them) from a scan.
    pub async fn list_boots(&self) -> Result<Vec<BootSummary>, StoreError> {
        let err = |source| StoreError::command("list boots", source);
        let mut docs: Vec<Document> = self
            .boots_collection()
            .find(doc! {})
            .await
            .map_err(err)?
            .try_collect()
            .await
            .map_err(err)?;
        if docs.is_empty() {
            docs = self.aggregate_boots().await?;
        }
        let mut boots: Vec<BootSummary> =
            docs.iter().map(boot_summary).collect::<Result<_, _>>()?;
        sort_boots(&mut boots);
        Ok(boots)
    }

    /// The boot list from a scan of the whole log, whatever the summaries say (tests compare
    /// the two).
    pub async fn list_boots_by_scan(&self) -> Result<Vec<BootSummary>, StoreError> {
        let docs = self.aggregate_boots().await?;
        let mut boots: Vec<BootSummary> =
            docs.iter().map(boot_summary).collect::<Result<_, _>>()?;
        sort_boots(&mut boots);
        Ok(boots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Timestamp;

    #[test]
    fn a_batch_is_counted_per_boot() {
        let sample = crate::testing::samples()[0].clone();
        let mut events = vec![sample.clone(), sample.clone()];
        events[0].time = Timestamp(30);
        events[1].time = Timestamp(10);
        let mut other = sample;
        other.boot_id = "other".into();
        other.time = Timestamp(20);
        events.push(other);
        let t = tally(&events);
        assert_eq!(t.len(), 2);
        let first = &t[&(events[0].host.as_str(), events[0].boot_id.as_str())];
        assert_eq!(
            *first,
            Tally {
                events: 2,
                first: 10,
                last: 30
            }
        );
    }
}
