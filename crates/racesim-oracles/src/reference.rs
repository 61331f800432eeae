//! The sequential reference model behind the end-state oracles (lost write, and stale data
//! that a later reader would see).
//!
//! Each file is a size and one token per page. The history of an execution is cut into
//! *items*, each with the interval of event indices in which it took effect:
//! - a store is atomic where it retired, and so is each page read(2) copied into a shared
//!   mapping (a store by the read, into the mapped file); each page a write(2) copied takes
//!   effect somewhere between its copy and the syscall's return (write(2) is not atomic as a
//!   whole against mmap stores, and a direct reader does not see the page cache); one that
//!   starts past EOF and grew the file also makes the gap up to its first page the file's
//!   (zeroes) somewhere in the syscall (`Effect::Grow`): a store past the old EOF from another
//!   thread that retired inside the write may come after that growth;
//! - each page a direct read's DMA put into a pinned mapping takes effect between the start of
//!   the read and its return, or, if truncation removed that page first, is a ghost that only
//!   readers of the frame see, placed before the removal and undone by it, or moved with the
//!   file's data by a collapse or an insert (`Effect::Ghost`); into the very page it read, the
//!   DMA copies back what the read returned, after it (`Effect::SelfCopy`);
//! - a direct write's blocks take effect between its start and its return (an asynchronous one's: its completion's
//!   invalidation of the page, or its bio's end); one that grew the file grows it by its
//!   `i_size` update (`Effect::Grow`), and its blocks past the old EOF take effect after that
//!   update (up to the return, or by it where its invalidation after the IO came first); until
//!   the end of that interval a reader of a page-cache page may still see what the page held
//!   before, where nothing wrote it since (`CacheLag`: the cache lags the disk);
//! - each page a load returned is atomic where it was loaded; each page read(2) returned took
//!   its value somewhere between the start of the syscall and the copy to the user (read(2)
//!   copies from a page it looked up earlier, which may have been truncated since);
//! - truncate, punch hole and collapse range take effect somewhere in their whole interval, as
//!   does a store or load that ended in SIGBUS (it must have been beyond EOF then).
//!
//! An end state is explained if some serial order of the items that respects real-time order
//! (an item that ended before another began comes first) and reproduces what each observed
//! yields it. Two questions are asked, the weaker first:
//! 1. *lost write*: is there an order in which every page the reference says holds written
//!    data holds exactly that after the final sync (reads ignored)?
//! 2. *stale data*: is there an order in which, in addition, every read saw what the reference
//!    held at its turn, and every page within EOF that a reader would now see (the cached page
//!    if there is one, else the disk) equals the reference?

use crate::OpInfo;
use racesim_kernel::event::{Change, Event, Outcome, ReadFrom};
use racesim_kernel::state::FILE_PAGES_MAX;
use racesim_kernel::types::{ActorId, Extent, Half, Ino, Lblk, PageId, PagePart, Token, WriteId, half_blocks};
use racesim_kernel::{Kernel, Names, Operation};

/// A file as the reference model sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefFile {
    pub size: Lblk,
    pub pages: Vec<Token>,
    /// A truncate has shrunk the size to this and not yet removed the pages past it: until it
    /// does, stores through PTEs it has not zapped yet may still land there.
    pub zap_pending_from: Option<Lblk>,
    /// The block an EOF lay half-way into when that truncate shrank the file below it: until
    /// the truncate removes it, a load through a PTE it has not zapped may still see that
    /// block's tail as the mapping left it past the old EOF.
    pub zap_pending_half_block: Option<Lblk>,
    /// Blocks per page (1 where a block is a page). Above 1, `size` and the indices of `pages`
    /// are blocks, and the blocks past `size` inside the page that straddles it are that
    /// page's tail: stores may land there and loads see them, and none of it is file data
    /// ("modifications to the remainder of the page past EOF are not written to the file").
    pub blocks_per_page: Lblk,
    /// EOF lies half-way into block `size - 1` (`Inode::eof_half`; blocks of any size):
    /// that block's tail half is past EOF. A store there writes only the head as file data, a
    /// load or read sees the head judged and the tail as the tail of a page past EOF (zeroes or
    /// this mapping's store), and the removal of a truncate to there zeroes the tail, so that a
    /// later extension exposes zeroes.
    pub half: bool,
    /// Whether an EOF inside a block is reachable on this file at all (`Inode::eof_half_reachable`,
    /// a fact of the scenario): only then does a write(2) that ends half-way into a block it
    /// grows the file to leave EOF there, as the kernel's `generic_write_end` does.
    pub half_reachable: bool,
    /// The write ids of the scenario's stores to this file, one bit each (bit `w` for write id
    /// `w` below 128): stores, and read(2)'s and direct reads' copies into a mapping of it. They
    /// are the tokens a load may find past EOF in the page that straddles it: a store there
    /// lands in the page and writeback may put it on disk with the page; nothing else may
    /// (truncate zeroes that part of the page and, through the page cache, of the block), so
    /// write(2)'s data there is stale data (869ae85dae64). Set by [`Judge::new`] from the
    /// scenario's operations; write ids from 128 on count as stores.
    ///
    /// [`Judge::new`]: crate::Judge::new
    pub store_writes: u128,
    /// The write ids of the direct writes placed so far that failed after writing this file's
    /// block an EOF lies half-way into whole (`Effect::LeftPastEof`): their data stays in that
    /// block's tail past EOF, on disk and in any page read from it, until something zeroes it
    /// (ext4's cleanup, a truncate up's zeroing). A load may find it there as it may find a
    /// store's; none of it is file data. Write ids from 128 on count as such writes.
    pub left_past_eof: u128,
    /// Direct-read DMAs into a pinned page that truncation had already removed from this file
    /// (see `Effect::Ghost`) that the serial order has placed and whose remover it has not:
    /// each with the token the page held before it.
    pub ghosts: Vec<Ghost>,
    /// The history items of the collapses and inserts of this file placed so far: a ghost
    /// whose remover is one of them, placed after it, is a write to the shifted file.
    pub moved_by: Vec<usize>,
    /// The pages of direct writes placed so far whose cached copies may still hold the data
    /// from before them (see [`CacheLag`]).
    pub cache_lags: Vec<CacheLag>,
}

/// A direct write's block, placed in the serial order, that a page-cache reader may not see
/// yet. The write's DMA goes to the disk; a page read into the cache after the write's
/// invalidation before the IO and before the DMA holds the old data, and keeps it until the
/// invalidation after the IO drops it (generic_file_direct_write, iomap_dio_complete,
/// kiocb_invalidate_post_direct_write): until then, a load or read(2) of that page legally
/// sees `before` while a direct read of the disk already sees `after`. Linux promises the page
/// cache coherence with a direct write only through that invalidation; where a policy has none
/// after the IO, nothing closes the window and no lag is granted (a page that outlives the
/// write is the stale data of `dio_write_buffered_read.toml`). Only while the file still holds
/// `after` there (nothing wrote the page since, in the serial order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CacheLag {
    lblk: Lblk,
    before: Token,
    after: Token,
    /// The write's invalidation of this page after the IO (where the page was cached then: its
    /// removal, or the -EBUSY that left it; else the start of that invalidation). A reader that
    /// began after it sees the write, or saw a page Linux itself warns about
    /// (`dio_warn_stale_pagecache`).
    until: usize,
}

/// A placed `Effect::Ghost`: the page `lblk` shows `token` (to readers of `frame` only) until
/// the item `until` restores `before`, unless something overwrote it meanwhile, or (`moves`)
/// leaves it to that item to move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ghost {
    lblk: Lblk,
    token: Token,
    before: Token,
    frame: PageId,
    until: usize,
    moves: bool,
}

impl RefFile {
    /// The persistent contents of `ino` (what the block map points at on disk).
    pub fn from_kernel(kernel: &Kernel, ino: Ino) -> Self {
        let size = kernel.inode(ino).i_size;
        let pages = (0..FILE_PAGES_MAX)
            .map(|l| if l < size { kernel.persistent_content(ino, l) } else { Token::Zero })
            .collect();
        RefFile {
            size,
            pages,
            zap_pending_from: None,
            zap_pending_half_block: None,
            blocks_per_page: kernel.inode(ino).blocks_per_page,
            half: kernel.inode(ino).eof_half,
            half_reachable: kernel.inode(ino).eof_half_reachable,
            store_writes: 0,
            left_past_eof: 0,
            ghosts: Vec::new(),
            moved_by: Vec::new(),
            cache_lags: Vec::new(),
        }
    }

    /// Whether `write` is one of this file's stores ([`RefFile::store_writes`]).
    fn stored_by(&self, write: WriteId) -> bool {
        write >= 128 || self.store_writes & (1 << write) != 0
    }

    /// Whether a load may find `write`'s data past EOF in the page that straddles it: a store's
    /// ([`RefFile::store_writes`]), or a failed direct write's left there
    /// ([`RefFile::left_past_eof`]).
    fn may_show_past_eof(&self, write: WriteId) -> bool {
        self.stored_by(write) || self.left_past_eof & (1 << write.min(127)) != 0
    }

    /// Whether block `lblk`, past EOF, is in the tail of the page that straddles EOF.
    fn in_eof_page_tail(&self, lblk: Lblk) -> bool {
        self.blocks_per_page > 1
            && lblk >= self.size
            && lblk < self.size.div_ceil(self.blocks_per_page) * self.blocks_per_page
    }

    /// What a reader would see now: the uptodate cached page (or buffer) where there is one,
    /// else the disk.
    pub fn visible(kernel: &Kernel, ino: Ino) -> Self {
        let mut file = RefFile::from_kernel(kernel, ino);
        let per_page = file.blocks_per_page;
        for lblk in 0..file.size.min(FILE_PAGES_MAX) {
            if let Some(page) = kernel.inode(ino).cache[(lblk / per_page) as usize] {
                let p = kernel.page(page);
                // Blocks smaller than a page: per buffer, since a write(2) into a page that is
                // not uptodate makes the blocks it copied uptodate, and a reader's
                // block_read_full_page leaves those and reads the others from the disk.
                let uptodate = if per_page > 1 { p.bh[(lblk % per_page) as usize].uptodate } else { p.uptodate };
                if uptodate && p.attached {
                    file.pages[lblk as usize] =
                        if per_page > 1 { p.bh[(lblk % per_page) as usize].content } else { p.content };
                }
            }
        }
        file
    }
}

/// What one item does to, or expects of, the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    /// A page of data landed (store retired, write(2) copied a page, or `part` of one).
    Wrote {
        ino: Ino,
        lblk: Lblk,
        token: Token,
        part: PagePart,
        /// A direct write's DMA to the disk, which a cached copy of the page may not show
        /// before this event, the write's invalidation of that page after the IO ([`CacheLag`];
        /// `usize::MAX` while `history` has not met it; `None`: not a direct write's DMA, or no
        /// invalidation after the IO came, so nothing closes the window in time).
        cache_lag: Option<usize>,
    },
    /// A load or read(2) returned `token` for the page, copied from page-cache page `frame`
    /// (`None`: from a block, a hole or the zero page).
    Saw {
        ino: Ino,
        lblk: Lblk,
        token: Token,
        frame: Option<PageId>,
    },
    /// A direct read's DMA put `token` into page-cache page `frame` (file page `lblk`) after
    /// truncation had removed that page (`Change::DmaIntoPage` with `attached: false`). Linux
    /// keeps the frame alive (the pin, and the reference of a read(2) that looked it up before
    /// the removal), so a reader holding it copies the DMA's data: serially, the DMA took effect
    /// before the removal and the reader read in between. Nobody else sees it, and it does not
    /// survive a removal that discards the page's data: item `until` (the remover's item for
    /// that page) restores what the page held before, and the search places this item before
    /// that one. A collapse or an insert does not discard the page's data, it moves it
    /// (`moves`): placed before it, the DMA's data moves with the rest, so where Linux dropped
    /// the frame the data is lost (`lost_write`), as it is when the DMA lands before the
    /// removal; placed after it (the read then ran after the shift: nobody can tell when the
    /// pin was taken), it is a write at `lblk` of the shifted file, impossible past its EOF
    /// (the read would have failed).
    Ghost {
        ino: Ino,
        lblk: Lblk,
        token: Token,
        frame: PageId,
        until: usize,
        moves: bool,
    },
    /// A direct read's DMA into a mapping of the very page it read (`dio_read` into its own
    /// mapping, at the same index): a write of `token`, the data the read returned, placed after
    /// that read (its `Saw`). The kernel names the DMA's data `dma` (tokens name writers), but
    /// the bytes are the ones the read returned, so wherever the end state shows `dma` it shows
    /// `token` ([`canonical`]), and a page that the DMA refilled with what it held stays what it
    /// was: a copy of a page onto itself is the identity. Into a frame that truncation or an
    /// invalidation had removed first (`removed`), the copy changes nothing of the file: the
    /// bytes any reader of that frame sees are the ones the read returned.
    SelfCopy {
        ino: Ino,
        lblk: Lblk,
        token: Token,
        dma: Token,
        removed: bool,
    },
    /// Insert range: pages from `page` move up by `pages`, leaving zeroes.
    Insert {
        ino: Ino,
        page: Lblk,
        pages: Lblk,
        refused: bool,
    },
    /// fallocate without FALLOC_FL_KEEP_SIZE: the file grows to `size` pages if it is shorter
    /// (the new pages read as zeroes: unwritten extents).
    Grow {
        ino: Ino,
        size: Lblk,
    },
    /// A direct write that failed wrote `token` whole to block `lblk`, which an EOF lies
    /// half-way into, and left EOF there (no size update after an error): the block's tail past
    /// EOF holds the write's data until something zeroes it, and a load may see it there
    /// ([`RefFile::left_past_eof`]). Its head is file data, an `Effect::Wrote` of its own.
    LeftPastEof {
        ino: Ino,
        token: Token,
    },
    /// A load or store got SIGBUS: the page was beyond EOF at its turn.
    Sigbus {
        ino: Ino,
        lblk: Lblk,
    },
    /// Truncate's new size (`half`: EOF half-way into block `size - 1`): visible from its
    /// `i_size_write` on when it shrinks the file; a truncate up's growth may come anywhere from
    /// then (or from its zeroing's check of the sizes, where the policy zeroes the old EOF block
    /// first) to its return.
    TruncateSize {
        ino: Ino,
        size: Lblk,
        half: bool,
    },
    /// Truncate's removal of the data past the new size, somewhere in the operation.
    Truncate {
        ino: Ino,
        size: Lblk,
        half: bool,
    },
    /// Punch hole (nothing from EOF on: `ext4_punch_hole` stops at the end of the page that
    /// contains `i_size`, one page past it where `i_size` is page-aligned) or
    /// zero range (which extends `i_size` to its end, without FALLOC_FL_KEEP_SIZE).
    Punch {
        ino: Ino,
        page: Lblk,
        pages: Lblk,
        zero_range: bool,
    },
    Collapse {
        ino: Ino,
        page: Lblk,
        pages: Lblk,
        refused: bool,
    },
}

/// One item of the history, with the interval of event indices in which it took effect.
#[derive(Clone, Debug)]
pub struct Item {
    effect: Effect,
    begin: usize,
    end: usize,
    actor: ActorId,
    op: Operation,
    /// The item may take effect or not: the data a direct write that failed wrote to a block.
    /// Such a write returns the error, not a count (fs/direct-io.c's `dio_complete`, iomap's
    /// `dio->error`), and promises nothing of what it wrote; a serial order may place it, or
    /// leave it out.
    optional: bool,
}

