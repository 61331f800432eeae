//! Writeback: `write_cache_pages` → `clear_page_dirty_for_io` (with `page_mkclean`) →
//! `ext4_writepage`/`submit_bh` → `end_page_writeback`; `filemap_write_and_wait_range`; fsync.
//!
//! Simplification (docs/model.md): IO completes in the step that submits it, and the page lock
//! is held from `clear_page_dirty_for_io` to `end_page_writeback`, so nobody waits on
//! `PG_writeback` separately.

use super::Task;
use crate::cpu::Cpu;
use crate::event::{Change, Outcome};
use crate::lock::LockMode;
use crate::state::FILE_PAGES_MAX;
use crate::types::{Extent, Ino, Lblk, PageId, PageRange};

/// `wbc->sync_mode`: whether a flush owes its caller the data that was dirty when it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// `WB_SYNC_NONE`: background writeback (the `writeback` operation). `write_cache_pages`
    /// skips a page someone else is writing back, and nobody waits for it.
    None,
    /// `WB_SYNC_ALL`: fsync, msync(MS_SYNC), `filemap_write_and_wait_range`. Pages already
    /// under writeback are waited for (`__filemap_fdatawait_range`). Also the write-out alone
    /// of `jbd2_journal_begin_ordered_truncate` (`filemap_fdatawrite_range`, no fdatawait),
    /// which waits for the pages it must lock; simplified: for every page under writeback
    /// (see docs/model.md, "Crash and remount").
    All,
}

