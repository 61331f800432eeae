//! The virtual kernel that racesim explores.
//!
//! A deterministic model of the Linux page cache, page tables, block map, block allocator,
//! `i_size` and sleeping locks, with the kernel functions that act on them written as
//! sequential code whose atomic steps are scheduling points ([`Cpu::step`]). It owns the state
//! and its transitions; it does not own scheduling (`racesim-explore`), judging
//! (`racesim-oracles`) or input formats (`racesim-scenario`). No IO, no randomness, no clocks.
//!
//! Map of the crate:
//! - [`types`]: ids, content tokens, extents, page ranges.
//! - [`lock`]: the fair shared/exclusive interval lock behind every sleeping lock.
//! - [`state`]: [`Kernel`], the whole state, `Clone + Eq + Hash`.
//! - [`event`]: the event log, one entry per step.
//! - [`journal`]: `i_disksize`, the committed metadata and deferred block reuse (crash consistency).
//! - [`policy`]: locking policies as values.
//! - [`placement`]: lock placements, the named points of kernel functions they sit between.
//! - [`cpu`]: the scheduler seam and [`Machine`] (state + log).
//! - [`ops`]: the kernel functions and the user [`Operation`]s built from them.

pub mod cpu;
pub mod event;
pub mod journal;
pub mod lock;
pub mod ops;
pub mod placement;
pub mod policy;
pub mod state;
pub mod types;

pub use cpu::{Cpu, Machine, SerialCpu};
pub use event::{Change, Event, Names, Outcome, SYNC_ACTOR};
pub use ops::{Operation, Task, UserBuffer, WriteAllocation, WriteEnds};
pub use policy::Policy;
pub use state::Kernel;
