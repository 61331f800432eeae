//! Sleeping locks of the virtual kernel, all built on one fair interval lock.
//!
//! `i_rwsem`, `mmap_sem`, the fault lock (`i_mmap_sem` / `MMAPLOCK` / `invalidate_lock`),
//! Kara's mapping range lock, the DAX entry locks and page locks (`PG_locked`) are all
//! instances of [`FairLock`]: a queue of requests, each with a mode and a page range. An rwsem
//! is a request over the whole range; a page lock is an exclusive request over one page.
//!
//! Fairness is the point (MODEL.md section 1): a request is granted only when it conflicts with
//! no granted request *and no request queued ahead of it*. So a new reader queues behind a
//! waiting writer, as Linux rwsems do, and the ABBA deadlocks that need that rule are reachable.
//!
//! This module owns the queue discipline and the wait-for relation; it does not block anybody.
//! Blocking is the scheduler's business (see [`crate::Cpu`]).
//!
//! Besides the kernel's own locks, a policy may declare filesystem-internal lock classes (ext4's
//! `i_data_sem`, XFS's `ILOCK`, ...): [`DeclaredLock`], one object per inode, built on the same
//! fair lock, named by the policy.

use crate::types::{ActorId, Ino, MmId, PageId, PageRange};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockMode {
    Shared,
    Exclusive,
}

/// How a declared lock behaves: an rwsem (both modes, fair as the model's rwsems are), a mutex
/// (exclusive only), or a range lock (both modes, over page ranges, as Kara's range lock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclaredKind {
    Rwsem,
    Mutex,
    Range,
}

impl DeclaredKind {
    pub const ALL: [DeclaredKind; 3] = [DeclaredKind::Rwsem, DeclaredKind::Mutex, DeclaredKind::Range];

    /// As policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DeclaredKind::Rwsem => "rwsem",
            DeclaredKind::Mutex => "mutex",
            DeclaredKind::Range => "range",
        }
    }

    pub fn named(name: &str) -> Option<DeclaredKind> {
        DeclaredKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A lock class a policy declares (a filesystem-internal lock: ext4 `i_data_sem`, XFS `ILOCK`,
/// btrfs's extent io tree lock), one object per inode: its `slot` among the policy's
/// declarations (at most [`DECLARED_MAX`]), its `name`, its `kind`, and its `rank` in the lock
/// order if the policy gives one (see `racesim_kernel::placement::LockName::rank`).
///
/// A handle, two bytes: the declaration lives in a process-wide table that only grows
/// ([`DeclaredLock::new`] returns the same handle for the same declaration), so that lock
/// classes, events and footprints stay as small as they are without declared classes (the
/// event log and the explorer's footprints are the hot path) and reads need no lock. Equality
/// is the declaration's; order is by (slot, name, kind, rank), never by the handle, so that it
/// does not depend on what the process declared before.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeclaredLock(u16);

/// A declaration in the table of [`DeclaredLock`]s.
#[derive(Debug, PartialEq, Eq)]
struct Declared {
    slot: u8,
    name: &'static str,
    kind: DeclaredKind,
    rank: Option<u8>,
}

/// How many distinct declarations one process can hold (a few KiB; a run declares at most
/// [`DECLARED_MAX`]).
const DECLARATIONS_MAX: usize = 4096;

static DECLARATIONS: [std::sync::OnceLock<Declared>; DECLARATIONS_MAX] =
    [const { std::sync::OnceLock::new() }; DECLARATIONS_MAX];

/// How many entries of [`DECLARATIONS`] are in use; held while adding one.
static DECLARED_COUNT: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

impl DeclaredLock {
    /// The handle of this declaration (the same for the same declaration), or `None` if the
    /// process has made [`DECLARATIONS_MAX`] distinct ones already.
    pub fn new(slot: u8, name: &str, kind: DeclaredKind, rank: Option<u8>) -> Option<DeclaredLock> {
        let mut count = DECLARED_COUNT.lock().unwrap_or_else(|e| e.into_inner());
        for (i, entry) in DECLARATIONS.iter().take(*count).enumerate() {
            let d = entry.get().expect("entries below the count are set");
            if (d.slot, d.name, d.kind, d.rank) == (slot, name, kind, rank) {
                return Some(DeclaredLock(i as u16));
            }
        }
        if *count == DECLARATIONS_MAX {
            return None;
        }
        // Names are checked identifiers of at most 32 bytes, stored once per declaration.
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        let set = DECLARATIONS[*count].set(Declared { slot, name, kind, rank });
        debug_assert!(set.is_ok(), "the entry at the count is free");
        *count += 1;
        Some(DeclaredLock((*count - 1) as u16))
    }

    fn entry(self) -> &'static Declared {
        DECLARATIONS[self.0 as usize].get().expect("a handle is only made for a set entry")
    }

    pub fn slot(self) -> u8 {
        self.entry().slot
    }

    pub fn name(self) -> &'static str {
        self.entry().name
    }

    pub fn kind(self) -> DeclaredKind {
        self.entry().kind
    }

    pub fn rank(self) -> Option<u8> {
        self.entry().rank
    }

    fn key(self) -> (u8, &'static str, DeclaredKind, Option<u8>) {
        let d = self.entry();
        (d.slot, d.name, d.kind, d.rank)
    }
}

