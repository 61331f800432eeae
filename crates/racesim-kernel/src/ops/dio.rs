//! Direct IO (`__blockdev_direct_IO` / `iomap_dio_rw` at the granularity racesim needs):
//! `inode_dio_begin`, `get_user_pages` on a mapped user buffer, the range lock over the bio
//! (Kara), flushing and invalidating the page-cache range, mapping or allocating the blocks,
//! submitting the bio, its completion (`dio_bio_end_io`), and `inode_dio_end`.
//!
//! A user buffer that is a shared mapping (of this file or another) is pinned at submission
//! and stays pinned until completion, as FOLL_PIN pins do: the DMA of a read lands in the
//! pinned pages at completion, which then re-dirties them (`bio_check_pages_dirty` →
//! `set_page_dirty_lock`) and unpins them. A pin keeps the frame, not its place in the page
//! cache: truncation may remove a pinned page meanwhile, and the DMA then lands in a page no
//! file holds any more.
//!
//! An asynchronous DIO returns to the user after submission; its completion runs later. The
//! model runs the completion as the same actor's next steps, after the operation has returned
//! and before its next operation begins (docs/model.md).
//!
//! Where kernels differ here, a policy field says which way: whether a direct read that
//! runs without `i_rwsem` checks ext4's `EXT4_STATE_DIOREAD_LOCK` fence first
//! (`dio_read_fence`); what a read does with a delayed-allocation extent that a racing
//! `page_mkwrite` reserved after its flush (`dio_read_delalloc`: zeroes on ext4, EIO on XFS);
//! whether a write invalidates its page-cache range again after the data is on disk, and
//! where (`dio_write_post_invalidate`); and whether a read invalidates its range before the IO
//! as a write does (`dio_read_invalidate`). Others (`dio_pin_order`, `dio_submit_invalidate`,
//! `dio_invalidate_busy`, `dio_read_dirty`, `dio_extend_size`, `dio_unaligned`) are documented
//! where they act.

use super::fault::Pin;
use super::journal::disksize_follows;
use super::locking::{Frame, Held};
use super::{Task, UserBuffer, WriteEnds, past_i_size};
use crate::cpu::Cpu;
use crate::event::{Change, Outcome, ReadFrom, ReadPath};
use crate::lock::LockMode;
use crate::placement::{Func, LockName, Point};
use crate::policy::{
    DioExtendSize, DioInvalidateBusy, DioPinOrder, DioReadDelalloc, DioReadDirty, DioReadInvalidate,
    DioSubmitInvalidate, DioUnaligned, DioWritePastEof, DioWritePostInvalidate,
};
use crate::types::{Extent, Ino, Lblk, PageId, PagePart, PageRange, Pblk, Token, WriteId};

/// Which way the data of a direct IO moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Disk to user memory (O_DIRECT read).
    Read,
    /// User memory to disk (O_DIRECT write).
    Write,
}

/// Why a direct IO did not submit its bio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSubmitted {
    /// The syscall fails with this outcome (EFAULT, ENOSPC, EIO).
    Failed(Outcome),
    /// A direct write found a page of its range dirtied since its flush and cannot invalidate
    /// it: it falls back to a buffered write.
    InvalidationBusy,
}

/// What mapping a direct IO's range found: the blocks (`None`: a hole, for a read), the size an
/// extending write grows the file to, per block whether a write of part of it zeroes the rest,
/// the error of a write that failed part-way, and the block whose head a short read returns.
type DioMapping = (Vec<Option<Pblk>>, Option<Lblk>, Vec<bool>, Option<Outcome>, Option<Lblk>);

/// A submitted bio: the blocks it covers, page by page (`None`: a hole, for a read).
pub struct Bio {
    file: Ino,
    page: Lblk,
    blocks: Vec<Option<Pblk>>,
    direction: Direction,
    /// The pages the syscall asked for (`blocks` may be fewer: a read that stopped at EOF, a
    /// write that failed part-way).
    pages: Lblk,
    /// The operation, which names the data it writes: to the disk for a write, to the user
    /// buffer for a read.
    id: WriteId,
    /// The user buffer, and the pins `get_user_pages` took in it (one per bio page for a
    /// shared mapping, none for anonymous memory).
    buffer: UserBuffer,
    pinned: Vec<Pin>,
    /// The `i_dio_count` reference (`inode_dio_begin`).
    dio_count: Held,
    /// The `i_rwsem` of locked DIO that ext4's fence fell back to, held until submission.
    fallback: Option<Held>,
    /// The direct IO's placements: the frame of `dio_read` / `dio_write`.
    frame: Frame,
    /// A write that ends past `i_size`: the size it extends the file to at completion. It keeps
    /// the `i_rwsem` its placements take until then (see [`Bio::extends_file`]).
    extension: Option<Lblk>,
    /// For a write of part of its first or last block: where it starts and ends, and for each
    /// block whether the mapping found it new or unwritten (the direct IO code then zeroes the
    /// rest of a partly written one).
    ends: WriteEnds,
    zero_rest: Vec<bool>,
    /// For a read that reaches the block an EOF lies inside: that block. The DMA reads it
    /// whole, and the syscall returns up to EOF only (`dio_complete`, `iomap_dio_complete`:
    /// "transferred = dio->i_size - offset"), so what it returned of the block is its head.
    short_tail: Option<Lblk>,
    /// An unaligned write that its policy makes wait for its own IO before it returns and
    /// releases `i_rwsem` (see [`Bio::waits_for_completion`]).
    waits: bool,
    /// A write whose block mapping failed part-way (ENOSPC): the bio covers the blocks mapped
    /// before the failure, and the syscall returns this error once they are written (see
    /// [`Bio::failed`]).
    error: Option<Outcome>,
    /// A write whose syscall waits for its completion (see [`Bio::completes_in_syscall`]).
    in_syscall: bool,
}

