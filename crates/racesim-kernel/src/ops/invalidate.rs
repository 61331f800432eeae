//! Operations that invalidate page cache and free or move blocks: truncate (`ext4_setattr` →
//! `truncate_pagecache` → `ext4_truncate`), punch hole (`ext4_punch_hole`), collapse range
//! (`ext4_collapse_range`), and the page-cache helpers they share
//! (`unmap_mapping_range`, `truncate_inode_pages_range`, and `invalidate_inode_pages2_range`,
//! which a direct write calls after its data is on disk).
//!
//! Where the policy has ext4's fence for unlocked direct reads (`dio_read_fence`), each of them
//! raises `EXT4_STATE_DIOREAD_LOCK` around its `inode_dio_wait`.
//!
//! Every one of them holds `i_rwsem` exclusive; what else they hold across eviction and block
//! freeing is the policy's [`InvalidationLock`].

use super::journal::{disksize_follows, ext4_orphan, write_end_disksize};
use super::locking::{Frame, Held};
use super::{RETRIES_MAX, Retries, Task};
use crate::cpu::{Cpu, Machine};
use crate::event::{Change, Outcome};
use crate::lock::{LockClass, LockMode, RequestRef};
use crate::placement::{Func, LockName, Point};
use crate::policy::{RangeFlush, ZeroBeforeWrite};
use crate::state::FILE_PAGES_MAX;
use crate::types::{Extent, Ino, Lblk, PageId, PagePart, PageRange, Pblk, Token, half_blocks};

/// What [`Task::zero_eof_block_tail`]'s first look decides.
enum ZeroFirst {
    /// Nothing to zero: a hole, or an extent the zeroing skips.
    Skip,
    /// Zero through the page.
    Zero,
    /// iomap since 6.12 (c5c810b94cfd, 7d9b474ee4cc): write the dirty page back, then look
    /// again.
    FlushAndLookAgain,
}

/// Passes of `truncate_inode_pages_range` over its range; the kernel loops until a lookup finds
/// nothing, and each further pass means another actor added a page meanwhile.
const TRUNCATE_PASSES_MAX: u32 = 8;

/// How an operation bounds its range (blocks) by EOF under `i_rwsem`: the range, `i_size`,
/// whether EOF lies half-way into block `i_size - 1` (`Inode::eof_half`) and the file's blocks
/// per page in; the range to work on, or `None` for nothing to do, out.
type EofBound = fn(PageRange, Lblk, bool, Lblk) -> Option<PageRange>;

