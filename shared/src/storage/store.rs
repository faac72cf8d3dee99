//! The MongoDB store: where `godo` appends events and where the analyst's tool reads them back.
//!
//! This module owns the connection (address, timeouts, a clear error when the server cannot be
//! reached), the raw event collection (`<raw_db>.events`, default `test.events`) and its indexes.
//! The pipeline's output goes to the cooked database (default `cooked`), which this module only
//! hands out as a [`mongodb::Database`]; its writer lives with the pipeline.
//!
//! The log is append-only: events are inserted, never updated. Each document's `_id` is
//! `"<run>:<seq>"`, unique per event, so re-sending a batch after a lost reply cannot store an
//! event twice: the server rejects the copies with duplicate-key errors, which
//! [`Store::insert_events`] counts in [`InsertReport::duplicates`] instead of failing.
//!
//! Beside the log, `<raw_db>.boots` holds one summary per (host, boot) that the writer keeps,
//! so the boot list costs no scan of the log (see `boots`).
//!
//! Only features that both MongoDB and SecantusDB (the MongoDB-wire server used in tests) support,
//! and that a sharded collection accepts, are used: unordered `insert_many`, `createIndexes`,
//! `find` with a sort, `count_documents`, upserts with `$inc`/`$min`/`$max`, and an aggregation
//! with `$group`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bson::{Bson, Document, RawDocumentBuf, doc};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use mongodb::error::ErrorKind;
use mongodb::options::{ClientOptions, ServerAddress};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::model::event::Event;
use crate::model::time::Timestamp;

/// Name of the collection, in the raw database, that holds the event log.
pub const EVENTS_COLLECTION: &str = "events";
/// Default name of the raw database (`test`, kept so that recordings of earlier versions are
/// found where they are).
pub const DEFAULT_RAW_DB: &str = "test";
/// Default name of the database the pipeline writes its results to.
pub const DEFAULT_COOKED_DB: &str = "cooked";
/// Default time to wait for the server before giving up with a clear error.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Name of the index that serves per-boot reads in time order (and the boot list).
pub const INDEX_BOOT_TIME: &str = "host_boot_time_run_seq";

/// The name of the index that serves [`Store::stream_events_after`] (following a recording).
pub const INDEX_BOOT_RUN_SEQ: &str = "host_boot_run_seq";

/// Lower bound of the driver's connect (and heartbeat) timeout.
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// MongoDB's error code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

mod address;
mod boots;

pub use boots::BOOTS_COLLECTION;

pub use address::{DEFAULT_ADDRESS, DEFAULT_PORT, MongoAddress};

/// How to reach the store and which databases to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// The server.
    pub address: MongoAddress,
    /// Database of the raw event log (default `test`).
    pub raw_db: String,
    /// Database of the pipeline's results (default `cooked`).
    pub cooked_db: String,
    /// How long to wait for the server (server selection and connecting) before failing.
    pub timeout: Duration,
}

impl StoreConfig {
    /// A `host:port` address with the default database names and timeout.
    pub fn host_port(addr: &str) -> Self {
        Self::with_address(MongoAddress::HostPort(addr.to_owned()))
    }

    /// A `mongodb://` URI with the default database names and timeout.
    pub fn uri(uri: &str) -> Self {
        Self::with_address(MongoAddress::Uri(uri.to_owned()))
    }

