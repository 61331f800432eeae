//! Pictures and prose of one trace, for people.
//!
//! - [`timeline`]: the model every view is drawn from (lanes, steps, lock bars, state per step).
//! - [`assemble`]: builds a timeline by replaying a trace with a kernel snapshot per step.
//! - [`explain`]: the interleaving as CPU0/CPU1 columns, with the window that sealed the outcome.
//! - [`html`]: one self-contained HTML file with an interactive swimlane timeline.
//! - [`svg`]: a static swimlane picture for mailing-list posts and bug reports.
//!
//! Pure functions from data to text; writing files is the CLI's job.

pub mod assemble;
pub mod explain;
pub mod html;
pub mod svg;
pub mod timeline;

pub use timeline::{LockBar, RaceWindow, Step, Timeline, Verdict};
