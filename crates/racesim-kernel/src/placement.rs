//! Lock placements: a policy says which lock each kernel function holds, in which mode, over
//! which range, between which two of its points.
//!
//! Every kernel function in [`crate::ops`] that a design may lock exposes named points: its
//! `start` and `end`, and the steps it takes in between, named after the kernel call that comes
//! next (`get_user_pages`, `submit_bio`, `readpage`, ...). [`POINTS`] is the one description of
//! them: the policy-file parser, `racesim policy` and the ops code all read it. A [`Placement`]
//! names a lock class, a mode, a range and two points of one function; the placement engine
//! ([`crate::ops::Task::enter`], [`crate::ops::Task::at`], [`crate::ops::Task::leave`]) takes
//! the placements that begin at a point and releases those that end there (in LIFO order,
//! releases first), so one copy of each kernel function serves every design.
//!
//! Locks no policy decides stay in the code: page locks, `mmap_sem` in the fault and
//! `get_user_pages` paths, `i_dio_count`'s shared count of direct IO in flight, and `i_rwsem`
//! in truncate and fallocate (every filesystem takes it there).

use crate::lock::{DECLARED_MAX, DeclaredKind, DeclaredLock, LockClass, LockMode};
use crate::types::PageRange;
use serde::{Deserialize, Serialize};

/// A kernel function that exposes points to placements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Func {
    Read,
    Readahead,
    Write,
    GenericPerformWrite,
    DoFault,
    FilemapFault,
    PageCacheRead,
    FilemapReadPage,
    Readpage,
    PageMkwrite,
    DaxFault,
    Truncate,
    PunchHole,
    ZeroRange,
    CollapseRange,
    InsertRange,
    InodeDioWait,
    DioRead,
    DioWrite,
    MadviseRemove,
    DaxWrite,
    DaxInvalidateEntry,
    CopyPageToUser,
    TruncateFailedWrite,
    Fallocate,
}

/// Number of [`Func`] variants (for bit masks).
pub const FUNC_COUNT: usize = 25;

/// The functions, with their names as policy files write them and what each stands for.
pub const FUNCTIONS: [(Func, &str, &str); FUNC_COUNT] = [
    (Func::Read, "read", "read(2): generic_file_read_iter / filemap_read (xfs_file_buffered_read)"),
    (Func::Readahead, "readahead", "readahead(2), fadvise(WILLNEED), madvise(WILLNEED): page_cache_ra_unbounded"),
    (Func::Write, "write", "write(2): ext4_file_write_iter / xfs_file_buffered_write, around generic_perform_write"),
    (
        Func::GenericPerformWrite,
        "generic_perform_write",
        "one page of generic_perform_write: fault-in, write_begin, copy, write_end",
    ),
    (Func::DoFault, "do_fault", "__do_fault and finish_fault for a page-cache fault (read or shared write)"),
    (
        Func::FilemapFault,
        "filemap_fault",
        "->fault: the filesystem's wrapper around filemap_fault (ext4_filemap_fault, xfs_filemap_fault)",
    ),
    (
        Func::PageCacheRead,
        "page_cache_read",
        "creating a page-cache page and reading it in (fault, read(2), readahead)",
    ),
    (Func::FilemapReadPage, "filemap_read_page", "bringing a cached, not uptodate page uptodate (fault, read(2))"),
    (Func::Readpage, "readpage", "->readpage, under the page lock"),
    (
        Func::PageMkwrite,
        "page_mkwrite",
        "->page_mkwrite (ext4_page_mkwrite / block_page_mkwrite, xfs_filemap_page_mkwrite)",
    ),
    (Func::DaxFault, "dax_fault", "a DAX fault (__dax_fault, dax_iomap_pte_fault, with the filesystem's wrapper)"),
    (Func::Truncate, "truncate", "truncate(2): ext4_setattr / xfs_setattr_size, after inode_lock"),
    (Func::PunchHole, "punch_hole", "fallocate(PUNCH_HOLE): ext4_punch_hole / xfs_free_file_space, after inode_lock"),
    (Func::ZeroRange, "zero_range", "fallocate(ZERO_RANGE): ext4_zero_range, after inode_lock"),
    (Func::CollapseRange, "collapse_range", "fallocate(COLLAPSE_RANGE): ext4_collapse_range, after inode_lock"),
    (Func::InsertRange, "insert_range", "fallocate(INSERT_RANGE): ext4_insert_range, after inode_lock"),
    (Func::InodeDioWait, "inode_dio_wait", "inode_dio_wait, called by truncate and every fallocate mode that evicts"),
    (Func::DioRead, "dio_read", "an O_DIRECT read, submission to completion (__blockdev_direct_IO, iomap_dio_rw)"),
    (Func::DioWrite, "dio_write", "an O_DIRECT write, submission to completion"),
    (
        Func::MadviseRemove,
        "madvise_remove",
        "madvise(MADV_REMOVE): do_madvise, the VMA check, vfs_fallocate(PUNCH_HOLE)",
    ),
    (
        Func::DaxWrite,
        "dax_write",
        "one page of a DAX write(2) (dax_iomap_actor; 4.0-4.9 dax_do_io, the direct IO path)",
    ),
    (
        Func::DaxInvalidateEntry,
        "dax_invalidate_mapping_entry_sync",
        "a DAX write(2) that allocated a hole drops its mapping entry, waiting for the entry's lock (4.10+)",
    ),
    (
        Func::CopyPageToUser,
        "copy_page_to_user",
        "one page's copy to the user in read(2) (filemap_read: copy_page_to_iter -> copy_to_user), the page \
         unlocked; a store that may fault on the user buffer (handle_mm_fault, page_mkwrite)",
    ),
    (
        Func::TruncateFailedWrite,
        "truncate_failed_write",
        "the cleanup after a write(2) that failed partway (the policy's failed_write_cleanup), or a \
         direct write that failed past EOF (dio_write_past_eof = truncate_failed_write): \
         ext4_truncate_failed_write, the ->write_failed hooks (ext2_write_failed), xfs_vm_write_failed, \
         xfs_buffered_write_iomap_end's delalloc punch",
    ),
    (
        Func::Fallocate,
        "fallocate",
        "fallocate(2) mode 0: ext4_fallocate -> ext4_alloc_file_blocks, xfs_file_fallocate -> \
         xfs_alloc_file_space and xfs_setattr_size, after inode_lock",
    ),
];

impl Func {
    pub fn name(self) -> &'static str {
        FUNCTIONS[self as usize].1
    }

    pub fn named(name: &str) -> Option<Func> {
        FUNCTIONS.iter().find(|(_, n, _)| *n == name).map(|(f, _, _)| *f)
    }

    /// The points of this function, in the order it passes them.
    pub fn points(self) -> impl Iterator<Item = Point> {
        POINTS.iter().filter(move |(_, f, _, _)| *f == self).map(|(p, _, _, _)| *p)
    }

    /// The first point of the function. Every function entry asks for it, so it is read from
    /// a table built at compile time rather than found by scanning [`POINTS`].
    pub fn start(self) -> Point {
        FUNC_BOUNDS[self as usize].0
    }

    /// The last point of the function (from the same table as [`Func::start`]).
    pub fn end(self) -> Point {
        FUNC_BOUNDS[self as usize].1
    }
}