/// Cuts the event log into items (see the module docs). `initial` is the files before the first
/// event (their sizes tell a truncate up from a truncate down).
pub fn history(initial: &[RefFile], ops: &[OpInfo], log: &[Event]) -> Vec<Item> {
    // Each file's i_size as the last i_size write left it.
    // In half blocks, so that a truncate between two sizes inside one block is told apart.
    let mut sizes: Vec<Lblk> = initial.iter().map(|f| half_blocks(f.size, f.half)).collect();
    // Per actor: the operation in progress and where it began.
    let mut current: Vec<Option<(Operation, usize)>> = Vec::new();
    // Where each operation (by write id) began, for a completion that comes after it returned.
    let mut began: Vec<(WriteId, usize)> = Vec::new();
    // The actors whose direct write in progress has extended the file, with the size before.
    let mut dio_grew: Vec<(ActorId, Lblk)> = Vec::new();
    // The actors whose direct write in progress has completed its IO (`dio_bio_end_io`), and
    // those of them that have run the invalidation after it.
    let mut dio_io_done: Vec<ActorId> = Vec::new();
    let mut dio_invalidated_after_io: Vec<ActorId> = Vec::new();
    // The actors in the middle of a direct write's invalidation after the IO (synchronous, or an
    // asynchronous one's completion), with where that write began: the pass ends at the actor's
    // first event of another function, and with it every cache-lag window it left open.
    let mut invalidating: Vec<(ActorId, usize)> = Vec::new();
    // The actors whose direct write in progress, failed, ran `ext4_truncate_failed_write`: the
    // file, the i_size it truncated to (in blocks, rounded up), and where it read that size.
    let mut failed_truncated: Vec<(ActorId, Ino, Lblk, usize)> = Vec::new();
    // The actors whose truncate in progress checked the sizes for its zeroing of the old EOF
    // block before growing the file (`truncate_up_zero_eof`), and where.
    let mut truncate_zero_checked: Vec<(ActorId, usize)> = Vec::new();
    // The pages each actor's direct write in progress mapped to unwritten extents.
    let mut unwritten: Vec<(ActorId, Ino, Lblk)> = Vec::new();
    // The actors whose write(2) in progress started past the EOF it grew the file from.
    let mut extending: Vec<ActorId> = Vec::new();
    // The actors whose fallocate in progress grew the file, with the size (in blocks) it set.
    let mut fallocate_grew: Vec<(ActorId, Lblk)> = Vec::new();
    // Blocks per page of each file.
    let per_page = |ino: Ino| initial.get(ino as usize).map_or(1, |f| f.blocks_per_page.max(1));
    // The actors whose asynchronous direct write has returned, with where it began: the model
    // runs its completion as the actor's next steps, until its next operation begins.
    let mut completing: Vec<(ActorId, usize)> = Vec::new();
    // Each page-cache page that truncation or invalidation removed: where, by which actor, and
    // where that actor's operation began.
    let mut removals: Vec<(PageId, usize, ActorId, usize)> = Vec::new();
    // The ghost DMAs (their token), with the actor and event that removed their page and where
    // the remover's operation began.
    let mut ghosts: Vec<(Token, ActorId, usize, usize)> = Vec::new();
    let mut items = Vec::new();
    for (at, event) in log.iter().enumerate() {
        let actor = event.actor as usize;
        if current.len() <= actor && actor != racesim_kernel::SYNC_ACTOR as usize {
            current.resize(actor + 1, None);
        }
        let running = current.get(actor).copied().flatten();
        let point = |effect, op| Item { optional: false, effect, begin: at, end: at, actor: event.actor, op };
        // A direct write's invalidation after the IO has passed every page of its range once its
        // actor moves on: a page it did not remove itself (not cached then, or removed by someone
        // else meanwhile, by reclaim say) holds the new data for any reader from here on (see
        // `CacheLag`).
        let in_pass = |f: &str| f == "invalidate_inode_pages2_range" || f == "invalidate_complete_page2";
        if let Some(i) = invalidating.iter().position(|&(a, _)| a == event.actor)
            && !in_pass(event.function)
        {
            let (_, begin) = invalidating.swap_remove(i);
            close_cache_lags(&mut items, event.actor, |i| i.begin >= begin, false, at);
        }
        if let Some((Operation::DioWrite { .. }, begin)) = running {
            if event.function == "dio_bio_end_io" && !dio_io_done.contains(&event.actor) {
                dio_io_done.push(event.actor);
            }
            if event.function == "invalidate_inode_pages2_range"
                && dio_io_done.contains(&event.actor)
                && !dio_invalidated_after_io.contains(&event.actor)
            {
                dio_invalidated_after_io.push(event.actor);
                invalidating.push((event.actor, begin));
            }
        }
        // The same for an asynchronous write's completion, after the syscall returned.
        if event.function == "invalidate_inode_pages2_range"
            && running.is_none()
            && !invalidating.iter().any(|&(a, _)| a == event.actor)
            && let Some(&(_, begin)) = completing.iter().find(|&&(a, _)| a == event.actor)
        {
            invalidating.push((event.actor, begin));
        }
        // ext4_truncate_failed_write after a failed direct write: its check of i_size (see
        // `OpEnd`, which drops the write's data past that size).
        if let (Some((Operation::DioWrite { .. }, _)), Change::ISizeCheck { ino, i_size, .. }) = (running, event.change)
            && event.function == "ext4_handle_inode_extension"
        {
            failed_truncated.push((event.actor, ino, i_size, at));
        }
        if let (Some((Operation::Truncate { .. }, _)), Change::ISizeCheck { .. }) = (running, event.change)
            && matches!(
                event.function,
                "ext4_block_truncate_page" | "ext4_block_zero_eof" | "xfs_zero_eof" | "iomap_zero_range"
            )
        {
            truncate_zero_checked.push((event.actor, at));
        }
        if matches!(event.change, Change::OpBegin { .. } | Change::OpEnd { .. }) {
            truncate_zero_checked.retain(|&(a, _)| a != event.actor);
            dio_io_done.retain(|&a| a != event.actor);
            dio_invalidated_after_io.retain(|&a| a != event.actor);
        }
        match event.change {
            Change::OpBegin { op } => {
                completing.retain(|&(a, _)| a != event.actor);
                if let Some(info) = ops.iter().find(|o| o.actor == event.actor && o.op_index == op) {
                    current[actor] = Some((info.op, at));
                    began.push((info.write, at));
                }
            }
            Change::OpEnd { outcome, .. } => {
                let Some((op, begin)) = running else { continue };
                current[actor] = None;
                if matches!(op, Operation::DioWrite { asynchronous: true, .. }) {
                    completing.push((event.actor, begin));
                }
                // The pages this write(2) copied took effect by now at the latest.
                for item in items.iter_mut().filter(|i: &&mut Item| i.actor == event.actor && i.end == usize::MAX) {
                    item.end = at;
                }
                // A synchronous direct write's data is on disk at its bio's completion, but a
                // page cached (or mapped) before it keeps the old data until the write
                // invalidates its range after the IO (generic_file_direct_write,
                // iomap_dio_complete): a load or read(2) in between legally sees the old data,
                // and the write may take effect anywhere up to its return. So may the pages of
                // one that grew the file past the old EOF, but only after its size update (see
                // ISizeSet below; their end was left open and is this return, above).
                // So is an asynchronous one that the syscall waited for (it extends the file,
                // waits for its unaligned IO, or failed part-way: `Bio::extends_file` and the
                // rest): its bio completed before this return. One that returned at submission
                // has no block item yet; its completion's invalidation ends them (below).
                let old_eof = dio_grew.iter().find(|&&(a, _)| a == event.actor).map(|&(_, size)| size);
                dio_grew.retain(|&(a, _)| a != event.actor);
                if matches!(op, Operation::DioWrite { .. }) {
                    for item in items.iter_mut().filter(|i: &&mut Item| {
                        i.actor == event.actor
                            && i.begin == begin
                            && matches!(i.op, Operation::DioWrite { .. })
                            && matches!(i.effect, Effect::Wrote { lblk, .. } if old_eof.is_none_or(|eof| lblk < eof))
                    }) {
                        item.end = item.end.max(at);
                    }
                }
                let interval = |effect| Item { optional: false, effect, begin, end: at, actor: event.actor, op };
                // A direct write that returned an error, not a count: the three passes below treat
                // its data.
                let failed_direct_write =
                    matches!(op, Operation::DioWrite { .. }) && !matches!(outcome, Outcome::Pages(_) | Outcome::Ok);
                // A direct write that failed part-way (ENOSPC) wrote the blocks it had mapped,
                // but its end_io converts no unwritten extent when the IO failed: data written
                // under an unwritten extent reads as zeroes, as if never written (ops/dio.rs,
                // `Bio::failed`). Its data in blocks that were written already stays.
                let mine = |&(a, _, _): &(ActorId, Ino, Lblk)| a == event.actor;
                if failed_direct_write {
                    let hidden: Vec<(Ino, Lblk)> =
                        unwritten.iter().filter(|u| mine(u)).map(|&(_, ino, lblk)| (ino, lblk)).collect();
                    // This write's items: those past the old EOF of one that grew the file begin
                    // at its size update, after `begin` (an earlier asynchronous write's
                    // completion items begin where that write began, before).
                    items.retain(|i: &Item| {
                        !(i.actor == event.actor
                            && i.begin >= begin
                            && matches!(i.op, Operation::DioWrite { .. })
                            && matches!(i.effect, Effect::Wrote { ino, lblk, .. } if hidden.contains(&(ino, lblk))))
                    });
                }
                unwritten.retain(|u| !mine(u));
                // A failed direct write that ran ext4_truncate_failed_write: what it wrote past
                // the i_size it truncated to was freed with its blocks (`dio_write_past_eof =
                // "truncate_failed_write"`).
                let truncated: Vec<(Ino, Lblk, usize)> = failed_truncated
                    .iter()
                    .filter(|&&(a, ..)| a == event.actor)
                    .map(|&(_, ino, size, check)| (ino, size, check))
                    .collect();
                failed_truncated.retain(|&(a, ..)| a != event.actor);
                if matches!(op, Operation::DioWrite { .. }) && !truncated.is_empty() {
                    items.retain(|i: &Item| {
                        !(i.actor == event.actor
                            && i.begin >= begin
                            && matches!(i.op, Operation::DioWrite { .. })
                            && matches!(i.effect, Effect::Wrote { ino, lblk, .. }
                                if truncated.iter().any(|&(t_ino, size, _)| t_ino == ino && lblk >= size)))
                    });
                }
                // A failed direct write through the block EOF lies half-way into wrote that
                // block whole but does not grow the file (no size update after an error), so
                // EOF stays inside it: its data there is the block's head as file data, and the
                // tail past EOF holds it until ext4's cleanup zeroes that tail
                // (truncate_inode_pages' partial page, ext4_truncate's ext4_block_truncate_page:
                // a write of zeroes to the tail, from the cleanup's size check on).
                if let Operation::DioWrite { file, .. } = op
                    && failed_direct_write
                    && let Some(&halves) = sizes.get(file as usize)
                    && halves % 2 == 1
                {
                    let eof_block = halves / 2;
                    let mut left = Vec::new();
                    for item in items.iter_mut().filter(|i: &&mut Item| {
                        i.actor == event.actor && i.begin >= begin && matches!(i.op, Operation::DioWrite { .. })
                    }) {
                        if let Effect::Wrote { ino, lblk, token, ref mut part, .. } = item.effect
                            && ino == file
                            && lblk == eof_block
                            && *part == PagePart::Whole
                        {
                            *part = PagePart::Head;
                            left.push(Item { effect: Effect::LeftPastEof { ino, token }, ..item.clone() });
                        }
                    }
                    items.extend(left);
                    for &(ino, size, check) in &truncated {
                        if ino == file && size == eof_block + 1 {
                            let effect = Effect::Wrote {
                                ino,
                                lblk: eof_block,
                                token: Token::Zero,
                                part: PagePart::Tail,
                                cache_lag: None,
                            };
                            items.push(Item { optional: false, effect, begin: check, end: at, actor: event.actor, op });
                        }
                    }
                }
                // What a failed direct write wrote, it promises nothing of: each block may hold
                // its data or what it held before, whatever a serial order says.
                if failed_direct_write {
                    for item in items.iter_mut().filter(|i| {
                        i.actor == event.actor
                            && i.begin >= begin
                            && matches!(i.op, Operation::DioWrite { .. })
                            && matches!(i.effect, Effect::Wrote { token: Token::Data { .. }, .. })
                    }) {
                        item.optional = true;
                    }
                }
                let fallocate_size = fallocate_grew.iter().position(|&(a, _)| a == event.actor);
                let fallocate_size = fallocate_size.map(|i| fallocate_grew.swap_remove(i));
                // A write(2) that started past EOF and grew the file to its first block at least:
                // the gap from the old EOF to that block is the file's, as zeroes, from some point
                // of the syscall on, not only from its first copy (linearizability: nothing in
                // the write orders that growth against a store from another thread it
                // overlapped). A store past the old EOF that retired inside the write, before
                // the kernel moved i_size, may be ordered after it; a store that ended before
                // the write began may not (Foster's stale post-EOF data).
                let extended = extending.contains(&event.actor);
                extending.retain(|&a| a != event.actor);
                if let (true, Operation::Write { file, page, .. }, Outcome::Pages(1..)) = (extended, op, outcome)
                    && sizes.get(file as usize).is_some_and(|&halves| halves >= 2 * page)
                {
                    items.push(interval(Effect::Grow { ino: file, size: page }));
                }
                match (op, outcome) {
                    (Operation::Truncate { file, size, half }, _) => {
                        // The removal follows the size change (ext4_setattr's order): start its
                        // interval where the size item's starts (a truncate up's may start at
                        // its zeroing's check, before i_size_write).
                        let size_point = items
                            .iter()
                            .rev()
                            .find(|i| i.actor == event.actor && matches!(i.effect, Effect::TruncateSize { .. }))
                            .map_or(begin, |i| i.begin.max(begin));
                        let effect = Effect::Truncate { ino: file, size, half };
                        items.push(Item { optional: false, effect, begin: size_point, end: at, actor: event.actor, op })
                    }
                    (Operation::PunchHole { file, page, pages }, _) => {
                        items.push(interval(Effect::Punch { ino: file, page, pages, zero_range: false }))
                    }
                    // MADV_REMOVE punches unless the range was not mapped or is mlocked (EINVAL).
                    (Operation::MadviseRemove { file, page, pages }, outcome) if outcome != Outcome::Einval => {
                        items.push(interval(Effect::Punch { ino: file, page, pages, zero_range: false }))
                    }
                    (Operation::ZeroRange { file, page, pages }, _) => {
                        items.push(interval(Effect::Punch { ino: file, page, pages, zero_range: true }))
                    }
                    (Operation::InsertRange { file, page, pages }, outcome) => {
                        let refused = outcome == Outcome::Einval;
                        items.push(interval(Effect::Insert { ino: file, page, pages, refused }))
                    }
                    (Operation::CollapseRange { file, page, pages }, outcome) => {
                        let refused = outcome == Outcome::Einval;
                        items.push(interval(Effect::Collapse { ino: file, page, pages, refused }))
                    }
                    (Operation::Fallocate { file, page, pages, keep_size: false }, Outcome::Ok) => {
                        items.push(interval(Effect::Grow { ino: file, size: page + pages }))
                    }
                    // ENOSPC part-way: ext4 keeps the size it grew over the blocks it allocated.
                    (Operation::Fallocate { file, keep_size: false, .. }, _) => {
                        if let Some((_, size)) = fallocate_size {
                            items.push(interval(Effect::Grow { ino: file, size }))
                        }
                    }
                    (Operation::Store { file, page } | Operation::Load { file, page }, Outcome::Sigbus) => {
                        items.push(interval(Effect::Sigbus { ino: file, lblk: page }))
                    }
                    _ => {}
                }
            }
            // XFS zeroes the new EOF block's tail before truncate_setsize writes i_size
            // (block_truncate_page, iomap_truncate_page): until the size changes that tail is
            // still inside EOF, and a load through a PTE made before sees the zeroes there. A
            // write of zeroes to the tail, here; ext4 zeroes after the size change, which the
            // truncate's removal covers.
            Change::TailZeroed { ino, lblk, .. } => {
                if let Some((op @ Operation::Truncate { file, half: true, .. }, _)) = running
                    && file == ino
                    && sizes.get(ino as usize).is_some_and(|&halves| halves > 2 * lblk + 1)
                {
                    let effect = Effect::Wrote { ino, lblk, token: Token::Zero, part: PagePart::Tail, cache_lag: None };
                    items.push(point(effect, op));
                }
            }
            Change::BlockMapped { ino, lblk, extent: Extent::Unwritten(_), .. } => {
                if let Some((Operation::DioWrite { .. }, _)) = running {
                    unwritten.push((event.actor, ino, lblk));
                }
            }
            Change::ISizeSet { ino, i_size, half } => {
                let halves = half_blocks(i_size, half);
                let old_halves = sizes.get(ino as usize).copied();
                // The size before, in blocks (rounded up).
                let old = old_halves.map(|h| h.div_ceil(2));
                if let Some(size) = sizes.get_mut(ino as usize) {
                    *size = halves;
                }
                // A write(2) growing the file from an EOF before its first block (in half blocks:
                // Linux's "pos > old_size", with the size it read under i_rwsem, which every
                // other size change takes too).
                if let Some((Operation::Fallocate { file, keep_size: false, .. }, _)) = running
                    && file == ino
                {
                    fallocate_grew.retain(|&(a, _)| a != event.actor);
                    fallocate_grew.push((event.actor, i_size));
                }
                if let Some((Operation::Write { file, page, .. }, _)) = running
                    && file == ino
                    && old_halves.is_some_and(|old| 2 * page > old)
                    && !extending.contains(&event.actor)
                {
                    extending.push(event.actor);
                }
                match running {
                    // XFS's zeroing of the old EOF block before a truncate up, a fallocate or a
                    // zero range grows the file (xfs_setattr_size): a write through the page
                    // cache whose write_end moves EOF to the end of what it zeroed, under the page
                    // lock, as an extending write's zeroing does (below). A point: a store into
                    // the tail after it is file data.
                    Some((
                        op @ (Operation::Truncate { .. } | Operation::Fallocate { .. } | Operation::ZeroRange { .. }),
                        _,
                    )) if matches!(event.function, "xfs_zero_eof" | "iomap_zero_range") && !half => {
                        items.push(point(Effect::Grow { ino, size: i_size }, op))
                    }
                    Some((op @ Operation::Truncate { .. }, _)) if old_halves.is_some_and(|old| halves > old) => {
                        // A truncate up has extended the file when it returns, not at its
                        // i_size_write: until pagecache_isize_extended has write-protected and
                        // (with the 2024 zeroing) cleared the page that straddled the old EOF,
                        // a store through a PTE made writable before lands in that page's tail
                        // and may be zeroed with it. Nothing orders such a store after the size
                        // change, so the change may come anywhere up to the return. Where the
                        // policy zeroes the old EOF block's tail before i_size_write (ext4 6.13
                        // and 7.1's ext4_setattr, XFS), the change may also come from that
                        // zeroing's check of the sizes on: a store that lands in the tail after
                        // the zeroing becomes file data, which the order truncate, store
                        // explains, as for write(2) (`Effect::Grow`); a store that retired
                        // before the zeroing is Foster's post-EOF data.
                        let from = truncate_zero_checked
                            .iter()
                            .rev()
                            .find(|&&(a, _)| a == event.actor)
                            .map_or(at, |&(_, check)| check);
                        let effect = Effect::TruncateSize { ino, size: i_size, half };
                        items.push(Item {
                            optional: false,
                            effect,
                            begin: from,
                            end: usize::MAX,
                            actor: event.actor,
                            op,
                        });
                    }
                    Some((op @ Operation::Truncate { .. }, _)) => {
                        items.push(point(Effect::TruncateSize { ino, size: i_size, half }, op))
                    }
                    // A write(2) that starts past the block holding an EOF inside it, under XFS:
                    // the zeroing before its copy writes that block's tail through the page
                    // cache, whose write_end moves EOF to the block's end there and then (a size
                    // short of the write's first block: the write's own growth comes with its
                    // data). A store into the tail after it is file data.
                    Some((op @ Operation::Write { page, .. }, _)) if i_size <= page && !half => {
                        items.push(point(Effect::Grow { ino, size: i_size }, op))
                    }
                    // The same zeroing in XFS's checks of a direct write that starts past that
                    // block (xfs_file_aio_write_checks): not the direct write's own growth,
                    // which comes with its data after the IO (below).
                    Some((op @ Operation::DioWrite { page, .. }, _))
                        if matches!(event.function, "xfs_zero_eof" | "iomap_zero_range") && i_size <= page && !half =>
                    {
                        items.push(point(Effect::Grow { ino, size: i_size }, op))
                    }
                    // An extending direct write's data is on disk at its bio's completion, but
                    // the file grows only here, after inode_dio_end (ext4_handle_inode_extension;
                    // XFS's xfs_dio_write_end_io): until then a fault or read past the old EOF
                    // sees the old size (SIGBUS, a short read). Its pages inside the old EOF
                    // take effect anywhere up to this point (and, at OpEnd, up to the return).
                    // The size it set is the file's from here on (a `Grow` over the syscall so
                    // far), but where the invalidation after the IO is still to come, its pages
                    // past the old EOF may come after it, up to the return: a fault or read(2)
                    // that read such a page in while it was still past EOF (zeroes:
                    // `ext4_mpage_readpages`, `block_read_full_page`), after the write's
                    // invalidation before the IO, maps it once the size has grown
                    // (filemap_fault's recheck under the page lock) and shows those zeroes
                    // until the invalidation after the IO. Those pages begin after the `Grow`,
                    // so no order puts the data first and a truncate between it and the growth
                    // (a size regrown without its data). Until December 2026 they took effect
                    // by this point, and such a load was a false `stale_data`. Where the
                    // invalidation ran before the size update (`dio_write_post_invalidate =
                    // "at_completion"` with the size updated after completion: iomap in 5.5 to
                    // 5.12, before 5899593f51e6), a zero page read in after it stays past the
                    // return, a real race (xfstests generic/418): the pages keep ending here.
                    Some((op @ Operation::DioWrite { .. }, begin)) => {
                        if !dio_grew.iter().any(|&(a, _)| a == event.actor) {
                            dio_grew.push((event.actor, old.unwrap_or(0)));
                        }
                        let old_eof = old.unwrap_or(0);
                        // (Not the size update of a direct write that fell back to a buffered
                        // write: its pages are copies, which end at the return anyway.)
                        let split = event.function == "ext4_handle_inode_extension"
                            && !dio_invalidated_after_io.contains(&event.actor);
                        for item in items.iter_mut().filter(|i| {
                            i.actor == event.actor
                                && i.begin == begin
                                && matches!(i.op, Operation::DioWrite { .. })
                                && matches!(i.effect, Effect::Wrote { .. })
                        }) {
                            if split && matches!(item.effect, Effect::Wrote { lblk, .. } if lblk >= old_eof) {
                                item.begin = at + 1;
                                item.end = usize::MAX;
                            } else {
                                item.end = item.end.max(at);
                            }
                        }
                        if split {
                            let effect = Effect::Grow { ino, size: i_size };
                            items.push(Item { optional: false, effect, begin, end: at, actor: event.actor, op });
                        }
                    }
                    _ => {}
                }
            }
            Change::StoreRetired { ino, index, token } => {
                // A store, or read(2)'s copy into a shared mapping (a store by the read, of
                // the mapped file's page), lands where it retired.
                if let Some((op @ (Operation::Store { .. } | Operation::Read { .. }), _)) = running {
                    items.push(point(
                        Effect::Wrote { ino, lblk: index, token, part: PagePart::Whole, cache_lag: None },
                        op,
                    ));
                }
            }
            Change::PageCopied { token: token @ Token::Data { ino, lblk, .. }, part, .. } => {
                // A copied page is in the page cache, visible to buffered readers, but reaches
                // the disk (and direct readers) only later: it takes effect somewhere between
                // the copy and the syscall's return (end filled in at OpEnd).
                // A direct write that fell back to a buffered write copies the same way.
                if let Some((op @ (Operation::Write { .. } | Operation::DioWrite { .. }), _)) = running {
                    items.push(Item {
                        optional: false,
                        effect: Effect::Wrote { ino, lblk, token, part, cache_lag: None },
                        begin: at,
                        end: usize::MAX,
                        actor: event.actor,
                        op,
                    });
                }
            }
            Change::DiskWrite {
                token: token @ Token::Data { ino, lblk, write }, ino: at_ino, lblk: at_lblk, ..
            } => {
                // DAX write(2) copies straight to the block (stores log StoreRetired instead), as
                // does a direct read's DMA into a pinned DAX page (its `dio_bio_end_io`).
                // A direct write takes effect somewhere between the start of its syscall and
                // its bio's completion (for an asynchronous one, after the syscall returned):
                // a write(2) of the same page that runs entirely inside that interval may be
                // ordered after it, and then its data is what stays.
                if let Some((op @ Operation::Write { .. }, _)) = running {
                    items.push(point(Effect::Wrote { ino, lblk, token, part: PagePart::Whole, cache_lag: None }, op));
                } else if event.function == "dio_bio_end_io"
                    // A direct write whose DMA read a DAX page that changed hands sends another
                    // file's data: no operation's write of this page, nothing to explain it.
                    && (ino, lblk) == (at_ino, at_lblk)
                    && let Some(info) = ops.iter().find(|o| o.write == write)
                {
                    let begin = began.iter().rev().find(|(w, _)| *w == write).map_or(at, |&(_, b)| b);
                    let cache_lag = matches!(info.op, Operation::DioWrite { .. }).then_some(usize::MAX);
                    let effect = Effect::Wrote { ino, lblk, token, part: PagePart::Whole, cache_lag };
                    items.push(Item { optional: false, effect, begin, end: at, actor: info.actor, op: info.op });
                }
            }
            // A direct write of part of a block: its data lands in the half it covers, like a
            // whole block's (above); the zeroes of the rest of a new or unwritten block
            // (dio_zero_block) are what that block reads as already, no operation's data.
            Change::PartialDiskWrite {
                token: token @ Token::Data { ino, lblk, write },
                ino: at_ino,
                lblk: at_lblk,
                part,
                ..
            } => {
                if event.function == "dio_bio_end_io"
                    && (ino, lblk) == (at_ino, at_lblk)
                    && let Some(info) = ops.iter().find(|o| o.write == write)
                {
                    let begin = began.iter().rev().find(|(w, _)| *w == write).map_or(at, |&(_, b)| b);
                    let cache_lag = matches!(info.op, Operation::DioWrite { .. }).then_some(usize::MAX);
                    let effect = Effect::Wrote { ino, lblk, token, part, cache_lag };
                    items.push(Item { optional: false, effect, begin, end: at, actor: info.actor, op: info.op });
                }
            }
            Change::DmaIntoPage { attached, ino, index, token, page } => {
                // A direct read into a pinned mapping writes that file's page like a store that
                // lands somewhere between the start of the syscall (the pin was taken after it)
                // and its return (end filled in at OpEnd), as a write(2)'s copy does: until the
                // read returns, another reader may legally see the page's old data, from a page
                // read in again after a direct write's invalidation removed the one the DMA
                // filled before it was dirtied (`set_page_dirty_lock` comes after the DMA). Until
                // December 2026 the item ended at the DMA, a false `stale_data` (audit).
                let Some((op @ Operation::DioRead { .. }, begin)) = running else { continue };
                // Into the page it read: the read's `Saw` of that page is the item just before
                // (dio_bio_end_io logs the read, then the DMA). The copy comes after it in any
                // serial order, as it does in time: it begins here, after the read's end.
                let read = items.last().and_then(|i: &Item| match i.effect {
                    Effect::Saw { ino: i_ino, lblk, token, .. }
                        if i.actor == event.actor && i.begin == begin && (i_ino, lblk) == (ino, index) =>
                    {
                        Some(token)
                    }
                    _ => None,
                });
                if let Some(read) = read {
                    let effect = Effect::SelfCopy { ino, lblk: index, token: read, dma: token, removed: !attached };
                    items.push(Item { optional: false, effect, begin: at, end: usize::MAX, actor: event.actor, op });
                    continue;
                }
                if attached {
                    items.push(Item {
                        optional: false,
                        effect: Effect::Wrote { ino, lblk: index, token, part: PagePart::Whole, cache_lag: None },
                        begin,
                        end: usize::MAX,
                        actor: event.actor,
                        op,
                    });
                    continue;
                }
                // Truncation (truncate, punch, collapse, insert) or a direct write's
                // invalidation removed the page meanwhile: the pin keeps the frame, not its
                // place in the file. The DMA lands in the frame, and a read(2) that looked the
                // page up before the removal copies it (truncate_inode_page leaves the frame to
                // its references): serially, the DMA took effect before the removal, and only
                // readers of that frame can have seen it (`Effect::Ghost`; its remover is found
                // once the history is complete). A DMA into a page nobody removed is no
                // ghost: the page is still the file's, it is attached.
                if let Some(&(_, removed_at, remover, remover_began)) = removals.iter().rev().find(|r| r.0 == page) {
                    ghosts.push((token, remover, removed_at, remover_began));
                    let effect =
                        Effect::Ghost { ino, lblk: index, token, frame: page, until: usize::MAX, moves: false };
                    // Up to the read's return, as an attached DMA (end filled in at OpEnd).
                    items.push(Item { optional: false, effect, begin, end: usize::MAX, actor: event.actor, op });
                }
            }
            Change::PageDeleted { ino, index, page, .. } | Change::InvalidateBusy { ino, index, page } => {
                if matches!(event.change, Change::PageDeleted { .. }) {
                    removals.push((page, at, event.actor, running.map_or(at, |(_, b)| b)));
                }
                // A direct write's invalidation after the IO reaches a page cached before the
                // DMA: until here, a reader of that page may see the old data (see `CacheLag`).
                if let Some(&(_, begin)) = invalidating.iter().find(|&&(a, _)| a == event.actor) {
                    let per = per_page(ino);
                    let page_of = |i: &Item| matches!(i.effect, Effect::Wrote { ino: i_ino, lblk, .. } if i_ino == ino && lblk / per == index);
                    close_cache_lags(&mut items, event.actor, |i| i.begin >= begin && page_of(i), true, at);
                }
                // An asynchronous direct write returned at submission, and its data is on disk
                // at its bio's completion; a page cached (or mapped) before it keeps the old data
                // until the completion invalidates its range (dio_complete, iomap_dio_complete
                // since 4.14: `dio_write_post_invalidate = "at_completion"`), so a load or
                // read(2) in between legally sees the old data: the write's page may take
                // effect anywhere up to that invalidation. (Where the policy invalidates only
                // before the IO, nothing does after it: the page keeps the old data, which the
                // end state shows.)
                if event.function == "invalidate_complete_page2"
                    && let Some(&(_, begin)) = completing.iter().find(|&&(a, _)| a == event.actor)
                {
                    let per = per_page(ino);
                    for item in items.iter_mut().filter(|i: &&mut Item| {
                        i.actor == event.actor
                            && i.begin == begin
                            && matches!(i.op, Operation::DioWrite { .. })
                            && matches!(i.effect, Effect::Wrote { ino: i_ino, lblk, .. } if i_ino == ino && lblk / per == index)
                    }) {
                        item.end = item.end.max(at);
                    }
                }
            }
            Change::UserRead { ino, index, token, from, .. } => match running {
                // A load reads through its PTE in one step.
                Some((op @ Operation::Load { .. }, _)) => {
                    items.push(point(Effect::Saw { ino, lblk: index, token, frame: frame_of(from) }, op))
                }
                // read(2) copies from a page it looked up earlier and holds a reference to; the
                // page may have been truncated since, so what it returns may be from any time
                // between the start of the syscall and the copy.
                Some((op @ (Operation::Read { .. } | Operation::DioRead { .. }), begin)) => items.push(Item {
                    optional: false,
                    effect: Effect::Saw { ino, lblk: index, token, frame: frame_of(from) },
                    begin,
                    end: at,
                    actor: event.actor,
                    op,
                }),
                _ => {}
            },
            _ => {}
        }
    }
    // Each ghost precedes its remover's item for that page, and its window closes with that
    // item's (any order that places it earlier is allowed). The item is the one in progress at
    // the removal or, failing that, a later one of the same operation: a direct write whose
    // invalidation found a page dirtied since its flush falls back to a buffered write, whose
    // copy into that page comes after the invalidation removed the clean ones
    // (generic_file_direct_write's "return 0 to fall back to buffered write"; -ENOTBLK from
    // iomap). A remover without such an item (reclaim; a direct write that wrote nothing there)
    // leaves the DMA without effect, as Linux drops the frame: nothing legally discarded its
    // data.
    for (token, remover, removed_at, remover_began) in ghosts {
        let Some(ghost) = items.iter().position(|i| matches!(i.effect, Effect::Ghost { token: t, .. } if t == token))
        else {
            continue;
        };
        let Effect::Ghost { ino, lblk, .. } = items[ghost].effect else { unreachable!() };
        let per = per_page(ino);
        let removes = |effect: Effect| match effect {
            Effect::Truncate { ino: i, .. } | Effect::Collapse { ino: i, .. } | Effect::Insert { ino: i, .. } => {
                i == ino
            }
            Effect::Punch { ino: i, page, pages, .. } => i == ino && (page..page + pages).contains(&lblk),
            Effect::Wrote { ino: i, lblk: l, .. } => i == ino && l / per == lblk / per,
            _ => false,
        };
        // The remover's operation ends at its OpEnd; a removal outside any operation (an
        // asynchronous direct write's completion, after it returned) ends at the actor's next.
        let remover_ended = log[removed_at..]
            .iter()
            .position(|e| e.actor == remover && matches!(e.change, Change::OpEnd { .. } | Change::OpBegin { .. }))
            .map_or(usize::MAX, |p| removed_at + p);
        let found = items
            .iter()
            .position(|i| i.actor == remover && i.begin <= removed_at && removed_at <= i.end && removes(i.effect))
            .or_else(|| {
                items.iter().position(|i| {
                    i.actor == remover
                        && (remover_began..=remover_ended).contains(&i.begin)
                        && removed_at <= i.end
                        && removes(i.effect)
                })
            });
        match found {
            Some(until) => {
                let end = items[until].end;
                let moves = matches!(items[until].effect, Effect::Collapse { .. } | Effect::Insert { .. });
                let item = &mut items[ghost];
                item.effect = match item.effect {
                    Effect::Ghost { ino, lblk, token, frame, .. } => {
                        Effect::Ghost { ino, lblk, token, frame, until, moves }
                    }
                    effect => effect,
                };
                item.end = item.end.max(end);
            }
            None => {
                items.remove(ghost);
                for item in &mut items {
                    if let Effect::Ghost { until, .. } = &mut item.effect
                        && *until != usize::MAX
                        && *until > ghost
                    {
                        *until -= 1;
                    }
                }
            }
        }
    }
    // What a read returned, or a self-copy wrote, may be an earlier self-copy's data: name it
    // as the reference does (the latest copy first, as an earlier one may be what it copied).
    let copies = self_copies(&items);
    if !copies.is_empty() {
        for item in &mut items {
            if let Effect::Saw { token, .. } | Effect::SelfCopy { token, .. } = &mut item.effect {
                *token = copies.iter().rev().fold(*token, |t, &(dma, read)| t.replace(dma, read));
            }
        }
    }
    // A pass still running when the log ended leaves its windows open to the end.
    for (actor, begin) in invalidating {
        close_cache_lags(&mut items, actor, |i| i.begin >= begin, false, log.len());
    }
    // A direct write with no invalidation after its IO: nothing closes the window in time.
    for item in &mut items {
        if let Effect::Wrote { cache_lag: lag @ Some(usize::MAX), .. } = &mut item.effect {
            *lag = None;
        }
    }
    items
}

