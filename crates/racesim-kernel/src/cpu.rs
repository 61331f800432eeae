//! The seam between the kernel model and whatever schedules it.
//!
//! Kernel functions are plain sequential Rust. Every atomic step goes through [`Cpu::step`],
//! which is a scheduling point: the scheduler may run other actors before the step, never
//! during it. Blocking on a sleeping lock goes through [`Cpu::block_until_grantable`]. The
//! explorer implements `Cpu` on shuttle; [`SerialCpu`] runs steps back to back for unit tests
//! and for the final `sync` at quiescence.
//!
//! This module owns [`Machine`], the kernel state together with its event log.

use crate::event::{Change, Event};
use crate::lock::RequestRef;
use crate::state::Kernel;
use crate::types::ActorId;

/// The kernel state plus the log of what happened to it.
#[derive(Clone, Debug)]
pub struct Machine {
    pub kernel: Kernel,
    pub log: Vec<Event>,
}

impl Machine {
    pub fn new(kernel: Kernel) -> Self {
        Machine { kernel, log: Vec::with_capacity(256) }
    }

    #[inline]
    pub fn emit(&mut self, actor: ActorId, function: &'static str, change: Change) {
        // Every name logged here must be in event::LOGGED_FUNCTIONS (scenario windows are
        // checked against that list at load). racesim-explore's `logged_functions` test shows
        // it for every function the shipped scenarios reach; checking it here on every event,
        // even in debug builds only, made the test suite a quarter slower.
        self.log.push(Event { actor, function, change });
    }
}

/// What the kernel model needs from a scheduler.
pub trait Cpu {
    /// One atomic step of the calling actor: a scheduling point, then `f`, alone on the machine.
    fn step<R>(&mut self, f: impl FnOnce(&mut Machine) -> R) -> R;

    /// Reads a fact that never changes once created (a lock's id, an inode's DAX flag) without
    /// a scheduling point. Never use it for state another actor can change.
    fn peek<R>(&mut self, f: impl FnOnce(&Machine) -> R) -> R;

    /// Sleeps until the queued lock request `request` can be granted, then runs `grant`
    /// atomically (it grants the request). The wait is a fact the scheduler uses: a sleeping
    /// actor is not runnable, and a set of actors sleeping on each other is a deadlock.
    fn block_until_grantable<R>(&mut self, request: RequestRef, grant: impl FnOnce(&mut Machine) -> R) -> R;
}

/// Runs steps back to back on a machine it owns. Blocking on an ungrantable lock means no
/// other actor could ever release it: that is reported as [`SerialCpu::stuck`].
pub struct SerialCpu<'m> {
    pub machine: &'m mut Machine,
    pub stuck: bool,
}

impl<'m> SerialCpu<'m> {
    pub fn new(machine: &'m mut Machine) -> Self {
        SerialCpu { machine, stuck: false }
    }
}

impl Cpu for SerialCpu<'_> {
    fn peek<R>(&mut self, f: impl FnOnce(&Machine) -> R) -> R {
        f(self.machine)
    }

    fn step<R>(&mut self, f: impl FnOnce(&mut Machine) -> R) -> R {
        f(self.machine)
    }

    fn block_until_grantable<R>(&mut self, request: RequestRef, grant: impl FnOnce(&mut Machine) -> R) -> R {
        if !self.machine.kernel.locks[request.lock as usize].grantable(request.ticket) {
            // Nobody else runs, so the lock can never be released. Record it and grant anyway,
            // so that serial callers (unit tests, the final sync) see the problem instead of
            // hanging.
            self.stuck = true;
        }
        grant(self.machine)
    }
}
