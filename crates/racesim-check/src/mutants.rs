//! Oracle sensitivity: mutants of every fixing policy, run against the scenarios that expect
//! that policy clean. A mutant changes one thing a fix consists of; if no shipped scenario
//! notices, either the change is redundant (say why) or the scenarios miss a race (write the
//! scenario). This is how the suite's oracles are tested, as mutation testing tests a test suite.
//!
//! - **Subjects**: every policy some shipped scenario expects clean: the built-ins by name, and
//!   a scenario's `[[policy]]` variants as `SCENARIO/VARIANT` (a variant exists only in its own
//!   scenario). The four primary built-ins are mutated whole; the XFS built-ins are derived
//!   from the primary they are closest to, a variant from the built-in (of all six) it is
//!   closest to, and only what they add is mutated ([`generate`]).
//! - **Mutations** (each mutant makes exactly one): a placement removed; an exclusive placement
//!   taken shared; a range-lock or DAX-entry placement's range shrunk one step (`file` or
//!   `to_eof` to the operation's `range`, `range` or `bio` to the `page`; an rwsem ignores its
//!   range, so shrinking one would change nothing); a behaviour field that stands for one fix set
//!   back to the value before the fix ([`FIELD_MUTATIONS`]).
//! - **Loading**: each mutant is printed as a policy file and read back by the policy-file
//!   parser; what the loader refuses (an `i_dio_count` placement taken shared) is counted as
//!   refused and not run.
//! - **Killing**: a mutant is killed when one of its subject's clean scenarios (for a primary,
//!   also those of the derived policies sharing the decision) now reports any violation (deadlocks and lock-order reports count). First a sampled pass (each scenario's
//!   own strategy, few schedules) over every target, then, for what survives, the exhaustive
//!   search within a preemption bound over every target. The first killer is the first target,
//!   in sorted order, of the first pass that kills: deterministic, whatever the number of jobs.
//!
//! The expected survivors are data ([`Survivors`], `tests/mutants.toml`): each names its mutant
//! and why it survives. [`judge`] compares a run with that list both ways.

use crate::{Case, CaseKind};
use racesim_explore::{ExploreConfig, StrategyKind};
use racesim_kernel::Policy;
use racesim_kernel::placement::{LockName, Mode, Placement, RangeSpec};
use racesim_kernel::policy::{
    BufferedWriteMap, DaxZeroing, DioExtendSize, DioUnaligned, DioWritePastEof, DioWritePostInvalidate, IsizeExtended,
    PunchPartialPage, RangeFlush, TruncateUpZero, WritebackSizeSample,
};
use racesim_scenario::{Expect, Scenario};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A policy to mutate, with the scenarios that expect it clean.
#[derive(Clone, Debug)]
pub struct Subject {
    /// A built-in's name, or `SCENARIO/VARIANT` for a scenario's `[[policy]]` variant.
    pub id: String,
    pub policy: Policy,
    /// The scenarios that expect the policy clean, in sorted order of their files.
    pub targets: Vec<Target>,
}

/// A scenario that expects a subject clean.
#[derive(Clone, Debug)]
pub struct Target {
    /// The scenario file, as discovered.
    pub file: String,
    pub scenario: Arc<Scenario>,
}

/// One mutant: its subject, what it changes, and the policy (or why the loader refused it).
#[derive(Clone, Debug)]
pub struct Mutant {
    pub subject: String,
    /// What it changes, e.g. `remove range_lock exclusive bio in dio_read
    /// get_block..inode_dio_end`.
    pub mutation: String,
    pub policy: Result<Policy, String>,
    /// The scenario runs that can kill it, in order: the subject's clean scenarios under the
    /// mutant, then (for a primary built-in) the clean scenarios of each policy derived from
    /// it that shares the mutated decision, under the same change made to that policy.
    pub runs: Vec<(Target, Arc<Policy>)>,
}

impl Mutant {
    /// `SUBJECT: MUTATION`, the mutant's name in reports and in the survivors list.
    pub fn id(&self) -> String {
        format!("{}: {}", self.subject, self.mutation)
    }
}