    /// `address` with the default database names and timeout.
    pub fn with_address(address: MongoAddress) -> Self {
        Self {
            address,
            raw_db: DEFAULT_RAW_DB.to_owned(),
            cooked_db: DEFAULT_COOKED_DB.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Everything that can go wrong talking to the store. Messages say what to check.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The address or URI could not be parsed.
    #[error(
        "invalid MongoDB address {address:?}: give host:port (e.g. 127.0.0.1:27017) or a mongodb:// URI"
    )]
    BadAddress {
        /// The address as given (password redacted).
        address: String,
        /// The driver's complaint.
        #[source]
        source: Box<mongodb::error::Error>,
    },
    /// No server could be reached: every address refused the connection, or none answered
    /// within the timeout.
    #[error(
        "cannot reach the MongoDB server at {address}: {reason}; check that the server is \
         running, that the address and port are right, and that no firewall blocks it"
    )]
    Unreachable {
        /// The address tried (password redacted).
        address: String,
        /// What happened, in a few words (`connection refused: nothing listens on that port`,
        /// `no answer within 5 s`).
        reason: String,
        /// The driver's full report (its view of every server), for logs: it is not part of the
        /// message.
        driver: Option<String>,
    },
    /// The server accepted the connection but did not answer in time.
    #[error(
        "the MongoDB server at {address} did not answer {operation} within {}s; check that it is \
         a MongoDB server and that it is not overloaded",
        timeout.as_secs_f32()
    )]
    Timeout {
        /// The address (password redacted).
        address: String,
        /// What was asked.
        operation: &'static str,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// A command failed on the server (or the connection broke during it).
    #[error("MongoDB {operation} failed: {reason}")]
    Command {
        /// What was being done (`insert events`, `create indexes`, ...).
        operation: &'static str,
        /// A short reason; the driver's full report is the source.
        reason: String,
        /// The driver's error.
        #[source]
        source: Box<mongodb::error::Error>,
    },
    /// Some events of a batch were rejected for a reason other than being already stored.
    #[error(
        "MongoDB rejected {rejected} of {batch} events (first: code {code}: {message}); the \
         other events of the batch were stored"
    )]
    Rejected {
        /// How many events were rejected.
        rejected: usize,
        /// Size of the batch.
        batch: usize,
        /// The server's error code of the first rejection.
        code: i32,
        /// The server's message for it.
        message: String,
    },
    /// An event has no `run` id: it was not stamped by the run's output stage, and its `_id`
    /// would collide with other unstamped events (which would then be dropped as duplicates).
    #[error(
        "event {index} of the batch has an empty run id (kind {kind}, seq {seq}); events must be \
         stamped with their run and seq before they are stored; nothing of the batch was stored"
    )]
    Unstamped {
        /// Position of the event in the batch.
        index: usize,
        /// The event's kind (`exec`, `open`...), to find it.
        kind: &'static str,
        /// The seq it has (0 when never stamped).
        seq: u64,
    },
    /// An event could not be turned into a BSON document.
    #[error("cannot encode event {id} as BSON")]
    Encode {
        /// The event's `_id` (`run:seq`).
        id: String,
        /// The encoder's error.
        #[source]
        source: bson::error::Error,
    },
    /// A stored document is not a valid event (written by another tool or a newer version).
    #[error("stored document {id} is not a valid event (skipped)")]
    BadDocument {
        /// The document's `_id`, or `?` when it has none.
        id: String,
        /// What was wrong with it.
        #[source]
        source: bson::error::Error,
    },
    /// An aggregation result did not have the expected shape.
    #[error("unexpected {operation} result from the server: {detail}")]
    BadResult {
        /// What was being done.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl StoreError {
    /// A failed command, with a short reason taken from the driver's error.
    fn command(operation: &'static str, err: mongodb::error::Error) -> Self {
        let reason = match &*err.kind {
            ErrorKind::ServerSelection { .. } => {
                "no server available (is it running and reachable?)".to_owned()
            }
            ErrorKind::Io(e) => format!("connection error: {e}"),
            ErrorKind::ConnectionPoolCleared { .. } => {
                "the connection to the server broke".to_owned()
            }
            ErrorKind::Authentication { message, .. } => {
                format!("authentication failed: {message}")
            }
            ErrorKind::Command(c) => {
                format!("server error {} ({}): {}", c.code, c.code_name, c.message)
            }
            _ => "see the driver's error".to_owned(),
        };
        StoreError::Command {
            operation,
            reason,
            source: Box::new(err),
        }
    }
}

/// What one [`Store::insert_events`] call did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct InsertReport {
    /// Events stored by this call.
    pub inserted: u64,
    /// Events that were already stored (same `_id`, from an earlier attempt) and were skipped.
    pub duplicates: u64,
}

/// One (host, boot) present in the raw log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootSummary {
    /// Host name.
    pub host: String,
    /// Kernel boot id.
    pub boot_id: String,
    /// Number of events recorded for it.
    pub events: u64,
    /// Time of its earliest event.
    pub first: Timestamp,
    /// Time of its latest event.
    pub last: Timestamp,
}

/// Sorts boots for display: by host, then first event time, then boot id (the order of
/// [`Store::list_boots`], and of a capture file's boots).
pub fn sort_boots(boots: &mut [BootSummary]) {
    boots.sort_by(|a, b| (&a.host, a.first, &a.boot_id).cmp(&(&b.host, b.first, &b.boot_id)));
}