/// Each function's first and last point, in [`Func`] order, computed from [`POINTS`] at
/// compile time (a function with no row fails the build).
const FUNC_BOUNDS: [(Point, Point); FUNC_COUNT] = {
    let mut bounds: [Option<(Point, Point)>; FUNC_COUNT] = [None; FUNC_COUNT];
    let mut i = 0;
    while i < POINTS.len() {
        let (point, func, _, _) = POINTS[i];
        let f = func as usize;
        bounds[f] = match bounds[f] {
            None => Some((point, point)),
            Some((first, _)) => Some((first, point)),
        };
        i += 1;
    }
    let mut out: [(Point, Point); FUNC_COUNT] = [(POINTS[0].0, POINTS[0].0); FUNC_COUNT];
    let mut f = 0;
    while f < FUNC_COUNT {
        out[f] = match bounds[f] {
            Some(b) => b,
            None => panic!("a kernel function has no points"),
        };
        f += 1;
    }
    out
};

/// A set of points, one bit per [`Point`] (the placement engine's "does any placement begin
/// here" test, asked at every point a task passes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PointSet([u64; POINT_WORDS]);

/// Words of a [`PointSet`]; the assertion below keeps it large enough as points are added.
const POINT_WORDS: usize = 2;
const _: () = assert!(POINTS.len() <= POINT_WORDS * 64, "PointSet needs more words");

