//! The cooked database: where an [`Investigation`] is stored for the analyst's tools (the
//! pipeline's last step), and read back.
//!
//! Layout (database default `cooked`; every document carries `host` and `boot_id`):
//!
//! * `processes`: one document per process node, `_id` = `"<host>/<boot_id>/<node id>"`, with
//!   `node` (its id) and every [`ProcessNode`](crate::model::investigation::ProcessNode) field (`parent`, `children` and `files` are node
//!   and file ids of the same run);
//! * `files`: one document per [`FileRecord`](crate::model::investigation::FileRecord), `_id` = `"<host>/<boot_id>/<file id>"`, with
//!   `file` (its id) and every field (`node` is the process's node id);
//! * `runs`: one document per (host, boot), `_id` = `"<host>/<boot_id>"`: `generated_at`,
//!   `written_at`, `roots`, `gaps`, and `stats` (counts and repairs).
//!
//! Writing replaces an earlier run for the same (host, boot): its documents are deleted, the new
//! ones inserted, the `runs` document last, so a run document means its processes and files are
//! complete. Ids are deterministic, so running the pipeline twice on the same events gives the
//! same documents (only the times of the run differ).

use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use crate::model::investigation::{GapRecord, Investigation, NodeId, Stats};
use crate::model::time::Timestamp;

/// Collection of process nodes.
pub const PROCESSES: &str = "processes";
/// Collection of file records.
pub const FILES: &str = "files";
/// Collection of run records.
pub const RUNS: &str = "runs";

/// Documents per `insert_many` call.
const BATCH: usize = 5_000;

/// What can go wrong reading or writing the cooked database.
#[derive(Debug, thiserror::Error)]
pub enum CookedError {
    /// A command on a collection failed (server down, no permission, ...).
    #[error(
        "cannot {operation} in {collection} of the cooked database: check that the MongoDB server is up and writable"
    )]
    Command {
        /// What was being done.
        operation: &'static str,
        /// The cooked collection it was done on.
        collection: &'static str,
        /// The driver's error.
        #[source]
        source: Box<mongodb::error::Error>,
    },
    /// The pipeline's state could not be encoded for a checkpoint.
    #[error("cannot encode the checkpoint: {0}")]
    Checkpoint(String),
    /// A value could not be converted to or from BSON.
    #[error("cannot convert a {what} to or from BSON")]
    Bson {
        /// Which kind of document.
        what: &'static str,
        /// The converter's error.
        #[source]
        source: bson::error::Error,
    },
}

/// The `runs` document of one (host, boot).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `"<host>/<boot_id>"`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The recording host's name.
    pub host: String,
    /// The boot of that host the investigation is of.
    pub boot_id: String,
    /// When the pipeline ran.
    pub generated_at: Timestamp,
    /// When the run was written.
    pub written_at: Timestamp,
    /// The roots (node ids).
    pub roots: Vec<NodeId>,
    /// Lost events.
    pub gaps: Vec<GapRecord>,
    /// Counts and repairs.
    pub stats: Stats,
}

/// What [`write_investigation`] did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Documents of an earlier run deleted.
    pub replaced: u64,
    /// Process documents written.
    pub processes: u64,
    /// File documents written.
    pub files: u64,
}

fn run_id(host: &str, boot_id: &str) -> String {
    format!("{host}/{boot_id}")
}

fn command(
    operation: &'static str,
    collection: &'static str,
) -> impl FnOnce(mongodb::error::Error) -> CookedError {
    move |source| CookedError::Command {
        operation,
        collection,
        source: Box::new(source),
    }
}

fn to_doc<T: Serialize>(what: &'static str, value: &T) -> Result<Document, CookedError> {
    bson::serialize_to_document(value).map_err(|source| CookedError::Bson { what, source })
}

/// Creates the `(host, boot_id)` indexes of the cooked collections (idempotent).
pub async fn ensure_indexes(db: &Database) -> Result<(), CookedError> {
    for name in [PROCESSES, FILES] {
        let coll: Collection<Document> = db.collection(name);
        coll.create_index(
            IndexModel::builder()
                .keys(doc! { "host": 1, "boot_id": 1 })
                .build(),
        )
        .await
        .map_err(command("create indexes", name))?;
    }
    Ok(())
}

async fn insert_batched(
    coll: &Collection<Document>,
    name: &'static str,
    docs: impl Iterator<Item = Result<Document, CookedError>>,
) -> Result<u64, CookedError> {
    let mut written = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for d in docs {
        batch.push(d?);
        if batch.len() == BATCH {
            written += batch.len() as u64;
            coll.insert_many(std::mem::take(&mut batch))
                .ordered(false)
                .await
                .map_err(command("insert", name))?;
        }
    }
    if !batch.is_empty() {
        written += batch.len() as u64;
        coll.insert_many(batch)
            .ordered(false)
            .await
            .map_err(command("insert", name))?;
    }
    Ok(written)
}

