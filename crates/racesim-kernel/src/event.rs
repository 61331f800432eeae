//! The event log: one [`Event`] per atomic step (sometimes a few), saying which actor ran which
//! kernel function and what changed. Events are small `Copy` values so that logging costs a
//! push; they are rendered to text only when a trace is written or explained.
//!
//! Oracles read events too: a disk write, a user-visible read or the end of an operation is an
//! event, and [`racesim_oracles`] judges it against the state.

use crate::lock::{DeclaredKind, LockClass, LockMode};
use crate::state::PteTarget;
use crate::types::{ActorId, Extent, Ino, Lblk, MmId, PageId, PagePart, PageRange, Pblk, Token};

/// The pseudo-actor that runs the final `sync` at quiescence.
pub const SYNC_ACTOR: ActorId = ActorId::MAX;

/// How an operation ended, as the user would see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// A read or write that transferred this many pages (a short count for a failed copy).
    Pages(u32),
    Sigbus,
    /// SIGSEGV: no mapping there (after munmap).
    Sigsegv,
    /// EFAULT: nothing was copied.
    Efault,
    /// EINVAL: the arguments were refused (e.g. collapse reaching EOF).
    Einval,
    /// ENOSPC.
    Enospc,
    /// EIO: the IO failed and returned no data (XFS refusing a direct read of a delayed
    /// allocation).
    Eio,
    /// ENOMEM: the range is not mapped (mlock).
    Enomem,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => write!(f, "ok"),
            Outcome::Pages(n) => write!(f, "{n} page(s)"),
            Outcome::Sigbus => write!(f, "SIGBUS"),
            Outcome::Sigsegv => write!(f, "SIGSEGV"),
            Outcome::Efault => write!(f, "EFAULT"),
            Outcome::Einval => write!(f, "EINVAL"),
            Outcome::Enospc => write!(f, "ENOSPC"),
            Outcome::Eio => write!(f, "EIO"),
            Outcome::Enomem => write!(f, "ENOMEM"),
        }
    }
}

/// How a user-visible read reached the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadPath {
    MmapLoad,
    ReadSyscall,
}

