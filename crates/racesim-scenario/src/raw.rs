//! The TOML shape of a scenario file, with source spans, and its validation into
//! [`crate::Scenario`]. Every error carries the span of the value it is about.

use crate::{
    ACTORS_MAX, Actor, DISK_BLOCKS_DEFAULT, DISK_BLOCKS_MAX, Expect, FileSetup, OPS_PER_ACTOR_MAX, Scenario,
    ScenarioError, StrategyKind, line_column,
};
use racesim_kernel::policy::ALL_BUILTINS;
use racesim_kernel::state::FILE_PAGES_MAX;
use racesim_kernel::types::{Ino, Lblk, PagePart};
use racesim_kernel::{Operation, Policy, UserBuffer, WriteAllocation, WriteEnds};
use racesim_oracles::Oracle;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The scenario format version this racesim reads.
pub const FORMAT_VERSION: i64 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    format: Spanned<i64>,
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    disk_blocks: Option<Spanned<u32>>,
    #[serde(default = "unspanned")]
    ignore: Spanned<Vec<String>>,
    #[serde(default)]
    strategy: Option<Spanned<String>>,
    #[serde(default)]
    verify: Option<Spanned<RawVerify>>,
    #[serde(default, rename = "file")]
    files: Vec<Spanned<RawFile>>,
    #[serde(default, rename = "actor")]
    actors: Vec<Spanned<RawActor>>,
    #[serde(default, rename = "policy")]
    variants: Vec<Spanned<toml::Table>>,
    #[serde(default = "unspanned")]
    expect: Spanned<BTreeMap<String, Spanned<Verdicts>>>,
    #[serde(default)]
    window: Option<Spanned<RawWindow>>,
}

/// `verify = "exhaustive"` or `verify = { preemption_bound = 2 }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawVerify {
    Name(String),
    Bounded { preemption_bound: usize },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    description: String,
    opens: Spanned<RawPattern>,
    closes: Spanned<RawPattern>,
    inside: Spanned<RawPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    actor: String,
    function: Option<Spanned<String>>,
    op: Option<u16>,
}

/// An expectation: `"clean"`, an oracle name, or a list of oracle names (any of them).
#[derive(Deserialize)]
#[serde(untagged)]
enum Verdicts {
    One(String),
    AnyOf(Vec<String>),
    /// Never valid: what TOML makes of an unquoted policy name with a dot (`xfs-4.1 = ...` is
    /// the key `1` of a table `xfs-4`), kept so the error can say so.
    Table(toml::Table),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Spanned<String>,
    pages: Spanned<Lblk>,
    #[serde(default = "unspanned")]
    holes: Spanned<Vec<Lblk>>,
    /// Pages whose blocks are allocated and unwritten (fallocate'd, never written).
    #[serde(default = "unspanned")]
    unwritten: Spanned<Vec<Lblk>>,
    #[serde(default = "unspanned")]
    cached: Spanned<Vec<Lblk>>,
    #[serde(default = "unspanned")]
    dirty: Spanned<Vec<Lblk>>,
    #[serde(default = "unspanned")]
    mapped: Spanned<Vec<Lblk>>,
    #[serde(default = "yes")]
    mmap: bool,
    map_pages: Option<Spanned<Lblk>>,
    map_offset: Option<Spanned<Lblk>>,
    #[serde(default = "unspanned")]
    dax: Spanned<bool>,
    /// Bytes per block: 1024, 2048 or 4096 (the page size, the default).
    block_size: Option<Spanned<u32>>,
}

/// A default for an optional spanned field (it points at the top of the file).
fn unspanned<T: Default>() -> Spanned<T> {
    Spanned::new(0..0, T::default())
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    name: Spanned<String>,
    /// The process the actor runs in (default "p0"); actors of one process share its mappings.
    #[serde(default)]
    process: Option<String>,
    ops: Vec<Spanned<RawOp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOp {
    op: Spanned<String>,
    file: Option<Spanned<String>>,
    page: Option<Spanned<Lblk>>,
    pages: Option<Spanned<Lblk>>,
    size: Option<Spanned<Lblk>>,
    /// load, store of a file with blocks smaller than a page: the block of the page (0-based).
    block: Option<Spanned<Lblk>>,
    /// truncate of a file with blocks smaller than a page: the new size in blocks.
    blocks: Option<Spanned<Lblk>>,
    /// truncate: EOF half-way into the block after `size` pages or `blocks` blocks (a size of
    /// `size` and a half pages, or `blocks` and a half blocks).
    half: Option<Spanned<bool>>,
    /// write(2): the user buffer is the shared mapping of this file.
    from_mmap: Option<Spanned<String>>,
    /// write(2): first page of that mapping (default: the written page).
    from_page: Option<Spanned<Lblk>>,
    /// read, dio_read: the user buffer the data goes to is the shared mapping of this file.
    into_mmap: Option<Spanned<String>>,
    /// read, dio_read: first page of that mapping (default: the page read).
    into_page: Option<Spanned<Lblk>>,
    /// write(2): the copy of this page (relative to the write) fails with EFAULT.
    fail_at: Option<Spanned<Lblk>>,
    /// write(2): "per_page" (default) or "whole_range".
    alloc: Option<Spanned<String>>,
    /// write(2): "whole" (default) or "tail": the write starts half-way into its first page.
    first_page: Option<Spanned<String>>,
    /// write(2): "whole" (default) or "head": the write ends half-way into its last page.
    last_page: Option<Spanned<String>>,
    /// dio_write: the syscall returns at submission; the bio completes later.
    #[serde(rename = "async")]
    asynchronous: Option<Spanned<bool>>,
    /// fallocate: FALLOC_FL_KEEP_SIZE (default true); false extends a file the range passes.
    keep_size: Option<Spanned<bool>>,
}

/// Operation names, with the fields each takes, for messages.
const OPERATIONS: &[(&str, &str)] = &[
    ("mmap", "file"),
    ("munmap", "file"),
    ("load", "file, page, block?"),
    ("store", "file, page, block?"),
    ("read", "file, page, pages, block?, blocks?, into_mmap?, into_page?"),
    ("write", "file, page, pages, block?, blocks?, from_mmap?, from_page?, fail_at?, alloc?, first_page?, last_page?"),
    ("truncate", "file, size | blocks, half?"),
    ("punch_hole", "file, page, pages, block?, blocks?"),
    ("madvise_remove", "file, page, pages"),
    ("mlock", "file, page, pages"),
    ("collapse_range", "file, page, pages, block?, blocks?"),
    ("insert_range", "file, page, pages, block?, blocks?"),
    ("zero_range", "file, page, pages"),
    ("fallocate", "file, page, pages, keep_size?"),
    ("readahead", "file, page, pages"),
    ("writeback", "file"),
    ("fsync", "file"),
    ("msync", "file"),
    ("reclaim", "file"),
    ("dio_write", "file, page, pages, block?, blocks?, from_mmap?, from_page?, async?, first_page?, last_page?"),
    ("dio_read", "file, page, pages, block?, blocks?, into_mmap?, into_page?"),
    ("journal_commit", "file"),
    ("crash", "file"),
];

struct Ctx<'a> {
    text: &'a str,
    path: &'a str,
}

impl Ctx<'_> {
    fn error(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, column) = line_column(self.text, span.start);
        ScenarioError { path: self.path.to_string(), line, column, message: message.into() }
    }
}