/// The self-copies of `history` in order (`Effect::SelfCopy`): the DMA's token, and the token
/// of what it copied.
fn self_copies(history: &[Item]) -> Vec<(Token, Token)> {
    history
        .iter()
        .filter_map(|i| match i.effect {
            Effect::SelfCopy { token, dma, .. } => Some((dma, token)),
            _ => None,
        })
        .collect()
}

/// `actual` with the data of each self-copy in `history` named by the token it copied, or
/// `None` if there is no self-copy.
fn canonical(history: &[Item], actual: &[RefFile]) -> Option<Vec<RefFile>> {
    let copies = self_copies(history);
    if copies.is_empty() {
        return None;
    }
    let mut files = actual.to_vec();
    for page in files.iter_mut().flat_map(|f| f.pages.iter_mut()) {
        // The copies' tokens are canonical already (`history`), so the order does not matter.
        *page = copies.iter().fold(*page, |t, &(dma, read)| t.replace(dma, read));
    }
    Some(files)
}

/// Sets the cache-lag window's end of the direct-write items of `actor` that `mine` picks: to
/// `at` where it is still open (`usize::MAX`), or (`reached`: the invalidation reached their
/// page) to `at` in any case.
fn close_cache_lags(items: &mut [Item], actor: ActorId, mine: impl Fn(&Item) -> bool, reached: bool, at: usize) {
    for item in items.iter_mut() {
        if item.actor != actor || !matches!(item.op, Operation::DioWrite { .. }) || !mine(item) {
            continue;
        }
        if let Effect::Wrote { cache_lag: Some(until), .. } = &mut item.effect
            && (*until == usize::MAX || reached)
        {
            *until = at;
        }
    }
}