impl<C: Cpu> Task<'_, C> {
    /// fsync / msync / background writeback of the whole file.
    pub fn fsync(&mut self, file: Ino, function: &'static str, mode: SyncMode) -> Outcome {
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        if !dax {
            self.write_and_wait_range(file, PageRange::WHOLE, function, mode);
        }
        Outcome::Ok
    }

    /// `filemap_write_and_wait_range`: writes back every dirty page of `range` and waits for
    /// it and for every page of the range that someone else is writing back.
    pub fn filemap_write_and_wait_range(&mut self, file: Ino, range: PageRange, function: &'static str) {
        self.write_and_wait_range(file, range, function, SyncMode::All);
    }

    /// `__filemap_fdatawrite_range` then, for `WB_SYNC_ALL`, `__filemap_fdatawait_range`.
    ///
    /// Linux's wait looks the range up again (PAGECACHE_TAG_WRITEBACK) after its own writes;
    /// here the one lookup also collects the pages under writeback. A page neither dirty nor
    /// under writeback at that lookup had its data on disk already, and a page dirtied after it
    /// holds data the flush does not owe; a page found dirty is locked by `writeback_page`,
    /// which waits for any writeback in flight on it. Because the model's writeback holds the
    /// page lock from `clear_page_dirty_for_io` to `end_page_writeback`, waiting for
    /// `PG_writeback` is queueing on that page lock, and only while the flag is still set.
    pub(super) fn write_and_wait_range(&mut self, file: Ino, range: PageRange, function: &'static str, mode: SyncMode) {
        let actor = self.actor;
        // pagevec_lookup_tag(PAGECACHE_TAG_DIRTY) (and PAGECACHE_TAG_WRITEBACK for the wait):
        // the pages in either state at the time of the lookup.
        let (dirty, under_writeback) = self.cpu.step(|m| {
            let inode = m.kernel.inode(file);
            let end = range.end.min(FILE_PAGES_MAX);
            let cached = (range.start..end).filter_map(|i| inode.cache[i as usize].map(|p| (i, p)));
            let (dirty, under_writeback): (Vec<_>, Vec<_>) = cached
                .filter(|&(_, p)| m.kernel.page(p).dirty || m.kernel.page(p).writeback)
                .partition(|&(_, p)| m.kernel.page(p).dirty);
            let count = dirty.len() as u32;
            m.emit(actor, function, Change::PagesFound { ino: file, range, count });
            (dirty, under_writeback)
        });
        for (index, page) in dirty {
            self.writeback_page(file, index, page, false);
        }
        if mode == SyncMode::All {
            for (_, page) in under_writeback {
                self.wait_on_page_writeback(page);
            }
        }
    }

    /// `wait_on_page_writeback`: sleeps until the writeback in flight on `page` ended. The
    /// writer holds the page lock until `end_page_writeback`, so this queues on the page lock
    /// if the page is still under writeback, and lets it go at once.
    pub(super) fn wait_on_page_writeback(&mut self, page: PageId) {
        let lock = self.cpu.peek(|m| m.kernel.page(page).lock);
        let waited = self.acquire_if("wait_on_page_writeback", lock, LockMode::Exclusive, PageRange::WHOLE, |m| {
            m.kernel.page(page).writeback
        });
        if let Some(held) = waited {
            self.release("wait_on_page_writeback", held);
        }
    }

    /// Writes back one page found dirty in the cache, if it is still dirty and cached once
    /// locked. `by_commit`: the data=ordered write-out of a jbd2 commit
    /// (`journal_submit_inode_data_buffers` -> `ext4_writepage`), which cannot allocate: on a
    /// page of smaller blocks it writes the allocated buffers only (see [`BufferWrite::Commit`]).
    pub fn writeback_page(&mut self, file: Ino, index: Lblk, page: PageId, by_commit: bool) {
        let actor = self.actor;
        let page_lock = self.lock_page("write_cache_pages", page);
        // ext4 before 4.12 sampled i_size for the tail zeroing in mpage_submit_page before
        // clear_page_dirty_for_io write-protected the page ("size = i_size_read(mpd->inode); ...
        // clear_page_dirty_for_io(page)"), so a store through a still-writable PTE and a truncate
        // up in between were zeroed as past EOF (Jan Kara, "ext4: fix data corruption for mmap
        // writes", xfstests generic/438). Only where writeback zeroes part of a page: where an
        // EOF inside a block is reachable (submit_page) and on files of blocks smaller than a
        // page (write_page_buffers); elsewhere the part past EOF is whole pages, which truncate
        // evicts.
        // The commit's ext4_writepage samples after write_cache_pages cleaned the page, in every
        // kernel (see below).
        let early = self.policy.writeback_size_sample == crate::policy::WritebackSizeSample::BeforeClearDirty
            && !by_commit
            && self.cpu.peek(|m| {
                let inode = m.kernel.inode(file);
                inode.eof_half_reachable || inode.blocks_per_page > 1
            });
        let mut sampled = early.then(|| {
            self.cpu.step(|m| {
                let inode = m.kernel.inode(file);
                let (i_size, half) = (inode.i_size, inode.eof_half);
                m.emit(actor, "mpage_submit_page", Change::ISizeCheck { ino: file, index, i_size });
                (i_size, half)
            })
        });
        // The commit's write-out of a page of smaller blocks: ext4_writepage's i_size sample and
        // the buffers it leaves because they need a mapping (see BufferWrite::Commit).
        let mut commit: Option<((Lblk, bool), u64)> = None;
        let dirty = self.cpu.step(|m| {
            let p = m.kernel.page(page);
            if !p.attached || !p.dirty {
                m.emit(actor, "clear_page_dirty_for_io", Change::Nothing);
                return false;
            }
            if !p.buffers {
                // Dirtied without write_begin or page_mkwrite (set_page_dirty_lock at the end
                // of a direct IO into a pinned page whose buffers reclaim stripped): ext4 has
                // no reservation or block state for it, warns "page does not have buffers
                // attached", clears the dirty bit and skips it (cc5095747edf; a BUG_ON before).
                m.kernel.page_mut(page).dirty = false;
                m.emit(
                    actor,
                    "mpage_prepare_extent_to_map",
                    Change::DirtyPageWithoutBuffers { ino: file, index, page },
                );
                return false;
            }
            // clear_page_dirty_for_io: "if (page_mkclean(page)) set_page_dirty(page)" (a store
            // through a PTE that stayed writable dirties every buffer), then the page's dirty
            // bit goes; its buffers' go as writeback writes them.
            let ptes_write_protected = m.kernel.page_mkclean(page);
            if ptes_write_protected > 0 {
                m.kernel.set_page_dirty(page);
            }
            let p = m.kernel.page_mut(page);
            p.dirty = false;
            p.writeback = true;
            m.emit(actor, "clear_page_dirty_for_io", Change::PageCleaned { page, ptes_write_protected });
            // The commit's ext4_writepage on a page of smaller blocks samples i_size and, if some
            // buffer it must write needs a mapping, redirties the page at once
            // (redirty_page_for_writepage; the page keeps its PAGECACHE_TAG_TOWRITE,
            // set_page_writeback_keepwrite), so a flush that looks the range up meanwhile still
            // finds it and writes it once this write-out unlocks it. The Nothing event declares
            // what it read: i_size and the page's extents.
            if by_commit && !m.kernel.page(page).bh.is_empty() {
                let inode = m.kernel.inode(file);
                let sample = (inode.i_size, inode.eof_half);
                let leave = buffers_needing_mapping(m, file, page, sample.0);
                m.emit(actor, "ext4_writepage", Change::Nothing);
                if leave != 0 {
                    m.kernel.page_mut(page).dirty = true;
                    m.emit(actor, "redirty_page_for_writepage", Change::PageDirtied { page, i_size_of: None });
                }
                commit = Some((sample, leave));
            }
            true
        });
        // Whether this writeback allocated the page's block (delayed allocation).
        let mut allocated = false;
        if dirty && self.cpu.peek(|m| !m.kernel.page(page).bh.is_empty()) {
            let alloc = DelayedAlloc {
                kind: self.policy.write_alloc,
                files_inode: self.policy.delalloc_files_inode,
                clean_buffers: self.policy.writeback_clean_buffers,
            };
            // The commit's write-out writes what it can with the sample and mask it took when it
            // cleaned the page; elsewhere, where durability is modelled, the allocation of the
            // page's delayed buffers is a step of its own before the IO, as for a whole-block
            // page below; otherwise allocation, the i_disksize update and the IO are one step
            // (see BufferWrite).
            let how = if let Some((sample, leave)) = commit {
                sampled = Some(sample);
                BufferWrite::Commit { leave }
            } else if self.cpu.peek(|m| m.kernel.durable.enabled) {
                BufferWrite::AllocateFirst
            } else {
                BufferWrite::Writeback
            };
            let io_pending = self.cpu.step(|m| write_page_buffers(m, actor, file, page, alloc, sampled, how));
            if let Some(sample) = io_pending {
                let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
                self.mpage_update_disksize(file, (index + 1) * per_page);
                // mpage_submit_page samples i_size inside the handle that mapped the blocks, which
                // a commit cannot separate from the mapping: the IO uses the allocation's sample.
                let sampled = Some(sample);
                self.cpu.step(|m| write_page_buffers(m, actor, file, page, alloc, sampled, BufferWrite::Writeback));
            }
        } else if dirty {
            let alloc = self.policy.write_alloc;
            // Whether this allocation files the inode with the running transaction: every one
            // but delalloc writeback's in ext4 3.8-4.6 (Policy::delalloc_files_inode).
            let files_inode = self.policy.delalloc_files_inode || alloc != crate::policy::AllocKind::Delalloc;
            // Where durability is modelled, the allocation is a step of its own before the IO:
            // ext4_writepages maps the extent (mpage_map_and_submit_extent -> ext4_map_blocks)
            // in a handle it stops before ext4_io_submit sends the bio, and the bio completes
            // later still, so a commit can lock the transaction that allocated the block before
            // the block's data is on disk. Elsewhere it stays one step (no commit can tell).
            let split = self.cpu.peek(|m| m.kernel.durable.enabled);
            let io_pending = self.cpu.step(|m| {
                // The buffer heads' block if they have one, else get_block now.
                let pblk = match m.kernel.page(page).buffer_pblk {
                    Some(pblk) => pblk,
                    None => match m.kernel.inode(file).blocks[index as usize] {
                        Extent::Written(p) | Extent::Unwritten(p) => p,
                        // Delayed allocation happens here; a hole behind a dirty page (an orphan,
                        // which the oracles report) gets a block the same way.
                        Extent::Hole | Extent::Delalloc => {
                            let block = m.kernel.alloc_block_filing(file, index, files_inode);
                            let Some(p) = block else {
                                // ENOSPC at writeback: the page stays dirty (and keeps its data),
                                // and no IO was submitted (until December 2026 the model left
                                // PG_writeback set on it for good).
                                let p = m.kernel.page_mut(page);
                                p.dirty = true;
                                p.writeback = false;
                                m.emit(actor, "ext4_writepage", Change::NoSpace { ino: file, lblk: index });
                                return None;
                            };
                            let extent = alloc.allocated(p);
                            m.kernel.inode_mut(file).blocks[index as usize] = extent;
                            allocated = true;
                            m.emit(
                                actor,
                                "ext4_writepage",
                                Change::BlockMapped {
                                    ino: file,
                                    lblk: index,
                                    extent,
                                    allocated: true,
                                    reserved: false,
                                },
                            );
                            if split {
                                return Some(p);
                            }
                            p
                        }
                    },
                };
                submit_page(m, actor, file, index, page, pblk, sampled);
                None
            });
            if let Some(pblk) = io_pending {
                // mpage_map_and_submit_extent raises i_disksize in the handle that mapped the
                // blocks ("Update on-disk size after IO is submitted": after
                // mpage_submit_page queued the page, with PG_writeback set), and ext4_writepages
                // sends the bio (ext4_io_submit) only after ext4_journal_stop, so the page's
                // writeback ends after the size update and an fsync that waits for it finds
                // the size raised. (Only where durability is modelled: other scenarios keep
                // their steps.)
                if allocated {
                    let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
                    self.mpage_update_disksize(file, (index + 1) * per_page);
                }
                self.cpu.step(|m| submit_page(m, actor, file, index, page, pblk, sampled));
            }
        }
        self.unlock_page("end_page_writeback", page_lock);
    }
}