impl PointSet {
    pub fn insert(&mut self, point: Point) {
        let i = point as usize;
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, point: Point) -> bool {
        let i = point as usize;
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

/// A named point of a kernel function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Point {
    ReadStart,
    ReadEnd,
    ReadaheadStart,
    ReadaheadEnd,
    WriteStart,
    WriteEnd,
    GpwStart,
    GpwWriteBegin,
    GpwGetBlock,
    GpwCopy,
    GpwEnd,
    DoFaultStart,
    DoFaultPageMkwrite,
    DoFaultFinishFault,
    DoFaultEnd,
    FilemapFaultStart,
    FilemapFaultEnd,
    PageCacheReadStart,
    PageCacheReadReadpage,
    PageCacheReadEnd,
    FilemapReadPageStart,
    FilemapReadPageEnd,
    ReadpageStart,
    ReadpageEnd,
    PageMkwriteStart,
    PageMkwriteLockPage,
    PageMkwriteGetBlock,
    PageMkwriteEnd,
    DaxFaultStart,
    DaxFaultGetBlock,
    DaxFaultInsertMapping,
    DaxFaultEnd,
    TruncateStart,
    TruncateSetSize,
    TruncateInvalidate,
    TruncateRemoveSpace,
    TruncateEnd,
    PunchStart,
    PunchInvalidate,
    PunchRemoveSpace,
    PunchEnd,
    ZeroStart,
    ZeroInvalidate,
    ZeroConvert,
    ZeroEnd,
    CollapseStart,
    CollapseInvalidate,
    CollapseRemoveSpace,
    CollapseEnd,
    InsertStart,
    InsertInvalidate,
    InsertShift,
    InsertEnd,
    DioWaitStart,
    DioWaitEnd,
    DioReadStart,
    DioReadFlush,
    DioReadGup,
    DioReadGetBlock,
    DioReadSubmitted,
    DioReadDioEnd,
    DioReadEnd,
    DioWriteStart,
    DioWriteFlush,
    DioWriteGup,
    DioWriteGetBlock,
    DioWriteSubmitted,
    DioWriteDioEnd,
    DioWriteEnd,
    MadviseStart,
    MadvisePunch,
    MadviseEnd,
    DaxWriteStart,
    DaxWriteEnd,
    DaxInvalidateStart,
    DaxInvalidateEnd,
    CopyPageToUserStart,
    CopyPageToUserEnd,
    FailedWriteStart,
    FailedWriteTruncatePagecache,
    FailedWriteRemoveSpace,
    FailedWriteEnd,
    FallocateStart,
    FallocateEnd,
}

/// Every point: the point, its function, its name, and where in the function it is. Within a
/// function the rows are in the order the function passes them; the first is `start` and the
/// last `end`. A point named after a kernel call lies just before that call.
pub const POINTS: &[(Point, Func, &str, &str)] = &[
    (Point::ReadStart, Func::Read, "start", "entry, before the first page is looked up"),
    (Point::ReadEnd, Func::Read, "end", "after the last copy to the user"),
    (Point::ReadaheadStart, Func::Readahead, "start", "entry"),
    (Point::ReadaheadEnd, Func::Readahead, "end", "after the last page was read in"),
    (Point::WriteStart, Func::Write, "start", "entry, before anything is locked"),
    (Point::WriteEnd, Func::Write, "end", "after the last page was written"),
    (Point::GpwStart, Func::GenericPerformWrite, "start", "a page's turn, before iov_iter_fault_in_readable"),
    (Point::GpwWriteBegin, Func::GenericPerformWrite, "write_begin", "before grab_cache_page_write_begin"),
    (
        Point::GpwGetBlock,
        Func::GenericPerformWrite,
        "get_block",
        "page locked, before __block_write_begin maps or allocates its block",
    ),
    (Point::GpwCopy, Func::GenericPerformWrite, "copy", "before iov_iter_copy_from_user_atomic"),
    (Point::GpwEnd, Func::GenericPerformWrite, "end", "after write_end unlocked the page"),
    (Point::DoFaultStart, Func::DoFault, "start", "no PTE: before ->fault"),
    (
        Point::DoFaultPageMkwrite,
        Func::DoFault,
        "page_mkwrite",
        "shared write fault: before do_shared_fault calls ->page_mkwrite",
    ),
    (Point::DoFaultFinishFault, Func::DoFault, "finish_fault", "page locked and uptodate, before the PTE is installed"),
    (Point::DoFaultEnd, Func::DoFault, "end", "after the page was unlocked"),
    (Point::FilemapFaultStart, Func::FilemapFault, "start", "entry of ->fault"),
    (Point::FilemapFaultEnd, Func::FilemapFault, "end", "->fault returns, the page locked"),
    (Point::PageCacheReadStart, Func::PageCacheRead, "start", "before the page is added to the page cache"),
    (Point::PageCacheReadReadpage, Func::PageCacheRead, "readpage", "the new page added, locked, before ->readpage"),
    (Point::PageCacheReadEnd, Func::PageCacheRead, "end", "the page read (or somebody else's page locked)"),
    (
        Point::FilemapReadPageStart,
        Func::FilemapReadPage,
        "start",
        "the page unlocked again: a lock here is taken before the page lock, which is then retaken",
    ),
    (Point::FilemapReadPageEnd, Func::FilemapReadPage, "end", "the page read in"),
    (Point::ReadpageStart, Func::Readpage, "start", "inside ->readpage, under the page lock"),
    (Point::ReadpageEnd, Func::Readpage, "end", "the read is done, the page still locked"),
    (Point::PageMkwriteStart, Func::PageMkwrite, "start", "entry of ->page_mkwrite"),
    (Point::PageMkwriteLockPage, Func::PageMkwrite, "lock_page", "before lock_page"),
    (
        Point::PageMkwriteGetBlock,
        Func::PageMkwrite,
        "get_block",
        "page locked and checked, before the block is mapped or allocated",
    ),
    (Point::PageMkwriteEnd, Func::PageMkwrite, "end", "page dirty, returning it locked"),
    (Point::DaxFaultStart, Func::DaxFault, "start", "entry of the DAX fault, before the i_size check"),
    (
        Point::DaxFaultGetBlock,
        Func::DaxFault,
        "get_block",
        "before get_block / iomap_begin looks up or allocates the block",
    ),
    (
        Point::DaxFaultInsertMapping,
        Func::DaxFault,
        "dax_insert_mapping",
        "before the second i_size check and the PTE insertion",
    ),
    (Point::DaxFaultEnd, Func::DaxFault, "end", "after the PTE went in"),
    (Point::TruncateStart, Func::Truncate, "start", "i_rwsem held, before inode_dio_wait and the size update"),
    (
        Point::TruncateSetSize,
        Func::Truncate,
        "set_size",
        "before i_size is set; after inode_dio_wait, unless dio_read_fence (ext4 3.7-5.2 waits after the size)",
    ),
    (
        Point::TruncateInvalidate,
        Func::Truncate,
        "invalidate",
        "i_size set (and direct IO waited for, where the truncate waits), before the page cache is evicted",
    ),
    (Point::TruncateRemoveSpace, Func::Truncate, "remove_space", "page cache evicted, before the blocks are freed"),
    (Point::TruncateEnd, Func::Truncate, "end", "blocks freed, before inode_unlock"),
    (Point::PunchStart, Func::PunchHole, "start", "i_rwsem held, range bounded by EOF, before inode_dio_wait"),
    (Point::PunchInvalidate, Func::PunchHole, "invalidate", "after inode_dio_wait, before truncate_pagecache_range"),
    (Point::PunchRemoveSpace, Func::PunchHole, "remove_space", "page cache evicted, before the blocks are freed"),
    (Point::PunchEnd, Func::PunchHole, "end", "blocks freed, before inode_unlock"),
    (Point::ZeroStart, Func::ZeroRange, "start", "i_rwsem held, before inode_dio_wait"),
    (Point::ZeroInvalidate, Func::ZeroRange, "invalidate", "after inode_dio_wait, before truncate_pagecache_range"),
    (Point::ZeroConvert, Func::ZeroRange, "convert", "page cache evicted, before the extents become unwritten"),
    (Point::ZeroEnd, Func::ZeroRange, "end", "extents converted, before inode_unlock"),
    (Point::CollapseStart, Func::CollapseRange, "start", "i_rwsem held, before inode_dio_wait"),
    (
        Point::CollapseInvalidate,
        Func::CollapseRange,
        "invalidate",
        "range accepted, before the flush (if under the lock) and eviction",
    ),
    (
        Point::CollapseRemoveSpace,
        Func::CollapseRange,
        "remove_space",
        "page cache evicted, before the blocks are freed and shifted",
    ),
    (Point::CollapseEnd, Func::CollapseRange, "end", "extents shifted and i_size set, before inode_unlock"),
    (Point::InsertStart, Func::InsertRange, "start", "i_rwsem held, before inode_dio_wait"),
    (
        Point::InsertInvalidate,
        Func::InsertRange,
        "invalidate",
        "range accepted, before the flush (if under the lock) and eviction",
    ),
    (Point::InsertShift, Func::InsertRange, "shift", "page cache evicted, before i_size grows and the extents move"),
    (Point::InsertEnd, Func::InsertRange, "end", "extents shifted, before inode_unlock"),
    (Point::DioWaitStart, Func::InodeDioWait, "start", "entry of inode_dio_wait"),
    (Point::DioWaitEnd, Func::InodeDioWait, "end", "every direct IO in flight has ended"),
    (Point::DioReadStart, Func::DioRead, "start", "entry, before inode_dio_begin"),
    (
        Point::DioReadFlush,
        Func::DioRead,
        "filemap_write_and_wait_range",
        "counted in i_dio_count, before the page cache is flushed",
    ),
    (
        Point::DioReadGup,
        Func::DioRead,
        "get_user_pages",
        "page cache flushed (and, under iomap's dio_pin_order, blocks mapped), before the user buffer is pinned",
    ),
    (
        Point::DioReadGetBlock,
        Func::DioRead,
        "get_block",
        "buffer pinned, before the blocks are mapped (fs/direct-io.c) and the bio submitted",
    ),
    (Point::DioReadSubmitted, Func::DioRead, "submitted", "right after submit_bio"),
    (Point::DioReadDioEnd, Func::DioRead, "inode_dio_end", "bio completed and pages unpinned, before inode_dio_end"),
    (Point::DioReadEnd, Func::DioRead, "end", "after inode_dio_end"),
    (Point::DioWriteStart, Func::DioWrite, "start", "entry, before inode_dio_begin"),
    (
        Point::DioWriteFlush,
        Func::DioWrite,
        "filemap_write_and_wait_range",
        "counted in i_dio_count, before the page cache is flushed and evicted",
    ),
    (
        Point::DioWriteGup,
        Func::DioWrite,
        "get_user_pages",
        "page cache flushed and evicted (and, under iomap's dio_pin_order, blocks mapped), before the user buffer is pinned",
    ),
    (
        Point::DioWriteGetBlock,
        Func::DioWrite,
        "get_block",
        "buffer pinned, before the blocks are mapped or allocated (fs/direct-io.c) and the bio submitted",
    ),
    (
        Point::DioWriteSubmitted,
        Func::DioWrite,
        "submitted",
        "right after submit_bio; an asynchronous write's invalidation after ->direct_IO runs before it",
    ),
    (Point::DioWriteDioEnd, Func::DioWrite, "inode_dio_end", "bio completed, before inode_dio_end"),
    (Point::DioWriteEnd, Func::DioWrite, "end", "after inode_dio_end (and the i_size update of an extending write)"),
    (Point::MadviseStart, Func::MadviseRemove, "start", "do_madvise entry, before the VMA is checked"),
    (Point::MadvisePunch, Func::MadviseRemove, "punch", "before vfs_fallocate (the punch takes i_rwsem)"),
    (Point::MadviseEnd, Func::MadviseRemove, "end", "after the punch"),
    (Point::DaxWriteStart, Func::DaxWrite, "start", "before the block is looked up or allocated"),
    (Point::DaxWriteEnd, Func::DaxWrite, "end", "the page's data copied to the block"),
    (Point::DaxInvalidateStart, Func::DaxInvalidateEntry, "start", "before the entry is dropped"),
    (Point::DaxInvalidateEnd, Func::DaxInvalidateEntry, "end", "before the hole's PTEs are zapped"),
    (
        Point::CopyPageToUserStart,
        Func::CopyPageToUser,
        "start",
        "the page looked up, uptodate and unlocked, before the i_size recheck and the copy",
    ),
    (
        Point::CopyPageToUserEnd,
        Func::CopyPageToUser,
        "end",
        "the page copied (after any fault on the user buffer), or the copy failed",
    ),
    (
        Point::FailedWriteStart,
        Func::TruncateFailedWrite,
        "start",
        "the write stopped short and found blocks to undo (i_rwsem still held), before anything is evicted",
    ),
    (
        Point::FailedWriteTruncatePagecache,
        Func::TruncateFailedWrite,
        "truncate_pagecache",
        "before the pages of the range are evicted (truncate_inode_pages, truncate_pagecache_range)",
    ),
    (
        Point::FailedWriteRemoveSpace,
        Func::TruncateFailedWrite,
        "remove_space",
        "before the blocks are freed (ext4_truncate) or the delalloc reservations punched",
    ),
    (Point::FailedWriteEnd, Func::TruncateFailedWrite, "end", "blocks freed or punched, back in the write"),
    (Point::FallocateStart, Func::Fallocate, "start", "i_rwsem held, before the blocks are allocated"),
    (
        Point::FallocateEnd,
        Func::Fallocate,
        "end",
        "blocks allocated and i_size grown (pagecache_isize_extended run), before inode_unlock",
    ),
];

impl Point {
    fn row(self) -> &'static (Point, Func, &'static str, &'static str) {
        &POINTS[self as usize]
    }