pub(crate) fn parse(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
    let cx = Ctx { text, path };
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end().to_string();
        cx.error(span, message)
    })?;
    if *raw.format.get_ref() != FORMAT_VERSION {
        return Err(cx.error(
            raw.format.span(),
            format!(
                "scenario format {} is not supported; this racesim reads format {FORMAT_VERSION}",
                raw.format.get_ref()
            ),
        ));
    }
    // Names go into trace file names: check them before anything is explored.
    crate::check_name(raw.name.get_ref()).map_err(|m| cx.error(raw.name.span(), format!("scenario 'name': {m}")))?;
    check_variant_names(&cx)?;
    let files = validate_files(&cx, &raw.files)?;
    let disk_blocks = raw.disk_blocks.as_ref().map_or(DISK_BLOCKS_DEFAULT, |d| *d.get_ref());
    if disk_blocks > DISK_BLOCKS_MAX {
        let span = raw.disk_blocks.as_ref().map_or(0..0, |d| d.span());
        return Err(cx.error(span, format!("disk_blocks is at most {DISK_BLOCKS_MAX}")));
    }
    let needed: u32 = files.iter().map(|f| (f.pages - f.holes.len() as u32) * f.blocks_per_page).sum();
    if needed > disk_blocks {
        let span = raw.disk_blocks.as_ref().map_or(0..0, |d| d.span());
        return Err(cx.error(span, format!("the files need {needed} blocks but disk_blocks is {disk_blocks}")));
    }
    if raw.actors.is_empty() {
        return Err(cx.error(0..0, "expected at least one [[actor]]"));
    }
    if raw.actors.len() > ACTORS_MAX {
        return Err(cx.error(raw.actors[ACTORS_MAX].span(), format!("at most {ACTORS_MAX} actors are supported")));
    }
    let mut actors: Vec<Actor> = Vec::new();
    let mut processes: Vec<String> = Vec::new();
    for actor in &raw.actors {
        let name = actor.get_ref().name.get_ref().clone();
        if actors.iter().any(|a| a.name == name) {
            return Err(cx.error(actor.get_ref().name.span(), format!("actor name '{name}' is used twice")));
        }
        if actor.get_ref().ops.is_empty() || actor.get_ref().ops.len() > OPS_PER_ACTOR_MAX {
            return Err(cx.error(actor.span(), format!("an actor needs 1 to {OPS_PER_ACTOR_MAX} ops")));
        }
        let ops = actor.get_ref().ops.iter().map(|op| validate_op(&cx, &files, op)).collect::<Result<Vec<_>, _>>()?;
        let process_name = actor.get_ref().process.clone().unwrap_or_else(|| "p0".to_string());
        let process = match processes.iter().position(|p| p == &process_name) {
            Some(i) => i,
            None => {
                processes.push(process_name);
                processes.len() - 1
            }
        };
        actors.push(Actor { name, ops, process });
    }
    madvise_remove_beside_mlock(&cx, &raw.actors, &actors, &files)?;
    operations_beside_half_eof(&cx, &raw.actors, &actors, &files)?;
    let variants = validate_variants(&cx, &raw.variants)?;
    let mut expect = Vec::new();
    for (policy, verdict) in raw.expect.get_ref() {
        if let Verdicts::Table(inner) = verdict.get_ref() {
            let dotted = inner.keys().next().map_or(policy.clone(), |key| format!("{policy}.{key}"));
            return Err(cx.error(
                verdict.span(),
                format!(
                    "expected a verdict for policy '{policy}', found a table: a policy name with a dot must be quoted \
                     (\"{dotted}\" = \"clean\")"
                ),
            ));
        }
        let known = ALL_BUILTINS.contains(&policy.as_str()) || variants.iter().any(|v: &Policy| &v.name == policy);
        if !known {
            return Err(cx.error(
                verdict.span(),
                format!(
                    "unknown policy '{policy}' in [expect]{}; expected one of {}{}",
                    crate::did_you_mean(
                        policy,
                        ALL_BUILTINS.iter().copied().chain(variants.iter().map(|v| v.name.as_str()))
                    ),
                    ALL_BUILTINS.join(", "),
                    variant_list(&variants)
                ),
            ));
        }
        let names: Vec<&String> = match verdict.get_ref() {
            Verdicts::One(name) => vec![name],
            Verdicts::AnyOf(names) => names.iter().collect(),
            Verdicts::Table(_) => unreachable!("refused above"),
        };
        let parsed = if names.len() == 1 && names[0] == "clean" {
            Expect::Clean
        } else {
            let mut oracles = Vec::new();
            for name in &names {
                match Oracle::from_name(name) {
                    Some(oracle) => oracles.push(oracle),
                    None => {
                        let known: Vec<&str> = Oracle::ALL.iter().map(|o| o.name()).collect();
                        return Err(cx.error(
                            verdict.span(),
                            format!(
                                "unknown verdict '{name}'; expected \"clean\", one of {}, or a list of them",
                                known.join(", ")
                            ),
                        ));
                    }
                }
            }
            if oracles.is_empty() {
                return Err(cx.error(verdict.span(), "an empty list of verdicts; expected at least one oracle"));
            }
            Expect::Violation(oracles)
        };
        expect.push((policy.clone(), parsed));
    }
    // List expectations in the canonical policy order, then variants in file order.
    expect.sort_by_key(|(p, _)| {
        ALL_BUILTINS
            .iter()
            .position(|b| b == p)
            .unwrap_or(ALL_BUILTINS.len() + variants.iter().position(|v| &v.name == p).unwrap_or(0))
    });
    let window = match &raw.window {
        None => None,
        Some(w) => {
            let pattern = |role: &str, p: &Spanned<RawPattern>| -> Result<crate::EventPattern, ScenarioError> {
                let name = &p.get_ref().actor;
                let actor = actors.iter().position(|a| &a.name == name).ok_or_else(|| {
                    let known: Vec<&str> = actors.iter().map(|a| a.name.as_str()).collect();
                    cx.error(
                        p.span(),
                        format!(
                            "unknown actor '{name}' in [window]{}; expected one of {}",
                            crate::did_you_mean(name, known.iter().copied()),
                            known.join(", ")
                        ),
                    )
                })?;
                let op = p.get_ref().op;
                if let Some(index) = op
                    && index as usize >= actors[actor].ops.len()
                {
                    return Err(cx.error(
                        p.span(),
                        format!(
                            "op {index} in [window]: actor '{name}' has {} operation(s) (numbered from 0)",
                            actors[actor].ops.len()
                        ),
                    ));
                }
                // Kernel function names are known without running the model: a misspelt one
                // would otherwise only show as "window never reached".
                if let Some(function) = &p.get_ref().function
                    && !racesim_kernel::event::is_logged_function(function.get_ref())
                {
                    let name = function.get_ref();
                    return Err(cx.error(
                        function.span(),
                        format!(
                            "unknown kernel function '{name}' in [window] {role}{}; events name the Linux \
                             functions racesim models (listed in docs/scenario-format.md, [window])",
                            crate::did_you_mean(name, racesim_kernel::event::LOGGED_FUNCTIONS.iter().copied())
                        ),
                    ));
                }
                Ok(crate::EventPattern {
                    actor: actor as u8,
                    function: p.get_ref().function.as_ref().map(|f| f.get_ref().clone()),
                    op,
                })
            };
            let w = w.get_ref();
            Some(crate::Window {
                description: w.description.clone(),
                opens: pattern("opens", &w.opens)?,
                closes: pattern("closes", &w.closes)?,
                inside: pattern("inside", &w.inside)?,
            })
        }
    };
    let mut ignore = Vec::new();
    for name in raw.ignore.get_ref() {
        match Oracle::from_name(name) {
            Some(Oracle::Deadlock) => {
                return Err(cx.error(
                    raw.ignore.span(),
                    "deadlock cannot be ignored: actors that wait forever stop the schedule",
                ));
            }
            Some(oracle) => ignore.push(oracle),
            None => {
                let known: Vec<&str> = Oracle::ALL.iter().map(|o| o.name()).collect();
                return Err(cx.error(
                    raw.ignore.span(),
                    format!("ignore: unknown oracle '{name}'; expected one of {}", known.join(", ")),
                ));
            }
        }
    }
    if processes.is_empty() {
        processes.push("p0".into());
    }
    let strategy = match &raw.strategy {
        None => None,
        Some(text) => Some(StrategyKind::parse(text.get_ref()).ok_or_else(|| {
            cx.error(
                text.span(),
                format!(
                    "unknown strategy '{}'; expected random, pct, pct:N (1 <= N <= {}), exhaustive or exhaustive:B",
                    text.get_ref(),
                    crate::PCT_DEPTH_MAX
                ),
            )
        })?),
    };
    let verify = match &raw.verify {
        None => None,
        Some(spanned) => match spanned.get_ref() {
            RawVerify::Name(name) if name == "exhaustive" => Some(StrategyKind::Exhaustive { preemption_bound: None }),
            RawVerify::Name(name) => {
                return Err(cx.error(
                    spanned.span(),
                    format!("verify: unknown '{name}'; expected \"exhaustive\" or {{ preemption_bound = B }}"),
                ));
            }
            RawVerify::Bounded { preemption_bound } => {
                Some(StrategyKind::Exhaustive { preemption_bound: Some(*preemption_bound) })
            }
        },
    };
    Ok(Scenario {
        processes,
        ignore,
        strategy,
        verify,
        window,
        name: raw.name.get_ref().clone(),
        description: raw.description,
        path: path.to_string(),
        content_hash: String::new(),
        text: String::new(),
        disk_blocks,
        files,
        actors,
        variants,
        expect,
    })
}