impl<C: Cpu> Task<'_, C> {
    /// Memory pressure on `file` (`shrink_page_list` → `__remove_mapping`): every cached page
    /// that is clean, not under writeback, not mapped and not locked (reclaim only trylocks)
    /// leaves the page cache. One step per page. A page pinned by a direct IO stays; before
    /// Linux 6.4 reclaim first strips its buffers (`try_to_release_page`), the policy's
    /// `reclaim_skips_pinned` says whether it still does.
    pub fn reclaim(&mut self, file: Ino) -> Outcome {
        let actor = self.actor;
        let skips_pinned = self.policy.reclaim_skips_pinned;
        let candidates: Vec<(Lblk, PageId)> = self.cpu.step(|m| {
            let inode = m.kernel.inode(file);
            let found: Vec<(Lblk, PageId)> =
                (0..FILE_PAGES_MAX).filter_map(|i| inode.cache[i as usize].map(|p| (i, p))).collect();
            let count = found.len() as u32;
            m.emit(actor, "shrink_page_list", Change::PagesFound { ino: file, range: PageRange::WHOLE, count });
            found
        });
        let mut reclaimed = 0;
        for (index, page) in candidates {
            let done = self.cpu.step(|m| {
                let p = m.kernel.page(page);
                let locked = m.kernel.locks[p.lock as usize].requests.iter().any(|r| r.granted);
                let mapped = !m.kernel.ptes_of(file, index).is_empty();
                if !p.attached || p.dirty || p.writeback || locked || mapped {
                    m.emit(actor, "__remove_mapping", Change::Nothing);
                    return false;
                }
                if p.pins > 0 {
                    if skips_pinned {
                        // Linux 6.4+ (d824ec2a1546): a pinned page is left alone, buffers and all.
                        m.emit(actor, "folio_maybe_dma_pinned", Change::Nothing);
                    } else {
                        // try_to_release_page strips the clean buffers, then __remove_mapping
                        // cannot freeze the page's reference count and leaves it in the cache.
                        let had_buffers = p.buffers;
                        let p = m.kernel.page_mut(page);
                        p.buffers = false;
                        p.buffer_pblk = None;
                        // Blocks smaller than a page: the buffer heads go with their state;
                        // create_empty_buffers makes new ones uptodate as the page is.
                        let uptodate = p.uptodate;
                        for bh in &mut p.bh {
                            bh.mapped = None;
                            bh.uptodate = uptodate;
                            bh.dirty = false;
                        }
                        if had_buffers {
                            m.emit(actor, "try_to_release_page", Change::BuffersReleased { page });
                        }
                        m.emit(actor, "__remove_mapping", Change::Nothing);
                    }
                    return false;
                }
                m.kernel.page_mut(page).attached = false;
                m.kernel.inode_mut(file).cache[index as usize] = None;
                m.emit(actor, "__remove_mapping", Change::PageReclaimed { ino: file, index, page });
                true
            });
            reclaimed += u32::from(done);
        }
        Outcome::Pages(reclaimed)
    }
}