    pub fn func(self) -> Func {
        self.row().1
    }

    pub fn name(self) -> &'static str {
        self.row().2
    }

    pub fn description(self) -> &'static str {
        self.row().3
    }

    /// The point `name` of `func`.
    pub fn named(func: Func, name: &str) -> Option<Point> {
        func.points().find(|p| p.name() == name)
    }
}

/// A lock class a placement can take. Each resolves, for the file an operation works on (or
/// the actor's address space), to one lock object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockName {
    /// `inode->i_rwsem` (`i_mutex`; XFS `IOLOCK`).
    IRwsem,
    /// The actor's `mm->mmap_sem`.
    MmapSem,
    /// The lock that fences faults against invalidation (`i_mmap_sem`, `MMAPLOCK`,
    /// `invalidate_lock`); the policy's `fault_lock_name` says which.
    FaultLock,
    /// Kara's mapping range lock.
    RangeLock,
    /// `mapping->i_mmap_rwsem`.
    IMmapRwsem,
    /// The DAX entry lock of the index.
    DaxEntry,
    /// `i_dio_count`, taken exclusive: waits for every direct IO in flight.
    IDioCount,
    /// A jbd2 journal handle (`ext4_journal_start` .. `ext4_journal_stop`), modelled as the
    /// journal held shared; one per filesystem.
    Journal,
    /// `PG_locked`: not placeable (the kernel functions lock their pages themselves); named
    /// here so that the lock-order checks know where the code holds it, and so that a declared
    /// class can be ordered after it.
    PageLock,
    /// A lock class the policy declares (`[[lock_class]]`), per inode.
    Declared(DeclaredLock),
}

impl LockName {
    pub const ALL: [LockName; 9] = [
        LockName::IRwsem,
        LockName::MmapSem,
        LockName::FaultLock,
        LockName::RangeLock,
        LockName::IMmapRwsem,
        LockName::DaxEntry,
        LockName::IDioCount,
        LockName::Journal,
        LockName::PageLock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LockName::IRwsem => "i_rwsem",
            LockName::MmapSem => "mmap_sem",
            LockName::FaultLock => "fault_lock",
            LockName::RangeLock => "range_lock",
            LockName::IMmapRwsem => "i_mmap_rwsem",
            LockName::DaxEntry => "dax_entry",
            LockName::IDioCount => "i_dio_count",
            LockName::Journal => "journal",
            LockName::PageLock => "page_lock",
            LockName::Declared(d) => d.name(),
        }
    }

    /// A built-in class by name.
    pub fn named(name: &str) -> Option<LockName> {
        LockName::ALL.into_iter().find(|l| l.name() == name)
    }

    /// A built-in class, or one of `declared`, by name.
    pub fn named_in(name: &str, declared: &[DeclaredLock]) -> Option<LockName> {
        LockName::named(name).or_else(|| declared.iter().find(|d| d.name() == name).map(|d| LockName::Declared(*d)))
    }

    /// Rank in the lock order Linux documents: a lock may be taken while holding only locks
    /// of lower (or equal, unordered) rank. From the header comments of mm/filemap.c
    /// ("->i_rwsem ->invalidate_lock ->i_mmap_rwsem", "->mmap_lock ->invalidate_lock
    /// ->lock_page", "->i_rwsem ->mmap_lock"), fs/ext4/super.c's "Lock ordering" ("mmap_lock
    /// -> invalidate_lock (r) -> transaction start -> page lock"; "i_mutex -> invalidate_lock
    /// (w) -> i_mmap_rwsem (w) -> page lock") and Kara's range lock RFC ("mmap_sem > range
    /// lock", the range lock taken before the page lock). `None`: not ordered (i_dio_count is
    /// not a lock to lockdep). The built-in ranks are even; a declared class ordered `after` a
    /// class ranks one above it (odd), between it and the next. A declared class without
    /// `after` is not ordered.
    pub fn rank(self) -> Option<u8> {
        match self {
            LockName::IRwsem => Some(0),
            LockName::MmapSem => Some(2),
            LockName::FaultLock | LockName::RangeLock => Some(4),
            LockName::Journal | LockName::IMmapRwsem => Some(6),
            LockName::DaxEntry => Some(8),
            LockName::PageLock => Some(10),
            LockName::IDioCount => None,
            LockName::Declared(d) => d.rank(),
        }
    }

    /// The kernel call that takes (or, with `release`, drops) this lock in `mode`, as events
    /// name it.
    pub fn call(self, mode: LockMode, release: bool) -> &'static str {
        let shared = mode == LockMode::Shared;
        match (self, shared, release) {
            (LockName::IRwsem, false, false) => "inode_lock",
            (LockName::IRwsem, true, false) => "inode_lock_shared",
            (LockName::IRwsem, false, true) => "inode_unlock",
            (LockName::IRwsem, true, true) => "inode_unlock_shared",
            (LockName::MmapSem, false, false) => "mmap_write_lock",
            (LockName::MmapSem, true, false) => "mmap_read_lock",
            (LockName::MmapSem, false, true) => "mmap_write_unlock",
            (LockName::MmapSem, true, true) => "mmap_read_unlock",
            (LockName::FaultLock, false, false) => "filemap_invalidate_lock",
            (LockName::FaultLock, true, false) => "filemap_invalidate_lock_shared",
            (LockName::FaultLock, false, true) => "filemap_invalidate_unlock",
            (LockName::FaultLock, true, true) => "filemap_invalidate_unlock_shared",
            (LockName::RangeLock, _, false) => "range_lock",
            (LockName::RangeLock, _, true) => "range_unlock",
            (LockName::IMmapRwsem, false, false) => "i_mmap_lock_write",
            (LockName::IMmapRwsem, true, false) => "i_mmap_lock_read",
            (LockName::IMmapRwsem, false, true) => "i_mmap_unlock_write",
            (LockName::IMmapRwsem, true, true) => "i_mmap_unlock_read",
            (LockName::DaxEntry, _, false) => "grab_mapping_entry",
            (LockName::DaxEntry, _, true) => "put_locked_mapping_entry",
            (LockName::IDioCount, _, _) => "inode_dio_wait",
            (LockName::Journal, _, false) => "ext4_journal_start",
            (LockName::Journal, _, true) => "ext4_journal_stop",
            (LockName::PageLock, _, false) => "lock_page",
            (LockName::PageLock, _, true) => "unlock_page",
            (LockName::Declared(d), _, _) => match (d.kind(), shared, release) {
                (DeclaredKind::Rwsem, false, false) => "down_write",
                (DeclaredKind::Rwsem, true, false) => "down_read",
                (DeclaredKind::Rwsem, false, true) => "up_write",
                (DeclaredKind::Rwsem, true, true) => "up_read",
                (DeclaredKind::Mutex, _, false) => "mutex_lock",
                (DeclaredKind::Mutex, _, true) => "mutex_unlock",
                (DeclaredKind::Range, false, false) => "range_write_lock",
                (DeclaredKind::Range, true, false) => "range_read_lock",
                (DeclaredKind::Range, false, true) => "range_write_unlock",
                (DeclaredKind::Range, true, true) => "range_read_unlock",
            },
        }
    }

    /// Whether `class` is this lock (of any inode).
    pub fn is(self, class: LockClass) -> bool {
        matches!(
            (self, class),
            (LockName::IRwsem, LockClass::IRwsem(_))
                | (LockName::MmapSem, LockClass::MmapSem(_))
                | (LockName::FaultLock, LockClass::FaultLock(_))
                | (LockName::RangeLock, LockClass::RangeLock(_))
                | (LockName::IMmapRwsem, LockClass::IMmapRwsem(_))
                | (LockName::DaxEntry, LockClass::DaxEntry(_))
                | (LockName::IDioCount, LockClass::DioCount(_))
                | (LockName::Journal, LockClass::Journal)
                | (LockName::PageLock, LockClass::Page(_))
        ) || matches!((self, class), (LockName::Declared(d), LockClass::Declared(e, _)) if d == e)
    }
}

