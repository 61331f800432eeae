//! The sequential reference model behind the end-state oracles (lost write, and stale data
//! that a later reader would see).
//!
//! Each file is a size and one token per page. The history of an execution is cut into
//! *items*, each with the interval of event indices in which it took effect:
//! - a store is atomic where it retired; each page a write(2) copied takes effect somewhere
//!   between its copy and the syscall's return (write(2) is not atomic as a whole against mmap
//!   stores, and a direct reader does not see the page cache); each page a direct read's DMA
//!   put into a pinned mapping takes effect between the start of the read and the DMA;
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
use racesim_kernel::event::{Change, Event, Outcome};
use racesim_kernel::state::FILE_PAGES_MAX;
use racesim_kernel::types::{ActorId, Ino, Lblk, Token};
use racesim_kernel::{Kernel, Names, Operation};

/// A file as the reference model sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefFile {
    pub size: Lblk,
    pub pages: Vec<Token>,
    /// A truncate has shrunk the size to this and not yet removed the pages past it: until it
    /// does, stores through PTEs it has not zapped yet may still land there.
    pub zap_pending_from: Option<Lblk>,
}

impl RefFile {
    /// The persistent contents of `ino` (what the block map points at on disk).
    pub fn from_kernel(kernel: &Kernel, ino: Ino) -> Self {
        let size = kernel.inode(ino).i_size;
        let pages = (0..FILE_PAGES_MAX)
            .map(|l| if l < size { kernel.persistent_content(ino, l) } else { Token::Zero })
            .collect();
        RefFile { size, pages, zap_pending_from: None }
    }

    /// What a reader would see now: the uptodate cached page where there is one, else the disk.
    pub fn visible(kernel: &Kernel, ino: Ino) -> Self {
        let mut file = RefFile::from_kernel(kernel, ino);
        for lblk in 0..file.size.min(FILE_PAGES_MAX) {
            if let Some(page) = kernel.inode(ino).cache[lblk as usize] {
                let p = kernel.page(page);
                if p.uptodate && p.attached {
                    file.pages[lblk as usize] = p.content;
                }
            }
        }
        file
    }
}

/// What one item does to, or expects of, the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    /// A page of data landed (store retired, write(2) copied a page).
    Wrote {
        ino: Ino,
        lblk: Lblk,
        token: Token,
    },
    /// A load or read(2) returned `token` for the page.
    Saw {
        ino: Ino,
        lblk: Lblk,
        token: Token,
    },
    /// Insert range: pages from `page` move up by `pages`, leaving zeroes.
    Insert {
        ino: Ino,
        page: Lblk,
        pages: Lblk,
        refused: bool,
    },
    /// A load or store got SIGBUS: the page was beyond EOF at its turn.
    Sigbus {
        ino: Ino,
        lblk: Lblk,
    },
    /// Truncate's `i_size_write`: the new size is visible from this point on.
    TruncateSize {
        ino: Ino,
        size: Lblk,
    },
    /// Truncate's removal of the data past the new size, somewhere in the operation.
    Truncate {
        ino: Ino,
        size: Lblk,
    },
    /// Punch hole (nothing from EOF on: `ext4_punch_hole` stops one page past `i_size`) or
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
}