/// `submit_bh` of a whole-block page to `pblk`, and its completion: the data reaches the disk,
/// an unwritten extent still pointing at the block becomes written (`ext4_end_io`), and
/// `end_page_writeback` clears the flag (the page lock is released by the caller).
fn submit_page(
    m: &mut crate::cpu::Machine,
    actor: crate::types::ActorId,
    file: Ino,
    index: Lblk,
    page: PageId,
    pblk: crate::types::Pblk,
    sampled: Option<(Lblk, bool)>,
) {
    // The page that straddles an EOF inside its block: "The page straddles i_size. It must be
    // zeroed out on each and every writepage invocation because it may be mmapped"
    // (`block_write_full_page`, `ext4_bio_write_page`'s caller `mpage_submit_page`, iomap's
    // `iomap_writepage_map` / `iomap_writepage_handle_eof`): `zero_user_segment` from `i_size` to
    // the end of the page, in the page itself, before the IO, with `i_size` sampled after
    // `clear_page_dirty_for_io` (or, `sampled`, before it: ext4 before 4.12). Only on a file
    // where such an EOF is reachable (elsewhere the part past EOF is whole pages, evicted by
    // truncate), which then declares the sample.
    let inode = m.kernel.inode(file);
    if inode.eof_half_reachable {
        let (i_size, half) = sampled.unwrap_or((inode.i_size, inode.eof_half));
        if half && index + 1 == i_size {
            let p = m.kernel.page_mut(page);
            p.content = p.content.overlay(crate::types::PagePart::Tail, crate::types::Token::Zero);
            m.emit(actor, "block_write_full_page", Change::TailZeroed { ino: file, lblk: index, page });
        } else {
            m.emit(actor, "block_write_full_page", Change::ISizeCheck { ino: file, index, i_size });
        }
    }
    m.kernel.page_mut(page).buffer_pblk = Some(pblk);
    let token = m.kernel.page(page).content;
    m.kernel.disk[pblk as usize] = token;
    m.emit(actor, "submit_bh", Change::DiskWrite { pblk, ino: file, lblk: index, token, page: Some(page) });
    // IO completion converts an unwritten extent that still points at this block.
    let blocks = &mut m.kernel.inode_mut(file).blocks;
    if blocks[index as usize] == Extent::Unwritten(pblk) {
        blocks[index as usize] = Extent::Written(pblk);
    }
    m.kernel.page_mut(page).writeback = false;
}