/// Shared or exclusive, as policy files spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Shared,
    Exclusive,
}

impl Mode {
    pub fn lock_mode(self) -> LockMode {
        match self {
            Mode::Shared => LockMode::Shared,
            Mode::Exclusive => LockMode::Exclusive,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Shared => "shared",
            Mode::Exclusive => "exclusive",
        }
    }
}

/// Over which pages a placement takes its lock (meaningful for the range lock and the DAX
/// entry lock; an rwsem is always taken over the whole file whatever the range says, so
/// placements of rwsems say `file`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeSpec {
    /// The page the function works on (the faulting index, the page being written or read).
    Page,
    /// The bio of a direct IO (in the model, one bio covers the whole request).
    Bio,
    /// The range of the operation (for truncate: from the new size to EOF; for a punch, the
    /// range bounded by EOF).
    Range,
    /// From the start of the operation's range to EOF.
    ToEof,
    /// The whole file.
    File,
}

impl RangeSpec {
    pub fn name(self) -> &'static str {
        match self {
            RangeSpec::Page => "page",
            RangeSpec::Bio => "bio",
            RangeSpec::Range => "range",
            RangeSpec::ToEof => "to_eof",
            RangeSpec::File => "file",
        }
    }

    pub fn resolve(self, index: crate::types::Lblk, range: PageRange) -> PageRange {
        match self {
            RangeSpec::Page => PageRange::page(index),
            RangeSpec::Bio | RangeSpec::Range => range,
            RangeSpec::ToEof => PageRange::to_eof(range.start),
            RangeSpec::File => PageRange::WHOLE,
        }
    }
}

/// One lock a kernel function holds: `lock` in `mode` over `range`, from point `from` to point
/// `to` of the same function. `code` says which kernel code it stands for; it is a comment, so
/// two placements that differ only there are equal.
#[derive(Clone, Debug)]
pub struct Placement {
    pub lock: LockName,
    pub mode: Mode,
    pub range: RangeSpec,
    pub from: Point,
    pub to: Point,
    pub code: Option<String>,
}

impl PartialEq for Placement {
    fn eq(&self, other: &Self) -> bool {
        (self.lock, self.mode, self.range, self.from, self.to)
            == (other.lock, other.mode, other.range, other.from, other.to)
    }
}

impl Eq for Placement {}

impl std::hash::Hash for Placement {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.lock, self.mode, self.range, self.from, self.to).hash(state)
    }
}

impl Placement {
    pub fn func(&self) -> Func {
        self.from.func()
    }

    /// A placement with no `code` note.
    pub fn new(lock: LockName, mode: Mode, range: RangeSpec, from: Point, to: Point) -> Self {
        Placement { lock, mode, range, from, to, code: None }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }
}

/// A placement as files and traces write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementForm {
    pub lock: String,
    pub mode: String,
    pub range: String,
    pub function: String,
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// What is wrong with a placement, and which of its fields is at fault (for positions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementError {
    pub field: &'static str,
    pub message: String,
}

impl From<&Placement> for PlacementForm {
    fn from(p: &Placement) -> Self {
        PlacementForm {
            lock: p.lock.name().into(),
            mode: p.mode.name().into(),
            range: p.range.name().into(),
            function: p.func().name().into(),
            from: p.from.name().into(),
            to: p.to.name().into(),
            code: p.code.clone(),
        }
    }
}

impl PlacementForm {
    /// The placement this form describes, or what is wrong with it (built-in classes only).
    pub fn placement(&self) -> Result<Placement, PlacementError> {
        self.placement_in(&[])
    }

    /// The placement this form describes, its lock one of the built-in classes or of
    /// `declared`, or what is wrong with it.
    pub fn placement_in(&self, declared: &[DeclaredLock]) -> Result<Placement, PlacementError> {
        let err = |field, message: String| PlacementError { field, message };
        if self.lock == LockName::PageLock.name() {
            return Err(err("lock", page_lock_refusal(Func::named(&self.function))));
        }
        let lock = LockName::named_in(&self.lock, declared).ok_or_else(|| {
            let names: Vec<&str> = LockName::ALL
                .iter()
                .filter(|l| **l != LockName::PageLock)
                .map(|l| l.name())
                .chain(declared.iter().map(|d| d.name()))
                .collect();
            err(
                "lock",
                format!(
                    "unknown lock '{}'{}; the locks are {} (declare a filesystem's own lock with a [[lock_class]] \
                     table)",
                    self.lock,
                    nearest(&self.lock, &names),
                    names.join(", ")
                ),
            )
        })?;
        let mode = match self.mode.as_str() {
            "shared" => Mode::Shared,
            "exclusive" => Mode::Exclusive,
            other => return Err(err("mode", format!("mode must be \"shared\" or \"exclusive\", not '{other}'"))),
        };
        if let LockName::Declared(d) = lock {
            if d.kind() == DeclaredKind::Mutex && mode == Mode::Shared {
                return Err(err(
                    "mode",
                    format!("{} is declared a mutex: it is taken exclusive only (mutex_lock), not shared", d.name()),
                ));
            }
            if d.kind() != DeclaredKind::Range && self.range != "file" {
                return Err(err(
                    "range",
                    format!(
                        "{} is declared a{} {}, which locks the whole inode: write range = \"file\" (declare it \
                         kind = \"range\" to lock page ranges)",
                        d.name(),
                        if d.kind() == DeclaredKind::Rwsem { "n" } else { "" },
                        d.kind().name()
                    ),
                ));
            }
        }
        let range = match self.range.as_str() {
            "page" | "index" => RangeSpec::Page,
            "bio" => RangeSpec::Bio,
            "range" => RangeSpec::Range,
            "to_eof" => RangeSpec::ToEof,
            "file" => RangeSpec::File,
            other => {
                return Err(err(
                    "range",
                    format!("range must be one of page, bio, range, to_eof, file, not '{other}'"),
                ));
            }
        };
        let func = Func::named(&self.function).ok_or_else(|| {
            let names: Vec<&str> = FUNCTIONS.iter().map(|(_, n, _)| *n).collect();
            err(
                "function",
                format!(
                    "'{}' is not a kernel function with points{}; the functions are {}",
                    self.function,
                    nearest(&self.function, &names),
                    names.join(", ")
                ),
            )
        })?;
        let point = |field: &'static str, name: &str| {
            Point::named(func, name).ok_or_else(|| {
                let names: Vec<&str> = func.points().map(|p| p.name()).collect();
                err(
                    field,
                    format!(
                        "{} has no point '{name}'{}; its points are {}",
                        func.name(),
                        nearest(name, &names),
                        names.join(", ")
                    ),
                )
            })
        };
        let from = point("from", &self.from)?;
        let to = point("to", &self.to)?;
        if to <= from {
            return Err(err(
                "to",
                format!(
                    "{} releases {} at '{}' before (or where) it takes it at '{}': a release without an acquisition",
                    func.name(),
                    lock.name(),
                    to.name(),
                    from.name()
                ),
            ));
        }
        if lock == LockName::IDioCount && mode == Mode::Shared {
            return Err(err(
                "mode",
                "i_dio_count is taken shared only by direct IO itself (inode_dio_begin); a placement waits for \
                 direct IO by taking it exclusive"
                    .into(),
            ));
        }
        Ok(Placement { lock, mode, range, from, to, code: self.code.clone() })
    }
}