impl Bio {
    /// A direct write past EOF extends `i_size` only once its data is on disk, and is waited
    /// for in the syscall even when it was submitted as AIO: fs/direct-io.c "For file
    /// extending writes updating i_size before data writeouts complete can expose
    /// uninitialized blocks ... we need to wait for I/O completion even if asked for an
    /// asynchronous write"; ext4 keeps `i_rwsem` across it (`ext4_direct_IO_write`, later
    /// `ext4_dio_write_iter` with `ext4_handle_inode_extension`).
    pub fn extends_file(&self) -> bool {
        self.extension.is_some()
    }

    /// An unaligned direct write whose policy (`dio_unaligned = "wait_before_and_after"`) has
    /// it wait for its own IO after submission, holding `i_rwsem`, so that it is the only
    /// direct IO in flight: 57a0da28ced8 (ext4), 2032a8a27b5c (XFS), Linux 5.1.
    pub fn waits_for_completion(&self) -> bool {
        self.waits
    }

    /// A direct write whose block mapping failed after it had mapped some blocks. Linux
    /// submits the bios built for those and returns the error, not a short count, once they
    /// completed: `do_blockdev_direct_IO` submits `sdio.bio` after `do_direct_IO` failed and
    /// `dio_complete` returns the error (only EFAULT becomes a short count: "ignore EFAULT if
    /// some IO has been done"); `iomap_dio_rw` stops at the extent whose `->iomap_begin`
    /// failed, after writing the extents before it, and `iomap_dio_complete` returns
    /// `dio->error`. The syscall waits for those bios whether or not it was AIO
    /// (`dio_await_completion` when `retval` is an error; the model completes an iomap AIO
    /// synchronously too, which returns the same).
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// A direct write whose syscall waits for its IO: a synchronous one, or an AIO one that
    /// extends the file, waits for its own IO or failed. It holds `i_rwsem` to its return, and
    /// its completion runs the invalidation after `->direct_IO` under it (`dio_complete`).
    pub fn completes_in_syscall(&self) -> bool {
        self.in_syscall
    }
}