/// The fields that stand for one fix each, with the value the fix replaced: (field, fixed
/// value, unfixed value, the fix).
pub const FIELD_MUTATIONS: [(&str, &str, &str, &str); 28] = [
    ("fault_recheck_i_size", "true", "false", "filemap_fault's i_size recheck under the page lock"),
    ("write_copy_may_fault", "false", "true", "08291429cfa6: fault the user buffer in, copy atomically"),
    ("collapse_flush_outside_lock", "false", "true", "32ebffd3bbb4: collapse flushes under its locks"),
    ("dax_zeroing", "allocation", "insert_mapping", "ba5843f51d46 / XFS_BMAPI_ZERO: DAX blocks zeroed at allocation"),
    ("reclaim_skips_pinned", "true", "false", "d824ec2a1546: reclaim leaves pinned pages alone"),
    ("dio_read_fence", "true", "false", "17335dcc4711: EXT4_STATE_DIOREAD_LOCK fences unlocked direct reads"),
    (
        "dio_write_post_invalidate",
        "at_completion",
        "after_direct_io",
        "332391a9935d: direct writes invalidate again at completion",
    ),
    (
        "buffered_write_map",
        "iomap_revalidate",
        "iomap",
        "d7b64041164c / 304a68b9c63b: iomap rechecks its cached map after locking each folio",
    ),
    ("disksize_i_data_sem", "true", "false", "90e775b71ac4: truncate and writeback update i_disksize under i_data_sem"),
    (
        "update_disksize_before_punch",
        "true",
        "false",
        "011278485ecc: punch hole and zero range raise i_disksize to i_size before evicting the page cache",
    ),
    ("dax_break_layouts", "true", "false", "5fac7408d828 / 430657b6be89: truncate and punch wait for DAX pins"),
    (
        "delalloc_files_inode",
        "true",
        "false",
        "06bd3c36a733: delalloc writeback files the inode for the data=ordered commit",
    ),
    (
        "mkwrite_files_inode",
        "true",
        "false",
        "06bd3c36a733: page_mkwrite's allocation without delalloc files the inode for the data=ordered commit",
    ),
    (
        "pagecache_isize_extended",
        "write_protect",
        "none",
        "90a8020278c1: the page straddling the old EOF is write-protected when i_size grows (blocks smaller than a page)",
    ),
    (
        "fallocate_isize_extended",
        "true",
        "false",
        "c7fc0366c656: fallocate that grows i_size write-protects the page straddling the old EOF (blocks smaller than a page)",
    ),
    (
        "fallocate_truncate_pagecache",
        "true",
        "false",
        "xfs_setattr_size: fallocate that grows i_size zeroes the page past a new EOF inside it (truncate_setsize)",
    ),
    (
        "truncate_up_zero_eof",
        "ext4_block_truncate_page",
        "none",
        "Foster 2024-09-19: ext4 truncate up zeroes the old EOF block past an EOF inside it",
    ),
    (
        "truncate_flush_new_eof",
        "true",
        "false",
        "869ae85dae64: XFS truncate down writes back the new EOF page before iomap_truncate_page",
    ),
    (
        "iomap_zero_flush_unwritten",
        "true",
        "false",
        "c5c810b94cfd / 7d9b474ee4cc: iomap_zero_range writes back dirty page cache over an unwritten mapping first",
    ),
    (
        "dio_unaligned",
        "wait_before_and_after",
        "wait_before",
        "57a0da28ced8 / 2032a8a27b5c: an unaligned direct write waits for its own IO, the only one in flight",
    ),
    (
        "punch_hole_flush",
        "before_lock",
        "none",
        "ext4_punch_hole writes out the dirty range before evicting it (3.0+, \"Write out all dirty pages to avoid race conditions\")",
    ),
    (
        "zero_range_flush",
        "before_lock",
        "none",
        "ext4_zero_range 3.15-4.4 writes out the dirty range before evicting it (ea3d7209ca01 dropped it in 4.5)",
    ),
    (
        "punch_partial_page",
        "write_protect",
        "zero",
        "17207d0bb209: ext4 write-protects the pages straddling a punched range before truncating them (blocks smaller than a page)",
    ),
    (
        "writeback_size_sample",
        "after_clear_dirty",
        "before_clear_dirty",
        "Kara, \"ext4: fix data corruption for mmap writes\" (4.12): i_size sampled after clear_page_dirty_for_io",
    ),
    (
        "dio_extend_size",
        "in_end_io",
        "after_completion",
        "5899593f51e6: an extending direct write sets i_size in end_io, before the completion invalidates",
    ),
    // A filesystem's own value rather than a fix: ext4 writes back the dirty buffers of a page
    // only, where XFS writes every uptodate block.
    (
        "writeback_clean_buffers",
        "false",
        "true",
        "ext4_bio_write_page writes a page's dirty buffers only, not a clean one a direct write outdated",
    ),
    // Two fixed values of one field, each a filesystem's own (a policy has at most one of them).
    (
        "dio_write_past_eof",
        "truncate_failed_write",
        "written",
        "ext4_truncate_failed_write after a failed direct write past EOF (ext4_ind_direct_IO .. ext4_dio_write_iter)",
    ),
    (
        "dio_write_past_eof",
        "unwritten",
        "written",
        "xfs_iomap_write_direct: XFS_BMAPI_PREALLOC, direct-write blocks unwritten past EOF too",
    ),
];

