//! Why a load failed, in the analyst's words: each failure has a kind (its own screen title),
//! what happened, and what to do about it.

use dockwatch_shared::load::LoadError;
use dockwatch_shared::storage::store::{StoreConfig, StoreError};

use super::Source;

/// Why loading failed; each kind gets its own screen text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The database did not answer.
    Unreachable,
    /// No events at all.
    EmptyDatabase,
    /// Events, but no Docker daemon or containerd among them.
    NoDocker,
    /// The named host/boot is not there.
    NoSuchBoot,
    /// The capture file could not be read.
    BadInput,
    /// The database answered, but reading from it failed.
    DatabaseError,
    /// This build lacks what the source needs.
    NotAvailable,
}

/// A failed load, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Which kind.
    pub kind: FailureKind,
    /// What happened (may contain data from outside: sanitised when shown).
    pub detail: String,
    /// What to do about it.
    pub hint: String,
}

impl Failure {
    /// The screen's title.
    pub fn title(&self) -> &'static str {
        match self.kind {
            FailureKind::Unreachable => "Cannot reach the database",
            FailureKind::EmptyDatabase => "No events recorded",
            FailureKind::NoDocker => "No Docker daemon in these events",
            FailureKind::NoSuchBoot => "No such host or boot",
            FailureKind::BadInput => "Cannot read the capture",
            FailureKind::DatabaseError => "Reading the database failed",
            FailureKind::NotAvailable => "Not available in this build",
        }
    }
}

pub(super) fn store_failure(config: &StoreConfig, e: &StoreError) -> Failure {
    let unreachable = matches!(
        e,
        StoreError::Unreachable { .. } | StoreError::Timeout { .. } | StoreError::BadAddress { .. }
    );
    Failure {
        kind: if unreachable {
            FailureKind::Unreachable
        } else {
            FailureKind::BadInput
        },
        detail: e.to_string(),
        hint: format!(
            "Start MongoDB at {} or point --mongo HOST:PORT / --uri at it, then press r to retry. \
             Without a database: --replay FILE or --demo.",
            config.address.display()
        ),
    }
}

pub(super) fn load_failure(source: &Source, e: LoadError) -> Failure {
    match (source, e) {
        (Source::Mongo(m), LoadError::Store(e)) => store_failure(&m.config, &e),
        (_, LoadError::Empty { source_name }) => Failure {
            kind: FailureKind::EmptyDatabase,
            detail: format!("no events in {source_name}"),
            hint: "Record with godo on the Docker host (--mongo or --write FILE), check --db, or try --demo."
                .to_owned(),
        },
        (_, LoadError::NoSuchBoot { wanted, source_name, present }) => Failure {
            kind: FailureKind::NoSuchBoot,
            detail: format!("no events for {wanted} in {source_name}; there are: {present}"),
            hint: "Use one of the host names and boot ids listed, or leave --host/--boot out to choose."
                .to_owned(),
        },
        (_, e) => Failure {
            kind: FailureKind::BadInput,
            detail: e.to_string(),
            hint: "Check the path; captures are written by `godo --write FILE` (JSON lines, .zst for zstd)."
                .to_owned(),
        },
    }
}
