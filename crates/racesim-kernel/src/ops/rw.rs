//! read(2) and write(2): `generic_perform_write` (fault in the user buffer, `write_begin`,
//! atomic copy, `write_end`, page by page, under `i_rwsem`; or, for iomap, one
//! `->iomap_begin` per run of pages whose cached map every folio of the run is written with),
//! buffered read through the page
//! cache (whose copy to a user buffer that is a shared mapping is a store that may fault), and
//! the DAX read/write path that goes straight to the blocks.

use super::fault::{FaultError, MapFor, find_or_add_locked_page, map_page_buffers, pte_store};
use super::journal::{disksize_follows, ext4_orphan, write_end_disksize};
use super::locking::{Frame, Held};
use super::{RETRIES_MAX, Retries, Task, UserBuffer, WriteAllocation, WriteEnds, past_i_size};
use crate::cpu::{Cpu, Machine};
use crate::event::{Change, Outcome, ReadFrom, ReadPath};
use crate::lock::LockMode;
use crate::placement::{Func, LockName, Point};
use crate::policy::{AllocKind, BufferedWriteMap, DaxZeroing, FailedWriteCleanup};
use crate::types::{ActorId, Extent, Ino, Lblk, PageId, PagePart, PageRange, Pblk, Token, WriteId, half_blocks};

/// What one page's copy did.
enum PageWrite {
    Copied,
    /// The injected copy failure (EFAULT/ENOMEM after allocation): the write stops here.
    Failed,
    /// The user buffer's PTE vanished between fault-in and the atomic copy: fault in again.
    ShortCopy,
    /// `write_begin` could not get a block (ENOSPC): the write stops before this page.
    NoSpace,
    /// `->iomap_valid` found the cached map stale after the folio was locked: map again from
    /// this page and write it with the new map.
    Stale,
}

/// The map a buffered write holds from `->iomap_begin` until it has written the folios it
/// covers (`iter->iomap`), with its validity cookie. XFS's cookie is the data fork's sequence
/// number (`if_seq`, bumped by every change of the fork; `xfs_iomap_valid`, 304a68b9c63b);
/// the model's is the whole block map as `->iomap_begin` left it, which changes whenever the
/// sequence number would, except for a change undone before the check (the sequence number
/// still moved; the extents the write relies on are the same).
struct CachedMap {
    range: PageRange,
    /// The extent of each page of `range`, from `range.start`, as `->iomap_begin` left it.
    extents: Vec<Extent>,
    /// The validity cookie: the file's block map after `->iomap_begin`.
    cookie: Vec<Extent>,
    /// `IOMAP_F_NEW`: `->iomap_begin` reserved (or allocated) every page of `range` out of
    /// holes, so `->iomap_end` may punch what the write leaves of it.
    new: bool,
}

impl CachedMap {
    fn extent(&self, index: Lblk) -> Extent {
        self.extents[(index - self.range.start) as usize]
    }

    fn covers(&self, index: Lblk) -> bool {
        (self.range.start..self.range.end).contains(&index)
    }
}

