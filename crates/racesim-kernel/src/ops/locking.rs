//! Taking and releasing sleeping locks from kernel functions: `down_read`/`down_write`,
//! range lock and unlock, `lock_page`/`unlock_page`.
//!
//! Acquisition is one step that queues the request (and takes the lock when nothing conflicts);
//! if the request must wait, the actor sleeps until the lock can be granted and takes it in the
//! step where it wakes. Release is one step.
//!
//! The placement engine lives here too: [`Task::enter`], [`Task::at`] and [`Task::leave`] take
//! and release the policy's [`crate::placement::Placement`]s at the named points of kernel
//! functions.

use super::Task;
use crate::cpu::{Cpu, Machine};
use crate::event::Change;
use crate::lock::{LockId, LockMode, RequestRef};
use crate::placement::{Func, LockName, Point};
use crate::types::{Ino, Lblk, PageId, PageRange};

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

/// A placement a task holds: which frame took it, which placement, the lock, and the point it
/// ends at (usually the placement's `to`; an extending direct write moves its `i_rwsem` on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    frame: u32,
    placement: u16,
    to: Point,
    held: Held,
}

/// One activation of a kernel function with points: which function, and what its placements'
/// ranges resolve against (the file, the page it works on, the operation's range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    id: u32,
    pub func: Func,
    pub file: Ino,
    pub index: Lblk,
    pub range: PageRange,
}

impl<C: Cpu> Task<'_, C> {
    /// Enters `func` working on `file` (page `index`, operation range `range`): takes the
    /// placements that begin at its start.
    pub fn enter(&mut self, func: Func, file: Ino, index: Lblk, range: PageRange) -> Frame {
        self.frames += 1;
        let frame = Frame { id: self.frames, func, file, index, range };
        self.at(&frame, func.start());
        frame
    }

    /// Whether any placement lies in `func` (the engine has nothing to do otherwise).
    fn placed_in(&self, func: Func) -> bool {
        self.mask & (1 << func as u32) != 0
    }

    /// Whether some placement begins at `point`.
    pub fn placements_begin_at(&self, point: Point) -> bool {
        self.begins.contains(point)
    }

    /// Whether a placement of the policy's journal (a handle) is held now.
    pub fn holds_journal_handle(&self) -> bool {
        self.placed.iter().any(|p| self.policy.lock[p.placement as usize].lock == LockName::Journal)
    }

    /// The function reached `point`: release the placements of this frame that end here (last
    /// taken first), then take those that begin here, in the policy's order.
    pub fn at(&mut self, frame: &Frame, point: Point) {
        if !self.placed_in(frame.func) {
            return;
        }
        let mut i = self.placed.len();
        while i > 0 {
            i -= 1;
            let placed = self.placed[i];
            if placed.frame == frame.id && placed.to == point {
                self.placed.remove(i);
                let lock = self.policy.lock[placed.placement as usize].lock;
                self.release(lock.call(placed.held.mode, true), placed.held);
            }
        }
        if !self.begins.contains(point) {
            return;
        }
        let policy = self.policy;
        for (k, p) in policy.lock.iter().enumerate() {
            if p.from != point {
                continue;
            }
            let id = self.lock_of(p.lock, frame.file);
            let mode = p.mode.lock_mode();
            let held = self.acquire(p.lock.call(mode, false), id, mode, p.range.resolve(frame.index, frame.range));
            self.placed.push(Placed { frame: frame.id, placement: k as u16, to: p.to, held });
        }
    }

    /// Leaves the function: its `end` point, then whatever an early return skipped the release
    /// point of, last taken first.
    pub fn leave(&mut self, frame: Frame) {
        if !self.placed_in(frame.func) {
            return;
        }
        self.at(&frame, frame.func.end());
        let mut i = self.placed.len();
        while i > 0 {
            i -= 1;
            let placed = self.placed[i];
            if placed.frame == frame.id {
                self.placed.remove(i);
                let lock = self.policy.lock[placed.placement as usize].lock;
                self.release(lock.call(placed.held.mode, true), placed.held);
            }
        }
    }

    /// Whether this frame holds a placement of `lock`.
    pub fn frame_holds(&self, frame: &Frame, lock: LockName) -> bool {
        self.placed.iter().any(|p| p.frame == frame.id && self.policy.lock[p.placement as usize].lock == lock)
    }

    /// Releases this frame's placements of `lock` (last taken first), runs `sleep`, and takes
    /// them again in their order, as a kernel function that sleeps without its lock does
    /// (`ext4_wait_dax_page`: `up_write`, `schedule`, `down_write`).
    pub fn without_placed(&mut self, frame: &Frame, lock: LockName, sleep: impl FnOnce(&mut Self)) {
        let policy = self.policy;
        let mine: Vec<usize> = (0..self.placed.len())
            .filter(|&i| {
                self.placed[i].frame == frame.id && policy.lock[self.placed[i].placement as usize].lock == lock
            })
            .collect();
        for &i in mine.iter().rev() {
            let held = self.placed[i].held;
            self.release(lock.call(held.mode, true), held);
        }
        sleep(self);
        for &i in &mine {
            let held = self.placed[i].held;
            self.placed[i].held = self.acquire(lock.call(held.mode, false), held.lock, held.mode, held.range);
        }
    }

    /// Moves the release of this frame's placements of `lock` that end at `from` to `to`.
    pub fn extend_hold(&mut self, frame: &Frame, lock: LockName, from: Point, to: Point) {
        let policy = self.policy;
        for p in self.placed.iter_mut() {
            if p.frame == frame.id && p.to == from && policy.lock[p.placement as usize].lock == lock {
                p.to = to;
            }
        }
    }

    /// The lock object `lock` names for `file` (and this task's address space).
    fn lock_of(&mut self, lock: LockName, file: Ino) -> LockId {
        let mm = self.mm;
        self.cpu.peek(|m| {
            let inode = m.kernel.inode(file);
            match lock {
                LockName::IRwsem => inode.i_rwsem,
                LockName::MmapSem => m.kernel.mms[mm as usize].mmap_sem,
                LockName::FaultLock => inode.fault_lock,
                LockName::RangeLock => inode.range_lock,
                LockName::IMmapRwsem => inode.i_mmap_rwsem,
                LockName::DaxEntry => inode.dax_entry,
                LockName::IDioCount => inode.i_dio_count,
                LockName::Journal => m.kernel.journal,
                LockName::PageLock => unreachable!("page locks are not placeable"),
                LockName::Declared(d) => inode.declared[d.slot() as usize],
            }
        })
    }
}