/// Where each kernel function holds a page lock of its own (`lock_page` in its code), as
/// (function, first point, last point): a placement of the page lock there would take it twice.
pub const OWN_PAGE_LOCKS: &[(Func, Point, Point)] = &[
    (Func::PageCacheRead, Point::PageCacheReadReadpage, Point::PageCacheReadEnd),
    (Func::Readpage, Point::ReadpageStart, Point::ReadpageEnd),
    (Func::FilemapReadPage, Point::FilemapReadPageStart, Point::FilemapReadPageEnd),
    (Func::GenericPerformWrite, Point::GpwGetBlock, Point::GpwEnd),
    (Func::PageMkwrite, Point::PageMkwriteGetBlock, Point::PageMkwriteEnd),
    (Func::DoFault, Point::DoFaultFinishFault, Point::DoFaultEnd),
    (Func::FilemapFault, Point::FilemapFaultStart, Point::FilemapFaultEnd),
];

/// Why a placement of the page lock is refused: every kernel function that works on a page
/// locks it itself (`lock_page` is per page, in the function's own code), so a placement would
/// take the page lock a second time, a self-deadlock, or lock a page the function does not
/// have. The message names where `func` (if known) holds its own page lock, and how to put a
/// lock under it instead.
fn page_lock_refusal(func: Option<Func>) -> String {
    let own: Vec<String> = OWN_PAGE_LOCKS
        .iter()
        .filter(|(f, _, _)| func.is_none_or(|g| g == *f))
        .map(|(f, a, b)| format!("{} from '{}' to '{}'", f.name(), a.name(), b.name()))
        .collect();
    let here = match func {
        Some(f) if !own.is_empty() => format!(
            "{} holds the page lock itself ({}, its own lock_page): a placement would take it a second time",
            f.name(),
            own.join(", ")
        ),
        Some(f) => format!("{} works on no locked page a placement could name", f.name()),
        None => format!("the kernel functions lock their pages themselves ({})", own.join("; ")),
    };
    format!(
        "page_lock cannot be placed: {here}. Page locks are per page and taken by the kernel functions' own code; \
         place your lock between points where the page is held (readpage 'start' to 'end' is inside ->readpage) \
         and the lock-order oracle records page_lock -> your lock; a [[lock_class]] can name page_lock in 'after'"
    )
}

/// A lock class as a policy declares it: `[[lock_class]]` with `name`, `kind` (`rwsem`,
/// `mutex`, `range`), optionally `after` (the class it ranks after in the lock order) and
/// `code` (what it stands for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockClassForm {
    pub name: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A declared lock class: the class, the class it is ordered after (if any), and the comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Declaration {
    pub lock: DeclaredLock,
    pub after: Option<LockName>,
    pub code: Option<String>,
}

impl From<&Declaration> for LockClassForm {
    fn from(d: &Declaration) -> Self {
        LockClassForm {
            name: d.lock.name().to_string(),
            kind: d.lock.kind().name().to_string(),
            after: d.after.map(|a| a.name().to_string()),
            code: d.code.clone(),
        }
    }
}

/// The classes `forms` declare, in order (slot = position), or the first thing wrong with one:
/// its number (0 based) and the field at fault.
pub fn declare(forms: &[LockClassForm]) -> Result<Vec<Declaration>, (usize, PlacementError)> {
    let mut out: Vec<Declaration> = Vec::new();
    for (n, form) in forms.iter().enumerate() {
        let err = |field, message: String| (n, PlacementError { field, message });
        let name = form.name.as_str();
        if name.is_empty()
            || name.len() > 32
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(err(
                "name",
                format!("lock class name '{name}' must be an identifier (letters, digits, '_'; at most 32)"),
            ));
        }
        if LockName::named(name).is_some() {
            return Err(err(
                "name",
                format!("'{name}' is a built-in lock class; a declared lock class needs a name of its own"),
            ));
        }
        if let Some(first) = out.iter().position(|d| d.lock.name() == name) {
            return Err(err(
                "name",
                format!("lock class '{name}' is declared twice (first as lock class number {})", first + 1),
            ));
        }
        if out.len() == DECLARED_MAX {
            return Err(err("name", format!("a policy declares at most {DECLARED_MAX} lock classes")));
        }
        let kind = DeclaredKind::named(&form.kind).ok_or_else(|| {
            let kinds: Vec<&str> = DeclaredKind::ALL.iter().map(|k| k.name()).collect();
            err(
                "kind",
                format!(
                    "lock class '{name}': unknown kind '{}'{}; the kinds are rwsem (fair, shared and exclusive), \
                     mutex (exclusive) and range (a range lock, shared and exclusive over page ranges)",
                    form.kind,
                    nearest(&form.kind, &kinds)
                ),
            )
        })?;
        let known: Vec<DeclaredLock> = out.iter().map(|d| d.lock).collect();
        let after = match &form.after {
            None => None,
            Some(a) => Some(LockName::named_in(a, &known).filter(|l| l.rank().is_some()).ok_or_else(|| {
                let names: Vec<&str> = LockName::ALL
                    .iter()
                    .filter(|l| l.rank().is_some())
                    .map(|l| l.name())
                    .chain(known.iter().filter(|d| d.rank().is_some()).map(|d| d.name()))
                    .collect();
                err(
                    "after",
                    format!(
                        "lock class '{name}': 'after' names '{a}', not an ordered lock class{} (a declared class \
                         must be declared, and ordered, before it is named); the ordered classes are {}",
                        nearest(a, &names),
                        names.join(", ")
                    ),
                )
            })?),
        };
        let rank = after.and_then(|a| a.rank()).map(|r| r.saturating_add(1));
        let lock = DeclaredLock::new(out.len() as u8, name, kind, rank)
            .ok_or_else(|| err("name", "too many distinct lock class declarations in this process".to_string()))?;
        out.push(Declaration { lock, after, code: form.code.clone() });
    }
    Ok(out)
}

/// ", did you mean 'x'?" for the name in `names` closest to `name`, if any is close.
pub fn nearest(name: &str, names: &[&str]) -> String {
    let best = names.iter().map(|n| (levenshtein(name, n), *n)).min();
    match best {
        Some((d, n)) if d <= name.len().max(3) / 2 + 1 => format!(" (did you mean '{n}'?)"),
        _ => String::new(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb { previous } else { 1 + previous.min(row[j]).min(row[j + 1]) };
            previous = current;
        }
    }
    row[b.len()]
}