/// How [`write_page_buffers`] writes a page of a file whose blocks are smaller than a page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BufferWrite {
    /// Background writeback and fsync (`ext4_writepages`) where durability is not modelled:
    /// delayed buffers are allocated and written in one step (no commit could tell).
    Writeback,
    /// The same where durability is modelled: if the page has delayed buffers inside EOF, this
    /// step only allocates them (`mpage_map_and_submit_extent` -> `ext4_map_blocks`, in a handle
    /// that `ext4_writepages` stops before `ext4_io_submit` sends the bio); the caller then
    /// raises `i_disksize` and writes in a later step, so a commit can lock the transaction
    /// that allocated the blocks before their data is on disk (06bd3c36a733).
    AllocateFirst,
    /// A data=ordered commit's write-out (`journal_submit_inode_data_buffers` ->
    /// `generic_writepages` -> `ext4_writepage`, 4.x and 5.x; the nomap pass of
    /// `ext4_writepages` later): it writes the mapped buffers of written extents and leaves
    /// `leave` (a mask of the page's buffers: delayed and unwritten ones, for which the page was
    /// redirtied), with `len` as `ext4_writepage` computes it: the part before EOF on the page
    /// that holds EOF, the whole page elsewhere, past EOF too.
    Commit { leave: u64 },
}