/// Where the data a user-visible read saw lived when it was copied: what the read depends on
/// besides the mapping it went through (the race analysis orders it against every write there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadFrom {
    /// A page-cache page (read(2), or a load through a PTE to it).
    Page(PageId),
    /// A disk block (DAX, direct IO, a load through a PTE to a DAX pfn).
    Block(Pblk),
    /// Nothing stored: a hole, an unwritten extent or the zero page reads zeroes.
    Zeroes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// Operation number `op` of the actor started (`op` indexes the actor's list).
    OpBegin {
        op: u16,
    },
    OpEnd {
        op: u16,
        outcome: Outcome,
    },
    LockWait {
        class: LockClass,
        mode: LockMode,
        range: PageRange,
    },
    LockAcquired {
        class: LockClass,
        mode: LockMode,
        range: PageRange,
    },
    LockReleased {
        class: LockClass,
        mode: LockMode,
        range: PageRange,
    },
    ISizeCheck {
        ino: Ino,
        index: Lblk,
        i_size: Lblk,
    },
    PageLookup {
        ino: Ino,
        index: Lblk,
        page: Option<PageId>,
    },
    PageAdded {
        ino: Ino,
        index: Lblk,
        page: PageId,
    },
    PageRead {
        ino: Ino,
        index: Lblk,
        page: PageId,
        extent: Extent,
        token: Token,
    },
    MappingCheck {
        page: PageId,
        attached: bool,
        /// The file whose `i_size` the same check compared the page with, if it did
        /// (`block_page_mkwrite`'s `page_offset(page) > size`): part of what the step read.
        i_size_of: Option<Ino>,
    },
    BlockMapped {
        ino: Ino,
        lblk: Lblk,
        extent: Extent,
        allocated: bool,
        /// This step reserved the delayed allocation over a hole (`ext4_da_reserve_space`),
        /// which it could do only because a free block was still unpromised: it read the
        /// allocator. Not rendered (it says nothing the extent does not).
        reserved: bool,
    },
    PageDirtied {
        page: PageId,
        /// The file whose `i_size` the same step read to decide it leaves it alone (write_end
        /// of a write inside EOF, `generic_write_end`'s "if (pos + copied > inode->i_size)"):
        /// not rendered, declared in the footprint.
        i_size_of: Option<Ino>,
    },
    /// write(2) copied `token`, its data for the page, into `part` of the page.
    PageCopied {
        page: PageId,
        token: Token,
        part: PagePart,
    },
    PageZeroed {
        page: PageId,
    },
    /// Blocks `[first, end)` of a page of a file whose blocks are smaller than a page were
    /// zeroed (numbered within the page): the tail past EOF by truncate, writeback or
    /// `pagecache_isize_extended`.
    BlocksZeroed {
        page: PageId,
        first: Lblk,
        end: Lblk,
    },
    /// The tail half of block `lblk` of `ino`, the block that straddles EOF (EOF half-way into
    /// it), zeroed in `page` (a file whose block is the page): truncate's partial page,
    /// `ext4_block_truncate_page` / `iomap_truncate_page` / `block_truncate_page`, the zeroing of
    /// the old EOF block when the file grows, and writeback's `zero_user_segment` from `i_size`.
    TailZeroed {
        ino: Ino,
        lblk: Lblk,
        page: PageId,
    },
    /// The head half of block `lblk` of `ino` zeroed in `page`: `pagecache_isize_extended`'s
    /// `folio_zero_segment` up to a new EOF half-way into that block (the tail, past the new
    /// EOF, is left as it was).
    HeadZeroed {
        ino: Ino,
        lblk: Lblk,
        page: PageId,
    },
    /// `page_mkclean` outside writeback (`pagecache_isize_extended`): `count` PTEs of the page
    /// made read-only and clean; the page's own dirty bit is left to the caller.
    PtesWriteProtected {
        page: PageId,
        count: u32,
    },
    PteInstalled {
        mm: MmId,
        ino: Ino,
        index: Lblk,
        target: PteTarget,
        writable: bool,
    },
    PteMadeWritable {
        mm: MmId,
        ino: Ino,
        index: Lblk,
    },
    PtesZapped {
        ino: Ino,
        range: PageRange,
        count: u32,
    },
    PageDeleted {
        ino: Ino,
        index: Lblk,
        page: PageId,
        dirty_discarded: bool,
    },
    PageCleaned {
        page: PageId,
        ptes_write_protected: u32,
    },
    DiskWrite {
        pblk: Pblk,
        ino: Ino,
        lblk: Lblk,
        token: Token,
        /// The page-cache page written out (writeback: its contents are read and its
        /// writeback state ends); none for writes that bypass the page cache.
        page: Option<PageId>,
    },
    /// A direct write's bio writes `part` of block `pblk` (of `ino`:`lblk`): its data into
    /// the half of the block the write covers, or the zeroes `dio_zero_block` /
    /// `iomap_dio_zero` write into the other half of a new or unwritten block. The rest of
    /// the block keeps what it held.
    PartialDiskWrite {
        pblk: Pblk,
        ino: Ino,
        lblk: Lblk,
        token: Token,
        part: PagePart,
    },
    UserRead {
        ino: Ino,
        index: Lblk,
        token: Token,
        path: ReadPath,
        from: ReadFrom,
    },
    StoreRetired {
        ino: Ino,
        index: Lblk,
        token: Token,
    },
    BlocksFreed {
        ino: Ino,
        range: PageRange,
        count: u32,
    },
    ExtentsShiftedUp {
        ino: Ino,
        from: Lblk,
        by: Lblk,
    },
    ExtentsUnwritten {
        ino: Ino,
        range: PageRange,
    },
    /// A direct IO bio over `range` of `ino` was submitted.
    BioSubmitted {
        ino: Ino,
        range: PageRange,
    },
    /// `get_user_pages` (FOLL_PIN) pinned the page that `mm`'s PTE for `ino:index` maps.
    PagePinned {
        mm: MmId,
        ino: Ino,
        index: Lblk,
        page: PageId,
    },
    /// `unpin_user_pages` at the end of a direct IO.
    PageUnpinned {
        page: PageId,
    },
    /// `get_user_pages` took a reference on the DAX page that `mm`'s PTE for `ino:index` maps:
    /// the disk block `pblk` itself.
    DaxPagePinned {
        mm: MmId,
        ino: Ino,
        index: Lblk,
        pblk: Pblk,
    },
    /// A direct write's DMA read its data from the pinned DAX page of block `pblk`: `token`, if
    /// the block changed hands and content since the pin (`None`: the data the user put there).
    DmaFromDaxPage {
        pblk: Pblk,
        token: Option<Token>,
    },
    /// `dax_layout_busy_page` looked for a DAX page of `ino` that somebody holds a reference on
    /// (`page_ref_count > 1`): the first such block, if any.
    DaxBusyPage {
        ino: Ino,
        pblk: Option<Pblk>,
    },
    /// `___wait_var_event`'s condition on the DAX page of block `pblk`: still referenced?
    DaxPageRefCheck {
        pblk: Pblk,
        busy: bool,
    },
    /// A direct read's DMA put `token` into the pinned user page `page` (file page
    /// `ino:index`), whether or not the page is still in the page cache (`attached`).
    DmaIntoPage {
        attached: bool,
        ino: Ino,
        index: Lblk,
        page: PageId,
        token: Token,
    },
    /// `try_to_release_page` freed the buffer heads of a clean page.
    BuffersReleased {
        page: PageId,
    },
    /// Writeback found a dirty page without buffers and dropped its dirty bit unwritten.
    DirtyPageWithoutBuffers {
        ino: Ino,
        index: Lblk,
        page: PageId,
    },
    /// Reclaim took a clean, unmapped page out of the page cache.
    PageReclaimed {
        ino: Ino,
        index: Lblk,
        page: PageId,
    },
    ExtentsShifted {
        ino: Ino,
        from: Lblk,
        by: Lblk,
    },
    ISizeSet {
        ino: Ino,
        i_size: Lblk,
        /// EOF lies half-way into block `i_size - 1` ([`crate::state::Inode::eof_half`]).
        half: bool,
    },
    CopyFailed {
        ino: Ino,
        index: Lblk,
    },
    DioWait {
        ino: Ino,
    },
    /// `ext4_inode_block_unlocked_dio` (`set`) or `ext4_inode_resume_unlocked_dio`.
    DioreadLockSet {
        ino: Ino,
        set: bool,
    },
    /// An unlocked direct read tested `EXT4_STATE_DIOREAD_LOCK` and found it `set` (then it
    /// falls back to locked DIO).
    DioreadLockTest {
        ino: Ino,
        set: bool,
    },
    /// `invalidate_complete_page2` left a dirty page in the cache (-EBUSY; Linux warns with
    /// `dio_warn_stale_pagecache` since 5.x).
    InvalidateBusy {
        ino: Ino,
        index: Lblk,
        page: PageId,
    },
    Mapped {
        mm: MmId,
        ino: Ino,
        pages: Lblk,
    },
    Unmapped {
        mm: MmId,
        ino: Ino,
    },
    /// mlock(2) set `VM_LOCKED` on the pages `range` of `mm`'s mapping of `ino`
    /// (`apply_vma_lock_flags`).
    VmaLocked {
        mm: MmId,
        ino: Ino,
        range: PageRange,
    },
    /// A page-table walk for `ino:index` in `mm`: is there a PTE the access can use?
    PteProbe {
        mm: MmId,
        ino: Ino,
        index: Lblk,
        usable: bool,
    },
    /// A batch lookup (`pagevec_lookup`) found `count` cached pages in `range`.
    PagesFound {
        ino: Ino,
        range: PageRange,
        count: u32,
    },
    /// ENOSPC while allocating a block for `ino:lblk`.
    NoSpace {
        ino: Ino,
        lblk: Lblk,
    },
    /// `ext4_should_retry_alloc` after an ENOSPC: `retry` when blocks freed in the running
    /// transaction await its commit (and fewer than three retries ran), so the task forces a
    /// commit and allocates again; otherwise the ENOSPC stands.
    AllocRetry {
        retry: bool,
    },
    /// `->iomap_begin` of a buffered write mapped `range` of `ino` as one extent whose first
    /// page is `extent` (pages of one kind); `new`: it reserved delayed allocations over holes
    /// (`IOMAP_F_NEW`), which writes the block map. It reads the whole block map (the validity
    /// cookie).
    IomapMapped {
        ino: Ino,
        range: PageRange,
        extent: Extent,
        new: bool,
    },
    /// `iomap_write_begin` asked `->iomap_valid` whether the map it holds for `range` of `ino`
    /// is still valid: whether the file's block map changed since `->iomap_begin` (`false`:
    /// stale, map again from the folio it locked). It reads the whole block map.
    IomapValid {
        ino: Ino,
        range: PageRange,
        valid: bool,
    },
    /// `i_disksize` of `ino` set to `disksize` (blocks; with `half`, half-way into block
    /// `disksize - 1`): what the inode in the running transaction says (`crate::journal`).
    /// Where the kernel derives it from `i_size` (writeback's `i_disksize` update) the step
    /// read `i_size` too.
    DiskSizeSet {
        ino: Ino,
        disksize: Lblk,
        half: bool,
    },
    /// `ext4_orphan_add` (`add`) or `ext4_orphan_del` of `ino` in the running transaction
    /// (`crate::journal`): part of the on-disk inode, like `i_disksize`.
    Orphan {
        ino: Ino,
        add: bool,
    },
    /// `jbd2_journal_begin_ordered_truncate` looked whether `ino` belongs to the transaction
    /// being committed (`committing`: then the truncate writes out the pages past the new size
    /// first). It read the commit state and which transaction the inode is filed with.
    OrderedTruncate {
        ino: Ino,
        committing: bool,
        /// A commit had locked a transaction and not written its record: only then could the
        /// answer depend on which transaction the inode is filed with.
        commit_in_flight: bool,
    },
    /// jbd2 locked the running transaction (`T_LOCKED`, after waiting for its handles): the
    /// metadata it commits is the metadata now; later changes go to the next transaction.
    /// `ordered` blocks newly allocated in it have their page in the page cache: under
    /// data=ordered those are written (if dirty) before the commit record.
    TransactionLocked {
        ordered: u32,
    },
    /// The commit record is on disk: the locked transaction's metadata is durable, and the
    /// blocks it freed may be reused.
    TransactionCommitted,
    /// The machine crashed here: remount finds the committed metadata and the disk as they are
    /// now (the oracles judge that image at this step).
    Crash,
    /// The step looked and found nothing to do (e.g. a clean page at writeback).
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    pub actor: ActorId,
    /// The kernel function this step belongs to, as named in Linux.
    pub function: &'static str,
    pub change: Change,
}

