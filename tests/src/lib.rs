//! Helpers for the end-to-end tests in `tests/tests/`: where the real services are and how to
//! skip, loudly, when one is missing outside CI.

/// The environment variable that holds the `host:port` of the MongoDB-wire server the tests use.
pub const MONGO_ENV: &str = "DOCKWATCH_TEST_MONGO";

/// The `host:port` of the test database, or `None` (with a message saying why the test skips)
/// when the variable is not set. In CI (`CI` set) a missing database is a failure, not a skip.
pub fn test_mongo() -> Option<String> {
    match std::env::var(MONGO_ENV) {
        Ok(addr) if !addr.is_empty() => Some(addr),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{MONGO_ENV} is not set under CI: .ci/run must start the MongoDB-wire server"
            );
            eprintln!("skipping: {MONGO_ENV} is not set (start a MongoDB-wire server, see README)");
            None
        }
    }
}