impl<C: Cpu> Task<'_, C> {
    /// write(2) of `pages` pages at `page` from `buffer`; the copy of page number `fail_at` (0
    /// based, relative to the write) fails.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
        fail_at: Option<Lblk>,
        allocation: WriteAllocation,
        ends: WriteEnds,
        write: WriteId,
    ) -> Outcome {
        if self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page > 1) {
            return self.write_blocks(file, page, pages, fail_at, write);
        }
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        // What write(2) holds (i_rwsem, or a range lock per syscall or per page) is the
        // policy's placements.
        let frame = self.enter(Func::Write, file, page, PageRange::new(page, page + pages));
        if !dax {
            self.zero_eof_before_extending_write(file, page);
        }
        // 4.x sent a DAX write through ext4_ext_direct_IO, which chose its path (and so whether
        // it retries on ENOSPC) from "final_size > inode->i_size" on entry, under i_rwsem.
        let dax_past_eof = dax && self.cpu.peek(|m| page + pages > m.kernel.inode(file).i_size);
        let whole_range = allocation == WriteAllocation::WholeRange;
        // The blocks (or delalloc reservations) this write itself made out of holes: what a
        // failed write's cleanup may undo (iomap's IOMAP_F_NEW).
        let mut new_blocks = Vec::new();
        if whole_range {
            new_blocks = self.allocate_range(file, PageRange::new(page, page + pages));
        }
        let mut written = 0;
        let mut no_space = false;
        // iomap (XFS 4.8+): iomap_iter calls ->iomap_begin for the rest of the write whenever
        // the map it holds does not cover the next folio, before iomap_write_iter faults the
        // user buffer in.
        let iomap = !dax && self.policy.buffered_write_map != BufferedWriteMap::PerPage;
        let mut map: Option<CachedMap> = None;
        // The page at which write_begin or the copy failed, after write_begin had run (for
        // iomap: at which the write stopped while it held a map, whose ->iomap_end then runs).
        let mut stopped_at = None;
        'pages: for i in 0..pages {
            let index = page + i;
            if fail_at == Some(i) && dax {
                break;
            }
            let mut retries = Retries::new(self);
            // ext4_write_begin / ext4_da_write_begin's own count for ext4_should_retry_alloc.
            let mut alloc_retries = 0;
            while retries.again(self) {
                if iomap && !map.as_ref().is_some_and(|m| m.covers(index)) {
                    match self.xfs_buffered_write_iomap_begin(file, PageRange::new(index, page + pages)) {
                        Some(new) => {
                            // IOMAP_F_NEW: the map's reservations are this write's to punch.
                            if new.new {
                                new_blocks.extend(new.range.start..new.range.end);
                            }
                            map = Some(new);
                        }
                        None => {
                            no_space = true;
                            break 'pages;
                        }
                    }
                }
                let one = self.enter(Func::GenericPerformWrite, file, index, PageRange::page(index));
                // iov_iter_fault_in_readable: touch the user page (takes mmap_sem if it faults).
                if let UserBuffer::Mapped { file: source, page: source_page } = buffer
                    && !self.policy.write_copy_may_fault
                    && self.fault_in_readable(source, source_page + i).is_err()
                {
                    self.leave(one);
                    // iomap_write_iter returns EFAULT and iomap_iter still calls ->iomap_end
                    // for the map it holds, which cleans up what was not written of it.
                    if map.is_some() {
                        stopped_at = Some(index);
                    }
                    break 'pages;
                }
                let result = if dax {
                    self.dax_write_page(file, index, write)
                } else {
                    let copy = PageCopy { part: ends.part(i, pages), fails: fail_at == Some(i) };
                    let map = map.as_ref();
                    self.write_one_page(&one, file, index, buffer, i, copy, write, map, &mut new_blocks)
                };
                self.leave(one);
                match result {
                    PageWrite::Copied => {
                        written += 1;
                        continue 'pages;
                    }
                    PageWrite::Failed => {
                        stopped_at = Some(index);
                        break 'pages;
                    }
                    // ext4_write_begin unlocked the page and stopped its handle; with space
                    // that a commit would free, it forces the commit and begins the page again
                    // ("goto retry_grab"). The page it could not map allocated nothing, so
                    // ext4_truncate_failed_write has nothing of this write to undo first.
                    PageWrite::NoSpace if !dax && self.should_retry_alloc(&mut alloc_retries) => continue,
                    // A DAX write(2) retries in ext4_iomap_begin where the policy's DAX path
                    // does; 4.x's went through direct IO, which retried a write past EOF only.
                    PageWrite::NoSpace if dax && self.should_retry_alloc_dio_dax(dax_past_eof, &mut alloc_retries) => {
                        continue;
                    }
                    PageWrite::NoSpace => {
                        no_space = true;
                        stopped_at = Some(index);
                        break 'pages;
                    }
                    PageWrite::ShortCopy => continue,
                    // iomap_iter: ->iomap_end for the stale map, which cleans up what was not
                    // written of it as after a short write (xfs_buffered_write_iomap_end: the
                    // policy's cleanup; 6.2's punches only delalloc under clean folios), then
                    // ->iomap_begin from this folio.
                    PageWrite::Stale => {
                        let stale = map.take().expect("a stale map is one the write held");
                        self.truncate_failed_write(file, PageRange::new(index, stale.range.end), &new_blocks);
                        new_blocks.retain(|&b| !stale.covers(b));
                    }
                }
            }
            panic!("model bug: write of {file}:{index} retried {RETRIES_MAX} times");
        }
        if let Some(index) = stopped_at {
            // The end of what write_begin / iomap_begin was asked to map when the write failed:
            // the failing page's, the whole range's where the write mapped it at once, or the
            // end of the map iomap held (->iomap_end's `length`: the mapped extent, trimmed to
            // the write).
            let end = match &map {
                Some(map) => map.range.end,
                None if whole_range => page + pages,
                None => index + 1,
            };
            let unwritten = PageRange::new(page + written, end);
            self.truncate_failed_write(file, unwritten, &new_blocks);
        }
        self.leave(frame);
        match (written, no_space) {
            (0, true) => Outcome::Enospc,
            (0, false) => Outcome::Efault,
            (n, _) => Outcome::Pages(n),
        }
    }

    /// write(2) of `count` blocks from block `first` of a file whose blocks are smaller than a
    /// page, from anonymous memory: `generic_perform_write` with the buffer-head `write_begin`
    /// and `write_end` of ext4 (`ext4_write_begin` / `ext4_da_write_begin`, `ext4_write_end` /
    /// `ext4_da_write_end` -> `generic_write_end`), page by page, each page's chunk the blocks
    /// of that page the write covers:
    ///
    /// - `grab_cache_page_write_begin`, then `__block_write_begin` over the covered buffers
    ///   only: each is mapped, a hole getting a block (or a delayed allocation); a buffer the
    ///   write covers wholly is not read ("(block_start < from || block_end > to)" is false),
    ///   and the buffers it does not cover are left as they are (unmapped, not read).
    /// - the copy into the covered blocks of the page;
    /// - `block_write_end` (`__block_commit_write`): the covered buffers uptodate and dirty
    ///   (`mark_buffer_dirty` dirties the page), the page uptodate only if every buffer is;
    ///   then, still under the page lock ("it's important to update i_size while still holding
    ///   page lock: page writeout could otherwise come in and zero beyond i_size"), `i_size`
    ///   grows to the chunk's end;
    /// - after `unlock_page`, "if (old_size < pos) pagecache_isize_extended(inode, old_size,
    ///   pos)" (90a8020278c1): a chunk that starts past the old EOF has made the blocks
    ///   between them part of the file, and the page that straddled the old EOF may have a
    ///   writable PTE that `page_mkwrite` gave it while those blocks were past EOF.
    ///
    /// On ENOSPC in `write_begin` the write stops there, after `page_zero_new_buffers` and the
    /// policy's failed-write cleanup for the chunk (`ext4_truncate_failed_write` when it
    /// reaches past `i_size`: the new blocks past EOF are freed, the page zeroed past EOF).
    ///
    /// `fail_at` (blocks, relative to the write): the user buffer faults at that block, so the
    /// atomic copy of its page's chunk stops there. `block_write_end` with `copied < len`
    /// keeps the blocks before it only on an uptodate page ("if (!PageUptodate(page)) copied =
    /// 0"), runs `page_zero_new_buffers` over the rest of the chunk and commits what it kept;
    /// `i_size` grows to the end of that; then `ext4_write_end`'s "if (pos + len >
    /// inode->i_size) ext4_truncate_failed_write(inode)", the policy's cleanup, and the write
    /// returns what it copied (EFAULT if nothing): `generic_perform_write` faults the buffer in
    /// again and fails.
    ///
    /// Not modelled here (the scenario loader refuses them for such files): a user buffer in a
    /// mapping, `alloc = "whole_range"`; iomap's cached map (`buffered_write_map`) is not used:
    /// every policy runs this buffer-head path.
    fn write_blocks(&mut self, file: Ino, first: Lblk, count: Lblk, fail_at: Option<Lblk>, write: WriteId) -> Outcome {
        let actor = self.actor;
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (first_page, end_page) = (first / per_page, (first + count).div_ceil(per_page));
        let frame = self.enter(Func::Write, file, first_page, PageRange::new(first_page, end_page));
        self.zero_eof_before_extending_write(file, first);
        let alloc = self.policy.write_alloc;
        let mut written = 0;
        let mut faulted = false;
        for index in first_page..end_page {
            // This page's chunk: blocks [start, end) of the file, buffers `slots` of the page.
            let start = first.max(index * per_page);
            let end = (first + count).min((index + 1) * per_page);
            let slots = start - index * per_page..end - index * per_page;
            let one = self.enter(Func::GenericPerformWrite, file, index, PageRange::page(index));
            self.at(&one, Point::GpwWriteBegin);
            let (page, page_lock) = self.grab_cache_page_write_begin(file, index);
            self.at(&one, Point::GpwGetBlock);
            let mapped = self.cpu.step(|m| {
                super::fault::map_block_buffers(m, actor, MapFor::WRITE_BEGIN, file, page, alloc, slots.clone())
            });
            let Some(new_slots) = mapped else {
                self.unlock_page("ext4_write_begin", page_lock);
                self.leave(one);
                // ext4_write_begin: "if (pos + len > inode->i_size) ext4_truncate_failed_write"
                // (the policy's cleanup), for this page's chunk.
                self.truncate_failed_write(file, PageRange::new(start, end), &[]);
                break;
            };
            // Where the copy of this chunk stops: at the block whose user page faults, if it is
            // in this chunk.
            let fault = fail_at.map(|f| first + f).filter(|f| (start..end).contains(f));
            self.at(&one, Point::GpwCopy);
            let copied_end = self.cpu.step(|m| {
                let Some(fault) = fault else {
                    for slot in slots.clone() {
                        let token = Token::Data { ino: file, lblk: index * per_page + slot, write };
                        m.kernel.page_mut(page).bh[slot as usize].content = token;
                        let part = PagePart::Whole;
                        m.emit(actor, "iov_iter_copy_from_user_atomic", Change::PageCopied { page, token, part });
                    }
                    return end;
                };
                // A short copy: block_write_end keeps the blocks copied before the fault on an
                // uptodate page only (the copy into a page that is not uptodate is thrown
                // away: the rest of a block it did not cover was never read in), and zeroes the
                // new buffers of the rest of the chunk (page_zero_new_buffers(page, start +
                // copied, start + len): uptodate and dirty, so that no block's old contents
                // leak).
                let kept = if m.kernel.page(page).uptodate { fault } else { start };
                for lblk in start..kept {
                    let token = Token::Data { ino: file, lblk, write };
                    m.kernel.page_mut(page).bh[(lblk - index * per_page) as usize].content = token;
                    let part = PagePart::Whole;
                    m.emit(actor, "iov_iter_copy_from_user_atomic", Change::PageCopied { page, token, part });
                }
                m.emit(actor, "iov_iter_copy_from_user_atomic", Change::CopyFailed { ino: file, index: fault });
                let not_kept = (kept - index * per_page..per_page).fold(0u64, |mask, slot| mask | 1 << slot);
                super::fault::page_zero_new_buffers(m, actor, page, new_slots & not_kept);
                kept
            });
            let (old_size, old_half) = self.cpu.step(|m| {
                // __block_commit_write marks the buffers it commits uptodate and dirty
                // (mark_buffer_dirty: the page's other buffers keep their state; a failed copy
                // commits none, and page_zero_new_buffers has dirtied the buffers it zeroed).
                for lblk in start..copied_end {
                    let slot = lblk - index * per_page;
                    m.kernel.page_mut(page).bh[slot as usize].uptodate = true;
                    m.kernel.mark_buffer_dirty(page, slot);
                }
                let p = m.kernel.page_mut(page);
                // "if (!partial) SetPageUptodate(page)".
                if p.bh.iter().all(|bh| bh.uptodate) {
                    p.uptodate = true;
                }
                if copied_end > start {
                    m.emit(actor, "block_write_end", Change::PageDirtied { page, i_size_of: None });
                }
                let end = copied_end;
                let inode = m.kernel.inode_mut(file);
                let (old_size, old_half) = (inode.i_size, inode.eof_half);
                // Whole blocks: a write through the end of the block that holds an EOF inside it
                // moves EOF to the block's end.
                if end > start && (end > old_size || (end == old_size && inode.eof_half)) {
                    inode.i_size = end;
                    inode.eof_half = false;
                    m.emit(actor, "generic_write_end", Change::ISizeSet { ino: file, i_size: end, half: false });
                } else {
                    // Read to decide (and for pagecache_isize_extended's old_size): declared.
                    let index = end.max(start + 1) - 1;
                    m.emit(actor, "generic_write_end", Change::ISizeCheck { ino: file, index, i_size: old_size });
                }
                // As for page-sized blocks (write_one_page): ext4_update_i_disksize, with
                // delalloc only once the block is allocated.
                let allocated = m.kernel.inode(file).blocks[end.max(1) as usize - 1].pblk().is_some();
                let may_raise = end > start && (alloc != AllocKind::Delalloc || allocated);
                write_end_disksize(m, actor, "ext4_update_i_disksize", file, (end, false), may_raise);
                (old_size, old_half)
            });
            self.unlock_page("generic_write_end", page_lock);
            // "old_size < pos", in half blocks: an EOF inside block `old_size - 1` lies before
            // a write that starts at that block's end.
            if half_blocks(old_size, old_half) < 2 * start {
                self.pagecache_isize_extended(file, (old_size, old_half), (start, false));
                // ext4_zero_partial_blocks(handle, inode, old_size, pos - old_size), where the
                // policy has it: the old EOF block's tail (the write's own blocks are whole).
                if old_half && let Some(function) = self.policy.truncate_up_zero_eof.extending_write_zeroes_after() {
                    self.zero_eof_block_tail(file, old_size - 1, function, false, true);
                }
            }
            self.leave(one);
            written += copied_end - start;
            if fault.is_some() {
                // ext4_write_end: "if (pos + len > inode->i_size) ext4_truncate_failed_write"
                // (the policy's cleanup) for what this chunk did not copy; the blocks it mapped
                // new there are the write's to undo.
                // The blocks to undo are the run of blocks this chunk mapped new from the first
                // one it did not write: iomap's failing map (IOMAP_F_NEW) is such a run, and a
                // block that existed before (inside EOF, maybe with dirty data of an earlier
                // write) is in a map of its own, which ->iomap_end leaves alone. ext4's cleanup
                // reads only the end (pos + len against i_size).
                let is_new = |lblk: Lblk| new_slots & (1 << (lblk - index * per_page)) != 0;
                let run_start = (copied_end..end).find(|&lblk| is_new(lblk)).unwrap_or(end);
                let run_end = (run_start..end).find(|&lblk| !is_new(lblk)).unwrap_or(end);
                let new_blocks: Vec<Lblk> = (run_start..run_end).collect();
                let unwritten = match self.policy.failed_write_cleanup {
                    FailedWriteCleanup::PunchDelalloc | FailedWriteCleanup::PunchCleanDelalloc => {
                        PageRange::new(run_start, run_end)
                    }
                    _ => PageRange::new(copied_end, end),
                };
                self.truncate_failed_write(file, unwritten, &new_blocks);
                faulted = true;
                break;
            }
        }
        self.leave(frame);
        match (written, faulted) {
            (0, true) => Outcome::Efault,
            (0, false) => Outcome::Enospc,
            (n, _) => Outcome::Pages(n),
        }
    }

    /// Allocates blocks for every hole of `range` in one go (`ext4_map_blocks` over the range /
    /// `iomap_begin`), as the multi-page write design does before copying anything.
    fn allocate_range(&mut self, file: Ino, range: PageRange) -> Vec<Lblk> {
        let actor = self.actor;
        let alloc = self.policy.write_alloc;
        self.cpu.step(|m| {
            let first = m.log.len();
            let mut new_blocks = Vec::new();
            for lblk in range.start..range.end {
                if m.kernel.inode(file).blocks[lblk as usize] != Extent::Hole {
                    continue;
                }
                new_blocks.push(lblk);
                if alloc == AllocKind::Delalloc {
                    // ext4_da_reserve_space: ENOSPC once every free block is promised.
                    if !m.kernel.can_reserve_delalloc(1) {
                        new_blocks.pop();
                        m.emit(actor, "ext4_da_map_blocks", Change::NoSpace { ino: file, lblk });
                        return new_blocks;
                    }
                    m.kernel.inode_mut(file).blocks[lblk as usize] = Extent::Delalloc;
                    let extent = Extent::Delalloc;
                    m.emit(
                        actor,
                        "ext4_da_map_blocks",
                        Change::BlockMapped { ino: file, lblk, extent, allocated: false, reserved: true },
                    );
                    continue;
                }
                let Some(pblk) = m.kernel.alloc_block(file, lblk) else {
                    new_blocks.pop();
                    m.emit(actor, "ext4_map_blocks", Change::NoSpace { ino: file, lblk });
                    return new_blocks;
                };
                let extent = alloc.allocated(pblk);
                m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                m.emit(
                    actor,
                    "ext4_map_blocks",
                    Change::BlockMapped { ino: file, lblk, extent, allocated: true, reserved: false },
                );
            }
            if m.log.len() == first {
                m.emit(actor, "ext4_map_blocks", Change::Nothing);
            }
            new_blocks
        })
    }

    /// `ext4_truncate_failed_write` after a write that failed and reached block `end` (exclusive),
    /// tested by `caller`: if that is past `i_size` (in bytes: through the end of a block EOF
    /// lies half-way into counts), the page cache and every block past `i_size` go
    /// (`truncate_inode_pages(mapping, i_size)`, then `ext4_truncate`), as truncate(2) down does:
    /// the pages wholly past `i_size` go, and a page that straddles it is zeroed past it, its
    /// buffers there discarded (`truncate_inode_pages_range`'s partial page). Where EOF lies
    /// half-way into a block, `ext4_truncate` also zeroes that block's tail through the page
    /// cache before it frees anything ("if (inode->i_size & (blocksize - 1))
    /// ext4_block_truncate_page(handle, mapping, inode->i_size)"), so what a store put past EOF
    /// there is zeroes on disk too; XFS's cleanup (`xfs_vm_write_failed`, `xfs_vm_write_end`:
    /// `truncate_pagecache_range` and the delalloc kill past EOF) zeroes only the page
    /// (`TruncateUpZero::failed_write_truncate_zeroes`). Nothing inside EOF is touched: a fault
    /// or read(2) beyond `i_size` gets SIGBUS or EOF, and the writer's `i_rwsem` keeps `i_size`
    /// from growing over the blocks meanwhile. The locks are the placements of
    /// `truncate_failed_write`.
    pub(super) fn truncate_failed_write_past_eof(&mut self, file: Ino, end: Lblk, caller: &'static str) {
        let actor = self.actor;
        let (i_size, half) = self.cpu.step(|m| {
            let inode = m.kernel.inode(file);
            let (i_size, half) = (inode.i_size, inode.eof_half);
            m.emit(actor, caller, Change::ISizeCheck { ino: file, index: end - 1, i_size });
            // "Add inode to orphan list in case we crash before truncate finishes"
            // (ext4_write_begin, ext4_write_end): ext4_truncate takes it off.
            if past_i_size(end, i_size, half) {
                ext4_orphan(m, actor, caller, file, true);
            }
            (i_size, half)
        });
        if !past_i_size(end, i_size, half) {
            return;
        }
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let eof_page = if half { (i_size - 1) / per_page } else { i_size / per_page };
        let frame = self.enter(Func::TruncateFailedWrite, file, eof_page, PageRange::to_eof(eof_page));
        self.at(&frame, Point::FailedWriteTruncatePagecache);
        self.truncate_pagecache_range(file, PageRange::to_eof(i_size.div_ceil(per_page)));
        self.truncate_eof_partial_page(file, i_size, half);
        self.at(&frame, Point::FailedWriteRemoveSpace);
        if half && let Some(function) = self.policy.truncate_up_zero_eof.failed_write_truncate_zeroes() {
            self.zero_eof_block_tail(file, i_size - 1, function, false, true);
        }
        self.remove_space(file, PageRange::to_eof(i_size), "ext4_truncate");
        self.leave(frame);
    }

    /// The cleanup after a write(2) that stopped short: `unwritten` is the part of what
    /// `write_begin` (or `iomap_begin`, for a write that mapped its whole range first) was
    /// asked to map that the write did not copy, `new_blocks` what the write itself allocated or
    /// reserved out of holes. What is undone is the policy's `failed_write_cleanup`; the locks
    /// the cleanup takes are placements in `truncate_failed_write`.
    ///
    /// - `truncate_past_eof`: the callers test `pos + len > i_size` (ext4_write_begin /
    ///   ext4_write_end / ext4_da_write_begin, ext2_write_failed, xfs_vm_write_end), and if so
    ///   `ext4_truncate_failed_write` evicts the page cache past `i_size`
    ///   (`truncate_inode_pages`) and frees every block past it (`ext4_truncate`). Nothing
    ///   inside EOF is touched: a fault or read(2) beyond `i_size` gets SIGBUS or EOF, and the
    ///   write's `i_rwsem` keeps `i_size` from growing over the blocks meanwhile.
    /// - `punch_delalloc`: if the write reserved delalloc in the part it did not copy
    ///   (IOMAP_F_NEW), `truncate_pagecache_range` over that part, then
    ///   `xfs_bmap_punch_delalloc_range` (delalloc extents only), inside EOF too. Under
    ///   `IOLOCK_EXCL` alone (until 198dd8aedee6), a write fault can dirty a page of the range
    ///   after the eviction and before the punch, leaving it with no reservation; and eviction
    ///   drops what a store put in a page of the range before it (f43dc4dc3eff).
    /// - `punch_clean_delalloc`: 6.2's `iomap_file_buffered_write_punch_delalloc`: no eviction;
    ///   a walk of the range up to EOF finds the dirty pages, and the punch that follows spares
    ///   their delalloc (past EOF it spares nothing).
    pub(super) fn truncate_failed_write(&mut self, file: Ino, unwritten: PageRange, new_blocks: &[Lblk]) {
        let actor = self.actor;
        match self.policy.failed_write_cleanup {
            FailedWriteCleanup::None => {}
            FailedWriteCleanup::TruncatePastEof => {
                // if (pos + len > inode->i_size) ext4_truncate_failed_write(inode);
                self.truncate_failed_write_past_eof(file, unwritten.end, "ext4_write_end");
            }
            FailedWriteCleanup::PunchDelalloc | FailedWriteCleanup::PunchCleanDelalloc => {
                // "If we didn't reserve the blocks, we're not allowed to punch them."
                let reserved = self.policy.write_alloc == AllocKind::Delalloc
                    && new_blocks.iter().any(|&b| unwritten.start <= b && b < unwritten.end);
                if unwritten.start >= unwritten.end || !reserved {
                    return;
                }
                let clean_only = self.policy.failed_write_cleanup == FailedWriteCleanup::PunchCleanDelalloc;
                let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
                // The frame names pages (the placements' ranges), the range blocks.
                let pages = PageRange::new(unwritten.start / per_page, unwritten.end.div_ceil(per_page));
                let frame = self.enter(Func::TruncateFailedWrite, file, pages.start, pages);
                self.at(&frame, Point::FailedWriteTruncatePagecache);
                if !clean_only {
                    // truncate_pagecache_range over the bytes of those blocks: on a file whose
                    // blocks are smaller than a page, the pages that straddle an edge stay and
                    // have those blocks zeroed and their buffers discarded.
                    if per_page == 1 {
                        self.truncate_pagecache_range(file, unwritten);
                    } else {
                        self.truncate_pagecache_blocks(file, unwritten);
                    }
                }
                // iomap_write_delalloc_release: the walk (mapping_seek_hole_data,
                // iomap_write_delalloc_scan) finds the pages of the range that are dirty, which
                // keep their reservations; the punch of the rest follows as its own step.
                let punch: Vec<Lblk> = if clean_only {
                    self.cpu.step(|m| {
                        // The scan stops at EOF ("we always need to punch out delalloc beyond
                        // EOF ... as writeback will never write back" a page there).
                        let inode = m.kernel.inode(file);
                        let i_size = inode.i_size;
                        let (dirty, clean): (Vec<Lblk>, Vec<Lblk>) = (unwritten.start..unwritten.end).partition(|&i| {
                            i < i_size && inode.cache[(i / per_page) as usize].is_some_and(|p| m.kernel.page(p).dirty)
                        });
                        let (range, count) = (unwritten, dirty.len() as u32);
                        let index = unwritten.start;
                        m.emit(actor, "iomap_write_delalloc_release", Change::ISizeCheck { ino: file, index, i_size });
                        m.emit(actor, "iomap_write_delalloc_scan", Change::PagesFound { ino: file, range, count });
                        clean
                    })
                } else {
                    (unwritten.start..unwritten.end).collect()
                };
                self.at(&frame, Point::FailedWriteRemoveSpace);
                // xfs_bmap_punch_delalloc_range: delalloc extents only.
                self.cpu.step(|m| {
                    for &lblk in &punch {
                        let blocks = &mut m.kernel.inode_mut(file).blocks;
                        if blocks[lblk as usize] == Extent::Delalloc {
                            blocks[lblk as usize] = Extent::Hole;
                        }
                    }
                    let range = unwritten;
                    m.emit(actor, "xfs_bmap_punch_delalloc_range", Change::BlocksFreed { ino: file, range, count: 0 });
                });
                self.leave(frame);
            }
        }
    }

    /// `->iomap_begin` of a buffered write (`xfs_buffered_write_iomap_begin`, under the ILOCK
    /// in one go): maps `range` from its first page as far as the pages are of one kind.
    /// Holes up to the next extent become delayed allocations (`xfs_bmapi_reserve_delalloc`,
    /// `IOMAP_F_NEW`); an existing delayed allocation, or blocks of one state that follow each
    /// other on disk, are returned as found. Under a policy that does not allocate delayed,
    /// the holes get blocks of its `write_alloc` (no kernel's buffered iomap write did that).
    /// `None` on ENOSPC at the first page.
    fn xfs_buffered_write_iomap_begin(&mut self, file: Ino, range: PageRange) -> Option<CachedMap> {
        let actor = self.actor;
        let alloc = self.policy.write_alloc;
        const FUNCTION: &str = "xfs_buffered_write_iomap_begin";
        self.cpu.step(|m| {
            let blocks = &m.kernel.inode(file).blocks;
            let first = blocks[range.start as usize];
            let follows = |prev: Extent, next: Extent| match (prev, next) {
                (Extent::Hole, Extent::Hole) | (Extent::Delalloc, Extent::Delalloc) => true,
                (Extent::Written(p), Extent::Written(q)) | (Extent::Unwritten(p), Extent::Unwritten(q)) => q == p + 1,
                _ => false,
            };
            let mut end = range.start + 1;
            while end < range.end && follows(blocks[end as usize - 1], blocks[end as usize]) {
                end += 1;
            }
            let mapped = PageRange::new(range.start, end);
            if first != Extent::Hole {
                let extents = blocks[range.start as usize..end as usize].to_vec();
                let cookie = blocks.clone();
                m.emit(actor, FUNCTION, Change::IomapMapped { ino: file, range: mapped, extent: first, new: false });
                return Some(CachedMap { range: mapped, extents, cookie, new: false });
            }
            // xfs_bmapi_reserve_delalloc takes the whole run out of fdblocks at once
            // (xfs_mod_fdblocks), or fails with ENOSPC.
            if alloc == AllocKind::Delalloc && !m.kernel.can_reserve_delalloc((end - range.start) as usize) {
                m.emit(actor, FUNCTION, Change::NoSpace { ino: file, lblk: range.start });
                return None;
            }
            let mut extents = Vec::new();
            for lblk in range.start..end {
                let extent = if alloc == AllocKind::Delalloc {
                    Extent::Delalloc
                } else {
                    let Some(pblk) = m.kernel.alloc_block(file, lblk) else {
                        m.emit(actor, FUNCTION, Change::NoSpace { ino: file, lblk });
                        break;
                    };
                    let extent = alloc.allocated(pblk);
                    m.emit(
                        actor,
                        FUNCTION,
                        Change::BlockMapped { ino: file, lblk, extent, allocated: true, reserved: false },
                    );
                    extent
                };
                m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                extents.push(extent);
            }
            let first = *extents.first()?;
            let mapped = PageRange::new(range.start, range.start + extents.len() as Lblk);
            m.emit(actor, FUNCTION, Change::IomapMapped { ino: file, range: mapped, extent: first, new: true });
            let cookie = m.kernel.inode(file).blocks.clone();
            Some(CachedMap { range: mapped, extents, cookie, new: true })
        })
    }

    /// Faults in one page of a mapped user buffer if its PTE is not present.
    fn fault_in_readable(&mut self, file: Ino, index: Lblk) -> Result<(), FaultError> {
        let (actor, mm) = (self.actor, self.mm);
        let present = self.cpu.step(|m| {
            let usable = m.kernel.vma_of(mm, file).and_then(|(slot, _)| m.kernel.pte(mm, slot, index)).is_some();
            m.emit(actor, "fault_in_readable", Change::PteProbe { mm, ino: file, index, usable });
            usable
        });
        if present { Ok(()) } else { self.handle_mm_fault(file, index, false) }
    }

    /// `write_begin` → copy → `write_end` for one page of a buffered write.
    #[allow(clippy::too_many_arguments)]
    fn write_one_page(
        &mut self,
        frame: &Frame,
        file: Ino,
        index: Lblk,
        buffer: UserBuffer,
        offset_in_write: Lblk,
        copy: PageCopy,
        write: WriteId,
        map: Option<&CachedMap>,
        new_blocks: &mut Vec<Lblk>,
    ) -> PageWrite {
        let copy_fails = copy.fails;
        let (actor, mm) = (self.actor, self.mm);
        self.at(frame, Point::GpwWriteBegin);
        let (page, page_lock) = self.grab_cache_page_write_begin(file, index);
        self.at(frame, Point::GpwGetBlock);
        let alloc = self.policy.write_alloc;
        let new_block = if let Some(map) = map {
            // iomap_write_begin with the folio locked: ->iomap_valid where the policy has it,
            // then __iomap_write_begin with the cached map. The map decides only whether the
            // parts of a block the write does not cover are zeroed or read from disk
            // (iomap_block_needs_zeroing); with page-sized blocks a page is written whole, so
            // nothing is read or zeroed, and the folio just gets its per-block state. Its block
            // is left to writeback to look up (xfs_map_blocks), as iomap has no buffer heads.
            let revalidate = self.policy.buffered_write_map == BufferedWriteMap::IomapRevalidate;
            let valid = self.cpu.step(|m| {
                if revalidate {
                    let valid = m.kernel.inode(file).blocks == map.cookie;
                    m.emit(actor, "iomap_write_begin", Change::IomapValid { ino: file, range: map.range, valid });
                    if !valid {
                        return false;
                    }
                }
                m.kernel.page_mut(page).buffers = true;
                let extent = map.extent(index);
                m.emit(
                    actor,
                    "__iomap_write_begin",
                    Change::BlockMapped { ino: file, lblk: index, extent, allocated: false, reserved: false },
                );
                if !copy.part.is_whole() {
                    iomap_fill_uncovered(m, actor, file, index, page, extent, map.new);
                }
                true
            });
            if !valid {
                // IOMAP_F_STALE: unlock and put the folio, and let iomap_iter map again.
                self.unlock_page("iomap_write_begin", page_lock);
                return PageWrite::Stale;
            }
            // ->iomap_begin did any allocation (and recorded it in `new_blocks`); a copy that
            // fails leaves the folio as it was (iomap_write_end with nothing copied into a
            // folio that is not uptodate), and ->iomap_end's cleanup follows in write().
            false
        } else {
            // ext4_write_begin fails with ENOSPC: the page is unlocked and the write returns
            // what it copied so far (generic_perform_write), ENOSPC if nothing. The page stays
            // cached, clean, unless it lies past i_size, where the failed write's cleanup
            // evicts it.
            let (mapped, was_hole) = self.cpu.step(|m| {
                let was_hole = m.kernel.inode(file).blocks[index as usize] == Extent::Hole;
                let mapped = map_page_buffers(m, actor, MapFor::WRITE_BEGIN, file, index, page, alloc);
                if let Some(new_block) = mapped
                    && !copy.part.is_whole()
                {
                    block_fill_uncovered(m, actor, file, index, page, new_block);
                }
                (mapped, was_hole)
            });
            let Some(new_block) = mapped else {
                self.unlock_page("ext4_write_begin", page_lock);
                return PageWrite::NoSpace;
            };
            if was_hole {
                new_blocks.push(index);
            }
            new_block
        };
        let token = Token::Data { ino: file, lblk: index, write };
        self.at(frame, Point::GpwCopy);
        // Before 2.6.24 the copy could fault, taking mmap_sem with the page still locked.
        if let UserBuffer::Mapped { file: source, page: source_page } = buffer
            && self.policy.write_copy_may_fault
            && self.fault_in_readable(source, source_page + offset_in_write).is_err()
        {
            self.unlock_page("generic_write_end", page_lock);
            return PageWrite::Failed;
        }
        // A freshly allocated block must never expose what it held before, so its buffer is
        // dirtied whatever the copy did (fs/buffer.c). On a page that is not uptodate,
        // block_write_end with copied == 0 calls page_zero_new_buffers, which zeroes the new
        // buffer and marks it dirty "so they'll be written out (in order to prevent
        // uninitialised block data from leaking)". On an uptodate page (a cached hole: its
        // zeroes are the file's data) __block_write_begin_int already did clear_buffer_new,
        // set_buffer_uptodate and mark_buffer_dirty; the page lock, held from write_begin to
        // here, makes that the same as doing it now.
        let zero_new_block = move |m: &mut Machine| {
            if new_block {
                let p = m.kernel.page_mut(page);
                p.dirty = true;
                if p.uptodate {
                    m.emit(actor, "mark_buffer_dirty", Change::PageDirtied { page, i_size_of: None });
                } else {
                    p.content = Token::Zero;
                    p.uptodate = true;
                    m.emit(actor, "page_zero_new_buffers", Change::PageZeroed { page });
                }
            }
        };
        let result = self.cpu.step(|m| {
            if copy_fails {
                m.emit(actor, "iov_iter_copy_from_user_atomic", Change::CopyFailed { ino: file, index });
                zero_new_block(m);
                return PageWrite::Failed;
            }
            if let UserBuffer::Mapped { file: source, page: source_page } = buffer {
                // The copy runs with page faults disabled: a vanished PTE makes it short, and
                // generic_perform_write still calls write_end with copied == 0 (then faults
                // the buffer in again), so the new block is zeroed as for a failed copy.
                let source_index = source_page + offset_in_write;
                let present = m.kernel.vma_of(mm, source).and_then(|(slot, _)| m.kernel.pte(mm, slot, source_index));
                if present.is_none() {
                    m.emit(actor, "iov_iter_copy_from_user_atomic", Change::Nothing);
                    zero_new_block(m);
                    return PageWrite::ShortCopy;
                }
            }
            // A write of part of the page: the rest is what write_begin made of it (the page was
            // uptodate, or write_begin read or zeroed the rest).
            let p = m.kernel.page_mut(page);
            p.content = p.content.overlay(copy.part, token);
            p.uptodate = true;
            m.emit(actor, "iov_iter_copy_from_user_atomic", Change::PageCopied { page, token, part: copy.part });
            PageWrite::Copied
        });
        // The block that held an EOF inside it, if this page's write started past it and the
        // policy zeroes its tail after write_end (ext4 since c7fc0366c656).
        let mut zero_old_eof = None;
        let zeroes_after = self.policy.truncate_up_zero_eof.extending_write_zeroes_after();
        if let PageWrite::Copied = result {
            zero_old_eof = self.cpu.step(|m| {
                m.kernel.page_mut(page).dirty = true;
                m.emit(actor, "block_write_end", Change::PageDirtied { page, i_size_of: Some(file) });
                let inode = m.kernel.inode_mut(file);
                // ext4_write_end's "old_size < pos": the write starts past an EOF inside a block.
                let old_eof_block =
                    (zeroes_after.is_some() && inode.eof_half && index >= inode.i_size).then(|| inode.i_size - 1);
                // generic_write_end: "if (pos + copied > inode->i_size) i_size_write(inode, pos +
                // copied)". On a file where an EOF inside a block is reachable, a write that ends
                // half-way into its last block (`last_page = "head"`) leaves EOF there, and one
                // that runs to the end of the block that holds such an EOF moves it to the
                // block's end (docs/model.md, "An EOF inside a block"); elsewhere the size rounds
                // up to the block, as it always has.
                let ends_half = inode.eof_half_reachable && copy.part == PagePart::Head;
                let grows = index + 1 > inode.i_size || (index + 1 == inode.i_size && inode.eof_half && !ends_half);
                if grows {
                    inode.i_size = index + 1;
                    inode.eof_half = ends_half;
                    let change = Change::ISizeSet { ino: file, i_size: index + 1, half: ends_half };
                    m.emit(actor, "generic_write_end", change);
                } else if inode.eof_half_reachable {
                    // Read to decide: declared where the decision can depend on an EOF inside a block.
                    let i_size = inode.i_size;
                    m.emit(actor, "generic_write_end", Change::ISizeCheck { ino: file, index, i_size });
                }
                // ext4_write_end / ext4_da_write_end: "if (pos + copied > EXT4_I(inode)->i_disksize)
                // ext4_update_i_disksize(...)"; with delalloc only when the page's block is
                // already allocated (ext4_da_should_update_i_disksize): a reserved block's
                // i_disksize is writeback's to raise.
                // pos + copied: half-way into the block where the write ends there.
                let allocated = m.kernel.inode(file).blocks[index as usize].pblk().is_some();
                let may_raise = alloc != AllocKind::Delalloc || allocated;
                write_end_disksize(m, actor, "ext4_update_i_disksize", file, (index + 1, ends_half), may_raise);
                old_eof_block
            });
        }
        self.unlock_page("generic_write_end", page_lock);
        // After unlocking the page, "if (old_size < pos && !verity) { pagecache_isize_extended(
        // inode, old_size, pos); ext4_zero_partial_blocks(handle, inode, old_size, pos -
        // old_size); }" (pagecache_isize_extended returns at once where the block is the page).
        if let (Some(lblk), Some(function)) = (zero_old_eof, zeroes_after) {
            self.zero_eof_block_tail(file, lblk, function, false, true);
        }
        result
    }

    /// An extending write(2) that starts past the block holding an EOF inside it, under a policy
    /// that zeroes that block's tail before the copy (XFS's write checks, under the exclusive
    /// IOLOCK: `xfs_zero_eof` in 4.x, `iomap_zero_range` from 4.8, whose write_end grows `i_size`
    /// to the block's end; ext4 7.1's `ext4_write_checks` under `i_rwsem`:
    /// `ext4_block_zero_eof`, which leaves `i_size`): the check of `i_size`, then the zeroing
    /// through the page cache. Only on a file where such an EOF is reachable; the whole blocks
    /// between that block and the write are past EOF and not cached (the model zeroes nothing
    /// there).
    fn zero_eof_before_extending_write(&mut self, file: Ino, first: Lblk) {
        if let Some(zero) = self.policy.truncate_up_zero_eof.extending_write_zeroes_first() {
            self.zero_eof_before_write(file, first, zero);
        }
    }

    /// `grab_cache_page_write_begin`: finds or creates the page and returns it locked and still
    /// in the mapping.
    pub(super) fn grab_cache_page_write_begin(&mut self, file: Ino, index: Lblk) -> (PageId, Held) {
        let actor = self.actor;
        let mut retries = Retries::new(self);
        while retries.again(self) {
            let found =
                self.cpu.step(|m| find_or_add_locked_page(m, actor, "grab_cache_page_write_begin", file, index));
            let page = match found {
                Ok(created) => return created,
                Err(page) => page,
            };
            let held = self.lock_page("grab_cache_page_write_begin", page);
            let attached = self.cpu.step(|m| {
                let attached = m.kernel.page(page).attached;
                m.emit(actor, "grab_cache_page_write_begin", Change::MappingCheck { page, attached, i_size_of: None });
                attached
            });
            if attached {
                return (page, held);
            }
            self.unlock_page("grab_cache_page_write_begin", held);
        }
        panic!("model bug: write_begin of {file}:{index} retried {RETRIES_MAX} times");
    }

    /// DAX write(2) of one page (`dax_iomap_actor`): map or allocate the block and copy
    /// straight into it. Over an existing block, mapping and copy are one step. A block it
    /// allocates was a hole, which a load may have mapped with the zero page: those mappings
    /// go between the allocation and the copy, as `dax_iomap_actor` does on IOMAP_F_NEW.
    fn dax_write_page(&mut self, file: Ino, index: Lblk, write: WriteId) -> PageWrite {
        let actor = self.actor;
        // A block allocated here is zeroed by get_block only where the policy zeroes at
        // allocation; otherwise it holds its leftovers until the copy overwrites the whole page
        // (4.0-4.4 dax_io zeroed only the parts of a buffer_new block it did not write).
        let prezero = self.policy.dax_zeroing == DaxZeroing::Allocation;
        // dax_copy_from_iter into `pblk`, which iomap_begin mapped.
        let copy = move |m: &mut crate::cpu::Machine, pblk| {
            let token = Token::Data { ino: file, lblk: index, write };
            m.kernel.disk[pblk as usize] = token;
            m.emit(actor, "dax_iomap_actor", Change::DiskWrite { pblk, ino: file, lblk: index, token, page: None });
            let inode = m.kernel.inode_mut(file);
            if index + 1 > inode.i_size {
                inode.i_size = index + 1;
                m.emit(actor, "dax_iomap_actor", Change::ISizeSet { ino: file, i_size: index + 1, half: false });
                disksize_follows(m, actor, "dax_iomap_actor", file);
            } else {
                // Read to decide it leaves the size alone: declared.
                let i_size = inode.i_size;
                m.emit(actor, "dax_iomap_actor", Change::ISizeCheck { ino: file, index, i_size });
            }
        };
        // DAX read(2) and write(2) were the direct IO path when the range lock was designed
        // (ext4_direct_IO -> dax_do_io, 4.0-4.9), so where direct IO takes the range lock over
        // each bio (Kara's RFC), a DAX write takes it over each page it writes: a placement in
        // dax_write.
        let frame = self.enter(Func::DaxWrite, file, index, PageRange::page(index));
        // Some(block allocated here), or None when the copy already happened; Err on ENOSPC.
        let allocated = self.cpu.step(|m| {
            let extent = m.kernel.inode(file).blocks[index as usize];
            if let Some(pblk) = extent.pblk() {
                m.kernel.inode_mut(file).blocks[index as usize] = Extent::Written(pblk);
                copy(m, pblk);
                return Ok(None);
            }
            let Some(p) = m.kernel.alloc_block(file, index) else {
                m.emit(actor, "dax_iomap_actor", Change::NoSpace { ino: file, lblk: index });
                return Err(());
            };
            if prezero {
                m.kernel.disk[p as usize] = Token::Zero;
            }
            m.kernel.inode_mut(file).blocks[index as usize] = Extent::Written(p);
            m.emit(
                actor,
                "dax_iomap_actor",
                Change::BlockMapped {
                    ino: file,
                    lblk: index,
                    extent: Extent::Written(p),
                    allocated: true,
                    reserved: false,
                },
            );
            Ok(Some(p))
        });
        if let Ok(Some(pblk)) = allocated {
            self.dax_invalidate_hole(file, index);
            self.cpu.step(|m| copy(m, pblk));
        }
        self.leave(frame);
        if allocated.is_ok() { PageWrite::Copied } else { PageWrite::NoSpace }
    }

    /// The invalidation after a DAX write(2) allocated `file:index`: a load may have mapped the
    /// hole's zero page, which would hide the data from mmap. 4.10+ `dax_iomap_actor`: "Write
    /// can allocate block for an area which has a hole page mapped into page tables. We have
    /// to tear down these mappings so that data written by write(2) is visible in mmap", with
    /// `invalidate_inode_pages2_range` on IOMAP_F_NEW, which for a DAX mapping waits for the
    /// entry lock of each entry it drops (`dax_invalidate_mapping_entry_sync`) and then zaps
    /// the range's PTEs (`unmap_mapping_pages`, cd656375f946). 4.0-4.9 went through
    /// `generic_file_direct_write`, whose `invalidate_inode_pages2_range` unmapped the hole's
    /// page after the copy rather than before; the model invalidates before the copy, as
    /// 4.10+ does, under every policy. The entry lock is not held across the zap, so a fault that looked up the hole
    /// before the allocation and inserts the zero page afterwards is fenced only if it holds
    /// the entry lock across the fault (ac401cc78242; `scenarios/dax_zero_page_write.toml`,
    /// `scenarios/dax_zero_page_fault.toml`).
    fn dax_invalidate_hole(&mut self, file: Ino, index: Lblk) {
        // Waiting for the entry lock is a placement (dax_entry in
        // dax_invalidate_mapping_entry_sync), where the policy's DAX faults have entry locks.
        let frame = self.enter(Func::DaxInvalidateEntry, file, index, PageRange::page(index));
        self.leave(frame);
        self.unmap_mapping_range(file, PageRange::page(index));
    }

    /// Buffered read(2) of `pages` pages at `page` (`generic_file_buffered_read`), filling the
    /// page cache through `page_cache_read` where pages are missing, into `buffer`. The copy to
    /// a mapped buffer is a store by this operation (`write` names its data).
    pub fn read(&mut self, file: Ino, page: Lblk, pages: Lblk, buffer: UserBuffer, write: WriteId) -> Outcome {
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        if per_page > 1 {
            // `page` and `pages` count blocks; the frame's range is in pages.
            let range = PageRange::new(page / per_page, (page + pages).div_ceil(per_page));
            let frame = self.enter(Func::Read, file, range.start, range);
            let outcome = self.read_blocks(file, page, pages);
            self.leave(frame);
            return outcome;
        }
        let frame = self.enter(Func::Read, file, page, PageRange::new(page, page + pages));
        // A DAX read is a direct read in every kernel that has DAX: ext4 4.0-4.9 read through
        // ext4_direct_IO -> dax_do_io with DIO_LOCKING (i_mutex), 4.10+ ext4_dax_read_iter
        // holds inode_lock_shared across dax_iomap_rw; XFS takes the IOLOCK shared for every
        // read, which its policies place on read(2) already. Without it a DAX read ran
        // against a collapse or truncate holding i_rwsem (a false stale_data, December 2026).
        let dax_i_rwsem = self.cpu.peek(|m| m.kernel.inode(file).dax).then_some(()).and_then(|()| {
            let placed = self.policy.lock.iter().any(|p| p.lock == LockName::IRwsem && p.from == Point::ReadStart);
            (!placed).then(|| {
                let lock = self.cpu.peek(|m| m.kernel.inode(file).i_rwsem);
                self.acquire("inode_lock_shared", lock, LockMode::Shared, PageRange::WHOLE)
            })
        });
        let outcome = self.read_locked(file, page, pages, buffer, write);
        if let Some(held) = dax_i_rwsem {
            self.release("inode_unlock_shared", held);
        }
        self.leave(frame);
        outcome
    }

    fn read_locked(&mut self, file: Ino, page: Lblk, pages: Lblk, buffer: UserBuffer, write: WriteId) -> Outcome {
        let actor = self.actor;
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        let mut copied = 0;
        // Per page: a copied page is progress.
        let mut retries = Retries::new(self);
        let mut retries_for = 0;
        'pages: while copied < pages {
            let index = page + copied;
            if retries_for != copied {
                (retries, retries_for) = (Retries::new(self), copied);
            }
            assert!(retries.again(self), "model bug: read of {file}:{index} retried {RETRIES_MAX} times");
            if self.check_i_size("generic_file_buffered_read", file, index).is_err() {
                break;
            }
            if dax {
                self.cpu.step(|m| {
                    let (extent, token) = m.kernel.read_block(file, index);
                    let from = match extent {
                        Extent::Written(pblk) => ReadFrom::Block(pblk),
                        _ => ReadFrom::Zeroes,
                    };
                    m.emit(
                        actor,
                        "dax_iomap_actor",
                        Change::UserRead { ino: file, index, token, path: ReadPath::ReadSyscall, from },
                    );
                });
                copied += 1;
                continue;
            }
            let page_id = match self.buffered_read_page(file, index) {
                ReadPage::Ready(p) => p,
                ReadPage::Again => continue 'pages,
                ReadPage::Stop => break,
            };
            // The copy runs with the page unlocked (filemap_read copies from an uptodate page it
            // holds a reference to, not its lock), so a fault on a buffer that maps this very
            // page can lock it.
            let frame = self.enter(Func::CopyPageToUser, file, index, PageRange::page(index));
            let copy = self.copy_page_to_user(file, index, page_id, buffer, copied, write);
            self.leave(frame);
            match copy {
                CopyToUser::Copied => copied += 1,
                CopyToUser::BeyondEof => break,
                // copy_to_user could not fault the user page in (no VMA there, or beyond the
                // mapped file's EOF): a short read, or EFAULT if nothing was copied.
                CopyToUser::Fault if copied == 0 => return Outcome::Efault,
                CopyToUser::Fault => break,
            }
        }
        Outcome::Pages(copied)
    }

    /// The page of a read(2) at `index`, uptodate: `find_get_page`, `page_cache_read` on a
    /// miss, or, for a cached page that is not uptodate, lock it, check it is still attached
    /// and read it in.
    fn buffered_read_page(&mut self, file: Ino, index: Lblk) -> ReadPage {
        let actor = self.actor;
        let cached = self.cpu.step(|m| {
            let page = m.kernel.inode(file).cache[index as usize];
            m.emit(actor, "find_get_page", Change::PageLookup { ino: file, index, page });
            page.map(|p| (p, m.kernel.page(p).uptodate))
        });
        match cached {
            Some((p, true)) => ReadPage::Ready(p),
            Some((p, false)) => {
                let held = self.lock_page("lock_page_killable", p);
                if !self.still_attached("generic_file_buffered_read", p) {
                    // Truncated under us: look it up again.
                    self.unlock_page("generic_file_buffered_read", held);
                    return ReadPage::Again;
                }
                self.read_in_and_unlock(file, p, held)
            }
            // Another actor may have added the page first (-EEXIST: Linux goes back to the
            // lookup and finds it) and left it not uptodate: a write(2) of part of a page, or
            // one that failed in write_begin.
            None => match self.page_cache_read(file, index) {
                Ok((p, held)) => self.read_in_and_unlock(file, p, held),
                Err(_) => ReadPage::Stop,
            },
        }
    }

    /// Brings the locked page `p` uptodate if it is not (`read_existing_page`) and unlocks it.
    fn read_in_and_unlock(&mut self, file: Ino, p: PageId, held: Held) -> ReadPage {
        // Only the page-lock holder reads a page in, so under the lock this is stable.
        let uptodate = self.cpu.peek(|m| m.kernel.page(p).uptodate);
        let held = if uptodate {
            held
        } else {
            match self.read_existing_page(file, p, held) {
                Ok(held) => held,
                Err(_) => return ReadPage::Again,
            }
        };
        self.unlock_page("generic_file_buffered_read", held);
        ReadPage::Ready(p)
    }

    /// Buffered read(2) of `count` blocks from block `first` of a file whose blocks are smaller
    /// than a page, into anonymous memory: per page, the read's `i_size` check (in pages: the
    /// page that straddles EOF is inside it), the page brought uptodate as for page-sized
    /// blocks ([`Self::buffered_read_page`]: `block_read_full_page` per buffer), then the copy
    /// of the page's blocks the read covers, cut at EOF as `filemap_read` cuts it ("isize =
    /// i_size_read(inode); if (unlikely(iocb->ki_pos >= isize)) goto put_folios; end_offset =
    /// min_t(loff_t, isize, iocb->ki_pos + iter->count)"), one `UserRead` per block. A page that
    /// is not uptodate is read in whole even where the read covers only its uptodate blocks
    /// (ext4's `block_is_partially_uptodate` would copy those without reading the page): the
    /// blocks copied are the same.
    fn read_blocks(&mut self, file: Ino, first: Lblk, count: Lblk) -> Outcome {
        let actor = self.actor;
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let mut copied = 0;
        let mut retries = Retries::new(self);
        let mut retries_for = 0;
        while copied < count {
            let lblk = first + copied;
            let index = lblk / per_page;
            if retries_for != copied {
                (retries, retries_for) = (Retries::new(self), copied);
            }
            assert!(retries.again(self), "model bug: read of {file}:{lblk} retried {RETRIES_MAX} times");
            if self.check_i_size("generic_file_buffered_read", file, index).is_err() {
                break;
            }
            let page = match self.buffered_read_page(file, index) {
                ReadPage::Ready(p) => p,
                ReadPage::Again => continue,
                ReadPage::Stop => break,
            };
            // The blocks of this page the read covers.
            let end = (first + count).min((index + 1) * per_page);
            let frame = self.enter(Func::CopyPageToUser, file, index, PageRange::page(index));
            let done = self.cpu.step(|m| {
                // The copy's length depends on i_size: declared (the exhaustive search's
                // footprints), whether or not it cuts the copy.
                let i_size = m.kernel.inode(file).i_size;
                m.emit(actor, "generic_file_buffered_read", Change::ISizeCheck { ino: file, index: lblk, i_size });
                if lblk >= i_size {
                    return 0;
                }
                let to = end.min(i_size);
                let half = m.kernel.inode(file).eof_half;
                for l in lblk..to {
                    let token = m.kernel.page(page).bh[(l % per_page) as usize].content;
                    // EOF half-way into this block: the copy stops there, a short read (as for a
                    // file whose block is the page, in copy_page_to_user).
                    let token =
                        if half && l + 1 == i_size { token.overlay(PagePart::Tail, Token::Zero) } else { token };
                    let (path, from) = (ReadPath::ReadSyscall, ReadFrom::Page(page));
                    m.emit(actor, "copy_page_to_user", Change::UserRead { ino: file, index: l, token, path, from });
                }
                to - lblk
            });
            self.leave(frame);
            copied += done;
            if lblk + done < end {
                // EOF cut the copy short: the read returns what it copied.
                break;
            }
        }
        Outcome::Pages(copied)
    }

    /// `copy_page_to_iter` of one page of a read(2), after rechecking `i_size` as the kernel
    /// does: to anonymous memory one step; to a shared mapping (`buffer`) a store through the
    /// user's PTE for page `offset` of the buffer, which `copy_to_user` takes with page faults
    /// enabled: a PTE that is absent or read-only faults (`handle_mm_fault` for writing:
    /// `do_shared_fault` or `do_wp_page`, both through `page_mkwrite`) and the copy resumes,
    /// without a second `i_size` check. Unlike write(2), which holds the destination page
    /// locked and so copies atomically after faulting in (08291429cfa6), read(2) holds no page
    /// lock across the copy.
    fn copy_page_to_user(
        &mut self,
        file: Ino,
        index: Lblk,
        page: PageId,
        buffer: UserBuffer,
        offset: Lblk,
        write: WriteId,
    ) -> CopyToUser {
        let (actor, mm) = (self.actor, self.mm);
        let target = match buffer {
            UserBuffer::Mapped { file: dst, page: first } => Some((dst, first + offset)),
            UserBuffer::Anonymous => None,
        };
        let mut checked = false;
        let mut retries = Retries::new(self);
        while retries.again(self) {
            let attempt = self.cpu.step(|m| {
                let i_size = m.kernel.inode(file).i_size;
                if !checked && index >= i_size {
                    m.emit(actor, "generic_file_buffered_read", Change::ISizeCheck { ino: file, index, i_size });
                    return CopyAttempt::BeyondEof;
                }
                let token = m.kernel.page(page).content;
                // EOF half-way into this block: the copy stops there ("end_offset =
                // min_t(loff_t, isize, ...)"), a short read; the user buffer past it keeps its
                // zeroes (anonymous memory: a mapped buffer is refused on such a file).
                let inode = m.kernel.inode(file);
                let token = if inode.eof_half && index + 1 == inode.i_size && target.is_none() {
                    token.overlay(crate::types::PagePart::Tail, Token::Zero)
                } else {
                    token
                };
                let read = Change::UserRead {
                    ino: file,
                    index,
                    token,
                    path: ReadPath::ReadSyscall,
                    from: ReadFrom::Page(page),
                };
                let Some((dst, dst_index)) = target else {
                    m.emit(actor, "copy_page_to_user", read);
                    return CopyAttempt::Copied;
                };
                // Tokens name the writer: what this read puts into the destination file's page
                // is that file's data, written by this read.
                let stored = Token::Data { ino: dst, lblk: dst_index, write };
                let mapped = m.kernel.vma_of(mm, dst).is_some_and(|(_, v)| v.maps(dst_index));
                if mapped && let Some(block) = pte_store(m, mm, dst, dst_index, stored) {
                    m.emit(actor, "copy_page_to_user", read);
                    if let Some(pblk) = block {
                        m.emit(
                            actor,
                            "copy_to_user",
                            Change::DiskWrite { pblk, ino: dst, lblk: dst_index, token: stored, page: None },
                        );
                    }
                    m.emit(actor, "copy_to_user", Change::StoreRetired { ino: dst, index: dst_index, token: stored });
                    return CopyAttempt::Copied;
                }
                if !checked {
                    m.emit(actor, "generic_file_buffered_read", Change::ISizeCheck { ino: file, index, i_size });
                }
                m.emit(actor, "copy_to_user", Change::PteProbe { mm, ino: dst, index: dst_index, usable: false });
                if mapped { CopyAttempt::Fault(dst, dst_index) } else { CopyAttempt::NoVma }
            });
            checked = true;
            match attempt {
                CopyAttempt::Copied => return CopyToUser::Copied,
                CopyAttempt::BeyondEof => return CopyToUser::BeyondEof,
                CopyAttempt::NoVma => return CopyToUser::Fault,
                // The exception fixup of a kernel access: a fault that cannot be resolved
                // (SIGBUS beyond the mapped file's EOF, no VMA) makes copy_to_user fail.
                CopyAttempt::Fault(dst, dst_index) => match self.handle_mm_fault(dst, dst_index, true) {
                    Err(FaultError::Sigbus | FaultError::Segv | FaultError::NoSpace) => return CopyToUser::Fault,
                    Ok(()) | Err(FaultError::Retry) => {}
                },
            }
        }
        panic!("model bug: copy of {file}:{index} to the user retried {RETRIES_MAX} times");
    }
}