/// The `name` of every `[[policy]]` table, with its position (the tables themselves are read
/// as plain tables, which keep no positions inside them).
fn check_variant_names(cx: &Ctx) -> Result<(), ScenarioError> {
    #[derive(Deserialize)]
    struct Names {
        #[serde(default)]
        policy: Vec<Named>,
    }
    #[derive(Deserialize)]
    struct Named {
        name: Option<Spanned<toml::Value>>,
    }
    let Ok(names) = toml::from_str::<Names>(cx.text) else { return Ok(()) };
    for name in names.policy.iter().filter_map(|n| n.name.as_ref()) {
        if let toml::Value::String(value) = name.get_ref() {
            crate::check_name(value).map_err(|m| cx.error(name.span(), format!("[[policy]] 'name': {m}")))?;
        }
    }
    Ok(())
}

fn variant_list(variants: &[Policy]) -> String {
    variants.iter().map(|v| format!(", {}", v.name)).collect()
}

fn validate_files(cx: &Ctx, raw: &[Spanned<RawFile>]) -> Result<Vec<FileSetup>, ScenarioError> {
    if raw.is_empty() {
        return Err(cx.error(0..0, "expected at least one [[file]]"));
    }
    let mut files: Vec<FileSetup> = Vec::new();
    for file in raw {
        let f = file.get_ref();
        let name = f.name.get_ref().clone();
        if files.iter().any(|g| g.name == name) {
            return Err(cx.error(f.name.span(), format!("file name '{name}' is used twice")));
        }
        let pages = *f.pages.get_ref();
        if pages > FILE_PAGES_MAX {
            return Err(cx.error(f.pages.span(), format!("a file has at most {FILE_PAGES_MAX} pages")));
        }
        let blocks_per_page = match &f.block_size {
            None => 1,
            Some(b) => match *b.get_ref() {
                4096 => 1,
                2048 => 2,
                1024 => 4,
                other => {
                    return Err(cx.error(
                        b.span(),
                        format!(
                            "block_size {other} is not supported; expected 1024, 2048 or 4096 (blocks no larger \
                             than the 4096-byte page)"
                        ),
                    ));
                }
            },
        };
        if blocks_per_page > 1 {
            let span = f.block_size.as_ref().map_or(0..0, |b| b.span());
            if *f.dax.get_ref() {
                // Not a simplification: Linux mounts DAX only where the block size is the page
                // size (__generic_fsdax_supported, 5.3: "unsupported blocksize for dax").
                return Err(cx.error(
                    span,
                    "a DAX file has blocks of the page's size: Linux refuses DAX on a file system of smaller blocks \
                     (\"unsupported blocksize for dax\")",
                ));
            }
            // The block map has FILE_PAGES_MAX entries: a file of smaller blocks has fewer pages.
            if pages * blocks_per_page > FILE_PAGES_MAX {
                return Err(cx.error(
                    f.pages.span(),
                    format!(
                        "a file of {}-byte blocks has at most {} pages (the model's {FILE_PAGES_MAX} blocks)",
                        4096 / blocks_per_page,
                        FILE_PAGES_MAX / blocks_per_page
                    ),
                ));
            }
            if f.map_offset.is_some() || f.map_pages.is_some() {
                return Err(cx.error(span, "map_offset and map_pages are not modelled for blocks smaller than a page"));
            }
        }
        let lists = [
            (&f.holes, "holes"),
            (&f.unwritten, "unwritten"),
            (&f.cached, "cached"),
            (&f.dirty, "dirty"),
            (&f.mapped, "mapped"),
        ];
        for (list, what) in lists {
            if let Some(bad) = list.get_ref().iter().find(|&&p| p >= pages) {
                return Err(cx.error(
                    list.span(),
                    format!(
                        "{what}: page {bad} is beyond the file '{name}' ({pages} pages; pages are 0 to {})",
                        pages.saturating_sub(1)
                    ),
                ));
            }
        }
        let mut holes = f.holes.get_ref().clone();
        holes.sort_unstable();
        if holes.windows(2).any(|w| w[0] == w[1]) {
            return Err(cx.error(f.holes.span(), format!("holes: a page is listed twice in '{name}'")));
        }
        if let Some(both) = f.unwritten.get_ref().iter().find(|p| holes.contains(p)) {
            return Err(cx.error(f.unwritten.span(), format!("unwritten: page {both} of '{name}' is also a hole")));
        }
        // A page gets dirty in write_begin or page_mkwrite, which give it a block (or a delayed
        // allocation) first: a dirty page over a hole is a state Linux does not reach, and
        // writeback could not write it (the oracles would report an orphan at once).
        if let Some(both) = f.dirty.get_ref().iter().find(|p| holes.contains(p)) {
            return Err(cx.error(
                f.dirty.span(),
                format!(
                    "dirty: page {both} of '{name}' is also a hole; a dirty page has a block behind it (write_begin and \
                     page_mkwrite allocate first): to start from a delayed allocation, let an actor write the page"
                ),
            ));
        }
        let dax = *f.dax.get_ref();
        if !f.unwritten.get_ref().is_empty() && (dax || blocks_per_page > 1) {
            return Err(cx.error(
                f.unwritten.span(),
                "unwritten: initial unwritten extents are modelled for files that are not DAX and whose block is a page",
            ));
        }
        if dax && (!f.cached.get_ref().is_empty() || !f.dirty.get_ref().is_empty()) {
            return Err(cx.error(f.dax.span(), "a DAX file has no page cache: leave 'cached' and 'dirty' empty"));
        }
        // Dirty and mapped pages are cached pages.
        let mut cached: Vec<Lblk> = f.cached.get_ref().clone();
        if !dax {
            cached.extend(f.dirty.get_ref());
            cached.extend(f.mapped.get_ref());
        }
        cached.sort_unstable();
        cached.dedup();
        if !f.mmap && !f.mapped.get_ref().is_empty() {
            return Err(cx.error(f.mapped.span(), "'mapped' pages need 'mmap = true'"));
        }
        let map_offset = match &f.map_offset {
            None => 0,
            Some(n) if *n.get_ref() >= FILE_PAGES_MAX => {
                return Err(cx.error(n.span(), format!("map_offset: pages are 0 to {}", FILE_PAGES_MAX - 1)));
            }
            Some(n) if !f.mmap => return Err(cx.error(n.span(), "'map_offset' needs 'mmap = true'")),
            Some(n) => *n.get_ref(),
        };
        let map_pages = match &f.map_pages {
            None => pages.saturating_sub(map_offset),
            // Saturating: map_pages = 4294967295 must not wrap around past the check.
            Some(n) if map_offset.saturating_add(*n.get_ref()) > FILE_PAGES_MAX => {
                return Err(cx.error(
                    n.span(),
                    format!(
                        "map_pages: the mapping [{map_offset}, {}) goes past the model's {FILE_PAGES_MAX}-page limit",
                        map_offset.saturating_add(*n.get_ref())
                    ),
                ));
            }
            Some(n) if *n.get_ref() > FILE_PAGES_MAX => {
                return Err(cx.error(n.span(), format!("map_pages: a mapping has at most {FILE_PAGES_MAX} pages")));
            }
            // mmap(2) of length 0 fails with EINVAL: there would be no mapping to fault in.
            Some(n) if *n.get_ref() == 0 => {
                return Err(
                    cx.error(n.span(), "map_pages: a mapping has at least one page (mmap of length 0 is EINVAL)")
                );
            }
            Some(n) if !f.mmap => {
                return Err(cx.error(n.span(), "'map_pages' needs 'mmap = true'"));
            }
            Some(n) => *n.get_ref(),
        };
        if let Some(bad) = f.mapped.get_ref().iter().find(|&&p| p < map_offset || p >= map_offset + map_pages) {
            return Err(cx.error(
                f.mapped.span(),
                format!(
                    "mapped: page {bad} is outside the mapping of '{name}' (file pages [{map_offset}, {}))",
                    map_offset + map_pages
                ),
            ));
        }
        files.push(FileSetup {
            name,
            pages,
            map_pages,
            map_offset,
            holes: f.holes.get_ref().clone(),
            unwritten: f.unwritten.get_ref().clone(),
            cached,
            dirty: f.dirty.get_ref().clone(),
            mapped: f.mapped.get_ref().clone(),
            mmap: f.mmap,
            dax,
            blocks_per_page,
        });
    }
    Ok(files)
}

