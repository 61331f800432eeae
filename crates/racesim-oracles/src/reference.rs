//! The sequential reference model behind the lost-write oracle.
//!
//! Each file is a size and one token per page. Operations that change contents (store, write,
//! truncate, punch hole, collapse range) are applied one at a time. An end state is accepted if
//! some serial order of the operations that respects real-time order (an operation that ended
//! before another began comes first) and reproduces every operation's observed outcome (a store
//! that got SIGBUS must be beyond EOF at its turn) yields, after all of them, every page that
//! the reference says holds written data. Pages the reference says are zero are not judged
//! here: non-zero garbage there is stale data, another oracle's business.

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
}

impl RefFile {
    /// The persistent contents of `ino` (what the block map points at on disk).
    pub fn from_kernel(kernel: &Kernel, ino: Ino) -> Self {
        let size = kernel.inode(ino).i_size;
        let pages = (0..FILE_PAGES_MAX)
            .map(|l| if l < size { kernel.persistent_content(ino, l) } else { Token::Zero })
            .collect();
        RefFile { size, pages }
    }
}

/// One content-changing operation as it happened.
#[derive(Clone, Debug)]
pub struct Happened {
    pub info: OpInfo,
    pub begin: usize,
    pub end: usize,
    pub outcome: Outcome,
}

/// The content-changing operations that completed in this execution, from the event log.
pub fn history(ops: &[OpInfo], log: &[Event]) -> Vec<Happened> {
    let mut begun: Vec<(ActorId, u16, usize)> = Vec::new();
    let mut done = Vec::new();
    for (at, event) in log.iter().enumerate() {
        match event.change {
            Change::OpBegin { op } => begun.push((event.actor, op, at)),
            Change::OpEnd { op, outcome } => {
                let Some(info) = ops.iter().find(|o| o.actor == event.actor && o.op_index == op) else { continue };
                if !changes_content(&info.op) {
                    continue;
                }
                let begin = begun.iter().find(|b| b.0 == event.actor && b.1 == op).map_or(0, |b| b.2);
                done.push(Happened { info: info.clone(), begin, end: at, outcome });
            }
            _ => {}
        }
    }
    done
}

fn changes_content(op: &Operation) -> bool {
    matches!(
        op,
        Operation::Store { .. }
            | Operation::Write { .. }
            | Operation::Truncate { .. }
            | Operation::PunchHole { .. }
            | Operation::CollapseRange { .. }
    )
}

/// Applies one operation to the reference files. Returns false if the observed outcome is
/// impossible at this point of the serial order.
fn apply(files: &mut [RefFile], happened: &Happened) -> bool {
    let write = happened.info.write;
    match (happened.info.op, happened.outcome) {
        (Operation::Store { file, page }, outcome) => {
            let f = &mut files[file as usize];
            let inside = page < f.size;
            match outcome {
                Outcome::Ok if inside => {
                    f.pages[page as usize] = Token::Data { ino: file, lblk: page, write };
                    true
                }
                Outcome::Sigbus => !inside,
                _ => false,
            }
        }
        (Operation::Write { file, page, .. }, Outcome::Pages(n)) => {
            let f = &mut files[file as usize];
            for lblk in page..page + n {
                f.pages[lblk as usize] = Token::Data { ino: file, lblk, write };
            }
            f.size = f.size.max(page + n);
            true
        }
        (Operation::Write { .. }, _) => true,
        (Operation::Truncate { file, size }, _) => {
            let f = &mut files[file as usize];
            for lblk in size..FILE_PAGES_MAX {
                f.pages[lblk as usize] = Token::Zero;
            }
            f.size = size;
            true
        }
        (Operation::PunchHole { file, page, pages }, _) => {
            let f = &mut files[file as usize];
            for lblk in page..(page + pages).min(FILE_PAGES_MAX) {
                f.pages[lblk as usize] = Token::Zero;
            }
            true
        }
        (Operation::CollapseRange { file, page, pages }, outcome) => {
            let f = &mut files[file as usize];
            let refused = page + pages >= f.size;
            match outcome {
                Outcome::Einval => refused,
                Outcome::Ok if !refused => {
                    f.pages.drain(page as usize..(page + pages) as usize);
                    f.pages.resize(FILE_PAGES_MAX as usize, Token::Zero);
                    f.size -= pages;
                    true
                }
                _ => false,
            }
        }
        _ => true,
    }
}