impl PartialOrd for DeclaredLock {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DeclaredLock {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::fmt::Debug for DeclaredLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DeclaredLock").field(self.entry()).finish()
    }
}

/// How many lock classes one policy may declare (the lock-order oracle keeps a fixed table of
/// classes).
pub const DECLARED_MAX: usize = 8;

/// Which lock an object is, for messages and for lock-order classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockClass {
    /// `inode->i_rwsem` (`i_mutex` before 4.7).
    IRwsem(Ino),
    /// `mm->mmap_sem` (`mmap_lock` today).
    MmapSem(MmId),
    /// The lock that fences page faults against invalidation: ext4 `i_mmap_sem`, XFS
    /// `MMAPLOCK`, or `mapping->invalidate_lock`; which one is the policy's name for it.
    FaultLock(Ino),
    /// Kara's mapping range lock over page-cache indices.
    RangeLock(Ino),
    /// `mapping->i_mmap_rwsem`, the reverse-map lock that `unmap_mapping_range` takes.
    IMmapRwsem(Ino),
    /// Per-index DAX entry locks (modelled as one interval lock per inode).
    DaxEntry(Ino),
    /// `PG_locked` of one page frame.
    Page(PageId),
    /// `i_dio_count`: every in-flight direct IO holds it shared from `inode_dio_begin` to
    /// `inode_dio_end`; `inode_dio_wait` takes it exclusive for an instant, waiting them out.
    DioCount(Ino),
    /// The jbd2 journal: a handle (`ext4_journal_start` .. `ext4_journal_stop`) holds it
    /// shared; one per filesystem.
    Journal,
    /// A lock class the policy declares, of one inode.
    Declared(DeclaredLock, Ino),
    /// The references `get_user_pages` holds on DAX pages (the disk blocks a DAX mapping maps,
    /// as `ZONE_DEVICE` pages): one interval object over the disk, whose "pages" are block
    /// numbers. A pin holds it shared over its block; a filesystem breaking layouts waits on
    /// it exclusive for an instant (`___wait_var_event` on `page->_refcount`). Not a lock:
    /// grants ignore waiters queued ahead ([`FairLock::grantable`]), as taking a page
    /// reference never waits for somebody waiting for the count to drop.
    DaxPin,
}

impl std::fmt::Display for LockClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            LockClass::IRwsem(i) => write!(f, "i_rwsem(ino {i})"),
            LockClass::MmapSem(m) => write!(f, "mmap_sem(mm {m})"),
            LockClass::FaultLock(i) => write!(f, "fault_lock(ino {i})"),
            LockClass::RangeLock(i) => write!(f, "range_lock(ino {i})"),
            LockClass::IMmapRwsem(i) => write!(f, "i_mmap_rwsem(ino {i})"),
            LockClass::DaxEntry(i) => write!(f, "dax_entry(ino {i})"),
            LockClass::Page(p) => write!(f, "page_lock(page#{p})"),
            LockClass::DioCount(i) => write!(f, "i_dio_count(ino {i})"),
            LockClass::Journal => write!(f, "journal"),
            LockClass::Declared(d, i) => write!(f, "{}(ino {i})", d.name()),
            LockClass::DaxPin => write!(f, "dax_pin"),
        }
    }
}

/// A lock class as lockdep sees it: every inode's `i_rwsem` is one class, every page lock one
/// class. Orders between classes are what the lock-order oracle records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockKind {
    IRwsem,
    MmapSem,
    FaultLock,
    RangeLock,
    IMmapRwsem,
    DaxEntry,
    Page,
    /// Not a lock to lockdep; orders with it are not recorded.
    DioCount,
    Journal,
    /// Not a lock to lockdep either (page references); orders with it are not recorded.
    DaxPin,
    /// A declared class: every inode's object of it is one class.
    Declared(DeclaredLock),
}