fn validate_op(cx: &Ctx, files: &[FileSetup], spanned: &Spanned<RawOp>) -> Result<Operation, ScenarioError> {
    let raw = spanned.get_ref();
    let name = raw.op.get_ref().as_str();
    let Some((_, fields)) = OPERATIONS.iter().find(|(n, _)| *n == name) else {
        let known: Vec<&str> = OPERATIONS.iter().map(|(n, _)| *n).collect();
        return Err(cx.error(
            raw.op.span(),
            format!(
                "unknown operation '{name}'{}; expected one of {}",
                crate::did_you_mean(name, known.iter().copied()),
                known.join(", ")
            ),
        ));
    };
    let missing =
        |field: &str| cx.error(spanned.span(), format!("operation '{name}' needs '{field}' (it takes: {fields})"));
    // A write's `fail_at`: which of its `count` units (pages, or blocks on a file of blocks
    // smaller than a page, `what` saying so) the copy fails at.
    let fail_at_within = |count: Lblk, what: &str| match &raw.fail_at {
        None => Ok(None),
        Some(k) if *k.get_ref() < count => Ok(Some(*k.get_ref())),
        Some(k) => Err(cx.error(
            k.span(),
            format!("fail_at {} is not a {what} of this {count}-{what} write (0 to {})", k.get_ref(), count - 1),
        )),
    };
    let resolve = |file: &Spanned<String>| -> Result<(u16, &FileSetup), ScenarioError> {
        files.iter().position(|f| &f.name == file.get_ref()).map(|i| (i as u16, &files[i])).ok_or_else(|| {
            let known: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
            cx.error(
                file.span(),
                format!(
                    "unknown file '{}'{}; expected one of {}",
                    file.get_ref(),
                    crate::did_you_mean(file.get_ref(), known.iter().copied()),
                    known.join(", ")
                ),
            )
        })
    };
    let (ino, file) = resolve(raw.file.as_ref().ok_or_else(|| missing("file"))?)?;
    let per_page = file.blocks_per_page;
    // The operations that name blocks of a file of smaller blocks: every one with a range, and
    // load and store (`block`); truncate's new size (`blocks`).
    const RANGES: &[&str] = &[
        "read",
        "write",
        "punch_hole",
        "zero_range",
        "fallocate",
        "collapse_range",
        "insert_range",
        "dio_write",
        "dio_read",
    ];
    let block_owners: Vec<&str> = ["load", "store"].iter().chain(RANGES).copied().collect();
    let blocks_owners: Vec<&str> = ["truncate"].iter().chain(RANGES).copied().collect();
    for (field, value, owners) in
        [("block", &raw.block, &block_owners[..]), ("blocks", &raw.blocks, &blocks_owners[..])]
    {
        let Some(value) = value else { continue };
        if !owners.contains(&name) {
            return Err(cx.error(
                value.span(),
                format!("'{field}' is not a field of {name}; only {} take it", owners.join(" and ")),
            ));
        }
        if per_page == 1 {
            return Err(cx.error(
                value.span(),
                format!(
                    "'{field}' is for files whose blocks are smaller than a page; '{}' has block_size 4096",
                    file.name
                ),
            ));
        }
    }
    for (buffer_file, field) in [(&raw.from_mmap, "from_mmap"), (&raw.into_mmap, "into_mmap")] {
        let Some(buffer_file) = buffer_file else { continue };
        if files.iter().any(|f| &f.name == buffer_file.get_ref() && f.blocks_per_page > 1) {
            return Err(cx.error(
                buffer_file.span(),
                format!("{field}: a user buffer in a file whose blocks are smaller than a page is not modelled"),
            ));
        }
    }
    // Only the model's limits are checked here: where EOF is when an operation runs (grown by
    // an earlier write of the same actor, shrunk by another actor's truncate) is the model's
    // business, which answers as the kernel does (SIGBUS, SIGSEGV, a short read, EINVAL...).
    let page_in_model = |page: &Spanned<Lblk>| -> Result<Lblk, ScenarioError> {
        let p = *page.get_ref();
        if p >= FILE_PAGES_MAX {
            return Err(cx.error(
                page.span(),
                format!(
                    "page {p} is past the model's {FILE_PAGES_MAX}-page limit (pages are 0 to {})",
                    FILE_PAGES_MAX - 1
                ),
            ));
        }
        Ok(p)
    };
    let range = |page: &Spanned<Lblk>, pages: &Spanned<Lblk>| -> Result<(Lblk, Lblk), ScenarioError> {
        let (p, n) = (*page.get_ref(), *pages.get_ref());
        if n == 0 {
            return Err(cx.error(pages.span(), "'pages' must be at least 1"));
        }
        // A file of smaller blocks holds FILE_PAGES_MAX blocks, so fewer pages.
        let limit = FILE_PAGES_MAX / per_page;
        if p.checked_add(n).is_none_or(|end| end > limit) {
            return Err(cx.error(
                pages.span(),
                format!("the range [{p}, {}) goes past the model's {limit}-page limit", p.saturating_add(n)),
            ));
        }
        Ok((p, n))
    };
    // The user buffer of write, dio_write (`from_mmap`, `from_page`) and dio_read
    // (`into_mmap`, `into_page`): anonymous memory, or the mapping of that file starting at
    // that page (by default, the same pages as the ones the operation covers).
    let user_buffer = |p: Lblk,
                       n: Lblk,
                       mapping: &Option<Spanned<String>>,
                       first_page: &Option<Spanned<Lblk>>|
     -> Result<UserBuffer, ScenarioError> {
        let Some(source) = mapping else { return Ok(UserBuffer::Anonymous) };
        let (source_ino, source_file) = resolve(source)?;
        let first = first_page.as_ref().map_or(p, |s| *s.get_ref());
        let mapping_end = source_file.map_offset + source_file.map_pages;
        if first < source_file.map_offset || first.checked_add(n).is_none_or(|end| end > mapping_end) {
            let span = first_page.as_ref().map_or(source.span(), |s| s.span());
            return Err(cx.error(
                span,
                format!(
                    "the user buffer [{first}, {}) is outside the mapping of '{}' (file pages [{}, {mapping_end}))",
                    first.saturating_add(n),
                    source_file.name,
                    source_file.map_offset
                ),
            ));
        }
        Ok(UserBuffer::Mapped { file: source_ino, page: first })
    };
    // The user-buffer fields belong to the operations that have a user buffer: a misplaced one
    // would silently leave the buffer anonymous.
    const WRITES: &[&str] = &["write", "dio_write"];
    const READS: &[&str] = &["read", "dio_read"];
    let buffer_fields = [
        ("from_mmap", raw.from_mmap.as_ref().map(|f| f.span()), WRITES),
        ("from_page", raw.from_page.as_ref().map(|f| f.span()), WRITES),
        ("into_mmap", raw.into_mmap.as_ref().map(|f| f.span()), READS),
        ("into_page", raw.into_page.as_ref().map(|f| f.span()), READS),
        ("keep_size", raw.keep_size.as_ref().map(|f| f.span()), &["fallocate"]),
        ("first_page", raw.first_page.as_ref().map(|f| f.span()), &["write", "dio_write"]),
        ("last_page", raw.last_page.as_ref().map(|f| f.span()), &["write", "dio_write"]),
        ("half", raw.half.as_ref().map(|f| f.span()), &["truncate"]),
    ];
    for (field, span, owners) in buffer_fields {
        let Some(span) = span else { continue };
        if !owners.contains(&name) {
            return Err(
                cx.error(span, format!("'{field}' is not a field of {name}; only {} take it", owners.join(" and ")))
            );
        }
    }
    for (first_page, mapping, span) in [
        ("from_page", "from_mmap", raw.from_page.as_ref().filter(|_| raw.from_mmap.is_none()).map(|f| f.span())),
        ("into_page", "into_mmap", raw.into_page.as_ref().filter(|_| raw.into_mmap.is_none()).map(|f| f.span())),
    ] {
        if let Some(span) = span {
            return Err(
                cx.error(span, format!("'{first_page}' needs '{mapping}': the file whose mapping is the buffer"))
            );
        }
    }
    let page = raw.page.as_ref();
    let pages = raw.pages.as_ref();
    let block_outside_page = |b: &Spanned<Lblk>| {
        cx.error(
            b.span(),
            format!("block {} is not a block of a page of '{}' (0 to {})", b.get_ref(), file.name, per_page - 1),
        )
    };
    let op = match name {
        "mmap" => Operation::Mmap { file: ino },
        "munmap" => Operation::Munmap { file: ino },
        "load" | "store" => {
            let p = page_in_model(page.ok_or_else(|| missing("page"))?)?;
            // A file of smaller blocks names blocks: page * blocks_per_page + block.
            let p = match &raw.block {
                Some(b) if *b.get_ref() >= per_page => return Err(block_outside_page(b)),
                Some(b) if p * per_page >= FILE_PAGES_MAX => {
                    return Err(cx.error(
                        b.span(),
                        format!("page {p} is past the model's {} pages of '{}'", FILE_PAGES_MAX / per_page, file.name),
                    ));
                }
                Some(b) => p * per_page + *b.get_ref(),
                None if per_page > 1 && p * per_page >= FILE_PAGES_MAX => {
                    return Err(cx.error(
                        page.map_or(spanned.span(), |s| s.span()),
                        format!("page {p} is past the model's {} pages of '{}'", FILE_PAGES_MAX / per_page, file.name),
                    ));
                }
                None => p * per_page,
            };
            if name == "load" {
                Operation::Load { file: ino, page: p }
            } else {
                Operation::Store { file: ino, page: p }
            }
        }
        "write" | "read" | "punch_hole" | "zero_range" | "fallocate" | "collapse_range" | "insert_range"
        | "dio_write" | "dio_read"
            if per_page > 1 =>
        {
            // A file of smaller blocks names blocks: from block `block` of page `page`, `blocks`
            // blocks (or `pages` whole pages), as load and store name them. A punch, a zero
            // range or a fallocate covers whole blocks (ext4_zero_partial_blocks has nothing to
            // zero then); collapse and insert range take only block-aligned ranges
            // (ext4_collapse_range's and ext4_insert_range's "offset & (EXT4_CLUSTER_SIZE(sb) -
            // 1) || len & ..." EINVAL, xfs_is_falloc_aligned), which whole blocks are.
            let page = page.ok_or_else(|| missing("page"))?;
            let block = raw.block.as_ref().map_or(0, |b| *b.get_ref());
            if let Some(b) = raw.block.as_ref().filter(|b| *b.get_ref() >= per_page) {
                return Err(block_outside_page(b));
            }
            let (count, span) = match (pages, &raw.blocks) {
                (Some(_), Some(b)) => return Err(cx.error(b.span(), "give 'pages' or 'blocks', not both")),
                (Some(n), None) => (n.get_ref().saturating_mul(per_page), n.span()),
                (None, Some(b)) => (*b.get_ref(), b.span()),
                (None, None) => return Err(missing("blocks")),
            };
            if count == 0 {
                return Err(cx.error(span, format!("a {name} must cover at least 1 block")));
            }
            let first = page.get_ref().saturating_mul(per_page).saturating_add(block);
            if first.checked_add(count).is_none_or(|end| end > FILE_PAGES_MAX) {
                return Err(cx.error(
                    span,
                    format!(
                        "the blocks [{first}, {}) go past the model's {FILE_PAGES_MAX} blocks of '{}'",
                        first.saturating_add(count),
                        file.name
                    ),
                ));
            }
            // What write(2), read(2) and direct IO on such a file do not model yet
            // (docs/model.md, "Blocks smaller than a page"): refused rather than run as
            // something else. (A direct IO of part of a block, `first_page` or `last_page`, is
            // one of these: whole blocks only.)
            let unmodelled = [
                ("from_mmap", raw.from_mmap.as_ref().map(|f| f.span())),
                ("into_mmap", raw.into_mmap.as_ref().map(|f| f.span())),
                ("alloc", raw.alloc.as_ref().filter(|a| a.get_ref() != "per_page").map(|a| a.span())),
                ("first_page", raw.first_page.as_ref().map(|f| f.span())),
                ("last_page", raw.last_page.as_ref().map(|f| f.span())),
            ];
            if let Some((field, span)) = unmodelled.into_iter().find_map(|(f, s)| s.map(|s| (f, s))) {
                return Err(cx.error(
                    span,
                    format!(
                        "{name}: '{field}' is not modelled for '{}', whose blocks are smaller than a page (block_size {})",
                        file.name,
                        4096 / per_page
                    ),
                ));
            }
            if name == "read" {
                Operation::Read { file: ino, page: first, pages: count, buffer: UserBuffer::Anonymous }
            } else if name == "punch_hole" {
                Operation::PunchHole { file: ino, page: first, pages: count }
            } else if name == "zero_range" {
                Operation::ZeroRange { file: ino, page: first, pages: count }
            } else if name == "fallocate" {
                let keep_size = raw.keep_size.as_ref().is_none_or(|k| *k.get_ref());
                Operation::Fallocate { file: ino, page: first, pages: count, keep_size }
            } else if name == "collapse_range" {
                Operation::CollapseRange { file: ino, page: first, pages: count }
            } else if name == "dio_read" {
                Operation::DioRead { file: ino, page: first, pages: count, buffer: UserBuffer::Anonymous }
            } else if name == "dio_write" {
                let asynchronous = raw.asynchronous.as_ref().is_some_and(|a| *a.get_ref());
                Operation::DioWrite {
                    file: ino,
                    page: first,
                    pages: count,
                    buffer: UserBuffer::Anonymous,
                    asynchronous,
                    ends: WriteEnds::default(),
                }
            } else if name == "insert_range" {
                // As for a file of page-sized blocks below: an insert that cannot fit even the
                // file's initial size is refused for the model's limit alone.
                if file.pages * per_page + count > FILE_PAGES_MAX {
                    return Err(cx.error(
                        raw.op.span(),
                        format!(
                            "insert_range: {count} blocks into '{}' ({} blocks) goes past the model's \
                             {FILE_PAGES_MAX}-block limit",
                            file.name,
                            file.pages * per_page
                        ),
                    ));
                }
                Operation::InsertRange { file: ino, page: first, pages: count }
            } else {
                // The block (relative to the write) at which the user buffer faults.
                let fail_at = fail_at_within(count, "block")?;
                Operation::Write {
                    file: ino,
                    page: first,
                    pages: count,
                    buffer: UserBuffer::Anonymous,
                    fail_at,
                    allocation: WriteAllocation::PerPage,
                    ends: WriteEnds::default(),
                }
            }
        }
        "read" | "readahead" | "fallocate" => {
            let (p, n) = range(page.ok_or_else(|| missing("page"))?, pages.ok_or_else(|| missing("pages"))?)?;
            match name {
                "read" => {
                    let buffer = user_buffer(p, n, &raw.into_mmap, &raw.into_page)?;
                    if let (UserBuffer::Mapped { file: target, .. }, Some(field)) = (buffer, &raw.into_mmap) {
                        // Every process maps every file that says `mmap = true` at setup; a
                        // buffer in a file nobody maps would only ever fail with EFAULT.
                        if !files[target as usize].mmap {
                            return Err(cx.error(
                                field.span(),
                                format!(
                                    "'{}' is not mapped (mmap = false): the buffer of a read must be a shared \
                                     mapping the actor's process has",
                                    field.get_ref()
                                ),
                            ));
                        }
                        if file.dax {
                            return Err(cx.error(
                                field.span(),
                                format!(
                                    "'{}' is a DAX file: its read(2) copies from the blocks (dax_iomap_actor); \
                                     a copy from there into a mapping is not modelled",
                                    file.name
                                ),
                            ));
                        }
                    }
                    Operation::Read { file: ino, page: p, pages: n, buffer }
                }
                "readahead" => Operation::Readahead { file: ino, page: p, pages: n },
                _ => Operation::Fallocate {
                    file: ino,
                    page: p,
                    pages: n,
                    keep_size: raw.keep_size.as_ref().is_none_or(|k| *k.get_ref()),
                },
            }
        }
        "dio_write" | "dio_read" => {
            if file.dax {
                return Err(cx.error(
                    raw.op.span(),
                    format!(
                        "'{}' is a DAX file: its read and write already bypass the page cache; use read and write",
                        file.name
                    ),
                ));
            }
            let (p, n) = range(page.ok_or_else(|| missing("page"))?, pages.ok_or_else(|| missing("pages"))?)?;
            if name == "dio_read" {
                // A buffer in a DAX mapping is pinned on its blocks (get_user_pages on DAX pfns).
                let buffer = user_buffer(p, n, &raw.into_mmap, &raw.into_page)?;
                Operation::DioRead { file: ino, page: p, pages: n, buffer }
            } else {
                let buffer = user_buffer(p, n, &raw.from_mmap, &raw.from_page)?;
                let asynchronous = raw.asynchronous.as_ref().is_some_and(|a| *a.get_ref());
                let ends = write_ends(cx, raw, n)?;
                if !ends.is_whole() {
                    // An unaligned direct write is modelled from an anonymous buffer, inside the
                    // file's initial size (the model keeps i_size in whole pages, so a write that
                    // ends half-way into a new last page cannot say where EOF is), and
                    // asynchronous (docs/model.md, "Unaligned direct writes").
                    let unmodelled = [
                        ("from_mmap", raw.from_mmap.as_ref().map(|f| f.span())),
                        ("from_page", raw.from_page.as_ref().map(|f| f.span())),
                    ];
                    if let Some((field, span)) = unmodelled.into_iter().find_map(|(f, s)| s.map(|s| (f, s))) {
                        return Err(cx.error(
                            span,
                            format!(
                                "dio_write: a direct write of part of a page (first_page, last_page) is not modelled \
                                 where '{field}' is given"
                            ),
                        ));
                    }
                    if p + n > file.pages {
                        return Err(cx.error(
                            raw.op.span(),
                            format!(
                                "dio_write: a direct write of part of a page is modelled inside the file's initial \
                                 size ({} pages of '{}'); this one ends at page {}",
                                file.pages,
                                file.name,
                                p + n
                            ),
                        ));
                    }
                }
                Operation::DioWrite { file: ino, page: p, pages: n, buffer, asynchronous, ends }
            }
        }
        "write" => {
            let (p, n) = range(page.ok_or_else(|| missing("page"))?, pages.ok_or_else(|| missing("pages"))?)?;
            let buffer = user_buffer(p, n, &raw.from_mmap, &raw.from_page)?;
            let fail_at = fail_at_within(n, "page")?;
            let allocation = match raw.alloc.as_ref().map(|a| a.get_ref().as_str()) {
                None | Some("per_page") => WriteAllocation::PerPage,
                Some("whole_range") => WriteAllocation::WholeRange,
                Some(other) => {
                    return Err(cx.error(
                        raw.alloc.as_ref().map_or(0..0, |a| a.span()),
                        format!("unknown alloc '{other}'; expected \"per_page\" or \"whole_range\""),
                    ));
                }
            };
            let ends = write_ends(cx, raw, n)?;
            if !ends.is_whole() {
                // Writes of part of a block are modelled for the page cache's write paths with
                // nothing else injected (docs/model.md, "Writes of part of a block").
                let unmodelled = [
                    ("dax", file.dax.then(|| raw.op.span())),
                    ("from_mmap", raw.from_mmap.as_ref().map(|f| f.span())),
                    ("fail_at", raw.fail_at.as_ref().map(|f| f.span())),
                    ("alloc", raw.alloc.as_ref().filter(|a| a.get_ref() != "per_page").map(|a| a.span())),
                ];
                if let Some((field, span)) = unmodelled.into_iter().find_map(|(f, s)| s.map(|s| (f, s))) {
                    let what = if field == "dax" {
                        format!("'{}' is a DAX file", file.name)
                    } else {
                        format!("'{field}' is given")
                    };
                    return Err(cx.error(
                        span,
                        format!(
                            "write: a write of part of a page (first_page, last_page) is not modelled where {what}"
                        ),
                    ));
                }
            }
            Operation::Write { file: ino, page: p, pages: n, buffer, fail_at, allocation, ends }
        }
        "truncate" => {
            // The size in the file's blocks: `size` pages, or `blocks` for smaller blocks.
            let (size, blocks) = match (&raw.size, &raw.blocks) {
                (Some(_), Some(b)) => return Err(cx.error(b.span(), "give 'size' (pages) or 'blocks', not both")),
                (Some(size), None) => (size, size.get_ref().saturating_mul(per_page)),
                (None, Some(b)) => (b, *b.get_ref()),
                (None, None) => return Err(missing("size")),
            };
            if blocks > FILE_PAGES_MAX {
                return Err(cx.error(
                    size.span(),
                    if per_page == 1 {
                        format!("size {} is past the model's {FILE_PAGES_MAX}-page limit", size.get_ref())
                    } else {
                        format!(
                            "size {} is past the model's {FILE_PAGES_MAX}-block limit of '{}'",
                            size.get_ref(),
                            file.name
                        )
                    },
                ));
            }
            let half = raw.half.as_ref().filter(|h| *h.get_ref());
            if let Some(h) = half {
                // docs/model.md, "An EOF inside a block": not on DAX files.
                let refusal = if file.dax {
                    Some("it is a DAX file".to_string())
                } else if blocks >= FILE_PAGES_MAX {
                    Some(format!("the block after size {blocks} is past the model's {FILE_PAGES_MAX}-block limit"))
                } else {
                    None
                };
                if let Some(why) = refusal {
                    return Err(cx.error(
                        h.span(),
                        format!(
                            "truncate: an EOF half-way into a block (half = true) is not modelled for '{}': {why}",
                            file.name
                        ),
                    ));
                }
            }
            // With `half`, EOF is half-way into block `blocks`: the size rounded up is one more.
            match half {
                Some(_) => Operation::Truncate { file: ino, size: blocks + 1, half: true },
                None => Operation::Truncate { file: ino, size: blocks, half: false },
            }
        }
        "punch_hole" | "madvise_remove" | "mlock" | "collapse_range" | "insert_range" | "zero_range" => {
            let (p, n) = range(page.ok_or_else(|| missing("page"))?, pages.ok_or_else(|| missing("pages"))?)?;
            match name {
                "punch_hole" => Operation::PunchHole { file: ino, page: p, pages: n },
                // madvise(2) takes a page-aligned range, so on a file of smaller blocks it punches
                // whole pages: the operation names them in blocks, as punch_hole does.
                "madvise_remove" => Operation::MadviseRemove { file: ino, page: p * per_page, pages: n * per_page },
                "mlock" => Operation::Mlock { file: ino, page: p, pages: n },
                "collapse_range" => Operation::CollapseRange { file: ino, page: p, pages: n },
                "insert_range" => {
                    // The model's block map ends at FILE_PAGES_MAX, where Linux's ends at
                    // s_maxbytes: an insert that cannot fit even the file's initial size would
                    // return EINVAL for the model's reason alone, and the scenario would never
                    // reach what it was written for.
                    if file.pages + n > FILE_PAGES_MAX {
                        return Err(cx.error(
                            raw.op.span(),
                            format!(
                                "insert_range: {n} pages into '{}' ({} pages) goes past the model's \
                                 {FILE_PAGES_MAX}-page limit",
                                file.name, file.pages
                            ),
                        ));
                    }
                    Operation::InsertRange { file: ino, page: p, pages: n }
                }
                _ => Operation::ZeroRange { file: ino, page: p, pages: n },
            }
        }
        "writeback" => Operation::Writeback { file: ino },
        "fsync" => Operation::Fsync { file: ino },
        "msync" => Operation::Msync { file: ino },
        "reclaim" => Operation::Reclaim { file: ino },
        "journal_commit" => Operation::JournalCommit { file: ino },
        "crash" => Operation::Crash { file: ino },
        _ => unreachable!("every name in OPERATIONS is handled"),
    };
    Ok(op)
}

