//! `dockwatch-tui`: the analyst's terminal investigator, as a library so tests and benches can
//! drive it without a terminal.
//!
//! The shape follows the usual event-loop split:
//!
//! * [`event`]: the one event type the loop handles (keys, mouse, resize, tick, job messages);
//! * [`app`]: all state and `App::update`, which turns one event into a new state (no I/O);
//! * [`keys`]: the binding table that drives dispatch, the status line and the `?` help;
//! * [`tree_model`], [`tree_shape`], [`file_table`], [`timeline`], [`containers_view`],
//!   [`search`], [`timefilter`], [`clock`]: the pure models behind the panes and views;
//! * [`content`] (what the panes say) and [`layout`] (where they go): shared by state and drawing;
//! * [`ui`]: drawing, one file per pane or screen, borrowing the state read-only;
//! * [`loader`]: the background job that connects, reads events, runs the pipeline and reports
//!   progress over a channel; [`export`]: writing a subtree to JSON;
//! * [`terminal`]: entering and restoring the terminal (panic included); [`run`]: the loop.
//! * `synthetic` (the `test-support` feature): hand-built investigations for tests and benchmarks.

pub mod app;
pub mod clock;
pub mod containers_view;
pub mod content;
pub mod event;
pub mod export;
pub mod file_table;
pub mod keys;
pub mod layout;
pub mod loader;
pub mod run;
pub mod search;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;
pub mod terminal;
pub mod timefilter;
pub mod timeline;
pub mod tree_model;
pub mod tree_shape;
pub mod ui;