/// How writeback allocates and writes a page's buffers: the policy's `write_alloc` (the extent
/// the block becomes), `delalloc_files_inode` (whether the allocation files the inode) and
/// `writeback_clean_buffers` (which buffers it writes).
#[derive(Clone, Copy)]
struct DelayedAlloc {
    kind: crate::policy::AllocKind,
    files_inode: bool,
    /// The policy's `writeback_clean_buffers`: the write-out writes the page's clean uptodate
    /// buffers too (XFS), not only its dirty ones (ext4).
    clean_buffers: bool,
}

/// The write-out of a page of a file whose blocks are smaller than a page, in one step: ext4's
/// `mpage_submit_page` -> `ext4_bio_write_page` (`block_write_full_page` does the same). The
/// part of the page at and past `i_size` is zeroed first: "The page straddles i_size. It must be
/// zeroed out on each and every writepage invocation because it may be mmapped" (with
/// whole-block sizes, whole blocks: a partial block is never past EOF here). Each buffer inside EOF is written to the block it caches; a delayed
/// allocation is allocated here. Any other unmapped buffer is skipped with its data, whatever
/// the block map says now (`mpage_add_bh_to_extent` maps only delayed and unwritten buffers;
/// `ext4_bio_write_page`: "A hole? We can safely clear the dirty bit"): the store through a PTE
/// that `page_mkwrite` never saw for that block is lost, over a hole a punch left, or over the
/// unwritten extent a zero range made of a block whose buffer it discarded. A buffer that is not
/// uptodate is not written, nor, under ext4 (the policy's `writeback_clean_buffers` false), one
/// that is not dirty; a buffer written is clean again. Where durability is modelled and a block was allocated, the same step raises
/// `i_disksize` (`mpage_map_and_submit_extent`) before the writeback ends, as ext4 does before
/// `end_page_writeback` (see `writeback_page`).
///
/// Returns the `i_size` sample it used when it only allocated ([`BufferWrite::AllocateFirst`]),
/// `None` when it did the IO.
fn write_page_buffers(
    m: &mut crate::cpu::Machine,
    actor: crate::types::ActorId,
    file: Ino,
    page: PageId,
    alloc: DelayedAlloc,
    sampled: Option<(Lblk, bool)>,
    how: BufferWrite,
) -> Option<(Lblk, bool)> {
    let index = m.kernel.page(page).index;
    let inode = m.kernel.inode(file);
    // `i_size` as the zeroing sees it: sampled before clear_page_dirty_for_io under the policy's
    // `writeback_size_sample` (ext4 before 4.12), else now.
    let (i_size, half) = sampled.unwrap_or((inode.i_size, inode.eof_half));
    let per_page = inode.blocks_per_page;
    if how == BufferWrite::AllocateFirst && allocate_delayed_buffers(m, actor, file, page, alloc, i_size) {
        return Some((i_size, half));
    }
    let mut allocated = false;
    // zero_user_segment(page, len, PAGE_SIZE) on the page that straddles i_size: an EOF inside
    // a block zeroes that block's tail (its buffer stays: it starts before EOF), then the
    // blocks after it.
    let inside = commit_len(how, index, per_page, i_size);
    if half && i_size > index * per_page && i_size <= (index + 1) * per_page {
        let lblk = i_size - 1;
        super::invalidate::zero_half_of_block(m, page, lblk % per_page, crate::types::PagePart::Tail);
        m.emit(actor, "block_write_full_page", Change::TailZeroed { ino: file, lblk, page });
    } else {
        // Which buffers are written and which zeroed was decided on i_size: declared (the
        // exhaustive search's footprints), whether or not the page straddles EOF.
        let first = index * per_page;
        m.emit(actor, "block_write_full_page", Change::ISizeCheck { ino: file, index: first, i_size });
    }
    if inside < per_page {
        // ext4_bio_write_page: "if (block_start >= len) { ... clear_buffer_dirty(bh);
        // set_buffer_uptodate(bh); continue; }" after the zeroing.
        for slot in inside..per_page {
            let bh = &mut m.kernel.page_mut(page).bh[slot as usize];
            bh.content = crate::types::Token::Zero;
            bh.dirty = false;
        }
        m.emit(actor, "block_write_full_page", Change::BlocksZeroed { page, first: inside, end: per_page });
    }
    for slot in 0..inside {
        let lblk = index * per_page + slot;
        // A buffer that is not uptodate was never dirtied (a block a write(2) into a page that
        // was not uptodate did not cover): ext4_bio_write_page and block_write_full_page write
        // dirty buffers only.
        let bh = m.kernel.page(page).bh[slot as usize];
        if !bh.uptodate {
            m.emit(actor, "ext4_bio_write_page", Change::Nothing);
            continue;
        }
        // A clean buffer: ext4 skips it ("if (!buffer_dirty(bh) || ...) continue" in
        // ext4_bio_write_page, block_write_full_page likewise); XFS writes every uptodate block
        // of the page (xfs_vm_writepage 4.1, xfs_writepage_map 5.3: iomap kept no per-block
        // dirty state until 6.6). The same where the buffer holds what its block holds, but a
        // direct write may have changed the block since the buffer was read.
        if !bh.dirty && !alloc.clean_buffers {
            m.emit(actor, "ext4_bio_write_page", Change::Nothing);
            continue;
        }
        let extent = m.kernel.inode(file).blocks[lblk as usize];
        let mapped = m.kernel.page(page).bh[slot as usize].mapped;
        if matches!(how, BufferWrite::Commit { leave } if leave & (1 << slot) != 0) {
            // ext4_writepage: "We cannot do block allocation or other extent handling in this
            // function. If there are buffers needing that, we have to redirty the page" (done
            // with clear_page_dirty_for_io, see writeback_page), and ext4_bio_write_page skips
            // them ("buffer_delay(bh) || !buffer_mapped(bh) || buffer_unwritten(bh)"); the
            // allocated buffers are written "to achieve data=ordered mode guarantees".
            m.emit(actor, "ext4_bio_write_page", Change::Nothing);
            continue;
        }
        let pblk = match mapped {
            Some(pblk) => pblk,
            None => match extent {
                Extent::Written(_) | Extent::Unwritten(_) | Extent::Hole => {
                    // "A hole? We can safely clear the dirty bit".
                    m.kernel.page_mut(page).bh[slot as usize].dirty = false;
                    m.emit(actor, "ext4_bio_write_page", Change::Nothing);
                    continue;
                }
                Extent::Delalloc => {
                    // Allocation and IO in one step: no commit can tell (durability is not
                    // modelled, or a delayed block EOF reached since the split's allocation).
                    let block = m.kernel.alloc_block_filing(file, lblk, alloc.files_inode);
                    let Some(p) = block else {
                        m.kernel.page_mut(page).dirty = true;
                        m.emit(actor, "ext4_writepage", Change::NoSpace { ino: file, lblk });
                        continue;
                    };
                    let extent = alloc.kind.allocated(p);
                    m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                    allocated = true;
                    m.emit(
                        actor,
                        "ext4_writepage",
                        Change::BlockMapped { ino: file, lblk, extent, allocated: true, reserved: false },
                    );
                    p
                }
            },
        };
        let bh = &mut m.kernel.page_mut(page).bh[slot as usize];
        bh.mapped = Some(pblk);
        bh.dirty = false;
        let token = m.kernel.page(page).bh[slot as usize].content;
        m.kernel.disk[pblk as usize] = token;
        m.emit(actor, "submit_bh", Change::DiskWrite { pblk, ino: file, lblk, token, page: Some(page) });
        let blocks = &mut m.kernel.inode_mut(file).blocks;
        if blocks[lblk as usize] == Extent::Unwritten(pblk) {
            blocks[lblk as usize] = Extent::Written(pblk);
        }
    }
    if allocated && m.kernel.durable.enabled {
        // mpage_map_and_submit_extent's update, capped by i_size as in mpage_update_disksize.
        let (end, end_half) = m.kernel.capped_by_i_size(file, (index + 1) * per_page);
        let (disksize, half) = m.kernel.raise_i_disksize(file, end, end_half);
        m.emit(actor, "mpage_map_and_submit_extent", Change::DiskSizeSet { ino: file, disksize, half });
    }
    m.kernel.page_mut(page).writeback = false;
    None
}

