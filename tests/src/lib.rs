//! Helpers for the end-to-end tests in `tests/tests/`: where the real services are and how to
//! skip, loudly, when one is missing outside CI.
//!
//! The rule for skipping is the library's own (`dockwatch_shared::testing::require`: skip with
//! the reason outside CI, fail under `CI`), as are the database helpers, re-exported here, so
//! unit tests and end-to-end tests skip and fail by the same rule.

pub mod chain;
pub mod godo;

pub use dockwatch_shared::testing::{
    MONGO_ENV, Need, require, samples, test_mongo, test_store_config,
};

use std::path::PathBuf;
use std::process::Command;

/// The path of a workspace binary (`godo`, `dockwatch-tui`) in this test's target directory.
///
/// `cargo test --workspace` (the README's test command) has already built every binary with the
/// workspace's features, so that one is used. Only when it is missing (for example
/// `cargo test -p dockwatch-e2e` on a fresh target) is it built here: building it here when it
/// exists would resolve features for that package alone and rebuild much of the dependency tree.
/// After changing a binary's code, run the workspace test command so the binary is rebuilt.
pub fn workspace_binary(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test>-HASH -> target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("the target directory above the test executable");
    let bin = dir.join(name);
    if bin.exists() {
        return bin;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A clean environment: the test's own (CARGO_PKG_*, LD_LIBRARY_PATH, ...) would make build
    // scripts rerun.
    let keep = [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
    ];
    let status = Command::new(cargo)
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| keep.contains(&k.as_str())))
        .args(["build", "-q", "-p", package, "--bin", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("running cargo build");
    assert!(
        status.success(),
        "cargo build -p {package} --bin {name} failed"
    );
    assert!(bin.exists(), "{name} not found at {}", bin.display());
    bin
}