impl LockKind {
    /// The built-in classes.
    pub const BUILTIN: [LockKind; 10] = [
        LockKind::IRwsem,
        LockKind::MmapSem,
        LockKind::FaultLock,
        LockKind::RangeLock,
        LockKind::IMmapRwsem,
        LockKind::DaxEntry,
        LockKind::Page,
        LockKind::DioCount,
        LockKind::Journal,
        LockKind::DaxPin,
    ];

    /// Built-in classes and the most a policy may declare: the size of a table by class.
    pub const COUNT: usize = 10 + DECLARED_MAX;

    pub fn index(self) -> usize {
        match self {
            LockKind::IRwsem => 0,
            LockKind::MmapSem => 1,
            LockKind::FaultLock => 2,
            LockKind::RangeLock => 3,
            LockKind::IMmapRwsem => 4,
            LockKind::DaxEntry => 5,
            LockKind::Page => 6,
            LockKind::DioCount => 7,
            LockKind::Journal => 8,
            LockKind::DaxPin => 9,
            LockKind::Declared(d) => 10 + d.slot() as usize,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LockKind::IRwsem => "i_rwsem",
            LockKind::MmapSem => "mmap_sem",
            LockKind::FaultLock => "fault_lock",
            LockKind::RangeLock => "range_lock",
            LockKind::IMmapRwsem => "i_mmap_rwsem",
            LockKind::DaxEntry => "dax_entry",
            LockKind::Page => "page_lock",
            LockKind::DioCount => "i_dio_count",
            LockKind::Journal => "journal",
            LockKind::DaxPin => "dax_pin",
            LockKind::Declared(d) => d.name(),
        }
    }
}

impl LockClass {
    pub fn kind(self) -> LockKind {
        match self {
            LockClass::IRwsem(_) => LockKind::IRwsem,
            LockClass::MmapSem(_) => LockKind::MmapSem,
            LockClass::FaultLock(_) => LockKind::FaultLock,
            LockClass::RangeLock(_) => LockKind::RangeLock,
            LockClass::IMmapRwsem(_) => LockKind::IMmapRwsem,
            LockClass::DaxEntry(_) => LockKind::DaxEntry,
            LockClass::Page(_) => LockKind::Page,
            LockClass::DioCount(_) => LockKind::DioCount,
            LockClass::Journal => LockKind::Journal,
            LockClass::DaxPin => LockKind::DaxPin,
            LockClass::Declared(d, _) => LockKind::Declared(d),
        }
    }
}

/// Index of a lock in [`crate::Kernel::locks`].
pub type LockId = u32;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// Unique per lock, increasing in arrival order.
    pub ticket: u32,
    pub actor: ActorId,
    pub mode: LockMode,
    pub range: PageRange,
    pub granted: bool,
}

impl Request {
    fn conflicts_with(&self, other: &Request) -> bool {
        self.range.overlaps(other.range) && (self.mode == LockMode::Exclusive || other.mode == LockMode::Exclusive)
    }
}

/// A fair shared/exclusive interval lock. Requests are kept in arrival order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FairLock {
    pub class: LockClass,
    pub requests: Vec<Request>,
    next_ticket: u32,
}

/// A request somebody holds or waits for: which lock, which ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestRef {
    pub lock: LockId,
    pub ticket: u32,
}

impl FairLock {
    pub fn new(class: LockClass) -> Self {
        FairLock { class, requests: Vec::new(), next_ticket: 0 }
    }