/// Cuts the event log into items (see the module docs).
pub fn history(ops: &[OpInfo], log: &[Event]) -> Vec<Item> {
    // Per actor: the operation in progress and where it began.
    let mut current: Vec<Option<(Operation, usize)>> = Vec::new();
    let mut items = Vec::new();
    for (at, event) in log.iter().enumerate() {
        let actor = event.actor as usize;
        if current.len() <= actor && actor != racesim_kernel::SYNC_ACTOR as usize {
            current.resize(actor + 1, None);
        }
        let running = current.get(actor).copied().flatten();
        let point = |effect, op| Item { effect, begin: at, end: at, actor: event.actor, op };
        match event.change {
            Change::OpBegin { op } => {
                if let Some(info) = ops.iter().find(|o| o.actor == event.actor && o.op_index == op) {
                    current[actor] = Some((info.op, at));
                }
            }
            Change::OpEnd { outcome, .. } => {
                let Some((op, begin)) = running else { continue };
                current[actor] = None;
                // The pages this write(2) copied took effect by now at the latest.
                for item in items.iter_mut().filter(|i: &&mut Item| i.actor == event.actor && i.end == usize::MAX) {
                    item.end = at;
                }
                let interval = |effect| Item { effect, begin, end: at, actor: event.actor, op };
                match (op, outcome) {
                    (Operation::Truncate { file, size }, _) => {
                        // The removal follows the size change (ext4_setattr's order): start its
                        // interval there, so no order puts it first.
                        let size_point = items
                            .iter()
                            .rev()
                            .find(|i| i.actor == event.actor && matches!(i.effect, Effect::TruncateSize { .. }))
                            .map_or(begin, |i| i.begin.max(begin));
                        let effect = Effect::Truncate { ino: file, size };
                        items.push(Item { effect, begin: size_point, end: at, actor: event.actor, op })
                    }
                    (Operation::PunchHole { file, page, pages }, _) => {
                        items.push(interval(Effect::Punch { ino: file, page, pages, zero_range: false }))
                    }
                    // MADV_REMOVE punches unless the range was not mapped (EINVAL).
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
                    (Operation::Store { file, page } | Operation::Load { file, page }, Outcome::Sigbus) => {
                        items.push(interval(Effect::Sigbus { ino: file, lblk: page }))
                    }
                    _ => {}
                }
            }
            Change::ISizeSet { ino, i_size } => {
                if let Some((op @ Operation::Truncate { .. }, _)) = running {
                    items.push(point(Effect::TruncateSize { ino, size: i_size }, op));
                }
            }
            Change::StoreRetired { ino, index, token } => {
                if let Some((op @ Operation::Store { .. }, _)) = running {
                    items.push(point(Effect::Wrote { ino, lblk: index, token }, op));
                }
            }
            Change::PageCopied { token: token @ Token::Data { ino, lblk, .. }, .. } => {
                // A copied page is in the page cache, visible to buffered readers, but reaches
                // the disk (and direct readers) only later: it takes effect somewhere between
                // the copy and the syscall's return (end filled in at OpEnd).
                if let Some((op @ Operation::Write { .. }, _)) = running {
                    items.push(Item {
                        effect: Effect::Wrote { ino, lblk, token },
                        begin: at,
                        end: usize::MAX,
                        actor: event.actor,
                        op,
                    });
                }
            }
            Change::DiskWrite { token: token @ Token::Data { ino, lblk, write }, .. } => {
                // DAX write(2) copies straight to the block (stores log StoreRetired instead);
                // a direct IO write lands at its bio's completion, which for an asynchronous
                // one comes after the syscall returned.
                if let Some((op @ Operation::Write { .. }, _)) = running {
                    items.push(point(Effect::Wrote { ino, lblk, token }, op));
                } else if event.function == "dio_bio_end_io"
                    && let Some(info) = ops.iter().find(|o| o.write == write)
                {
                    items.push(point(Effect::Wrote { ino, lblk, token }, info.op));
                }
            }
            Change::DmaIntoPage { ino, index, token, .. } => {
                // A direct read into a pinned mapping writes that file's page like a store that
                // lands somewhere between the pin and the DMA (the pin was taken after the start
                // of the syscall); a truncate may have removed the page in between, and then the
                // data went with it.
                if let Some((op @ Operation::DioRead { .. }, begin)) = running {
                    items.push(Item {
                        effect: Effect::Wrote { ino, lblk: index, token },
                        begin,
                        end: at,
                        actor: event.actor,
                        op,
                    });
                }
            }
            Change::UserRead { ino, index, token, .. } => match running {
                // A load reads through its PTE in one step.
                Some((op @ Operation::Load { .. }, _)) => {
                    items.push(point(Effect::Saw { ino, lblk: index, token }, op))
                }
                // read(2) copies from a page it looked up earlier and holds a reference to; the
                // page may have been truncated since, so what it returns may be from any time
                // between the start of the syscall and the copy.
                Some((op @ (Operation::Read { .. } | Operation::DioRead { .. }), begin)) => items.push(Item {
                    effect: Effect::Saw { ino, lblk: index, token },
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
    items
}

/// Which question a search answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Reads ignored; only pages the reference says hold written data are compared.
    WrittenDataOnly,
    /// Reads must match, and every visible page within EOF must equal the reference.
    Everything,
}

/// Applies one item to the reference files. Returns false if what it observed is impossible
/// at this point of the serial order.
fn apply(files: &mut [RefFile], item: &Item, strictness: Strictness) -> bool {
    match item.effect {
        Effect::Wrote { ino, lblk, token } => {
            let f = &mut files[ino as usize];
            // A store (or a direct read's DMA into a mapping) lands inside EOF, or past a size
            // that a truncate in progress has just shrunk, through a PTE it has not zapped yet
            // (the data then goes with the truncate's removal). write(2) may extend the file.
            if matches!(item.op, Operation::Store { .. } | Operation::DioRead { .. }) {
                let pending = f.zap_pending_from.is_some_and(|from| lblk >= from);
                if lblk >= f.size && !pending {
                    return false;
                }
            } else {
                f.size = f.size.max(lblk + 1);
            }
            f.pages[lblk as usize] = token;
            true
        }
        Effect::Saw { ino, lblk, token } => {
            let f = &files[ino as usize];
            // Content only: whether an access past EOF could happen at all is the mapping and
            // SIGBUS business of other checks; a load through a PTE that truncate has not zapped
            // yet legally sees the old data after i_size shrank.
            strictness == Strictness::WrittenDataOnly || f.pages[lblk as usize] == token
        }
        Effect::Sigbus { ino, lblk } => lblk >= files[ino as usize].size,
        Effect::TruncateSize { ino, size } => {
            let f = &mut files[ino as usize];
            if size < f.size {
                f.zap_pending_from = Some(size);
            }
            f.size = size;
            true
        }
        Effect::Truncate { ino, size } => {
            let f = &mut files[ino as usize];
            for lblk in size..FILE_PAGES_MAX {
                f.pages[lblk as usize] = Token::Zero;
            }
            f.zap_pending_from = None;
            true
        }
        Effect::Punch { ino, page, pages, zero_range } => {
            let f = &mut files[ino as usize];
            let end = if zero_range {
                f.size = f.size.max(page + pages);
                page + pages
            } else if page < f.size {
                (page + pages).min(f.size + 1)
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
            let judged = strictness == Strictness::Everything || matches!(expected, Token::Data { .. });
            if judged && got != expected {
                return Some(difference(Some(lblk), expected, got));
            }
        }
        if strictness == Strictness::Everything && r.size != a.size {
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
    difference: Difference,
    writer: Option<(ActorId, Operation)>,
    /// A read in the history that no order explains, if that is what failed.
    read: Option<(ActorId, Ino, Lblk, Token)>,
    /// An outcome no serial order reproduces (a store that got SIGBUS inside EOF, say).
    outcome: Option<(ActorId, Operation)>,
}

impl Mismatch {
    pub fn describe(&self, names: &dyn Names) -> String {
        let token = |t: Token| match t {
            Token::Zero => "zeroes".to_string(),
            Token::Data { ino, lblk, write: 0 } => format!("the initial data of {}:{lblk}", names.file(ino)),
            Token::Data { ino, lblk, write } => format!("the data op#{write} wrote at {}:{lblk}", names.file(ino)),
            Token::Leftover { pblk } => format!("leftovers of block {pblk}"),
        };
        if let Some((actor, ino, lblk, seen)) = self.read {
            return format!(
                "{} read {}:{lblk} and saw {}, which no serial order of the operations puts there at that point",
                names.actor(actor),
                names.file(ino),
                token(seen)
            );
        }
        let Difference { ino, lblk, expected, got, size_expected, size_got } = self.difference;
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

/// Lost write: no serial order leaves the written data where it belongs.
pub fn check_lost_write(initial: &[RefFile], history: &[Item], persistent: &[RefFile]) -> Result<(), Box<Mismatch>> {
    check(initial, history, persistent, Strictness::WrittenDataOnly)
}

/// Stale data: no serial order explains every read and what a reader would see now.
pub fn check_stale_data(initial: &[RefFile], history: &[Item], visible: &[RefFile]) -> Result<(), Box<Mismatch>> {
    check(initial, history, visible, Strictness::Everything)
}

fn check(
    initial: &[RefFile],
    history: &[Item],
    actual: &[RefFile],
    strictness: Strictness,
) -> Result<(), Box<Mismatch>> {
    let mut order: Vec<usize> = (0..history.len()).collect();
    order.sort_by_key(|&i| (history[i].end, history[i].begin));
    let mut used = vec![false; history.len()];
    let mut files = initial.to_vec();
    let mut budget = SEARCH_NODES_MAX;
    if search(&order, history, &mut used, &mut files, actual, 0, strictness, &mut budget) {
        return Ok(());
    }
    Err(Box::new(explain(initial, history, actual, &order, strictness)))
}

/// Bound on the nodes one search visits. Histories are a handful of items, so it is never
/// reached in practice; reaching it reports the end state as unexplained, with a note.
const SEARCH_NODES_MAX: u64 = 2_000_000;

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
        if !apply(&mut files, item, strictness) {
            match item.effect {
                Effect::Saw { ino, lblk, token } if read.is_none() => read = Some((item.actor, ino, lblk, token)),
                Effect::Saw { .. } => {}
                _ if outcome.is_none() => outcome = Some((item.actor, item.op)),
                _ => {}
            }
        }
    }
    let difference = first_mismatch(&files, actual, strictness).unwrap_or(Difference {
        ino: 0,
        lblk: Some(0),
        expected: Token::Zero,
        got: Token::Zero,
        size_expected: 0,
        size_got: 0,
    });
    let writer = match difference.expected {
        Token::Data { write, .. } if write > 0 => history
            .iter()
            .find(|h| matches!(h.effect, Effect::Wrote { token: Token::Data { write: w, .. }, .. } if w == write))
            .map(|h| (h.actor, h.op)),
        _ => None,
    };
    Mismatch { actors, difference, writer, read, outcome }
}

#[allow(clippy::too_many_arguments)]
fn search(
    order: &[usize],
    history: &[Item],
    used: &mut [bool],
    files: &mut Vec<RefFile>,
    actual: &[RefFile],
    placed: usize,
    strictness: Strictness,
    budget: &mut u64,
) -> bool {
    if placed == history.len() {
        return first_mismatch(files, actual, strictness).is_none();
    }
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    for &candidate in order {
        if used[candidate] {
            continue;
        }
        // Real-time order: everything that ended before this one began must already be placed.
        let ready = history
            .iter()
            .enumerate()
            .all(|(j, other)| used[j] || j == candidate || other.end >= history[candidate].begin);
        if !ready {
            continue;
        }
        let saved = files.clone();
        if apply(files, &history[candidate], strictness) {
            used[candidate] = true;
            if search(order, history, used, files, actual, placed + 1, strictness, budget) {
                return true;
            }
            used[candidate] = false;
        }
        *files = saved;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use racesim_kernel::event::NumericNames;

    fn file(size: Lblk, data: &[Token]) -> RefFile {
        let mut pages = vec![Token::Zero; FILE_PAGES_MAX as usize];
        pages[..data.len()].copy_from_slice(data);
        RefFile { size, pages, zap_pending_from: None }
    }

    /// A file that ends shorter than the reference, with zeroes everywhere: the message names
    /// the sizes, not "zeroes where the reference holds zeroes".
    #[test]
    fn a_size_difference_is_named_as_such() {
        let initial = [file(3, &[])];
        let actual = [file(1, &[])];
        let mismatch = check_stale_data(&initial, &[], &actual).expect_err("sizes differ");
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
        let mismatch = check_lost_write(&initial, &[], &actual).expect_err("the data is gone");
        let message = mismatch.describe(&NumericNames);
        assert!(message.contains("ino0 is 1 page(s) long, so ino0:2 lies beyond EOF"), "{message}");
    }
}