/// Names for rendering events: file names by inode, actor names by actor id.
pub trait Names {
    fn file(&self, ino: Ino) -> String;
    fn actor(&self, actor: ActorId) -> String;
}

/// Plain numbers, for tests and debugging.
pub struct NumericNames;
impl Names for NumericNames {
    fn file(&self, ino: Ino) -> String {
        format!("ino{ino}")
    }
    fn actor(&self, actor: ActorId) -> String {
        if actor == SYNC_ACTOR { "sync".into() } else { format!("actor{actor}") }
    }
}

fn lock_name(class: LockClass, names: &dyn Names) -> String {
    match class {
        LockClass::IRwsem(i) => format!("i_rwsem({})", names.file(i)),
        LockClass::MmapSem(m) => format!("mmap_sem(mm{m})"),
        LockClass::FaultLock(i) => format!("fault_lock({})", names.file(i)),
        LockClass::RangeLock(i) => format!("range_lock({})", names.file(i)),
        LockClass::IMmapRwsem(i) => format!("i_mmap_rwsem({})", names.file(i)),
        LockClass::DaxEntry(i) => format!("dax_entry({})", names.file(i)),
        LockClass::Page(p) => format!("page_lock(#{p})"),
        LockClass::DioCount(i) => format!("i_dio_count({})", names.file(i)),
        LockClass::Journal => "journal".to_string(),
        LockClass::Declared(d, i) => format!("{}({})", d.name(), names.file(i)),
        LockClass::DaxPin => "dax_pin".to_string(),
    }
}

/// A lock as kernel developers say it: page locks and mutex-like use without mode and range,
/// rwsems with their mode, range locks with their range.
fn lock_text(class: LockClass, mode: LockMode, range: PageRange, names: &dyn Names) -> String {
    let name = lock_name(class, names);
    match class {
        LockClass::Page(_) => name,
        LockClass::Declared(d, _) if d.kind() == DeclaredKind::Mutex => name,
        LockClass::Declared(d, _) if d.kind() == DeclaredKind::Range => format!("{name} {} {range}", mode_name(mode)),
        LockClass::RangeLock(_) | LockClass::DaxEntry(_) => format!("{name} {} {range}", mode_name(mode)),
        // The references on one DAX page (the range is the block): a pin holds one, a
        // filesystem breaking layouts waits for them all to drop.
        LockClass::DaxPin if mode == LockMode::Shared => format!("a pin on the DAX page of block {}", range.start),
        LockClass::DaxPin => format!("the pins on the DAX page of block {} to drop", range.start),
        _ => format!("{name} {}", mode_name(mode)),
    }
}

fn mode_name(mode: LockMode) -> &'static str {
    match mode {
        LockMode::Shared => "shared",
        LockMode::Exclusive => "excl",
    }
}

/// A token as event texts and the timeline name it.
pub fn token_name(token: Token, names: &dyn Names) -> String {
    match token {
        Token::Zero => "zeroes".into(),
        Token::Data { ino, lblk, write: 0 } => format!("initial {}:{lblk}", names.file(ino)),
        Token::Data { ino, lblk, write } => format!("op#{write} {}:{lblk}", names.file(ino)),
        Token::Leftover { pblk } => format!("leftovers of block {pblk}"),
        Token::Halves { head, tail } => {
            format!("[{} | {}]", token_name(head.whole(), names), token_name(tail.whole(), names))
        }
    }
}

fn extent_name(extent: Extent) -> String {
    match extent {
        Extent::Hole => "hole".into(),
        Extent::Delalloc => "delalloc reservation".into(),
        Extent::Unwritten(p) => format!("unwritten block {p}"),
        Extent::Written(p) => format!("block {p}"),
    }
}

fn target_name(target: PteTarget) -> String {
    match target {
        PteTarget::Page(p) => format!("page#{p}"),
        PteTarget::Pfn(b) => format!("pfn of block {b}"),
        PteTarget::ZeroPage => "zero page".into(),
    }
}