/// The page-cache page a user read copied from, if it copied from one.
fn frame_of(from: ReadFrom) -> Option<PageId> {
    match from {
        ReadFrom::Page(page) => Some(page),
        ReadFrom::Block(_) | ReadFrom::Zeroes => None,
    }
}

/// Which question a search answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Reads ignored; only pages the reference says hold written data are compared.
    WrittenDataOnly,
    /// Reads must match, and every visible page within EOF must equal the reference.
    Everything,
}

/// Applies item `index` of the history to the reference files. Returns false if what it
/// observed is impossible at this point of the serial order.
fn apply(files: &mut [RefFile], item: &Item, index: usize, strictness: Strictness) -> bool {
    end_ghosts(files, index);
    apply_effect(files, item, index, strictness)
}

/// The ghosts the page removal of item `index` ends: the page holds again what it held before,
/// unless something overwrote it since. The removal happened whether or not the item takes
/// effect (an optional item placed without it: a failed direct write's invalidation removed the
/// page all the same).
fn end_ghosts(files: &mut [RefFile], index: usize) {
    for f in files.iter_mut().filter(|f| !f.ghosts.is_empty()) {
        let RefFile { pages, ghosts, .. } = f;
        // Newest first: ghosts stacked on one page (two DMAs into the same removed frame)
        // unwind in the reverse of their placing, each `before` being the one below it.
        for g in ghosts.iter().rev().filter(|g| g.until == index && !g.moves) {
            if pages[g.lblk as usize] == g.token {
                pages[g.lblk as usize] = g.before;
            }
        }
        ghosts.retain(|g| g.until != index);
    }
}

/// [`apply`] past the ghosts the item ends.
fn apply_effect(files: &mut [RefFile], item: &Item, index: usize, strictness: Strictness) -> bool {
    match item.effect {
        Effect::Ghost { ino, lblk, token, frame, until, moves } => {
            let f = &mut files[ino as usize];
            if moves && f.moved_by.contains(&until) {
                // After the collapse or insert: the read pinned page `lblk` of the shifted file.
                if lblk >= f.size {
                    return false;
                }
                f.pages[lblk as usize] = token;
                return true;
            }
            let before = f.pages[lblk as usize];
            f.ghosts.push(Ghost { lblk, token, before, frame, until, moves });
            f.pages[lblk as usize] = token;
            true
        }
        Effect::Wrote { ino, lblk, token, part, cache_lag } => {
            let f = &mut files[ino as usize];
            if let Some(until) = cache_lag {
                let before = f.pages[lblk as usize];
                let after = before.overlay(part, token);
                f.cache_lags.retain(|l| l.lblk != lblk);
                f.cache_lags.push(CacheLag { lblk, before, after, until });
            }
            // A store (or a read's copy or a direct read's DMA into a mapping) lands inside EOF, or past a size
            // that a truncate in progress has just shrunk, through a PTE it has not zapped yet
            // (the data then goes with the truncate's removal). write(2) may extend the file.
            if matches!(item.op, Operation::Store { .. } | Operation::Read { .. } | Operation::DioRead { .. }) {
                // A store into the tail of the page that straddles EOF writes no file data.
                if f.in_eof_page_tail(lblk) && f.zap_pending_from.is_none() {
                    return true;
                }
                let pending = f.zap_pending_from.is_some_and(|from| lblk >= from);
                if lblk >= f.size && !pending {
                    return false;
                }
                // Into the block that straddles an EOF inside it: the head is file data, the
                // tail past EOF is not (a truncate's pending removal zeroes it anyway).
                if f.half && lblk + 1 == f.size {
                    let part = match part {
                        PagePart::Whole | PagePart::Head => PagePart::Head,
                        PagePart::Tail => return true,
                    };
                    f.pages[lblk as usize] = f.pages[lblk as usize].overlay(part, token);
                    return true;
                }
            } else if !(token == Token::Zero && part == PagePart::Tail) {
                // write(2) ending half-way into a block it grows the file to leaves EOF there
                // (where an EOF inside a block is reachable); a write through the end of the
                // block that holds EOF moves it to the block's end. So does a failed direct
                // write's data in that block's head (above: it leaves EOF inside the block).
                // Zeroing a block's tail (truncate's, a failed write's cleanup) moves nothing.
                let ends_half = f.half_reachable
                    && part == PagePart::Head
                    && matches!(item.op, Operation::Write { .. } | Operation::DioWrite { .. });
                if lblk + 1 > f.size {
                    f.half = ends_half;
                } else if lblk + 1 == f.size && !ends_half {
                    f.half = false;
                }
                f.size = f.size.max(lblk + 1);
            }
            f.pages[lblk as usize] = f.pages[lblk as usize].overlay(part, token);
            true
        }
        Effect::SelfCopy { removed: true, .. } => true,
        Effect::SelfCopy { ino, lblk, token, .. } => {
            let copy =
                Item { effect: Effect::Wrote { ino, lblk, token, part: PagePart::Whole, cache_lag: None }, ..*item };
            apply_effect(files, &copy, index, strictness)
        }
        Effect::Saw { ino, lblk, token, frame } => {
            let f = &files[ino as usize];
            // A ghost shows only in its frame; a reader of another page (looked up after the
            // removal, or from the disk) sees what the file held.
            // Stacked ghosts of another frame are all stripped, down to what the file held.
            let mut held = f.pages[lblk as usize];
            while let Some(g) =
                f.ghosts.iter().rev().find(|g| g.lblk == lblk && g.token == held && frame != Some(g.frame))
            {
                held = g.before;
            }
            // Content only: whether an access past EOF could happen at all is the mapping and
            // SIGBUS business of other checks; a load through a PTE that truncate has not zapped
            // yet legally sees the old data after i_size shrank. The tail of the page that
            // straddles EOF holds what the mapping put there, zeroes or a store's data of
            // this file at that block (judged when EOF moves past it, not here).
            let tail_data = matches!(token, Token::Zero)
                || matches!(token, Token::Data { ino: i, lblk: l, write } if i == ino && l == lblk && f.may_show_past_eof(write));
            // The block that straddles an EOF inside it: the head is judged; the tail is the
            // tail of the page past EOF (zeroes, or what this mapping stored at that block).
            let [head, tail] = token.halves();
            // (read(2) and a direct read of it stop at EOF: its tail is the reader's zeroed buffer,
            // never the page's. A read that copied a tail saw a size past this EOF, which a serial order
            // puts before it, or the page's tail in a window Linux has: ext4 6.13-6.19 zeroes
            // the old EOF block after an extending write's i_size_write.)
            let is_read = matches!(item.op, Operation::Read { .. } | Operation::DioRead { .. });
            let eof_block = f.half
                && lblk + 1 == f.size
                && {
                    let tail = tail.whole();
                    head == held.halves()[0]
                        && (tail == Token::Zero
                            || (!is_read
                                && matches!(tail, Token::Data { ino: i, lblk: l, write } if i == ino && l == lblk && f.may_show_past_eof(write))))
                };
            // A load through a PTE that a shrinking truncate has not zapped yet, of the block an
            // EOF lay inside just before that truncate, now wholly past EOF: the head is the file
            // data the block held, and the tail still what the mapping put there past that EOF
            // (zeroes, or a store of this file to that block), as it was for the EOF block (until December
            // 2026 a false `stale_data` under every policy: truncate to 1.5 pages, a store to page
            // 1, truncate to 1 page, and a load of page 1 between its size change and its zap).
            let unzapped_old_eof_block = !is_read
                && f.zap_pending_half_block == Some(lblk)
                && f.zap_pending_from.is_some_and(|from| lblk >= from)
                && head == held.halves()[0]
                && {
                    let tail = tail.whole();
                    tail == Token::Zero
                        || matches!(tail, Token::Data { ino: i, lblk: l, write } if i == ino && l == lblk && f.may_show_past_eof(write))
                };
            // read(2) of a block that holds an EOF inside it copies the head only (a short read,
            // as a direct read returns only the head of the block its DMA read whole;
            // the tail of what it saw is the reader's own zeroed buffer, not file data). Its copy
            // samples i_size on its own (filemap_read reads it without i_rwsem or the page lock),
            // so the size it cut at need not be the one the serial order has there: where such
            // an EOF is reachable, a read whose tail is zeroes is judged on its head.
            let short_read = f.half_reachable && is_read && tail == Half::Zero && head == held.halves()[0];
            // A cached page may still hold what a direct write in progress replaced on disk.
            let lagging = frame.is_some()
                && f.cache_lags
                    .iter()
                    .any(|l| l.lblk == lblk && l.before == token && l.after == held && item.begin < l.until);
            strictness == Strictness::WrittenDataOnly
                || held == token
                || lagging
                || (f.in_eof_page_tail(lblk) && tail_data)
                || eof_block
                || unzapped_old_eof_block
                || short_read
        }
        Effect::LeftPastEof { ino, token } => {
            if let Token::Data { write, .. } = token {
                files[ino as usize].left_past_eof |= 1 << write.min(127);
            }
            true
        }
        Effect::Sigbus { ino, lblk } => lblk >= files[ino as usize].size,
        Effect::Grow { ino, size } => {
            let f = &mut files[ino as usize];
            if size >= f.size {
                f.half = false;
            }
            f.size = f.size.max(size.min(FILE_PAGES_MAX));
            true
        }
        Effect::TruncateSize { ino, size, half } => {
            let f = &mut files[ino as usize];
            if size < f.size {
                f.zap_pending_from = Some(size);
            }
            f.zap_pending_half_block = (size < f.size && f.half).then(|| f.size - 1);
            f.size = size;
            f.half = half;
            true
        }
        Effect::Truncate { ino, size, half } => {
            let f = &mut files[ino as usize];
            for lblk in size..FILE_PAGES_MAX {
                f.pages[lblk as usize] = Token::Zero;
            }
            // To half-way into a block: its tail is zeroes from now on (truncate's partial
            // page and ext4_block_truncate_page / iomap_truncate_page), whatever extends it.
            if half {
                let last = &mut f.pages[(size - 1) as usize];
                *last = last.overlay(PagePart::Tail, Token::Zero);
            }
            f.half = half;
            f.zap_pending_from = None;
            f.zap_pending_half_block = None;
            // truncate(2) is atomic towards everything that changes the size: ext4_setattr and
            // xfs_setattr_size hold i_rwsem from before i_size_write to after the blocks are
            // freed, and every write(2), direct write and fallocate that could extend the file
            // takes it too. The split into size and removal is for stores and reads through
            // PTEs the truncate has not zapped yet; a write that extended the file between the
            // two is undone here, so it explains nothing (dio_write_extends_truncate.toml).
            f.size = size;
            true
        }
        Effect::Punch { ino, page, pages, zero_range } => {
            let f = &mut files[ino as usize];
            let end = if zero_range {
                // A range that reaches the end of the block an EOF lies inside moves EOF to its
                // end ("offset + len > i_size_read(inode)" sets the new size).
                if page + pages >= f.size {
                    f.half = false;
                }
                f.size = f.size.max(page + pages);
                page + pages
            } else if page < f.size {
                // Past EOF, to the end of the page that contains i_size (with an EOF inside a
                // block, that block's page), as the kernel's punch does.
                let per = f.blocks_per_page.max(1);
                racesim_kernel::ops::invalidate::punch_end(page + pages, f.size, f.half, per)
            } else {
                page
            };
            for lblk in page..end.min(FILE_PAGES_MAX) {
                f.pages[lblk as usize] = Token::Zero;
            }
            true
        }
        Effect::Insert { ino, page, pages, refused } => {
            let f = &mut files[ino as usize];
            if refused != (page >= f.size || f.size + pages > FILE_PAGES_MAX) {
                return false;
            }
            f.moved_by.push(index);
            if !refused {
                for _ in 0..pages {
                    f.pages.insert(page as usize, Token::Zero);
                }
                f.pages.truncate(FILE_PAGES_MAX as usize);
                f.size += pages;
            }
            true
        }
        Effect::Collapse { ino, page, pages, refused } => {
            let f = &mut files[ino as usize];
            if refused != (page + pages >= f.size) {
                return false;
            }
            f.moved_by.push(index);
            if !refused {
                f.pages.drain(page as usize..(page + pages) as usize);
                f.pages.resize(FILE_PAGES_MAX as usize, Token::Zero);
                f.size -= pages;
            }
            true
        }
    }
}