/// What [`Task::buffered_read_page`] found.
enum ReadPage {
    /// The page, uptodate, unlocked.
    Ready(PageId),
    /// Truncated under the read: look it up again.
    Again,
    /// The page could not be read in: the read stops.
    Stop,
}

/// What one page's copy to the user did.
enum CopyToUser {
    Copied,
    /// `i_size` shrank below the page since it was looked up: the read stops.
    BeyondEof,
    /// The user buffer could not be faulted in: EFAULT.
    Fault,
}

/// One attempt of [`Task::copy_page_to_user`]'s step.
enum CopyAttempt {
    Copied,
    BeyondEof,
    NoVma,
    /// The destination PTE is absent or read-only: fault on that file page.
    Fault(Ino, Lblk),
}

impl<C: Cpu> Task<'_, C> {
    /// readahead(2) / `fadvise(WILLNEED)` / `madvise(WILLNEED)` of `pages` pages at `page`
    /// (`page_cache_ra_unbounded`): creates and reads the missing pages within EOF, under the
    /// policy's page-creation lock, and copies nothing to the user.
    pub fn readahead(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let frame = self.enter(Func::Readahead, file, page, PageRange::new(page, page + pages));
        let outcome = self.readahead_locked(file, page, pages);
        self.leave(frame);
        outcome
    }

    fn readahead_locked(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let actor = self.actor;
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        if dax {
            self.cpu.step(|m| m.emit(actor, "page_cache_ra_unbounded", Change::Nothing));
            return Outcome::Ok;
        }
        let mut added = 0;
        for index in page..page + pages {
            if self.check_i_size("page_cache_ra_unbounded", file, index).is_err() {
                break;
            }
            let cached = self.cpu.step(|m| {
                let page = m.kernel.inode(file).cache[index as usize];
                m.emit(actor, "page_cache_ra_unbounded", Change::PageLookup { ino: file, index, page });
                page.is_some()
            });
            if cached {
                continue;
            }
            if let Ok((_, held)) = self.page_cache_read(file, index) {
                self.unlock_page("read_pages", held);
                added += 1;
            }
        }
        Outcome::Pages(added)
    }
}