impl Change {
    /// What changed, in words a filesystem developer reads.
    pub fn describe(&self, names: &dyn Names) -> String {
        let file = |i: Ino| names.file(i);
        match *self {
            Change::OpBegin { op } => format!("begins op {op}"),
            Change::OpEnd { op, outcome } => format!("op {op} returns {outcome}"),
            Change::LockWait { class, mode, range } => format!("waits for {}", lock_text(class, mode, range, names)),
            Change::LockAcquired { class, mode, range } => format!("takes {}", lock_text(class, mode, range, names)),
            Change::LockReleased { class, mode, range } => format!("releases {}", lock_text(class, mode, range, names)),
            Change::ISizeCheck { ino, index, i_size } => {
                let verdict = if index < i_size { "inside" } else { "beyond EOF" };
                format!("{}:{index} vs i_size {i_size}: {verdict}", file(ino))
            }
            Change::PageLookup { ino, index, page: Some(p) } => format!("{}:{index} is cached as page#{p}", file(ino)),
            Change::PageLookup { ino, index, page: None } => format!("{}:{index} is not cached", file(ino)),
            Change::PageAdded { ino, index, page } => {
                format!("adds page#{page} for {}:{index} to the page cache", file(ino))
            }
            Change::PageRead { page, extent, token, .. } => {
                format!("page#{page} read from {}: {}", extent_name(extent), token_name(token, names))
            }
            Change::MappingCheck { page, attached: true, .. } => format!("page#{page} still in the mapping"),
            Change::MappingCheck { page, attached: false, .. } => format!("page#{page} was truncated; retry"),
            Change::BlockMapped { ino, lblk, extent, allocated, .. } => {
                let how = if allocated { "allocated" } else { "found" };
                format!("{}:{lblk} -> {} ({how})", file(ino), extent_name(extent))
            }
            Change::PageDirtied { page, .. } => format!("page#{page} dirty"),
            Change::PageCopied { page, token, part } => {
                let into = match part {
                    PagePart::Whole => "",
                    PagePart::Head => "the first half of ",
                    PagePart::Tail => "the second half of ",
                };
                format!("copies {} into {into}page#{page}", token_name(token, names))
            }
            Change::PageZeroed { page } => format!("zeroes new buffers of page#{page}"),
            Change::BlocksZeroed { page, first, end } => format!("zeroes blocks [{first}, {end}) of page#{page}"),
            Change::PtesWriteProtected { page, count } => format!("write-protects {count} pte(s) of page#{page}"),
            Change::PteInstalled { mm, ino, index, target, writable } => format!(
                "mm{mm} pte for {}:{index} -> {} ({})",
                file(ino),
                target_name(target),
                if writable { "writable" } else { "read-only" }
            ),
            Change::PteMadeWritable { mm, ino, index } => format!("mm{mm} pte for {}:{index} made writable", file(ino)),
            Change::PtesZapped { ino, range, count } => format!("zaps {count} pte(s) of {} {range}", file(ino)),
            Change::PageDeleted { ino, index, page, dirty_discarded } => format!(
                "removes page#{page} ({}:{index}) from the page cache{}",
                file(ino),
                if dirty_discarded { ", discarding dirty data" } else { "" }
            ),
            Change::PageCleaned { page, ptes_write_protected } => {
                format!("page#{page} clean, {ptes_write_protected} pte(s) write-protected")
            }
            Change::DiskWrite { pblk, ino, lblk, token, .. } => {
                format!("writes {} for {}:{lblk} to block {pblk}", token_name(token, names), file(ino))
            }
            Change::PartialDiskWrite { pblk, ino, lblk, token, part } => {
                let half = if part == PagePart::Head { "first" } else { "second" };
                format!(
                    "writes {} for {}:{lblk} to the {half} half of block {pblk}",
                    token_name(token, names),
                    file(ino)
                )
            }
            Change::UserRead { ino, index, token, path, .. } => format!(
                "user {} of {}:{index} sees {}",
                match path {
                    ReadPath::MmapLoad => "load",
                    ReadPath::ReadSyscall => "read(2)",
                },
                file(ino),
                token_name(token, names)
            ),
            Change::StoreRetired { ino, index, token } => {
                format!("user store to {}:{index} lands: {}", file(ino), token_name(token, names))
            }
            Change::BlocksFreed { ino, range, count } => format!("frees {count} block(s) of {} {range}", file(ino)),
            Change::ExtentsShiftedUp { ino, from, by } => {
                format!("shifts extents of {} from {from} right by {by}, leaving a hole", file(ino))
            }
            Change::ExtentsUnwritten { ino, range } => format!("extents of {} {range} now unwritten", file(ino)),
            Change::BioSubmitted { ino, range } => format!("submits a direct IO bio for {} {range}", file(ino)),
            Change::PageReclaimed { ino, index, page } => {
                format!("reclaims clean page#{page} ({}:{index}) from the page cache", file(ino))
            }
            Change::PagePinned { mm, ino, index, page } => {
                format!("pins page#{page}, mapped by mm{mm} at {}:{index}, for DMA", file(ino))
            }
            Change::PageUnpinned { page } => format!("unpins page#{page}"),
            Change::DaxPagePinned { mm, ino, index, pblk } => {
                format!("pins the DAX page of block {pblk}, mapped by mm{mm} at {}:{index}, for DMA", file(ino))
            }
            Change::DmaFromDaxPage { pblk, token: None } => {
                format!("DMA reads the user's data from the pinned DAX page of block {pblk}")
            }
            Change::DmaFromDaxPage { pblk, token: Some(token) } => format!(
                "DMA reads {} from the pinned DAX page of block {pblk}, which changed hands since the pin",
                token_name(token, names)
            ),
            Change::DaxBusyPage { ino, pblk: Some(pblk) } => {
                format!("finds the DAX page of block {pblk} of {} pinned", file(ino))
            }
            Change::DaxBusyPage { ino, pblk: None } => format!("finds no pinned DAX page of {}", file(ino)),
            Change::DaxPageRefCheck { pblk, busy: true } => format!("the DAX page of block {pblk} is still pinned"),
            Change::DaxPageRefCheck { pblk, busy: false } => format!("the DAX page of block {pblk} is unpinned"),
            Change::DmaIntoPage { attached, ino, index, page, token } => {
                let whose = if attached { "" } else { ", a page no file holds any more" };
                format!("DMA puts {} into pinned page#{page} ({}:{index}{whose})", token_name(token, names), file(ino))
            }
            Change::BuffersReleased { page } => format!("strips the buffer heads of clean page#{page}"),
            Change::DirtyPageWithoutBuffers { ino, index, page } => format!(
                "page#{page} ({}:{index}) is dirty but has no buffers attached: warns, clears dirty, skips it",
                file(ino)
            ),
            Change::ExtentsShifted { ino, from, by } => {
                format!("shifts extents of {} from {from} left by {by}", file(ino))
            }
            Change::ISizeSet { ino, i_size, half: false } => format!("i_size of {} = {i_size}", file(ino)),
            Change::ISizeSet { ino, i_size, half: true } => {
                format!("i_size of {} = {}.5 (EOF half-way into block {})", file(ino), i_size - 1, i_size - 1)
            }
            Change::TailZeroed { ino, lblk, page } => {
                format!("zeroes the second half of {}:{lblk} (past EOF) in page#{page}", file(ino))
            }
            Change::HeadZeroed { ino, lblk, page } => {
                format!("zeroes the first half of {}:{lblk} (up to the new EOF) in page#{page}", file(ino))
            }
            Change::CopyFailed { ino, index } => format!("copy from user fails at {}:{index}", file(ino)),
            Change::DioWait { ino } => format!("no direct IO in flight on {}", file(ino)),
            Change::DioreadLockSet { ino, set: true } => {
                format!("sets EXT4_STATE_DIOREAD_LOCK on {}: new direct reads take i_rwsem", file(ino))
            }
            Change::DioreadLockSet { ino, set: false } => {
                format!("clears EXT4_STATE_DIOREAD_LOCK on {}: direct reads may run unlocked again", file(ino))
            }
            Change::DioreadLockTest { ino, set: true } => {
                format!("EXT4_STATE_DIOREAD_LOCK is set on {}: falls back to locked DIO", file(ino))
            }
            Change::DioreadLockTest { ino, set: false } => {
                format!("EXT4_STATE_DIOREAD_LOCK is clear on {}: reads unlocked", file(ino))
            }
            Change::InvalidateBusy { ino, index, page } => {
                format!("page#{page} ({}:{index}) is dirty: cannot invalidate it (-EBUSY)", file(ino))
            }
            Change::Mapped { mm, ino, pages } => format!("mm{mm} maps {} ({pages} pages, shared)", file(ino)),
            Change::Unmapped { mm, ino } => format!("mm{mm} unmaps {}", file(ino)),
            Change::VmaLocked { mm, ino, range } => {
                format!("mm{mm} sets VM_LOCKED on its mapping of {} pages [{}, {})", file(ino), range.start, range.end)
            }
            Change::PteProbe { mm, ino, index, usable: true } => {
                format!("mm{mm} pte for {}:{index} present", file(ino))
            }
            Change::PteProbe { mm, ino, index, usable: false } => {
                format!("mm{mm} has no usable pte for {}:{index}", file(ino))
            }
            Change::PagesFound { ino, range, count } => format!("finds {count} page(s) of {} {range}", file(ino)),
            Change::NoSpace { ino, lblk } => format!("no free block for {}:{lblk} (ENOSPC)", file(ino)),
            Change::AllocRetry { retry: true } => {
                "blocks freed in the running transaction await its commit: force it and allocate again".into()
            }
            Change::AllocRetry { retry: false } => "nothing the journal frees would help: ENOSPC stands".into(),
            Change::IomapMapped { ino, range, extent, new } => format!(
                "maps {} {range} as {}{}",
                file(ino),
                extent_name(extent),
                if new { " (new delayed allocation)" } else { "" }
            ),
            Change::IomapValid { ino, range, valid: true } => {
                format!("the map of {} {range} is still valid", file(ino))
            }
            Change::IomapValid { ino, range, valid: false } => {
                format!("the map of {} {range} is stale; map again", file(ino))
            }
            Change::DiskSizeSet { ino, disksize, half: false } => format!("i_disksize of {} = {disksize}", file(ino)),
            Change::DiskSizeSet { ino, disksize, half: true } => {
                format!("i_disksize of {} = {}.5 (half-way into block {})", file(ino), disksize - 1, disksize - 1)
            }
            Change::Orphan { ino, add: true } => format!("puts {} on the orphan list", file(ino)),
            Change::Orphan { ino, add: false } => format!("takes {} off the orphan list", file(ino)),
            Change::OrderedTruncate { ino, committing: true, .. } => {
                format!("{} belongs to the committing transaction: write out past the new size first", file(ino))
            }
            Change::OrderedTruncate { ino, committing: false, .. } => {
                format!("{} is not in the committing transaction", file(ino))
            }
            Change::TransactionLocked { ordered } => {
                format!(
                    "locks the running transaction; {ordered} cached page(s) over blocks it allocated to write first"
                )
            }
            Change::TransactionCommitted => "commit record written: the transaction is durable".into(),
            Change::Crash => "the machine crashes; remount finds what was committed".into(),
            Change::Nothing => "nothing to do".into(),
        }
    }