/// Where an end state differs from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Difference {
    ino: Ino,
    /// The page that differs; `None` when only the sizes do.
    lblk: Option<Lblk>,
    expected: Token,
    got: Token,
    /// `i_size` of the reference and of the end state, in pages.
    size_expected: Lblk,
    size_got: Lblk,
}

/// The first place where `actual` differs from the reference in a way `strictness` cares
/// about: a page, or (when every page agrees) the size.
fn first_mismatch(reference: &[RefFile], actual: &[RefFile], strictness: Strictness) -> Option<Difference> {
    for (ino, (r, a)) in reference.iter().zip(actual).enumerate() {
        let ino = ino as Ino;
        let pages = match strictness {
            Strictness::WrittenDataOnly => r.size,
            Strictness::Everything => r.size.max(a.size),
        };
        let difference =
            |lblk, expected, got| Difference { ino, lblk, expected, got, size_expected: r.size, size_got: a.size };
        for lblk in 0..pages.min(FILE_PAGES_MAX) {
            let expected = if lblk < r.size { r.pages[lblk as usize] } else { Token::Zero };
            let got = if lblk < a.size { a.pages[lblk as usize] } else { Token::Zero };
            // Per half, so that a block written in part is judged on the part written. The tail of
            // a block that straddles an EOF inside it is past EOF in both: not file data.
            let halves = if r.half && a.half && r.size == a.size && lblk + 1 == r.size { 1 } else { 2 };
            let differs = expected.halves().into_iter().zip(got.halves()).take(halves).any(|(expected, got)| {
                (strictness == Strictness::Everything || matches!(expected, Half::Data { .. })) && got != expected
            });
            if differs {
                return Some(difference(Some(lblk), expected, got));
            }
        }
        if strictness == Strictness::Everything && (r.size, r.half) != (a.size, a.half) {
            return Some(difference(None, Token::Zero, Token::Zero));
        }
    }
    None
}

/// Why no serial order explains the end state, described for the order in which items took
/// effect (the most natural one).
#[derive(Debug)]
pub struct Mismatch {
    pub actors: Vec<ActorId>,
    /// Where the end state differs from the reference along the natural order; `None` when that
    /// order explains it but breaks a rule the search keeps (a DMA into a page truncation
    /// removed, placed after its remover).
    difference: Option<Difference>,
    writer: Option<(ActorId, Operation)>,
    /// A read in the history that no order explains, if that is what failed.
    read: Option<(ActorId, Ino, Lblk, Token)>,
    /// An outcome no serial order reproduces (a store that got SIGBUS inside EOF, say).
    outcome: Option<(ActorId, Operation)>,
}

/// A token in a sentence of a mismatch.
fn describe_token(token: Token, names: &dyn Names) -> String {
    match token {
        Token::Zero => "zeroes".to_string(),
        Token::Data { ino, lblk, write: 0 } => format!("the initial data of {}:{lblk}", names.file(ino)),
        Token::Data { ino, lblk, write } => format!("the data op#{write} wrote at {}:{lblk}", names.file(ino)),
        Token::Leftover { pblk } => format!("leftovers of block {pblk}"),
        Token::Halves { head, tail } => format!(
            "{} in the first half and {} in the second",
            describe_token(head.whole(), names),
            describe_token(tail.whole(), names)
        ),
    }
}

impl Mismatch {
    pub fn describe(&self, names: &dyn Names) -> String {
        let token = |t: Token| describe_token(t, names);
        if let Some((actor, ino, lblk, seen)) = self.read {
            return format!(
                "{} read {}:{lblk} and saw {}, which no serial order of the operations puts there at that point",
                names.actor(actor),
                names.file(ino),
                token(seen)
            );
        }
        let Some(Difference { ino, lblk, expected, got, size_expected, size_got }) = self.difference else {
            return "no serial order of the operations explains the end state: the order of their ends does, but \
                    it places a direct read's DMA into a page that a truncation or invalidation removed after that \
                    removal, which discarded it"
                .to_string();
        };
        if let (Some((actor, op)), Token::Zero, Token::Zero) = (self.outcome, expected, got) {
            return format!(
                "no serial order of the operations reproduces what {} of {} returned",
                op.name(),
                names.actor(actor)
            );
        }
        let who = match self.writer {
            Some((actor, op)) => format!(" ({} by {})", op.name(), names.actor(actor)),
            None => String::new(),
        };
        let file = names.file(ino);
        match lblk {
            // Only the size differs: say so, rather than compare zeroes with zeroes.
            None => format!(
                "after sync, {file} is {size_got} page(s) long where the reference is {size_expected} page(s) long; \
                 no serial order of the operations explains that size"
            ),
            Some(lblk) if lblk >= size_got => format!(
                "after sync, {file} is {size_got} page(s) long, so {file}:{lblk} lies beyond EOF, where the reference \
                 holds {}{who} in a file of {size_expected} page(s); no serial order of the operations explains it",
                token(expected)
            ),
            Some(lblk) => format!(
                "after sync, {file}:{lblk} holds {} where the reference holds {}{who}; no serial order of the \
                 operations explains it",
                token(got),
                token(expected)
            ),
        }
    }
}

/// What a search of serial orders concluded about an end state.
#[derive(Debug)]
pub enum Judgement {
    /// Some serial order of the operations explains it.
    Explained,
    /// No serial order does: the search covered every order.
    Unexplained(Box<Mismatch>),
    /// The search reached its node bound without an answer: neither verdict is shown.
    Undecided,
}

/// Lost write: no serial order leaves the written data where it belongs. `nodes` grows by the
/// configurations the decision visited (its cost, which `racesim bench` reports).
pub fn check_lost_write(initial: &[RefFile], history: &[Item], persistent: &[RefFile], nodes: &mut u64) -> Judgement {
    check(initial, history, persistent, Strictness::WrittenDataOnly, SEARCH_NODES_MAX, nodes)
}

/// Stale data: no serial order explains every read and what a reader would see now.
pub fn check_stale_data(initial: &[RefFile], history: &[Item], visible: &[RefFile], nodes: &mut u64) -> Judgement {
    check(initial, history, visible, Strictness::Everything, SEARCH_NODES_MAX, nodes)
}

fn check(
    initial: &[RefFile],
    history: &[Item],
    actual: &[RefFile],
    strictness: Strictness,
    nodes_max: u64,
    nodes: &mut u64,
) -> Judgement {
    let canonical_actual = canonical(history, actual);
    let actual = canonical_actual.as_deref().unwrap_or(actual);
    let mut order: Vec<usize> = (0..history.len()).collect();
    order.sort_by_key(|&i| (history[i].end, history[i].begin));
    // Almost every end state is explained by the natural order (by end, then begin), which
    // respects real time and is the first leaf the search would reach. Trying it in place
    // first spares the search's per-node copies on the common path; when it fails, the search
    // decides as before, so the verdict does not depend on this shortcut.
    // It costs one node per item placed.
    let mut files = initial.to_vec();
    let placed = order.iter().take_while(|&&i| apply(&mut files, &history[i], i, strictness)).count();
    *nodes += placed as u64;
    // The natural order may place a ghost after its remover, which the search does not allow.
    let ghosts = history.iter().any(|i| matches!(i.effect, Effect::Ghost { .. }));
    if !ghosts && placed == order.len() && first_mismatch(&files, actual, strictness).is_none() {
        return Judgement::Explained;
    }
    match search(&order, history, initial, actual, strictness, nodes_max, nodes) {
        Search::Found => Judgement::Explained,
        Search::Exhausted => Judgement::Unexplained(Box::new(explain(initial, history, actual, &order, strictness))),
        Search::GaveUp => Judgement::Undecided,
    }
}

/// Bound on the nodes one search visits. With memoisation a history of hundreds of items is
/// decided in far fewer; reaching the bound makes the end state undecided, never a verdict.
const SEARCH_NODES_MAX: u64 = 2_000_000;

/// Bound on the failed configurations the search remembers, counted in files (each holds a
/// page table of `FILE_PAGES_MAX` tokens). Past it the search goes on without remembering more:
/// slower, never wrong.
const MEMO_FILES_MAX: usize = 400_000;

/// Describes the failure along the natural order.
fn explain(
    initial: &[RefFile],
    history: &[Item],
    actual: &[RefFile],
    order: &[usize],
    strictness: Strictness,
) -> Mismatch {
    let mut files = initial.to_vec();
    let mut actors: Vec<ActorId> = history.iter().map(|h| h.actor).collect();
    actors.sort_unstable();
    actors.dedup();
    let mut read = None;
    let mut outcome = None;
    for &i in order {
        let item = &history[i];
        if !apply(&mut files, item, i, strictness) {
            match item.effect {
                Effect::Saw { ino, lblk, token, .. } if read.is_none() => read = Some((item.actor, ino, lblk, token)),
                Effect::Saw { .. } => {}
                _ if outcome.is_none() => outcome = Some((item.actor, item.op)),
                _ => {}
            }
        }
    }
    let difference = first_mismatch(&files, actual, strictness);
    // The operation whose data is missing: of the half that differs, where a block was written
    // in part.
    let missing = difference.and_then(|d| {
        d.expected.halves().into_iter().zip(d.got.halves()).find_map(|(e, g)| match e {
            Half::Data { write, .. } if write > 0 && e != g => Some(write),
            _ => None,
        })
    });
    let writer = missing.and_then(|write| {
        history
            .iter()
            .find(|h| matches!(h.effect, Effect::Wrote { token: Token::Data { write: w, .. }, .. } if w == write))
            .map(|h| (h.actor, h.op))
    });
    Mismatch { actors, difference, writer, read, outcome }
}

/// How a search of serial orders ended.
enum Search {
    Found,
    /// Every serial order consistent with real time was tried.
    Exhausted,
    GaveUp,
}

/// One placed item on the search's stack: the reference files after it, and where in the
/// candidates (`order`, an optional item twice) the next one to place after it is looked for.
struct Frame {
    files: Vec<RefFile>,
    next: usize,
    placed: Option<usize>,
}

/// A depth-first search for a serial order of `history` that respects real time and yields
/// `actual`: Wing and Gong's linearizability search, with Lowe's memoisation of failed
/// configurations (the set of items placed and the reference files they produced, as in
/// Porcupine and Knossos). Items that commute reach the same configuration in either order, so
/// the second order is cut at once. Iterative, so that a history of any length cannot overflow
/// the (small) stack of the task that runs it.
fn search(
    order: &[usize],
    history: &[Item],
    initial: &[RefFile],
    actual: &[RefFile],
    strictness: Strictness,
    nodes_max: u64,
    nodes_used: &mut u64,
) -> Search {
    let n = history.len();
    // Real-time order: an item can be placed once every item that ended before it began is.
    let mut waiting = vec![0u32; n];
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, item) in history.iter().enumerate() {
        for (j, other) in history.iter().enumerate() {
            if i != j && other.end < item.begin {
                waiting[i] += 1;
                successors[j].push(i);
            }
        }
        // A ghost comes before its remover's item (real time never orders them the other way:
        // the removal came after the DMA's syscall began), unless the remover moves the data.
        if let Effect::Ghost { until, moves: false, .. } = item.effect
            && until < n
            && history[until].end >= item.begin
        {
            waiting[until] += 1;
            successors[i].push(until);
        }
    }
    // The candidates in order, each an item and whether it takes effect: an optional item
    // (`Item::optional`) is tried with its effect, then without.
    let choices: Vec<(usize, bool)> = order
        .iter()
        .flat_map(|&i| std::iter::once((i, true)).chain(history[i].optional.then_some((i, false))))
        .collect();
    let mut placed = vec![0u64; n.div_ceil(64)];
    let mut failed: std::collections::BTreeSet<(Vec<u64>, Vec<RefFile>)> = std::collections::BTreeSet::new();
    let mut memo_files = 0;
    let mut stack = vec![Frame { files: initial.to_vec(), next: 0, placed: None }];
    let first_node = *nodes_used;
    'search: loop {
        let depth = stack.len() - 1;
        let Some(top) = stack.last_mut() else { break };
        if depth == n {
            if first_mismatch(&top.files, actual, strictness).is_none() {
                return Search::Found;
            }
        } else {
            while top.next < choices.len() {
                let (candidate, takes_effect) = choices[top.next];
                top.next += 1;
                if placed[candidate / 64] & (1 << (candidate % 64)) != 0 || waiting[candidate] > 0 {
                    continue;
                }
                let mut files = top.files.clone();
                if takes_effect {
                    if !apply(&mut files, &history[candidate], candidate, strictness) {
                        continue;
                    }
                } else {
                    end_ghosts(&mut files, candidate);
                }
                placed[candidate / 64] |= 1 << (candidate % 64);
                let key = (placed.clone(), files);
                if failed.contains(&key) {
                    placed[candidate / 64] &= !(1 << (candidate % 64));
                    continue;
                }
                *nodes_used += 1;
                if *nodes_used - first_node > nodes_max {
                    return Search::GaveUp;
                }
                for &s in &successors[candidate] {
                    waiting[s] -= 1;
                }
                stack.push(Frame { files: key.1, next: 0, placed: Some(candidate) });
                continue 'search;
            }
        }
        // Nothing more to try from here: remember the configuration as failed, and step back.
        let frame = stack.pop().expect("the loop runs on a non-empty stack");
        let Some(item) = frame.placed else { break };
        if memo_files + frame.files.len() <= MEMO_FILES_MAX {
            memo_files += frame.files.len();
            failed.insert((placed.clone(), frame.files));
        }
        placed[item / 64] &= !(1 << (item % 64));
        for &s in &successors[item] {
            waiting[s] += 1;
        }
    }
    Search::Exhausted
}