/// How many of a page's buffers, from the first, a write-out covers: those before `i_size`,
/// except for the commit's `ext4_writepage`, whose `len` is the part before EOF only on the page
/// that holds EOF ("if (page->index == size >> PAGE_SHIFT) len = size & ~PAGE_MASK; else len =
/// PAGE_SIZE", 4.1 and 5.3): a page wholly past EOF is written whole.
fn commit_len(how: BufferWrite, index: Lblk, per_page: Lblk, i_size: Lblk) -> Lblk {
    match how {
        BufferWrite::Commit { .. } if index != i_size / per_page => per_page,
        _ => i_size.saturating_sub(index * per_page).min(per_page),
    }
}

/// The buffers (a mask) of a page of smaller blocks that the commit's `ext4_writepage` cannot
/// write without mapping them first, within its `len`: a dirty delayed allocation without a
/// block, or a dirty buffer over an unwritten extent (`ext4_bh_delay_or_unwritten`: "return
/// (buffer_delay(bh) || buffer_unwritten(bh)) && buffer_dirty(bh)").
fn buffers_needing_mapping(m: &crate::cpu::Machine, file: Ino, page: PageId, i_size: Lblk) -> u64 {
    let p = m.kernel.page(page);
    let per_page = m.kernel.inode(file).blocks_per_page;
    let len = commit_len(BufferWrite::Commit { leave: 0 }, p.index, per_page, i_size);
    (0..len).fold(0, |mask, slot| {
        let bh = &p.bh[slot as usize];
        let extent = m.kernel.inode(file).blocks[(p.index * per_page + slot) as usize];
        let delay_or_unwritten = matches!(extent, Extent::Unwritten(_)) || delayed_without_block(bh, extent);
        if bh.uptodate && bh.dirty && delay_or_unwritten { mask | 1 << slot } else { mask }
    })
}

