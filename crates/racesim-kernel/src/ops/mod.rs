//! Kernel functions, written at the granularity of the Linux functions they model and named
//! after them, so that they can be read against the C source. Each `self.cpu.step(..)` is one
//! atomic step and a scheduling point; everything between two steps is invisible to other
//! actors.
//!
//! This module owns the sequencing of steps and the consultation of the [`Policy`]; the state
//! transitions themselves live in [`crate::state`]. Submodules:
//! - [`locking`]: taking and releasing sleeping locks, `lock_page`.
//! - [`fault`]: page faults (`filemap_fault`, `page_mkwrite`, DAX faults), mmap loads and stores.
//! - [`rw`]: `generic_perform_write`, buffered read(2), DAX read/write.
//! - [`invalidate`]: truncate, punch hole, collapse range, `truncate_pagecache_range`.
//! - [`writeback`]: page writeback, `filemap_write_and_wait_range`, fsync.
//! - [`journal`]: `i_disksize` updates, the jbd2 commit (data=ordered), fsync's commit, crash.

pub mod dio;
pub mod fault;
pub mod invalidate;
pub mod journal;
pub mod locking;
pub mod rw;
pub mod writeback;

use crate::cpu::Cpu;
use crate::event::{Change, Outcome};
use crate::policy::Policy;
use crate::types::{ActorId, Ino, Lblk, MmId, PagePart, WriteId};
use dio::{Direction, NotSubmitted};
use serde::{Deserialize, Serialize};
use writeback::SyncMode;

/// Whether a write ending at block `end` ends past EOF (`pos + len > i_size`, in bytes): past
/// block `i_size`, or through the end of block `i_size - 1` where EOF lies half-way into it.
fn past_i_size(end: Lblk, i_size: Lblk, eof_half: bool) -> bool {
    end > i_size || (eof_half && end == i_size)
}

/// The user memory of a read(2), write(2) or direct IO: where a write takes its data from,
/// where a read puts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserBuffer {
    /// Ordinary anonymous memory, already present.
    Anonymous,
    /// A shared mapping of `file` starting at page `page`: faulting it in is a page fault on
    /// that file (possibly the file being written).
    Mapped { file: Ino, page: Lblk },
}

/// How write(2) allocates blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WriteAllocation {
    /// `generic_perform_write`: `write_begin` maps or allocates each page's block in turn.
    #[default]
    PerPage,
    /// A multi-page write that allocates the whole range first, then copies page by page
    /// (the `->perform_write` / iomap design of seed 003).
    WholeRange,
}

/// Where a write(2) starts and ends inside its first and last page: by default it covers
/// both whole; `first` may be [`PagePart::Tail`] (it starts half-way into its first page) and
/// `last` [`PagePart::Head`] (it ends half-way into its last page). Modelled on files whose
/// block is a page, so these are writes of part of a block (docs/model.md, "Writes of part
/// of a block").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WriteEnds {
    pub first: PagePart,
    pub last: PagePart,
}

impl WriteEnds {
    /// Both pages whole.
    pub fn is_whole(self) -> bool {
        self.first.is_whole() && self.last.is_whole()
    }

    /// The part of page `i` (0 based, relative to the write) of a `pages`-page write that
    /// the write covers.
    pub fn part(self, i: Lblk, pages: Lblk) -> PagePart {
        if i == 0 && !self.first.is_whole() {
            self.first
        } else if i + 1 == pages && !self.last.is_whole() {
            self.last
        } else {
            PagePart::Whole
        }
    }
}