#[cfg(test)]
mod tests {
    use super::*;
    use racesim_kernel::event::NumericNames;

    fn file(size: Lblk, data: &[Token]) -> RefFile {
        let mut pages = vec![Token::Zero; FILE_PAGES_MAX as usize];
        pages[..data.len()].copy_from_slice(data);
        RefFile {
            size,
            pages,
            zap_pending_from: None,
            zap_pending_half_block: None,
            blocks_per_page: 1,
            half: false,
            half_reachable: false,
            store_writes: 0,
            left_past_eof: 0,
            ghosts: Vec::new(),
            moved_by: Vec::new(),
            cache_lags: Vec::new(),
        }
    }

    /// Actor 1's load of page 1 of file 0 (its operation 0), seeing `token` from `from`.
    fn load_of_page_1(token: Token, from: ReadFrom) -> [Event; 3] {
        use racesim_kernel::event::{Outcome, ReadPath};
        let saw = Change::UserRead { ino: 0, index: 1, token, path: ReadPath::MmapLoad, from };
        [
            Event { actor: 1, function: "load", change: Change::OpBegin { op: 0 } },
            Event { actor: 1, function: "load", change: saw },
            Event { actor: 1, function: "load", change: Change::OpEnd { op: 0, outcome: Outcome::Ok } },
        ]
    }

    /// A direct write's (actor 0) removal of page 1 of file 0 in its invalidation after the IO.
    fn page_1_invalidated() -> Event {
        let removal = Change::PageDeleted { ino: 0, index: 1, page: 0, dirty_discarded: false };
        Event { actor: 0, function: "invalidate_complete_page2", change: removal }
    }

    /// A file that ends shorter than the reference, with zeroes everywhere: the message names
    /// the sizes, not "zeroes where the reference holds zeroes".
    #[test]
    fn a_size_difference_is_named_as_such() {
        let initial = [file(3, &[])];
        let actual = [file(1, &[])];
        let Judgement::Unexplained(mismatch) = check_stale_data(&initial, &[], &actual, &mut 0) else {
            panic!("sizes differ")
        };
        let message = mismatch.describe(&NumericNames);
        assert!(message.contains("ino0 is 1 page(s) long where the reference is 3 page(s) long"), "{message}");
    }

    /// Written data the end state lost because its file is shorter: the message says the page
    /// lies beyond EOF.
    #[test]
    fn data_lost_past_a_short_eof_names_the_eof() {
        let data = Token::Data { ino: 0, lblk: 2, write: 0 };
        let initial = [file(3, &[Token::Zero, Token::Zero, data])];
        let actual = [file(1, &[])];
        let Judgement::Unexplained(mismatch) = check_lost_write(&initial, &[], &actual, &mut 0) else {
            panic!("the data is gone")
        };
        let message = mismatch.describe(&NumericNames);
        assert!(message.contains("ino0 is 1 page(s) long, so ino0:2 lies beyond EOF"), "{message}");
    }

    /// An end state that only the natural order (by ends) explains, by placing a DMA into a
    /// removed page after its remover: the message says why that order does not count, rather
    /// than naming a difference (it named page 0 of the first file, with zeroes on both sides).
    #[test]
    fn a_ghost_placed_after_its_remover_is_named_as_such() {
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let ghost = Token::Data { ino: 0, lblk: 1, write: 2 };
        let initial = [file(2, &[d0, Token::Data { ino: 0, lblk: 1, write: 0 }])];
        let read = Operation::DioRead { file: 0, page: 0, pages: 1, buffer: racesim_kernel::UserBuffer::Anonymous };
        let effect = Effect::Ghost { ino: 0, lblk: 1, token: ghost, frame: 7, until: 1, moves: false };
        let history = [
            Item { optional: false, effect, begin: 0, end: 5, actor: 0, op: read },
            Item {
                optional: false,
                effect: Effect::Punch { ino: 0, page: 1, pages: 1, zero_range: false },
                begin: 1,
                end: 3,
                actor: 1,
                op: Operation::PunchHole { file: 0, page: 1, pages: 1 },
            },
        ];
        let kept = [file(2, &[d0, ghost])];
        let Judgement::Unexplained(mismatch) = check_stale_data(&initial, &history, &kept, &mut 0) else {
            panic!("the DMA's data survived the punch")
        };
        let message = mismatch.describe(&NumericNames);
        assert!(message.contains("places a direct read's DMA into a page that a truncation"), "{message}");
    }

    fn saw(lblk: Lblk, token: Token, begin: usize, end: usize) -> Item {
        Item {
            optional: false,
            effect: Effect::Saw { ino: 0, lblk, token, frame: None },
            begin,
            end,
            actor: 0,
            op: Operation::Read { file: 0, page: lblk, pages: 1, buffer: racesim_kernel::UserBuffer::Anonymous },
        }
    }

    fn wrote(lblk: Lblk, write: WriteId, begin: usize, end: usize) -> Item {
        Item {
            optional: false,
            effect: Effect::Wrote {
                ino: 0,
                lblk,
                token: Token::Data { ino: 0, lblk, write },
                part: PagePart::Whole,
                cache_lag: None,
            },
            begin,
            end,
            actor: 1,
            op: Operation::Store { file: 0, page: lblk },
        }
    }

    /// A direct read of f:0 into a mapping of f:0 puts back the bytes it read: the end state may
    /// show them under the DMA's token or under the one the read returned (the page removed
    /// before the read re-dirtied it), and both are the store's data. A read that returned what
    /// no order explains is still stale, though its copy then holds the same bytes.
    #[test]
    fn a_direct_read_into_its_own_page_is_the_identity() {
        use racesim_kernel::event::{Outcome, ReadPath};
        use racesim_kernel::{Event, UserBuffer};
        let store = Operation::Store { file: 0, page: 0 };
        let read = Operation::DioRead { file: 0, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: 0, page: 0 } };
        let ops = [
            crate::OpInfo { actor: 0, op_index: 0, op: store, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: read, write: 2 },
        ];
        let stored = Token::Data { ino: 0, lblk: 0, write: 1 };
        let dma = Token::Data { ino: 0, lblk: 0, write: 2 };
        let d1 = Token::Data { ino: 0, lblk: 1, write: 0 };
        let initial = [file(2, &[Token::Data { ino: 0, lblk: 0, write: 0 }, d1])];
        let ev = |actor, function, change| Event { actor, function, change };
        let log = |returned: Token| {
            let path = ReadPath::ReadSyscall;
            vec![
                ev(0, "store", Change::OpBegin { op: 0 }),
                ev(0, "store", Change::StoreRetired { ino: 0, index: 0, token: stored }),
                ev(0, "store", Change::OpEnd { op: 0, outcome: Outcome::Ok }),
                ev(1, "dio_read", Change::OpBegin { op: 0 }),
                ev(
                    1,
                    "dio_bio_end_io",
                    Change::UserRead { ino: 0, index: 0, token: returned, path, from: ReadFrom::Block(0) },
                ),
                ev(1, "dio_bio_end_io", Change::DmaIntoPage { attached: true, ino: 0, index: 0, page: 3, token: dma }),
                ev(1, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
            ]
        };
        let copied = history(&initial, &ops, &log(stored));
        for end in [stored, dma] {
            let end = [file(2, &[end, d1])];
            assert!(matches!(check_lost_write(&initial, &copied, &end, &mut 0), Judgement::Explained), "{end:?}");
            assert!(matches!(check_stale_data(&initial, &copied, &end, &mut 0), Judgement::Explained), "{end:?}");
        }
        // Another store's data is lost, whichever token names the copy.
        let lost = [file(2, &[Token::Data { ino: 0, lblk: 0, write: 0 }, d1])];
        assert!(matches!(check_lost_write(&initial, &copied, &lost, &mut 0), Judgement::Unexplained(_)));
        // The read returned a previous owner's data: its copy, placed after it, cannot make it
        // what the file held when it read.
        let leftover = Token::Leftover { pblk: 9 };
        let stale = history(&initial, &ops, &log(leftover));
        let end = [file(2, &[dma, d1])];
        assert!(matches!(check_stale_data(&initial, &stale, &end, &mut 0), Judgement::Unexplained(_)));
    }

    /// A search that reaches its node bound decides nothing: the end state is undecided, never
    /// a violation (a false alarm found by fuzzing: 16 pairs of truncates against a read).
    #[test]
    fn a_search_that_runs_out_of_nodes_is_undecided() {
        let initial = [file(2, &[])];
        // Two overlapping stores to page 0 and a read that saw the first: explained only with
        // the first store placed last but one; a bound of one node cannot get there.
        let history =
            [wrote(0, 1, 0, 10), wrote(0, 2, 0, 10), saw(0, Token::Data { ino: 0, lblk: 0, write: 1 }, 0, 10)];
        let data = Token::Data { ino: 0, lblk: 0, write: 2 };
        let actual = [file(2, &[data])];
        assert!(matches!(check(&initial, &history, &actual, Strictness::Everything, 1, &mut 0), Judgement::Undecided));
        assert!(matches!(
            check(&initial, &history, &actual, Strictness::Everything, SEARCH_NODES_MAX, &mut 0),
            Judgement::Explained
        ));
    }

