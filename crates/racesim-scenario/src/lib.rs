//! The scenario language: a versioned TOML file that sets up files, names actors and their
//! operations, and states the verdict expected under each policy (docs/scenario-format.md).
//!
//! This crate owns parsing and validation: [`Scenario::parse`] turns text into a [`Scenario`]
//! whose every name is resolved and every page checked, or into a [`ScenarioError`] that names
//! file, line, column and what was expected. It also builds the initial [`Kernel`] a scenario
//! describes. It does no IO beyond [`Scenario::load`] reading the file.

pub mod policy_file;
mod raw;

use racesim_kernel::state::{Pte, PteTarget, Vma};
use racesim_kernel::types::{Extent, Ino, Lblk, Token};
use racesim_kernel::{Kernel, Names, Operation, Policy, UserBuffer};
use racesim_oracles::Oracle;
use sha2::Digest;
use std::path::Path;

pub use raw::FORMAT_VERSION;

/// Limits, named with their unit last.
pub const ACTORS_MAX: usize = 16;
pub const OPS_PER_ACTOR_MAX: usize = 64;
pub const DISK_BLOCKS_DEFAULT: u32 = 64;
pub const DISK_BLOCKS_MAX: u32 = 4096;
/// Scenario and policy names go into trace file names (`NAME.POLICY.seedS.scheduleN.trace.json`),
/// so they are short, printable, and can neither climb out of `--out` nor hide a file.
pub const NAME_BYTES_MAX: usize = 64;
/// `strategy = "pct:N"`: PCT keeps N priority change points per schedule and walks them at
/// every step; a depth past the number of steps a schedule can have buys nothing.
pub const PCT_DEPTH_MAX: usize = 64;

/// What a scenario or policy name may be, for messages.
pub const NAME_RULE: &str = "1 to 64 ASCII letters, digits, '_', '-', '.' or '+', starting with a letter or digit";

/// Checks a scenario or policy name against [`NAME_RULE`]: no path separator, no NUL, no
/// leading dot (a hidden trace `racesim check` would skip) or dash (an option), not empty,
/// at most [`NAME_BYTES_MAX`] bytes. Returns what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    let shown = name.escape_debug().to_string();
    let shown: String =
        if shown.chars().count() > 80 { shown.chars().take(80).chain("...".chars()).collect() } else { shown };
    if name.is_empty() {
        return Err(format!("the name is empty; a name is {NAME_RULE}"));
    }
    if name.len() > NAME_BYTES_MAX {
        return Err(format!("the name '{shown}' is {} bytes long; a name is {NAME_RULE}", name.len()));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_-.+".contains(*c))) {
        return Err(format!("the name '{shown}' contains {:?}; a name is {NAME_RULE}", bad));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("the name '{shown}' does not start with a letter or digit; a name is {NAME_RULE}"));
    }
    Ok(())
}

/// Checks the top-level `name` of a policy file (or of a policy definition embedded in a
/// trace), with its position: a policy name ends up in trace file names.
pub fn check_policy_file_name(text: &str, path: &str) -> Result<(), ScenarioError> {
    #[derive(serde::Deserialize)]
    struct NameOnly {
        name: Option<toml::Spanned<toml::Value>>,
    }
    // Syntax errors are the policy parser's to report.
    let Ok(NameOnly { name: Some(name) }) = toml::from_str::<NameOnly>(text) else { return Ok(()) };
    let toml::Value::String(value) = name.get_ref() else { return Ok(()) };
    check_name(value).map_err(|message| {
        let (line, column) = line_column(text, name.span().start);
        ScenarioError { path: path.to_string(), line, column, message: format!("policy 'name': {message}") }
    })
}

/// How the explorer chooses among runnable actors. A scenario may name the one its race needs
/// (`strategy = "pct"`); `--strategy` on the command line overrides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyKind {
    /// Uniformly random at every scheduling point.
    Random,
    /// Probabilistic concurrency testing: finds a bug that needs `depth - 1` preemptions at
    /// given points with a probability bounded from below, however long the other actors run.
    Pct { depth: usize },
    /// Every distinct interleaving (dynamic partial-order reduction), or with a bound every
    /// interleaving with at most that many preemptions: a clean verdict is then a proof for
    /// the scenario, not a sample.
    Exhaustive { preemption_bound: Option<usize> },
}

impl StrategyKind {
    pub fn label(&self) -> String {
        match self {
            StrategyKind::Random => "random".into(),
            StrategyKind::Pct { depth } => format!("pct:{depth}"),
            StrategyKind::Exhaustive { preemption_bound: None } => "exhaustive".into(),
            StrategyKind::Exhaustive { preemption_bound: Some(b) } => format!("exhaustive:{b}"),
        }
    }

    pub fn is_exhaustive(&self) -> bool {
        matches!(self, StrategyKind::Exhaustive { .. })
    }