    /// Locks this event acquires (+1) or releases (-1), for timelines.
    pub fn lock_delta(&self) -> Option<(LockClass, i8)> {
        match *self {
            Change::LockAcquired { class, .. } => Some((class, 1)),
            Change::LockReleased { class, .. } => Some((class, -1)),
            _ => None,
        }
    }
}

/// Every kernel function name an [`Event`] can carry (`Event::function`), sorted: the names a
/// scenario's `[window]` may match, checked when the scenario is read. Debug builds assert on
/// every logged event that its function is listed ([`crate::cpu::Machine::emit`]);
/// `racesim-explore`'s `logged_functions` test samples every shipped scenario under every
/// built-in, and this crate's test checks each name against the source, so the list can
/// neither miss a name nor keep a stale one.
pub const LOGGED_FUNCTIONS: &[&str] = &[
    "___wait_var_event",
    "__block_write_begin",
    "__iomap_write_begin",
    "__mm_populate",
    "__remove_mapping",
    "__xfs_get_blocks",
    "add_to_page_cache_lru",
    "apply_vma_lock_flags",
    "bio_check_pages_dirty",
    "bio_set_pages_dirty",
    "block_invalidatepage",
    "block_page_mkwrite",
    "block_read_full_page",
    "block_truncate_page",
    "block_write_end",
    "block_write_full_page",
    "clear_page_dirty_for_io",
    "collapse_range",
    "complete_unwritten",
    "copy_page_to_user",
    "copy_to_user",
    "crash",
    "dax_insert_mapping",
    "dax_iomap_actor",
    "dax_iomap_begin",
    "dax_iomap_pte_fault",
    "dax_layout_busy_page",
    "dio_bio_end_io",
    "dio_read",
    "dio_write",
    "dio_zero_block",
    "do_blockdev_direct_IO",
    "do_mlock",
    "do_mmap",
    "do_munmap",
    "do_shared_fault",
    "down_read",
    "down_write",
    "end_page_writeback",
    "ext4_alloc_file_blocks",
    "ext4_bio_write_page",
    "ext4_block_truncate_page",
    "ext4_block_zero_eof",
    "ext4_collapse_range",
    "ext4_da_map_blocks",
    "ext4_ext_remove_space",
    "ext4_ext_shift_extents",
    "ext4_fallocate",
    "ext4_handle_inode_extension",
    "ext4_inode_block_unlocked_dio",
    "ext4_inode_resume_unlocked_dio",
    "ext4_insert_range",
    "ext4_journal_start",
    "ext4_journal_stop",
    "ext4_map_blocks",
    "ext4_punch_hole",
    "ext4_setattr",
    "ext4_should_retry_alloc",
    "ext4_test_inode_state",
    "ext4_truncate",
    "ext4_truncate_folio",
    "ext4_update_disksize_before_punch",
    "ext4_update_i_disksize",
    "ext4_update_inode_size",
    "ext4_wait_dax_page",
    "ext4_write_begin",
    "ext4_write_checks",
    "ext4_write_end",
    "ext4_writepage",
    "ext4_zero_partial_blocks",
    "ext4_zero_range",
    "fallocate",
    "fault_in_readable",
    "filemap_fault",
    "filemap_fdatawrite_range",
    "filemap_invalidate_lock",
    "filemap_invalidate_lock_shared",
    "filemap_invalidate_unlock",
    "filemap_invalidate_unlock_shared",
    "filemap_write_and_wait_range",
    "find_get_page",
    "find_lock_page",
    "finish_fault",
    "finish_mkwrite_fault",
    "folio_maybe_dma_pinned",
    "folio_zero_segment",
    "follow_page_mask",
    "fsync",
    "generic_file_buffered_read",
    "generic_write_end",
    "get_user_pages",
    "grab_cache_page_write_begin",
    "grab_mapping_entry",
    "handle_mm_fault",
    "handle_pte_fault",
    "i_mmap_lock_read",
    "i_mmap_lock_write",
    "i_mmap_unlock_read",
    "i_mmap_unlock_write",
    "i_size_write",
    "inode_dio_begin",
    "inode_dio_end",
    "inode_dio_wait",
    "inode_lock",
    "inode_lock_shared",
    "inode_unlock",
    "inode_unlock_shared",
    "insert_range",
    "invalidate_complete_page2",
    "invalidate_inode_pages2_range",
    "iomap_block_needs_zeroing",
    "iomap_truncate_page",
    "iomap_write_begin",
    "iomap_write_delalloc_release",
    "iomap_write_delalloc_scan",
    "iomap_zero_range",
    "iov_iter_copy_from_user_atomic",
    "jbd2_journal_begin_ordered_truncate",
    "jbd2_journal_commit_transaction",
    "journal_commit",
    "load",
    "lock_page",
    "lock_page_killable",
    "lock_page_or_retry",
    "madvise_remove",
    "mark_buffer_dirty",
    "mlock",
    "mmap",
    "mmap_read_lock",
    "mmap_read_unlock",
    "mmap_region",
    "mmap_write_lock",
    "mmap_write_unlock",
    "mpage_map_and_submit_extent",
    "mpage_prepare_extent_to_map",
    "mpage_readpage",
    "mpage_submit_page",
    "msync",
    "munmap",
    "mutex_lock",
    "mutex_unlock",
    "page_cache_ra_unbounded",
    "page_mkclean",
    "page_zero_new_buffers",
    "pagecache_isize_extended",
    "punch_hole",
    "put_locked_mapping_entry",
    "range_lock",
    "range_read_lock",
    "range_read_unlock",
    "range_unlock",
    "range_write_lock",
    "range_write_unlock",
    "read",
    "read_pages",
    "readahead",
    "reclaim",
    "redirty_page_for_writepage",
    "set_page_dirty",
    "set_page_dirty_lock",
    "shrink_page_list",
    "store",
    "submit_bh",
    "submit_bio",
    "sync",
    "truncate",
    "truncate_inode_page",
    "truncate_inode_pages_range",
    "try_grab_page",
    "try_to_release_page",
    "unlock_page",
    "unmap_mapping_range",
    "unmap_region",
    "unpin_user_pages",
    "up_read",
    "up_write",
    "vm_insert_mixed",
    "wait_on_page_writeback",
    "wp_page_shared",
    "write",
    "write_cache_pages",
    "writeback",
    "xfs_bmap_punch_delalloc_range",
    "xfs_buffered_write_iomap_begin",
    "xfs_file_aio_write_checks",
    "xfs_setattr_size",
    "xfs_zero_eof",
    "zero_range",
];