/// A connection to the store: the raw event log and the cooked database. Cheap to clone (clones
/// share the driver's connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    raw: Database,
    cooked: Database,
    address: String,
    /// Set once the raw collection's indexes were created by this store (or a clone).
    indexed: Arc<OnceCell<()>>,
}

/// An event as stored: `_id` first, then the event's own fields.
#[derive(Serialize)]
struct StoredEvent<'a> {
    #[serde(rename = "_id")]
    id: String,
    #[serde(flatten)]
    event: &'a Event,
}

/// The `_id` of an event: `"<run>:<seq>"`.
pub fn event_id(event: &Event) -> String {
    format!("{}:{}", event.run, event.seq)
}

/// An event as a BSON document with its `_id`, exactly as [`Store::insert_events`] stores it.
pub fn event_document(event: &Event) -> Result<Document, StoreError> {
    let id = event_id(event);
    let stored = StoredEvent {
        id: id.clone(),
        event,
    };
    bson::serialize_to_document(&stored).map_err(|source| StoreError::Encode { id, source })
}

impl Store {
    /// Connects and pings the server. Fails with [`StoreError::Unreachable`] (or
    /// [`StoreError::Timeout`]) within about `config.timeout` when no server answers.
    pub async fn connect(config: &StoreConfig) -> Result<Store, StoreError> {
        let address = config.address.display();
        let mut options = match &config.address {
            MongoAddress::HostPort(hp) => {
                let host = ServerAddress::parse(hp).map_err(|source| StoreError::BadAddress {
                    address: address.clone(),
                    source: Box::new(source),
                })?;
                let mut o = ClientOptions::default();
                o.hosts = vec![host];
                // One named server: talk to it as it is, whatever its replica-set state.
                o.direct_connection = Some(true);
                o
            }
            MongoAddress::Uri(uri) => {
                // `mongodb+srv://` URIs resolve DNS records while parsing: bound that too.
                match tokio::time::timeout(config.timeout, ClientOptions::parse(uri)).await {
                    Ok(parsed) => parsed.map_err(|source| StoreError::BadAddress {
                        address: address.clone(),
                        source: Box::new(source),
                    })?,
                    Err(_elapsed) => {
                        return Err(StoreError::Timeout {
                            address,
                            operation: "DNS lookup of the URI's hosts",
                            timeout: config.timeout,
                        });
                    }
                }
            }
        };
        // Timeouts written in a URI (`serverSelectionTimeoutMS`, `connectTimeoutMS`) win.
        let timeout = *options
            .server_selection_timeout
            .get_or_insert(config.timeout);
        // The connect timeout is also the driver's heartbeat socket timeout: a tight one makes a
        // busy server (a long count) look dead and clears the pool under running reads. Failing
        // fast when nothing answers is the server selection timeout's job (and the ping's below).
        options
            .connect_timeout
            .get_or_insert(config.timeout.max(MIN_CONNECT_TIMEOUT));
        if options.app_name.is_none() {
            options.app_name = Some("dockwatch".to_owned());
        }
        refuse_fast(&address, &config.address).await?;
        let client = Client::with_options(options).map_err(|source| StoreError::BadAddress {
            address: address.clone(),
            source: Box::new(source),
        })?;
        let store = Store {
            raw: client.database(&config.raw_db),
            cooked: client.database(&config.cooked_db),
            address,
            indexed: Arc::new(OnceCell::new()),
        };
        // The driver's own timeouts cover server selection and connecting; this one also covers a
        // server that accepts connections but never replies.
        let ping = store.raw.run_command(doc! { "ping": 1 });
        match tokio::time::timeout(timeout + Duration::from_secs(1), ping).await {
            Ok(Ok(_)) => Ok(store),
            Ok(Err(source)) => Err(match *source.kind {
                ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) => StoreError::Unreachable {
                    address: store.address.clone(),
                    reason: unreachable_reason(&source, timeout),
                    driver: Some(source.to_string()),
                },
                _ => StoreError::command("ping", source),
            }),
            Err(_elapsed) => Err(StoreError::Timeout {
                address: store.address.clone(),
                operation: "ping",
                timeout,
            }),
        }
    }

    /// The address this store talks to (password redacted), for messages.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Closes the driver's connections (for this store and its clones) and waits for its
    /// background tasks to end. Call it before the async runtime is dropped: a runtime dropped
    /// under a live client can make the driver's pool worker panic.
    pub async fn shutdown(self) {
        self.raw.client().clone().shutdown().await;
    }

    /// The raw database (the event log lives in its `events` collection).
    pub fn raw_db(&self) -> &Database {
        &self.raw
    }

    /// The cooked database (the pipeline's results).
    pub fn cooked_db(&self) -> &Database {
        &self.cooked
    }

    /// The event log collection, as untyped documents.
    pub fn events_collection(&self) -> Collection<Document> {
        self.raw.collection(EVENTS_COLLECTION)
    }

    /// Creates the indexes the reads need (idempotent): `{host, boot_id, time, run, seq}` serves
    /// [`Store::stream_events`] (filter and sort in one index walk) and [`Store::list_boots`];
    /// `{host, boot_id, run, seq}` serves [`Store::stream_events_after`].
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        let index = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    mongodb::options::IndexOptions::builder()
                        .name(name.to_owned())
                        .build(),
                )
                .build()
        };
        let by_time = index(
            doc! { "host": 1, "boot_id": 1, "time": 1, "run": 1, "seq": 1 },
            INDEX_BOOT_TIME,
        );
        let by_seq = index(
            doc! { "host": 1, "boot_id": 1, "run": 1, "seq": 1 },
            INDEX_BOOT_RUN_SEQ,
        );
        self.events_collection()
            .create_indexes([by_time, by_seq])
            .await
            .map_err(|source| StoreError::command("create indexes on the event log", source))?;
        Ok(())
    }

    /// Appends events with one unordered `insert_many` (the driver splits very large batches).
    /// Events already stored (same `run:seq`) are counted as duplicates, not errors; the first
    /// call of a store (or its clones) also creates the indexes.
    pub async fn insert_events(&self, events: &[Event]) -> Result<InsertReport, StoreError> {
        if events.is_empty() {
            return Ok(InsertReport::default());
        }
        if let Some((index, e)) = events.iter().enumerate().find(|(_, e)| e.run.is_empty()) {
            return Err(StoreError::Unstamped {
                index,
                kind: e.kind.name(),
                seq: e.seq,
            });
        }
        self.indexed
            .get_or_try_init(|| async {
                self.ensure_indexes().await?;
                self.backfill_boot_summaries().await
            })
            .await?;
        let docs: Vec<StoredEvent<'_>> = events
            .iter()
            .map(|event| StoredEvent {
                id: event_id(event),
                event,
            })
            .collect();
        let coll: Collection<StoredEvent<'_>> = self.raw.collection(EVENTS_COLLECTION);
        let total = events.len() as u64;
        let report = match coll.insert_many(&docs).ordered(false).await {
            Ok(_) => InsertReport {
                inserted: total,
                duplicates: 0,
            },
            Err(err) => Self::classify_insert_error(err, events)?,
        };
        self.add_to_boot_summaries(events, report.duplicates > 0)
            .await?;
        Ok(report)
    }

    /// Sorts the write errors of an unordered insert into duplicates (fine) and real failures.
    fn classify_insert_error(
        err: mongodb::error::Error,
        events: &[Event],
    ) -> Result<InsertReport, StoreError> {
        let batch = events.len();
        let ErrorKind::InsertMany(ref failure) = *err.kind else {
            return Err(match *err.kind {
                // Name the event that cannot be encoded (e.g. a `seq` above i64::MAX).
                ErrorKind::BsonSerialization(_) | ErrorKind::Bson(_) => {
                    match events.iter().find_map(|e| event_document(e).err()) {
                        Some(encode_error) => encode_error,
                        None => StoreError::command("insert events", err),
                    }
                }
                _ => StoreError::command("insert events", err),
            });
        };
        if failure.write_concern_error.is_some() {
            return Err(StoreError::command("insert events", err));
        }
        let write_errors = failure.write_errors.as_deref().unwrap_or(&[]);
        let (duplicates, others): (Vec<_>, Vec<_>) =
            write_errors.iter().partition(|e| e.code == DUPLICATE_KEY);
        if let Some(first) = others.first() {
            return Err(StoreError::Rejected {
                rejected: others.len(),
                batch,
                code: first.code,
                message: first.message.clone(),
            });
        }
        Ok(InsertReport {
            inserted: (batch - duplicates.len()) as u64,
            duplicates: duplicates.len() as u64,
        })
    }

    /// The events of one (host, boot) in `(time, run, seq)` order, as a stream with a read
    /// counter. A stored document that is not a valid event is yielded as
    /// [`StoreError::BadDocument`] and the stream goes on. Nothing is counted first (a count can
    /// cost the server a scan as long as the read itself): [`EventStream::total`] is `None`; use
    /// [`Store::stream_boot`] with a [`BootSummary`] from [`Store::list_boots`] for a total.
    pub async fn stream_events(
        &self,
        host: &str,
        boot_id: &str,
    ) -> Result<EventStream, StoreError> {
        let filter = doc! { "host": host, "boot_id": boot_id };
        self.stream(filter, Some(doc! { "time": 1, "run": 1, "seq": 1 }))
            .await
    }

    /// The events of one (host, boot) stored after those already read, in no particular order:
    /// `read` holds, per run, the highest seq read. Events of runs not in `read` all come. godo
    /// stores each run's events in seq order, so this is what was stored since (a followed
    /// recording asks it again and again; the index on `(host, boot_id, run, seq)` serves it).
    pub async fn stream_events_after(
        &self,
        host: &str,
        boot_id: &str,
        read: &[(String, u64)],
    ) -> Result<EventStream, StoreError> {
        let runs: Vec<&str> = read.iter().map(|(run, _)| run.as_str()).collect();
        let mut either: Vec<Document> = read
            .iter()
            .map(|(run, seq)| doc! { "run": run, "seq": { "$gt": i64::try_from(*seq).unwrap_or(i64::MAX) } })
            .collect();
        either.push(doc! { "run": { "$nin": runs } });
        let filter = doc! { "host": host, "boot_id": boot_id, "$or": either };
        self.stream(filter, None).await
    }

    /// The events `filter` selects, in `sort` order, as an [`EventStream`].
    async fn stream(
        &self,
        filter: Document,
        sort: Option<Document>,
    ) -> Result<EventStream, StoreError> {
        let coll = self.raw.collection::<RawDocumentBuf>(EVENTS_COLLECTION);
        // The index serves the sort; allowDiskUse keeps a log without it readable (a large
        // in-memory sort would otherwise fail on MongoDB). The batch size is the server's
        // default (101 documents, then as many as fit in 16 MB per reply): a fixed count only
        // added round trips.
        let cursor = coll
            .find(filter)
            .with_options(
                mongodb::options::FindOptions::builder()
                    .sort(sort)
                    .allow_disk_use(true)
                    .build(),
            )
            .await
            .map_err(|source| StoreError::command("read events", source))?;
        // Each event is decoded straight from the cursor's buffer (no owned copy of the
        // document first), exactly as the driver's own typed cursor does.
        let inner = futures_util::stream::unfold(Some(cursor), |cursor| async move {
            let mut cursor = cursor?;
            match cursor.advance().await {
                Ok(true) => {
                    let event = decode_event(cursor.current());
                    Some((event, Some(cursor)))
                }
                Ok(false) => None,
                // The cursor is unusable after an error: report it and end.
                Err(source) => Some((Err(StoreError::command("read events", source)), None)),
            }
        })
        .boxed();
        Ok(EventStream {
            inner,
            total: None,
            read: 0,
        })
    }

    /// [`Store::stream_events`] for a boot listed by [`Store::list_boots`], whose event count
    /// becomes the stream's [`EventStream::total`] (for progress bars) at no extra cost.
    pub async fn stream_boot(&self, boot: &BootSummary) -> Result<EventStream, StoreError> {
        let mut stream = self.stream_events(&boot.host, &boot.boot_id).await?;
        stream.total = Some(boot.events);
        Ok(stream)
    }
}

