//! Durability: ext4's `i_disksize` updates, the jbd2 commit with data=ordered, fsync's commit
//! (`ext4_sync_file`), and the crash.
//!
//! Everything here runs only where [`crate::journal::Durability::enabled`] is set (a scenario
//! that commits or crashes). Simplified (docs/model.md, "Crash and remount"): one journal and
//! one transaction at a time; the commit record is one step and needs no barrier; the journal
//! is never checkpointed (the committed metadata is what remount reads). The orphan list
//! (`ext4_orphan_add` / `ext4_orphan_del`) is set in the steps of the kernel functions that
//! change `i_disksize` or free blocks, and `ext4_orphan_cleanup` runs on the crash's image
//! ([`crate::journal::Committed::ext4_orphan_cleanup`]).

use super::Task;
use crate::cpu::Cpu;
use crate::event::{Change, Outcome};
use crate::journal::Committed;
use crate::lock::LockMode;
use crate::policy::JournalData;
use crate::types::{Extent, Ino, Lblk, PageId, PageRange, half_blocks};

impl<C: Cpu> Task<'_, C> {
    /// `jbd2_journal_commit_transaction`: lock the running transaction once its handles have
    /// stopped (the journal exclusive: every placed journal handle holds it shared), take its
    /// metadata (each inode's `i_disksize` and block map) and the blocks it freed; with
    /// data=ordered write the dirty pages over the blocks it allocated and wait for them
    /// (`journal_submit_data_buffers`, `journal_finish_inode_data_buffers`); then the commit
    /// record makes the metadata durable and the freed blocks reusable
    /// (`ext4_free_data_callback`).
    pub fn jbd2_journal_commit_transaction(&mut self) {
        let actor = self.actor;
        let ordered_mode = self.policy.journal_data == JournalData::Ordered;
        let journal = self.cpu.peek(|m| m.kernel.journal);
        let function = "jbd2_journal_commit_transaction";
        let handles = self.acquire(function, journal, LockMode::Exclusive, PageRange::WHOLE);
        let (locked, freed, ordered, tid) = self.cpu.step(|m| {
            let k = &mut m.kernel;
            let locked: Vec<Committed> = (0..k.inodes.len())
                .map(|i| {
                    let disk = &k.durable.inodes[i];
                    Committed::of(disk.i_disksize, disk.i_disksize_half, &k.inodes[i].blocks, disk.orphan)
                })
                .collect();
            let freed = std::mem::take(&mut k.durable.freed);
            k.durable.locked_tid += 1;
            let tid = k.durable.locked_tid;
            // The blocks this transaction allocated (written extents the last commit did not
            // have) of the inodes filed with it (t_inode_list; see Kernel::jbd2_file_inode)
            // whose page is in the page cache: their data goes to disk before the commit
            // record. jbd2 writes the filed inode's dirty pages (the whole mapping in the 4.x
            // kernels, a range recorded at filing in later ones); the model writes those over
            // blocks new in this transaction, the ones data ordering is about. An inode
            // nobody filed (delalloc writeback in ext4 3.8-4.6) is not waited for. jbd2 first waits for the transaction's handles to stop, and the handle that
            // allocated such a block (ext4_write_begin .. ext4_write_end, ext4_page_mkwrite)
            // holds the page lock from before the allocation until the page is dirty; the
            // built-ins place no journal handles, so the writeout below waits for that page lock
            // instead, and writes the page if it is dirty by then.
            // On a file of blocks smaller than a page, the page that holds such a block, once
            // (ext4_writepage writes the page's mapped buffers together; see
            // BufferWrite::Commit for those it leaves).
            let mut ordered: Vec<(Ino, Lblk, PageId)> = Vec::new();
            if ordered_mode {
                for (i, tx) in locked.iter().enumerate() {
                    if !k.filed_uncommitted(i as Ino) {
                        continue;
                    }
                    let before = &k.durable.inodes[i].committed;
                    let per_page = k.inodes[i].blocks_per_page;
                    for (lblk, extent) in tx.blocks.iter().enumerate() {
                        let Extent::Written(p) = *extent else { continue };
                        if before.blocks[lblk].pblk() == Some(p) {
                            continue;
                        }
                        let index = lblk as Lblk / per_page;
                        if let Some(page) = k.inodes[i].cache[index as usize]
                            && !ordered.contains(&(i as Ino, index, page))
                        {
                            ordered.push((i as Ino, index, page));
                        }
                    }
                }
            }
            m.emit(actor, function, Change::TransactionLocked { ordered: ordered.len() as u32 });
            (locked, freed, ordered, tid)
        });
        // New handles join the next transaction from here on.
        self.release(function, handles);
        // journal_submit_data_buffers, then journal_finish_inode_data_buffers: the model's
        // writeback completes under the page lock, so writing is waiting.
        for (ino, index, page) in ordered {
            self.writeback_page(ino, index, page, true);
        }
        self.cpu.step(|m| {
            let durable = &mut m.kernel.durable;
            if tid > durable.committed_tid {
                durable.committed_tid = tid;
                for (disk, tx) in durable.inodes.iter_mut().zip(locked) {
                    disk.committed = tx;
                }
            }
            m.kernel.jbd2_refile_inodes(tid);
            m.kernel.free_blocks.extend(freed);
            m.emit(actor, function, Change::TransactionCommitted);
        });
    }

    /// `ext4_should_retry_alloc` after an allocation found no free block, and the retry it
    /// asks for: when blocks freed in the running transaction wait for its commit (jbd2 keeps
    /// them from reuse until then; ext4's `s_mb_free_pending`), and fewer than three retries
    /// ran, force the commit (`jbd2_journal_force_commit_nested`: the task waits for it; the
    /// model runs it in the task) and tell the caller to allocate again. The callers are where
    /// ext4 retries: `ext4_write_begin` / `ext4_da_write_begin` and `ext4_page_mkwrite` after
    /// unlocking the page and stopping their handle, `ext4_alloc_file_blocks`, and direct IO
    /// and DAX ([`Task::should_retry_alloc_dio_dax`]).
    ///
    /// Only with the policy's `alloc_retry_commit` and where durability is modelled (elsewhere
    /// a freed block is free at once, and nothing would be gained). A policy whose journal
    /// handle the task still holds here (a placement spanning the retry, where ext4 stops its
    /// handle first) does not retry: the commit would wait for that handle.
    pub fn should_retry_alloc(&mut self, retries: &mut u32) -> bool {
        if !self.policy.alloc_retry_commit || !self.cpu.peek(|m| m.kernel.durable.enabled) {
            return false;
        }
        if self.holds_journal_handle() {
            return false;
        }
        let actor = self.actor;
        let tried = *retries;
        let retry = self.cpu.step(|m| {
            // Blocks freed in the running transaction, or a commit under way whose record will
            // release the ones it took (jbd2_journal_force_commit_nested then waits for it;
            // since dbc427ce4028, 4.7, ext4 retries after a forced commit whatever it returned).
            let durable = &m.kernel.durable;
            let retry = tried < 3 && (!durable.freed.is_empty() || durable.locked_tid > durable.committed_tid);
            m.emit(actor, "ext4_should_retry_alloc", Change::AllocRetry { retry });
            retry
        });
        if retry {
            *retries += 1;
            self.jbd2_journal_commit_transaction();
        }
        retry
    }

    /// [`Task::should_retry_alloc`] for a direct write's block mapping, a DAX write(2) and a
    /// DAX write fault (`past_eof`: the write ends past `i_size`; a fault never does). With the
    /// policy's `alloc_retry_dio_dax` every one of them retries (`ext4_get_block_trans`,
    /// `ext4_iomap_alloc` and `ext4_iomap_begin`, `ext4_dax_huge_fault`'s loop, as in 5.3).
    /// Without it, only a write past EOF does: ext4 before 4.6 sent those through
    /// `ext4_ind_direct_IO`, which retried the whole direct or DAX IO, and the rest through
    /// `ext4_ext_direct_IO`, whose `get_block` did not; 4.x's `ext4_dax_fault` did not either.
    pub fn should_retry_alloc_dio_dax(&mut self, past_eof: bool, retries: &mut u32) -> bool {
        (self.policy.alloc_retry_dio_dax || past_eof) && self.should_retry_alloc(retries)
    }

    /// The crash: one step, at which the oracles judge what remount finds (the committed
    /// metadata and the disk as they are now). The other actors run on afterwards; nothing
    /// they do changes that verdict.
    pub fn crash(&mut self) -> Outcome {
        let actor = self.actor;
        self.cpu.step(|m| m.emit(actor, "crash", Change::Crash));
        Outcome::Ok
    }

    /// Delalloc writeback's `i_disksize` update after it submitted the IO of blocks it
    /// allocated, up to page `end` (`mpage_map_and_submit_extent`: "Update on-disk size after
    /// IO is submitted"): `i_disksize` rises to `end`, capped by `i_size` (half-way into the
    /// block that holds an EOF inside it: `EXT4_I(inode)->i_disksize` counts bytes). One step whether or
    /// not the policy takes `i_data_sem` (90e775b71ac4): the check and the update are atomic
    /// either way, and `i_data_sem` excludes exactly `ext4_setattr`'s update, which the fixed
    /// truncate makes one step with its `i_size` write (see [`Task::setattr_disksize`]).
    pub fn mpage_update_disksize(&mut self, file: Ino, end: Lblk) {
        let actor = self.actor;
        self.cpu.step(|m| {
            // It reads i_size and i_disksize whether or not it moves: DiskSizeSet's footprint,
            // with the same value where it does not.
            let (capped, capped_half) = m.kernel.capped_by_i_size(file, end);
            let (disksize, half) = m.kernel.raise_i_disksize(file, capped, capped_half);
            m.emit(actor, "mpage_map_and_submit_extent", Change::DiskSizeSet { ino: file, disksize, half });
        });
    }

    /// `ext4_begin_ordered_truncate` -> `jbd2_journal_begin_ordered_truncate`, which
    /// `ext4_setattr` calls when it shrinks a file with data=ordered, before the handle that
    /// changes the size and before `truncate_pagecache`: if the inode belongs to the
    /// transaction being committed (`jinode->i_transaction == j_committing_transaction`), the
    /// commit is about to write the inode's dirty pages before its commit record, and the
    /// truncate is about to discard those past the new size, so it writes them out first
    /// (`filemap_fdatawrite_range(mapping, new_size, LLONG_MAX)`); the commit's
    /// `journal_finish_inode_data_buffers` waits for them. Without it the commit would make the
    /// old size and the allocated block durable over data that never reached the disk.
    ///
    /// "Being committed" is, in the model, an inode filed with a transaction that a commit has
    /// locked and not yet finished (filed with the running one, it is not: that transaction's
    /// metadata will carry the truncate). A handle of the next transaction that files it again
    /// leaves it there (`i_next_transaction`, [`crate::Kernel::jbd2_file_inode`]). Only where
    /// durability is modelled, under data=ordered; one step (the check), then the write-out if
    /// it applies. `size` and `half` are the new size, as [`Task::truncate`] takes it.
    pub fn ext4_begin_ordered_truncate(&mut self, file: Ino, size: Lblk, half: bool) {
        let enabled = self.cpu.peek(|m| m.kernel.durable.enabled);
        if !enabled || self.policy.journal_data != JournalData::Ordered {
            return;
        }
        // i_size is stable: truncate holds i_rwsem, and every i_size writer takes it.
        // "if (attr->ia_size < inode->i_size)", in half blocks: down to an EOF inside the block
        // the old EOF ended is a shrink too.
        let (old, old_half, per_page) = self.cpu.peek(|m| {
            let inode = m.kernel.inode(file);
            (inode.i_size, inode.eof_half, inode.blocks_per_page)
        });
        if half_blocks(size, half) >= half_blocks(old, old_half) {
            return;
        }
        let actor = self.actor;
        let committing = self.cpu.step(|m| {
            let durable = &mut m.kernel.durable;
            let filed = durable.inodes[file as usize].filed_tid;
            let committing = filed > durable.committed_tid && filed <= durable.locked_tid;
            if !committing {
                durable.inodes[file as usize].ordered_truncate_checked = Some(durable.locked_tid);
            }
            let commit_in_flight = durable.locked_tid > durable.committed_tid;
            m.emit(
                actor,
                "jbd2_journal_begin_ordered_truncate",
                Change::OrderedTruncate { ino: file, committing, commit_in_flight },
            );
            committing
        });
        if committing {
            // The page that holds the new EOF and every page after it. filemap_fdatawrite_range
            // writes with WB_SYNC_ALL: it locks each page still tagged for writeback, so it waits
            // for a page the commit's own write-out holds (which the model's writeback keeps
            // locked until its IO is done), and the commit's ext4_writepage samples i_size before
            // this truncate changes it. With WB_SYNC_NONE the model skipped that page, and a
            // commit could find a page of smaller blocks past the new EOF and leave its new
            // blocks unwritten under the old committed size: a false stale_data. (From an EOF
            // inside block `size - 1`, the range starts at the page that holds it.)
            let new_eof = if half { size - 1 } else { size };
            self.write_and_wait_range(
                file,
                PageRange::to_eof(new_eof / per_page),
                "filemap_fdatawrite_range",
                super::writeback::SyncMode::All,
            );
        }
    }

    /// `ext4_setattr`'s `i_disksize` write before its `i_size` write, as a step of its own:
    /// before 90e775b71ac4 (`disksize_i_data_sem = false`), "EXT4_I(inode)->i_disksize =
    /// attr->ia_size" ran in its own handle ahead of `i_size_write`, with nothing excluding
    /// writeback. With the fix both are written under `i_data_sem`, in the one step of
    /// `set_i_size_half`; this does nothing then. Returns nothing; only where durability is on.
    /// `size` and `half` are the new size, as [`Task::truncate`] takes it.
    pub fn setattr_disksize(&mut self, file: Ino, size: Lblk, half: bool) {
        let enabled = self.cpu.peek(|m| m.kernel.durable.enabled);
        if !enabled || self.policy.disksize_i_data_sem {
            return;
        }
        let actor = self.actor;
        self.cpu.step(|m| {
            // The same handle puts a shrinking inode on the orphan list first.
            let inode = m.kernel.inode(file);
            if half_blocks(size, half) < half_blocks(inode.i_size, inode.eof_half) {
                ext4_orphan(m, actor, "ext4_setattr", file, true);
            }
            m.kernel.set_i_disksize(file, size, half);
            m.emit(actor, "ext4_setattr", Change::DiskSizeSet { ino: file, disksize: size, half });
        });
    }
}