/// `[[policy]]` tables: the policy file format (`crate::policy_file`), inline.
fn validate_variants(cx: &Ctx, raw: &[Spanned<toml::Table>]) -> Result<Vec<Policy>, ScenarioError> {
    let mut variants: Vec<Policy> = Vec::new();
    for table in raw {
        let policy = crate::policy_file::from_table(table.get_ref().clone()).map_err(|e| {
            let at = e
                .entry
                .and_then(|(n, field)| crate::policy_file::locate_entry(cx.text, table.span(), n, field))
                .map_or(table.span(), |o| o..o);
            cx.error(at, e.message)
        })?;
        if racesim_kernel::policy::resolve_builtin(&policy.name).is_some()
            || variants.iter().any(|v| v.name == policy.name)
        {
            return Err(cx.error(table.span(), format!("policy name '{}' is already taken", policy.name)));
        }
        variants.push(policy);
    }
    Ok(variants)
}

/// The `first_page` and `last_page` fields of a write of `pages` pages.
fn write_ends(cx: &Ctx, raw: &RawOp, pages: Lblk) -> Result<WriteEnds, ScenarioError> {
    let part = |field: &Option<Spanned<String>>, name: &str, partial: PagePart, partial_name: &str| match field
        .as_ref()
        .map(|f| f.get_ref().as_str())
    {
        None | Some("whole") => Ok(PagePart::Whole),
        Some(value) if value == partial_name => Ok(partial),
        Some(other) => Err(cx.error(
            field.as_ref().map_or(0..0, |f| f.span()),
            format!("unknown {name} '{other}'; expected \"whole\" or \"{partial_name}\""),
        )),
    };
    let first = part(&raw.first_page, "first_page", PagePart::Tail, "tail")?;
    let last = part(&raw.last_page, "last_page", PagePart::Head, "head")?;
    if pages == 1 && !first.is_whole() && !last.is_whole() {
        return Err(cx.error(
            raw.last_page.as_ref().map_or(0..0, |f| f.span()),
            "a one-page write covers its page whole, its first half (last_page = \"head\") or its second half \
             (first_page = \"tail\"), not neither",
        ));
    }
    Ok(WriteEnds { first, last })
}