/// A few words on why a server could not be reached, for the first line of the message (the
/// driver's full report, with its topology description, stays in the error's source).
fn unreachable_reason(err: &mongodb::error::Error, timeout: Duration) -> String {
    let text = err.to_string();
    let reason = if text.contains("Connection refused") {
        "connection refused: nothing listens on that port"
    } else if text.contains("failed to lookup") || text.contains("resolve") {
        "the host name does not resolve"
    } else if text.contains("TLS") || text.contains("certificate") {
        "TLS handshake failed"
    } else if text.contains("Authentication") {
        "authentication failed"
    } else {
        return format!("no answer within {} s", timeout.as_secs_f32());
    };
    reason.to_owned()
}

/// Fails at once when every server the address names refuses the connection (nothing listens
/// there), instead of after the driver's whole server-selection timeout. Anything else (an
/// answer, a timeout, a name to resolve, a `mongodb+srv://` record) is left to the driver.
async fn refuse_fast(shown: &str, address: &MongoAddress) -> Result<(), StoreError> {
    // A refusal comes back within a round trip; a server that does not answer at all is the
    // driver's to wait for, with its own timeout.
    const PROBE: Duration = Duration::from_secs(1);
    let Ok(servers) = address.tcp_servers() else {
        return Ok(());
    };
    if servers.is_empty() {
        return Ok(());
    }
    for (host, port) in &servers {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let probe = tokio::net::TcpStream::connect((host, *port));
        match tokio::time::timeout(PROBE, probe).await {
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
            _ => return Ok(()),
        }
    }
    Err(StoreError::Unreachable {
        address: shown.to_owned(),
        reason: "connection refused: nothing listens on that port".to_owned(),
        driver: None,
    })
}