/// What one page of a write(2) copies: which part of the page, and whether the copy fails
/// (an injected fault).
#[derive(Clone, Copy)]
struct PageCopy {
    part: PagePart,
    fails: bool,
}

/// `__block_write_begin` for a write that covers part of a page-sized block: a buffer that is
/// not uptodate gets the rest of its block from the disk if it is mapped to a written block
/// ("if (!buffer_uptodate(bh) && !buffer_delay(bh) && !buffer_unwritten(bh) && (block_start <
/// from || block_end > to))": read it, under the page lock), or zeroes where `get_block` gave
/// it a new block, a delayed allocation or an unwritten extent (`buffer_new`:
/// `zero_user_segments` of the parts the write does not cover; ext4_da_get_block_prep marks
/// delayed and unwritten buffers new, and ext4_map_blocks with create converts an unwritten
/// extent and reports it new). A page that is uptodate keeps what it holds.
fn block_fill_uncovered(m: &mut Machine, actor: ActorId, file: Ino, index: Lblk, page: PageId, new_block: bool) {
    if m.kernel.page(page).uptodate {
        return;
    }
    let extent = m.kernel.inode(file).blocks[index as usize];
    let cached = m.kernel.page(page).buffer_pblk;
    // The buffer reads the block it caches (b_blocknr), which is the block map's unless the
    // mapping changed under a buffer that kept its old block.
    let read_from = match extent {
        _ if new_block => None,
        Extent::Written(p) => Some(cached.unwrap_or(p)),
        _ => cached.filter(|&c| extent.pblk() != Some(c)),
    };
    // The read (end_buffer_read_sync) or the zeroing makes the buffer uptodate, not the page:
    // __block_commit_write does, after the copy; until then a reader waits on the page lock.
    fill_uncovered(m, actor, "__block_write_begin", file, index, page, extent, read_from);
    m.kernel.page_mut(page).uptodate = false;
}