fn field_value(policy: &Policy, field: &str) -> String {
    match field {
        "fault_recheck_i_size" => policy.fault_recheck_i_size.to_string(),
        "write_copy_may_fault" => policy.write_copy_may_fault.to_string(),
        "collapse_flush_outside_lock" => policy.collapse_flush_outside_lock.to_string(),
        "dax_zeroing" => policy.dax_zeroing.name().to_string(),
        "reclaim_skips_pinned" => policy.reclaim_skips_pinned.to_string(),
        "dio_read_fence" => policy.dio_read_fence.to_string(),
        "disksize_i_data_sem" => policy.disksize_i_data_sem.to_string(),
        "update_disksize_before_punch" => policy.update_disksize_before_punch.to_string(),
        "dax_break_layouts" => policy.dax_break_layouts.to_string(),
        "delalloc_files_inode" => policy.delalloc_files_inode.to_string(),
        "mkwrite_files_inode" => policy.mkwrite_files_inode.to_string(),
        "writeback_clean_buffers" => policy.writeback_clean_buffers.to_string(),
        "dio_extend_size" => policy.dio_extend_size.name().to_string(),
        "fallocate_isize_extended" => policy.fallocate_isize_extended.to_string(),
        "fallocate_truncate_pagecache" => policy.fallocate_truncate_pagecache.to_string(),
        "dio_write_post_invalidate" => match policy.dio_write_post_invalidate {
            DioWritePostInvalidate::None => "none".into(),
            DioWritePostInvalidate::AfterDirectIo => "after_direct_io".into(),
            DioWritePostInvalidate::AtCompletion => "at_completion".into(),
        },
        "buffered_write_map" => policy.buffered_write_map.name().to_string(),
        "pagecache_isize_extended" => policy.pagecache_isize_extended.name().to_string(),
        "dio_unaligned" => policy.dio_unaligned.name().to_string(),
        "punch_hole_flush" => policy.punch_hole_flush.name().to_string(),
        "zero_range_flush" => policy.zero_range_flush.name().to_string(),
        "writeback_size_sample" => policy.writeback_size_sample.name().to_string(),
        "punch_partial_page" => policy.punch_partial_page.name().to_string(),
        "truncate_up_zero_eof" => policy.truncate_up_zero_eof.name().to_string(),
        "truncate_flush_new_eof" => policy.truncate_flush_new_eof.to_string(),
        "iomap_zero_flush_unwritten" => policy.iomap_zero_flush_unwritten.to_string(),
        "dio_write_past_eof" => policy.dio_write_past_eof.name().to_string(),
        _ => unreachable!("a field of FIELD_MUTATIONS"),
    }
}