/// Decodes one stored document into an event.
fn decode_event(raw: &bson::RawDocument) -> Result<Event, StoreError> {
    bson::deserialize_from_slice::<Event>(raw.as_bytes()).map_err(|source| {
        let id = match raw.get("_id") {
            Ok(Some(bson::RawBsonRef::String(s))) => s.to_owned(),
            Ok(Some(other)) => format!("{other:?}"),
            _ => "?".to_owned(),
        };
        StoreError::BadDocument { id, source }
    })
}

/// Reads one `$group` result of [`Store::list_boots`].
fn boot_summary(d: &Document) -> Result<BootSummary, StoreError> {
    let bad = |detail: String| StoreError::BadResult {
        operation: "list boots",
        detail,
    };
    let key = d
        .get_document("_id")
        .map_err(|e| bad(format!("no group key: {e}")))?;
    let text = |k: &str| -> Result<String, StoreError> {
        match key.get(k) {
            Some(Bson::String(s)) => Ok(s.clone()),
            // Documents without the field group under null; show them rather than fail.
            None | Some(Bson::Null) => Ok(String::new()),
            Some(other) => Err(bad(format!("{k} is {other:?}, not a string"))),
        }
    };
    let int = |k: &str| -> Result<i64, StoreError> {
        match d.get(k) {
            Some(Bson::Int32(v)) => Ok(i64::from(*v)),
            Some(Bson::Int64(v)) => Ok(*v),
            Some(Bson::Double(v)) if v.fract() == 0.0 => Ok(*v as i64),
            other => Err(bad(format!("{k} is {other:?}, not an integer"))),
        }
    };
    Ok(BootSummary {
        host: text("host")?,
        boot_id: text("boot_id")?,
        events: u64::try_from(int("events")?).map_err(|e| bad(format!("events: {e}")))?,
        first: Timestamp(int("first")?),
        last: Timestamp(int("last")?),
    })
}

/// The events of one boot, in order, with counters for a progress bar.
pub struct EventStream {
    inner: BoxStream<'static, Result<Event, StoreError>>,
    total: Option<u64>,
    read: u64,
}

impl EventStream {
    /// How many events to expect, when known: the boot summary's count for
    /// [`Store::stream_boot`], `None` for [`Store::stream_events`]. Events inserted after the
    /// summary was taken still arrive, so `read()` can end above it.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// How many documents were read so far (bad ones included).
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The next event, without importing a `Stream` extension trait; `None` at the end.
    pub async fn next_event(&mut self) -> Option<Result<Event, StoreError>> {
        self.next().await
    }
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("total", &self.total)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl Stream for EventStream {
    type Item = Result<Event, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(Some(Ok(_) | Err(StoreError::BadDocument { .. }))) = &polled {
            self.read += 1;
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_original_tool_names() {
        let c = StoreConfig::host_port("127.0.0.1:27017");
        assert_eq!(c.raw_db, "test");
        assert_eq!(c.cooked_db, "cooked");
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(
            StoreConfig::uri("mongodb://x").address,
            MongoAddress::Uri("mongodb://x".into())
        );
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod live_tests;