/// Whether `name` is a kernel function some event can carry ([`LOGGED_FUNCTIONS`]).
pub fn is_logged_function(name: &str) -> bool {
    LOGGED_FUNCTIONS.binary_search(&name).is_ok()
}

/// Batch lookups that take every cached page of their range whatever its flags
/// (`pagevec_lookup` in truncate, `pagevec_lookup_entries` in invalidation, reclaim's scan):
/// their `PagesFound` reads the cache slots only. Any other caller is taken to select by flags.
const LOOKUPS_OF_EVERY_PAGE: [&str; 3] =
    ["truncate_inode_pages_range", "invalidate_inode_pages2_range", "shrink_page_list"];

impl Event {
    /// The objects this event read or wrote: [`Change::accesses`], refined where the kernel
    /// function says more than the change (a batch lookup that does not look at page flags).
    pub fn accesses(&self, out: &mut Vec<Access>) {
        let first = out.len();
        self.change.accesses(out);
        // wait_on_page_writeback queues on the page lock only while the page is under
        // writeback: the request read the page's flags, which the IO completion writes.
        if self.function == "wait_on_page_writeback"
            && let Change::LockWait { class: LockClass::Page(page), .. }
            | Change::LockAcquired { class: LockClass::Page(page), .. } = self.change
        {
            out.push(Access { object: Object::Page(page), write: false });
        }
        if matches!(self.change, Change::PagesFound { .. }) && LOOKUPS_OF_EVERY_PAGE.contains(&self.function) {
            let mut i = first;
            while i < out.len() {
                if matches!(out[i].object, Object::CachedPages(..)) {
                    out.remove(i);
                } else {
                    i += 1;
                }
            }
        }
    }

    pub fn describe(&self, names: &dyn Names) -> String {
        format!("{} {}: {}", names.actor(self.actor), self.function, self.change.describe(names))
    }
}

/// A kernel object a step reads or writes. Events name the objects they touch, so every step's
/// footprint is known without instrumenting the kernel functions; a partial-order reduction
/// treats two steps as dependent when their footprints overlap with at least one write.
/// Footprints are conservative: where an event does not say exactly what it touched (a page's
/// PTEs, say), it names a coarser object that covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    Lock(LockClass),
    ISize(Ino),
    /// Page-cache slots of `ino` in a range.
    CacheSlots(Ino, PageRange),
    /// A page frame's flags, content and buffers.
    Page(PageId),
    /// Block-map entries of `ino` in a range.
    Extents(Ino, PageRange),
    /// The allocator's free list and block owners.
    Allocator,
    Block(Pblk),
    /// PTEs mapping `ino` in a range, in any mm (zaps reach every mm).
    Ptes(Ino, PageRange),
    /// Every PTE in the system (write-protecting a page's mappings).
    AllPtes,
    /// An mm's VMA list.
    Vmas(MmId),
    /// The inode's `EXT4_STATE_DIOREAD_LOCK` bit.
    DioreadLock(Ino),
    /// Not kernel memory: the oracles' record of the operations on one file that ended, per
    /// actor (`Some`), or all of them (`None`, overlapping every actor's). The end-state oracles
    /// respect real-time order (an item that ended before another began comes first), so
    /// the order of one actor's item end and another's item begin matters, while two begins
    /// or two ends of different actors commute: an end writes its actor's object, a begin reads
    /// them all. Events never name it themselves ([`Change::accesses`]); the oracles add it
    /// (`racesim_oracles::judge_accesses`), so that a partial-order reduction never reorders
    /// two steps whose order a verdict depends on.
    ItemEnds(Ino, Option<ActorId>),
    /// Not kernel memory: the oracles' EOF fence of one file (shrinks in progress and the sizes
    /// they shrank to, what a finished one fenced off), read when judging PTEs and reads.
    Fence(Ino),
    /// Not kernel memory: whether a truncate or collapse of the file has finished, which arms
    /// the oracles' check of every PTE installation.
    FenceArmed(Ino),
    /// The flags (dirty, writeback) of the pages cached in a range of a file: which frames
    /// those are is state, so it overlaps every [`Object::Page`].
    CachedPages(Ino, PageRange),
    /// `i_disksize` of an inode (`crate::journal`).
    DiskSize(Ino),
    /// The committed metadata of every inode, and the running transaction's freed blocks.
    Committed,
    /// Not kernel memory: the oracles' record of what the returned fsyncs of one file promised
    /// (written where an fsync or an operation that changes the file begins or ends, in a
    /// scenario that crashes; read by the crash, which reads everything).
    FsyncPromise(Ino),
    /// Everything: what a step that logs [`Change::Nothing`] read to decide there was nothing
    /// to do is not said, so it is taken to have read every object.
    Anything,
}

