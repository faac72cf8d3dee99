//! Checkpoints: the pipeline's state for one (host, boot) kept in the cooked database, so that
//! reopening a recording reads only the events stored after it.
//!
//! A checkpoint is the [`Pipeline`] (every event taken, reduced to what the steps read) with,
//! per run, the seqs it holds ([`RunSpan`]: first, last, how many). It is written after a load
//! from the store that read new events, and read back by the next load of the same (host,
//! boot), which then asks the store only for the events after each run's last seq
//! ([`Store::stream_events_after`]). It holds the events themselves, not a result, so the
//! investigation made from it is the one a full read makes. It is written only when every run
//! it holds is whole from its first seq to its last (no event missing in between): a missing
//! event could still be stored later (a batch retried after a failure) and would then sort
//! before the checkpoint's end, where no later load looks.
//!
//! Layout, in collection `checkpoints`: a header document `_id` = `"<raw_db>/<host>/<boot_id>"`
//! (the event log's database is part of the name: two logs may hold the same host and boot)
//! with `format`, `events`, `runs` (`[{run, first, last, count}]`) and `chunks`, and chunk
//! documents `_id` = `"<raw_db>/<host>/<boot_id>/<n>"` holding the zstd-compressed JSON of the pipeline in pieces of at
//! most [`CHUNK`] bytes (a MongoDB document holds at most 16 MB). The chunks are written first
//! and the header last, so a header means a complete checkpoint. A checkpoint whose `format` is
//! not this version's [`FORMAT`] (an older or newer dockwatch, whose pipeline state may differ)
//! is ignored, never trusted, as is one that does not decode.
//!
//! [`Store::stream_events_after`]: crate::storage::store::Store::stream_events_after

use bson::{Binary, doc, spec::BinarySubtype};
use futures_util::TryStreamExt;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use crate::pipeline::Pipeline;
use crate::storage::cooked::CookedError;

/// The collection of checkpoints in the cooked database.
pub const CHECKPOINTS: &str = "checkpoints";

/// The format of this version's checkpoints: the crate's version and the encoding's.
pub const FORMAT: &str = concat!(env!("CARGO_PKG_VERSION"), "/json-zstd-1");

/// The largest piece of a checkpoint in one document.
const CHUNK: usize = 8 << 20;

/// The seqs of one run taken: the first, the last, and how many.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RunSpan {
    /// The lowest seq.
    pub first: u64,
    /// The highest seq.
    pub last: u64,
    /// How many different seqs.
    pub count: u64,
}

impl RunSpan {
    /// The span of one seq.
    pub fn of(seq: u64) -> Self {
        Self {
            first: seq,
            last: seq,
            count: 1,
        }
    }

    /// Takes one more seq (not taken before).
    pub fn take(&mut self, seq: u64) {
        self.first = self.first.min(seq);
        self.last = self.last.max(seq);
        self.count += 1;
    }

    /// No seq is missing between the first and the last.
    pub fn is_whole(&self) -> bool {
        self.last - self.first + 1 == self.count
    }
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Checkpoint {
    /// The pipeline with every event it had taken.
    pub pipeline: Pipeline,
    /// Per run, the seqs taken.
    pub runs: Vec<(String, RunSpan)>,
}

/// The header document.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    #[serde(rename = "_id")]
    id: String,
    raw_db: String,
    host: String,
    boot_id: String,
    format: String,
    events: u64,
    runs: Vec<RunDoc>,
    chunks: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct RunDoc {
    run: String,
    first: i64,
    last: i64,
    count: i64,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Which event log and boot a checkpoint is of.
#[derive(Clone, Copy, Debug)]
pub struct Of<'a> {
    /// The event log's database.
    pub raw_db: &'a str,
    /// The recording host.
    pub host: &'a str,
    /// Its boot.
    pub boot_id: &'a str,
}

impl Of<'_> {
    fn id(&self) -> String {
        format!("{}/{}/{}", self.raw_db, self.host, self.boot_id)
    }

    /// The filter of its chunk documents.
    fn chunks(&self) -> bson::Document {
        doc! {
            "raw_db": self.raw_db,
            "host": self.host,
            "boot_id": self.boot_id,
            "chunk": { "$exists": true },
        }
    }
}

fn collection(db: &Database) -> Collection<bson::Document> {
    db.collection(CHECKPOINTS)
}