fn set_unfixed(policy: &mut Policy, field: &str) {
    match field {
        "fault_recheck_i_size" => policy.fault_recheck_i_size = false,
        "write_copy_may_fault" => policy.write_copy_may_fault = true,
        "collapse_flush_outside_lock" => policy.collapse_flush_outside_lock = true,
        "dax_zeroing" => policy.dax_zeroing = DaxZeroing::InsertMapping,
        "reclaim_skips_pinned" => policy.reclaim_skips_pinned = false,
        "dio_read_fence" => policy.dio_read_fence = false,
        "disksize_i_data_sem" => policy.disksize_i_data_sem = false,
        "update_disksize_before_punch" => policy.update_disksize_before_punch = false,
        "dax_break_layouts" => policy.dax_break_layouts = false,
        "delalloc_files_inode" => policy.delalloc_files_inode = false,
        "mkwrite_files_inode" => policy.mkwrite_files_inode = false,
        "writeback_clean_buffers" => policy.writeback_clean_buffers = true,
        "dio_extend_size" => policy.dio_extend_size = DioExtendSize::AfterCompletion,
        "fallocate_isize_extended" => policy.fallocate_isize_extended = false,
        "fallocate_truncate_pagecache" => policy.fallocate_truncate_pagecache = false,
        "dio_write_post_invalidate" => policy.dio_write_post_invalidate = DioWritePostInvalidate::AfterDirectIo,
        "buffered_write_map" => policy.buffered_write_map = BufferedWriteMap::Iomap,
        "pagecache_isize_extended" => policy.pagecache_isize_extended = IsizeExtended::None,
        "dio_unaligned" => policy.dio_unaligned = DioUnaligned::WaitBefore,
        "punch_hole_flush" => policy.punch_hole_flush = RangeFlush::None,
        "zero_range_flush" => policy.zero_range_flush = RangeFlush::None,
        "writeback_size_sample" => policy.writeback_size_sample = WritebackSizeSample::BeforeClearDirty,
        "punch_partial_page" => policy.punch_partial_page = PunchPartialPage::Zero,
        "truncate_up_zero_eof" => policy.truncate_up_zero_eof = TruncateUpZero::None,
        "truncate_flush_new_eof" => policy.truncate_flush_new_eof = false,
        "iomap_zero_flush_unwritten" => policy.iomap_zero_flush_unwritten = false,
        "dio_write_past_eof" => policy.dio_write_past_eof = DioWritePastEof::Written,
        _ => unreachable!("a field of FIELD_MUTATIONS"),
    }
}

/// A placement as mutants name it: `LOCK MODE RANGE in FUNCTION FROM..TO`.
pub fn placement_label(p: &Placement) -> String {
    format!(
        "{} {} {} in {} {}..{}",
        p.lock.name(),
        p.mode.name(),
        p.range.name(),
        p.func().name(),
        p.from.name(),
        p.to.name()
    )
}

/// The range one step below `range`, for the locks that look at ranges.
fn shrunk(lock: LockName, range: RangeSpec) -> Option<RangeSpec> {
    if !matches!(lock, LockName::RangeLock | LockName::DaxEntry) {
        return None;
    }
    match range {
        RangeSpec::File | RangeSpec::ToEof => Some(RangeSpec::Range),
        // In the model one bio covers the whole request: bio and range are the same pages.
        RangeSpec::Range | RangeSpec::Bio => Some(RangeSpec::Page),
        RangeSpec::Page => None,
    }
}

/// Two placements that are the same lock decision: one lock, taken in one mode over one range
/// in one function (the points may differ, as XFS takes `MMAPLOCK` at `start` where ext4 takes
/// `i_mmap_sem` at `invalidate`).
fn same_decision(a: &Placement, b: &Placement) -> bool {
    (a.lock, a.mode, a.range, a.func()) == (b.lock, b.mode, b.range, b.func())
}

/// How many lock decisions and fix fields two policies differ in.
fn distance(a: &Policy, b: &Policy) -> usize {
    let only = |x: &Policy, y: &Policy| x.lock.iter().filter(|p| !y.lock.iter().any(|q| same_decision(p, q))).count();
    // Each field once, though it may have several fixed values.
    let mut names: Vec<&str> = FIELD_MUTATIONS.iter().map(|f| f.0).collect();
    names.sort_unstable();
    names.dedup();
    let fields = names.iter().filter(|f| field_value(a, f) != field_value(b, f)).count();
    only(a, b) + only(b, a) + fields
}

/// The primary built-in (legacy, mmaplock, range_lock, invalidate_lock) a derived policy is
/// closest to: fewest differing lock decisions and fix fields, the first in that order on a tie.
pub fn closest_primary(policy: &Policy) -> (&'static str, Policy) {
    racesim_kernel::policy::BUILTIN_POLICIES
        .iter()
        .map(|name| (*name, racesim_scenario::policy_file::builtin(name).expect("a built-in has a file")))
        .min_by_key(|(_, base)| distance(policy, base))
        .expect("there are built-ins")
}