/// Which functions a function calls, and between which two of its points (the call lies in
/// `[first, second)`): what a placement held across those points reaches, for the load-time
/// deadlock warnings.
pub fn calls(func: Func) -> &'static [(Func, Point, Point)] {
    use Point::*;
    match func {
        Func::Read => &[
            (Func::PageCacheRead, ReadStart, ReadEnd),
            (Func::FilemapReadPage, ReadStart, ReadEnd),
            (Func::CopyPageToUser, ReadStart, ReadEnd),
        ],
        // copy_to_user may fault on the user buffer: a write fault on a shared mapping.
        Func::CopyPageToUser => &[
            (Func::DoFault, CopyPageToUserStart, CopyPageToUserEnd),
            // A read-only PTE: do_wp_page -> page_mkwrite.
            (Func::PageMkwrite, CopyPageToUserStart, CopyPageToUserEnd),
            (Func::DaxFault, CopyPageToUserStart, CopyPageToUserEnd),
        ],
        Func::Readahead => &[(Func::PageCacheRead, ReadaheadStart, ReadaheadEnd)],
        Func::Write => &[
            (Func::GenericPerformWrite, WriteStart, WriteEnd),
            // The cleanup after a failed page, before write(2) returns.
            (Func::TruncateFailedWrite, WriteStart, WriteEnd),
        ],
        // iov_iter_fault_in_readable faults the user buffer in before write_begin (and, in
        // kernels before 2.6.24, the copy itself could fault).
        Func::GenericPerformWrite => &[
            (Func::DoFault, GpwStart, GpwWriteBegin),
            (Func::DoFault, GpwCopy, GpwEnd),
            // A DAX file takes dax_write where a page-cache file would take write_begin.
            (Func::DaxWrite, GpwStart, GpwWriteBegin),
        ],
        Func::DaxWrite => &[(Func::DaxInvalidateEntry, DaxWriteStart, DaxWriteEnd)],
        Func::DoFault => &[
            (Func::FilemapFault, DoFaultStart, DoFaultPageMkwrite),
            (Func::PageMkwrite, DoFaultPageMkwrite, DoFaultFinishFault),
        ],
        Func::FilemapFault => &[
            (Func::PageCacheRead, FilemapFaultStart, FilemapFaultEnd),
            (Func::FilemapReadPage, FilemapFaultStart, FilemapFaultEnd),
        ],
        Func::PageCacheRead => &[(Func::Readpage, PageCacheReadReadpage, PageCacheReadEnd)],
        Func::FilemapReadPage => &[(Func::Readpage, FilemapReadPageStart, FilemapReadPageEnd)],
        Func::Truncate => &[(Func::InodeDioWait, TruncateStart, TruncateInvalidate)],
        Func::PunchHole => &[(Func::InodeDioWait, PunchStart, PunchInvalidate)],
        Func::ZeroRange => &[(Func::InodeDioWait, ZeroStart, ZeroInvalidate)],
        Func::CollapseRange => &[(Func::InodeDioWait, CollapseStart, CollapseInvalidate)],
        Func::InsertRange => &[(Func::InodeDioWait, InsertStart, InsertInvalidate)],
        Func::DioRead => &[(Func::DoFault, DioReadGup, DioReadGetBlock)],
        Func::DioWrite => &[(Func::DoFault, DioWriteGup, DioWriteGetBlock)],
        Func::MadviseRemove => &[(Func::PunchHole, MadvisePunch, MadviseEnd)],
        Func::Readpage
        | Func::PageMkwrite
        | Func::DaxFault
        | Func::InodeDioWait
        | Func::DaxInvalidateEntry
        | Func::TruncateFailedWrite
        | Func::Fallocate => &[],
    }
}

/// Locks that a function takes in its own code (not by placement) between two of its points,
/// or that its caller always holds: for the lock-order warnings. `(lock, first point, last
/// point)`: held from the first to the last; a caller's lock spans the whole function.
pub fn fixed_locks(func: Func) -> &'static [(LockName, Point, Point)] {
    match func {
        // Faults run under mmap_sem, taken by the caller (handle_mm_fault).
        Func::DoFault => &[(LockName::MmapSem, Point::DoFaultStart, Point::DoFaultEnd)],
        Func::FilemapFault => &[(LockName::MmapSem, Point::FilemapFaultStart, Point::FilemapFaultEnd)],
        // ->page_mkwrite returns the page locked (lock_page before its checks).
        Func::PageMkwrite => &[
            (LockName::MmapSem, Point::PageMkwriteStart, Point::PageMkwriteEnd),
            (LockName::PageLock, Point::PageMkwriteGetBlock, Point::PageMkwriteEnd),
        ],
        Func::DaxFault => &[(LockName::MmapSem, Point::DaxFaultStart, Point::DaxFaultEnd)],
        // get_user_pages takes mmap_sem between its points.
        Func::DioRead => &[(LockName::MmapSem, Point::DioReadGup, Point::DioReadGetBlock)],
        Func::DioWrite => &[(LockName::MmapSem, Point::DioWriteGup, Point::DioWriteGetBlock)],
        // iov_iter_fault_in_readable may fault, taking mmap_sem; write_begin returns the page
        // locked and write_end unlocks it.
        Func::GenericPerformWrite => &[
            (LockName::MmapSem, Point::GpwStart, Point::GpwWriteBegin),
            (LockName::PageLock, Point::GpwGetBlock, Point::GpwEnd),
        ],
        Func::Truncate => &[(LockName::IRwsem, Point::TruncateStart, Point::TruncateEnd)],
        Func::PunchHole => &[(LockName::IRwsem, Point::PunchStart, Point::PunchEnd)],
        Func::ZeroRange => &[(LockName::IRwsem, Point::ZeroStart, Point::ZeroEnd)],
        Func::CollapseRange => &[(LockName::IRwsem, Point::CollapseStart, Point::CollapseEnd)],
        Func::InsertRange => &[(LockName::IRwsem, Point::InsertStart, Point::InsertEnd)],
        Func::Fallocate => &[(LockName::IRwsem, Point::FallocateStart, Point::FallocateEnd)],
        // The punch takes i_rwsem inside.
        Func::MadviseRemove => &[(LockName::IRwsem, Point::MadvisePunch, Point::MadviseEnd)],
        Func::Readpage => &[(LockName::PageLock, Point::ReadpageStart, Point::ReadpageEnd)],
        Func::PageCacheRead => &[(LockName::PageLock, Point::PageCacheReadReadpage, Point::PageCacheReadEnd)],
        _ => &[],
    }
}

/// The points where a function evicts the page cache of its range (truncate_inode_pages_range
/// locks every cached page in turn), after the placements that begin there are taken: a
/// placement held across one orders itself before the page lock.
pub const EVICTIONS: &[Point] = &[
    Point::TruncateInvalidate,
    Point::PunchInvalidate,
    Point::ZeroInvalidate,
    Point::CollapseInvalidate,
    Point::InsertInvalidate,
    Point::FailedWriteTruncatePagecache,
];

/// Whether a fixed lock spans its whole function (its caller holds it), rather than being
/// taken inside at its first point.
fn caller_held(func: Func, from: Point, to: Point) -> bool {
    from == func.start() && to == func.end()
}

