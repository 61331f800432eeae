//! The timeline of one trace: what every picture and explanation of it is drawn from.
//!
//! One lane per actor (plus `sync` when the final sync has steps), one [`Step`] per event in
//! log order, lock bars (held and waited-for intervals) per lane, the kernel state after every
//! step, and the verdict. Built by replaying the trace ([`crate::build`]); plain data, so
//! renderers need no kernel knowledge.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// "scenario under policy".
    pub title: String,
    pub scenario: String,
    pub policy: String,
    /// Lane names, in lane order (actors in scenario order, then `sync` if it has steps).
    pub lanes: Vec<String>,
    pub steps: Vec<Step>,
    pub locks: Vec<LockBar>,
    pub verdict: Option<Verdict>,
    /// The race window `explain` finds (the scenario's `[window]` as it occurred, else from the
    /// first preemption to the sealing step): the pictures shade it and open on it.
    pub window: Option<RaceWindow>,
    /// The step after which every continuation breaks the same oracle (`explain`'s sealing
    /// step); `None` for a clean trace or one that needs no scheduling choice.
    pub sealed: Option<usize>,
}

/// The race window, as steps of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaceWindow {
    /// First and last step (inclusive).
    pub from: usize,
    pub to: usize,
    pub description: String,
}

impl Timeline {
    /// Steps whose text the pictures never cut: the window's, the sealing step and the
    /// oracle's step (the ones a reader of the race needs whole).
    pub fn is_key_step(&self, index: usize) -> bool {
        self.window.as_ref().is_some_and(|w| (w.from..=w.to).contains(&index))
            || self.sealed == Some(index)
            || self.verdict.as_ref().is_some_and(|v| v.step == index)
    }
}

/// One event of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Index in the event log (the trace's step number).
    pub index: usize,
    pub lane: usize,
    /// The kernel function, as named in Linux.
    pub function: String,
    /// What changed, in words.
    pub change: String,
    /// The kernel state after this step, one line per object (i_size, block map, page cache,
    /// PTEs per file; free blocks), for hover/click views.
    pub state: Vec<String>,
}

/// An interval during which a lane held (or waited for) a lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockBar {
    pub lane: usize,
    /// e.g. "i_rwsem(data) excl", "page_lock(#3)", "range_lock(data) excl [2, EOF)".
    pub lock: String,
    /// First and last step index covered (inclusive).
    pub from: usize,
    pub to: usize,
    /// True for the time spent asleep waiting for the lock, false for holding it.
    pub waiting: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub oracle: String,
    /// The step where the oracle fired.
    pub step: usize,
    pub message: String,
}
