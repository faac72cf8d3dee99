//! Helpers for the end-to-end tests in `tests/tests/`: where the real services are and how to
//! skip, loudly, when one is missing outside CI.
//!
//! The database helpers are the library's own (`dockwatch_shared::testing`), re-exported so that
//! unit tests and end-to-end tests skip and fail by the same rule.

pub use dockwatch_shared::testing::{MONGO_ENV, samples, test_mongo, test_store_config};