/// What a policy's placements do that deadlocks or can deadlock, found before running:
/// `Err` for what is always wrong (one function taking the same lock twice over overlapping
/// points), warnings (in the `Ok`) for a lock taken again by a function called while it is held
/// (a recursive acquisition: a recursive read of a fair rwsem deadlocks behind a waiting
/// writer) and for orders that invert the documented lock order ([`LockName::rank`]). Each
/// message starts with the number of the placement it is about (0 based) and a colon.
pub fn check(lock: &[Placement]) -> Result<Vec<(usize, String)>, (usize, String)> {
    for (i, p) in lock.iter().enumerate() {
        for (j, q) in lock.iter().enumerate().take(i) {
            if p.lock == q.lock && p.func() == q.func() && p.from < q.to && q.from < p.to {
                return Err((
                    i,
                    format!(
                        "{} takes {} from '{}' to '{}' while it already holds it from '{}' to '{}' (lock number {}): \
                         overlapping placements of one lock",
                        p.func().name(),
                        p.lock.name(),
                        p.from.name(),
                        p.to.name(),
                        q.from.name(),
                        q.to.name(),
                        j + 1
                    ),
                ));
            }
        }
    }
    let mut warnings = Vec::new();
    for (i, p) in lock.iter().enumerate() {
        let func = p.func();
        // Locks held when p is taken, within its function: earlier placements spanning p.from,
        // and the function's fixed locks.
        let mut held: Vec<(LockName, String)> = Vec::new();
        for (j, q) in lock.iter().enumerate() {
            let before = q.from < p.from || (q.from == p.from && j < i);
            if j != i && q.func() == func && before && q.to > p.from {
                held.push((q.lock, format!("placement {} ({} {})", j + 1, q.lock.name(), q.mode.name())));
            }
        }
        for &(f, from, to) in fixed_locks(func) {
            if caller_held(func, from, to) || (from <= p.from && to > p.from) {
                held.push((f, format!("{} (taken by the kernel code)", f.name())));
            }
        }
        for (h, what) in &held {
            if let (Some(a), Some(b)) = (p.lock.rank(), h.rank())
                && a < b
            {
                warnings.push((
                    i,
                    format!(
                        "{} takes {} at '{}' while holding {what}: the documented order is {} before {}; another \
                         path taking them in that order deadlocks against this one (the lock-order oracle reports it)",
                        func.name(),
                        p.lock.name(),
                        p.from.name(),
                        p.lock.name(),
                        h.name()
                    ),
                ));
            }
        }
        // Fixed locks taken inside the span of p, after p: the order p -> fixed.
        for &(f, from, to) in fixed_locks(func) {
            if !caller_held(func, from, to)
                && from > p.from
                && from < p.to
                && let (Some(a), Some(b)) = (f.rank(), p.lock.rank())
                && a < b
            {
                warnings.push((
                    i,
                    format!(
                        "{} holds {} from '{}' to '{}' across '{}', where it takes {}: the documented order is {} \
                         before {}",
                        func.name(),
                        p.lock.name(),
                        p.from.name(),
                        p.to.name(),
                        from.name(),
                        f.name(),
                        f.name(),
                        p.lock.name()
                    ),
                ));
            }
        }
        // An eviction inside the span of p locks pages after p.
        for &at in EVICTIONS {
            if at.func() == func
                && p.from <= at
                && p.to > at
                && let (Some(a), Some(b)) = (LockName::PageLock.rank(), p.lock.rank())
                && a < b
            {
                warnings.push((
                    i,
                    format!(
                        "{} holds {} from '{}' to '{}' across the eviction at '{}', which locks every cached page of \
                         the range: the documented order is page_lock before {}",
                        func.name(),
                        p.lock.name(),
                        p.from.name(),
                        p.to.name(),
                        at.name(),
                        p.lock.name()
                    ),
                ));
            }
        }
        // Functions called while p is held that take p's lock again, or a lock ranked before it.
        let mut seen = vec![func];
        let mut stack: Vec<Func> = calls(func)
            .iter()
            .filter(|&&(_, first, second)| p.from < second && p.to > first)
            .map(|&(g, _, _)| g)
            .collect();
        while let Some(g) = stack.pop() {
            if seen.contains(&g) {
                continue;
            }
            seen.push(g);
            stack.extend(calls(g).iter().map(|&(h, _, _)| h));
            let inner = lock.iter().enumerate().filter(|(_, q)| q.func() == g).map(|(j, q)| (j, q.lock, q.mode));
            let fixed = fixed_locks(g).iter().map(|&(f, _, _)| (usize::MAX, f, Mode::Exclusive));
            for (j, l, mode) in inner.chain(fixed) {
                let what = if j == usize::MAX {
                    format!("{} (taken by the kernel code)", l.name())
                } else {
                    format!("placement {} ({} {})", j + 1, l.name(), mode.name())
                };
                if l == p.lock {
                    let why = if mode == Mode::Shared && p.mode == Mode::Shared {
                        "a recursive read of a fair rwsem deadlocks as soon as a writer queues between the two"
                    } else {
                        "a recursive acquisition deadlocks at once"
                    };
                    warnings.push((
                        i,
                        format!(
                            "{} holds {} {} from '{}' to '{}', and {}, which it calls, takes {what}: {why}",
                            func.name(),
                            p.lock.name(),
                            p.mode.name(),
                            p.from.name(),
                            p.to.name(),
                            g.name()
                        ),
                    ));
                } else if let (Some(a), Some(b)) = (l.rank(), p.lock.rank())
                    && a < b
                    && !caller_held_anywhere(g, l)
                {
                    warnings.push((
                        i,
                        format!(
                            "{} holds {} from '{}' to '{}', and {}, which it calls, takes {what}: the documented \
                             order is {} before {}",
                            func.name(),
                            p.lock.name(),
                            p.from.name(),
                            p.to.name(),
                            g.name(),
                            l.name(),
                            p.lock.name()
                        ),
                    ));
                }
            }
        }
    }
    warnings.dedup();
    Ok(warnings)
}

/// A fixed lock that `g`'s callers hold for it is not taken by `g` (no new order there).
fn caller_held_anywhere(g: Func, l: LockName) -> bool {
    fixed_locks(g).iter().any(|&(f, from, to)| f == l && caller_held(g, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_point_table_is_in_enum_order_and_every_function_starts_and_ends() {
        for (i, (p, _, _, _)) in POINTS.iter().enumerate() {
            assert_eq!(*p as usize, i, "{p:?}");
        }
        for (i, (f, _, _)) in FUNCTIONS.iter().enumerate() {
            assert_eq!(*f as usize, i);
            assert_eq!(f.start().name(), "start", "{f:?}");
            assert_eq!(f.end().name(), "end", "{f:?}");
            let points: Vec<Point> = f.points().collect();
            assert!(points.windows(2).all(|w| w[0] < w[1]), "{f:?} points in order");
        }
    }

    /// The compile-time bounds table agrees with the point table, and a point set holds
    /// exactly what was put in it.
    #[test]
    fn start_end_table_and_point_sets_agree_with_the_points() {
        for &(func, _, _) in FUNCTIONS.iter() {
            assert_eq!(Some(func.start()), func.points().next(), "{}", func.name());
            assert_eq!(Some(func.end()), func.points().last(), "{}", func.name());
        }
        let mut set = PointSet::default();
        let chosen: Vec<Point> = POINTS.iter().map(|row| row.0).step_by(7).collect();
        chosen.iter().for_each(|&p| set.insert(p));
        for &(point, _, _, _) in POINTS {
            assert_eq!(set.contains(point), chosen.contains(&point), "{point:?}");
        }
    }

    #[test]
    fn unknown_names_come_with_the_nearest() {
        let form = PlacementForm {
            lock: "i_rwsem".into(),
            mode: "shared".into(),
            range: "file".into(),
            function: "dio_read".into(),
            from: "get_user_page".into(),
            to: "end".into(),
            code: None,
        };
        let error = form.placement().unwrap_err();
        assert_eq!(error.field, "from");
        assert!(error.message.contains("did you mean 'get_user_pages'"), "{}", error.message);
    }
}