/// One object and whether the step writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    pub object: Object,
    pub write: bool,
}

impl Object {
    /// Whether two objects may be the same memory.
    pub fn overlaps(self, other: Object) -> bool {
        use Object::*;
        match (self, other) {
            (CacheSlots(a, r), CacheSlots(b, s)) | (Extents(a, r), Extents(b, s)) | (Ptes(a, r), Ptes(b, s)) => {
                a == b && r.overlaps(s)
            }
            (Anything, _) | (_, Anything) => true,
            (CachedPages(..), Page(_)) | (Page(_), CachedPages(..)) => true,
            (AllPtes, Ptes(..)) | (Ptes(..), AllPtes) => true,
            (ItemEnds(a, x), ItemEnds(b, y)) => a == b && (x.is_none() || y.is_none() || x == y),
            _ => self == other,
        }
    }
}

impl Change {
    /// The objects this event read or wrote (appended to `out`).
    pub fn accesses(&self, out: &mut Vec<Access>) {
        use Object::*;
        let read = |object| Access { object, write: false };
        let write = |object| Access { object, write: true };
        let one = PageRange::page;
        match *self {
            Change::OpBegin { .. } | Change::OpEnd { .. } => {}
            // It looked at something (a page's flags, a lock, the PTEs) and found nothing to do.
            Change::Nothing => out.push(read(Anything)),
            Change::LockWait { class, .. }
            | Change::LockAcquired { class, .. }
            | Change::LockReleased { class, .. } => out.push(write(Lock(class))),
            Change::ISizeCheck { ino, .. } => out.push(read(ISize(ino))),
            Change::ISizeSet { ino, .. } => out.push(write(ISize(ino))),
            Change::PageLookup { ino, index, page } => {
                out.push(read(CacheSlots(ino, one(index))));
                if let Some(p) = page {
                    out.push(read(Page(p)));
                }
            }
            Change::PageAdded { ino, index, page } => {
                out.extend([write(CacheSlots(ino, one(index))), write(Page(page))]);
            }
            // Both read paths compare the block with i_size first (past EOF: a hole).
            Change::PageRead { ino, index, page, extent, .. } => {
                out.extend([write(Page(page)), read(Extents(ino, one(index))), read(ISize(ino))]);
                if let Some(p) = extent.pblk() {
                    out.push(read(Block(p)));
                }
            }
            Change::MappingCheck { page, i_size_of, .. } => {
                out.push(read(Page(page)));
                if let Some(ino) = i_size_of {
                    out.push(read(ISize(ino)));
                }
            }
            Change::BlockMapped { ino, lblk, extent, allocated, reserved } => {
                // A delayed allocation is reported with `allocated: false` (no block, no
                // buffer_new) whether this step reserved it over a hole or found it: taken as a
                // write of the extent either way (conservative; the reservation writes it).
                let writes_extent = allocated || extent == Extent::Delalloc;
                out.push(Access { object: Extents(ino, one(lblk)), write: writes_extent });
                if allocated {
                    out.push(write(Allocator));
                } else if reserved {
                    // A reservation changes what is left for the others: which of two gets
                    // ENOSPC can depend on their order. (Only "read" for a reservation that
                    // left room would not do: a partial-order reduction's sleep set would keep
                    // a reservation asleep while another's took the room it needed.)
                    out.push(write(Allocator));
                }
            }
            // Zeroing blocks of a page that may be mapped: ordered against loads and stores
            // through any PTE (theirs name a block, not the page).
            Change::BlocksZeroed { page, .. } => out.extend([write(Page(page)), write(AllPtes)]),
            // The same, and the zeroing was decided on `i_size` (writeback samples it).
            Change::TailZeroed { ino, lblk, page } | Change::HeadZeroed { ino, lblk, page } => {
                out.extend([write(Page(page)), write(AllPtes), read(ISize(ino)), read(Extents(ino, one(lblk)))])
            }
            Change::PageDirtied { page, i_size_of } => {
                out.push(write(Page(page)));
                if let Some(ino) = i_size_of {
                    out.push(read(ISize(ino)));
                }
            }
            Change::PageCopied { page, .. } | Change::PageZeroed { page } => out.push(write(Page(page))),
            Change::PteInstalled { mm, ino, index, .. } => {
                out.extend([write(Ptes(ino, one(index))), read(Vmas(mm))]);
            }
            Change::PteMadeWritable { mm, ino, index } => {
                out.extend([write(Ptes(ino, one(index))), read(Vmas(mm))]);
            }
            Change::PteProbe { mm, ino, index, .. } => {
                out.extend([read(Ptes(ino, one(index))), read(Vmas(mm))]);
            }
            // A zap that found no PTE changed nothing: it only read the page tables (a PTE
            // installed before it in another order writes them, which orders the two).
            Change::PtesZapped { ino, range, count } => out.push(Access { object: Ptes(ino, range), write: count > 0 }),
            Change::PtesWriteProtected { page, count } => {
                out.extend([read(Page(page)), Access { object: AllPtes, write: count > 0 }])
            }
            Change::PageDeleted { ino, index, page, .. } => {
                out.extend([write(CacheSlots(ino, one(index))), write(Page(page)), write(Ptes(ino, one(index)))]);
            }
            Change::PageCleaned { page, .. } => out.extend([write(Page(page)), write(AllPtes)]),
            // The write-out step also looked the block up in the block map when the page had no
            // buffer, and its IO completion converts an unwritten extent (end_io): declared as
            // a write of the extent, conservatively.
            // A direct write's half-block write: the block (the rest of it is kept, so the
            // step reads it too, as a write covers that), and the extent its completion converts.
            Change::PartialDiskWrite { pblk, ino, lblk, .. } => {
                out.extend([write(Block(pblk)), read(Allocator), write(Extents(ino, one(lblk)))]);
            }
            Change::DiskWrite { pblk, ino, lblk, page, .. } => {
                out.extend([write(Block(pblk)), read(Allocator), write(Extents(ino, one(lblk)))]);
                if let Some(page) = page {
                    out.push(write(Page(page)));
                }
            }
            Change::UserRead { ino, index, from, .. } => {
                // The data came through a PTE or the page cache: cover both, and the blocks;
                // and the page or block it was copied from, which other steps write.
                out.extend([
                    read(Ptes(ino, one(index))),
                    read(CacheSlots(ino, one(index))),
                    read(Extents(ino, one(index))),
                ]);
                match from {
                    ReadFrom::Page(page) => out.push(read(Page(page))),
                    ReadFrom::Block(pblk) => out.push(read(Block(pblk))),
                    ReadFrom::Zeroes => {}
                }
            }
            Change::StoreRetired { ino, index, .. } => out.push(write(Ptes(ino, one(index)))),
            Change::BlocksFreed { ino, range, .. } => out.extend([write(Extents(ino, range)), write(Allocator)]),
            Change::ExtentsShiftedUp { ino, .. } | Change::ExtentsUnwritten { ino, .. } => {
                out.extend([write(Extents(ino, PageRange::to_eof(0))), write(Allocator)])
            }
            Change::PageReclaimed { ino, index, page } => {
                // Reclaim took it because it was unlocked and unmapped: it read both.
                out.extend([
                    write(CacheSlots(ino, one(index))),
                    write(Page(page)),
                    read(Ptes(ino, one(index))),
                    read(Lock(LockClass::Page(page))),
                ]);
            }
            Change::PagePinned { mm, ino, index, page } => {
                out.extend([read(Ptes(ino, one(index))), read(Vmas(mm)), write(Page(page))]);
            }
            Change::DaxPagePinned { mm, ino, index, pblk } => {
                out.extend([read(Ptes(ino, one(index))), read(Vmas(mm)), read(Block(pblk))]);
            }
            Change::DmaFromDaxPage { pblk, .. } => out.extend([read(Block(pblk)), read(Allocator)]),
            // mapping_mapped reads every mm's VMAs (covered by AllPtes, which map and unmap write).
            Change::DaxBusyPage { ino, .. } => {
                out.extend([read(Extents(ino, PageRange::to_eof(0))), read(Lock(LockClass::DaxPin)), read(AllPtes)])
            }
            Change::DaxPageRefCheck { .. } => out.push(read(Lock(LockClass::DaxPin))),
            Change::PageUnpinned { page }
            | Change::DmaIntoPage { page, .. }
            | Change::BuffersReleased { page }
            | Change::DirtyPageWithoutBuffers { page, .. } => out.push(write(Page(page))),
            Change::BioSubmitted { ino, range } => out.push(read(Extents(ino, range))),
            Change::ExtentsShifted { ino, from, .. } => {
                out.extend([write(Extents(ino, PageRange::to_eof(0))), write(Allocator)]);
                let _ = from;
            }
            Change::CopyFailed { ino, index } => out.push(read(Ptes(ino, one(index)))),
            Change::DioWait { ino } => out.push(read(ISize(ino))),
            Change::DioreadLockSet { ino, .. } => out.push(write(DioreadLock(ino))),
            Change::DioreadLockTest { ino, .. } => out.push(read(DioreadLock(ino))),
            Change::InvalidateBusy { ino, index, page } => {
                out.extend([read(Page(page)), write(Ptes(ino, one(index)))]);
            }
            // mmap sizes the mapping by the file's i_size (the model's mmap maps the whole file).
            Change::Mapped { mm, ino, .. } => out.extend([write(Vmas(mm)), write(AllPtes), read(ISize(ino))]),
            Change::Unmapped { mm, .. } => out.extend([write(Vmas(mm)), write(AllPtes)]),
            Change::VmaLocked { mm, .. } => out.push(write(Vmas(mm))),
            // A batch lookup may select by page flags (writeback looks up the dirty ones);
            // `Event::accesses` drops that read for the lookups known to take every page.
            Change::PagesFound { ino, range, .. } => {
                out.extend([read(CacheSlots(ino, range)), read(CachedPages(ino, range))])
            }
            Change::NoSpace { .. } => out.push(read(Allocator)),
            // The blocks the running transaction freed, and whether a commit is under way: the
            // transaction's locking takes the first (it writes `Committed`).
            Change::AllocRetry { .. } => out.extend([read(Allocator), read(Committed)]),
            // It scanned past the run and took the whole block map as its validity cookie.
            Change::IomapMapped { ino, range, new, .. } => {
                out.push(read(Extents(ino, PageRange::to_eof(0))));
                if new {
                    // New delayed allocations change the allocator's unpromised room as
                    // `BlockMapped`'s reservations do (new blocks also emit their own).
                    out.extend([write(Extents(ino, range)), write(Allocator)]);
                }
            }
            // The cookie covers the whole data fork (XFS's if_seq), not the map's range.
            Change::IomapValid { ino, .. } => out.push(read(Extents(ino, PageRange::to_eof(0)))),
            Change::DiskSizeSet { ino, .. } => out.extend([write(DiskSize(ino)), read(ISize(ino))]),
            // The orphan list entry is the on-disk inode's, which the commit reads with
            // i_disksize.
            Change::Orphan { ino, .. } => out.push(write(DiskSize(ino))),
            // The commit state (which the commit's steps write, as `Committed`) and, while a
            // commit is in flight (otherwise no filing changes the answer), the inode's filing,
            // which the steps that allocate its blocks write (their `BlockMapped` writes the
            // extents). It notes the check with the journal's state, which only the crash reads
            // (`DiskInode::ordered_truncate_checked`): a write of `Committed`, which orders it
            // against the commit's steps as a read would.
            Change::OrderedTruncate { ino, commit_in_flight, .. } => {
                out.push(write(Committed));
                if commit_in_flight {
                    out.push(read(Extents(ino, PageRange::to_eof(0))));
                }
            }
            // It copied every inode's size, i_disksize and block map and looked at their pages:
            // taken to have read everything (it runs once per commit).
            Change::TransactionLocked { .. } => out.extend([read(Anything), write(Committed)]),
            Change::TransactionCommitted => out.extend([write(Committed), write(Allocator)]),
            // The remount image is every inode's committed metadata and every block.
            Change::Crash => out.push(read(Anything)),
        }
    }
}
