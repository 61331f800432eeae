//! Oracles: the invariants racesim checks, and the verdict when one breaks.
//!
//! [`Judge`] watches the event log step by step ([`Judge::check_events`]) for violations that
//! are visible the moment they happen (a disk write to a block the writer does not own, a user
//! read of data that was never legally there, a PTE left beyond EOF after truncate), and judges
//! the quiescent, synced end state ([`Judge::check_quiescent`]) against a sequential reference
//! model of file contents for lost writes. Deadlock is detected by the explorer, which owns the
//! scheduler; its verdict is built here ([`deadlock`]) so that all findings share one shape.
//!
//! This crate owns the judging. It never changes the kernel state.

pub mod lockdep;
mod reference;

use racesim_kernel::event::{Change, Event, Outcome, ReadPath};
use racesim_kernel::state::PteTarget;
use racesim_kernel::types::{ActorId, Half, Ino, Lblk, Token, WriteId};
use racesim_kernel::{Kernel, Names, Operation, UserBuffer};
use serde::{Deserialize, Serialize};

use reference::Judgement;
pub use reference::RefFile;

/// The invariants (MODEL.md section 4) racesim checks today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oracle {
    StaleData,
    WriteToFreedBlock,
    LostWrite,
    MappingBeyondEof,
    Deadlock,
    LockOrder,
    TornWrite,
    OrphanDirtyPage,
    LostFsync,
}

impl Oracle {
    pub const ALL: [Oracle; 9] = [
        Oracle::StaleData,
        Oracle::WriteToFreedBlock,
        Oracle::LostWrite,
        Oracle::MappingBeyondEof,
        Oracle::Deadlock,
        Oracle::LockOrder,
        Oracle::TornWrite,
        Oracle::OrphanDirtyPage,
        Oracle::LostFsync,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Oracle::StaleData => "stale_data",
            Oracle::WriteToFreedBlock => "write_to_freed_block",
            Oracle::LostWrite => "lost_write",
            Oracle::MappingBeyondEof => "mapping_beyond_eof",
            Oracle::Deadlock => "deadlock",
            Oracle::LockOrder => "lock_order",
            Oracle::TornWrite => "torn_write",
            Oracle::OrphanDirtyPage => "orphan_dirty_page",
            Oracle::LostFsync => "lost_fsync",
        }
    }

    pub fn from_name(name: &str) -> Option<Oracle> {
        Oracle::ALL.into_iter().find(|o| o.name() == name)
    }
}

impl std::fmt::Display for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A broken invariant: which, where in the event log, who was involved, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub oracle: Oracle,
    /// Index in the event log of the event at which the oracle fired.
    pub event: usize,
    /// Actors whose steps the finding is about.
    pub actors: Vec<ActorId>,
    pub message: String,
}

/// One operation of the scenario, as the oracles need to know it.
#[derive(Clone, Debug)]
pub struct OpInfo {
    pub actor: ActorId,
    pub op_index: u16,
    pub op: Operation,
    /// The token id this operation writes with (its global number, 1-based).
    pub write: WriteId,
}

/// Watches one execution. Build it once per scenario; [`Judge::reset`] between executions.
pub struct Judge {
    ops: Vec<OpInfo>,
    initial: Vec<RefFile>,
    /// Per inode: which offsets a finished truncate or collapse has fenced off (see [`EofFence`]).
    fences: Vec<EofFence>,
    /// Per inode: operations that shrink `i_size` (truncate, collapse) now in progress. A load
    /// through a PTE that such an operation has not yet zapped may legally see the old data:
    /// it is ordered before the operation.
    shrinking: Vec<u32>,
    /// Per inode: how many truncates and collapses have finished. With `reading`, it tells a
    /// read(2) that a shrink ended while it ran.
    shrinks_ended: Vec<u32>,
    /// Per actor: the file of its read(2) in progress and `shrinks_ended` of that file when the
    /// read began. read(2) checks `i_size` before it copies from a page it holds a reference
    /// to (filemap_read / do_generic_file_read); when the copy faults on a mapped buffer, a
    /// truncate or collapse can finish in between, and the copy then returns the data the
    /// file had when the read checked: legal, and ordered before the shrink. A direct read
    /// likewise samples `i_size` when it maps its blocks (`dio->i_size`) and reads them at
    /// completion: a shrink that finished in between leaves it the file's data from before
    /// (another file's data in a freed and reused block is still stale data).
    reading: Vec<Option<(Ino, u32)>>,
    /// Text for messages.
    names: Box<dyn Names + Send>,
    /// Oracles the scenario ignores (their searches are skipped).
    ignored: Vec<Oracle>,
    /// The last execution's end state was left undecided.
    undecided: bool,
    /// Configurations the last execution's end-state searches visited (their cost).
    search_nodes: u64,
    /// The scenario crashes: fsyncs are recorded for the crash's judgement.
    crashes: bool,
    /// The fsyncs (and msyncs) of this execution, for the crash (see [`Promise`]).
    promises: Vec<Promise>,
    /// Per inode: operations that change the file, in progress.
    changing: Vec<u32>,
}