    /// Queues a request; returns its ticket and whether it was granted at once.
    pub fn enqueue(&mut self, actor: ActorId, mode: LockMode, range: PageRange) -> (u32, bool) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.requests.push(Request { ticket, actor, mode, range, granted: false });
        let granted = self.try_grant(ticket);
        (ticket, granted)
    }

    fn position(&self, ticket: u32) -> usize {
        self.requests
            .iter()
            .position(|r| r.ticket == ticket)
            .unwrap_or_else(|| panic!("model bug: ticket {ticket} not queued on {}", self.class))
    }

    /// Whether requests wait behind conflicting requests queued ahead of them. Every lock is
    /// fair except [`LockClass::DaxPin`], which stands for page references: a new reference
    /// never waits for somebody waiting for the count to drop.
    fn fair(&self) -> bool {
        self.class != LockClass::DaxPin
    }

    /// A queued request may be granted when nothing granted, and (for a fair lock) nothing
    /// queued ahead of it, conflicts with it.
    pub fn grantable(&self, ticket: u32) -> bool {
        let position = self.position(ticket);
        let request = &self.requests[position];
        let fair = self.fair();
        self.requests.iter().enumerate().all(|(i, other)| {
            i == position || !(other.granted || (fair && i < position)) || !other.conflicts_with(request)
        })
    }

    /// Grants the request if it is grantable.
    pub fn try_grant(&mut self, ticket: u32) -> bool {
        if self.grantable(ticket) {
            let position = self.position(ticket);
            self.requests[position].granted = true;
            true
        } else {
            false
        }
    }

    /// Marks a queued request granted. The caller has established that it is grantable (the
    /// scheduler only resumes a sleeper whose request is).
    pub fn mark_granted(&mut self, ticket: u32) {
        let position = self.position(ticket);
        self.requests[position].granted = true;
    }

    /// Removes a granted request.
    pub fn release(&mut self, ticket: u32) -> Request {
        let position = self.position(ticket);
        assert!(self.requests[position].granted, "model bug: releasing a lock that was never granted");
        self.requests.remove(position)
    }

    /// The actors whose requests keep `ticket` waiting (granted or queued ahead, conflicting).
    pub fn blockers(&self, ticket: u32) -> impl Iterator<Item = ActorId> + '_ {
        let position = self.position(ticket);
        let request = &self.requests[position];
        let fair = self.fair();
        self.requests
            .iter()
            .enumerate()
            .filter(move |(i, other)| {
                *i != position && (other.granted || (fair && *i < position)) && other.conflicts_with(request)
            })
            .map(|(_, other)| other.actor)
    }

    pub fn request(&self, ticket: u32) -> &Request {
        &self.requests[self.position(ticket)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_queues_behind_waiting_writer() {
        let mut sem = FairLock::new(LockClass::MmapSem(0));
        let (_, r1) = sem.enqueue(0, LockMode::Shared, PageRange::WHOLE);
        let (w, w_granted) = sem.enqueue(1, LockMode::Exclusive, PageRange::WHOLE);
        let (r2, r2_granted) = sem.enqueue(2, LockMode::Shared, PageRange::WHOLE);
        assert!(r1);
        assert!(!w_granted);
        assert!(!r2_granted, "a new reader must not overtake a waiting writer");
        assert_eq!(sem.blockers(r2).collect::<Vec<_>>(), vec![1]);
        assert_eq!(sem.blockers(w).collect::<Vec<_>>(), vec![0]);
    }

    /// Events and footprints carry lock classes on the hot path: declared classes must not make
    /// them bigger than the built-in ones do.
    #[test]
    fn a_lock_class_stays_eight_bytes_and_declarations_are_shared() {
        assert_eq!(std::mem::size_of::<LockClass>(), 8);
        let a = DeclaredLock::new(0, "i_data_sem", DeclaredKind::Rwsem, Some(11)).unwrap();
        let b = DeclaredLock::new(0, "i_data_sem", DeclaredKind::Rwsem, Some(11)).unwrap();
        let c = DeclaredLock::new(1, "ILOCK", DeclaredKind::Mutex, None).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!((c.slot(), c.name(), c.kind(), c.rank()), (1, "ILOCK", DeclaredKind::Mutex, None));
        assert!(a < c, "ordered by slot first, whatever the handles");
    }

    /// A page reference never waits for a filesystem waiting for the references to drop, and
    /// that waiter is blocked by the holders only (the deadlock oracle's wait-for edges).
    #[test]
    fn dax_pins_do_not_queue_behind_a_waiter() {
        let mut pins = FairLock::new(LockClass::DaxPin);
        let (_, a) = pins.enqueue(0, LockMode::Shared, PageRange::page(5));
        let (w, w_granted) = pins.enqueue(1, LockMode::Exclusive, PageRange::page(5));
        let (_, b) = pins.enqueue(2, LockMode::Shared, PageRange::page(5));
        assert!(a && !w_granted && b, "a new pin is granted past the waiter");
        assert_eq!(pins.blockers(w).collect::<Vec<_>>(), vec![0, 2]);
    }

    #[test]
    fn disjoint_ranges_do_not_conflict() {
        let mut lock = FairLock::new(LockClass::RangeLock(0));
        let (_, a) = lock.enqueue(0, LockMode::Exclusive, PageRange::new(0, 2));
        let (_, b) = lock.enqueue(1, LockMode::Exclusive, PageRange::new(2, 4));
        let (c, c_granted) = lock.enqueue(2, LockMode::Exclusive, PageRange::to_eof(3));
        assert!(a && b && !c_granted);
        assert_eq!(lock.blockers(c).collect::<Vec<_>>(), vec![1]);
    }
}
