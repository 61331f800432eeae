//! Taking and releasing sleeping locks from kernel functions: `down_read`/`down_write`,
//! range lock and unlock, `lock_page`/`unlock_page`.
//!
//! Acquisition is one step that queues the request (and takes the lock when nothing conflicts);
//! if the request must wait, the actor sleeps until the lock can be granted and takes it in the
//! step where it wakes. Release is one step.

use super::Task;
use crate::cpu::{Cpu, Machine};
use crate::event::Change;
use crate::lock::{LockId, LockMode, RequestRef};
use crate::types::{PageId, PageRange};

/// A lock an actor holds; give it back to [`Task::release`].
#[must_use = "a held lock must be released"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub lock: LockId,
    pub ticket: u32,
    pub mode: LockMode,
    pub range: PageRange,
}

impl<C: Cpu> Task<'_, C> {
    /// Takes `lock` in `mode` over `range`, sleeping as long as the fair lock says so.
    pub fn acquire(&mut self, function: &'static str, lock: LockId, mode: LockMode, range: PageRange) -> Held {
        self.acquire_if(function, lock, mode, range, |_| true).expect("an unconditional request is always made")
    }

    /// [`Task::acquire`], but only if `wanted` holds in the step that would queue the request;
    /// otherwise that step logs nothing happening and no lock is taken. For waits on a
    /// condition that a lock holder clears (`wait_on_page_writeback`): the test and the
    /// queueing are one step, so the waiter queues only while the condition holds, never on a
    /// lock taken afterwards for another reason.
    pub fn acquire_if(
        &mut self,
        function: &'static str,
        lock: LockId,
        mode: LockMode,
        range: PageRange,
        wanted: impl FnOnce(&Machine) -> bool,
    ) -> Option<Held> {
        let actor = self.actor;
        let (ticket, granted) = self.cpu.step(|m| {
            if !wanted(m) {
                m.emit(actor, function, Change::Nothing);
                return None;
            }
            let fair = &mut m.kernel.locks[lock as usize];
            let class = fair.class;
            let (ticket, granted) = fair.enqueue(actor, mode, range);
            let change = if granted {
                Change::LockAcquired { class, mode, range }
            } else {
                Change::LockWait { class, mode, range }
            };
            m.emit(actor, function, change);
            Some((ticket, granted))
        })?;
        if !granted {
            self.cpu.block_until_grantable(RequestRef { lock, ticket }, |m| {
                let fair = &mut m.kernel.locks[lock as usize];
                fair.mark_granted(ticket);
                let class = fair.class;
                m.emit(actor, function, Change::LockAcquired { class, mode, range });
            });
        }
        Some(Held { lock, ticket, mode, range })
    }

    pub fn release(&mut self, function: &'static str, held: Held) {
        let actor = self.actor;
        self.cpu.step(|m| {
            let fair = &mut m.kernel.locks[held.lock as usize];
            fair.release(held.ticket);
            let class = fair.class;
            m.emit(actor, function, Change::LockReleased { class, mode: held.mode, range: held.range });
        });
    }

    pub fn release_all(&mut self, function: &'static str, held: impl IntoIterator<Item = Held>) {
        // Release in reverse order of acquisition, as kernel code unwinds.
        let mut held: Vec<Held> = held.into_iter().collect();
        while let Some(h) = held.pop() {
            self.release(function, h);
        }
    }

    /// `lock_page`: sleeps on `PG_locked`.
    pub fn lock_page(&mut self, function: &'static str, page: PageId) -> Held {
        let lock = self.cpu.peek(|m| m.kernel.page(page).lock);
        self.acquire(function, lock, LockMode::Exclusive, PageRange::WHOLE)
    }

    pub fn unlock_page(&mut self, function: &'static str, held: Held) {
        self.release(function, held);
    }
}