/// What an fsync of one file promised: the file as a reader saw it when the fsync began
/// survives a crash, once the fsync returned. Judged only when nothing changed the file from
/// the fsync's beginning to the crash (no operation that changes it was in flight at the
/// beginning or began since): then the file in memory at the crash is the file at the
/// fsync's beginning, and what the fsync owes is all of it, size and data.
#[derive(Clone, Debug)]
struct Promise {
    actor: ActorId,
    op: u16,
    file: Ino,
    /// The file when the fsync began; `None` if an operation changing it was in flight.
    snapshot: Option<RefFile>,
    returned: bool,
    /// An operation changing the file began after the fsync did.
    disturbed: bool,
}

/// What the mapping-beyond-EOF oracle knows of one inode: the rule is "a PTE maps an offset
/// beyond EOF after the truncate that moved EOF below it has finished".
///
/// A truncate that shrinks the file writes `i_size` first and unmaps and evicts the pages past
/// it afterwards (`truncate_pagecache`); a fault that passed its `i_size` checks before the
/// write may install a PTE in between, and the truncate's own unmapping removes it. So a PTE
/// beyond the current `i_size` is a violation only once the operation that moved EOF below it
/// has finished, and only while `i_size` has stayed below it since (a later extension brings
/// the offset back inside the file, legally mappable again).
#[derive(Clone, Debug, Default)]
struct EofFence {
    /// Offsets at or past this have been beyond EOF ever since a finished truncate or collapse
    /// unmapped them; `None`: nothing is fenced (no shrink has finished).
    fenced_from: Option<Lblk>,
    /// `i_size` as the last `i_size` write left it (the initial size before any).
    i_size: Lblk,
    /// Shrinking operations in progress, as (actor, operation index, the size they shrank the
    /// file to, raised by any later extension): `None` until their own `i_size` write.
    in_flight: Vec<(ActorId, u16, Option<Lblk>)>,
    /// A truncate or collapse has finished: arms the check that no PTE maps a page that left
    /// the page cache.
    armed: bool,
}

impl EofFence {
    fn new(i_size: Lblk) -> Self {
        EofFence { i_size, ..EofFence::default() }
    }

    /// `i_size` written by `actor`.
    fn size_written(&mut self, actor: ActorId, i_size: Lblk) {
        let shrank = i_size < self.i_size;
        for (who, _, shrunk_to) in &mut self.in_flight {
            if *who == actor {
                if shrank {
                    *shrunk_to = Some(i_size);
                }
            } else if let Some(size) = shrunk_to {
                *size = (*size).max(i_size);
            }
        }
        if let Some(from) = &mut self.fenced_from {
            *from = (*from).max(i_size);
        }
        self.i_size = i_size;
    }

    /// A truncate or collapse of `actor` finished: everything past the size it shrank the file to
    /// (or past what the file grew back to since) is now unmapped for good.
    fn shrink_finished(&mut self, actor: ActorId, op: u16) {
        if let Some(at) = self.in_flight.iter().position(|&(a, o, _)| a == actor && o == op) {
            let (_, _, shrunk_to) = self.in_flight.remove(at);
            if let Some(size) = shrunk_to {
                self.fenced_from = Some(self.fenced_from.map_or(size, |from| from.min(size)));
            }
        }
        self.armed = true;
    }

    fn fenced(&self, index: Lblk) -> bool {
        self.fenced_from.is_some_and(|from| index >= from)
    }
}

impl Judge {
    pub fn new(initial: &Kernel, ops: Vec<OpInfo>, names: Box<dyn Names + Send>) -> Self {
        let mut initial: Vec<RefFile> =
            (0..initial.inodes.len() as Ino).map(|ino| RefFile::from_kernel(initial, ino)).collect();
        // The writes that store through a mapping: stores, and the copies of read(2) and direct
        // reads into a mapping (copy_to_user, the DMA), on the mapped file.
        for info in &ops {
            let stored = match info.op {
                Operation::Store { file, .. } => Some(file),
                Operation::Read { buffer: UserBuffer::Mapped { file, .. }, .. }
                | Operation::DioRead { buffer: UserBuffer::Mapped { file, .. }, .. } => Some(file),
                _ => None,
            };
            if let Some(file) = stored
                && info.write < 128
            {
                initial[file as usize].store_writes |= 1 << info.write;
            }
        }
        let files = initial.len();
        // The fences work in pages: a PTE maps a page.
        let fences = initial.iter().map(|f| EofFence::new(f.size.div_ceil(f.blocks_per_page))).collect();
        let crashes = ops.iter().any(|o| matches!(o.op, Operation::Crash { .. }));
        Judge {
            ops,
            initial,
            fences,
            shrinking: vec![0; files],
            shrinks_ended: vec![0; files],
            reading: Vec::new(),
            names,
            ignored: Vec::new(),
            undecided: false,
            search_nodes: 0,
            crashes,
            promises: Vec::new(),
            changing: vec![0; files],
        }
    }

    pub fn reset(&mut self) {
        for (fence, file) in self.fences.iter_mut().zip(&self.initial) {
            *fence = EofFence::new(file.size.div_ceil(file.blocks_per_page));
        }
        self.shrinking.iter_mut().for_each(|s| *s = 0);
        self.shrinks_ended.iter_mut().for_each(|s| *s = 0);
        self.reading.clear();
        self.promises.clear();
        self.changing.iter_mut().for_each(|c| *c = 0);
        self.undecided = false;
        self.search_nodes = 0;
    }