/// One user-level operation an actor performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Mmap {
        file: Ino,
    },
    Munmap {
        file: Ino,
    },
    Load {
        file: Ino,
        page: Lblk,
    },
    Store {
        file: Ino,
        page: Lblk,
    },
    /// Buffered read(2) into `buffer`: anonymous memory, or a shared mapping, whose copy is
    /// a store through that mapping (and may fault on it).
    Read {
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
    },
    Write {
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
        fail_at: Option<Lblk>,
        allocation: WriteAllocation,
        ends: WriteEnds,
    },
    /// To `size` blocks; with `half`, to half-way into block `size - 1` (`size` rounded up,
    /// as `Inode::i_size` is, with `Inode::eof_half`).
    Truncate {
        file: Ino,
        size: Lblk,
        half: bool,
    },
    PunchHole {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    /// madvise(MADV_REMOVE) over pages of a shared mapping of `file`: a punch hole entered
    /// from the mm (`madvise_remove` → `vfs_fallocate(PUNCH_HOLE | KEEP_SIZE)`).
    MadviseRemove {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    /// mlock(2) over pages of the process's shared mapping of `file`: marks the VMA locked
    /// and populates it (`do_mlock` → `__mm_populate`).
    Mlock {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    CollapseRange {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    InsertRange {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    ZeroRange {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    /// fallocate(2) mode 0: allocate the range; `keep_size` is FALLOC_FL_KEEP_SIZE (otherwise a
    /// range past EOF extends the file).
    Fallocate {
        file: Ino,
        page: Lblk,
        pages: Lblk,
        keep_size: bool,
    },
    Readahead {
        file: Ino,
        page: Lblk,
        pages: Lblk,
    },
    Writeback {
        file: Ino,
    },
    Fsync {
        file: Ino,
    },
    Msync {
        file: Ino,
    },
    Reclaim {
        file: Ino,
    },
    /// O_DIRECT write; `asynchronous`: the syscall returns at submission (AIO), the completion
    /// comes after. `ends`: a write of part of its first or last block (an unaligned direct
    /// write; docs/model.md, "Unaligned direct writes").
    DioWrite {
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
        asynchronous: bool,
        ends: WriteEnds,
    },
    /// O_DIRECT read into `buffer`.
    DioRead {
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
    },
    /// A jbd2 commit of the running transaction (kjournald2's periodic commit), which holds
    /// every inode's metadata; `file` names the file the scenario is about.
    JournalCommit {
        file: Ino,
    },
    /// The machine crashes; the oracles judge what remount finds. `file` names the file the
    /// scenario is about (every file is judged).
    Crash {
        file: Ino,
    },
}

impl Operation {
    /// The syscall or event name users write in scenarios.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Mmap { .. } => "mmap",
            Operation::Munmap { .. } => "munmap",
            Operation::Load { .. } => "load",
            Operation::Store { .. } => "store",
            Operation::Read { .. } => "read",
            Operation::Write { .. } => "write",
            Operation::Truncate { .. } => "truncate",
            Operation::PunchHole { .. } => "punch_hole",
            Operation::MadviseRemove { .. } => "madvise_remove",
            Operation::Mlock { .. } => "mlock",
            Operation::CollapseRange { .. } => "collapse_range",
            Operation::InsertRange { .. } => "insert_range",
            Operation::ZeroRange { .. } => "zero_range",
            Operation::Fallocate { .. } => "fallocate",
            Operation::Readahead { .. } => "readahead",
            Operation::Writeback { .. } => "writeback",
            Operation::Fsync { .. } => "fsync",
            Operation::Msync { .. } => "msync",
            Operation::Reclaim { .. } => "reclaim",
            Operation::DioWrite { .. } => "dio_write",
            Operation::DioRead { .. } => "dio_read",
            Operation::JournalCommit { .. } => "journal_commit",
            Operation::Crash { .. } => "crash",
        }
    }

    pub fn file(&self) -> Ino {
        match *self {
            Operation::Mmap { file }
            | Operation::Munmap { file }
            | Operation::Load { file, .. }
            | Operation::Store { file, .. }
            | Operation::Read { file, .. }
            | Operation::Write { file, .. }
            | Operation::Truncate { file, .. }
            | Operation::PunchHole { file, .. }
            | Operation::MadviseRemove { file, .. }
            | Operation::Mlock { file, .. }
            | Operation::CollapseRange { file, .. }
            | Operation::InsertRange { file, .. }
            | Operation::ZeroRange { file, .. }
            | Operation::Fallocate { file, .. }
            | Operation::Readahead { file, .. }
            | Operation::Writeback { file }
            | Operation::Fsync { file }
            | Operation::Msync { file }
            | Operation::Reclaim { file }
            | Operation::DioWrite { file, .. }
            | Operation::DioRead { file, .. }
            | Operation::JournalCommit { file }
            | Operation::Crash { file } => file,
        }
    }
}

/// An actor executing kernel functions: who it is, which address space it runs in, which
/// policy the kernel follows, and the scheduler it steps through.
pub struct Task<'a, C: Cpu> {
    pub cpu: &'a mut C,
    pub actor: ActorId,
    pub mm: MmId,
    pub policy: &'a Policy,
    /// The placements this actor holds, in the order it took them.
    placed: Vec<locking::Placed>,
    /// Frames entered so far (each frame's id).
    frames: u32,
    /// [`Policy::functions_mask`], computed once.
    mask: u32,
    /// [`Policy::begin_points`], computed once: most points begin no placement, and this
    /// answers that without scanning the policy's placements.
    begins: crate::placement::PointSet,
}

impl<'a, C: Cpu> Task<'a, C> {
    pub fn new(cpu: &'a mut C, actor: ActorId, mm: MmId, policy: &'a Policy) -> Self {
        Task {
            cpu,
            actor,
            mm,
            policy,
            placed: Vec::new(),
            frames: 0,
            mask: policy.functions_mask(),
            begins: policy.begin_points(),
        }
    }
}

/// Bound on the retries of a fault or copy loop that no other actor's progress explains.
///
/// Linux bounds none of these loops: `generic_perform_write` faults the user page in and
/// copies again for as long as the fault-in succeeds, `filemap_fault` and `do_wp_page` retry
/// after every truncate or invalidation that races with them. Each retry follows another
/// actor's step (it truncated the page, zapped the PTE), and a scenario's actors do finitely
/// many steps, so a legal race can make a loop retry any number of times (a write(2) from a
/// mapping of `src` against 3 actors of 32 punches of `src` retries about 96 times). Only
/// retries with no step of any other actor in between count towards the bound: such a loop
/// would spin forever, which is a model bug. (Two actors that keep each other retrying are a
/// livelock; the explorer's step bound cuts that schedule and reports it.)
pub const RETRIES_MAX: u32 = 64;

/// The retry count of one fault or copy loop, per [`RETRIES_MAX`].
pub struct Retries {
    idle: u32,
    seen: usize,
}

impl Retries {
    pub fn new<C: Cpu>(task: &mut Task<'_, C>) -> Self {
        Retries { idle: 0, seen: task.cpu.peek(|m| m.log.len()) }
    }

    /// Counts one more try; false when [`RETRIES_MAX`] tries in a row happened with no other
    /// actor stepping in between. Reads only the event log (which actors stepped), never
    /// state the model decides on.
    pub fn again<C: Cpu>(&mut self, task: &mut Task<'_, C>) -> bool {
        let actor = task.actor;
        let seen = self.seen;
        let (others, len) =
            task.cpu.peek(|m| (m.log[seen.min(m.log.len())..].iter().any(|e| e.actor != actor), m.log.len()));
        self.seen = len;
        self.idle = if others { 1 } else { self.idle + 1 };
        self.idle <= RETRIES_MAX
    }
}

impl<C: Cpu> Task<'_, C> {
    /// Runs one user operation from start to end, logging its begin and end.
    pub fn run_operation(&mut self, op_index: u16, op: &Operation, write: WriteId) -> Outcome {
        let actor = self.actor;
        self.cpu.step(|m| m.emit(actor, op.name(), Change::OpBegin { op: op_index }));
        // An asynchronous direct IO's bio completes after the operation returned.
        let mut in_flight = None;
        let outcome = match *op {
            Operation::Mmap { file } => self.mmap(file),
            Operation::Munmap { file } => self.munmap(file),
            Operation::Load { file, page } => self.load(file, page),
            Operation::Store { file, page } => self.store(file, page, write),
            Operation::Read { file, page, pages, buffer } => self.read(file, page, pages, buffer, write),
            Operation::Write { file, page, pages, buffer, fail_at, allocation, ends } => {
                self.write(file, page, pages, buffer, fail_at, allocation, ends, write)
            }
            Operation::Truncate { file, size, half } => self.truncate(file, size, half),
            Operation::PunchHole { file, page, pages } => self.punch_hole(file, page, pages),
            Operation::MadviseRemove { file, page, pages } => self.madvise_remove(file, page, pages),
            Operation::Mlock { file, page, pages } => self.mlock(file, page, pages),
            Operation::CollapseRange { file, page, pages } => self.collapse_range(file, page, pages),
            Operation::InsertRange { file, page, pages } => self.insert_range(file, page, pages),
            Operation::ZeroRange { file, page, pages } => self.zero_range(file, page, pages),
            Operation::Fallocate { file, page, pages, keep_size } => self.fallocate(file, page, pages, keep_size),
            Operation::Readahead { file, page, pages } => self.readahead(file, page, pages),
            Operation::Writeback { file } => self.fsync(file, op.name(), SyncMode::None),
            Operation::Fsync { file } | Operation::Msync { file } => {
                let outcome = self.fsync(file, op.name(), SyncMode::All);
                // ext4_sync_file: after the flush, commit the transaction (data=ordered writes
                // the new blocks' data first) and wait for it. Only where durability is
                // modelled, so that other scenarios keep their steps.
                if self.cpu.peek(|m| m.kernel.durable.enabled) {
                    self.jbd2_journal_commit_transaction();
                }
                outcome
            }
            Operation::JournalCommit { .. } => {
                self.jbd2_journal_commit_transaction();
                Outcome::Ok
            }
            Operation::Crash { .. } => self.crash(),
            Operation::Reclaim { file } => self.reclaim(file),
            Operation::DioWrite { file, page, pages, buffer, asynchronous, ends } => {
                let submitted = self.dio_submit(file, page, pages, buffer, Direction::Write, ends, write, asynchronous);
                // generic_file_direct_write invalidates again once ->direct_IO returned,
                // whatever it returned ("if (mapping->nrpages)"), under i_rwsem: `dio_submit`
                // does it for a write that failed there or returns at submission,
                // `dio_complete` for one whose syscall waits for its IO.
                match submitted {
                    Err(NotSubmitted::Failed(outcome)) => outcome,
                    // ->direct_IO never ran: no invalidation after it.
                    Err(NotSubmitted::InvalidationBusy) => {
                        self.dio_write_buffered_fallback(file, page, pages, buffer, ends, write)
                    }
                    Ok(bio) if !bio.completes_in_syscall() => {
                        in_flight = Some(bio);
                        Outcome::Pages(pages)
                    }
                    Ok(bio) => self.dio_complete(bio),
                }
            }
            Operation::DioRead { file, page, pages, buffer } => {
                match self.dio_submit(file, page, pages, buffer, Direction::Read, WriteEnds::default(), write, false) {
                    Err(NotSubmitted::Failed(outcome)) => outcome,
                    Err(NotSubmitted::InvalidationBusy) => {
                        unreachable!("only a direct write invalidates before its IO")
                    }
                    Ok(bio) => self.dio_complete(bio),
                }
            }
        };
        self.cpu.step(|m| m.emit(actor, op.name(), Change::OpEnd { op: op_index, outcome }));
        if let Some(bio) = in_flight {
            self.dio_complete(bio);
        }
        outcome
    }
}