/// The operations modelled on a file that a truncate may leave with EOF half-way into a block
/// (docs/model.md, "An EOF inside a block"): the others would read or change the block that
/// straddles EOF through paths that still take EOF on a block boundary.
const HALF_EOF_OPERATIONS: &[&str] = &[
    "mmap",
    "munmap",
    "load",
    "store",
    "read",
    "truncate",
    "fallocate",
    "punch_hole",
    "madvise_remove",
    "collapse_range",
    "insert_range",
    "zero_range",
    "dio_read",
    "dio_write",
    "readahead",
    "writeback",
    "fsync",
    "msync",
    "reclaim",
    "mlock",
    "journal_commit",
    "crash",
];

/// Refuses, on a file some `truncate` with `half = true` names, every operation the model does
/// not take that EOF into account for (direct writes of part of a block or on a file a collapse
/// or an insert shifts, direct reads into a mapping, zero range over that block), and a user buffer mapped from
/// it but for a direct write's (and, for read(2), into it: its short copy is modelled into
/// anonymous memory). Initial unwritten extents are modelled there: reads
/// see zeroes, and the zeroing of the EOF block's tail treats them as each kernel function
/// does (docs/model.md, "An EOF inside a block").
fn operations_beside_half_eof(
    cx: &Ctx,
    raw: &[Spanned<RawActor>],
    actors: &[Actor],
    files: &[FileSetup],
) -> Result<(), ScenarioError> {
    let half_eof = |file: Ino| !crate::half_eof_blocks(actors, files, file).is_empty();
    for (raw_actor, actor) in raw.iter().zip(actors) {
        for (raw_op, op) in raw_actor.get_ref().ops.iter().zip(&actor.ops) {
            let name = op.name();
            // The file, or a user buffer mapped from it.
            let buffer = match *op {
                Operation::Write { buffer, .. }
                | Operation::Read { buffer, .. }
                | Operation::DioWrite { buffer, .. }
                | Operation::DioRead { buffer, .. } => buffer,
                _ => UserBuffer::Anonymous,
            };
            let in_buffer = matches!(buffer, UserBuffer::Mapped { file, .. } if half_eof(file));
            // read(2) of such a file into a mapping: the short copy at EOF is modelled into
            // anonymous memory only.
            let read_into_mapping =
                matches!(*op, Operation::Read { file, buffer: UserBuffer::Mapped { .. }, .. } if half_eof(file));
            let touches_half_file = half_eof(op.file()) || in_buffer || read_into_mapping;
            if read_into_mapping {
                return Err(cx.error(
                    raw_op.span(),
                    "read: a read of a file that a truncate leaves with EOF half-way into a block (half = true) \
                     into a mapping (into_mmap) is not modelled; into anonymous memory it is (docs/model.md, \
                     \"An EOF inside a block\")",
                ));
            }
            // write(2) is modelled beside an EOF inside a block, wherever it starts (one that
            // starts past that block zeroes its tail as the policy's `truncate_up_zero_eof`
            // says), and so is its failure: ext4's cleanup zeroes the block's tail as truncate
            // down does (ext4_truncate_failed_write -> ext4_truncate), XFS's truncates the page
            // cache from EOF.
            if let Operation::Write { file, .. } = *op
                && half_eof(file)
                && !in_buffer
            {
                continue;
            }
            // Zero range is modelled beside such a block, not over it: ext4 7.1 zeroes the old
            // EOF block from ext4_alloc_file_blocks, which ext4_zero_range calls after it has
            // evicted the range and before it converts it, and how that meets a range over
            // the block itself needs 7.1's ext4_zero_range. Collapse and insert move the block,
            // so beside them a range could meet it anywhere.
            if let Operation::ZeroRange { file, page, pages } = *op
                && half_eof(file)
            {
                let shifts = actors.iter().flat_map(|a| &a.ops).any(|o| {
                    matches!(*o, Operation::CollapseRange { file: f, .. } | Operation::InsertRange { file: f, .. } if f == file)
                });
                let over =
                    crate::half_eof_blocks(actors, files, file).into_iter().find(|&b| b >= page && b < page + pages);
                let why = if shifts {
                    Some(
                        "on a file that collapse_range or insert_range also shifts, it may meet that block anywhere"
                            .to_string(),
                    )
                } else {
                    over.map(|b| format!("its range covers block {b}"))
                };
                if let Some(why) = why {
                    return Err(cx.error(
                        raw_op.span(),
                        format!(
                            "zero_range: a zero range over the block a truncate or a write may leave EOF half-way into \
                             is not modelled ({why}); a range before or past that block is (docs/model.md, \
                             \"An EOF inside a block\")"
                        ),
                    ));
                }
            }
            // A direct read is modelled into anonymous memory: its DMA reads the EOF block whole
            // into the buffer, past the short count it returns, which a mapped buffer would turn
            // into a store.
            if let Operation::DioRead { file, buffer, .. } = *op
                && (in_buffer || (half_eof(file) && matches!(buffer, UserBuffer::Mapped { .. })))
            {
                return Err(cx.error(
                    raw_op.span(),
                    "dio_read: a direct read of or into a mapping of a file that a truncate or a write may leave \
                     with EOF half-way into a block is modelled into anonymous memory only (no into_mmap) \
                     (docs/model.md, \"An EOF inside a block\")",
                ));
            }
            // A direct write is modelled wherever it starts: it writes whole blocks; one that
            // runs through the end of the block such an EOF lies in grows the file in bytes
            // ("end > i_size"), so the block's tail is then its data, and one that starts past
            // that block zeroes its tail first where the policy's direct writes do (XFS's
            // xfs_file_aio_write_checks; ext4's direct path does not). One whose user buffer
            // faults (EFAULT: the model pins it whole before any bio goes out, so nothing is
            // written) is cleaned up as write(2) is (ext4_truncate_failed_write, whose
            // ext4_truncate zeroes the block's tail). So is one that fails part-way with ENOSPC:
            // it has written the blocks it mapped, that block whole, and returns the error
            // without growing the file, as Linux does, and ext4's cleanup then zeroes the
            // block's tail of its own data.
            if let Operation::DioWrite { file, ends, .. } = *op
                && half_eof(file)
            {
                let shifts = actors.iter().flat_map(|a| &a.ops).any(|o| {
                    matches!(*o, Operation::CollapseRange { file: f, .. } | Operation::InsertRange { file: f, .. } if f == file)
                });
                let why = if shifts {
                    Some(
                        "on a file that collapse_range or insert_range also shifts, that block may be anywhere"
                            .to_string(),
                    )
                } else if !ends.is_whole() {
                    Some("it covers part of a block (first_page, last_page)".to_string())
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(cx.error(
                        raw_op.span(),
                        format!(
                            "dio_write: a direct write of a file that a truncate or a write may leave with EOF \
                             half-way into a block is modelled of whole blocks, and \
                             not here: {why} (docs/model.md, \
                             \"An EOF inside a block\")"
                        ),
                    ));
                }
                continue;
            }
            if touches_half_file && !HALF_EOF_OPERATIONS.contains(&name) {
                return Err(cx.error(
                    raw_op.span(),
                    format!(
                        "'{name}' is not modelled on a file that a truncate leaves with EOF half-way into a block \
                         (half = true, or a write(2) with last_page = \"head\" that may grow it); such a file takes \
                         write and {} (docs/model.md, \"An EOF inside a block\")",
                        HALF_EOF_OPERATIONS.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses an madvise(MADV_REMOVE) whose range an mlock of the same file in the same process
/// starts inside of. `madvise_remove` refuses a `VM_LOCKED` VMA with EINVAL, and mlock splits
/// the VMA at its range's edges, so such a range begins with an unlocked VMA, which Linux
/// punches before it meets the locked one and returns EINVAL; the model refuses the range as
/// one wherever a page of it is locked, which is right when its first page is (docs/model.md,
/// "mlock").
fn madvise_remove_beside_mlock(
    cx: &Ctx,
    raw: &[Spanned<RawActor>],
    actors: &[Actor],
    files: &[FileSetup],
) -> Result<(), ScenarioError> {
    // The mlocks of each process, as (file, first page, end page).
    let mlocks = |process: usize| {
        actors.iter().filter(move |a| a.process == process).flat_map(|a| &a.ops).filter_map(|op| match *op {
            Operation::Mlock { file, page, pages } => Some((file, page, page + pages)),
            _ => None,
        })
    };
    for (raw_actor, actor) in raw.iter().zip(actors) {
        for (raw_op, op) in raw_actor.get_ref().ops.iter().zip(&actor.ops) {
            let Operation::MadviseRemove { file, page, pages } = *op else { continue };
            // In pages: madvise(2) takes whole pages, which the operation names in blocks.
            let per_page = files[file as usize].blocks_per_page;
            let (first, end) = (page / per_page, (page + pages).div_ceil(per_page));
            let straddled = mlocks(actor.process).find(|&(f, start, _)| f == file && first < start && start < end);
            if let Some((_, start, stop)) = straddled {
                return Err(cx.error(
                    raw_op.span(),
                    format!(
                        "madvise_remove: an mlock of the same file in the same process (pages [{start}, {stop})) starts \
                         inside pages [{first}, {end}): Linux punches the unlocked VMA before the locked one and then \
                         returns EINVAL, which is not modelled; a range that starts inside an mlock's or does not \
                         reach one is (docs/model.md, \"mlock\")"
                    ),
                ));
            }
        }
    }
    Ok(())
}