/// `ext4_orphan_add` (`add`) or `ext4_orphan_del` of `file`, in the step of the handle that
/// does it (`ext4_setattr`'s shrinking truncate and the failed write's cleanup add it in the
/// handle that changes or checks the size; `ext4_truncate` deletes it in the handle that frees
/// the last blocks): a no-op unless durability is modelled.
pub fn ext4_orphan(
    m: &mut crate::cpu::Machine,
    actor: crate::types::ActorId,
    function: &'static str,
    file: Ino,
    add: bool,
) {
    if m.kernel.set_orphan(file, add) {
        m.emit(actor, function, Change::Orphan { ino: file, add });
    }
}

/// write_end's `i_disksize` update, in the step that writes `i_size` ("if (pos + copied >
/// EXT4_I(inode)->i_disksize) ext4_update_i_disksize(inode, pos + copied)"): to `size` blocks
/// (`half`: half-way into the last) where that lies past it and `may_raise` says the caller's
/// block allows it (with delayed allocation only once that block is allocated,
/// `ext4_da_should_update_i_disksize`: a reserved block's size is writeback's to raise). Logged
/// by `function`; a no-op unless durability is modelled.
pub fn write_end_disksize(
    m: &mut crate::cpu::Machine,
    actor: crate::types::ActorId,
    function: &'static str,
    file: Ino,
    (size, half): (Lblk, bool),
    may_raise: bool,
) {
    if m.kernel.durable.enabled && may_raise && m.kernel.past_i_disksize(file, size, half) {
        m.kernel.set_i_disksize(file, size, half);
        m.emit(actor, function, Change::DiskSizeSet { ino: file, disksize: size, half });
    }
}

/// In the step that writes `i_size` to `size`, `i_disksize` follows it where ext4 writes both
/// together (`ext4_update_inode_size` in fallocate and zero range, `ext4_handle_inode_extension`
/// after a direct write, collapse and insert range, the fixed `ext4_setattr`, DAX writes): a
/// no-op unless durability is modelled.
pub fn disksize_follows(m: &mut crate::cpu::Machine, actor: crate::types::ActorId, function: &'static str, file: Ino) {
    let (size, half) = (m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half);
    if m.kernel.set_i_disksize(file, size, half) {
        m.emit(actor, function, Change::DiskSizeSet { ino: file, disksize: size, half });
    }
}
