//! What the panes say, as lines of text: pure functions of the investigation. The drawing code
//! (`ui`) lays them out; the app uses their heights for scrolling limits.

pub mod details;
pub mod gaps;