    fn op(&self, actor: ActorId, op_index: u16) -> Option<&OpInfo> {
        self.ops.iter().find(|o| o.actor == actor && o.op_index == op_index)
    }

    /// An operation began (in a scenario that crashes): an fsync records what it promises;
    /// an operation that changes a file disturbs the promises of that file's fsyncs so far.
    fn promise_begin(&mut self, kernel: &Kernel, actor: ActorId, op: u16) {
        let Some(info) = self.op(actor, op) else { return };
        let operation = info.op;
        if let Operation::Fsync { file } | Operation::Msync { file } = operation {
            let snapshot = (self.changing[file as usize] == 0).then(|| RefFile::visible(kernel, file));
            self.promises.push(Promise { actor, op, file, snapshot, returned: false, disturbed: false });
        }
        if let Some(file) = changes(&operation) {
            self.changing[file as usize] += 1;
            self.promises.iter_mut().filter(|p| p.file == file).for_each(|p| p.disturbed = true);
        }
    }

    /// An operation ended: the operation, after the promises' bookkeeping (a scenario that
    /// crashes).
    fn op_end_for_promises(&mut self, actor: ActorId, op: u16) -> Option<Operation> {
        let operation = self.op(actor, op)?.op;
        if self.crashes {
            if let Some(promise) = self.promises.iter_mut().find(|p| p.actor == actor && p.op == op) {
                promise.returned = true;
            }
            // An asynchronous direct write changes the file after it returned (its bio
            // completes later, unmarked): it stays in flight for good.
            let in_flight = matches!(operation, Operation::DioWrite { asynchronous: true, .. });
            if let Some(file) = changes(&operation)
                && !in_flight
            {
                self.changing[file as usize] -= 1;
            }
        }
        Some(operation)
    }

    /// The crash: what remount finds of each file, judged against the returned fsyncs'
    /// promises (`lost_fsync`) and for blocks the file never wrote (`stale_data`).
    fn crash(&self, kernel: &Kernel, event: &Event, at: usize) -> Option<Violation> {
        let name = |ino: Ino| self.names.file(ino);
        for promise in self.promises.iter().filter(|p| p.returned && !p.disturbed) {
            let Some(expected) = &promise.snapshot else { continue };
            let file = promise.file;
            if kernel.inode(file).dax {
                continue;
            }
            let found = kernel.remounted(file);
            // Sizes and indices here count blocks: pages where a block is a page. Where EOF
            // lies half-way into the last block, a read stops there: only its head is judged.
            let unit = if kernel.inode(file).blocks_per_page > 1 { "block" } else { "page" };
            let size = |size: Lblk, half: bool| if half { format!("{}.5", size - 1) } else { size.to_string() };
            let differs = |l: Lblk| {
                let (on_disk, promised) = (found.pages[l as usize].0, expected.pages[l as usize]);
                if found.half && l + 1 == found.size {
                    (on_disk.halves()[0] != promised.halves()[0])
                        .then(|| format!("the first half of {unit} {l} holds {on_disk}, not {promised}"))
                } else {
                    (on_disk != promised).then(|| format!("{unit} {l} holds {on_disk}, not {promised}"))
                }
            };
            let wrong = if (found.size, found.half) != (expected.size, expected.half) {
                Some(format!(
                    "its size is {} {unit}(s), not {}",
                    size(found.size, found.half),
                    size(expected.size, expected.half)
                ))
            } else {
                (0..found.size).find_map(differs)
            };
            if let Some(wrong) = wrong {
                return Some(Violation {
                    oracle: Oracle::LostFsync,
                    event: at,
                    actors: vec![promise.actor, event.actor],
                    message: format!(
                        "{}'s fsync of {} returned, nothing changed the file since it began, yet after the crash \
                         ({}) and remount {wrong}",
                        self.names.actor(promise.actor),
                        name(file),
                        self.names.actor(event.actor)
                    ),
                });
            }
        }
        if self.ignored.contains(&Oracle::StaleData) {
            return None;
        }
        for ino in 0..kernel.inodes.len() as Ino {
            // Direct writes into holes and DAX files are not judged after a crash (docs/model.md,
            // "Crash and remount").
            let direct = self.ops.iter().any(|o| matches!(o.op, Operation::DioWrite { file, .. } if file == ino));
            if kernel.inode(ino).dax || direct {
                continue;
            }
            let remounted = kernel.remounted(ino);
            for (lblk, &(token, pblk)) in remounted.pages.iter().enumerate() {
                // A block the file no longer owns was freed since the commit; what jbd2 does for
                // it (ext4_begin_ordered_truncate, jbd2_journal_invalidatepage) is not modelled.
                let Some(pblk) = pblk else { continue };
                if kernel.block_owner[pblk as usize] != Some((ino, lblk as Lblk)) {
                    continue;
                }
                // A block a shrinking truncate in flight has already cut off (past the running
                // transaction's i_disksize, the inode on its orphan list) under a commit that
                // locked after the truncate's jbd2_journal_begin_ordered_truncate found the
                // inode outside the committing transaction: whether its data reached the disk
                // turns on that window, which is not settled (docs/model.md, "Crash and
                // remount"). Not judged.
                let running = &kernel.durable.inodes[ino as usize];
                let after_check = running.ordered_truncate_checked.is_some_and(|t| kernel.durable.committed_tid > t);
                if after_check && running.orphan && lblk as Lblk >= running.i_disksize {
                    continue;
                }
                // Each half of a block written in part is judged as a block of its own; of the
                // block a committed EOF lies half-way into, only the head is the file's.
                let inside = if remounted.half && lblk as Lblk + 1 == remounted.size { 1 } else { 2 };
                let stale = token.halves().into_iter().take(inside).find_map(|half| match half {
                    Half::Leftover { pblk } => Some(format!("leftovers of block {pblk}, never written to this file")),
                    Half::Data { ino: other, lblk, .. } if other != ino => {
                        Some(format!("data of {}:{lblk}, another file", name(other)))
                    }
                    _ => None,
                });
                let Some(why) = stale else { continue };
                return Some(Violation {
                    oracle: Oracle::StaleData,
                    event: at,
                    actors: vec![event.actor],
                    message: format!(
                        "after the crash ({}) and remount, {}:{lblk} (block {pblk}, inside the committed size) holds {why}",
                        self.names.actor(event.actor),
                        name(ino)
                    ),
                });
            }
        }
        None
    }