    /// Parses `random`, `pct` (depth 3), `pct:N` with `1 <= N <=` [`PCT_DEPTH_MAX`],
    /// `exhaustive` or `exhaustive:B` (at most B preemptions).
    pub fn parse(text: &str) -> Option<StrategyKind> {
        match text {
            "random" => Some(StrategyKind::Random),
            "pct" => Some(StrategyKind::Pct { depth: 3 }),
            "exhaustive" => Some(StrategyKind::Exhaustive { preemption_bound: None }),
            _ if text.starts_with("exhaustive:") => {
                let bound = text.strip_prefix("exhaustive:")?.parse().ok()?;
                Some(StrategyKind::Exhaustive { preemption_bound: Some(bound) })
            }
            _ => {
                let depth = text.strip_prefix("pct:")?.parse().ok()?;
                (1..=PCT_DEPTH_MAX).contains(&depth).then_some(StrategyKind::Pct { depth })
            }
        }
    }
}

/// What a scenario expects under one policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Clean,
    /// One of these oracles fires. One race can break more than one invariant, and which one
    /// is noticed first depends on the schedule (collapse under legacy both loses the store and
    /// can leave a page mapped past the new EOF).
    Violation(Vec<Oracle>),
}

impl Expect {
    /// Does a run that found `found` (None: clean) meet this expectation?
    pub fn accepts(&self, found: Option<Oracle>) -> bool {
        match (self, found) {
            (Expect::Clean, None) => true,
            (Expect::Violation(any), Some(oracle)) => any.contains(&oracle),
            _ => false,
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Clean => f.write_str("clean"),
            Expect::Violation(any) => {
                let names: Vec<&str> = any.iter().map(|o| o.name()).collect();
                f.write_str(&names.join(" or "))
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct FileSetup {
    pub name: String,
    pub pages: Lblk,
    pub holes: Vec<Lblk>,
    /// Pages whose blocks are allocated unwritten (fallocate'd, never written): reads return
    /// zeroes until a write's IO completion converts them.
    pub unwritten: Vec<Lblk>,
    pub cached: Vec<Lblk>,
    pub dirty: Vec<Lblk>,
    pub mapped: Vec<Lblk>,
    pub mmap: bool,
    /// Pages of each process's shared mapping of the file (`map_pages`; default: from
    /// `map_offset` to the end of the file). Past it an access gets SIGSEGV; inside it but past
    /// EOF, SIGBUS.
    pub map_pages: Lblk,
    /// The file page the mapping starts at (`map_offset`, the mmap offset in pages; default 0).
    pub map_offset: Lblk,
    pub dax: bool,
    /// Blocks per page (`block_size` 4096, 2048, 1024: 1, 2, 4). Above 1, the file's
    /// operations name blocks (`Operation::Store { page }` is a block number) and `pages`,
    /// `holes`, `cached`, `dirty`, `mapped` stay in pages.
    pub blocks_per_page: Lblk,
}

/// The blocks of `file` that an operation may leave EOF half-way into, in some run
/// (docs/model.md, "An EOF inside a block"): the block a `truncate` with `half = true` leaves
/// EOF in, and the last block of a write(2) that ends half-way into it (`last_page = "head"`)
/// and may grow the file: it ends at or past the file's initial size, or something may shrink
/// the file first (a truncate or a collapse of it). A collapse or insert range may then move
/// such an EOF to another block, which this list does not follow: it answers whether the file
/// is such a file at all. Empty for a file no operation can leave so.
pub fn half_eof_blocks(actors: &[Actor], files: &[FileSetup], file: Ino) -> Vec<Lblk> {
    let ops = || actors.iter().flat_map(|a| &a.ops);
    let Some(setup) = files.get(file as usize) else { return Vec::new() };
    let may_shrink = ops().any(
        |op| matches!(*op, Operation::Truncate { file: f, .. } | Operation::CollapseRange { file: f, .. } if f == file),
    );
    let initial = setup.pages * setup.blocks_per_page;
    let mut blocks: Vec<Lblk> = ops()
        .filter_map(|op| match *op {
            Operation::Truncate { file: f, size, half: true } if f == file => Some(size - 1),
            Operation::Write { file: f, page, pages, ends, .. }
                if f == file && ends.last == racesim_kernel::types::PagePart::Head && pages > 0 =>
            {
                let last = page + pages - 1;
                (last >= initial || may_shrink).then_some(last)
            }
            _ => None,
        })
        .collect();
    blocks.sort_unstable();
    blocks.dedup();
    blocks
}

#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    pub ops: Vec<Operation>,
    /// The process (address space) the actor runs in: an index into [`Scenario::processes`].
    pub process: usize,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Where it was loaded from, as given (for messages and replay commands).
    pub path: String,
    /// SHA-256 of the file's bytes, hex (traces of trace format 2 judged staleness by it).
    pub content_hash: String,
    /// The file's text as read: traces embed it, so that a trace replays without the file.
    pub text: String,
    pub disk_blocks: u32,
    pub files: Vec<FileSetup>,
    pub actors: Vec<Actor>,
    /// Policy variants the scenario defines (built-ins with some fields changed).
    pub variants: Vec<Policy>,
    /// Expected verdicts, in the order the file lists them.
    pub expect: Vec<(String, Expect)>,
    /// The racy window: what exploration must reach for a clean verdict to mean anything.
    pub window: Option<Window>,
    /// Process names, in order of first appearance; each is an `mm` with its own mappings of
    /// every file that has `mmap = true`. One process, "p0", unless actors say otherwise.
    pub processes: Vec<String>,
    /// Oracles this scenario is not about: their findings are not reported (deadlock cannot be
    /// ignored: actors that wait forever stop the schedule).
    pub ignore: Vec<Oracle>,
    /// The exploration strategy the scenario asks for, if not random (a race that needs a
    /// long uninterrupted prefix of one actor is out of reach of random walks; PCT finds it).
    pub strategy: Option<StrategyKind>,
    /// How `racesim check` must establish this scenario's clean expectations: exhaustively
    /// (every distinct interleaving, or every one with at most B preemptions), not by sampling.
    /// Always a [`StrategyKind::Exhaustive`].
    pub verify: Option<StrategyKind>,
}

impl Scenario {
    /// The strategy to explore with: the one asked for on the command line, else the
    /// scenario's, else random.
    pub fn strategy_or(&self, requested: Option<StrategyKind>) -> StrategyKind {
        requested.or(self.strategy).unwrap_or(StrategyKind::Random)
    }
}

/// Matches events of one actor, optionally of one kernel function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventPattern {
    pub actor: racesim_kernel::types::ActorId,
    pub function: Option<String>,
    /// Only events of this operation of the actor (its index in the actor's `ops`, 0-based):
    /// an actor that runs the same kernel function twice (two truncates) names which one.
    pub op: Option<u16>,
}

impl EventPattern {
    /// Whether `event` matches, given the operation each actor is running (`running`, fed the
    /// same events in order).
    pub fn matches(&self, event: &racesim_kernel::Event, running: &RunningOps) -> bool {
        event.actor == self.actor
            && self.function.as_deref().is_none_or(|f| f == event.function)
            && self.op.is_none_or(|op| running.op_of(event.actor) == Some(op))
    }
}

/// Which operation each actor is running, followed through an event log: what an
/// [`EventPattern`] with `op` needs. Feed it every event before matching that event.
#[derive(Clone, Debug, Default)]
pub struct RunningOps {
    current: Vec<Option<u16>>,
}

impl RunningOps {
    pub fn observe(&mut self, event: &racesim_kernel::Event) {
        if let racesim_kernel::Change::OpBegin { op } = event.change {
            let actor = event.actor as usize;
            if self.current.len() <= actor {
                self.current.resize(actor + 1, None);
            }
            self.current[actor] = Some(op);
        }
    }

    /// The operation `actor` began last (an asynchronous direct IO's completion runs after its
    /// operation returned and still counts as that operation).
    pub fn op_of(&self, actor: racesim_kernel::types::ActorId) -> Option<u16> {
        self.current.get(actor as usize).copied().flatten()
    }
}

/// The racy window of a scenario: a schedule reaches it when an event matching `inside`
/// happens after an event matching `opens` and before the next event matching `closes`. A
/// scenario that expects "clean" must show that exploration reached its window, or the clean
/// verdict proves nothing (a "sometimes" property, in stateright's terms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub description: String,
    pub opens: EventPattern,
    pub closes: EventPattern,
    pub inside: EventPattern,
}

impl Window {
    /// Which of the window's three patterns match some event of `log`, as bits
    /// ([`Window::OPENS`], [`Window::CLOSES`], [`Window::INSIDE`]), in any order. A complete
    /// search in which a pattern never matched shows that no interleaving reaches the window.
    pub fn parts_seen(&self, log: &[racesim_kernel::Event]) -> u8 {
        let mut seen = 0;
        let mut running = RunningOps::default();
        for event in log {
            running.observe(event);
            for (bit, pattern) in
                [(Self::OPENS, &self.opens), (Self::CLOSES, &self.closes), (Self::INSIDE, &self.inside)]
            {
                if seen & bit == 0 && pattern.matches(event, &running) {
                    seen |= bit;
                }
            }
            if seen == Self::ALL {
                break;
            }
        }
        seen
    }