/// The first page where `actual` lacks data the reference says was written.
fn first_lost(reference: &[RefFile], actual: &[RefFile]) -> Option<(Ino, Lblk, Token, Token)> {
    for (ino, (r, a)) in reference.iter().zip(actual).enumerate() {
        for lblk in 0..r.size.min(FILE_PAGES_MAX) {
            let expected = r.pages[lblk as usize];
            if let Token::Data { .. } = expected {
                let got = if lblk < a.size { a.pages[lblk as usize] } else { Token::Zero };
                if got != expected {
                    return Some((ino as Ino, lblk, expected, got));
                }
            }
        }
    }
    None
}

/// Why no serial order explains the end state, described for the order in which operations
/// ended (the most natural one).
#[derive(Debug)]
pub struct Mismatch {
    pub actors: Vec<ActorId>,
    pub ino: Ino,
    pub lblk: Lblk,
    pub expected: Token,
    pub got: Token,
    pub writer: Option<(ActorId, Operation)>,
    pub order_found: bool,
}

impl Mismatch {
    pub fn describe(&self, names: &dyn Names) -> String {
        let file = names.file(self.ino);
        let token = |t: Token| match t {
            Token::Zero => "zeroes".to_string(),
            Token::Data { ino, lblk, write: 0 } => format!("the initial data of {}:{lblk}", names.file(ino)),
            Token::Data { ino, lblk, write } => format!("the data op#{write} wrote at {}:{lblk}", names.file(ino)),
            Token::Leftover { pblk } => format!("leftovers of block {pblk}"),
        };
        let who = match self.writer {
            Some((actor, op)) => format!(" ({} by {})", op.name(), names.actor(actor)),
            None => String::new(),
        };
        if !self.order_found {
            return format!(
                "no serial order of the operations reproduces what each of them returned; \
                 in completion order, {file}:{} should hold {}{who} but holds {}",
                self.lblk,
                token(self.expected),
                token(self.got)
            );
        }
        format!(
            "after sync, {file}:{} holds {} where {}{who} completed and should be; no serial order of the \
             operations explains it",
            self.lblk,
            token(self.got),
            token(self.expected)
        )
    }
}

/// Searches serial orders (completion order first) for one that explains `actual`.
pub fn find_serial_order(initial: &[RefFile], history: &[Happened], actual: &[RefFile]) -> Result<(), Mismatch> {
    let mut order: Vec<usize> = (0..history.len()).collect();
    order.sort_by_key(|&i| history[i].end);
    let mut used = vec![false; history.len()];
    let mut files = initial.to_vec();
    if search(&order, history, &mut used, &mut files, actual, 0) {
        return Ok(());
    }
    // Describe the failure in completion order.
    let mut files = initial.to_vec();
    let mut consistent = true;
    for &i in &order {
        consistent &= apply(&mut files, &history[i]);
    }
    let (ino, lblk, expected, got) = first_lost(&files, actual).unwrap_or((0, 0, Token::Zero, Token::Zero));
    let writer = match expected {
        Token::Data { write, .. } if write > 0 => {
            history.iter().find(|h| h.info.write == write).map(|h| (h.info.actor, h.info.op))
        }
        _ => None,
    };
    let mut actors: Vec<ActorId> = history.iter().map(|h| h.info.actor).collect();
    actors.sort_unstable();
    actors.dedup();
    Err(Mismatch { actors, ino, lblk, expected, got, writer, order_found: consistent })
}

fn search(
    order: &[usize],
    history: &[Happened],
    used: &mut [bool],
    files: &mut Vec<RefFile>,
    actual: &[RefFile],
    placed: usize,
) -> bool {
    if placed == history.len() {
        return first_lost(files, actual).is_none();
    }
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
        if apply(files, &history[candidate]) {
            used[candidate] = true;
            if search(order, history, used, files, actual, placed + 1) {
                return true;
            }
            used[candidate] = false;
        }
        *files = saved;
    }
    false
}