/// The built-in a scenario variant is derived from: the closest of every built-in, primaries
/// first on a tie, so that a variant of an XFS built-in (`iomap_stale_map_writeback`'s
/// `xfs_6_2`, XFS 6.2 as `xfs-5.3` with that series' fixes) is mutated only where it differs from that
/// built-in, whose own mutants run on the built-in's scenarios.
pub fn closest_builtin(policy: &Policy) -> (&'static str, Policy) {
    racesim_kernel::policy::ALL_BUILTINS
        .iter()
        .map(|name| (*name, racesim_scenario::policy_file::builtin(name).expect("a built-in has a file")))
        .min_by_key(|(_, base)| distance(policy, base))
        .expect("there are built-ins")
}

/// Whether `subject` is one of the four primary built-ins, whose every lock decision is
/// mutated; any other policy (the XFS built-ins, a scenario's variant) is derived from one of
/// them and only what it adds is mutated ([`generate`]).
pub fn is_primary(subject: &str) -> bool {
    racesim_kernel::policy::BUILTIN_POLICIES.contains(&subject)
}

/// One change to a policy.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Remove the placement that is this lock decision.
    Remove(Placement),
    /// Take it shared.
    Weaken(Placement),
    /// Take it over a smaller range.
    Shrink(Placement, RangeSpec),
    /// Set a fix field back to its unfixed value.
    Unfix(&'static str),
}

impl Mutation {
    /// How reports and the survivors list name it.
    pub fn label(&self) -> String {
        match self {
            Mutation::Remove(p) => format!("remove {}", placement_label(p)),
            Mutation::Weaken(p) => format!("weaken {} to shared", placement_label(p)),
            Mutation::Shrink(p, to) => format!("shrink {} to {}", placement_label(p), to.name()),
            Mutation::Unfix(field) => {
                let unfixed = FIELD_MUTATIONS.iter().find(|f| f.0 == *field).map_or("", |f| f.2);
                format!("set {field} = {unfixed}")
            }
        }
    }

    /// The change made to `policy`: `None` when it does not have the decision (or the fix)
    /// the change is about, or the loader refuses the result (`Some(Err)`).
    pub fn apply(&self, policy: &Policy) -> Option<Result<Policy, String>> {
        let mut mutated = policy.clone();
        match self {
            Mutation::Remove(p) | Mutation::Weaken(p) | Mutation::Shrink(p, _) => {
                let i = policy.lock.iter().position(|q| same_decision(p, q))?;
                match self {
                    Mutation::Remove(_) => {
                        mutated.lock.remove(i);
                    }
                    Mutation::Weaken(_) => mutated.lock[i].mode = Mode::Shared,
                    Mutation::Shrink(_, to) => mutated.lock[i].range = *to,
                    Mutation::Unfix(_) => unreachable!(),
                }
            }
            Mutation::Unfix(field) => {
                // Any of the field's fixed values (one entry per value).
                FIELD_MUTATIONS.iter().find(|f| f.0 == *field && field_value(policy, field) == f.1)?;
                set_unfixed(&mut mutated, field);
            }
        }
        // Through the loader, as a user's policy file: what it refuses is not a policy.
        let text = racesim_scenario::policy_file::to_toml(&mutated);
        Some(
            racesim_scenario::policy_file::parse(&text, &format!("mutant of {}", policy.name))
                .map_err(|e| e.message.clone()),
        )
    }
}

/// Every mutation of `policy`, in a fixed order: per placement (in the policy's order) its
/// removal, weakening and shrinking, then the fields. With a `base`, only placements that are
/// not lock decisions of the base, and fix fields the base does not have.
pub fn mutations_of(policy: &Policy, base: Option<&Policy>) -> Vec<Mutation> {
    let mut out = Vec::new();
    for p in &policy.lock {
        if base.is_some_and(|b| b.lock.iter().any(|q| same_decision(p, q))) {
            continue;
        }
        out.push(Mutation::Remove(p.clone()));
        if p.mode == Mode::Exclusive {
            out.push(Mutation::Weaken(p.clone()));
        }
        if let Some(smaller) = shrunk(p.lock, p.range) {
            out.push(Mutation::Shrink(p.clone(), smaller));
        }
    }
    for (field, fixed, _, _) in FIELD_MUTATIONS {
        if field_value(policy, field) == fixed && base.is_none_or(|b| field_value(b, field) != fixed) {
            out.push(Mutation::Unfix(field));
        }
    }
    out
}