fn command(operation: &'static str) -> impl FnOnce(mongodb::error::Error) -> CookedError {
    move |source| CookedError::Command {
        operation,
        collection: CHECKPOINTS,
        source: Box::new(source),
    }
}

/// Replaces the checkpoint `of` with `pipeline`'s state and the `runs` it took (each whole: see
/// the module docs).
pub async fn write(
    db: &Database,
    of: Of<'_>,
    pipeline: &Pipeline,
    runs: &[(String, RunSpan)],
) -> Result<(), CookedError> {
    let json = serde_json::to_vec(pipeline).map_err(|e| CookedError::Checkpoint(e.to_string()))?;
    let packed =
        zstd::bulk::compress(&json, 3).map_err(|e| CookedError::Checkpoint(e.to_string()))?;
    drop(json);
    let id = of.id();
    let coll = collection(db);
    // The old header first: from here on, no reader trusts the chunks being replaced.
    coll.delete_one(doc! { "_id": &id })
        .await
        .map_err(command("delete the old checkpoint"))?;
    coll.delete_many(of.chunks())
        .await
        .map_err(command("delete the old checkpoint"))?;
    let pieces: Vec<&[u8]> = packed.chunks(CHUNK).collect();
    for (n, piece) in pieces.iter().enumerate() {
        let chunk = doc! {
            "_id": format!("{id}/{n}"),
            "raw_db": of.raw_db,
            "host": of.host,
            "boot_id": of.boot_id,
            "chunk": i64::try_from(n).unwrap_or(i64::MAX),
            "data": Binary { subtype: BinarySubtype::Generic, bytes: piece.to_vec() },
        };
        coll.insert_one(chunk)
            .await
            .map_err(command("write a checkpoint chunk"))?;
    }
    let header = Header {
        id,
        raw_db: of.raw_db.to_owned(),
        host: of.host.to_owned(),
        boot_id: of.boot_id.to_owned(),
        format: FORMAT.to_owned(),
        events: pipeline.events(),
        runs: runs
            .iter()
            .map(|(run, span)| RunDoc {
                run: run.clone(),
                first: to_i64(span.first),
                last: to_i64(span.last),
                count: to_i64(span.count),
            })
            .collect(),
        chunks: u32::try_from(pieces.len()).unwrap_or(u32::MAX),
    };
    let header = bson::serialize_to_document(&header).map_err(|source| CookedError::Bson {
        what: "checkpoint header",
        source,
    })?;
    coll.insert_one(header)
        .await
        .map_err(command("write the checkpoint header"))?;
    Ok(())
}

/// The checkpoint `of`, or `None` when there is none this version can trust (none written,
/// another format, missing or undecodable chunks). Only a failing server is an error.
pub async fn read(db: &Database, of: Of<'_>) -> Result<Option<Checkpoint>, CookedError> {
    let coll = collection(db);
    let Some(header) = coll
        .find_one(doc! { "_id": of.id() })
        .await
        .map_err(command("read the checkpoint header"))?
    else {
        return Ok(None);
    };
    let Ok(header) = bson::deserialize_from_document::<Header>(header) else {
        return Ok(None);
    };
    if header.format != FORMAT {
        return Ok(None);
    }
    let chunks: Vec<bson::Document> = coll
        .find(of.chunks())
        .sort(doc! { "chunk": 1 })
        .await
        .map_err(command("read the checkpoint"))?
        .try_collect()
        .await
        .map_err(command("read the checkpoint"))?;
    if chunks.len() != header.chunks as usize {
        return Ok(None);
    }
    let mut packed = Vec::new();
    for chunk in &chunks {
        let Ok(data) = chunk.get_binary_generic("data") else {
            return Ok(None);
        };
        packed.extend_from_slice(data);
    }
    let Ok(json) = zstd::stream::decode_all(packed.as_slice()) else {
        return Ok(None);
    };
    let Ok(pipeline) = serde_json::from_slice::<Pipeline>(&json) else {
        return Ok(None);
    };
    if pipeline.events() != header.events {
        return Ok(None);
    }
    let runs = header
        .runs
        .into_iter()
        .map(|r| {
            let span = RunSpan {
                first: to_u64(r.first),
                last: to_u64(r.last),
                count: to_u64(r.count),
            };
            (r.run, span)
        })
        .collect();
    Ok(Some(Checkpoint { pipeline, runs }))
}