impl<C: Cpu> Task<'_, C> {
    fn lock_i_rwsem(&mut self, file: Ino) -> Held {
        let lock = self.cpu.peek(|m| m.kernel.inode(file).i_rwsem);
        self.acquire("inode_lock", lock, LockMode::Exclusive, PageRange::WHOLE)
    }

    /// `unmap_mapping_range`: zaps every PTE of the range in every mm. For DAX it holds
    /// `i_mmap_rwsem` exclusive around the zap, which is what fences the 4.x DAX fault's
    /// `dax_insert_mapping` (for page-cache files the page lock does that job, so the model
    /// leaves `i_mmap_rwsem` out there to save steps).
    pub fn unmap_mapping_range(&mut self, file: Ino, range: PageRange) {
        let actor = self.actor;
        let (dax, i_mmap) = self.cpu.peek(|m| (m.kernel.inode(file).dax, m.kernel.inode(file).i_mmap_rwsem));
        let held = dax.then(|| self.acquire("i_mmap_lock_write", i_mmap, LockMode::Exclusive, PageRange::WHOLE));
        self.cpu.step(|m| {
            let count = m.kernel.zap_ptes(file, range.start, range.end);
            m.emit(actor, "unmap_mapping_range", Change::PtesZapped { ino: file, range, count });
        });
        if let Some(h) = held {
            self.release("i_mmap_unlock_write", h);
        }
    }

    /// Breaking the DAX layouts of `file` before its block map changes, where the policy does
    /// (`ext4_break_layouts`, `xfs_break_dax_layouts`; 5fac7408d828, 430657b6be89,
    /// d6dc57e251a4, Linux 4.18), called with the fault lock held exclusive by `frame`'s
    /// placements. `dax_layout_busy_page` unmaps the whole file (so a new pin has to fault, and
    /// the fault waits for the fault lock) and returns a DAX page somebody still holds a
    /// reference on; `___wait_var_event` then waits for its references to drop, and each time it
    /// sleeps it releases the fault lock and takes it again after (`ext4_wait_dax_page`,
    /// `xfs_wait_dax_page`), so that the pinning side can make progress (a `get_user_pages`
    /// that faults the next page of its buffer needs the fault lock shared). Once the page is
    /// free the search starts over, as pages may have been pinned while the lock was dropped
    /// (ext4's do/while, XFS's `retry`). Without the policy, or for a file that is not DAX,
    /// nothing happens (no steps).
    fn break_layouts(&mut self, frame: &Frame, file: Ino) {
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        if !self.policy.dax_break_layouts || !dax {
            return;
        }
        let mut retries = Retries::new(self);
        while retries.again(self) {
            let Some(pblk) = self.dax_layout_busy_page(file) else { return };
            // ___wait_var_event(&page->_refcount, page_ref_count(page) == 1, ..., cmd): the
            // condition, then cmd (unlock, schedule, lock), until the condition holds.
            while self.dax_page_busy(pblk) {
                self.without_placed(frame, LockName::FaultLock, |task| task.wait_dax_page_unpinned(pblk));
            }
        }
        panic!("model bug: breaking the layouts of {file} retried {RETRIES_MAX} times");
    }

    /// `dax_layout_busy_page`: `unmap_mapping_range` over the whole file, then, unless the file
    /// is mapped nowhere (`mapping_mapped`), the first block of the file whose DAX page is
    /// pinned. The kernel looks at the DAX entries of the mapping; every block a fault mapped
    /// has one, and a pinned block was mapped, so the model looks at the block map.
    /// Simplified: Linux tests `mapping_mapped` before the unmap, the model after it (an unmap
    /// of a file mapped nowhere changes nothing).
    fn dax_layout_busy_page(&mut self, file: Ino) -> Option<Pblk> {
        let actor = self.actor;
        self.unmap_mapping_range(file, PageRange::WHOLE);
        self.cpu.step(|m| {
            let mapped = m.kernel.mms.iter().any(|mm| mm.vmas.iter().flatten().any(|v| v.ino == file));
            let busy = if mapped {
                m.kernel.inode(file).blocks.iter().filter_map(|e| e.pblk()).find(|&p| m.kernel.dax_pinned(p))
            } else {
                None
            };
            m.emit(actor, "dax_layout_busy_page", Change::DaxBusyPage { ino: file, pblk: busy });
            busy
        })
    }

    /// `___wait_var_event`'s condition: is the DAX page of `pblk` still pinned
    /// (`page_ref_count(page) != 1`)?
    fn dax_page_busy(&mut self, pblk: Pblk) -> bool {
        let actor = self.actor;
        self.cpu.step(|m| {
            let busy = m.kernel.dax_pinned(pblk);
            m.emit(actor, "___wait_var_event", Change::DaxPageRefCheck { pblk, busy });
            busy
        })
    }

    /// `schedule()` in `ext4_wait_dax_page` until the last pin on the DAX page of `pblk` is
    /// dropped (`wake_up_var` from the page's release). The wait is a request on the DAX pin
    /// object that is granted and given back in the step that wakes: the scheduler does not
    /// run the waiter before, and the deadlock oracle sees whom it waits for (the pinning
    /// actors). Pins taken meanwhile do not queue behind it ([`LockClass::DaxPin`]).
    fn wait_dax_page_unpinned(&mut self, pblk: Pblk) {
        let actor = self.actor;
        let (lock, class, mode, range) =
            (self.cpu.peek(|m| m.kernel.dax_pin), LockClass::DaxPin, LockMode::Exclusive, PageRange::page(pblk));
        let woken = |m: &mut Machine, ticket: u32| {
            let pins = &mut m.kernel.locks[lock as usize];
            pins.mark_granted(ticket);
            pins.release(ticket);
            m.emit(actor, "ext4_wait_dax_page", Change::LockAcquired { class, mode, range });
            m.emit(actor, "ext4_wait_dax_page", Change::LockReleased { class, mode, range });
        };
        let waiting = self.cpu.step(|m| {
            let (ticket, granted) = m.kernel.locks[lock as usize].enqueue(actor, mode, range);
            if granted {
                // Unpinned since the condition was tested: the wake-up came before schedule().
                m.kernel.locks[lock as usize].release(ticket);
                m.emit(actor, "ext4_wait_dax_page", Change::LockAcquired { class, mode, range });
                m.emit(actor, "ext4_wait_dax_page", Change::LockReleased { class, mode, range });
                None
            } else {
                m.emit(actor, "ext4_wait_dax_page", Change::LockWait { class, mode, range });
                Some(ticket)
            }
        });
        if let Some(ticket) = waiting {
            self.cpu.block_until_grantable(RequestRef { lock, ticket }, |m| woken(m, ticket));
        }
    }

    /// `pagevec_lookup`: the pages cached in `range` of `file` right now, in one step.
    fn pagevec_lookup(&mut self, file: Ino, range: PageRange, function: &'static str) -> Vec<(Lblk, PageId)> {
        let actor = self.actor;
        self.cpu.step(|m| {
            let end = range.end.min(FILE_PAGES_MAX);
            let inode = m.kernel.inode(file);
            let found: Vec<(Lblk, PageId)> =
                (range.start..end).filter_map(|i| inode.cache[i as usize].map(|p| (i, p))).collect();
            let count = found.len() as u32;
            m.emit(actor, function, Change::PagesFound { ino: file, range, count });
            found
        })
    }

    /// `truncate_pagecache_range` = unmap, `truncate_inode_pages_range`, unmap again (the second
    /// unmap catches PTEs that faults installed on pages we had not yet removed).
    pub fn truncate_pagecache_range(&mut self, file: Ino, range: PageRange) {
        let actor = self.actor;
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        self.unmap_mapping_range(file, range);
        if dax {
            return;
        }
        for _ in 0..TRUNCATE_PASSES_MAX {
            let batch = self.pagevec_lookup(file, range, "truncate_inode_pages_range");
            if batch.is_empty() {
                break;
            }
            for (index, page) in batch {
                let page_lock = self.lock_page("truncate_inode_pages_range", page);
                self.cpu.step(|m| {
                    let p = m.kernel.page(page);
                    if !p.attached {
                        m.emit(actor, "truncate_inode_page", Change::Nothing);
                        return;
                    }
                    // truncate_inode_page: unmap_mapping_page, then delete_from_page_cache.
                    m.kernel.zap_ptes(file, index, index + 1);
                    let dirty_discarded = m.kernel.delete_from_page_cache(page);
                    m.emit(
                        actor,
                        "truncate_inode_page",
                        Change::PageDeleted { ino: file, index, page, dirty_discarded },
                    );
                });
                self.unlock_page("truncate_inode_pages_range", page_lock);
            }
        }
        self.unmap_mapping_range(file, range);
    }

    /// `invalidate_inode_pages2_range`, as a direct write calls it before its IO and after its
    /// data is on disk: each cached page of the range is locked, unmapped, and removed unless it
    /// is dirty (`invalidate_complete_page2` fails with -EBUSY then, and the page stays).
    /// Returns whether a page was busy.
    pub fn invalidate_inode_pages2_range(&mut self, file: Ino, range: PageRange) -> bool {
        let mut busy = false;
        let actor = self.actor;
        // pagevec_lookup_entries, once: the caller does not loop until the range is empty.
        let batch = self.pagevec_lookup(file, range, "invalidate_inode_pages2_range");
        for (index, page) in batch {
            let page_lock = self.lock_page("invalidate_inode_pages2_range", page);
            self.cpu.step(|m| {
                if !m.kernel.page(page).attached {
                    m.emit(actor, "invalidate_inode_pages2_range", Change::Nothing);
                    return;
                }
                // page_mapped: unmap_mapping_range for this page first.
                m.kernel.zap_ptes(file, index, index + 1);
                let p = m.kernel.page_mut(page);
                if p.dirty {
                    m.emit(actor, "invalidate_complete_page2", Change::InvalidateBusy { ino: file, index, page });
                    busy = true;
                    return;
                }
                m.kernel.delete_from_page_cache(page);
                m.emit(
                    actor,
                    "invalidate_complete_page2",
                    Change::PageDeleted { ino: file, index, page, dirty_discarded: false },
                );
            });
            self.unlock_page("invalidate_inode_pages2_range", page_lock);
        }
        busy
    }

    /// Frees the blocks of `range` (`ext4_ext_remove_space`), leaving holes.
    pub(super) fn remove_space(&mut self, file: Ino, range: PageRange, function: &'static str) {
        let actor = self.actor;
        self.cpu.step(|m| {
            let end = range.end.min(FILE_PAGES_MAX);
            let mut count = 0;
            for lblk in range.start..end {
                let extent = m.kernel.inode(file).blocks[lblk as usize];
                if let Some(pblk) = extent.pblk() {
                    m.kernel.free_block(pblk);
                    count += 1;
                }
                // A delalloc reservation is released too.
                m.kernel.inode_mut(file).blocks[lblk as usize] = Extent::Hole;
            }
            m.emit(actor, function, Change::BlocksFreed { ino: file, range, count });
            // ext4_truncate: "if (inode->i_nlink) ext4_orphan_del(handle, inode)", in the
            // handle that freed the blocks.
            if function == "ext4_truncate" {
                ext4_orphan(m, actor, function, file, false);
            }
        });
    }

    /// Writes `i_size` (`i_size` blocks, the last of them straddling EOF when `half`:
    /// `Inode::eof_half`), and `i_disksize` with it where durability is modelled and
    /// `disksize_too` (collapse and insert range write both; truncate does unless the policy
    /// predates 90e775b71ac4, where `ext4_setattr` wrote `i_disksize` in a step before).
    /// Returns the old size and its half flag.
    fn set_i_size_half(
        &mut self,
        file: Ino,
        i_size: Lblk,
        half: bool,
        function: &'static str,
        disksize_too: bool,
    ) -> (Lblk, bool) {
        let actor = self.actor;
        self.cpu.step(|m| {
            let (old, old_half) = (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half);
            // ext4_setattr: a shrinking truncate goes on the orphan list in the handle that
            // writes i_disksize ("if (ext4_handle_valid(handle) && shrink) ext4_orphan_add"),
            // in half blocks: down to half-way into the old last block shrinks too.
            if disksize_too && half_blocks(i_size, half) < half_blocks(old, old_half) {
                ext4_orphan(m, actor, "ext4_setattr", file, true);
            }
            m.kernel.inode_mut(file).i_size = i_size;
            m.kernel.inode_mut(file).eof_half = half;
            m.emit(actor, function, Change::ISizeSet { ino: file, i_size, half });
            if disksize_too {
                disksize_follows(m, actor, "ext4_update_i_disksize", file);
            }
            (old, old_half)
        })
    }

    /// truncate(2) to `size` blocks (down or up); with `half`, to half-way into block `size - 1`
    /// (`size` is then rounded up, as `Inode::i_size` is).
    pub fn truncate(&mut self, file: Ino, size: Lblk, half: bool) -> Outcome {
        // `size` counts blocks: pages, unless the file's blocks are smaller than a page. Then
        // the locks and the frame's range are those of the page that holds the new EOF.
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let i_rwsem = self.lock_i_rwsem(file);
        let eof_page = if half { (size - 1) / per_page } else { size / per_page };
        let frame = self.enter(Func::Truncate, file, eof_page, PageRange::to_eof(eof_page));
        // Where it waits for direct IO depends on the kernel. ext4 from 1c9114f9c0f1 (3.7) to
        // 5.2 writes the smaller size first and waits after ("Blocks are going to be removed
        // from the inode. Wait for dio in flight"), so that a direct read starting after the
        // wait samples the new size and never maps a block this truncate frees; those are the
        // kernels of unlocked direct reads and their fence (`dio_read_fence`), below. ext4
        // from 5.3 (b9c1c26739ec) and XFS (xfs_setattr_size) wait first, here: their direct
        // reads take `i_rwsem` shared, which this truncate holds exclusive.
        let wait_after_size = self.policy.dio_read_fence;
        if !wait_after_size {
            self.inode_dio_wait(file);
        }
        // ext4_setattr since b9c1c26739ec (5.3): the invalidation lock here, before the size
        // changes either way.
        self.at(&frame, Point::TruncateSetSize);
        self.zero_old_eof_block_before_growth(file, size, half);
        // Down, or to the same size? `i_size` moves only under `i_rwsem`, held here, or at the
        // completion of a direct write that extends the file, which holds `i_rwsem` until then
        // (`Bio::extends_file`): nobody can change it before this truncate writes it, so the
        // look needs no step of its own. (write(2)'s
        // `i_rwsem` is a placement: a policy or mutant without it could change the size here
        // unseen by the exploration; both answers still zero the tail, before or after.)
        let shrinks = self.cpu.peek(|m| {
            let inode = m.kernel.inode(file);
            half_blocks(size, half) <= half_blocks(inode.i_size, inode.eof_half)
        });
        // xfs_setattr_size since 869ae85dae64: write back the page holding the new EOF, so that
        // iomap finds its block converted and zeroes the tail below.
        if shrinks && self.policy.truncate_flush_new_eof {
            self.filemap_write_and_wait_range(file, PageRange::new(eof_page, eof_page + 1), "xfs_setattr_size");
        }
        // XFS zeroes the new EOF block's tail before truncate_setsize writes i_size
        // (block_truncate_page, iomap_truncate_page); ext4 after (ext4_truncate, below).
        let zero_before_size = half && shrinks && self.policy.truncate_up_zero_eof.truncate_down_zeroes_before_size();
        if zero_before_size {
            let function = self.policy.truncate_up_zero_eof.truncate_down_function();
            self.zero_eof_block_tail(file, size - 1, function, false, true);
        }
        // ext4_setattr: i_disksize and i_size (one step with 90e775b71ac4's i_data_sem, two
        // before it), then the page cache and the blocks beyond it.
        // ext4_setattr, shrinking with data=ordered: ext4_begin_ordered_truncate before the
        // handle that changes the size.
        self.ext4_begin_ordered_truncate(file, size, half);
        self.setattr_disksize(file, size, half);
        let (old, old_half) = self.set_i_size_half(file, size, half, "i_size_write", self.policy.disksize_i_data_sem);
        // Sizes in half blocks, to tell down from up when EOF lies inside a block.
        let (new_halves, old_halves) = (half_blocks(size, half), half_blocks(old, old_half));
        // ext4_setattr 3.7-5.2, shrinking ("if (orphan)"): fence unlocked direct reads only
        // while it waits (1b65007e9870: so that new ones cannot starve inode_dio_wait). A read
        // already past the fence's test samples the new size or is waited for.
        if wait_after_size && new_halves < old_halves {
            self.fence_unlocked_dio(file, true);
            self.inode_dio_wait(file);
            self.fence_unlocked_dio(file, false);
        }
        self.at(&frame, Point::TruncateInvalidate);
        // ext4_setattr (4.18+): ext4_break_layouts right after down_write(i_mmap_sem), before
        // truncate_pagecache, whichever way the size changes; xfs_vn_setattr_size the same
        // under MMAPLOCK.
        self.break_layouts(&frame, file);
        // Down, or to the same size: ext4_setattr runs truncate_pagecache and, "if
        // (attr->ia_size <= oldsize)", ext4_truncate ("Call ext4_truncate() even if i_size didn't
        // change to truncate possible preallocated blocks"); xfs_setattr_size likewise runs
        // block_truncate_page (4.1) or iomap_truncate_page (5.3), truncate_setsize and, "if
        // (newsize <= oldsize)", xfs_itruncate_extents.
        if new_halves <= old_halves {
            // truncate_pagecache unmaps and evicts the pages wholly past the new EOF
            // (`holebegin = round_up(newsize, PAGE_SIZE)`); a page that straddles it (blocks
            // smaller than a page) stays cached and mapped, and truncate_inode_pages_range
            // zeroes it from the new EOF and discards the buffers there
            // (`zero_user_segment`, `do_invalidatepage` -> `block_invalidatepage`).
            // `ext4_block_truncate_page` runs only "if (inode->i_size & (blocksize - 1))": an
            // EOF inside a block (below).
            self.truncate_pagecache_range(file, PageRange::to_eof(size.div_ceil(per_page)));
            self.truncate_eof_partial_page(file, size, half);
            self.at(&frame, Point::TruncateRemoveSpace);
            if half && !zero_before_size {
                // ext4_truncate: "if (inode->i_size & (blocksize - 1))
                // ext4_block_truncate_page(handle, mapping, inode->i_size)" before the blocks go
                // (XFS zeroed before the size changed, above). The block's tail on disk becomes
                // zeroes through the page cache, so no later extension exposes it.
                let function = self.policy.truncate_up_zero_eof.truncate_down_function();
                self.zero_eof_block_tail(file, size - 1, function, false, true);
            }
            self.remove_space(file, PageRange::to_eof(size), "ext4_truncate");
        } else if new_halves > old_halves {
            // (Up from an EOF inside a block, the policy zeroed that block's tail before the
            // size changed: zero_old_eof_block_before_growth.)
            // Up: the page that straddled the old EOF, as the policy says (nothing to do when
            // blocks are as large as pages).
            self.pagecache_isize_extended(file, (old, old_half), (size, half));
            // Then truncate_pagecache(inode, newsize), which ext4_setattr and truncate_setsize
            // (XFS) run whichever way the size moved: a new EOF inside a page zeroes that page
            // from EOF to its end (truncate_inode_pages_range's partial page) and discards the
            // buffers there, so what a store put past the new EOF is gone before any later
            // growth could expose it. The pages wholly past it are past the old EOF too: none
            // is cached or mapped.
            self.truncate_eof_partial_page(file, size, half);
        }
        self.leave(frame);
        self.release("inode_unlock", i_rwsem);
        Outcome::Ok
    }

    /// Truncate up from an EOF inside a block: the policy's zeroing of that block's tail
    /// (nothing in ext4 before Foster's patch, whose `ext4_setattr` then calls only
    /// `pagecache_isize_extended`, which returns at once where the block is the page), before
    /// `i_size_write`, as Linux does: `ext4_setattr` (c7fc0366c656) runs
    /// "ext4_block_truncate_page(handle, inode->i_mapping, oldsize)" under the invalidate lock
    /// before it writes the sizes; `xfs_setattr_size` zeroes (`xfs_zero_eof`,
    /// `iomap_zero_range`) before `truncate_setsize`. A reader never sees the grown size with the
    /// old tail. Only on a file where such an EOF is reachable; the check of the sizes is a step
    /// of its own.
    fn zero_old_eof_block_before_growth(&mut self, file: Ino, size: Lblk, half: bool) {
        let Some(function) = self.policy.truncate_up_zero_eof.truncate_up_function() else { return };
        // Past an EOF half-way into block `old - 1`, in half blocks.
        let grows_past = |old: Lblk| half_blocks(size, half) >= 2 * old;
        let grows_i_size = self.policy.truncate_up_zero_eof.zeroing_grows_i_size();
        let check = (function, size.saturating_sub(1));
        self.zero_old_eof_block_first(file, check, function, grows_past, grows_i_size, false);
    }

    /// An extending write's zeroing of the old EOF block before it copies (write(2)) or flushes
    /// its range (a direct write), starting at block `first`, as `zero` says: under
    /// `drains_dio`, once the check has seen the write start past an EOF inside a block, it
    /// waits for the direct IO in flight (XFS: "if (!drained_dio) { ... inode_dio_wait(inode);
    /// drained_dio = true; goto restart; }"; the check after the restart reads the same size
    /// under the exclusive IOLOCK, and is not repeated). Only on a file where such an EOF is
    /// reachable (the drain before an extension from a block-aligned EOF is not modelled).
    pub(super) fn zero_eof_before_write(&mut self, file: Ino, first: Lblk, zero: ZeroBeforeWrite) {
        let grows_past = |i_size| first >= i_size;
        let (check, function) = ((zero.check, first), zero.function);
        self.zero_old_eof_block_first(file, check, function, grows_past, zero.grows_i_size, zero.drains_dio);
    }

    /// A fallocate or zero range that may grow the file to block `end`, under a policy that
    /// zeroes the old EOF block's tail before the size changes
    /// (`TruncateUpZero::fallocate_zeroes_first`): [`Self::zero_old_eof_block_first`], with the
    /// check logged by `check`.
    fn zero_eof_before_fallocate_growth(&mut self, file: Ino, check: &'static str, end: Lblk) {
        let Some(function) = self.policy.truncate_up_zero_eof.fallocate_zeroes_first() else { return };
        let grows_i_size = self.policy.truncate_up_zero_eof.zeroing_grows_i_size();
        self.zero_old_eof_block_first(file, (check, end - 1), function, |i_size| end >= i_size, grows_i_size, false);
    }

    /// The check and the zeroing an operation that grows the file runs before the size
    /// changes, where the old EOF may lie inside a block (truncate up, XFS's extending write):
    /// a step that reads `i_size` (an `ISizeCheck` of block `check.1`, logged by `check.0`),
    /// then, if EOF lies half-way into block `i_size - 1` and `grows_past(i_size)` says the
    /// operation takes the file past it, `inode_dio_wait` if `drain_dio`, and
    /// [`Self::zero_eof_block_tail`] with `zero`. Only on a
    /// file where such an EOF is reachable; first, wherever EOF lies, iomap's flush of the
    /// range since 6.12 ([`Self::iomap_zero_flush_eof_page`]).
    pub(super) fn zero_old_eof_block_first(
        &mut self,
        file: Ino,
        check: (&'static str, Lblk),
        zero: &'static str,
        grows_past: impl Fn(Lblk) -> bool,
        size_to_block_end: bool,
        drain_dio: bool,
    ) {
        let flushed = self.iomap_zero_flush_eof_page(file, zero, &grows_past);
        if !self.cpu.peek(|m| m.kernel.inode(file).eof_half_reachable) {
            return;
        }
        let actor = self.actor;
        let (function, index) = check;
        let old_eof_block = self.cpu.step(|m| {
            let inode = m.kernel.inode(file);
            let (i_size, half) = (inode.i_size, inode.eof_half);
            m.emit(actor, function, Change::ISizeCheck { ino: file, index, i_size });
            (half && grows_past(i_size)).then(|| i_size - 1)
        });
        if let Some(lblk) = old_eof_block {
            if drain_dio {
                self.inode_dio_wait(file);
            }
            self.zero_eof_block_tail(file, lblk, zero, size_to_block_end, !flushed);
        }
    }

    /// iomap's zeroing of the range a growth exposes, from the old EOF, under
    /// `iomap_zero_flush_unwritten` (6.12: c5c810b94cfd flushed the range first; 7d9b474ee4cc,
    /// in the same release, only "if dirty and the fs returns a mapping that might convert on
    /// writeback"): a step that reads `i_size` and looks at the page that straddles it (the
    /// only page of the range that can be cached: the pages wholly past EOF are not); if that
    /// page needs writeback (`filemap_range_needs_writeback`: dirty or under writeback) and a
    /// block of the range in it is a hole or unwritten, the page is written back and waited
    /// for (`iomap_zero_iter_flush_and_stale`), while `i_size` is still the old one, so
    /// writeback zeroes the page past it. The step declares what it read: `i_size`, the page,
    /// and the extents of the range in it. Returns whether it flushed: Linux flushes a range
    /// once. Nothing (no step) under any other policy.
    fn iomap_zero_flush_eof_page(
        &mut self,
        file: Ino,
        function: &'static str,
        grows_past: &impl Fn(Lblk) -> bool,
    ) -> bool {
        if !(self.policy.truncate_up_zero_eof.zeroes_through_iomap() && self.policy.iomap_zero_flush_unwritten) {
            return false;
        }
        let actor = self.actor;
        let flush = self.cpu.step(|m| {
            let inode = m.kernel.inode(file);
            let (i_size, half, per_page) = (inode.i_size, inode.eof_half, inode.blocks_per_page);
            // The first block of the range: the one EOF lies inside, or the one after EOF.
            let first = if half { i_size - 1 } else { i_size };
            m.emit(actor, function, Change::ISizeCheck { ino: file, index: first, i_size });
            if !grows_past(i_size) || (!half && i_size.is_multiple_of(per_page)) {
                return None;
            }
            let index = first / per_page;
            let page = m.kernel.inode(file).cache[index as usize];
            m.emit(actor, function, Change::PageLookup { ino: file, index, page });
            let page = page?;
            // iomap_begin maps the range in the page (the events declare the block map read).
            let mut converts = false;
            for lblk in first..(index + 1) * per_page {
                let extent = m.kernel.inode(file).blocks[lblk as usize];
                converts |= matches!(extent, Extent::Hole | Extent::Unwritten(_));
                m.emit(
                    actor,
                    function,
                    Change::BlockMapped { ino: file, lblk, extent, allocated: false, reserved: false },
                );
            }
            let p = m.kernel.page(page);
            ((p.dirty || p.writeback) && converts).then_some(index)
        });
        let Some(index) = flush else { return false };
        self.filemap_write_and_wait_range(file, PageRange::new(index, index + 1), function);
        true
    }

    /// `truncate_inode_pages_range`'s partial page, before it zeroes: `find_lock_page` of page
    /// `index`, then `wait_on_page_writeback` under its lock. `None` when it is not cached.
    fn find_lock_page_stable(&mut self, file: Ino, index: Lblk) -> Option<(PageId, Held)> {
        let actor = self.actor;
        let page = self.cpu.step(|m| {
            let page = m.kernel.inode(file).cache[index as usize];
            m.emit(actor, "find_lock_page", Change::PageLookup { ino: file, index, page });
            page
        })?;
        let page_lock = self.lock_page("truncate_inode_pages_range", page);
        self.wait_on_page_writeback(page);
        Some((page, page_lock))
    }

    /// The partial page of `truncate_inode_pages_range(mapping, lstart)` for an EOF at `size`
    /// blocks (`half`: half-way into block `size - 1`), if EOF lies inside a page: EOF inside a
    /// block ([`Self::truncate_partial_block`]; block_invalidatepage keeps the buffer that
    /// straddles it, which starts before EOF), or on a block boundary inside a page of smaller
    /// blocks ([`Self::truncate_partial_page`]). Nothing where EOF ends a page.
    pub(super) fn truncate_eof_partial_page(&mut self, file: Ino, size: Lblk, half: bool) {
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        if half {
            self.truncate_partial_block(file, size - 1);
        } else if !size.is_multiple_of(per_page) {
            self.truncate_partial_page(file, size);
        }
    }

    /// The partial page of `truncate_inode_pages_range` when the new EOF lies half-way into
    /// block `lblk`: `find_lock_page`, `wait_on_page_writeback`, `zero_user_segment` from EOF to
    /// the end of the page (the block's tail half, and on a file whose blocks are smaller than a
    /// page every block of the page after it), and `do_invalidatepage` -> `block_invalidatepage`
    /// from EOF, which discards the buffers that start at or past it (`discard_buffer`: unmapped,
    /// no longer dirty; BH_Uptodate stays) and keeps the one that straddles EOF ("if (offset <=
    /// curr_off) discard_buffer(bh)"). The page stays cached, mapped and dirty if it was.
    fn truncate_partial_block(&mut self, file: Ino, lblk: Lblk) {
        let actor = self.actor;
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (index, slot) = (lblk / per_page, lblk % per_page);
        let Some((page, page_lock)) = self.find_lock_page_stable(file, index) else { return };
        self.cpu.step(|m| {
            if !m.kernel.page(page).attached {
                m.emit(actor, "truncate_inode_pages_range", Change::Nothing);
                return;
            }
            zero_half_of_block(m, page, slot, PagePart::Tail);
            m.emit(actor, "truncate_inode_pages_range", Change::TailZeroed { ino: file, lblk, page });
            if slot + 1 < per_page {
                for later in slot + 1..per_page {
                    let bh = &mut m.kernel.page_mut(page).bh[later as usize];
                    bh.content = Token::Zero;
                    bh.mapped = None;
                    bh.dirty = false;
                }
                m.emit(actor, "block_invalidatepage", Change::BlocksZeroed { page, first: slot + 1, end: per_page });
            }
        });
        self.unlock_page("truncate_inode_pages_range", page_lock);
    }

    /// Zeroes the tail half of block `lblk` from EOF through the page cache:
    /// `ext4_block_truncate_page` -> `ext4_block_zero_page_range` (and `block_truncate_page`,
    /// `xfs_zero_last_block`'s `xfs_iozero`, `iomap_truncate_page` / `iomap_zero_range`, which do
    /// the same at this granularity). The page is found or created and locked
    /// (`grab_cache_page`); the block's buffer is mapped if it is not (`get_block` without
    /// create), and a hole or an unwritten extent has nothing to zero ("unmapped? It's a hole -
    /// nothing to do"; iomap decides from the extent alone, before any page lock, and XFS 4.1's
    /// `xfs_zero_eof` zeroes an unwritten block too: [`crate::policy::TruncateUpZero`]); a
    /// buffer that is not uptodate is read from its block first
    /// (the page's one buffer, or on a file whose blocks are smaller than a page that block's
    /// only: "if (!buffer_uptodate(bh)) ... ext4_read_bh_lock"); the tail is zeroed (`zero_user`)
    /// and the page dirtied (`mark_buffer_dirty`), so writeback puts the zeroes on disk.
    ///
    /// With `size_to_block_end`, the zeroing is a write through the page cache that ends at the
    /// block's end and grows `i_size` there when it zeroed something (XFS's zeroing before an
    /// extending write: `xfs_iozero`'s `pagecache_write_end` -> `generic_write_end` in 4.x,
    /// `iomap_zero_iter`'s `iomap_write_end` later: "if (pos + copied > inode->i_size)
    /// i_size_write(...)"), under the page lock; EOF then lies on the block's end.
    ///
    /// Simplified: Linux leaves the page it created over a hole in the cache, not uptodate; the
    /// model removes nothing it did not add, and adds a page only where there is a block.
    pub(super) fn zero_eof_block_tail(
        &mut self,
        file: Ino,
        lblk: Lblk,
        function: &'static str,
        size_to_block_end: bool,
        iomap_may_flush: bool,
    ) {
        let actor = self.actor;
        let iomap = self.policy.truncate_up_zero_eof.zeroes_through_iomap();
        // What get_block without create (BH_Mapped left clear: ext4's `_ext4_get_block` keeps
        // only EXT4_MAP_UNWRITTEN, XFS 4.1's `__xfs_get_blocks` maps an unwritten extent only
        // "if create") or iomap_begin finds: nothing to zero in a hole or an unwritten extent.
        // XFS 4.1's `xfs_zero_eof` zeroes through a write, an unwritten block too.
        let zeroes_unwritten = self.policy.truncate_up_zero_eof.zeroes_unwritten_through_write(function);
        let nothing_behind = move |extent: Extent| match extent {
            Extent::Hole => true,
            Extent::Unwritten(_) => !zeroes_unwritten,
            Extent::Written(_) | Extent::Delalloc => false,
        };
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (index, slot) = (lblk / per_page, (lblk % per_page) as usize);
        // iomap since 6.12 writes back a dirty range over such a mapping once and looks again
        // (unless the caller's range was flushed already).
        let mut may_flush = iomap && self.policy.iomap_zero_flush_unwritten && iomap_may_flush;
        loop {
            // Over a hole with no cached page, grab_cache_page's new page would be left empty.
            let first = self.cpu.step(|m| {
                let page = m.kernel.inode(file).cache[index as usize];
                let extent = m.kernel.inode(file).blocks[lblk as usize];
                m.emit(actor, function, Change::PageLookup { ino: file, index, page });
                // iomap maps the range first and zeroes only what the extent says holds data
                // (`iomap_zero_range_actor`: "already zeroed?  we're done" for IOMAP_HOLE and
                // IOMAP_UNWRITTEN), whatever the page cache holds over it: a dirty page over an
                // unwritten block keeps its tail (869ae85dae64). Since 6.12 (7d9b474ee4cc) a range
                // that needs writeback (`filemap_range_needs_writeback`: dirty or under
                // writeback) is written back first (`iomap_zero_iter_flush_and_stale`) and
                // mapped again.
                if let Some(p) = page
                    && iomap
                    && nothing_behind(extent)
                {
                    m.emit(
                        actor,
                        function,
                        Change::BlockMapped { ino: file, lblk, extent, allocated: false, reserved: false },
                    );
                    let p = m.kernel.page(p);
                    if may_flush && (p.dirty || p.writeback) {
                        return ZeroFirst::FlushAndLookAgain;
                    }
                    m.emit(actor, function, Change::Nothing);
                    return ZeroFirst::Skip;
                }
                if page.is_some() {
                    return ZeroFirst::Zero;
                }
                // No page: get_block without create decides (the event declares the block map
                // read).
                if nothing_behind(extent) {
                    // "unmapped? It's a hole - nothing to do".
                    m.emit(actor, function, Change::Nothing);
                    return ZeroFirst::Skip;
                }
                m.emit(
                    actor,
                    function,
                    Change::BlockMapped { ino: file, lblk, extent, allocated: false, reserved: false },
                );
                ZeroFirst::Zero
            });
            match first {
                ZeroFirst::Skip => return,
                ZeroFirst::Zero => break,
                ZeroFirst::FlushAndLookAgain => {
                    may_flush = false;
                    self.filemap_write_and_wait_range(file, PageRange::new(index, index + 1), function);
                }
            }
        }
        let (page, page_lock) = self.grab_cache_page_write_begin(file, index);
        self.cpu.step(|m| {
            let extent = m.kernel.inode(file).blocks[lblk as usize];
            let p = m.kernel.page(page);
            // The buffer's cached block (BH_Mapped), else get_block without create.
            let (cached, uptodate) = match p.bh.get(slot) {
                Some(bh) => (bh.mapped, bh.uptodate || p.uptodate),
                None => (p.buffer_pblk, p.uptodate),
            };
            if cached.is_none() && nothing_behind(extent) {
                m.emit(actor, function, Change::Nothing);
                return;
            }
            let pblk = cached.or(extent.pblk());
            if !uptodate {
                let token = match (pblk, extent) {
                    (_, Extent::Unwritten(_)) | (None, _) => Token::Zero,
                    (Some(b), _) => m.kernel.disk[b as usize],
                };
                let p = m.kernel.page_mut(page);
                match p.bh.get_mut(slot) {
                    Some(bh) => {
                        bh.content = token;
                        bh.uptodate = true;
                    }
                    None => {
                        p.content = token;
                        p.uptodate = true;
                    }
                }
                m.emit(actor, function, Change::PageRead { ino: file, index: lblk, page, extent, token });
            }
            let p = m.kernel.page_mut(page);
            p.buffers = true;
            match p.bh.get_mut(slot) {
                Some(bh) => bh.mapped = bh.mapped.or(pblk),
                None => p.buffer_pblk = p.buffer_pblk.or(pblk),
            }
            zero_half_of_block(m, page, slot as Lblk, PagePart::Tail);
            m.emit(actor, function, Change::TailZeroed { ino: file, lblk, page });
            if m.kernel.page(page).bh.is_empty() {
                m.kernel.page_mut(page).dirty = true;
            } else {
                m.kernel.mark_buffer_dirty(page, slot as Lblk);
            }
            m.emit(actor, "mark_buffer_dirty", Change::PageDirtied { page, i_size_of: None });
            let inode = m.kernel.inode_mut(file);
            if size_to_block_end && inode.eof_half && inode.i_size == lblk + 1 {
                inode.eof_half = false;
                m.emit(actor, function, Change::ISizeSet { ino: file, i_size: lblk + 1, half: false });
                // The size on disk follows as for write(2)'s write_end over an allocated block
                // (below that, a delayed block's size is writeback's to raise): XFS raises its
                // on-disk size when the page's IO completes past it (xfs_setfilesize, capped
                // by i_size), so an fsync after the zeroing makes the new size durable. Until
                // December 2026 it stayed at the old EOF: a false lost_fsync under xfs-5.3,
                // found by randomised crash scenarios.
                let allocated = m.kernel.inode(file).blocks[lblk as usize].pblk().is_some();
                write_end_disksize(m, actor, function, file, (lblk + 1, false), allocated);
            }
        });
        self.unlock_page(function, page_lock);
    }

    /// The partial page of `truncate_inode_pages_range` (`lstart` = `size` blocks, inside a
    /// page): `find_lock_page`, `wait_on_page_writeback`, `zero_user_segment` from `lstart` to
    /// the end of the page, and `do_invalidatepage` over that part, which discards the buffers
    /// wholly inside it (`discard_buffer`: unmapped, no longer dirty). The page stays cached,
    /// mapped and dirty if it was.
    pub(super) fn truncate_partial_page(&mut self, file: Ino, size: Lblk) {
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        self.truncate_partial_blocks(file, size / per_page, size % per_page, per_page);
    }

    /// `ext4_update_disksize_before_punch` (011278485ecc, 4.5), before punch hole or zero range
    /// evicts the page cache: if the range reaches EOF ("if (offset > size || offset + len <
    /// size) return 0") and `i_disksize` is below `i_size`, `i_disksize` becomes `i_size` in a
    /// handle of its own, so that a size a delayed write left to writeback is not lost with the
    /// pages that writeback would have written. `i_size` cannot move under the caller's
    /// `i_rwsem` and only writeback raises `i_disksize` meanwhile, so a check that finds nothing
    /// to do would find nothing later either: it takes no step (no shipped step count moves).
    fn update_disksize_before_punch(&mut self, file: Ino, range: PageRange) {
        let actor = self.actor;
        let raises = |m: &Machine| {
            // In half blocks: an EOF half-way into block `i_size - 1` lies before a range that
            // starts at that block's end.
            let (i_size, half) = (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half);
            let eof = half_blocks(i_size, half);
            range.start.saturating_mul(2) <= eof
                && range.end.saturating_mul(2) >= eof
                && m.kernel.past_i_disksize(file, i_size, half)
        };
        if !self.cpu.peek(raises) {
            return;
        }
        // ext4_update_i_disksize: "if (newsize > ei->i_disksize)" (writeback may have raised it
        // since the check above); the event declares the read of both sizes either way.
        self.cpu.step(|m| {
            let (i_size, eof_half) = (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half);
            let (disksize, half) = m.kernel.raise_i_disksize(file, i_size, eof_half);
            m.emit(actor, "ext4_update_disksize_before_punch", Change::DiskSizeSet { ino: file, disksize, half });
        });
    }

    /// `truncate_pagecache_range(inode, first_block_offset, last_block_offset)` over the blocks
    /// `range` of a file whose blocks are smaller than a page: the pages wholly inside the range
    /// are unmapped and evicted; a page that straddles an edge stays cached and mapped, and
    /// `truncate_inode_pages_range` zeroes the range's blocks in it and discards their buffers
    /// (the partial page at the start, then the one at the end; the model runs them after the
    /// second unmap, as truncate down does: the unmaps touch only the whole pages).
    pub(super) fn truncate_pagecache_blocks(&mut self, file: Ino, range: PageRange) {
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let inner = PageRange::new(range.start.div_ceil(per_page), range.end / per_page);
        if inner.start < inner.end {
            self.truncate_pagecache_range(file, inner);
        }
        for (index, first, end) in edge_pages(range, per_page) {
            self.truncate_partial_blocks(file, index, first, end);
        }
    }

    /// A partial page of `truncate_inode_pages_range` whose blocks `first..end` (slots of page
    /// `index`) the range covers: `find_lock_page`, `wait_on_page_writeback`,
    /// `zero_user_segment` of those blocks and `do_invalidatepage` -> `block_invalidatepage`,
    /// which discards their buffers (`discard_buffer`: no longer mapped or dirty; BH_Uptodate
    /// stays). The page stays cached, mapped (its PTEs as they were) and dirty if it was.
    fn truncate_partial_blocks(&mut self, file: Ino, index: Lblk, first: Lblk, end: Lblk) {
        let actor = self.actor;
        let Some((page, page_lock)) = self.find_lock_page_stable(file, index) else { return };
        self.cpu.step(|m| {
            if !m.kernel.page(page).attached {
                m.emit(actor, "truncate_inode_pages_range", Change::Nothing);
                return;
            }
            for slot in first..end {
                let bh = &mut m.kernel.page_mut(page).bh[slot as usize];
                bh.content = Token::Zero;
                bh.mapped = None;
                bh.dirty = false;
            }
            m.emit(actor, "block_invalidatepage", Change::BlocksZeroed { page, first, end });
        });
        self.unlock_page("truncate_inode_pages_range", page_lock);
    }

    /// `ext4_truncate_folio` (17207d0bb209), for the page `index` that straddles an edge of a
    /// range of whole blocks about to be freed: lock it (`filemap_lock_folio`; nothing to do if
    /// it is not cached) and write-protect its PTEs (`folio_mkclean`, dirtying the page if one
    /// was dirty), so that the next store faults and `page_mkwrite` maps the page's blocks
    /// again instead of writing through a PTE into a buffer the truncation discards.
    fn ext4_truncate_folio(&mut self, file: Ino, index: Lblk) {
        let actor = self.actor;
        let page = self.cpu.step(|m| {
            let page = m.kernel.inode(file).cache[index as usize];
            m.emit(actor, "ext4_truncate_folio", Change::PageLookup { ino: file, index, page });
            page
        });
        let Some(page) = page else { return };
        let page_lock = self.lock_page("ext4_truncate_folio", page);
        self.page_mkclean_keep_dirty(page);
        self.unlock_page("ext4_truncate_folio", page_lock);
    }

    /// `if (page_mkclean(page)) set_page_dirty(page)` on a locked page: its PTEs are
    /// write-protected, and the dirty bits `page_mkclean` cleared from them go to the page.
    fn page_mkclean_keep_dirty(&mut self, page: PageId) {
        let actor = self.actor;
        self.cpu.step(|m| {
            let ptes_write_protected = m.kernel.page_mkclean(page);
            m.emit(actor, "page_mkclean", Change::PtesWriteProtected { page, count: ptes_write_protected });
            if ptes_write_protected > 0 {
                m.kernel.set_page_dirty(page);
                m.emit(actor, "set_page_dirty", Change::PageDirtied { page, i_size_of: None });
            }
        });
    }

    /// `pagecache_isize_extended(inode, from, to)` for a file whose blocks are smaller than a
    /// page, as the policy's `pagecache_isize_extended` says; each size is `(blocks rounded up,
    /// half)`, as `Inode::i_size` and `Inode::eof_half` count. It acts only when the page
    /// straddling the old EOF gets blocks inside the new one: Linux's `rounded_from =
    /// round_up(from, bsize)` is the rounded-up block count, and "if (to <= rounded_from ||
    /// !(rounded_from & (PAGE_SIZE - 1))) return" leaves the page alone for a growth that stays
    /// inside the old EOF block, or an old EOF block that ends the page. Under the page lock,
    /// `page_mkclean` write-protects the page's PTEs and, if one was dirty, the page is dirtied
    /// (`set_page_dirty`); with the zeroing, a dirty page is then zeroed from the old EOF, the
    /// tail of its block first, to the new EOF (the head of its block last) or the page's end
    /// (`folio_zero_segment`).
    pub(super) fn pagecache_isize_extended(
        &mut self,
        file: Ino,
        (from, from_half): (Lblk, bool),
        (to, to_half): (Lblk, bool),
    ) {
        use crate::policy::IsizeExtended;
        let actor = self.actor;
        let what = self.policy.pagecache_isize_extended;
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        if what == IsizeExtended::None || from >= to || from.is_multiple_of(per_page) {
            return;
        }
        let index = from / per_page;
        let page = self.cpu.step(|m| {
            let page = m.kernel.inode(file).cache[index as usize];
            m.emit(actor, "pagecache_isize_extended", Change::PageLookup { ino: file, index, page });
            page
        });
        let Some(page) = page else { return };
        let page_lock = self.lock_page("pagecache_isize_extended", page);
        self.page_mkclean_keep_dirty(page);
        if what == IsizeExtended::WriteProtectAndZero {
            self.cpu.step(|m| {
                if !m.kernel.page(page).dirty {
                    m.emit(actor, "pagecache_isize_extended", Change::Nothing);
                    return;
                }
                // Slots of the page: the old EOF block's tail, the whole blocks up to the new
                // EOF or the page's end, and the new EOF block's head if it is in this page.
                let first = from % per_page;
                if from_half {
                    zero_half_of_block(m, page, first - 1, PagePart::Tail);
                    m.emit(actor, "folio_zero_segment", Change::TailZeroed { ino: file, lblk: from - 1, page });
                }
                let page_end = (index + 1) * per_page;
                let head_of_last = to_half && to <= page_end;
                let end = to.min(page_end) - index * per_page - Lblk::from(head_of_last);
                if first < end {
                    for slot in first..end {
                        m.kernel.page_mut(page).bh[slot as usize].content = Token::Zero;
                    }
                    m.emit(actor, "folio_zero_segment", Change::BlocksZeroed { page, first, end });
                }
                if head_of_last {
                    zero_half_of_block(m, page, end, PagePart::Head);
                    m.emit(actor, "folio_zero_segment", Change::HeadZeroed { ino: file, lblk: to - 1, page });
                }
            });
        }
        self.unlock_page("pagecache_isize_extended", page_lock);
    }

    /// The shape punch hole and zero range share: the write-out of the range's dirty pages
    /// the policy's `flush` places before `i_rwsem`, `i_rwsem`, `bound` the range by EOF (under
    /// `i_rwsem`; `None`: nothing to do), wait for direct IO, the policy's invalidation lock over
    /// the range, the write-out `flush` places under the locks, evict the range, `change` the
    /// blocks, unlock.
    ///
    /// The write-out (`filemap_write_and_wait_range`) is modelled only where durability is (a
    /// scenario that commits or crashes): elsewhere writing the pages back before evicting them
    /// and freeing or converting their blocks changes nothing the range ends up holding, and
    /// those scenarios keep their steps (as delalloc writeback's split allocation does). On a
    /// file whose blocks are smaller than a page it is always modelled: the write-out cleans,
    /// and so write-protects (`clear_page_dirty_for_io` -> `page_mkclean`), the pages that
    /// straddle the edges of the range, which stay cached and mapped, and the policy's
    /// `punch_partial_page = "evict"` evicts them whole, other blocks' data and all.
    ///
    /// `range` counts blocks (pages, unless the file's blocks are smaller than a page); the
    /// locks, the write-out and the eviction cover the pages the blocks lie in.
    #[allow(clippy::too_many_arguments)]
    fn invalidate_range(
        &mut self,
        file: Ino,
        range: PageRange,
        function: &'static str,
        func: Func,
        flush: RangeFlush,
        bound: Option<EofBound>,
        change: impl FnOnce(&mut Self, PageRange),
    ) {
        let actor = self.actor;
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let durable = self.cpu.peek(|m| m.kernel.durable.enabled);
        // And beside an EOF inside a block: truncate to there zeroed the block's tail in its
        // dirty page only, and a fault between the eviction and the freeing would read the old
        // tail back from the disk, where Linux's write-out put the zeroes first.
        let half_reachable = self.cpu.peek(|m| m.kernel.inode(file).eof_half_reachable);
        let flushes = durable || per_page > 1 || half_reachable;
        // The pages the blocks of `range` lie in, partial ones included.
        let pages_of = move |r: PageRange| r.pages_holding(per_page);
        if flushes && flush == RangeFlush::BeforeLock {
            // ext4_punch_hole (3.0+), ext4_zero_range (3.15-4.4): "Write out all dirty pages
            // to avoid race conditions. Then release them." before taking i_rwsem
            // (`filemap_write_and_wait_range(mapping, offset, offset + length - 1)`: every
            // page the range touches).
            self.filemap_write_and_wait_range(file, pages_of(range), "filemap_write_and_wait_range");
        }
        let i_rwsem = self.lock_i_rwsem(file);
        let range = match bound {
            None => Some(range),
            Some(bound) => self.cpu.step(|m| {
                let (i_size, half) = (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half);
                m.emit(actor, function, Change::ISizeCheck { ino: file, index: range.start, i_size });
                bound(range, i_size, half, per_page)
            }),
        };
        let Some(range) = range else {
            self.release("inode_unlock", i_rwsem);
            return;
        };
        let pages = pages_of(range);
        let frame = self.enter(func, file, pages.start, pages);
        // "Wait all existing dio workers, newcomers will block on i_mutex" (ext4_punch_hole,
        // ext4_zero_range up to 5.4): the fence stays up until the blocks have changed.
        self.fence_unlocked_dio(file, true);
        self.inode_dio_wait(file);
        let (invalidate, changing) = match func {
            Func::PunchHole => (Point::PunchInvalidate, Point::PunchRemoveSpace),
            _ => (Point::ZeroInvalidate, Point::ZeroConvert),
        };
        self.at(&frame, invalidate);
        // ext4_punch_hole, ext4_zero_range (4.18+): ext4_break_layouts right after
        // down_write(i_mmap_sem); xfs_file_fallocate under IOLOCK and MMAPLOCK.
        self.break_layouts(&frame, file);
        if flushes && flush == RangeFlush::UnderLock {
            // xfs_free_file_space: filemap_write_and_wait_range (xfs_flush_unmap_range, 5.0+)
            // under IOLOCK and MMAPLOCK, then the eviction; both over the range rounded out to
            // max(block size, PAGE_SIZE).
            self.filemap_write_and_wait_range(file, pages, "filemap_write_and_wait_range");
        }
        if durable && self.policy.update_disksize_before_punch {
            self.update_disksize_before_punch(file, range);
        }
        if per_page == 1 || self.policy.punch_partial_page == crate::policy::PunchPartialPage::Evict {
            // Every page the range touches, whole.
            self.truncate_pagecache_range(file, pages);
        } else {
            if self.policy.punch_partial_page == crate::policy::PunchPartialPage::WriteProtect {
                // ext4_truncate_page_cache_block_range (17207d0bb209): each edge page is
                // write-protected first, the head then the tail.
                for (index, _, _) in edge_pages(range, per_page) {
                    self.ext4_truncate_folio(file, index);
                }
            }
            self.truncate_pagecache_blocks(file, range);
        }
        self.at(&frame, changing);
        change(self, range);
        self.leave(frame);
        self.fence_unlocked_dio(file, false);
        self.release("inode_unlock", i_rwsem);
    }

    /// fallocate(FALLOC_FL_PUNCH_HOLE) of `pages` pages at `page` (blocks, on a file whose
    /// blocks are smaller than a page: whole blocks, so `ext4_zero_partial_blocks` has nothing
    /// to zero).
    pub fn punch_hole(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let range = PageRange::new(page, page + pages);
        // ext4_punch_hole: "No need to punch hole beyond i_size"; a hole that extends past it
        // is cut to "end after the page that contains i_size", which for a page-aligned i_size
        // is one page past EOF.
        // In blocks on a file whose blocks are smaller than a page: the end of the page that
        // contains i_size ("i_size + PAGE_SIZE - (i_size & (PAGE_SIZE - 1))"). Where EOF lies
        // half-way into block `i_size - 1`, that is the block's page (`i_size` counts the block,
        // and "offset >= i_size" holds for a block-aligned offset exactly when it does for the
        // rounded size).
        let ext4_bound: EofBound = |range, i_size, half, per_page| {
            (range.start < i_size).then(|| PageRange::new(range.start, punch_end(range.end, i_size, half, per_page)))
        };
        // XFS's xfs_free_file_space bounds nothing by EOF: it writes back and evicts the range
        // rounded out to whole pages and unmaps every block of it, past EOF too (only its
        // zeroing of partial blocks stops at XFS_ISIZE). On a file of blocks smaller than a
        // page, where `punch_partial_page = "evict"` stands for that function, a punch that
        // starts past EOF inside the EOF page evicts that page, blocks past EOF included. On
        // page-sized blocks the model keeps ext4's bound: what differs there is only which
        // blocks past the EOF page stay allocated.
        let xfs_bound: EofBound = |range, _, _, _| Some(range);
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let bound = if per_page > 1 && self.policy.punch_partial_page == crate::policy::PunchPartialPage::Evict {
            xfs_bound
        } else {
            ext4_bound
        };
        let flush = self.policy.punch_hole_flush;
        self.invalidate_range(file, range, "ext4_punch_hole", Func::PunchHole, flush, Some(bound), |task, range| {
            task.remove_space(file, range, "ext4_ext_remove_space")
        });
        Outcome::Ok
    }

    /// madvise(MADV_REMOVE) of `pages` pages at `page` of the actor's shared mapping of `file`:
    /// `madvise_remove` checks the VMA under `mmap_sem` (taken shared by do_madvise), then calls
    /// `vfs_fallocate(PUNCH_HOLE | KEEP_SIZE)`. Whether `mmap_sem` is still held across the
    /// punch is the policy's placement of `mmap_sem` in `madvise_remove`: today's Linux drops it
    /// first (mm/madvise.c: "Filesystem's fallocate may need to take i_rwsem. We need to
    /// explicitly grab a reference because the vma (and hence the vma's reference to the file)
    /// can go away as soon as we drop mmap_lock"), from `start` to `punch`.
    ///
    /// On a file whose blocks are smaller than a page, `page` and `pages` are blocks, whole pages
    /// of them (madvise(2) takes a page-aligned range): the VMA and the placements see pages.
    pub fn madvise_remove(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let (actor, mm) = (self.actor, self.mm);
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (first, count) = (page / per_page, pages.div_ceil(per_page));
        let frame = self.enter(Func::MadviseRemove, file, first, PageRange::new(first, first + count));
        // The range must be mapped (the model's mappings are all shared and writable, so
        // madvise_remove's EACCES does not arise); Linux's do_madvise returns ENOMEM for an
        // unmapped range where the model returns EINVAL (docs/model.md, "madvise(MADV_REMOVE)").
        // And "if (vma->vm_flags & VM_LOCKED) return -EINVAL" (every kernel since MADV_REMOVE,
        // 2.6.16): a range whose first VMA is mlocked is refused. The loader refuses a range an
        // mlock starts inside of, where Linux punches the unlocked VMA before the locked one
        // and then refuses, so here any locked page means the first one is.
        let mapped = self.cpu.step(|m| {
            let vma = m.kernel.vma_of(mm, file).map(|(_, vma)| vma);
            let usable = vma.is_some_and(|vma| {
                vma.maps_range(first, count) && !(first..first + count).any(|index| vma.is_locked(index))
            });
            m.emit(actor, "madvise_remove", Change::Nothing);
            usable
        });
        if !mapped {
            self.leave(frame);
            return Outcome::Einval;
        }
        self.at(&frame, Point::MadvisePunch);
        self.punch_hole(file, page, pages);
        self.leave(frame);
        Outcome::Ok
    }

    /// fallocate(FALLOC_FL_COLLAPSE_RANGE) of `pages` pages at `page`: removes the range and
    /// shifts everything after it down, renumbering pages.
    ///
    /// On a file whose blocks are smaller than a page, `page` and `pages` count blocks, and the
    /// flush, the locks and the eviction start at the page that holds the offset
    /// (ext4_collapse_range: "Need to round down offset to be aligned with page size boundary
    /// for page size > block size. ioffset = round_down(offset, PAGE_SIZE)", then
    /// `truncate_pagecache(inode, ioffset)`; XFS: `xfs_flush_unmap_range` rounds down to
    /// max(block size, PAGE_SIZE), and 4.x's `invalidate_inode_pages2_range` starts at
    /// `offset >> PAGE_SHIFT`): the blocks before the offset in that page leave the cache too.
    pub fn collapse_range(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let actor = self.actor;
        let end = page + pages;
        let (from, locked) = self.shift_pages(file, page, end);
        if self.policy.collapse_flush_outside_lock {
            self.filemap_write_and_wait_range(file, from, "filemap_write_and_wait_range");
        }
        let i_rwsem = self.lock_i_rwsem(file);
        let frame = self.enter(Func::CollapseRange, file, locked.start, locked);
        self.fence_unlocked_dio(file, true);
        self.inode_dio_wait(file);
        // "if (offset + len >= i_size_read(inode)) return -EINVAL;"
        let refused = self.cpu.step(|m| {
            let i_size = m.kernel.inode(file).i_size;
            m.emit(actor, "ext4_collapse_range", Change::ISizeCheck { ino: file, index: end, i_size });
            end >= i_size
        });
        if refused {
            self.leave(frame);
            self.fence_unlocked_dio(file, false);
            self.release("inode_unlock", i_rwsem);
            return Outcome::Einval;
        }
        self.at(&frame, Point::CollapseInvalidate);
        // ext4_collapse_range (4.18+): ext4_break_layouts after down_write(i_mmap_sem).
        self.break_layouts(&frame, file);
        if !self.policy.collapse_flush_outside_lock {
            self.filemap_write_and_wait_range(file, from, "filemap_write_and_wait_range");
        }
        // Everything from the offset on is renumbered, so all of it leaves the page cache.
        self.truncate_pagecache_range(file, from);
        self.at(&frame, Point::CollapseRemoveSpace);
        self.remove_space(file, PageRange::new(page, end), "ext4_ext_remove_space");
        self.cpu.step(|m| {
            let blocks = &mut m.kernel.inode_mut(file).blocks;
            for lblk in end..FILE_PAGES_MAX {
                blocks[(lblk - pages) as usize] = blocks[lblk as usize];
            }
            for lblk in FILE_PAGES_MAX - pages..FILE_PAGES_MAX {
                blocks[lblk as usize] = Extent::Hole;
            }
            for lblk in page..FILE_PAGES_MAX {
                if let Some(pblk) = m.kernel.inode(file).blocks[lblk as usize].pblk() {
                    m.kernel.block_owner[pblk as usize] = Some((file, lblk));
                }
            }
            m.emit(actor, "ext4_ext_shift_extents", Change::ExtentsShifted { ino: file, from: end, by: pages });
        });
        let (old, half) = self.cpu.peek(|m| (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half));
        // i_size is stable here: we hold i_rwsem, and every i_size writer takes it. An EOF
        // inside a block moves down with its block ("new_size = i_size_read(inode) - len").
        self.set_i_size_half(file, old - pages, half, "i_size_write", true);
        self.leave(frame);
        self.fence_unlocked_dio(file, false);
        self.release("inode_unlock", i_rwsem);
        Outcome::Ok
    }
}

