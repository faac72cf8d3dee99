//! Helpers for the end-to-end tests in `tests/tests/`: where the real services are and how to
//! skip, loudly, when one is missing outside CI.
//!
//! The rule for skipping is the library's own (`dockwatch_shared::testing::require`: skip with
//! the reason outside CI, fail under `CI`), as are the database helpers, re-exported here, so
//! unit tests and end-to-end tests skip and fail by the same rule.

pub mod chain;
pub mod godo;
pub mod private_docker;
pub mod tmux;

pub use dockwatch_shared::testing::{
    MONGO_ENV, Need, require, samples, test_mongo, test_store_config,
};

use std::path::PathBuf;
use std::process::Command;

/// The path of a workspace binary (`godo`, `dockwatch-tui`) in this test's target directory,
/// built from the current tree.
///
/// The first call in a test process runs `cargo build --workspace --bins` with the features the
/// workspace's test build has (the TUI's `test-support` comes from its dev-dependencies), so
/// after `cargo test --workspace` it finds everything fresh and builds nothing, and after a
/// change to a binary's code (`cargo test -p dockwatch-e2e`) it rebuilds that binary: a test
/// never runs a stale binary left in `target/`.
pub fn workspace_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(build_workspace_binaries);
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test>-HASH -> target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("the target directory above the test executable");
    let bin = dir.join(name);
    assert!(bin.exists(), "{name} not found at {}", bin.display());
    bin
}

fn build_workspace_binaries() {
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
    let args = [
        "build",
        "-q",
        "--workspace",
        "--bins",
        "--features",
        "dockwatch-tui/test-support",
    ];
    let status = Command::new(cargo)
        .env_clear()
        // Settings of the build itself (CI's `CARGO_INCREMENTAL`, `CARGO_PROFILE_*`) too: without
        // them the same build would look different and compile everything again.
        .envs(std::env::vars().filter(|(k, _)| {
            keep.contains(&k.as_str())
                || k == "CARGO_INCREMENTAL"
                || k.starts_with("CARGO_PROFILE_")
                || k.starts_with("CARGO_BUILD_")
        }))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("running cargo build");
    assert!(status.success(), "cargo {} failed", args.join(" "));
}
