//! The event log: one [`Event`] per atomic step (sometimes a few), saying which actor ran which
//! kernel function and what changed. Events are small `Copy` values so that logging costs a
//! push; they are rendered to text only when a trace is written or explained.
//!
//! Oracles read events too: a disk write, a user-visible read or the end of an operation is an
//! event, and [`racesim_oracles`] judges it against the state.

use crate::lock::{LockClass, LockMode};
use crate::state::PteTarget;
use crate::types::{ActorId, Extent, Ino, Lblk, MmId, PageId, PageRange, Pblk, Token};

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
    /// EFAULT: nothing was copied.
    Efault,
    /// EINVAL: the arguments were refused (e.g. collapse reaching EOF).
    Einval,
    /// ENOSPC.
    Enospc,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => write!(f, "ok"),
            Outcome::Pages(n) => write!(f, "{n} page(s)"),
            Outcome::Sigbus => write!(f, "SIGBUS"),
            Outcome::Efault => write!(f, "EFAULT"),
            Outcome::Einval => write!(f, "EINVAL"),
            Outcome::Enospc => write!(f, "ENOSPC"),
        }
    }
}

/// How a user-visible read reached the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadPath {
    MmapLoad,
    ReadSyscall,
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
        page: PageId,
        extent: Extent,
        token: Token,
    },
    MappingCheck {
        page: PageId,
        attached: bool,
    },
    BlockMapped {
        ino: Ino,
        lblk: Lblk,
        extent: Extent,
        allocated: bool,
    },
    PageDirtied {
        page: PageId,
    },
    PageCopied {
        page: PageId,
        token: Token,
    },
    PageZeroed {
        page: PageId,
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
    },
    UserRead {
        ino: Ino,
        index: Lblk,
        token: Token,
        path: ReadPath,
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
    ExtentsShifted {
        ino: Ino,
        from: Lblk,
        by: Lblk,
    },
    ISizeSet {
        ino: Ino,
        i_size: Lblk,
    },
    CopyFailed {
        ino: Ino,
        index: Lblk,
    },
    DioWait {
        ino: Ino,
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
    }
}

/// A lock as kernel developers say it: page locks and mutex-like use without mode and range,
/// rwsems with their mode, range locks with their range.
fn lock_text(class: LockClass, mode: LockMode, range: PageRange, names: &dyn Names) -> String {
    let name = lock_name(class, names);
    match class {
        LockClass::Page(_) => name,
        LockClass::RangeLock(_) | LockClass::DaxEntry(_) => format!("{name} {} {range}", mode_name(mode)),
        _ => format!("{name} {}", mode_name(mode)),
    }
}

fn mode_name(mode: LockMode) -> &'static str {
    match mode {
        LockMode::Shared => "shared",
        LockMode::Exclusive => "excl",
    }
}

fn token_name(token: Token, names: &dyn Names) -> String {
    match token {
        Token::Zero => "zeroes".into(),
        Token::Data { ino, lblk, write: 0 } => format!("initial {}:{lblk}", names.file(ino)),
        Token::Data { ino, lblk, write } => format!("op#{write} {}:{lblk}", names.file(ino)),
        Token::Leftover { pblk } => format!("leftovers of block {pblk}"),
    }
}

fn extent_name(extent: Extent) -> String {
    match extent {
        Extent::Hole => "hole".into(),
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
            Change::PageRead { page, extent, token } => {
                format!("page#{page} read from {}: {}", extent_name(extent), token_name(token, names))
            }
            Change::MappingCheck { page, attached: true } => format!("page#{page} still in the mapping"),
            Change::MappingCheck { page, attached: false } => format!("page#{page} was truncated; retry"),
            Change::BlockMapped { ino, lblk, extent, allocated } => {
                let how = if allocated { "allocated" } else { "found" };
                format!("{}:{lblk} -> {} ({how})", file(ino), extent_name(extent))
            }
            Change::PageDirtied { page } => format!("page#{page} dirty"),
            Change::PageCopied { page, token } => format!("copies {} into page#{page}", token_name(token, names)),
            Change::PageZeroed { page } => format!("zeroes new buffers of page#{page}"),
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
            Change::DiskWrite { pblk, ino, lblk, token } => {
                format!("writes {} for {}:{lblk} to block {pblk}", token_name(token, names), file(ino))
            }
            Change::UserRead { ino, index, token, path } => format!(
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
            Change::ExtentsShifted { ino, from, by } => {
                format!("shifts extents of {} from {from} left by {by}", file(ino))
            }
            Change::ISizeSet { ino, i_size } => format!("i_size of {} = {i_size}", file(ino)),
            Change::CopyFailed { ino, index } => format!("copy from user fails at {}:{index}", file(ino)),
            Change::DioWait { ino } => format!("no direct IO in flight on {}", file(ino)),
            Change::Mapped { mm, ino, pages } => format!("mm{mm} maps {} ({pages} pages, shared)", file(ino)),
            Change::Unmapped { mm, ino } => format!("mm{mm} unmaps {}", file(ino)),
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

impl Event {
    pub fn describe(&self, names: &dyn Names) -> String {
        format!("{} {}: {}", names.actor(self.actor), self.function, self.change.describe(names))
    }
}