/// Writes `inv` to the cooked database `db`, replacing an earlier run of the same (host, boot).
pub async fn write_investigation(
    db: &Database,
    inv: &Investigation,
    written_at: Timestamp,
) -> Result<WriteReport, CookedError> {
    ensure_indexes(db).await?;
    let filter = doc! { "host": &inv.host, "boot_id": &inv.boot_id };
    let processes: Collection<Document> = db.collection(PROCESSES);
    let files: Collection<Document> = db.collection(FILES);
    let runs: Collection<Document> = db.collection(RUNS);
    let mut report = WriteReport::default();
    // The run document first, so an interrupted rewrite never leaves a run that looks complete.
    report.replaced += runs
        .delete_many(filter.clone())
        .await
        .map_err(command("delete the earlier run", RUNS))?
        .deleted_count;
    report.replaced += processes
        .delete_many(filter.clone())
        .await
        .map_err(command("delete the earlier run", PROCESSES))?
        .deleted_count;
    report.replaced += files
        .delete_many(filter)
        .await
        .map_err(command("delete the earlier run", FILES))?
        .deleted_count;

    let prefix = run_id(&inv.host, &inv.boot_id);
    let host = &inv.host;
    let boot = &inv.boot_id;
    report.processes = insert_batched(
        &processes,
        PROCESSES,
        inv.processes.iter().map(|p| {
            let mut d = to_doc("process node", p)?;
            d.insert("_id", format!("{prefix}/{}", p.id));
            d.insert("host", host);
            d.insert("boot_id", boot);
            d.insert("node", p.id as i64);
            Ok(d)
        }),
    )
    .await?;
    report.files = insert_batched(
        &files,
        FILES,
        inv.files.iter().enumerate().map(|(i, f)| {
            let mut d = to_doc("file record", f)?;
            d.insert("_id", format!("{prefix}/{i}"));
            d.insert("host", host);
            d.insert("boot_id", boot);
            d.insert("file", i as i64);
            Ok(d)
        }),
    )
    .await?;
    let run = RunRecord {
        id: prefix,
        host: inv.host.clone(),
        boot_id: inv.boot_id.clone(),
        generated_at: inv.generated_at,
        written_at,
        roots: inv.roots.clone(),
        gaps: inv.gaps.clone(),
        stats: inv.stats.clone(),
    };
    runs.insert_one(to_doc("run record", &run)?)
        .await
        .map_err(command("insert", RUNS))?;
    Ok(report)
}

/// Reads back the stored run of (host, boot), or `None` when there is none.
pub async fn read_investigation(
    db: &Database,
    host: &str,
    boot_id: &str,
) -> Result<Option<Investigation>, CookedError> {
    let filter = doc! { "host": host, "boot_id": boot_id };
    let runs: Collection<RunRecord> = db.collection(RUNS);
    let Some(run) = runs
        .find_one(doc! { "_id": run_id(host, boot_id) })
        .await
        .map_err(command("read", RUNS))?
    else {
        return Ok(None);
    };
    let processes = db
        .collection(PROCESSES)
        .find(filter.clone())
        .sort(doc! { "node": 1 })
        .await
        .map_err(command("read", PROCESSES))?
        .try_collect()
        .await
        .map_err(command("read", PROCESSES))?;
    let files = db
        .collection(FILES)
        .find(filter)
        .sort(doc! { "file": 1 })
        .await
        .map_err(command("read", FILES))?
        .try_collect()
        .await
        .map_err(command("read", FILES))?;
    Ok(Some(Investigation {
        host: run.host,
        boot_id: run.boot_id,
        generated_at: run.generated_at,
        processes,
        roots: run.roots,
        files,
        gaps: run.gaps,
        stats: run.stats,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::investigate;
    use crate::pipeline::testkit::*;
    use crate::storage::store::Store;
    use crate::testing::test_store_config;

    fn sample(generated: i64) -> Investigation {
        investigate(
            vec![
                snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
                in_container(fork(10, 100, 100, 200), CID),
                pivot_root(11, 200, "/var/lib/docker/overlay2/abc/merged"),
                open(12, 200, 200, "/tmp/x", 3),
                write(13, 200, 200, 3, 1),
                thread(14, 100, 200, 201),
                gap(15, 2, 3, 1),
                exit(20, 200),
            ],
            HOST,
            BOOT,
            t(generated),
            &mut |_| {},
        )
    }

    async fn count(db: &Database, name: &str) -> u64 {
        db.collection::<Document>(name)
            .count_documents(doc! {})
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn writing_twice_replaces_the_run_and_reads_back_the_same() {
        let Some(config) = test_store_config("cooked") else {
            return;
        };
        let store = Store::connect(&config).await.unwrap();
        let db = store.cooked_db().clone();
        let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
            let inv = sample(1_000);
            let first = write_investigation(&db, &inv, t(2_000)).await.unwrap();
            assert_eq!(first.replaced, 0);
            assert_eq!(first.processes, 2);
            assert_eq!(first.files, 1);
            let second = write_investigation(&db, &inv, t(3_000)).await.unwrap();
            assert_eq!(second.replaced, 4, "1 run + 2 processes + 1 file");
            assert_eq!(count(&db, PROCESSES).await, 2);
            assert_eq!(count(&db, FILES).await, 1);
            assert_eq!(count(&db, RUNS).await, 1);
            let back = read_investigation(&db, HOST, BOOT).await.unwrap().unwrap();
            assert_eq!(back, inv);

            // Another boot of the same host is kept apart.
            let mut other = sample(1_000);
            other.boot_id = "boot-2".into();
            write_investigation(&db, &other, t(4_000)).await.unwrap();
            assert_eq!(count(&db, RUNS).await, 2);
            assert_eq!(
                read_investigation(&db, HOST, BOOT).await.unwrap().unwrap(),
                inv
            );
            assert!(
                read_investigation(&db, HOST, "nope")
                    .await
                    .unwrap()
                    .is_none()
            );
        }))
        .await;
        db.drop().await.unwrap();
        store.raw_db().drop().await.unwrap();
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}