    pub const OPENS: u8 = 1;
    pub const CLOSES: u8 = 2;
    pub const INSIDE: u8 = 4;
    pub const ALL: u8 = 7;

    pub fn reached(&self, log: &[racesim_kernel::Event]) -> bool {
        let mut open = false;
        let mut running = RunningOps::default();
        for event in log {
            running.observe(event);
            if open {
                // `inside` is checked first so that an event matching both counts as inside.
                if self.inside.matches(event, &running) {
                    return true;
                }
                if self.closes.matches(event, &running) {
                    open = false;
                }
            } else if self.opens.matches(event, &running) {
                open = true;
            }
        }
        false
    }
}

/// A scenario that cannot be used, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: String,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.path, self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Turns a byte offset into a 1-based line and column.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, column)
}

/// Largest scenario or policy file racesim reads: a scenario at every limit is a few hundred
/// KiB; the bound keeps `racesim run /dev/zero` from reading forever.
pub const INPUT_BYTES_MAX: u64 = 4 << 20;

/// Reads a scenario or policy file (`what` names it in messages), at most [`INPUT_BYTES_MAX`]
/// bytes of UTF-8.
pub fn read_input(path: &Path, what: &str) -> Result<String, ScenarioError> {
    use std::io::Read;
    let error = |message: String| ScenarioError { path: path.display().to_string(), line: 0, column: 0, message };
    let file = std::fs::File::open(path).map_err(|e| error(format!("cannot read {what}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(INPUT_BYTES_MAX + 1).read_to_end(&mut bytes).map_err(|e| error(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > INPUT_BYTES_MAX {
        return Err(error(format!("too large for a {what}: at most {} MiB", INPUT_BYTES_MAX >> 20)));
    }
    String::from_utf8(bytes).map_err(|e| error(format!("cannot read {what}: not UTF-8 text ({e})")))
}

impl Scenario {
    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_input(path, "scenario")?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// Parses scenario text; `path` is used in messages only.
    pub fn parse(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
        let mut scenario = raw::parse(text, path)?;
        scenario.content_hash = content_hash(text.as_bytes());
        scenario.text = text.to_string();
        Ok(scenario)
    }

    /// Whether two scenarios mean the same for a trace: equal once parsed, whatever their
    /// comments, layout, description or path, and whatever they expect (`[expect]`) or call
    /// the race window (`[window]`): those judge runs but do not change one. A trace is stale
    /// only when what it replays changed; a comment, or a first `[expect]`ation written after
    /// recording the trace, leaves it valid. Both sides are parsed by this
    /// racesim, so comparing the parsed values' debug form is exact and deterministic (no
    /// hash maps anywhere in a scenario).
    pub fn same_meaning(&self, other: &Scenario) -> bool {
        let normal = |s: &Scenario| {
            let mut s = s.clone();
            s.path.clear();
            s.content_hash.clear();
            s.text.clear();
            s.description.clear();
            s.expect.clear();
            s.window = None;
            format!("{s:?}")
        };
        normal(self) == normal(other)
    }

    pub fn file_ino(&self, name: &str) -> Option<Ino> {
        self.files.iter().position(|f| f.name == name).map(|i| i as Ino)
    }

    /// The policy called `name`: a variant of this scenario or a built-in.
    pub fn policy(&self, name: &str) -> Option<Policy> {
        self.variants.iter().find(|p| p.name == name).cloned().or_else(|| policy_file::builtin(name))
    }

    pub fn expectation(&self, policy: &str) -> Option<Expect> {
        self.expect.iter().find(|(p, _)| p == policy).map(|(_, e)| e.clone())
    }

    /// The kernel state at the start of every execution.
    pub fn build_kernel(&self) -> Kernel {
        let mut kernel = Kernel::new(self.disk_blocks);
        let mms: Vec<_> = self.processes.iter().map(|_| kernel.add_mm()).collect();
        for (i, file) in self.files.iter().enumerate() {
            let ino = kernel.add_inode(file.dax);
            debug_assert_eq!(ino as usize, i);
            let per_page = file.blocks_per_page;
            kernel.inode_mut(ino).blocks_per_page = per_page;
            kernel.inode_mut(ino).i_size = file.pages * per_page;
            // A fact of the scenario: some truncate or write may leave EOF half-way into a block.
            kernel.inode_mut(ino).eof_half_reachable = !half_eof_blocks(&self.actors, &self.files, ino).is_empty();
            for lblk in 0..file.pages * per_page {
                if file.holes.contains(&(lblk / per_page)) {
                    continue;
                }
                let pblk = kernel.alloc_block(ino, lblk).expect("validated: disk has room for the initial files");
                // An unwritten block keeps what the disk held; reads see zeroes.
                if file.unwritten.contains(&(lblk / per_page)) {
                    kernel.inode_mut(ino).blocks[lblk as usize] = Extent::Unwritten(pblk);
                    continue;
                }
                kernel.disk[pblk as usize] = Token::Data { ino, lblk, write: 0 };
                kernel.inode_mut(ino).blocks[lblk as usize] = Extent::Written(pblk);
            }
            for &lblk in &file.cached {
                let page = kernel.add_page(ino, lblk);
                if per_page > 1 {
                    // One buffer per block, each with its block's data; a dirty page's
                    // buffers are mapped (it was dirtied through write(2) or a fault).
                    let dirty = file.dirty.contains(&lblk);
                    for slot in 0..per_page {
                        let (extent, token) = kernel.read_block(ino, lblk * per_page + slot);
                        let bh = &mut kernel.page_mut(page).bh[slot as usize];
                        bh.content = token;
                        bh.mapped = if dirty { extent.pblk() } else { None };
                        bh.uptodate = true;
                        bh.dirty = dirty;
                    }
                    let p = kernel.page_mut(page);
                    p.uptodate = true;
                    p.dirty = dirty;
                    p.buffers = dirty;
                    continue;
                }
                let (extent, token) = kernel.read_block(ino, lblk);
                let p = kernel.page_mut(page);
                p.content = token;
                p.uptodate = true;
                p.dirty = file.dirty.contains(&lblk);
                // A page dirtied through write(2) or a fault has its buffers mapped.
                p.buffer_pblk = if p.dirty { extent.pblk() } else { None };
                p.buffers = p.dirty;
            }
            if file.mmap && file.map_pages > 0 {
                let npages = file.map_pages;
                let pgoff = file.map_offset;
                let mut vma = Vma::new(ino, pgoff, npages);
                for &lblk in &file.mapped {
                    let dirty = file.dirty.contains(&lblk);
                    let target = if file.dax {
                        match kernel.inode(ino).blocks[lblk as usize] {
                            Extent::Written(p) => PteTarget::Pfn(p),
                            _ => PteTarget::ZeroPage,
                        }
                    } else {
                        PteTarget::Page(
                            kernel.inode(ino).cache[lblk as usize].expect("validated: mapped implies cached"),
                        )
                    };
                    let writable = dirty && target != PteTarget::ZeroPage;
                    vma.ptes[(lblk - pgoff) as usize] = Some(Pte { target, writable, dirty: writable });
                }
                for &mm in &mms {
                    kernel.mms[mm as usize].vmas.push(Some(vma.clone()));
                }
            }
        }
        // Durability (i_disksize, commits, deferred block reuse) is modelled only where a
        // scenario commits or crashes, so that the others keep their steps.
        if self.durability() {
            kernel.enable_durability();
        }
        kernel
    }

    /// Whether an actor commits the journal or crashes.
    pub fn durability(&self) -> bool {
        self.actors
            .iter()
            .flat_map(|a| &a.ops)
            .any(|op| matches!(op, Operation::JournalCommit { .. } | Operation::Crash { .. }))
    }

    /// Names for rendering events of this scenario.
    pub fn names(&self) -> ScenarioNames {
        ScenarioNames {
            files: self.files.iter().map(|f| f.name.clone()).collect(),
            actors: self.actors.iter().map(|a| a.name.clone()).collect(),
        }
    }

    /// Short text for one operation, as users wrote it.
    pub fn describe_op(&self, op: &Operation) -> String {
        let file = |ino: Ino| self.files[ino as usize].name.clone();
        match *op {
            Operation::Mmap { file: f } | Operation::Munmap { file: f } => format!("{} {}", op.name(), file(f)),
            Operation::Load { file: f, page } | Operation::Store { file: f, page } => {
                format!("{} {}:{page}", op.name(), file(f))
            }
            Operation::Read { file: f, page, pages, buffer: UserBuffer::Mapped { file: m, page: first } } => {
                format!(
                    "read {} [{page}, {}) into the mapping of {} [{first}, {})",
                    file(f),
                    page + pages,
                    file(m),
                    first + pages
                )
            }
            Operation::Read { file: f, page, pages, buffer: UserBuffer::Anonymous }
            | Operation::PunchHole { file: f, page, pages }
            | Operation::MadviseRemove { file: f, page, pages }
            | Operation::Mlock { file: f, page, pages }
            | Operation::CollapseRange { file: f, page, pages }
            | Operation::InsertRange { file: f, page, pages }
            | Operation::ZeroRange { file: f, page, pages }
            | Operation::Fallocate { file: f, page, pages, .. }
            | Operation::Readahead { file: f, page, pages } => {
                format!("{} {} [{page}, {})", op.name(), file(f), page + pages)
            }
            Operation::Write { file: f, page, pages, fail_at, ends, .. } => {
                // On a file of blocks smaller than a page, the write names blocks (fail_at too).
                let unit = if self.files[f as usize].blocks_per_page > 1 { "block" } else { "page" };
                let fail = fail_at.map_or(String::new(), |k| format!(", copy fails at {unit} {}", page + k));
                let mut part = String::new();
                if !ends.first.is_whole() {
                    part.push_str(&format!(", from the middle of page {page}"));
                }
                if !ends.last.is_whole() {
                    part.push_str(&format!(", to the middle of page {}", page + pages - 1));
                }
                format!("write {} [{page}, {}){part}{fail}", file(f), page + pages)
            }
            Operation::Truncate { file: f, size, half: false } => format!("truncate {} to {size}", file(f)),
            Operation::Truncate { file: f, size, half: true } => format!("truncate {} to {}.5", file(f), size - 1),
            Operation::DioWrite { file: f, page, pages, asynchronous, ends, .. } => {
                let mut part = String::new();
                if !ends.first.is_whole() {
                    part.push_str(&format!(", from the middle of page {page}"));
                }
                if !ends.last.is_whole() {
                    part.push_str(&format!(", to the middle of page {}", page + pages - 1));
                }
                format!(
                    "{}direct write {} [{page}, {}){part}",
                    if asynchronous { "async " } else { "" },
                    file(f),
                    page + pages
                )
            }
            Operation::DioRead { file: f, page, pages, buffer } => {
                let into = match buffer {
                    UserBuffer::Mapped { file: m, page: first } => {
                        format!(" into the mapping of {} [{first}, {})", file(m), first + pages)
                    }
                    UserBuffer::Anonymous => String::new(),
                };
                format!("direct read {} [{page}, {}){into}", file(f), page + pages)
            }
            Operation::Writeback { file: f }
            | Operation::Fsync { file: f }
            | Operation::Msync { file: f }
            | Operation::Reclaim { file: f } => format!("{} {}", op.name(), file(f)),
            Operation::JournalCommit { .. } => "journal commit".to_string(),
            Operation::Crash { .. } => "crash and remount".to_string(),
        }
    }
}

impl Scenario {
    /// The scenario as a scenario file (format 1) that parses back to the same scenario. Used
    /// to write reduced scenarios (the minimizer removes operations).
    pub fn to_toml(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let list = |v: &[Lblk]| format!("[{}]", v.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "));
        let file = |ino: Ino| quote(&self.files[ino as usize].name);
        // A user buffer that is a mapping rather than plain memory: `from_*` for a write's
        // source, `into_*` for a direct read's destination.
        let mapped_buffer = |buffer: UserBuffer, prefix: &str| match buffer {
            UserBuffer::Mapped { file: mapped, page: first } => {
                format!(", {prefix}_mmap = {}, {prefix}_page = {first}", file(mapped))
            }
            UserBuffer::Anonymous => String::new(),
        };
        let mut out = String::new();
        out.push_str(&format!(
            "format = {}\nname = {}\ndescription = {}\n",
            raw::FORMAT_VERSION,
            quote(&self.name),
            quote(&self.description)
        ));
        out.push_str(&format!("disk_blocks = {}\n", self.disk_blocks));
        if !self.ignore.is_empty() {
            let names: Vec<String> = self.ignore.iter().map(|o| quote(o.name())).collect();
            out.push_str(&format!("ignore = [{}]\n", names.join(", ")));
        }
        if let Some(strategy) = self.strategy {
            out.push_str(&format!("strategy = {}\n", quote(&strategy.label())));
        }
        match self.verify {
            Some(StrategyKind::Exhaustive { preemption_bound: Some(b) }) => {
                out.push_str(&format!("verify = {{ preemption_bound = {b} }}\n"))
            }
            Some(_) => out.push_str("verify = \"exhaustive\"\n"),
            None => {}
        }
        for f in &self.files {
            out.push_str(&format!(
                "\n[[file]]\nname = {}\npages = {}\nholes = {}\ncached = {}\ndirty = {}\nmapped = {}\nmmap = {}\ndax = {}\n",
                quote(&f.name),
                f.pages,
                list(&f.holes),
                list(&if f.dax { Vec::new() } else { f.cached.clone() }),
                list(&f.dirty),
                list(&f.mapped),
                f.mmap,
                f.dax
            ));
            if !f.unwritten.is_empty() {
                out.push_str(&format!("unwritten = {}\n", list(&f.unwritten)));
            }
            if f.map_offset != 0 {
                out.push_str(&format!("map_offset = {}\n", f.map_offset));
            }
            if f.blocks_per_page > 1 {
                out.push_str(&format!("block_size = {}\n", 4096 / f.blocks_per_page));
            }
            if f.map_pages != f.pages.saturating_sub(f.map_offset) {
                out.push_str(&format!("map_pages = {}\n", f.map_pages));
            }
        }
        for actor in &self.actors {
            out.push_str(&format!(
                "\n[[actor]]\nname = {}\nprocess = {}\nops = [\n",
                quote(&actor.name),
                quote(&self.processes[actor.process])
            ));
            for op in &actor.ops {
                let fields = match *op {
                    Operation::Mmap { file: f }
                    | Operation::Munmap { file: f }
                    | Operation::Writeback { file: f }
                    | Operation::Fsync { file: f }
                    | Operation::Msync { file: f }
                    | Operation::Reclaim { file: f }
                    | Operation::JournalCommit { file: f }
                    | Operation::Crash { file: f } => format!("file = {}", file(f)),
                    Operation::Load { file: f, page } | Operation::Store { file: f, page } => {
                        match self.files[f as usize].blocks_per_page {
                            1 => format!("file = {}, page = {page}", file(f)),
                            n => format!("file = {}, page = {}, block = {}", file(f), page / n, page % n),
                        }
                    }
                    Operation::Write { file: f, page, pages, fail_at, .. }
                        if self.files[f as usize].blocks_per_page > 1 =>
                    {
                        let n = self.files[f as usize].blocks_per_page;
                        let fail = fail_at.map_or(String::new(), |k| format!(", fail_at = {k}"));
                        format!("file = {}, page = {}, block = {}, blocks = {pages}{fail}", file(f), page / n, page % n)
                    }
                    Operation::DioWrite { file: f, page, pages, asynchronous, .. }
                        if self.files[f as usize].blocks_per_page > 1 =>
                    {
                        let n = self.files[f as usize].blocks_per_page;
                        let asynchronous = if asynchronous { ", async = true" } else { "" };
                        format!(
                            "file = {}, page = {}, block = {}, blocks = {pages}{asynchronous}",
                            file(f),
                            page / n,
                            page % n
                        )
                    }
                    Operation::Read { file: f, page, pages, .. }
                    | Operation::DioRead { file: f, page, pages, .. }
                    | Operation::PunchHole { file: f, page, pages }
                    | Operation::ZeroRange { file: f, page, pages }
                    | Operation::CollapseRange { file: f, page, pages }
                    | Operation::InsertRange { file: f, page, pages }
                        if self.files[f as usize].blocks_per_page > 1 =>
                    {
                        let n = self.files[f as usize].blocks_per_page;
                        format!("file = {}, page = {}, block = {}, blocks = {pages}", file(f), page / n, page % n)
                    }
                    // madvise(2) punches whole pages: in blocks in the operation, in pages in the file.
                    Operation::MadviseRemove { file: f, page, pages } if self.files[f as usize].blocks_per_page > 1 => {
                        let n = self.files[f as usize].blocks_per_page;
                        format!("file = {}, page = {}, pages = {}", file(f), page / n, pages / n)
                    }
                    Operation::Fallocate { file: f, page, pages, keep_size }
                        if self.files[f as usize].blocks_per_page > 1 =>
                    {
                        let n = self.files[f as usize].blocks_per_page;
                        let keep = if keep_size { "" } else { ", keep_size = false" };
                        format!("file = {}, page = {}, block = {}, blocks = {pages}{keep}", file(f), page / n, page % n)
                    }
                    Operation::Read { file: f, page, pages, buffer } => {
                        format!("file = {}, page = {page}, pages = {pages}{}", file(f), mapped_buffer(buffer, "into"))
                    }
                    Operation::PunchHole { file: f, page, pages }
                    | Operation::MadviseRemove { file: f, page, pages }
                    | Operation::Mlock { file: f, page, pages }
                    | Operation::CollapseRange { file: f, page, pages }
                    | Operation::InsertRange { file: f, page, pages }
                    | Operation::ZeroRange { file: f, page, pages }
                    | Operation::Readahead { file: f, page, pages } => {
                        format!("file = {}, page = {page}, pages = {pages}", file(f))
                    }
                    Operation::Fallocate { file: f, page, pages, keep_size } => {
                        let keep = if keep_size { "" } else { ", keep_size = false" };
                        format!("file = {}, page = {page}, pages = {pages}{keep}", file(f))
                    }
                    Operation::DioRead { file: f, page, pages, buffer } => {
                        format!("file = {}, page = {page}, pages = {pages}{}", file(f), mapped_buffer(buffer, "into"))
                    }
                    Operation::Truncate { file: f, size, half: true } => match self.files[f as usize].blocks_per_page {
                        1 => format!("file = {}, size = {}, half = true", file(f), size - 1),
                        _ => format!("file = {}, blocks = {}, half = true", file(f), size - 1),
                    },
                    Operation::Truncate { file: f, size, half: false } => {
                        match self.files[f as usize].blocks_per_page {
                            1 => format!("file = {}, size = {size}", file(f)),
                            _ => format!("file = {}, blocks = {size}", file(f)),
                        }
                    }
                    Operation::DioWrite { file: f, page, pages, buffer, asynchronous, ends } => {
                        let mut text = format!(
                            "file = {}, page = {page}, pages = {pages}{}",
                            file(f),
                            mapped_buffer(buffer, "from")
                        );
                        if asynchronous {
                            text.push_str(", async = true");
                        }
                        if !ends.first.is_whole() {
                            text.push_str(", first_page = \"tail\"");
                        }
                        if !ends.last.is_whole() {
                            text.push_str(", last_page = \"head\"");
                        }
                        text
                    }
                    Operation::Write { file: f, page, pages, buffer, fail_at, allocation, ends } => {
                        let mut text = format!(
                            "file = {}, page = {page}, pages = {pages}{}",
                            file(f),
                            mapped_buffer(buffer, "from")
                        );
                        if let Some(k) = fail_at {
                            text.push_str(&format!(", fail_at = {k}"));
                        }
                        if allocation == racesim_kernel::WriteAllocation::WholeRange {
                            text.push_str(", alloc = \"whole_range\"");
                        }
                        if !ends.first.is_whole() {
                            text.push_str(", first_page = \"tail\"");
                        }
                        if !ends.last.is_whole() {
                            text.push_str(", last_page = \"head\"");
                        }
                        text
                    }
                };
                out.push_str(&format!("  {{ op = {}, {fields} }},\n", quote(op.name())));
            }
            out.push_str("]\n");
        }
        for variant in &self.variants {
            // Every field and every placement given explicitly: no base.
            out.push_str(&format!("\n[[policy]]\n{}", policy_file::to_toml_body(variant, "policy.")));
        }
        if let Some(w) = &self.window {
            let pattern = |p: &EventPattern| {
                let mut fields = vec![format!("actor = {}", quote(&self.actors[p.actor as usize].name))];
                if let Some(op) = p.op {
                    fields.push(format!("op = {op}"));
                }
                if let Some(f) = &p.function {
                    fields.push(format!("function = {}", quote(f)));
                }
                format!("{{ {} }}", fields.join(", "))
            };
            out.push_str(&format!(
                "\n[window]\ndescription = {}\nopens = {}\ncloses = {}\ninside = {}\n",
                quote(&w.description),
                pattern(&w.opens),
                pattern(&w.closes),
                pattern(&w.inside)
            ));
        }
        if !self.expect.is_empty() {
            out.push_str("\n[expect]\n");
            for (policy, expect) in &self.expect {
                let value = match expect {
                    Expect::Clean => quote("clean"),
                    Expect::Violation(any) if any.len() == 1 => quote(any[0].name()),
                    Expect::Violation(any) => {
                        format!("[{}]", any.iter().map(|o| quote(o.name())).collect::<Vec<_>>().join(", "))
                    }
                };
                // A bare key unless the name needs quotes (xfs-5.3: a dot would make it dotted).
                let bare = policy.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                let key = if bare { policy.clone() } else { toml::Value::String(policy.clone()).to_string() };
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
        out
    }

    /// This scenario without operation `op` of actor `actor`; an actor left with nothing to do
    /// goes too, and with it any window that names it.
    pub fn without_op(&self, actor: usize, op: usize) -> Scenario {
        let mut reduced = self.clone();
        reduced.actors[actor].ops.remove(op);
        // A window pattern that names the removed operation goes with it; one that names a
        // later operation of the same actor follows its new index.
        if let Some(w) = reduced.window.as_mut() {
            let names_removed =
                [&w.opens, &w.closes, &w.inside].iter().any(|p| p.actor as usize == actor && p.op == Some(op as u16));
            if names_removed {
                reduced.window = None;
            } else {
                for p in [&mut w.opens, &mut w.closes, &mut w.inside] {
                    if p.actor as usize == actor
                        && let Some(index) = p.op.as_mut()
                        && *index > op as u16
                    {
                        *index -= 1;
                    }
                }
            }
        }
        if reduced.actors[actor].ops.is_empty() {
            reduced.actors.remove(actor);
            let names_gone = |p: &EventPattern| p.actor as usize == actor;
            if let Some(w) = &reduced.window
                && (names_gone(&w.opens) || names_gone(&w.closes) || names_gone(&w.inside))
            {
                reduced.window = None;
            }
            if let Some(w) = reduced.window.as_mut() {
                for p in [&mut w.opens, &mut w.closes, &mut w.inside] {
                    if p.actor as usize > actor {
                        p.actor -= 1;
                    }
                }
            }
        }
        reduced
    }

    /// How many operations all actors perform.
    pub fn operation_count(&self) -> usize {
        self.actors.iter().map(|a| a.ops.len()).sum()
    }
}

/// File and actor names of one scenario.
#[derive(Clone, Debug)]
pub struct ScenarioNames {
    pub files: Vec<String>,
    pub actors: Vec<String>,
}

impl Names for ScenarioNames {
    fn file(&self, ino: Ino) -> String {
        self.files.get(ino as usize).cloned().unwrap_or_else(|| format!("ino{ino}"))
    }
    fn actor(&self, actor: racesim_kernel::types::ActorId) -> String {
        if actor == racesim_kernel::SYNC_ACTOR {
            return "sync".into();
        }
        self.actors.get(actor as usize).cloned().unwrap_or_else(|| format!("actor{actor}"))
    }
}

/// The known name closest to a misspelt one, when one is close enough to be what was meant:
/// " (did you mean 'x'?)", else empty. For error messages about names.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let best = known
        .into_iter()
        // Edits (with transpositions) relative to length: a typo or two, not a different word.
        .map(|k| (strsim::normalized_damerau_levenshtein(name, k), k))
        .filter(|(score, _)| *score >= 0.7)
        // Highest score first; ties go to the first listed (deterministic).
        .fold(None::<(f64, &str)>, |best, (score, k)| match best {
            Some((b, _)) if b >= score => best,
            _ => Some((score, k)),
        });
    best.map_or(String::new(), |(_, k)| format!(" (did you mean '{k}'?)"))
}

pub fn content_hash(bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