    /// Hundreds of items are searched iteratively, within a small stack (the end-state check
    /// runs on a shuttle task's stack; a recursive search overflowed it past ~520 operations),
    /// and memoisation makes many commuting items cheap.
    #[test]
    fn a_long_history_is_decided_in_a_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                let initial = [file(64, &[])];
                let zero = Token::Zero;
                // 600 reads of zeroes, all overlapping, then a store that ends after them.
                let mut history: Vec<Item> = (0..600).map(|i| saw(i % 64, zero, 0, 1000)).collect();
                history.push(wrote(3, 7, 0, 2000));
                let actual = [file(64, &[zero, zero, zero, Token::Data { ino: 0, lblk: 3, write: 7 }])];
                matches!(check_stale_data(&initial, &history, &actual, &mut 0), Judgement::Explained)
            })
            .unwrap();
        assert!(handle.join().expect("no stack overflow"));
    }

    /// truncate(2) is atomic towards writes that extend the file: a direct write that extended
    /// it between truncate's size change and its removal of the pages past the new size (no
    /// kernel lets it: both hold i_rwsem) is undone by the removal, so a file that ends long but
    /// with the written page a hole is unexplained (dio_write_extends_truncate.toml); the file
    /// the two orders give is explained.
    #[test]
    fn truncate_undoes_a_size_extended_inside_it() {
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let d1 = Token::Data { ino: 0, lblk: 1, write: 0 };
        let written = Token::Data { ino: 0, lblk: 2, write: 2 };
        let truncate = Operation::Truncate { file: 0, size: 1, half: false };
        let dio = Operation::DioWrite {
            file: 0,
            page: 2,
            pages: 1,
            buffer: racesim_kernel::UserBuffer::Anonymous,
            asynchronous: false,
            ends: racesim_kernel::WriteEnds::default(),
        };
        let history = [
            Item {
                optional: false,
                effect: Effect::TruncateSize { ino: 0, size: 1, half: false },
                begin: 5,
                end: 5,
                actor: 0,
                op: truncate,
            },
            Item {
                optional: false,
                effect: Effect::Wrote { ino: 0, lblk: 2, token: written, part: PagePart::Whole, cache_lag: None },
                begin: 6,
                end: 9,
                actor: 1,
                op: dio,
            },
            Item {
                optional: false,
                effect: Effect::Truncate { ino: 0, size: 1, half: false },
                begin: 5,
                end: 20,
                actor: 0,
                op: truncate,
            },
        ];
        let initial = [file(2, &[d0, d1])];
        let long_with_a_hole = [file(3, &[d0])];
        assert!(matches!(check_stale_data(&initial, &history, &long_with_a_hole, &mut 0), Judgement::Unexplained(_)));
        for explained in [file(1, &[d0]), file(3, &[d0, Token::Zero, written])] {
            assert!(matches!(check_stale_data(&initial, &history, &[explained], &mut 0), Judgement::Explained));
        }
    }

    /// A store that lands in the tail of the page straddling EOF after a truncate up's
    /// `i_size_write` but before the truncate returns (pagecache_isize_extended has not yet
    /// write-protected and zeroed that tail) may be ordered before the size change: its data
    /// zeroed is explained. A store that began after the truncate returned lands in the file.
    /// Where the policy zeroes the old EOF block first, the growth may also come before a store
    /// that lands between that zeroing's check and `i_size_write`, not before an earlier one.
    #[test]
    fn a_truncate_up_extends_the_file_by_its_return() {
        use racesim_kernel::Event;
        use racesim_kernel::event::Outcome;
        let truncate = Operation::Truncate { file: 0, size: 4, half: false };
        let store = Operation::Store { file: 0, page: 3 };
        let ops = [
            crate::OpInfo { actor: 0, op_index: 0, op: truncate, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: store, write: 2 },
        ];
        let initial = [RefFile { blocks_per_page: 4, ..file(2, &[]) }];
        let stored = Token::Data { ino: 0, lblk: 3, write: 2 };
        let event = |actor, change| Event { actor, function: "f", change };
        let begin_t = event(0, Change::OpBegin { op: 0 });
        let size = event(0, Change::ISizeSet { ino: 0, i_size: 4, half: false });
        let end_t = event(0, Change::OpEnd { op: 0, outcome: Outcome::Ok });
        let begin_s = event(1, Change::OpBegin { op: 0 });
        let retire = event(1, Change::StoreRetired { ino: 0, index: 3, token: stored });
        let end_s = event(1, Change::OpEnd { op: 0, outcome: Outcome::Ok });
        let zeroed = [RefFile { blocks_per_page: 4, ..file(4, &[]) }];
        let inside = [begin_t, size, begin_s, retire, end_s, end_t];
        let history_inside = history(&initial, &ops, &inside);
        assert!(matches!(check_lost_write(&initial, &history_inside, &zeroed, &mut 0), Judgement::Explained));
        let after = [begin_t, size, end_t, begin_s, retire, end_s];
        let history_after = history(&initial, &ops, &after);
        assert!(matches!(check_lost_write(&initial, &history_after, &zeroed, &mut 0), Judgement::Unexplained(_)));
        // Where the policy zeroes the old EOF block before i_size_write (ext4 7.1's
        // ext4_block_zero_eof, which checks the sizes first), a store that retires after that
        // check and before i_size_write may come after the growth: its data in the file is
        // explained. One that retired before the check (or, where nothing is zeroed first,
        // before i_size_write) is Foster's post-EOF data, which the growth must not expose.
        let kept = [RefFile { blocks_per_page: 4, ..file(4, &[Token::Zero, Token::Zero, Token::Zero, stored]) }];
        let check = Event {
            actor: 0,
            function: "ext4_block_zero_eof",
            change: Change::ISizeCheck { ino: 0, index: 3, i_size: 2 },
        };
        let cases = [
            (vec![begin_t, check, begin_s, retire, end_s, size, end_t], true),
            (vec![begin_t, begin_s, retire, end_s, check, size, end_t], false),
            (vec![begin_t, begin_s, retire, end_s, size, end_t], false),
            (vec![begin_s, retire, end_s, begin_t, check, size, end_t], false),
        ];
        for (log, explained) in cases {
            let judgement = check_stale_data(&initial, &history(&initial, &ops, &log), &kept, &mut 0);
            assert_eq!(matches!(judgement, Judgement::Explained), explained, "{log:?}");
        }
    }

    /// A load that sees a page cached before a synchronous direct write, after the write's bio
    /// completed but before the write invalidated the page and returned, saw the old data
    /// legally (the order load-then-write explains it); the same load after the write returned
    /// is stale (audit C of December 2026). The same holds for an asynchronous write that the
    /// syscall waited for (its bio completed before the return: an extending or unaligned one).
    #[test]
    fn a_load_of_a_cached_page_during_a_direct_write_may_see_the_old_data() {
        for asynchronous in [false, true] {
            a_load_during_a_direct_write(asynchronous, false, ReadFrom::Page(0));
        }
    }

    /// The same load after a direct read that saw the new data on the disk and returned: no
    /// single order puts the load before the write and the direct read after it, yet Linux
    /// gives both (a page read into the cache after the write's invalidation before the IO
    /// holds the old data until the one after it; found by a randomised search of small
    /// scenarios, December 2026: a false stale_data under invalidate_lock and xfs-5.3). A cached
    /// page may lag the disk until the write's invalidation after the IO ([`CacheLag`]); not
    /// where no such invalidation comes (the page then outlives the write), nor for a load of
    /// the disk (a DAX mapping), nor after the invalidation.
    #[test]
    fn a_cached_page_may_lag_a_direct_write_that_a_direct_read_already_saw() {
        for asynchronous in [false, true] {
            a_load_during_a_direct_write(asynchronous, true, ReadFrom::Page(0));
            a_load_during_a_direct_write(asynchronous, true, ReadFrom::Block(1));
        }
    }

    fn a_load_during_a_direct_write(asynchronous: bool, after_a_direct_read: bool, load_from: ReadFrom) {
        use racesim_kernel::event::{Outcome, ReadPath};
        use racesim_kernel::{Event, UserBuffer, WriteEnds};
        let dio = Operation::DioWrite {
            file: 0,
            page: 1,
            pages: 1,
            buffer: UserBuffer::Anonymous,
            asynchronous,
            ends: WriteEnds::default(),
        };
        let load = Operation::Load { file: 0, page: 1 };
        let dio_read = Operation::DioRead { file: 0, page: 1, pages: 1, buffer: UserBuffer::Anonymous };
        let ops = [
            crate::OpInfo { actor: 0, op_index: 0, op: dio, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: load, write: 2 },
            crate::OpInfo { actor: 2, op_index: 0, op: dio_read, write: 3 },
        ];
        let old = Token::Data { ino: 0, lblk: 1, write: 0 };
        let written = Token::Data { ino: 0, lblk: 1, write: 1 };
        let ev = |actor, function, change| Event { actor, function, change };
        let data = ev(0, "dio_bio_end_io", Change::DiskWrite { pblk: 1, ino: 0, lblk: 1, token: written, page: None });
        let load_ops = load_of_page_1(old, load_from);
        let path = ReadPath::ReadSyscall;
        let saw_new = Change::UserRead { ino: 0, index: 1, token: written, path, from: ReadFrom::Block(1) };
        let direct_read = [
            ev(2, "dio_read", Change::OpBegin { op: 0 }),
            ev(2, "dio_bio_end_io", saw_new),
            ev(2, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
        ];
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let initial = [file(2, &[d0, old])];
        let end = [file(2, &[d0, written])];
        let dio_begin = ev(0, "dio_write", Change::OpBegin { op: 0 });
        let invalidation = ev(0, "invalidate_inode_pages2_range", Change::Nothing);
        let removal = page_1_invalidated();
        let pass_end = ev(0, "inode_dio_end", Change::Nothing);
        let dio_end = ev(0, "dio_write", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) });
        let from_cache = matches!(load_from, ReadFrom::Page(_));
        // Where the load falls: 0 before the write's invalidation after the IO, 1 inside that
        // pass before it removed the page (`cached`: the page was cached before the DMA; else
        // the pass found none, or another actor removed it, and its step there did nothing), 2
        // after the pass and before the return, 3 after the return; and whether that
        // invalidation runs at all.
        let cases = [(0, true, false), (0, false, false), (1, true, true), (1, true, false), (2, true, true)];
        for (load_at, invalidates, cached) in cases.into_iter().chain([(2, true, false), (3, true, false)]) {
            let explained = match load_at {
                3 => false,
                _ if !after_a_direct_read => true,
                0 | 1 => from_cache && invalidates,
                _ => false,
            };
            let mut log = vec![dio_begin, data];
            if after_a_direct_read {
                log.extend(direct_read);
            }
            let load_if = |log: &mut Vec<Event>, here| {
                if load_at == here {
                    log.extend(load_ops);
                }
            };
            load_if(&mut log, 0);
            log.extend(Some(invalidation).filter(|_| invalidates));
            load_if(&mut log, 1);
            log.extend(Some(removal).filter(|_| invalidates && cached));
            log.extend(Some(pass_end).filter(|_| invalidates));
            load_if(&mut log, 2);
            log.push(dio_end);
            load_if(&mut log, 3);
            let history = history(&initial, &ops, &log);
            let judgement = check_stale_data(&initial, &history, &end, &mut 0);
            assert_eq!(
                matches!(judgement, Judgement::Explained),
                explained,
                "asynchronous: {asynchronous}, after a direct read: {after_a_direct_read}, load from {load_from:?}, \
                 load at {load_at}, invalidation after the IO: {invalidates}"
            );
        }
    }

    /// A direct read's DMA into a page that truncation removed before it landed went nowhere
    /// the file can see; one into a page still in the cache writes it.
    #[test]
    fn a_dma_into_a_removed_page_has_no_effect() {
        use racesim_kernel::event::Outcome;
        use racesim_kernel::{Event, UserBuffer};
        let op = Operation::DioRead { file: 0, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: 1, page: 5 } };
        let ops = [crate::OpInfo { actor: 0, op_index: 0, op, write: 1 }];
        let token = Token::Data { ino: 1, lblk: 5, write: 1 };
        for attached in [false, true] {
            let log = [
                Event { actor: 0, function: "dio_read", change: Change::OpBegin { op: 0 } },
                Event {
                    actor: 0,
                    function: "dio_bio_end_io",
                    change: Change::DmaIntoPage { attached, ino: 1, index: 5, page: 0, token },
                },
                Event { actor: 0, function: "dio_read", change: Change::OpEnd { op: 0, outcome: Outcome::Pages(1) } },
            ];
            let writes = history(&[], &ops, &log).iter().filter(|i| matches!(i.effect, Effect::Wrote { .. })).count();
            assert_eq!(writes, usize::from(attached), "attached: {attached}");
        }
    }

    /// A log of a read(2) of ino0:`lblk` (actor 0), a direct read of ino1:0 into ino0's mapping
    /// at `lblk` (actor 1) and `remover` (actor 2), whose truncation removed the pinned page#7
    /// before the DMA landed in it. The reader copied what the DMA put there from page-cache page
    /// `frame`; it began first, or after the remover returned (`read_after_removal`).
    fn ghost_log(
        lblk: Lblk,
        remover: Operation,
        frame: PageId,
        read_after_removal: bool,
    ) -> (Vec<crate::OpInfo>, Vec<Event>) {
        use racesim_kernel::UserBuffer;
        use racesim_kernel::event::{Outcome, ReadPath};
        let read = Operation::Read { file: 0, page: lblk, pages: 1, buffer: UserBuffer::Anonymous };
        let dio = Operation::DioRead { file: 1, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: 0, page: lblk } };
        let ops = vec![
            crate::OpInfo { actor: 0, op_index: 0, op: read, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: dio, write: 2 },
            crate::OpInfo { actor: 2, op_index: 0, op: remover, write: 3 },
        ];
        let ghost = Token::Data { ino: 0, lblk, write: 2 };
        let ev = |actor, function, change| Event { actor, function, change };
        let read_begins = ev(0, "read", Change::OpBegin { op: 0 });
        let mut log = vec![
            ev(1, "dio_read", Change::OpBegin { op: 0 }),
            ev(2, "remover", Change::OpBegin { op: 0 }),
            ev(2, "truncate_inode_page", Change::PageDeleted { ino: 0, index: lblk, page: 7, dirty_discarded: false }),
            ev(
                1,
                "dio_bio_end_io",
                Change::DmaIntoPage { attached: false, ino: 0, index: lblk, page: 7, token: ghost },
            ),
            ev(1, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
            ev(2, "remover", Change::OpEnd { op: 0, outcome: Outcome::Ok }),
        ];
        if read_after_removal {
            log.push(read_begins);
        } else {
            log.insert(0, read_begins);
        }
        let path = ReadPath::ReadSyscall;
        log.push(ev(
            0,
            "copy_to_user",
            Change::UserRead { ino: 0, index: lblk, token: ghost, path, from: ReadFrom::Page(frame) },
        ));
        log.push(ev(0, "read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }));
        (ops, log)
    }

    fn two_ghost_log(remover: Operation, reader: bool) -> (Vec<crate::OpInfo>, Vec<Event>) {
        use racesim_kernel::UserBuffer;
        use racesim_kernel::event::{Outcome, ReadPath};
        let dio = Operation::DioRead { file: 1, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: 0, page: 2 } };
        let read = Operation::DioRead { file: 0, page: 2, pages: 1, buffer: UserBuffer::Anonymous };
        let ops = vec![
            crate::OpInfo { actor: 0, op_index: 0, op: dio, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: dio, write: 2 },
            crate::OpInfo { actor: 2, op_index: 0, op: remover, write: 3 },
            crate::OpInfo { actor: 3, op_index: 0, op: read, write: 4 },
        ];
        let t = |w| Token::Data { ino: 0, lblk: 2, write: w };
        let ev = |actor, function, change| Event { actor, function, change };
        let mut log = vec![
            ev(3, "dio_read", Change::OpBegin { op: 0 }),
            ev(0, "dio_read", Change::OpBegin { op: 0 }),
            ev(1, "dio_read", Change::OpBegin { op: 0 }),
            ev(2, "remover", Change::OpBegin { op: 0 }),
            ev(2, "truncate_inode_page", Change::PageDeleted { ino: 0, index: 2, page: 7, dirty_discarded: false }),
            ev(0, "dio_bio_end_io", Change::DmaIntoPage { attached: false, ino: 0, index: 2, page: 7, token: t(1) }),
            ev(1, "dio_bio_end_io", Change::DmaIntoPage { attached: false, ino: 0, index: 2, page: 7, token: t(2) }),
            ev(0, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
            ev(1, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
        ];
        if reader {
            log.push(ev(
                3,
                "dio_bio_end_io",
                Change::UserRead {
                    ino: 0,
                    index: 2,
                    token: t(1),
                    path: ReadPath::ReadSyscall,
                    from: ReadFrom::Block(9),
                },
            ));
        }
        log.push(ev(2, "remover", Change::OpEnd { op: 0, outcome: Outcome::Ok }));
        log.push(ev(3, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }));
        (ops, log)
    }

    /// Two DMAs into the same removed frame, collapse as remover: serially both land before the
    /// collapse, the second over the first, and move down with the file; Linux dropped the
    /// frame, so the file keeping what it held (shifted) is a lost write, and the second DMA's
    /// data at the shifted place is what a serial order gives.
    #[test]
    fn two_ghosts_of_one_frame_a_collapse_removed_move_with_the_file() {
        let collapse = Operation::CollapseRange { file: 0, page: 0, pages: 1 };
        let x = |lblk| Token::Data { ino: 0, lblk, write: 0 };
        let initial = [file(3, &[x(0), x(1), x(2)]), file(1, &[])];
        let dropped = [file(2, &[x(1), x(2)]), file(1, &[])];
        let (ops, log) = two_ghost_log(collapse, false);
        let history = history(&initial, &ops, &log);
        let lw = check_lost_write(&initial, &history, &dropped, &mut 0);
        assert!(matches!(lw, Judgement::Unexplained(_)), "lost_write {lw:?}");
        let moved = [file(2, &[x(1), Token::Data { ino: 0, lblk: 2, write: 2 }]), file(1, &[])];
        let lw = check_lost_write(&initial, &history, &moved, &mut 0);
        assert!(matches!(lw, Judgement::Explained), "lost_write {lw:?}");
    }

    /// A direct read of the file (from its block, no frame) that returned the first
    /// ghost's data must stay unexplained.
    #[test]
    fn a_reader_of_the_block_sees_past_every_stacked_ghost() {
        let punch = Operation::PunchHole { file: 0, page: 2, pages: 1 };
        let x = |lblk| Token::Data { ino: 0, lblk, write: 0 };
        let initial = [file(3, &[x(0), x(1), x(2)]), file(1, &[])];
        let punched = [file(3, &[x(0), x(1)]), file(1, &[])];
        let (ops, log) = two_ghost_log(punch, true);
        let history = history(&initial, &ops, &log);
        let sd = check_stale_data(&initial, &history, &punched, &mut 0);
        assert!(matches!(sd, Judgement::Unexplained(_)), "stale {sd:?}");
    }

    /// A direct read's DMA into a page that a punch removed after the read pinned it lands in
    /// the frame, which a read(2) that looked the page up before the removal still holds and
    /// copies (audit R1 of December 2026: a false stale_data). The order DMA, read, punch
    /// explains it; a reader of another page (looked up after the removal), or one that began
    /// after the punch returned, cannot have seen it; and the DMA's data is gone from the file.
    #[test]
    fn a_dma_into_a_removed_page_is_seen_only_through_its_frame() {
        let punch = Operation::PunchHole { file: 0, page: 1, pages: 1 };
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let old = Token::Data { ino: 0, lblk: 1, write: 0 };
        let ghost = Token::Data { ino: 0, lblk: 1, write: 2 };
        let initial = [file(2, &[d0, old]), file(1, &[])];
        let punched = [file(2, &[d0]), file(1, &[])];
        for (frame, read_after_removal, explained) in [(7, false, true), (8, false, false), (7, true, false)] {
            let (ops, log) = ghost_log(1, punch, frame, read_after_removal);
            let history = history(&initial, &ops, &log);
            let judgement = check_stale_data(&initial, &history, &punched, &mut 0);
            assert_eq!(
                matches!(judgement, Judgement::Explained),
                explained,
                "frame {frame}, late: {read_after_removal}"
            );
        }
        // The data does not survive the removal.
        let (ops, log) = ghost_log(1, punch, 7, false);
        let history = history(&initial, &ops, &log);
        let kept = [file(2, &[d0, ghost]), file(1, &[])];
        assert!(matches!(check_stale_data(&initial, &history, &kept, &mut 0), Judgement::Unexplained(_)));
    }

    /// A direct write whose invalidation removed the pinned page (clean) and then met a page
    /// dirtied since its flush falls back to a buffered write, which copies into a new page
    /// after the removal (generic_file_direct_write: "return 0 to fall back to buffered write";
    /// -ENOTBLK from iomap). The order DMA, read, direct write explains a reader of the frame;
    /// the reference looked for the remover's item only around the removal, found none, gave
    /// the DMA no effect and reported a false stale_data (audit of December 2026). A remover
    /// with no item for the page at all (reclaim) still leaves the DMA without effect.
    #[test]
    fn a_dma_into_a_page_a_falling_back_direct_write_removed_is_seen_through_its_frame() {
        use racesim_kernel::UserBuffer;
        let written = Token::Data { ino: 0, lblk: 0, write: 3 };
        let initial = [file(1, &[Token::Data { ino: 0, lblk: 0, write: 0 }]), file(1, &[])];
        let after = [file(1, &[written]), file(1, &[])];
        for (copies, explained) in [(true, true), (false, false)] {
            let dio_write = Operation::DioWrite {
                file: 0,
                page: 0,
                pages: 1,
                buffer: UserBuffer::Anonymous,
                asynchronous: false,
                ends: racesim_kernel::WriteEnds::default(),
            };
            let (ops, mut log) = ghost_log(0, dio_write, 7, false);
            let returns = log.iter().position(|e| e.actor == 2 && matches!(e.change, Change::OpEnd { .. })).unwrap();
            if copies {
                let copy = Change::PageCopied { page: 8, token: written, part: PagePart::Whole };
                log.insert(returns, Event { actor: 2, function: "copy_page_from_iter_atomic", change: copy });
            }
            let history = history(&initial, &ops, &log);
            let end = if copies { &after } else { &initial };
            let judgement = check_stale_data(&initial, &history, end, &mut 0);
            assert_eq!(matches!(judgement, Judgement::Explained), explained, "the fallback copies: {copies}");
        }
    }

    /// A collapse that removed the pinned page moves the file's data: serially the DMA took
    /// effect before the removal, so its data moves down with the rest (had the collapse come
    /// first, the pinned page would be past the new EOF and the read would have failed). Linux
    /// drops the frame, and the file keeping what the page held before (shifted) is a lost
    /// write, as when the DMA lands before the removal (scenarios/dio_read_pinned_collapse.toml;
    /// until December 2026 the reference undid the DMA at the collapse and accepted it).
    #[test]
    fn a_dma_into_a_page_a_collapse_removed_moves_with_the_file() {
        let collapse = Operation::CollapseRange { file: 0, page: 0, pages: 1 };
        let x = |lblk| Token::Data { ino: 0, lblk, write: 0 };
        let initial = [file(3, &[x(0), x(1), x(2)]), file(1, &[])];
        let dropped = [file(2, &[x(1), x(2)]), file(1, &[])];
        let (ops, log) = ghost_log(2, collapse, 7, false);
        let history = history(&initial, &ops, &log);
        assert!(matches!(check_lost_write(&initial, &history, &dropped, &mut 0), Judgement::Unexplained(_)));
        // stale_data, which also compares the end state, finds it too.
        assert!(matches!(check_stale_data(&initial, &history, &dropped, &mut 0), Judgement::Unexplained(_)));
        let moved = [file(2, &[x(1), Token::Data { ino: 0, lblk: 2, write: 2 }]), file(1, &[])];
        assert!(matches!(check_lost_write(&initial, &history, &moved, &mut 0), Judgement::Explained));
        assert!(matches!(check_stale_data(&initial, &history, &moved, &mut 0), Judgement::Explained));
    }

    /// A collapse that removed the pinned page and returned before the DMA landed: nobody can
    /// tell when the pin was taken, so the order collapse, read (its data at page 3 of the
    /// shifted file), write explains a file whose page 3 the write overwrote (review of
    /// December 2026: the ghost was forced before the collapse, a false lost_write under every
    /// policy). Without the overwrite the DMA's data is lost either way.
    #[test]
    fn a_dma_after_a_collapse_returned_may_land_in_the_shifted_file() {
        use racesim_kernel::UserBuffer;
        use racesim_kernel::event::Outcome;
        let dio = Operation::DioRead { file: 1, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: 0, page: 3 } };
        let write = Operation::Write {
            file: 0,
            page: 3,
            pages: 1,
            buffer: UserBuffer::Anonymous,
            fail_at: None,
            allocation: racesim_kernel::WriteAllocation::PerPage,
            ends: racesim_kernel::WriteEnds::default(),
        };
        let collapse = Operation::CollapseRange { file: 0, page: 1, pages: 1 };
        let ops = vec![
            crate::OpInfo { actor: 1, op_index: 0, op: dio, write: 2 },
            crate::OpInfo { actor: 1, op_index: 1, op: write, write: 4 },
            crate::OpInfo { actor: 2, op_index: 0, op: collapse, write: 3 },
        ];
        let x = |lblk| Token::Data { ino: 0, lblk, write: 0 };
        let written = Token::Data { ino: 0, lblk: 3, write: 4 };
        let ev = |actor, function, change| Event { actor, function, change };
        let mut log = vec![
            ev(1, "dio_read", Change::OpBegin { op: 0 }),
            ev(2, "collapse_range", Change::OpBegin { op: 0 }),
            ev(2, "truncate_inode_page", Change::PageDeleted { ino: 0, index: 3, page: 7, dirty_discarded: false }),
            ev(2, "collapse_range", Change::OpEnd { op: 0, outcome: Outcome::Ok }),
            ev(
                1,
                "dio_bio_end_io",
                Change::DmaIntoPage {
                    attached: false,
                    ino: 0,
                    index: 3,
                    page: 7,
                    token: Token::Data { ino: 0, lblk: 3, write: 2 },
                },
            ),
            ev(1, "dio_read", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
        ];
        let initial = [file(5, &[x(0), x(1), x(2), x(3), x(4)]), file(1, &[])];
        let shifted = [file(4, &[x(0), x(2), x(3), x(4)]), file(1, &[])];
        let dropped = history(&initial, &ops, &log);
        assert!(matches!(check_lost_write(&initial, &dropped, &shifted, &mut 0), Judgement::Unexplained(_)));
        log.extend([
            ev(1, "write", Change::OpBegin { op: 1 }),
            ev(1, "copy_page_from_iter_atomic", Change::PageCopied { page: 8, token: written, part: PagePart::Whole }),
            ev(1, "write", Change::OpEnd { op: 1, outcome: Outcome::Pages(1) }),
        ]);
        let overwritten = [file(4, &[x(0), x(2), x(3), written]), file(1, &[])];
        let history = history(&initial, &ops, &log);
        assert!(matches!(check_lost_write(&initial, &history, &overwritten, &mut 0), Judgement::Explained));
        assert!(matches!(check_stale_data(&initial, &history, &overwritten, &mut 0), Judgement::Explained));
    }

    /// An asynchronous direct write returns at submission; a page cached before it keeps the
    /// old data until its completion invalidates the range after the bio (iomap_dio_complete,
    /// dio_complete since 4.14). A load in between saw the old data legally (audit R2 of
    /// December 2026: a false stale_data under invalidate_lock and xfs-5.3); a load after the
    /// invalidation did not.
    #[test]
    fn a_load_before_an_asynchronous_direct_writes_invalidation_may_see_the_old_data() {
        use racesim_kernel::event::Outcome;
        use racesim_kernel::{UserBuffer, WriteEnds};
        let dio = Operation::DioWrite {
            file: 0,
            page: 1,
            pages: 1,
            buffer: UserBuffer::Anonymous,
            asynchronous: true,
            ends: WriteEnds::default(),
        };
        let load = Operation::Load { file: 0, page: 1 };
        let ops = [
            crate::OpInfo { actor: 0, op_index: 0, op: dio, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: load, write: 2 },
        ];
        let old = Token::Data { ino: 0, lblk: 1, write: 0 };
        let written = Token::Data { ino: 0, lblk: 1, write: 1 };
        let ev = |actor, function, change| Event { actor, function, change };
        let load_ops = load_of_page_1(old, ReadFrom::Page(0));
        let invalidated = page_1_invalidated();
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let initial = [file(2, &[d0, old])];
        let end = [file(2, &[d0, written])];
        for (load_before_invalidation, explained) in [(true, true), (false, false)] {
            let mut log = vec![
                ev(0, "dio_write", Change::OpBegin { op: 0 }),
                ev(0, "dio_write", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }),
                ev(0, "dio_bio_end_io", Change::DiskWrite { pblk: 1, ino: 0, lblk: 1, token: written, page: None }),
            ];
            if load_before_invalidation {
                log.extend(load_ops);
                log.push(invalidated);
            } else {
                log.push(invalidated);
                log.extend(load_ops);
            }
            let history = history(&initial, &ops, &log);
            let judgement = check_stale_data(&initial, &history, &end, &mut 0);
            assert_eq!(
                matches!(judgement, Judgement::Explained),
                explained,
                "before the invalidation: {load_before_invalidation}"
            );
        }
    }

    /// A synchronous direct write of page 1 (actor 0, write 1) that extends a one-page file,
    /// beside `other` (actor 1, write 2): the operations, the write's data, and its two events,
    /// the bio's completion and the size update.
    fn extending_direct_write_beside(other: Operation) -> ([crate::OpInfo; 2], Token, [Event; 2]) {
        use racesim_kernel::{UserBuffer, WriteEnds};
        let dio = Operation::DioWrite {
            file: 0,
            page: 1,
            pages: 1,
            buffer: UserBuffer::Anonymous,
            asynchronous: false,
            ends: WriteEnds::default(),
        };
        let ops = [
            crate::OpInfo { actor: 0, op_index: 0, op: dio, write: 1 },
            crate::OpInfo { actor: 1, op_index: 0, op: other, write: 2 },
        ];
        let written = Token::Data { ino: 0, lblk: 1, write: 1 };
        let data = Event {
            actor: 0,
            function: "dio_bio_end_io",
            change: Change::DiskWrite { pblk: 1, ino: 0, lblk: 1, token: written, page: None },
        };
        let grow = Event {
            actor: 0,
            function: "ext4_handle_inode_extension",
            change: Change::ISizeSet { ino: 0, i_size: 2, half: false },
        };
        (ops, written, [data, grow])
    }

    /// A direct write that failed part-way leaves no item for data it wrote under an unwritten
    /// extent (it reads as zeroes: no conversion after a failed IO), including a page past the
    /// old EOF whose item begins at the write's size update rather than where the write began.
    /// No failed write updates the size in today's model; the filter must not depend on that.
    #[test]
    fn a_failed_direct_write_leaves_no_item_for_its_unwritten_blocks_past_the_old_eof() {
        use racesim_kernel::event::Outcome;
        let (ops, _, [data, grow]) = extending_direct_write_beside(Operation::Load { file: 0, page: 1 });
        let ev = |actor, function, change| Event { actor, function, change };
        let mapped =
            Change::BlockMapped { ino: 0, lblk: 1, extent: Extent::Unwritten(1), allocated: true, reserved: false };
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let initial = [file(1, &[d0])];
        for (outcome, items) in [(Outcome::Enospc, 0), (Outcome::Pages(1), 1)] {
            let log = [
                ev(0, "dio_write", Change::OpBegin { op: 0 }),
                ev(0, "ext4_map_blocks", mapped),
                data,
                grow,
                ev(0, "dio_write", Change::OpEnd { op: 0, outcome }),
            ];
            let history = history(&initial, &ops, &log);
            let wrote = history.iter().filter(|i| matches!(i.effect, Effect::Wrote { .. })).count();
            assert_eq!(wrote, items, "{outcome}");
        }
    }

    /// A direct write that fails returns the error, not a count, and promises nothing of the
    /// blocks it wrote: an end state without its data is explained, one with it too. The same
    /// write returning a count promises its data.
    #[test]
    fn a_failed_direct_write_promises_nothing_of_the_blocks_it_wrote() {
        use racesim_kernel::event::Outcome;
        let (ops, written, [data, _]) = extending_direct_write_beside(Operation::Load { file: 0, page: 1 });
        let ev = |actor, function, change| Event { actor, function, change };
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let d1 = Token::Data { ino: 0, lblk: 1, write: 0 };
        let initial = [file(2, &[d0, d1])];
        for (outcome, promised) in [(Outcome::Enospc, false), (Outcome::Pages(1), true)] {
            let log = [
                ev(0, "dio_write", Change::OpBegin { op: 0 }),
                data,
                ev(0, "dio_write", Change::OpEnd { op: 0, outcome }),
            ];
            let history = history(&initial, &ops, &log);
            let kept = check_lost_write(&initial, &history, &[file(2, &[d0, written])], &mut 0);
            assert!(matches!(kept, Judgement::Explained), "{outcome}: its data kept");
            let lost = check_lost_write(&initial, &history, &[file(2, &[d0, d1])], &mut 0);
            assert_eq!(matches!(lost, Judgement::Explained), !promised, "{outcome}: its data lost");
        }
    }

    /// A fault that read page 1 in while it was past EOF (zeroes) and mapped it once an extending
    /// direct write had grown the file (filemap_fault's recheck under the page lock) shows
    /// those zeroes until the write's invalidation after the IO, before it returns: a load in
    /// between saw a state the write passes through (size grown, data not yet), as a load of a
    /// page cached before a non-extending one sees the old data (found by a randomised search
    /// of small scenarios, December 2026: a false stale_data under invalidate_lock). A load
    /// that sees the zeroes after the write returned is not explained (one before the
    /// size update, a SIGBUS, is judged by the SIGBUS check), nor one after the size update
    /// where the invalidation after the IO came before it (iomap in 5.5 to 5.12: the zero page
    /// outlives the write, xfstests generic/418).
    #[test]
    fn a_load_of_zeroes_after_an_extending_direct_write_grew_the_file_and_before_it_returned_is_explained() {
        use racesim_kernel::event::Outcome;
        let (ops, written, [data, grow]) = extending_direct_write_beside(Operation::Load { file: 0, page: 1 });
        let ev = |actor, function, change| Event { actor, function, change };
        let load_ops = load_of_page_1(Token::Zero, ReadFrom::Page(0));
        let invalidated = page_1_invalidated();
        let returns = ev(0, "dio_write", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) });
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let initial = [file(1, &[d0])];
        let end = [file(2, &[d0, written])];
        // The invalidation after the IO before the size update (iomap in 5.5 to 5.12): a zero
        // page read in after it outlives the write (generic/418), so nothing explains it.
        let looked_up = ev(0, "invalidate_inode_pages2_range", Change::Nothing);
        // Where the load comes: 1 between the size update and the invalidation after the IO,
        // 2 after the write returned. (Before the size update, zeroes past EOF are what the
        // page holds; whether the load could reach it is the SIGBUS check's business.)
        for (when, invalidated_first, explained) in [(1, false, true), (2, false, false), (1, true, false)] {
            let mut log = vec![ev(0, "dio_write", Change::OpBegin { op: 0 }), data];
            if invalidated_first {
                log.push(looked_up);
            }
            log.push(grow);
            if when == 1 {
                log.extend(load_ops);
            }
            if !invalidated_first {
                log.push(invalidated);
            }
            log.push(returns);
            if when == 2 {
                log.extend(load_ops);
            }
            let history = history(&initial, &ops, &log);
            let judgement = check_stale_data(&initial, &history, &end, &mut 0);
            assert_eq!(
                matches!(judgement, Judgement::Explained),
                explained,
                "load at {when}, invalidation before the size update: {invalidated_first}"
            );
        }
    }

    /// An extending direct write's data is on disk at its bio's completion, but the file grows
    /// only at `ext4_handle_inode_extension`: a store past the old EOF that faults in between
    /// gets SIGBUS, which the order store-then-write explains (k1 of the December 2026 audit, a
    /// false lost_write). A SIGBUS after the size update is still unexplained.
    #[test]
    fn a_sigbus_before_an_extending_direct_write_grows_the_file_is_explained() {
        use racesim_kernel::event::Outcome;
        let (ops, written, [data, grow]) = extending_direct_write_beside(Operation::Store { file: 0, page: 1 });
        let ev = |actor, function, change| Event { actor, function, change };
        let store_begins = ev(1, "store", Change::OpBegin { op: 0 });
        let store_sigbus = ev(1, "store", Change::OpEnd { op: 0, outcome: Outcome::Sigbus });
        let d0 = Token::Data { ino: 0, lblk: 0, write: 0 };
        let initial = [file(1, &[d0])];
        let end = [file(2, &[d0, written])];
        for (sigbus_before_grow, explained) in [(true, true), (false, false)] {
            let mut log = vec![ev(0, "dio_write", Change::OpBegin { op: 0 }), data];
            if sigbus_before_grow {
                log.extend([store_begins, store_sigbus, grow]);
            } else {
                log.extend([grow, store_begins, store_sigbus]);
            }
            log.push(ev(0, "dio_write", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) }));
            let history = history(&initial, &ops, &log);
            let judgement = check_lost_write(&initial, &history, &end, &mut 0);
            assert_eq!(
                matches!(judgement, Judgement::Explained),
                explained,
                "SIGBUS before the size update: {sigbus_before_grow}"
            );
        }
    }
}