    /// Judges the events `log[first..]`, just appended by one step, against the state after
    /// that step.
    pub fn check_events(&mut self, kernel: &Kernel, log: &[Event], first: usize) -> Option<Violation> {
        for (offset, event) in log[first..].iter().enumerate() {
            let at = first + offset;
            let found = match event.change {
                Change::DiskWrite { pblk, ino, lblk, token, .. }
                | Change::PartialDiskWrite { pblk, ino, lblk, token, .. } => {
                    self.disk_write(kernel, event, at, pblk, ino, lblk, token)
                }
                Change::UserRead { ino, index, token, .. } => self.user_read(kernel, event, at, ino, index, token),
                Change::OpBegin { op } => {
                    if self.crashes {
                        self.promise_begin(kernel, event.actor, op);
                    }
                    match self.op(event.actor, op).map(|o| o.op) {
                        Some(Operation::Truncate { file, .. } | Operation::CollapseRange { file, .. }) => {
                            self.shrinking[file as usize] += 1;
                            self.fences[file as usize].in_flight.push((event.actor, op, None));
                        }
                        Some(Operation::Read { file, .. } | Operation::DioRead { file, .. }) => {
                            let actor = event.actor as usize;
                            if self.reading.len() <= actor {
                                self.reading.resize(actor + 1, None);
                            }
                            self.reading[actor] = Some((file, self.shrinks_ended[file as usize]));
                        }
                        _ => {}
                    }
                    None
                }
                Change::ISizeSet { ino, i_size, .. } => {
                    let per_page = kernel.inode(ino).blocks_per_page;
                    self.fences[ino as usize].size_written(event.actor, i_size.div_ceil(per_page));
                    None
                }
                Change::Crash => self.crash(kernel, event, at),
                // Collapse shrinks the file too: nothing may stay mapped past the new EOF.
                Change::OpEnd { op, .. } => match self.op_end_for_promises(event.actor, op) {
                    Some(Operation::Truncate { file, .. } | Operation::CollapseRange { file, .. }) => {
                        self.shrinking[file as usize] -= 1;
                        self.shrinks_ended[file as usize] += 1;
                        self.fences[file as usize].shrink_finished(event.actor, op);
                        self.ptes_beyond_eof(kernel, file, at, event.actor)
                    }
                    _ => None,
                },
                Change::PteInstalled { ino, .. } if self.fences[ino as usize].armed => {
                    self.ptes_beyond_eof(kernel, ino, at, event.actor)
                }
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn disk_write(
        &self,
        kernel: &Kernel,
        event: &Event,
        at: usize,
        pblk: u32,
        ino: Ino,
        lblk: Lblk,
        token: Token,
    ) -> Option<Violation> {
        let owner = kernel.block_owner[pblk as usize];
        if owner == Some((ino, lblk)) {
            return None;
        }
        let whose = match owner {
            None => "is free".to_string(),
            Some((o, l)) => format!("now belongs to {}:{l}", self.names.file(o)),
        };
        let what = match token {
            Token::Data { write, .. } if write > 0 => format!("the data of op#{write}"),
            _ => "data".to_string(),
        };
        Some(Violation {
            oracle: Oracle::WriteToFreedBlock,
            event: at,
            actors: vec![event.actor],
            message: format!(
                "{} ({}) writes {what} for {}:{lblk} to block {pblk}, which {whose}",
                self.names.actor(event.actor),
                event.function,
                self.names.file(ino)
            ),
        })
    }

    fn user_read(
        &self,
        kernel: &Kernel,
        event: &Event,
        at: usize,
        ino: Ino,
        index: Lblk,
        token: Token,
    ) -> Option<Violation> {
        // A block written in part: each half is judged as a block of its own.
        if let Token::Halves { head, tail } = token {
            return [head, tail]
                .into_iter()
                .find_map(|half| self.user_read(kernel, event, at, ino, index, half.whole()));
        }
        let i_size = kernel.inode(ino).i_size;
        let per_page = kernel.inode(ino).blocks_per_page;
        let why = match token {
            Token::Zero | Token::Halves { .. } => return None,
            Token::Leftover { pblk } => format!("leftovers of block {pblk}, never written to this file"),
            Token::Data { ino: other, lblk, .. } if other != ino => {
                format!("data of {}:{lblk}, another file", self.names.file(other))
            }
            // Past EOF in the page that straddles it, a load sees what this mapping stored there.
            Token::Data { lblk, write, .. }
                if lblk == index
                    && write > 0
                    && index >= i_size
                    && index / per_page < kernel.inode(ino).i_size_pages() =>
            {
                return None;
            }
            Token::Data { .. }
                if index >= i_size
                    && self.shrinking[ino as usize] == 0
                    && !self.read_overlapped_a_shrink(event, ino) =>
            {
                format!("non-zero data beyond EOF (i_size {i_size})")
            }
            Token::Data { .. } => return None,
        };
        Some(Violation {
            oracle: Oracle::StaleData,
            event: at,
            actors: vec![event.actor],
            message: format!("{} reads {}:{index} and sees {why}", self.names.actor(event.actor), self.names.file(ino)),
        })
    }

    /// Whether `event` is the copy of a read(2) or direct read of `ino` during which a truncate
    /// or collapse of it finished (see `reading`).
    fn read_overlapped_a_shrink(&self, event: &Event, ino: Ino) -> bool {
        matches!(event.change, Change::UserRead { path: ReadPath::ReadSyscall, .. })
            && self
                .reading
                .get(event.actor as usize)
                .copied()
                .flatten()
                .is_some_and(|(file, ended)| file == ino && self.shrinks_ended[ino as usize] != ended)
    }

    /// A PTE of `ino` that maps an offset a finished truncate or collapse fenced off, or a page
    /// that left the page cache.
    fn ptes_beyond_eof(&self, kernel: &Kernel, ino: Ino, at: usize, actor: ActorId) -> Option<Violation> {
        let i_size = kernel.inode(ino).i_size;
        let fence = &self.fences[ino as usize];
        for (mm_id, mm) in kernel.mms.iter().enumerate() {
            for vma in mm.vmas.iter().flatten().filter(|v| v.ino == ino) {
                for (slot, pte) in vma.ptes.iter().enumerate() {
                    let Some(pte) = pte else { continue };
                    let index = vma.pgoff + slot as Lblk;
                    let detached = matches!(pte.target, PteTarget::Page(p) if !kernel.page(p).attached);
                    if fence.fenced(index) || detached {
                        let why =
                            if detached { "a page that left the page cache" } else { "an offset at or past i_size" };
                        return Some(Violation {
                            oracle: Oracle::MappingBeyondEof,
                            event: at,
                            actors: vec![actor],
                            message: format!(
                                "after {} shrank to {i_size} page(s), mm{mm_id} still maps {}:{index}, {why}",
                                self.names.file(ino),
                                self.names.file(ino)
                            ),
                        });
                    }
                }
            }
        }
        None
    }

    /// Judges the end state after every actor finished and a final sync wrote back every dirty
    /// page: the persistent file contents must be what some serial order of the operations,
    /// consistent with their real-time order and with what each returned, produces.
    pub fn check_quiescent(&mut self, kernel: &Kernel, log: &[Event]) -> Option<Violation> {
        for ino in 0..kernel.inodes.len() as Ino {
            if self.fences[ino as usize].armed
                && let Some(v) =
                    self.ptes_beyond_eof(kernel, ino, log.len().saturating_sub(1), racesim_kernel::SYNC_ACTOR)
            {
                return Some(v);
            }
        }
        let history = reference::history(&self.initial, &self.ops, log);
        let inodes = 0..kernel.inodes.len() as Ino;
        let persistent: Vec<RefFile> = inodes.clone().map(|ino| RefFile::from_kernel(kernel, ino)).collect();
        let at = log.len().saturating_sub(1);
        if let Some(v) = self.torn_write(log, &persistent, at) {
            return Some(v);
        }
        // An oracle the scenario ignores costs no search. A search that gives up decides
        // nothing: the end state is counted as undecided, never reported as a violation.
        if !self.ignored.contains(&Oracle::LostWrite) {
            match reference::check_lost_write(&self.initial, &history, &persistent, &mut self.search_nodes) {
                Judgement::Explained => {}
                Judgement::Undecided => self.undecided = true,
                Judgement::Unexplained(mismatch) => {
                    return Some(Violation {
                        oracle: Oracle::LostWrite,
                        event: at,
                        actors: mismatch.actors.clone(),
                        message: mismatch.describe(&*self.names),
                    });
                }
            }
        }
        if !self.ignored.contains(&Oracle::StaleData) {
            let visible: Vec<RefFile> = inodes.map(|ino| RefFile::visible(kernel, ino)).collect();
            match reference::check_stale_data(&self.initial, &history, &visible, &mut self.search_nodes) {
                Judgement::Explained => {}
                Judgement::Undecided => self.undecided = true,
                Judgement::Unexplained(mismatch) => {
                    return Some(Violation {
                        oracle: Oracle::StaleData,
                        event: at,
                        actors: mismatch.actors.clone(),
                        message: mismatch.describe(&*self.names),
                    });
                }
            }
        }
        None
    }

    /// Oracles the scenario ignores: their end-state searches are not run at all.
    pub fn ignore(&mut self, oracles: &[Oracle]) {
        self.ignored = oracles.to_vec();
    }

    /// Whether the last execution's end state was left undecided: a serial-order search gave up
    /// (its node bound) before finding an order or ruling every order out.
    pub fn undecided(&self) -> bool {
        self.undecided
    }

    /// Configurations the last execution's end-state searches (lost write, stale data) visited:
    /// the cost of deciding its end state, deterministic and machine-independent.
    pub fn search_nodes(&self) -> u64 {
        self.search_nodes
    }
}

impl Judge {
    /// Before the final sync: a dirty page in the page cache with no block, no delalloc
    /// reservation and no unwritten extent behind it (writeback would have to allocate for data
    /// the filesystem no longer accounts for).
    pub fn check_orphans(&self, kernel: &Kernel, at: usize) -> Option<Violation> {
        for (i, inode) in kernel.inodes.iter().enumerate() {
            for (index, page) in inode.cache.iter().enumerate() {
                let Some(page) = *page else { continue };
                let p = kernel.page(page);
                let backed = if p.bh.is_empty() {
                    p.buffer_pblk.is_some() || inode.blocks[index] != racesim_kernel::types::Extent::Hole
                } else {
                    // Blocks smaller than a page: orphaned when no block of the page inside EOF
                    // has anything behind it (a page with some backed blocks is written back
                    // without the others, which the lost-write oracle judges) and one of them
                    // holds data. Buffers over holes that hold zeroes need no block: the page
                    // may be dirty from page_zero_new_buffers of blocks a failed write's
                    // cleanup then truncated, and writeback just cleans it ("A hole? We can
                    // safely clear the dirty bit").
                    let per_page = inode.blocks_per_page as usize;
                    let inside = |slot: &usize| ((index * per_page + slot) as Lblk) < inode.i_size;
                    let behind = |slot: usize| {
                        p.bh[slot].mapped.is_some()
                            || inode.blocks[index * per_page + slot] != racesim_kernel::types::Extent::Hole
                    };
                    (0..per_page).filter(inside).any(behind)
                        || (0..per_page).filter(inside).all(|slot| p.bh[slot].content == Token::Zero)
                };
                if p.attached && p.dirty && !backed {
                    return Some(Violation {
                        oracle: Oracle::OrphanDirtyPage,
                        event: at,
                        actors: Vec::new(),
                        message: format!(
                            "page#{page} ({}:{index}) is dirty, but no block, reservation or unwritten extent is behind it",
                            self.names.file(i as Ino)
                        ),
                    });
                }
            }
        }
        None
    }

    /// A write(2) and a punch (or zero range) over the same pages, both complete, and nothing
    /// else touching those pages: the result must be all written or all punched.
    fn torn_write(&self, log: &[Event], persistent: &[RefFile], at: usize) -> Option<Violation> {
        let ended: Vec<(ActorId, u16, Outcome)> = log
            .iter()
            .filter_map(|e| match e.change {
                Change::OpEnd { op, outcome } => Some((e.actor, op, outcome)),
                _ => None,
            })
            .collect();
        let done = |info: &OpInfo| ended.iter().find(|(a, o, _)| *a == info.actor && *o == info.op_index).map(|e| e.2);
        for write in &self.ops {
            let Operation::Write { file, page, pages, .. } = write.op else { continue };
            if done(write) != Some(Outcome::Pages(pages)) {
                continue;
            }
            for punch in &self.ops {
                let (Operation::PunchHole { file: f, page: p, pages: n }
                | Operation::MadviseRemove { file: f, page: p, pages: n }
                | Operation::ZeroRange { file: f, page: p, pages: n }) = punch.op
                else {
                    continue;
                };
                if f != file || done(punch).is_none() {
                    continue;
                }
                let (start, end) = (page.max(p), (page + pages).min(p + n));
                if start >= end {
                    continue;
                }
                // Only when nothing else writes, truncates or moves these pages.
                let others = self.ops.iter().any(|o| {
                    o.write != write.write
                        && o.write != punch.write
                        && o.op.file() == file
                        && touches(&o.op, start, end)
                });
                if others {
                    continue;
                }
                let contents = &persistent[file as usize];
                // A page the write covered in part holds its data in that half.
                let holds_write = |token: &Token| {
                    token.halves().iter().any(|h| matches!(h, Half::Data { write: w, .. } if *w == write.write))
                };
                let written = (start..end).filter(|&l| contents.pages.get(l as usize).is_some_and(holds_write)).count();
                let zero = (start..end).filter(|&l| contents.pages.get(l as usize) == Some(&Token::Zero)).count();
                if written > 0 && zero > 0 {
                    return Some(Violation {
                        oracle: Oracle::TornWrite,
                        event: at,
                        actors: vec![write.actor, punch.actor],
                        message: format!(
                            "{} of {} [{start}, {end}) and {} of the same pages both completed, but {written} page(s) hold the \
                             write and {zero} are punched: neither all-written nor all-punched",
                            write.op.name(),
                            self.names.file(file),
                            punch.op.name()
                        ),
                    });
                }
            }
        }
        None
    }
}

/// Whether `op` can change the content of pages `[start, end)` of its file.
fn touches(op: &Operation, start: Lblk, end: Lblk) -> bool {
    let overlaps = |p: Lblk, n: Lblk| p < end && start < p + n;
    match *op {
        Operation::Store { page, .. } => overlaps(page, 1),
        Operation::Write { page, pages, .. }
        | Operation::DioWrite { page, pages, .. }
        | Operation::PunchHole { page, pages, .. }
        | Operation::MadviseRemove { page, pages, .. }
        | Operation::ZeroRange { page, pages, .. } => overlaps(page, pages),
        Operation::Truncate { .. } | Operation::CollapseRange { .. } | Operation::InsertRange { .. } => true,
        _ => false,
    }
}

/// The file whose content or size `op` can change, if any (a read into a mapping changes the
/// mapped file, not the one it reads).
fn changes(op: &Operation) -> Option<Ino> {
    use racesim_kernel::UserBuffer;
    match *op {
        Operation::Store { file, .. }
        | Operation::Write { file, .. }
        | Operation::DioWrite { file, .. }
        | Operation::Truncate { file, .. }
        | Operation::PunchHole { file, .. }
        | Operation::MadviseRemove { file, .. }
        | Operation::ZeroRange { file, .. }
        | Operation::CollapseRange { file, .. }
        | Operation::InsertRange { file, .. }
        | Operation::Fallocate { file, .. } => Some(file),
        Operation::Read { buffer: UserBuffer::Mapped { file, .. }, .. }
        | Operation::DioRead { buffer: UserBuffer::Mapped { file, .. }, .. } => Some(file),
        _ => None,
    }
}

/// The verdict for a set of actors that wait on each other forever.
pub fn deadlock(at: usize, actors: Vec<ActorId>, waits: &[String], names: &dyn Names) -> Violation {
    let who: Vec<String> = actors.iter().map(|&a| names.actor(a)).collect();
    Violation {
        oracle: Oracle::Deadlock,
        event: at,
        actors,
        message: format!("{} wait for each other forever: {}", who.join(", "), waits.join("; ")),
    }
}

/// Whether `event` arms the PTE check of its file for the rest of the execution (the end of
/// a truncate or collapse): the `armed` of [`judge_accesses`].
pub fn arms_fence(ops: &[OpInfo], event: &Event) -> Option<Ino> {
    let Change::OpEnd { op, .. } = event.change else { return None };
    match ops.iter().find(|o| o.actor == event.actor && o.op_index == op)?.op {
        Operation::Truncate { file, .. } | Operation::CollapseRange { file, .. } => Some(file),
        _ => None,
    }
}

/// Whether an operation's outcome counts as completed for the lost-write oracle.
pub fn completed(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Ok | Outcome::Pages(_))
}

/// A file whose blocks are smaller than a page counts some indices in blocks (the events that
/// name a block: stores, user reads, block mappings, disk writes, freed ranges) and others in
/// pages (the page cache, PTEs), so a range its events name is not always in the unit the
/// object is keyed by: a store to block 3 names PTE 3 where the PTE of page 0 is meant. Every
/// ranged object of such a file is widened to the whole file, which only adds dependencies
/// (conservative, so the reduction stays sound; those files are small, docs/exhaustive.md).
fn widen_sub_page_ranges(kernel: &Kernel, accesses: &mut [racesim_kernel::event::Access]) {
    use racesim_kernel::event::Object;
    use racesim_kernel::types::PageRange;
    let sub_page = |ino: Ino| kernel.inodes.get(ino as usize).is_some_and(|i| i.blocks_per_page > 1);
    for access in accesses {
        match &mut access.object {
            Object::CacheSlots(ino, range)
            | Object::Extents(ino, range)
            | Object::Ptes(ino, range)
            | Object::CachedPages(ino, range)
                if sub_page(*ino) =>
            {
                *range = PageRange::WHOLE
            }
            _ => {}
        }
    }
}

/// The complete footprint of `event` for a partial-order reduction: the kernel objects it
/// names ([`Event::accesses`]) plus what the oracles read or update when they judge it.
/// Two steps whose footprints do not conflict may be swapped without changing any verdict,
/// so everything a verdict depends on must be here (the argument: docs/exhaustive.md):
/// - the end-state oracles cut the log into items with intervals ([`reference::history`]) and
///   respect real-time order: an event where an item of the file may begin reads every
///   actor's `ItemEnds(file)`, an event where one may end writes its own actor's (a point
///   event does both). Operation begins are begins, operation ends are ends; `i_size`
///   writes, stores, disk writes and user reads are points; a copy begins a write(2)'s item;
///   DMA into a pinned page ends a direct read's; a direct write's invalidation of a page
///   after its IO (`invalidate_complete_page2`) may end the write's item for that page;
/// - the per-step oracles' EOF fence (`Fence(file)`) is written where a truncate or collapse
///   begins or ends and where `i_size` is written, and read by user reads (data beyond EOF
///   while no shrink is in flight) and PTE installations;
/// - in a scenario that crashes, the fsyncs' promises (`FsyncPromise(file)`): written where an
///   fsync or msync of the file, or an operation that changes it, begins or ends; the crash
///   reads everything (`Change::Crash`), the committed metadata and the disk included;
/// - the end of a truncate or collapse, and a PTE installation once a shrink has finished
///   (`armed`: the caller says whether a truncate or collapse of the event's file ended
///   earlier in the execution; that end wrote the `Fence` the installation reads, so the two
///   are ordered whichever way), scan every PTE of the file and whether the pages they map
///   are still cached; a read compares with `i_size`.
///
/// `kernel` is the state after the step (the judge's view): a read of data within EOF, or
/// of zeroes, does not consult the fence (anything that moves EOF writes the `ISize` the read
/// reads, so the condition holds in every reordering that keeps the read's dependencies).
pub fn judge_accesses(
    ops: &[OpInfo],
    event: &Event,
    armed: bool,
    kernel: &Kernel,
    out: &mut Vec<racesim_kernel::event::Access>,
) {
    use racesim_kernel::event::{Access, Object};
    use racesim_kernel::types::PageRange;
    let first = out.len();
    event.accesses(out);
    widen_sub_page_ranges(kernel, &mut out[first..]);
    let read = |object| Access { object, write: false };
    let write = |object| Access { object, write: true };
    let begin = |ino: Ino| read(Object::ItemEnds(ino, None));
    let end = |ino: Ino| write(Object::ItemEnds(ino, Some(event.actor)));
    let scan = |ino: Ino| {
        [
            read(Object::Ptes(ino, PageRange::WHOLE)),
            read(Object::CacheSlots(ino, PageRange::WHOLE)),
            read(Object::ISize(ino)),
        ]
    };
    let op_of = |op: u16| ops.iter().find(|o| o.actor == event.actor && o.op_index == op).map(|o| o.op);
    match event.change {
        Change::OpBegin { op } | Change::OpEnd { op, .. } => {
            // Every operation boundary names an operation of the scenario.
            debug_assert!(op_of(op).is_some(), "racesim bug: an operation boundary of an unknown operation");
            if let Some(operation) = op_of(op) {
                let file = operation.file();
                use Operation as Op;
                // Where an item of `reference::history` may begin or end (anything not listed
                // counts as both, conservatively): a write(2)'s items begin at its copies, a
                // read's end where it read; a load or store is an interval only when it ends
                // in SIGBUS, which its end event says; the rest have no items. A direct write's
                // items begin where it began (its blocks' items) or at its size update (the
                // blocks past the old EOF of one that grew the file) and may end where it
                // returns (a synchronous write's pages, a buffered fallback's copies).
                let no_items = matches!(
                    operation,
                    Op::Mmap { .. }
                        | Op::Munmap { .. }
                        | Op::Fallocate { .. }
                        | Op::Readahead { .. }
                        | Op::Writeback { .. }
                        | Op::Fsync { .. }
                        | Op::Msync { .. }
                        | Op::Reclaim { .. }
                        | Op::JournalCommit { .. }
                        | Op::Crash { .. }
                );
                let ends = match event.change {
                    Change::OpEnd { outcome, .. } => Some(match operation {
                        Op::Load { .. } | Op::Store { .. } => outcome == Outcome::Sigbus,
                        Op::Read { .. } | Op::DioRead { .. } => false,
                        _ => !no_items,
                    }),
                    _ => None,
                };
                match ends {
                    Some(true) => out.push(end(file)),
                    Some(false) => {}
                    None if no_items || matches!(operation, Op::Write { .. }) => {}
                    None => out.push(begin(file)),
                }
                let ends = ends.is_some();
                // The fsyncs' promises, in a scenario that crashes: an fsync's begin snapshots
                // the file and its end makes the promise; an operation that changes the file
                // breaks the promises made before it began (`Judge::promise_begin`).
                if ops.iter().any(|o| matches!(o.op, Op::Crash { .. })) {
                    if let Op::Fsync { file } | Op::Msync { file } = operation {
                        out.push(write(Object::FsyncPromise(file)));
                    }
                    if let Some(changed) = changes(&operation) {
                        out.push(write(Object::FsyncPromise(changed)));
                    }
                }
                if matches!(operation, Operation::Truncate { .. } | Operation::CollapseRange { .. }) {
                    out.push(write(Object::Fence(file)));
                    if ends {
                        out.push(write(Object::FenceArmed(file)));
                        out.extend(scan(file));
                    }
                }
            }
        }
        Change::ISizeSet { ino, .. } => out.extend([begin(ino), end(ino), write(Object::Fence(ino))]),
        Change::StoreRetired { ino, .. } | Change::DiskWrite { ino, .. } | Change::PartialDiskWrite { ino, .. } => {
            out.extend([begin(ino), end(ino)])
        }
        Change::DmaIntoPage { ino, .. } => out.push(end(ino)),
        // A direct write's invalidation of a page after its IO ends the write's item for that
        // page when an asynchronous write completes (`reference::history`).
        Change::PageDeleted { ino, .. } | Change::InvalidateBusy { ino, .. }
            if event.function == "invalidate_complete_page2" =>
        {
            out.push(end(ino))
        }
        Change::PageCopied { token: Token::Data { ino, .. }, .. } => out.push(begin(ino)),
        Change::UserRead { ino, index, token, .. } => {
            out.extend([begin(ino), end(ino), read(Object::ISize(ino))]);
            // user_read judges data past EOF against a shrinking truncate (each half of a block
            // written in part as a block of its own).
            let data = token.halves().iter().any(|h| matches!(h, Half::Data { .. }));
            if data && index >= kernel.inode(ino).i_size {
                out.push(read(Object::Fence(ino)));
            }
        }
        Change::PteInstalled { ino, .. } => {
            out.push(read(Object::FenceArmed(ino)));
            if armed {
                out.push(read(Object::Fence(ino)));
                out.extend(scan(ino));
            }
        }
        _ => {}
    }
}