/// A buffer over a delayed allocation that no block backs yet (`buffer_delay`): what writeback
/// must allocate and the commit's `ext4_writepage` must leave.
fn delayed_without_block(bh: &crate::state::BufferHead, extent: Extent) -> bool {
    bh.mapped.is_none() && extent == Extent::Delalloc
}

/// The allocation half of [`write_page_buffers`] where durability is modelled: every buffer
/// inside `i_size` that is uptodate, written back (dirty, or any under XFS), unmapped and over
/// a delayed allocation gets its block
/// (`mpage_add_bh_to_extent` collects them, `ext4_map_blocks` allocates) and keeps it in the
/// buffer head for the IO that follows. Returns whether it allocated any; on ENOSPC it stops
/// and leaves the rest to the IO step, which meets the same ENOSPC and keeps the page dirty.
fn allocate_delayed_buffers(
    m: &mut crate::cpu::Machine,
    actor: crate::types::ActorId,
    file: Ino,
    page: PageId,
    alloc: DelayedAlloc,
    i_size: Lblk,
) -> bool {
    let index = m.kernel.page(page).index;
    let per_page = m.kernel.inode(file).blocks_per_page;
    let inside = i_size.saturating_sub(index * per_page).min(per_page);
    let mut allocated = false;
    for slot in 0..inside {
        let lblk = index * per_page + slot;
        let bh = &m.kernel.page(page).bh[slot as usize];
        // ext4 collects dirty delayed buffers only (mpage_add_bh_to_extent: "buffer_dirty(bh)
        // && (!buffer_mapped(bh) || buffer_delay(bh) || buffer_unwritten(bh))"): a buffer that
        // truncation discarded (block_invalidatepage clears BH_Delay and BH_Dirty) over an
        // extent still delayed gets no block. XFS allocates the delayed extent under any
        // uptodate block it writes.
        let written = bh.dirty || alloc.clean_buffers;
        if !bh.uptodate || !written || !delayed_without_block(bh, m.kernel.inode(file).blocks[lblk as usize]) {
            continue;
        }
        let Some(p) = m.kernel.alloc_block_filing(file, lblk, alloc.files_inode) else { break };
        let extent = alloc.kind.allocated(p);
        m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
        m.kernel.page_mut(page).bh[slot as usize].mapped = Some(p);
        allocated = true;
        m.emit(
            actor,
            "ext4_writepage",
            Change::BlockMapped { ino: file, lblk, extent, allocated: true, reserved: false },
        );
    }
    if allocated {
        // Which buffers lie inside EOF was decided on i_size: declared.
        m.emit(actor, "mpage_map_and_submit_extent", Change::ISizeCheck { ino: file, index: index * per_page, i_size });
    }
    allocated
}