/// The subjects of the scenarios in `paths`: every policy some scenario expects clean, with
/// those scenarios. Built-ins first (in [`racesim_kernel::policy::ALL_BUILTINS`] order), then
/// variants by id. Scenario files that do not load are the regression suite's to report.
pub fn subjects(paths: &[std::path::PathBuf]) -> Vec<Subject> {
    let cases: Vec<Case> = crate::discover(paths);
    let mut builtins: Vec<Subject> = Vec::new();
    let mut variants: Vec<Subject> = Vec::new();
    for case in &cases {
        let CaseKind::Expectation { scenario, policy, expect } = &case.kind else { continue };
        if *expect != Expect::Clean {
            continue;
        }
        let target = Target { file: case.file.clone(), scenario: scenario.clone() };
        let (list, id, resolved) = match scenario.variants.iter().find(|v| v.name == *policy) {
            Some(v) => (&mut variants, format!("{}/{}", scenario.name, policy), v.clone()),
            None => match racesim_scenario::policy_file::builtin(policy) {
                Some(p) => (&mut builtins, p.name.clone(), p),
                None => continue,
            },
        };
        match list.iter_mut().find(|s| s.id == id) {
            Some(subject) => subject.targets.push(target),
            None => list.push(Subject { id, policy: resolved, targets: vec![target] }),
        }
    }
    let order = |id: &str| racesim_kernel::policy::ALL_BUILTINS.iter().position(|b| *b == id).unwrap_or(usize::MAX);
    builtins.sort_by_key(|s| order(&s.id));
    variants.sort_by(|a, b| a.id.cmp(&b.id));
    builtins.extend(variants);
    builtins
}

/// Whether `--policy NAME` selects `subject`: its id, or a variant's own name.
pub fn selects(names: &[String], subject: &Subject) -> bool {
    names.is_empty()
        || names.iter().any(|n| {
            *n == subject.id
                || racesim_kernel::policy::resolve_builtin(n) == Some(subject.id.as_str())
                || subject.id.rsplit_once('/').is_some_and(|(_, v)| v == n)
        })
}

/// How mutants are run.
#[derive(Clone, Debug)]
pub struct MutantSettings {
    pub seed: u64,
    /// Schedules per target in the sampled pass.
    pub schedules: u64,
    /// Preemption bound of the exhaustive pass (`None`: no exhaustive pass).
    pub preemption_bound: Option<usize>,
    /// Executions an exhaustive target may take before it counts as undecided.
    pub executions_max: u64,
    /// Mutants (by id) that get the sampled pass only (`cargo test` spares the listed
    /// survivors the exhaustive pass, which `racesim mutants` runs).
    pub sampled_only: Vec<String>,
    /// Set by the caller to stop early (the CLI sets it on Ctrl-C): no mutant starts once it
    /// is set, a running one stops at its next schedule boundary, and [`run_mutants`] returns
    /// only the mutants that finished before it was set (one cut short is no result).
    pub stop: Option<Arc<AtomicBool>>,
}

impl MutantSettings {
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }
}

impl Default for MutantSettings {
    fn default() -> Self {
        MutantSettings {
            seed: 1,
            schedules: 1_000,
            preemption_bound: Some(2),
            executions_max: 200_000,
            sampled_only: Vec::new(),
            stop: None,
        }
    }
}

/// What became of a mutant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The loader refused the mutant's policy.
    Refused { error: String },
    /// A target reported a violation.
    Killed {
        /// The scenario file that killed it.
        scenario: String,
        /// The oracle that fired.
        oracle: String,
        /// `sampled` or `exhaustive:B`.
        pass: String,
        schedule: u64,
    },
    /// No target noticed. `undecided` lists the targets whose exhaustive pass was cut short.
    Survived { undecided: Vec<String> },
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Refused { .. } => "refused",
            Outcome::Killed { .. } => "killed",
            Outcome::Survived { .. } => "survived",
        }
    }
}

/// A mutant and what became of it.
#[derive(Clone, Debug)]
pub struct MutantResult {
    pub subject: String,
    pub mutation: String,
    pub outcome: Outcome,
    /// Scenario runs it took.
    pub runs: u64,
}

impl MutantResult {
    pub fn id(&self) -> String {
        format!("{}: {}", self.subject, self.mutation)
    }
}