/// `__iomap_write_begin` for a write that covers part of a page-sized block of a folio that is
/// not uptodate: `iomap_block_needs_zeroing` decides from the map the write holds, not the
/// block map: zeroes where that map is not a written extent (a hole, a delayed allocation or
/// an unwritten extent), is `IOMAP_F_NEW`, or the block starts at or past `i_size`; otherwise
/// `iomap_read_folio_sync` reads the block that map names. With a stale map this zeroes what
/// the disk holds (d7b64041164c: "sees the iomap is unwritten, and zeros the part of the page
/// that it does not have data from. This overwrites the data on disk that was originally
/// written"), or reads a block that is no longer the file's.
fn iomap_fill_uncovered(
    m: &mut Machine,
    actor: ActorId,
    file: Ino,
    index: Lblk,
    page: PageId,
    extent: Extent,
    new: bool,
) {
    if m.kernel.page(page).uptodate {
        return;
    }
    let i_size = m.kernel.inode(file).i_size;
    m.emit(actor, "iomap_block_needs_zeroing", Change::ISizeCheck { ino: file, index, i_size });
    let read_from = match extent {
        Extent::Written(p) if !new && index < i_size => Some(p),
        _ => None,
    };
    // iomap_set_range_uptodate: with the folio's only block uptodate, the folio is.
    fill_uncovered(m, actor, "__iomap_write_begin", file, index, page, extent, read_from);
}

/// Fills a page that is not uptodate before a write of part of it, and marks it uptodate: the
/// block read from `read_from`, or zeroes.
#[allow(clippy::too_many_arguments)]
fn fill_uncovered(
    m: &mut Machine,
    actor: ActorId,
    function: &'static str,
    file: Ino,
    index: Lblk,
    page: PageId,
    extent: Extent,
    read_from: Option<Pblk>,
) {
    let p = m.kernel.page_mut(page);
    p.uptodate = true;
    match read_from {
        Some(pblk) => {
            let token = m.kernel.disk[pblk as usize];
            m.kernel.page_mut(page).content = token;
            let extent = if extent.pblk() == Some(pblk) { extent } else { Extent::Written(pblk) };
            m.emit(actor, function, Change::PageRead { ino: file, index, page, extent, token });
        }
        None => {
            p.content = Token::Zero;
            m.emit(actor, function, Change::PageZeroed { page });
        }
    }
}