impl<C: Cpu> Task<'_, C> {
    /// Collapse and insert range on the blocks `[first, end)`: the pages they flush and evict,
    /// from the page that holds `first` to EOF (`round_down(offset, PAGE_SIZE)`), and the pages
    /// their frame covers (the range, its partial pages included). In pages; the blocks are
    /// pages where the file's blocks are.
    fn shift_pages(&mut self, file: Ino, first: Lblk, end: Lblk) -> (PageRange, PageRange) {
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let start = first / per_page;
        (PageRange::to_eof(start), PageRange::new(start, end.div_ceil(per_page)))
    }

    /// fallocate(FALLOC_FL_INSERT_RANGE) of `pages` pages at `page`: shifts everything from the
    /// offset up and leaves a hole there (`ext4_insert_range`, 4.2+: 331573febb6a). Like collapse, it flushes
    /// and evicts from the offset to EOF; legacy ext4 flushed before taking i_mutex. On a file
    /// whose blocks are smaller than a page it counts blocks and, like collapse, flushes and
    /// evicts from the page that holds the offset (ext4_insert_range's `ioffset =
    /// round_down(offset, PAGE_SIZE)`, `truncate_pagecache(inode, ioffset)`).
    pub fn insert_range(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let actor = self.actor;
        let (from, locked) = self.shift_pages(file, page, page + pages);
        if self.policy.collapse_flush_outside_lock {
            self.filemap_write_and_wait_range(file, from, "filemap_write_and_wait_range");
        }
        let i_rwsem = self.lock_i_rwsem(file);
        let frame = self.enter(Func::InsertRange, file, locked.start, locked);
        self.fence_unlocked_dio(file, true);
        self.inode_dio_wait(file);
        // "if (offset >= i_size_read(inode)) return -EINVAL;" and the file must fit.
        let refused = self.cpu.step(|m| {
            let i_size = m.kernel.inode(file).i_size;
            m.emit(actor, "ext4_insert_range", Change::ISizeCheck { ino: file, index: page, i_size });
            page >= i_size || i_size + pages > FILE_PAGES_MAX
        });
        if refused {
            self.leave(frame);
            self.fence_unlocked_dio(file, false);
            self.release("inode_unlock", i_rwsem);
            return Outcome::Einval;
        }
        // Insert renumbers everything from the offset up: a range lock for it covers
        // [offset, EOF) (`to_eof`).
        self.at(&frame, Point::InsertInvalidate);
        // ext4_insert_range (4.18+): ext4_break_layouts after down_write(i_mmap_sem).
        self.break_layouts(&frame, file);
        if !self.policy.collapse_flush_outside_lock {
            self.filemap_write_and_wait_range(file, from, "filemap_write_and_wait_range");
        }
        self.truncate_pagecache_range(file, from);
        self.at(&frame, Point::InsertShift);
        // i_size grows first, then the extents move up (ext4_insert_range's order).
        let (old, half) = self.cpu.peek(|m| (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half));
        // An EOF inside a block moves up with its block ("inode->i_size += len").
        self.set_i_size_half(file, old + pages, half, "i_size_write", true);
        self.cpu.step(|m| {
            let blocks = &mut m.kernel.inode_mut(file).blocks;
            for lblk in (page + pages..FILE_PAGES_MAX).rev() {
                blocks[lblk as usize] = blocks[(lblk - pages) as usize];
            }
            for lblk in page..page + pages {
                blocks[lblk as usize] = Extent::Hole;
            }
            for lblk in page..FILE_PAGES_MAX {
                if let Some(pblk) = m.kernel.inode(file).blocks[lblk as usize].pblk() {
                    m.kernel.block_owner[pblk as usize] = Some((file, lblk));
                }
            }
            m.emit(actor, "ext4_ext_shift_extents", Change::ExtentsShiftedUp { ino: file, from: page, by: pages });
        });
        self.leave(frame);
        self.fence_unlocked_dio(file, false);
        self.release("inode_unlock", i_rwsem);
        Outcome::Ok
    }

    /// fallocate(FALLOC_FL_ZERO_RANGE) of `pages` pages at `page` (`ext4_zero_range`): evicts
    /// the range from the page cache and turns its blocks into unwritten extents (allocating
    /// them for holes), so it reads back as zeroes with the space kept. A range past EOF grows
    /// `i_size` through the same `ext4_alloc_file_blocks` as fallocate(mode 0), under the
    /// invalidation lock, and so runs `pagecache_isize_extended` as the policy's
    /// `fallocate_isize_extended` says.
    pub fn zero_range(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let range = PageRange::new(page, page + pages);
        let flush = self.policy.zero_range_flush;
        self.invalidate_range(file, range, "ext4_zero_range", Func::ZeroRange, flush, None, |task, range| {
            // Growing the file from an EOF inside a block (a range past that block: the loader
            // refuses one over it): zeroed before the size changes where fallocate(mode 0) zeroes
            // it so, since both go through the same code. ext4 7.1's ext4_alloc_file_blocks
            // zeroes before its loop, and ext4_zero_range calls it with its new size, under the
            // invalidate lock; XFS's xfs_file_fallocate sets a zero range's new size through
            // xfs_vn_setattr_size as it does fallocate's, under IOLOCK and MMAPLOCK exclusive.
            // ext4 6.13 to 6.19 zeroes after the size update, in the same ext4_alloc_file_blocks
            // (`fallocate_isize_extended`, below).
            task.zero_eof_before_fallocate_growth(file, "ext4_zero_range", range.end);
            let old_size = task.cpu.peek(|m| (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half));
            task.convert_to_unwritten(file, range, "ext4_zero_range");
            task.fallocate_isize_extended(file, old_size);
        });
        Outcome::Ok
    }

    /// fallocate(mode 0) of `pages` pages at `page`: allocates unwritten extents for the holes
    /// of the range; data already there stays. Without FALLOC_FL_KEEP_SIZE a range past EOF
    /// extends `i_size` to its end (`ext4_alloc_file_blocks` calls `ext4_update_inode_size` as it
    /// allocates; same step).
    pub fn fallocate(&mut self, file: Ino, page: Lblk, pages: Lblk, keep_size: bool) -> Outcome {
        let i_rwsem = self.lock_i_rwsem(file);
        // XFS takes MMAPLOCK exclusive here, across the allocation and the size change (the
        // policy's placement in `fallocate`); ext4's mode 0 takes nothing more.
        // The placements see pages: on a file whose blocks are smaller than a page, `page` and
        // `pages` are blocks.
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (first, end) = (page / per_page, (page + pages).div_ceil(per_page));
        let frame = self.enter(Func::Fallocate, file, first, PageRange::new(first, end));
        // Growing the file from an EOF inside a block: ext4 7.1 ("if (new_size > old_size)
        // ext4_block_zero_eof(inode, old_size, LLONG_MAX)" before ext4_alloc_file_blocks'
        // loop) and XFS (xfs_setattr_size's zeroing, after xfs_alloc_file_space, under
        // IOLOCK and MMAPLOCK exclusive) zero the old EOF block's tail before the size changes.
        // The XFS order is simplified: what stays different (zeroing on ENOSPC, the zeroing's
        // own growth to the block's end) is in docs/model.md, "An EOF inside a block".
        if !keep_size {
            self.zero_eof_before_fallocate_growth(file, "ext4_fallocate", page + pages);
        }
        let old_size = self.cpu.peek(|m| (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half));
        // ext4_alloc_file_blocks: "if (ret == -ENOSPC && ext4_should_retry_alloc(inode->i_sb,
        // &retries)) { ret = 0; goto retry; }"; what it allocated before stays.
        let mut retries = 0;
        let full = loop {
            let full = self.alloc_file_blocks(file, page, pages, keep_size);
            if !full || !self.should_retry_alloc(&mut retries) {
                break full;
            }
        };
        self.fallocate_isize_extended(file, old_size);
        self.leave(frame);
        self.release("inode_unlock", i_rwsem);
        if full { Outcome::Enospc } else { Outcome::Ok }
    }

    /// After fallocate (mode 0 or zero range) grew `i_size` from `old_size`:
    /// `pagecache_isize_extended(old_size, new)` if the policy's `fallocate_isize_extended` says
    /// the kernel runs it. XFS sets the new size through `xfs_setattr_size` -> `truncate_setsize`,
    /// which does; ext4's `ext4_alloc_file_blocks` did not until c7fc0366c656 ("ext4: partial zero
    /// eof block on unaligned inode size extension", 6.13; stable 6.12.5 and 6.6), so a PTE
    /// `page_mkwrite` made writable over the straddling page's blocks inside the old EOF stays
    /// writable over the blocks the new size covers.
    ///
    /// Then, if the policy's `fallocate_truncate_pagecache` says so (XFS), the rest of
    /// `truncate_setsize`: `truncate_pagecache(inode, newsize)`, whose partial page zeroes the
    /// page that holds a new EOF inside a page from there to its end and discards its buffers
    /// there, as truncate up does.
    ///
    /// `old_size` is `(blocks rounded up, half)`: from an EOF half-way into a block, ext4 6.13
    /// to 6.19 (c7fc0366c656) then zeroes that block's tail, after the size update
    /// ("pagecache_isize_extended(inode, old_size, epos); ext4_zero_partial_blocks(handle,
    /// inode, old_size, epos - old_size)" in `ext4_alloc_file_blocks`).
    fn fallocate_isize_extended(&mut self, file: Ino, (old_size, old_half): (Lblk, bool)) {
        let (new_size, new_half, per_page) = self.cpu.peek(|m| {
            let inode = m.kernel.inode(file);
            (inode.i_size, inode.eof_half, inode.blocks_per_page)
        });
        // In half blocks: an EOF that moved from half-way into block `old_size - 1` to its end.
        let grew = half_blocks(new_size, new_half) > half_blocks(old_size, old_half);
        if self.policy.fallocate_isize_extended && grew {
            self.pagecache_isize_extended(file, (old_size, old_half), (new_size, new_half));
        }
        if grew
            && old_half
            && let Some(function) = self.policy.truncate_up_zero_eof.extending_write_zeroes_after()
        {
            self.zero_eof_block_tail(file, old_size - 1, function, false, true);
        }
        if self.policy.fallocate_truncate_pagecache && new_size > old_size && !new_size.is_multiple_of(per_page) {
            self.truncate_partial_page(file, new_size);
        }
    }

    /// `ext4_alloc_file_blocks`' loop, one step: unwritten extents for the holes of the range,
    /// `i_size` grown to the end of it unless `keep_size`. True on ENOSPC.
    ///
    /// On ENOSPC ext4 keeps the size it grew over the chunks it mapped ("epos =
    /// (loff_t)map.m_lblk << inode->i_blkbits; ... ext4_update_inode_size(inode, epos)" per
    /// chunk until 7.1, once after the loop from 7.1), here up to the block that found no space
    /// (nothing where the range's first block found none);
    /// XFS (`fallocate_truncate_pagecache`) sets the size in `xfs_setattr_size` only after the
    /// whole `xfs_alloc_file_space` succeeded, so it keeps the old one.
    fn alloc_file_blocks(&mut self, file: Ino, page: Lblk, pages: Lblk, keep_size: bool) -> bool {
        let actor = self.actor;
        let size_after_whole_allocation = self.policy.fallocate_truncate_pagecache;
        // ext4_update_inode_size to `end`, where that grows the file (through the end of the block
        // that holds an EOF inside it, EOF moves to its end).
        let grow_to = move |m: &mut Machine, end: Lblk| {
            let inode = m.kernel.inode(file);
            if !keep_size && (end > inode.i_size || (end == inode.i_size && inode.eof_half)) {
                m.kernel.inode_mut(file).i_size = end;
                m.kernel.inode_mut(file).eof_half = false;
                m.emit(actor, "ext4_update_inode_size", Change::ISizeSet { ino: file, i_size: end, half: false });
                disksize_follows(m, actor, "ext4_update_inode_size", file);
            } else if !keep_size {
                // Read to decide it leaves the size alone: declared.
                let i_size = inode.i_size;
                m.emit(actor, "ext4_update_inode_size", Change::ISizeCheck { ino: file, index: end - 1, i_size });
            }
        };
        self.cpu.step(|m| {
            let mut allocated = 0;
            for lblk in page..(page + pages).min(FILE_PAGES_MAX) {
                if m.kernel.inode(file).blocks[lblk as usize] != Extent::Hole {
                    continue;
                }
                // An unwritten extent files no inode for data=ordered (4.x ext4_map_blocks files
                // nothing; from 06bd3c36a733 only new extents that are not EXT4_MAP_UNWRITTEN).
                let Some(pblk) = m.kernel.alloc_block_unfiled(file, lblk) else {
                    m.emit(actor, "ext4_fallocate", Change::NoSpace { ino: file, lblk });
                    // Only over blocks a chunk before this one mapped: where the first
                    // ext4_map_blocks of the range fails, "if (ret <= 0) { ... break; }" comes
                    // before any ext4_update_inode_size, and the size stays (an EOF inside
                    // the block before `page` stays there).
                    if !size_after_whole_allocation && lblk > page {
                        grow_to(m, lblk);
                    }
                    return true;
                };
                let extent = Extent::Unwritten(pblk);
                m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                m.emit(
                    actor,
                    "ext4_alloc_file_blocks",
                    Change::BlockMapped { ino: file, lblk, extent, allocated: true, reserved: false },
                );
                allocated += 1;
            }
            if allocated == 0 {
                m.emit(actor, "ext4_alloc_file_blocks", Change::Nothing);
            }
            grow_to(m, (page + pages).min(FILE_PAGES_MAX));
            false
        })
    }

    /// Marks the blocks of `range` unwritten, allocating unwritten blocks for holes, and
    /// extends `i_size` to the end of the range if it lies past EOF (zero range without
    /// FALLOC_FL_KEEP_SIZE: `ext4_alloc_file_blocks` calls `ext4_update_inode_size` as it
    /// allocates).
    fn convert_to_unwritten(&mut self, file: Ino, range: PageRange, function: &'static str) {
        let actor = self.actor;
        let past_disksize_too = self.policy.update_disksize_before_punch;
        self.cpu.step(|m| {
            let end = range.end.min(FILE_PAGES_MAX);
            for lblk in range.start..end {
                let extent = match m.kernel.inode(file).blocks[lblk as usize] {
                    Extent::Written(p) | Extent::Unwritten(p) => Extent::Unwritten(p),
                    // Unwritten: files no inode for data=ordered, as fallocate's.
                    Extent::Hole | Extent::Delalloc => match m.kernel.alloc_block_unfiled(file, lblk) {
                        Some(p) => Extent::Unwritten(p),
                        None => continue,
                    },
                };
                m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
            }
            m.emit(actor, function, Change::ExtentsUnwritten { ino: file, range });
            if range.end == u32::MAX {
                return;
            }
            // ext4_update_inode_size(inode, new_size): i_size and i_disksize each rise to the
            // range's end if below it ("offset + len > i_size_read(inode) || offset + len >
            // EXT4_I(inode)->i_disksize" sets new_size), so a delayed write's size that
            // writeback has not made durable yet becomes durable here too. The i_disksize half
            // of that test is not in 4.1's ext4_zero_range ("offset + len > i_size_read(inode)"
            // only) and is in 5.3's: it goes with ext4_update_disksize_before_punch, under the
            // same policy field.
            // From an EOF inside a block the range lies past, EOF moves to the range's end.
            if range.end > m.kernel.inode(file).i_size {
                m.kernel.inode_mut(file).i_size = range.end;
                m.kernel.inode_mut(file).eof_half = false;
                m.emit(actor, "ext4_update_inode_size", Change::ISizeSet { ino: file, i_size: range.end, half: false });
                disksize_follows(m, actor, "ext4_update_inode_size", file);
            } else {
                // Read to decide it leaves i_size alone: declared.
                let i_size = m.kernel.inode(file).i_size;
                m.emit(actor, "ext4_update_inode_size", Change::ISizeCheck { ino: file, index: range.end - 1, i_size });
                if past_disksize_too && m.kernel.durable.enabled && m.kernel.past_i_disksize(file, range.end, false) {
                    m.kernel.set_i_disksize(file, range.end, false);
                    let change = Change::DiskSizeSet { ino: file, disksize: range.end, half: false };
                    m.emit(actor, "ext4_update_inode_size", change);
                }
            }
        });
    }
}