/// Runs one mutant against its subject's targets: the sampled pass over all, then the
/// exhaustive pass over all.
pub fn run_mutant(mutant: &Mutant, settings: &MutantSettings) -> MutantResult {
    let done = |outcome, runs| MutantResult {
        subject: mutant.subject.clone(),
        mutation: mutant.mutation.clone(),
        outcome,
        runs,
    };
    if let Err(error) = &mutant.policy {
        return done(Outcome::Refused { error: error.clone() }, 0);
    }
    let mut runs = 0;
    let mut passes: Vec<(String, Option<StrategyKind>, u64)> = vec![("sampled".into(), None, settings.schedules)];
    if let Some(bound) = settings.preemption_bound
        && !settings.sampled_only.contains(&mutant.id())
    {
        passes.push((
            format!("exhaustive:{bound}"),
            Some(StrategyKind::Exhaustive { preemption_bound: Some(bound) }),
            settings.executions_max,
        ));
    }
    let mut undecided = Vec::new();
    for (pass, strategy, budget) in passes {
        for (target, policy) in &mutant.runs {
            let strategy = strategy.unwrap_or_else(|| target.scenario.strategy_or(None));
            let config = ExploreConfig::new(strategy, settings.seed, budget);
            let stop = settings.stop.clone();
            let go_on =
                Box::new(move |_: &racesim_explore::Progress| stop.as_ref().is_none_or(|s| !s.load(Ordering::SeqCst)));
            let report = racesim_explore::explore(&target.scenario, policy.as_ref(), &config, go_on);
            runs += 1;
            if let Some(finding) = &report.finding {
                let killed = Outcome::Killed {
                    scenario: target.file.clone(),
                    oracle: finding.violation.oracle.name().to_string(),
                    pass,
                    schedule: finding.schedule,
                };
                return done(killed, runs);
            }
            if strategy.is_exhaustive()
                && let Some(coverage) = report.coverage()
                && !matches!(
                    coverage,
                    racesim_explore::exhaustive::Coverage::Verified
                        | racesim_explore::exhaustive::Coverage::VerifiedWithin(_)
                )
            {
                undecided.push(format!("{} ({coverage})", target.file));
            }
        }
    }
    done(Outcome::Survived { undecided }, runs)
}