impl<C: Cpu> Task<'_, C> {
    /// Starts a direct IO: locks, `get_user_pages`, page-cache flush and invalidation, block
    /// mapping, bio submission. Returns the bio to complete, or the error. `asynchronous`: an
    /// AIO write, whose syscall returns at submission unless it must wait (see
    /// [`Bio::completes_in_syscall`]).
    #[allow(clippy::too_many_arguments)]
    pub fn dio_submit(
        &mut self,
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
        direction: Direction,
        ends: WriteEnds,
        id: WriteId,
        asynchronous: bool,
    ) -> Result<Bio, NotSubmitted> {
        let actor = self.actor;
        let write = (direction == Direction::Write).then_some(id);
        let unaligned = write.is_some() && !ends.is_whole();
        let (i_rwsem_lock, dio_count, per_page) = self.cpu.peek(|m| {
            let inode = m.kernel.inode(file);
            (inode.i_rwsem, inode.i_dio_count, inode.blocks_per_page)
        });
        // The page-cache pages the blocks lie in (the same range where a block is a page): the
        // flush and the invalidation cover every page the byte range touches
        // (`filemap_write_and_wait_range(mapping, pos, pos + count - 1)`,
        // `invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT, end >> PAGE_SHIFT)`), and so
        // does the range lock over the bio.
        let range = PageRange::new(page, page + pages).pages_holding(per_page);
        // The blocks asked for, which a write that fails undoes past EOF and invalidates after.
        let requested = PageRange::new(page, page + pages);
        // What a direct IO holds (i_rwsem until submission: ext4 takes it exclusive for every
        // write, direct or not; a range lock over the bio) is the policy's placements; a write
        // whose syscall waits for its IO keeps i_rwsem to its return (below).
        let func = if write.is_some() { Func::DioWrite } else { Func::DioRead };
        let frame = self.enter(func, file, range.start, range);
        if write.is_some() {
            self.zero_eof_before_extending_dio_write(file, page);
        }
        if unaligned && self.policy.dio_unaligned != DioUnaligned::None {
            // Serialise unaligned direct IO: under the exclusive i_rwsem (IOLOCK_EXCL), wait for
            // the direct IO in flight before this one counts itself in (xfs_file_dio_aio_write:
            // "if (unaligned_io) inode_dio_wait(inode)"; ext4: ext4_unwritten_wait, under
            // i_mutex since e142d05263a4, before it under the hashed aio_mutex taken just
            // before i_mutex).
            self.inode_dio_wait(file);
        }
        let mut dio_count_held = self.acquire("inode_dio_begin", dio_count, LockMode::Shared, PageRange::WHOLE);
        let mut fallback = None;
        if !self.frame_holds(&frame, LockName::IRwsem) && self.policy.dio_read_fence && self.dioread_lock_set(file) {
            // Locked DIO instead: __blockdev_direct_IO with DIO_LOCKING takes i_mutex for a
            // read until its bios are submitted, then counts itself in i_dio_count.
            self.release("inode_dio_end", dio_count_held);
            fallback = Some(self.acquire("inode_lock", i_rwsem_lock, LockMode::Exclusive, PageRange::WHOLE));
            dio_count_held = self.acquire("inode_dio_begin", dio_count, LockMode::Shared, PageRange::WHOLE);
        }
        let (flush, gup, get_block, submitted) = match func {
            Func::DioWrite => {
                (Point::DioWriteFlush, Point::DioWriteGup, Point::DioWriteGetBlock, Point::DioWriteSubmitted)
            }
            _ => (Point::DioReadFlush, Point::DioReadGup, Point::DioReadGetBlock, Point::DioReadSubmitted),
        };
        self.at(&frame, flush);
        // Write back and invalidate the page cache over the range, so that buffered and direct
        // IO see the same data, before the user buffer is pinned: every kernel flushes first
        // (generic_file_read_iter / ext4_direct_IO_read and generic_file_direct_write before
        // ->direct_IO; do_blockdev_direct_IO's DIO_LOCKING flush before do_direct_IO ->
        // dio_get_page; iomap_dio_rw before iomap_apply -> bio_iov_iter_get_pages). A read
        // never writes back a page its own get_user_pages dirtied.
        if let Err(busy) = self.dio_flush_and_invalidate(file, range, write.is_some()) {
            self.abandon_submission(&[], frame, dio_count_held, fallback, None);
            return Err(busy);
        }
        // iomap maps the range (->iomap_begin) before it pins the user pages of each extent's
        // bio (iomap_dio_bio_iter -> bio_iov_iter_get_pages); fs/direct-io.c pins a batch of
        // user pages (dio_get_page) before it maps their blocks (get_more_blocks).
        let mut mapped = None;
        if self.policy.dio_pin_order == DioPinOrder::MapThenPin {
            match self.dio_get_blocks(file, page, pages, write, ends) {
                Ok(first) => mapped = Some(first),
                Err(outcome) => {
                    self.abandon_submission(&[], frame, dio_count_held, fallback, Some(requested));
                    return Err(NotSubmitted::Failed(outcome));
                }
            }
        }
        self.at(&frame, gup);
        // get_user_pages: pin the user buffer under mmap_sem, faulting it in as needed, before
        // any range lock (mmap_sem > range lock). A read's DMA writes the buffer: FOLL_WRITE.
        let mut pinned = Vec::new();
        if let UserBuffer::Mapped { file: user_file, page: first } = buffer {
            match self.get_user_pages(user_file, first, pages, direction == Direction::Read) {
                Ok(pages) => pinned = pages,
                Err(_) => {
                    self.abandon_submission(&[], frame, dio_count_held, fallback, Some(requested));
                    return Err(NotSubmitted::Failed(Outcome::Efault));
                }
            }
        }
        self.at(&frame, get_block);
        if self.policy.dio_submit_invalidate == DioSubmitInvalidate::FlushAndInvalidate {
            // Kara's RFC: "DIO gets range lock at the moment it submits bio for the range
            // covering pages in the bio. Then pagecache is truncated and bio submitted." The
            // pages a fault created between the first invalidation and the range lock go now,
            // under the lock (written back first, as the flush above).
            if let Err(busy) = self.dio_flush_and_invalidate(file, range, write.is_some()) {
                self.abandon_submission(&pinned, frame, dio_count_held, fallback, None);
                return Err(busy);
            }
        }
        let mapped = match mapped {
            Some(mapped) => Ok(mapped),
            None => self.dio_get_blocks(file, page, pages, write, ends),
        };
        let (blocks, extends_to, zero_rest, error, short_tail) = match mapped {
            Ok(mapped) => mapped,
            Err(outcome) => {
                self.abandon_submission(&pinned, frame, dio_count_held, fallback, Some(requested));
                return Err(NotSubmitted::Failed(outcome));
            }
        };
        // A write that failed part-way submits the blocks it mapped (the event names blocks).
        let range = PageRange::new(page, page + blocks.len() as Lblk);
        if write.is_none() && self.policy.dio_read_dirty == DioReadDirty::BeforeSubmit {
            // iomap_dio_bio_iter (IOMAP_DIO_DIRTY): bio_set_pages_dirty(bio) before the bio
            // goes out, for the user pages the bio covers.
            self.set_pinned_pages_dirty(&pinned, blocks.len(), "bio_set_pages_dirty");
        }
        self.cpu.step(|m| m.emit(actor, "submit_bio", Change::BioSubmitted { ino: file, range }));
        // An extending write keeps i_rwsem until it has updated i_size at completion.
        let extension = extends_to;
        // So does an unaligned write whose policy waits for its own IO (57a0da28ced8,
        // 2032a8a27b5c: "Wait once more after the dio submission to hold the iolock across
        // the I/O").
        let waits = unaligned && self.policy.dio_unaligned == DioUnaligned::WaitBeforeAndAfter;
        // A write whose syscall waits for its IO holds i_rwsem from its start to its return,
        // in every kernel the policies describe: ext4 from ext4_file_write_iter's inode_lock
        // to its inode_unlock around __generic_file_write_iter (4.1; an overwrite under
        // dioread_nolock, which no built-in mounts, drops it around the IO and takes it back
        // before the invalidation after it), ext4_direct_IO_write (5.3) and
        // ext4_dio_write_iter (iomap, shared for overwrites); XFS from xfs_ilock(iolock) to
        // xfs_iunlock after ->direct_IO and its invalidation (4.1) or iomap_dio_rw (5.3), shared
        // during the IO of a block-aligned write. Only an AIO write that does not wait returns,
        // and releases it, at submission. Simplified: the model keeps it exclusive (the engine
        // has no atomic downgrade; releasing and taking it shared would let a truncate in
        // between), which serialises the buffered and direct reads XFS and ext4's iomap path
        // run beside an aligned write's IO (a miss, never an alarm). Until
        // December 2026 the model released it at submission for every write that did not
        // extend the file, and a truncate could run between the write's completion and its
        // invalidation after the IO (a false lost_write under xfs-4.1).
        let in_syscall = write.is_some() && (!asynchronous || extension.is_some() || waits || error.is_some());
        if in_syscall {
            self.extend_hold(&frame, LockName::IRwsem, submitted, Point::DioWriteEnd);
        } else if write.is_some() {
            // An asynchronous write that returns at submission: ->direct_IO returned
            // -EIOCBQUEUED, and generic_file_direct_write (xfs_file_dio_aio_write in XFS 4.1)
            // invalidates the range again before the syscall drops i_rwsem, while the data may
            // still be in flight. Until December 2026 the model ran it after the release.
            self.dio_write_after_direct_io(file, page, pages);
        }
        self.at(&frame, submitted);
        if let Some(h) = fallback.take() {
            self.release("inode_unlock", h);
        }
        Ok(Bio {
            file,
            page,
            pages,
            blocks,
            direction,
            id,
            buffer,
            pinned,
            dio_count: dio_count_held,
            fallback,
            frame,
            extension,
            ends,
            zero_rest,
            short_tail,
            waits,
            error,
            in_syscall,
        })
    }

    /// A direct write that starts past the block holding an EOF inside it, under a policy whose
    /// direct writes zero that block's tail first (XFS: `xfs_file_dio_aio_write` runs
    /// `xfs_file_aio_write_checks`, which zeroes from the old EOF under the exclusive IOLOCK
    /// before the flush of the write's range, as for write(2); ext4's direct path does not, see
    /// `TruncateUpZero::extending_dio_write_zeroes_first`): the check of `i_size`, then the
    /// zeroing through the page cache, whose write_end grows `i_size` to the block's end, after
    /// waiting for the direct IO in flight (`TruncateUpZero::extending_dio_write_zeroes_first`:
    /// without the wait, an asynchronous write in flight to another block of the page, on
    /// blocks smaller than a page, would find the page the zeroing dirtied and could not
    /// invalidate it). Only on a file where such an EOF is reachable.
    fn zero_eof_before_extending_dio_write(&mut self, file: Ino, first: Lblk) {
        if let Some(zero) = self.policy.truncate_up_zero_eof.extending_dio_write_zeroes_first() {
            self.zero_eof_before_write(file, first, zero);
        }
    }

    /// [`Task::dio_map_blocks`], and for a write that finds no free block, the retry where
    /// ext4 has one (`should_retry_alloc_dio_dax`): `ext4_iomap_alloc` (4.6-5.4's
    /// `ext4_get_block_trans`) stops its handle, asks `ext4_should_retry_alloc` (which may force
    /// a commit) and maps again from the block it could not allocate. The blocks mapped before it stay mapped. A write holds
    /// `i_rwsem` exclusive wherever it allocates, so the size the retry reads is the one the
    /// first mapping read, and its extension stands.
    fn dio_get_blocks(
        &mut self,
        file: Ino,
        page: Lblk,
        pages: Lblk,
        write: Option<WriteId>,
        ends: WriteEnds,
    ) -> Result<DioMapping, Outcome> {
        let mut mapped = self.dio_map_blocks(file, page, pages, write, ends);
        if write.is_none() {
            return mapped;
        }
        // ext4 before 4.6 sent a write past EOF through ext4_ind_direct_IO, which retries ("if
        // (ret == -ENOSPC && ext4_should_retry_alloc(inode->i_sb, &retries)) goto retry"), and
        // the rest through ext4_ext_direct_IO, which does not (see `should_retry_alloc_dio_dax`).
        // The mapping step decides, as ext4_ext_direct_IO did, from "final_size > inode->i_size".
        let extends = match &mapped {
            Ok((_, extends_to, ..)) => extends_to.is_some(),
            Err(_) => {
                self.cpu.peek(|m| past_i_size(page + pages, m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half))
            }
        };
        let mut retries = 0;
        loop {
            let done = match &mapped {
                Err(Outcome::Enospc) => 0,
                Ok((blocks, _, _, Some(Outcome::Enospc), _)) => blocks.len() as Lblk,
                _ => return mapped,
            };
            if !self.should_retry_alloc_dio_dax(extends, &mut retries) {
                return mapped;
            }
            // The rest of the range: its first block is whole unless it is the write's own.
            let rest_ends = if done == 0 { ends } else { WriteEnds { first: PagePart::Whole, last: ends.last } };
            let rest = self.dio_map_blocks(file, page + done, pages - done, write, rest_ends);
            mapped = match (mapped, rest) {
                (Err(_), rest) => rest,
                (Ok(first), Err(_)) => Ok(first),
                (Ok((mut blocks, extends_to, mut zero_rest, _, short_tail)), Ok((more, _, more_zero, error, _))) => {
                    blocks.extend(more);
                    zero_rest.extend(more_zero);
                    Ok((blocks, extends_to, zero_rest, error, short_tail))
                }
            };
        }
    }

    /// Maps (or, for a write, allocates) the blocks of a direct IO's range: `get_block` of
    /// fs/direct-io.c, `->iomap_begin` of iomap. Returns the blocks (`None`: a hole, for a
    /// read), the size an extending write grows the file to, which blocks a write of part of
    /// them must zero the rest of, and the error of a write that failed part-way; or the
    /// error that fails the whole syscall.
    fn dio_map_blocks(
        &mut self,
        file: Ino,
        page: Lblk,
        pages: Lblk,
        write: Option<WriteId>,
        ends: WriteEnds,
    ) -> Result<DioMapping, Outcome> {
        let actor = self.actor;
        let alloc = self.policy.write_alloc;
        let delalloc_eio = self.policy.dio_read_delalloc == DioReadDelalloc::Eio;
        let unwritten_past_eof = self.policy.dio_write_past_eof == DioWritePastEof::Unwritten;
        self.cpu.step(|m| {
            // Past EOF, a write extends the file at completion (`end > i_size_read(inode)`): in
            // bytes, so a write through the end of a block that an EOF lies half-way into
            // extends it too.
            let i_size = m.kernel.inode(file).i_size;
            let past_eof = past_i_size(page + pages, i_size, m.kernel.inode(file).eof_half);
            let extends_to = (write.is_some() && past_eof).then_some(page + pages);
            // A read stops at EOF as it is now (`dio->i_size = i_size_read(inode)`): a short
            // read, or none at all from EOF on.
            let end = if write.is_some() { page + pages } else { (page + pages).min(i_size).max(page) };
            // Where EOF lies half-way into block `i_size - 1` and the read reaches it, the read
            // returns that block's head: it reads mapped blocks whole and cuts what it
            // transferred at `dio->i_size` (dio_complete; iomap_dio_complete the same).
            let inode = m.kernel.inode(file);
            let short_tail = (write.is_none() && inode.eof_half && end == i_size && end > page).then(|| i_size - 1);
            // The step declares the size it read (`dio->i_size = i_size_read(inode)`; a write's
            // "end > i_size_read(inode)"): the block map's events alone do not, and a read
            // wholly past EOF logs nothing else. Without it a partial-order reduction would take
            // this step to commute with a truncate's size update, and never try the order in
            // which the read maps blocks that truncate then frees.
            let checked = if write.is_some() { page + pages - 1 } else { page };
            m.emit(actor, "do_blockdev_direct_IO", Change::ISizeCheck { ino: file, index: checked, i_size });
            let mut blocks = Vec::new();
            let mut zero_rest = Vec::new();
            let mut error = None;
            for lblk in page..end {
                let extent = m.kernel.inode(file).blocks[lblk as usize];
                // The block is new (allocated now: buffer_new, IOMAP_F_NEW) or unwritten
                // (IOMAP_UNWRITTEN; ext4 hands a direct write the unwritten extents it
                // preallocates as new: "mappings of that space still look "new" and
                // dio_zero_block() will zero out the unwritten portions", e9e3bcecf44c): a
                // write of part of it zeroes the rest (dio_zero_block, iomap_dio_zero).
                let part = ends.part(lblk - page, pages);
                zero_rest.push(
                    write.is_some()
                        && !part.is_whole()
                        && matches!(extent, Extent::Hole | Extent::Delalloc | Extent::Unwritten(_)),
                );
                let pblk = match (extent, write) {
                    (Extent::Written(p) | Extent::Unwritten(p), _) => Some(p),
                    // A page_mkwrite reserved the block after our flush: XFS refuses the read
                    // (04197b341f23); ext4 reads the reservation as a hole.
                    (Extent::Delalloc, None) if delalloc_eio => {
                        let change = Change::BlockMapped { ino: file, lblk, extent, allocated: false, reserved: false };
                        m.emit(actor, "__xfs_get_blocks", change);
                        return Err(Outcome::Eio);
                    }
                    (Extent::Hole | Extent::Delalloc, None) => None,
                    (Extent::Hole | Extent::Delalloc, Some(_)) => match m.kernel.alloc_block(file, lblk) {
                        None => {
                            m.emit(actor, "ext4_map_blocks", Change::NoSpace { ino: file, lblk });
                            if blocks.is_empty() {
                                return Err(Outcome::Enospc);
                            }
                            // The blocks mapped so far are written, the rest not (see
                            // `Bio::failed`).
                            error = Some(Outcome::Enospc);
                            zero_rest.pop();
                            break;
                        }
                        Some(p) => {
                            // Inside EOF a direct write allocates an unwritten extent, which
                            // its completion converts for the part it wrote: ext4 since 2.6.32
                            // (ext4_get_block_write, EXT4_GET_BLOCKS_IO_CREATE_EXT, 4c0425ff68b1;
                            // ext4_iomap_alloc 5.5+ for blocks below i_size), "to prevent
                            // parallel buffered read to expose the stale data before DIO
                            // complete the data IO"; XFS always (xfs_iomap_write_direct,
                            // XFS_BMAPI_PREALLOC, past EOF too: `dio_write_past_eof =
                            // "unwritten"`). Past EOF ext4 allocates what write_alloc says
                            // (EXT4_GET_BLOCKS_CREATE: nobody reads there before the size update
                            // at completion, and a failed write truncates it).
                            let extent = if lblk < i_size || unwritten_past_eof {
                                Extent::Unwritten(p)
                            } else {
                                alloc.allocated(p)
                            };
                            m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                            Some(p)
                        }
                    },
                };
                let shown = m.kernel.inode(file).blocks[lblk as usize];
                m.emit(
                    actor,
                    "ext4_map_blocks",
                    Change::BlockMapped {
                        ino: file,
                        lblk,
                        extent: shown,
                        allocated: extent.pblk().is_none() && pblk.is_some(),
                        reserved: false,
                    },
                );
                blocks.push(pblk);
            }
            Ok((blocks, extends_to, zero_rest, error, short_tail))
        })
    }

    /// `filemap_write_and_wait_range` over a direct IO's range, and for a write
    /// `invalidate_inode_pages2_range` after it. A page dirtied since the flush cannot be
    /// invalidated (-EBUSY): generic_file_direct_write / kiocb_invalidate_pages then fall back to
    /// a buffered write ("If a page can not be invalidated, return 0 to fall back to buffered
    /// write"; iomap returns -ENOTBLK since 5.10, and ext4 and XFS fall back on it), or, as the
    /// policy says for XFS before 5.10, return 0 (XFS called generic_file_direct_write and had
    /// "No fallback to buffered IO") or warn and write directly all the same, the dirty page
    /// staying cached (iomap before 5.10). The caller abandons the submission on `Err`.
    fn dio_flush_and_invalidate(&mut self, file: Ino, range: PageRange, write: bool) -> Result<(), NotSubmitted> {
        self.filemap_write_and_wait_range(file, range, "filemap_write_and_wait_range");
        if !write {
            // A read that invalidates too (XFS up to 4.9, iomap 4.10-5.8) only warns about a
            // page it cannot drop ("Warn if it does fail"; dio_warn_stale_pagecache) and reads.
            if self.policy.dio_read_invalidate == DioReadInvalidate::BeforeIo {
                self.invalidate_inode_pages2_range(file, range);
            }
            return Ok(());
        }
        if !self.invalidate_inode_pages2_range(file, range) {
            return Ok(());
        }
        match self.policy.dio_invalidate_busy {
            DioInvalidateBusy::BufferedFallback => Err(NotSubmitted::InvalidationBusy),
            DioInvalidateBusy::ShortWrite => Err(NotSubmitted::Failed(Outcome::Pages(0))),
            DioInvalidateBusy::Warn => Ok(()),
        }
    }

    /// Undoes a submission that failed before its bio went out: drops the pins, `inode_dio_end`,
    /// for a write whose `->direct_IO` ran and failed (`failed`: its block range) the allocation
    /// past EOF and the invalidation after `->direct_IO`, and `i_rwsem` if the direct IO took
    /// it. A write abandoned before `->direct_IO` (its invalidation before the IO failed) skips
    /// both: generic_file_direct_write returns 0 there.
    fn abandon_submission(
        &mut self,
        pinned: &[Pin],
        frame: Frame,
        dio_count: Held,
        fallback: Option<Held>,
        failed: Option<PageRange>,
    ) {
        self.unpin_user_pages(pinned);
        let dio_end = if frame.func == Func::DioWrite { Point::DioWriteDioEnd } else { Point::DioReadDioEnd };
        self.at(&frame, dio_end);
        self.release("inode_dio_end", dio_count);
        if let Some(range) = failed
            && frame.func == Func::DioWrite
        {
            self.dio_write_failed(frame.file, range.end);
            // generic_file_direct_write's (and xfs_file_dio_aio_write's) invalidation once
            // ->direct_IO returned, whatever it returned, before the i_rwsem is released.
            self.dio_write_after_direct_io(frame.file, range.start, range.end - range.start);
        }
        if let Some(h) = fallback {
            self.release("inode_unlock", h);
        }
        self.leave(frame);
    }

    /// A direct write that returns an error, after `inode_dio_end` and under its `i_rwsem`:
    /// where the policy says so (`dio_write_past_eof = "truncate_failed_write"`, ext4), if it
    /// reached past `i_size`, `ext4_truncate_failed_write` frees what it allocated there (every
    /// block past `i_size`) and evicts the page cache past it ("if (ret < 0 && final_size >
    /// inode->i_size) ext4_truncate_failed_write(inode)", ext4_direct_IO_write;
    /// ext4_inode_extension_cleanup(inode, ret < 0) in today's ext4_dio_write_iter).
    /// The write's `i_rwsem` keeps `i_size` where the test reads it: a write inside EOF skips
    /// the cleanup without a step (6.11 runs it only for a write that ends past EOF,
    /// `ext4_extending_io`).
    fn dio_write_failed(&mut self, file: Ino, end: Lblk) {
        let past_eof = self.cpu.peek(|m| past_i_size(end, m.kernel.inode(file).i_size, m.kernel.inode(file).eof_half));
        if self.policy.dio_write_past_eof == DioWritePastEof::TruncateFailedWrite && past_eof {
            self.truncate_failed_write_past_eof(file, end, "ext4_handle_inode_extension");
        }
    }

    /// Completes a direct IO: the data moves (`dio_bio_end_io`), unwritten extents are
    /// converted, a read's pinned user pages are re-dirtied (`bio_check_pages_dirty`) and every
    /// pin dropped, and `inode_dio_end` drops the count. Returns what the syscall returns: the
    /// pages moved, or the error of a write that failed part-way.
    pub fn dio_complete(&mut self, bio: Bio) -> Outcome {
        let actor = self.actor;
        let Bio {
            file,
            page,
            pages,
            blocks,
            direction,
            id,
            buffer,
            pinned,
            dio_count,
            fallback,
            frame,
            extension,
            ends,
            zero_rest,
            short_tail,
            waits: _,
            error,
            in_syscall,
        } = bio;
        debug_assert!(fallback.is_none(), "the fallback i_rwsem is released at submission");
        let mut moved = 0;
        for (i, pblk) in blocks.iter().enumerate() {
            let lblk = page + i as Lblk;
            // The pin the DMA fills (a read) or reads (a write), if the buffer is a pinned mapping.
            let user_pin = match buffer {
                UserBuffer::Mapped { file: user_file, page: first } => {
                    pinned.get(i).map(|&pin| (user_file, first + i as Lblk, pin))
                }
                UserBuffer::Anonymous => None,
            };
            let part = ends.part(i as Lblk, pages);
            if let Some(pblk) = *pblk
                && zero_rest[i]
            {
                // The zeroing of the rest of the block, a bio of its own that the direct IO
                // code submitted with the data (dio_zero_block: before the data for the head
                // of a block, after it for the tail; iomap_dio_zero likewise). The model lands
                // it just before the data, at completion, whichever half it is: the unwritten
                // conversion then comes after both, as dio_complete's does.
                self.cpu.step(|m| {
                    let rest = part.rest();
                    m.kernel.disk[pblk as usize] = m.kernel.disk[pblk as usize].overlay(rest, Token::Zero);
                    let change = Change::PartialDiskWrite { pblk, ino: file, lblk, token: Token::Zero, part: rest };
                    m.emit(actor, "dio_zero_block", change);
                });
            }
            self.cpu.step(|m| match (direction, *pblk) {
                (Direction::Write, Some(pblk)) => {
                    let mut token = Token::Data { ino: file, lblk, write: id };
                    if let Some((user_file, index, Pin::Dax { pblk: source, token: pinned_token, .. })) = user_pin {
                        // The DMA reads the DAX page it pinned, whoever owns the block by now.
                        // Tokens name the writer, so the user's data is this operation's; a
                        // block that changed hands and content since the pin (truncated,
                        // reallocated, rewritten) sends its new owner's data instead.
                        let now = m.kernel.disk[source as usize];
                        let moved = m.kernel.block_owner[source as usize] != Some((user_file, index));
                        let foreign = (moved && now != pinned_token).then_some(now);
                        m.emit(actor, "dio_bio_end_io", Change::DmaFromDaxPage { pblk: source, token: foreign });
                        token = foreign.unwrap_or(token);
                    }
                    if part.is_whole() {
                        m.kernel.disk[pblk as usize] = token;
                        m.emit(actor, "dio_bio_end_io", Change::DiskWrite { pblk, ino: file, lblk, token, page: None });
                    } else {
                        // The data covers part of the block; the rest keeps what it held (the
                        // zeroes above, or the data of a block that was written already).
                        m.kernel.disk[pblk as usize] = m.kernel.disk[pblk as usize].overlay(part, token);
                        let change = Change::PartialDiskWrite { pblk, ino: file, lblk, token, part };
                        m.emit(actor, "dio_bio_end_io", change);
                    }
                    // The unwritten conversion of the part written, which the end_io of a failed
                    // write skips (ext4_end_io_dio with a size <= 0, ext4_dio_write_end_io and
                    // xfs_dio_write_end_io return the error first): the data stays on disk
                    // under an extent that reads as zeroes.
                    let blocks = &mut m.kernel.inode_mut(file).blocks;
                    if blocks[lblk as usize] == Extent::Unwritten(pblk) && error.is_none() {
                        blocks[lblk as usize] = Extent::Written(pblk);
                    }
                }
                (Direction::Read, pblk) => {
                    let extent = m.kernel.inode(file).blocks[lblk as usize];
                    // The bio reads the block it was mapped to, whoever owns it by now.
                    let (token, from) = match (pblk, extent) {
                        (Some(_), Extent::Unwritten(_)) | (None, _) => (Token::Zero, ReadFrom::Zeroes),
                        (Some(p), _) => (m.kernel.disk[p as usize], ReadFrom::Block(p)),
                    };
                    // Of the block an EOF lay inside at submission, the syscall returns the head
                    // (a short read); the rest of the user's buffer is not file data. The loader
                    // keeps such a read out of mapped buffers, where the DMA's tail would land.
                    let token =
                        if short_tail == Some(lblk) { token.overlay(PagePart::Tail, Token::Zero) } else { token };
                    m.emit(
                        actor,
                        "dio_bio_end_io",
                        Change::UserRead { ino: file, index: lblk, token, path: ReadPath::ReadSyscall, from },
                    );
                    // Tokens name the writer: for the file behind the buffer, the data this
                    // read put there is this operation's.
                    match user_pin {
                        Some((user_file, index, Pin::Page(user_page))) => {
                            let token = Token::Data { ino: user_file, lblk: index, write: id };
                            let p = m.kernel.page_mut(user_page);
                            p.content = token;
                            p.uptodate = true;
                            let attached = p.attached;
                            m.emit(
                                actor,
                                "dio_bio_end_io",
                                Change::DmaIntoPage { attached, ino: user_file, index, page: user_page, token },
                            );
                        }
                        // A DAX page is the block: the DMA writes the disk, whoever owns the
                        // block by now (freed and reallocated if nothing broke the layout).
                        Some((user_file, index, Pin::Dax { pblk: target, .. })) => {
                            let token = Token::Data { ino: user_file, lblk: index, write: id };
                            m.kernel.disk[target as usize] = token;
                            m.emit(
                                actor,
                                "dio_bio_end_io",
                                Change::DiskWrite { pblk: target, ino: user_file, lblk: index, token, page: None },
                            );
                        }
                        Some((_, _, Pin::ZeroPage)) | None => {}
                    }
                }
                (Direction::Write, None) => m.emit(actor, "dio_bio_end_io", Change::Nothing),
            });
            moved += 1;
        }
        if direction == Direction::Read {
            // bio_check_pages_dirty: the DMA wrote the pages behind the kernel's back; any the
            // writeback cleaned meanwhile are dirtied again, under their page lock.
            // Only the pages the DMA filled (a read that stopped at EOF filled fewer).
            self.set_pinned_pages_dirty(&pinned, blocks.len(), "bio_check_pages_dirty");
        }
        let end_io_extends = self.policy.dio_extend_size == DioExtendSize::InEndIo;
        if end_io_extends && let Some(size) = extension.filter(|_| error.is_none()) {
            // iomap_dio_complete -> ->end_io (xfs_dio_write_end_io; ext4_dio_write_end_io since
            // 5899593f51e6, 5.13) updates i_size before the completion invalidates the range.
            self.dio_extend_i_size(file, size);
        }
        // Not after a failed write: dio_complete invalidates for `ret > 0`, iomap_dio_complete
        // for `!dio->error`.
        if direction == Direction::Write
            && error.is_none()
            && self.policy.dio_write_post_invalidate == DioWritePostInvalidate::AtCompletion
        {
            // dio_complete / iomap_dio_complete (4.14+): after the unwritten conversion, before
            // inode_dio_end, so that a buffered read that cached the old data meanwhile does
            // not keep it (332391a9935d, 5e25c269e17d).
            let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
            let written = PageRange::new(page, page + blocks.len() as Lblk).pages_holding(per_page);
            self.invalidate_inode_pages2_range(file, written);
        }
        self.unpin_user_pages(&pinned);
        let dio_end = if frame.func == Func::DioWrite { Point::DioWriteDioEnd } else { Point::DioReadDioEnd };
        self.at(&frame, dio_end);
        self.release("inode_dio_end", dio_count);
        if !end_io_extends && let Some(size) = extension.filter(|_| error.is_none()) {
            // After the data and inode_dio_end, under i_rwsem: `i_size_write(inode, end)` in
            // ext4_direct_IO_write (up to 5.4), ext4_handle_inode_extension (5.5-5.12).
            self.dio_extend_i_size(file, size);
        }
        // Under the i_rwsem a write whose syscall waits keeps to here (an asynchronous one inside
        // EOF released it at submission and has nothing past EOF to undo).
        if direction == Direction::Write && error.is_some() && extension.is_some() {
            self.dio_write_failed(file, page + pages);
        }
        // generic_file_direct_write's (and xfs_file_dio_aio_write's) invalidation once
        // ->direct_IO returned, still under the i_rwsem the syscall holds.
        if in_syscall {
            self.dio_write_after_direct_io(file, page, pages);
        }
        self.leave(frame);
        error.unwrap_or(Outcome::Pages(moved))
    }

    /// The size update of a direct write that ended past EOF, where the policy's
    /// `dio_extend_size` places it. A failed write does not extend the file (`if (ret > 0)` up
    /// to 5.4; 5.5+ truncates the blocks past EOF instead): ext4 truncates what it allocated past
    /// EOF (`dio_write_failed`); XFS's xfs_dio_write_end_io returns the error before its size
    /// update, and its blocks there are unwritten. The event is named
    /// `ext4_handle_inode_extension` wherever it runs (docs/model.md).
    fn dio_extend_i_size(&mut self, file: Ino, size: Lblk) {
        let actor = self.actor;
        self.cpu.step(|m| {
            let inode = m.kernel.inode_mut(file);
            if past_i_size(size, inode.i_size, inode.eof_half) {
                inode.i_size = size;
                inode.eof_half = false;
                m.emit(actor, "ext4_handle_inode_extension", Change::ISizeSet { ino: file, i_size: size, half: false });
                disksize_follows(m, actor, "ext4_handle_inode_extension", file);
            } else {
                m.emit(actor, "ext4_handle_inode_extension", Change::Nothing);
            }
        });
    }

    /// `generic_file_direct_write` after `->direct_IO` returned, where that is the only second
    /// invalidation (Linux before 4.14): invalidates the written range again. For an
    /// asynchronous write that is right after submission, before the data is on disk. (4.14-5.4
    /// kept this pass besides the one at completion; the model leaves it out there, as it
    /// changes nothing the completion pass does not redo, and iomap dropped it.)
    fn dio_write_after_direct_io(&mut self, file: Ino, page: Lblk, pages: Lblk) {
        if self.policy.dio_write_post_invalidate == DioWritePostInvalidate::AfterDirectIo {
            let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
            self.invalidate_inode_pages2_range(file, PageRange::new(page, page + pages).pages_holding(per_page));
        }
    }

    /// The buffered write a direct write falls back to when a page of its range could not be
    /// invalidated (`__generic_file_write_iter` after `generic_file_direct_write` returned 0;
    /// `ext4_buffered_write_iter` / XFS on -ENOTBLK since iomap): write(2)'s own path, then the
    /// range is written back before the syscall returns, as O_DIRECT promises. Linux keeps
    /// `i_rwsem` from the direct attempt to the buffered write; the model releases it in
    /// between (the direct attempt changed nothing, so the write as a whole still takes effect
    /// inside the syscall), and leaves the clean pages cached (`invalidate_mapping_pages` only
    /// drops clean unmapped ones, which hold the new data anyway).
    pub fn dio_write_buffered_fallback(
        &mut self,
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
        ends: WriteEnds,
        write: WriteId,
    ) -> Outcome {
        let outcome = self.write(file, page, pages, buffer, None, super::WriteAllocation::PerPage, ends, write);
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let range = PageRange::new(page, page + pages).pages_holding(per_page);
        self.filemap_write_and_wait_range(file, range, "filemap_write_and_wait_range");
        outcome
    }

    /// `set_page_dirty_lock` on the first `count` pinned user pages of a direct read (those its
    /// bio covers; a read that stopped at EOF covers fewer), each under its page lock, for
    /// `caller` (`bio_set_pages_dirty` before submission, `bio_check_pages_dirty` after the
    /// DMA): a page already dirty is left as it is. A DAX page needs no dirtying: set_page_dirty
    /// of a DAX mapping does nothing (noop_set_page_dirty in ext4's and XFS's DAX
    /// address_space operations).
    fn set_pinned_pages_dirty(&mut self, pinned: &[Pin], count: usize, caller: &'static str) {
        let actor = self.actor;
        let pages: Vec<PageId> = pinned
            .iter()
            .take(count)
            .filter_map(|pin| match *pin {
                Pin::Page(page) => Some(page),
                Pin::Dax { .. } | Pin::ZeroPage => None,
            })
            .collect();
        for user_page in pages {
            let page_lock = self.lock_page("set_page_dirty_lock", user_page);
            self.cpu.step(|m| {
                if m.kernel.page(user_page).dirty {
                    m.emit(actor, caller, Change::Nothing);
                } else {
                    m.kernel.set_page_dirty(user_page);
                    m.emit(actor, "set_page_dirty_lock", Change::PageDirtied { page: user_page, i_size_of: None });
                }
            });
            self.unlock_page("set_page_dirty_lock", page_lock);
        }
    }

    /// Tests `EXT4_STATE_DIOREAD_LOCK` (`ext4_test_inode_state`), as an unlocked direct read
    /// does under its `i_dio_count` reference.
    fn dioread_lock_set(&mut self, file: Ino) -> bool {
        let actor = self.actor;
        self.cpu.step(|m| {
            let set = m.kernel.inode(file).dioread_lock;
            m.emit(actor, "ext4_test_inode_state", Change::DioreadLockTest { ino: file, set });
            set
        })
    }

    /// `ext4_inode_block_unlocked_dio` (`block`) or `ext4_inode_resume_unlocked_dio`, where
    /// the policy has the fence.
    pub fn fence_unlocked_dio(&mut self, file: Ino, block: bool) {
        if !self.policy.dio_read_fence {
            return;
        }
        let actor = self.actor;
        let function = if block { "ext4_inode_block_unlocked_dio" } else { "ext4_inode_resume_unlocked_dio" };
        self.cpu.step(|m| {
            m.kernel.inode_mut(file).dioread_lock = block;
            m.emit(actor, function, Change::DioreadLockSet { ino: file, set: block });
        });
    }

    /// `inode_dio_wait`: waits until no direct IO is in flight on `file`.
    pub fn inode_dio_wait(&mut self, file: Ino) {
        // Whether the function waits at all is the policy's: a placement of i_dio_count,
        // exclusive, from its start to its end.
        let frame = self.enter(Func::InodeDioWait, file, 0, PageRange::WHOLE);
        self.leave(frame);
    }
}