/// Where `ext4_punch_hole` ends a hole that ends at block `end`: a hole that extends past EOF
/// is set "to end after the page that contains i_size" (`length = inode->i_size + PAGE_SIZE -
/// (inode->i_size & (PAGE_SIZE - 1)) - offset`), which cuts a longer one and, on a file whose
/// blocks are smaller than a page, stretches a shorter one to the end of that page, whose
/// blocks past EOF then leave the page cache with it. `i_size` in blocks, `half` when EOF lies
/// half-way into block `i_size - 1` (whose page contains it then). The reference model ends
/// its punches here too.
pub fn punch_end(end: Lblk, i_size: Lblk, half: bool, per_page: Lblk) -> Lblk {
    // Both sides in half blocks: does the hole extend past EOF?
    if 2 * end <= half_blocks(i_size, half) {
        return end;
    }
    let eof_page = half_blocks(i_size, half) / (2 * per_page);
    (eof_page + 1) * per_page
}

/// Zeroes one half of block `slot` of `page` in the page: its one buffer where the block is the
/// page, else that block's buffer.
pub(super) fn zero_half_of_block(m: &mut Machine, page: PageId, slot: Lblk, part: PagePart) {
    let p = m.kernel.page_mut(page);
    let content = match p.bh.get_mut(slot as usize) {
        Some(bh) => &mut bh.content,
        None => &mut p.content,
    };
    *content = content.overlay(part, Token::Zero);
}

/// The pages that straddle an edge of the blocks `range`, with the slots of their blocks it
/// covers: the head page (if the range starts inside a page), then the tail page (if it ends
/// inside one that is not the head page).
fn edge_pages(range: PageRange, per_page: Lblk) -> impl Iterator<Item = (Lblk, Lblk, Lblk)> + Clone {
    let head = range.start / per_page;
    let tail = range.end / per_page;
    let head_edge = (!range.start.is_multiple_of(per_page))
        .then(|| (head, range.start % per_page, range.end.min((head + 1) * per_page) - head * per_page));
    let tail_edge = (!range.end.is_multiple_of(per_page) && (tail > head || range.start.is_multiple_of(per_page)))
        .then_some((tail, 0, range.end % per_page));
    [head_edge, tail_edge].into_iter().flatten()
}