/// Every mutant of the `selected` subjects among `all`, in report order (subjects in the
/// order given, mutations in [`mutations_of`] order).
///
/// A primary built-in's mutations are every change to it, run against its clean scenarios and
/// against those of the policies derived from it that share the decision (a variant's scenario
/// is often the only one exercising a decision of its base, e.g. collapse's range lock to EOF
/// under `range_lock_mkwrite`). A derived policy's own mutations are the changes to what it
/// adds to its closest primary built-in, run against its own clean scenarios: the decisions it
/// shares are mutated with the built-in.
pub fn generate(all: &[Subject], selected: &[Subject]) -> Vec<Mutant> {
    let derived: Vec<(&Subject, &'static str)> =
        all.iter().filter(|s| !is_primary(&s.id)).map(|s| (s, closest_primary(&s.policy).0)).collect();
    let mut out = Vec::new();
    for subject in selected {
        // A built-in is derived from a primary; a variant (`SCENARIO/VARIANT`) from any built-in.
        let base = match (is_primary(&subject.id), subject.id.contains('/')) {
            (true, _) => None,
            (false, false) => Some(closest_primary(&subject.policy).1),
            (false, true) => Some(closest_builtin(&subject.policy).1),
        };
        for mutation in mutations_of(&subject.policy, base.as_ref()) {
            let policy = mutation.apply(&subject.policy).expect("a mutation of the policy applies to it");
            let mut runs = Vec::new();
            if let Ok(p) = &policy {
                let p = Arc::new(p.clone());
                runs.extend(subject.targets.iter().map(|t| (t.clone(), p.clone())));
                if is_primary(&subject.id) {
                    for (d, _) in derived.iter().filter(|(_, primary)| *primary == subject.id) {
                        if let Some(Ok(dp)) = mutation.apply(&d.policy) {
                            let dp = Arc::new(dp);
                            runs.extend(d.targets.iter().map(|t| (t.clone(), dp.clone())));
                        }
                    }
                }
            }
            out.push(Mutant { subject: subject.id.clone(), mutation: mutation.label(), policy, runs });
        }
    }
    out
}

/// Runs `mutants` on `jobs` worker threads; results in the order given, identical for any
/// number of jobs. `progress` hears (done, total) after each mutant. When
/// [`MutantSettings::stop`] is set midway, only the mutants finished before it are returned.
pub fn run_mutants(
    mutants: &[Mutant],
    settings: &MutantSettings,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<MutantResult> {
    let results: Mutex<Vec<Option<MutantResult>>> = Mutex::new(vec![None; mutants.len()]);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let worker = || {
        loop {
            if settings.stopped() {
                break;
            }
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(mutant) = mutants.get(index) else { break };
            let result = run_mutant(mutant, settings);
            if settings.stopped() {
                // Its runs may have been cut short: a survivor here would be no result.
                break;
            }
            results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(result);
            progress(done.fetch_add(1, Ordering::SeqCst) + 1, mutants.len());
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(worker);
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    if !settings.stopped() {
        debug_assert!(results.iter().all(Option::is_some), "every mutant ran");
    }
    results.into_iter().flatten().collect()
}

/// One expected survivor, as `tests/mutants.toml` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survivor {
    /// The subject: a built-in's name or `SCENARIO/VARIANT`.
    pub policy: String,
    /// The mutation, as reports print it.
    pub mutant: String,
    /// `redundant` (the change opens no race, and `reason` says why), `needs_scenario` (it
    /// opens one that no shipped scenario exercises yet; `reason` says which would) or
    /// `out_of_model` (it opens one that no oracle of the model can judge; `reason` says why).
    pub kind: SurvivorKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurvivorKind {
    Redundant,
    NeedsScenario,
    /// It opens a race in Linux that the model has no oracle for.
    OutOfModel,
}

impl SurvivorKind {
    pub fn name(self) -> &'static str {
        match self {
            SurvivorKind::Redundant => "redundant",
            SurvivorKind::NeedsScenario => "needs scenario",
            SurvivorKind::OutOfModel => "out of model",
        }
    }
}

impl Survivor {
    pub fn id(&self) -> String {
        format!("{}: {}", self.policy, self.mutant)
    }
}

/// The expected survivors file.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survivors {
    #[serde(default)]
    pub survivor: Vec<Survivor>,
}

impl Survivors {
    pub fn load(path: &Path) -> Result<Survivors, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let list: Survivors = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        let mut ids: Vec<String> = list.survivor.iter().map(Survivor::id).collect();
        ids.sort();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("{}: survivor '{}' is listed twice", path.display(), w[0]));
        }
        Ok(list)
    }

    pub fn find(&self, id: &str) -> Option<&Survivor> {
        self.survivor.iter().find(|s| s.id() == id)
    }
}

/// Where a run and the survivors list disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Survivors the list does not name: a scenario is missing, or a reason.
    pub unexpected_survivors: Vec<String>,
    /// Listed survivors that a scenario now kills (take them off the list).
    pub listed_but_killed: Vec<String>,
    /// Listed survivors that were not generated this time (renamed or gone), among the subjects
    /// that ran.
    pub listed_but_absent: Vec<String>,
}

impl Judgement {
    pub fn holds(&self) -> bool {
        self.unexpected_survivors.is_empty() && self.listed_but_killed.is_empty() && self.listed_but_absent.is_empty()
    }
}

/// Compares `results` with the list, for the subjects in `subjects_run` (a run of some subjects
/// or a subset of mutants says nothing about the others): `all_mutants_ran` says whether every
/// mutant of those subjects ran (a listed survivor missing is then a stale entry).
pub fn judge(results: &[MutantResult], list: &Survivors, subjects_run: &[String], all_mutants_ran: bool) -> Judgement {
    let mut j = Judgement::default();
    for r in results {
        let listed = list.find(&r.id());
        match (&r.outcome, listed) {
            (Outcome::Survived { .. }, None) => j.unexpected_survivors.push(r.id()),
            (Outcome::Killed { .. } | Outcome::Refused { .. }, Some(_)) => j.listed_but_killed.push(r.id()),
            _ => {}
        }
    }
    if all_mutants_ran {
        for s in &list.survivor {
            if subjects_run.contains(&s.policy) && !results.iter().any(|r| r.id() == s.id()) {
                j.listed_but_absent.push(s.id());
            }
        }
    }
    j
}
