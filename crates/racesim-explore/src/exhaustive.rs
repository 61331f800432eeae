//! Complete exploration: every distinct interleaving of the actors' steps, reduced by dynamic
//! partial-order reduction (source sets and sleep sets, Abdulla, Aronis, Jonsson and Sagonas,
//! POPL 2014); or every interleaving with at most `B` preemptions, reduced by bounded
//! partial-order reduction (Coons, Musuvathi and McKinley, OOPSLA 2013); or, without reduction,
//! every interleaving (within a bound or not: iterative context bounding, Musuvathi and Qadeer,
//! PLDI 2007), which the reduced searches are tested against and the minimizer uses.
//!
//! The search is stateless: each execution re-runs the scenario from its initial kernel,
//! following the choices of the previous execution down to a node with an alternative left,
//! then takes that alternative and continues with fresh choices. One shuttle `Runner` runs all
//! executions (the strategy keeps returning them). A violating execution runs to its end (its
//! races matter) unless the run stops at it; an execution found redundant (sleep-set blocked,
//! or a finished configuration under a bound) runs its rest unjudged, without the strategy
//! ([`crate::scheduler`]): stopping it would mean unwinding its actors' stacks, which costs more.
//!
//! A *step* is what one actor does between two scheduling points (one kernel step, or nothing
//! at an actor's start); its footprint is the objects its events name plus what the oracles
//! read when judging them ([`racesim_oracles::judge_accesses`]). The main task (spawning and
//! joining the actors, then the final sync) touches nothing the actors touch and always runs
//! first when it can. Why the reduction is sound for racesim's semantics: docs/exhaustive.md.

use racesim_kernel::Kernel;
use racesim_kernel::event::{Access, Change, Event, Object};
use racesim_kernel::lock::LockClass;
use racesim_oracles::OpInfo;
use shuttle_engine::scheduler::TaskId;
use std::rc::Rc;

/// How complete the search is meant to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Dynamic partial-order reduction: one execution per class of equivalent interleavings
    /// (sometimes a few), every reachable end state and verdict.
    Dpor,
    /// Bounded partial-order reduction (Coons, Musuvathi and McKinley, OOPSLA 2013): at least
    /// one execution of every class of equivalent interleavings that has a member with at most
    /// `bound` preemptions, every explored execution within the bound.
    Bpor { bound: usize },
    /// Every interleaving with at most `bound` preemptions (`None`: every interleaving), no
    /// reduction: the oracle the reduced modes are tested against, and the minimizer's search
    /// (it wants the shortest schedule, which a reduced search need not run).
    Naive { bound: Option<usize> },
}

impl Mode {
    /// The preemption bound of the search, if any.
    pub fn bound(self) -> Option<usize> {
        match self {
            Mode::Dpor => None,
            Mode::Bpor { bound } => Some(bound),
            Mode::Naive { bound } => bound,
        }
    }
}

/// What the search did, for verdicts and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Executions run, redundant and foreign ones included.
    pub executions: u64,
    /// Executions the sleep sets (or, under a bound, a finished subtree) showed equivalent to
    /// one explored before (stopped being analysed at that point; their rest runs unjudged).
    pub redundant: u64,

    /// Executions whose subtree belongs to another shard (the first execution of each such
    /// subtree, which every shard runs and analyses alike to learn the shared top of the tree).
    pub foreign: u64,
    /// Every execution the mode asks for was explored.
    pub complete: bool,
    /// Distinct Mazurkiewicz traces among the explored executions, when counted.
    pub distinct_traces: Option<u64>,
    /// The preemption bound of the search, if any.
    pub preemption_bound: Option<usize>,
    /// Shard of the search tree this covered, if sharded.
    pub shard: Option<Shard>,
}

/// What a clean exhaustive run showed, and no more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every distinct interleaving explored.
    Verified,
    /// Every interleaving with at most this many preemptions explored.
    VerifiedWithin(usize),
    /// A budget (schedules, time) or the step bound stopped the search after this many
    /// executions.
    Incomplete(u64),
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Coverage::Verified => write!(f, "verified"),
            Coverage::VerifiedWithin(b) => {
                write!(f, "verified within {b} preemption{}", if *b == 1 { "" } else { "s" })
            }
            Coverage::Incomplete(n) => write!(f, "incomplete after {n} executions"),
        }
    }
}

impl Summary {
    /// The coverage claim; `cut` says whether any execution was cut at the step bound.
    pub fn coverage(&self, cut: bool) -> Coverage {
        match (self.complete && !cut, self.preemption_bound) {
            (true, None) => Coverage::Verified,
            (true, Some(b)) => Coverage::VerifiedWithin(b),
            (false, _) => Coverage::Incomplete(self.executions),
        }
    }
}

/// Where this search sits in a sharded one: shard `index` of `count` (0-based). Every shard
/// explores the top of the reduced tree alike, down to a frontier (a deviation from a node's
/// first choice deep enough in its execution, [`DPOR_FRONTIER`]), and the first execution of
/// every subtree below it; the subtrees are dealt out by a hash of the deviations above them;
/// an alternative above the frontier that only a race in a subtree's later executions calls
/// for is explored by the shard that found it (docs/exhaustive.md, "Sharding").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

struct Node {
    /// Actors (task ids) that could run here, ascending.
    enabled: Vec<u32>,
    /// The actor that ran the step before, if it could go on (switching away is a preemption).
    current: Option<u32>,
    chosen: u32,
    /// The chosen step's footprint (sorted by object, one access per object) and its
    /// [`signature`]s (every object, the written ones).
    footprint: Vec<Access>,
    touches: u64,
    writes: u64,
    /// When the step takes a lock its actor slept on: the node of the step that woke it (after
    /// which the actor could run again).
    woken_by: Option<u32>,
    /// Actors to explore from here (those explored included).
    backtrack: Vec<u32>,
    /// Actors not to run from here, with the footprint of their next step: the sleep set
    /// inherited from the parent (unbounded DPOR only), plus the alternatives explored here
    /// already.
    sleep: Vec<(u32, Rc<[Access]>)>,
    /// Preemptions before this node.
    preemptions: usize,
    /// The first choice made here (taking another is a deviation, see [`Shard`]).
    first: u32,
    /// Sharded search only, at nodes above the frontier: alternatives this shard found needed
    /// by races below the frontier (its *local* layer), which it explores itself with their
    /// whole subtrees; and those explored already. They never join a sleep set.
    local: Vec<u32>,
    local_done: Vec<u32>,
    /// The current choice is a local one.
    chosen_local: bool,
    /// Vector clock of the step (happens-before), filled by the race analysis: per actor, how
    /// many of its steps happen before this one or are it.
    clock: Vec<u32>,
    /// The earlier steps this one races with, ascending (filled with the clock).
    races: Vec<u32>,
    /// Key of the trace of the steps up to this one (a sum of per-step keys, so equivalent
    /// interleavings have the same), and the actors that ran up to here (a bit per task id,
    /// all set beyond 64).
    key: u128,
    seen: u64,
    /// Bounded POR: the node's configuration ([`Exhaustive::configuration`]), and where its
    /// subtree's requests begin in the request log.
    config: u128,
    log_start: usize,
    /// The state later steps' analysis depends on, after this step: how many fences were armed
    /// ([`Exhaustive::armed`] is a prefix of this length), and which lock each actor waits on.
    /// A replayed step is not looked at again; the first new step of an execution starts from
    /// the state after the step before it.
    armed_after: usize,
    waiting_after: Vec<Option<LockClass>>,
}

/// Bounded POR: a backtracking request made by a race reversal (rule 2 or 3 of
/// docs/exhaustive.md): actor `q` at node `target`, for the race whose earlier step is at node
/// `i` and later step at node `j` (a request replayed from the cache: `j` is the node where it
/// was replayed, `i` too for an [`Escape::EntryBlock`]).
#[derive(Clone, Copy)]
struct Request {
    target: usize,
    i: usize,
    j: usize,
    block: bool,
    q: u32,
}

/// A request that left a finished subtree, in terms that hold at any node with the same
/// configuration: a step is named by its actor and its place in the actor's order (the same
/// step in every equivalent prefix).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Escape {
    /// `q` at the node of that step.
    At { actor: u32, index: u32, q: u32 },
    /// `q` where the block of the actor that ran before that step began.
    BlockOf { actor: u32, index: u32, q: u32 },
    /// `q` where the block that runs into the subtree's root began.
    EntryBlock { q: u32 },
}

/// Finished subtrees remembered by bounded POR at most; when full, it forgets them all and
/// starts again. A cache of this size stays within about 20 MB however long the search
/// (measured in docs/exhaustive.md).
const CACHE_MAX: usize = 1 << 17;

impl Node {
    fn empty() -> Self {
        Node {
            enabled: Vec::new(),
            current: None,
            chosen: 0,
            footprint: Vec::new(),
            touches: 0,
            writes: 0,
            woken_by: None,
            backtrack: Vec::new(),
            sleep: Vec::new(),
            preemptions: 0,
            first: 0,
            local: Vec::new(),
            local_done: Vec::new(),
            chosen_local: false,
            clock: Vec::new(),
            races: Vec::new(),
            key: 0,
            seen: 0,
            config: 0,
            log_start: 0,
            armed_after: 0,
            waiting_after: Vec::new(),
        }
    }

    /// Forgets the step (keeping the vectors' memory for the next node that takes this one's
    /// place: a search allocates nothing per execution once its deepest path has been seen).
    fn clear(&mut self) {
        self.enabled.clear();
        self.footprint.clear();
        self.touches = 0;
        self.writes = 0;
        self.woken_by = None;
        self.backtrack.clear();
        self.sleep.clear();
        self.local.clear();
        self.local_done.clear();
        self.chosen_local = false;
        self.clock.clear();
        self.races.clear();
        self.key = 0;
        self.seen = 0;
    }

    /// Whether this step's footprint conflicts with `other`'s: the signatures rule most
    /// pairs out without looking at the objects.
    fn conflicts_with(&self, other: &Node) -> bool {
        (self.writes & other.touches) | (self.touches & other.writes) != 0
            && conflict(&self.footprint, &other.footprint)
    }
}

/// A 64-bit signature of an object: two objects that may overlap ([`Object::overlaps`]) share
/// a bit, so two footprints whose signatures (written objects' against every object's) share
/// none cannot conflict. Objects that overlap only themselves get a bit by hash; ranges of a
/// file a bit by file (ranges of one file may overlap); page frames one of eight bits that
/// `CachedPages` covers whole (it overlaps every frame); PTE ranges one of eight bits by file
/// that `AllPtes` covers whole; `Anything` every bit.
fn signature(object: Object) -> u64 {
    const PAGES: u64 = 0xff << 48;
    const PTES: u64 = 0xff << 56;
    let general = |key: u64| 1u64 << ((key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) % 48);
    let by_file = |tag: u64, ino: u16| general(tag << 16 | u64::from(ino));
    match object {
        Object::Anything => u64::MAX,
        Object::Page(p) => 1u64 << (48 + p % 8),
        Object::CachedPages(ino, range) => PAGES | general(hash_object(Object::CachedPages(ino, range))),
        Object::Ptes(ino, _) => 1u64 << (56 + u32::from(ino) % 8),
        Object::AllPtes => PTES,
        Object::CacheSlots(ino, _) => by_file(1, ino),
        Object::Extents(ino, _) => by_file(2, ino),
        Object::ItemEnds(ino, _) => by_file(3, ino),
        other => general(hash_object(other)),
    }
}

/// A deterministic hash of an object (its `Hash` feed folded a word at a time: only the
/// signatures use it, which need no more than a spread of bits).
fn hash_object(object: Object) -> u64 {
    struct Fold(u64);
    impl Fold {
        fn mix(&mut self, x: u64) {
            self.0 = (self.0 ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        }
    }
    impl std::hash::Hasher for Fold {
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.mix(u64::from(*b));
            }
        }
        fn write_u8(&mut self, x: u8) {
            self.mix(u64::from(x));
        }
        fn write_u16(&mut self, x: u16) {
            self.mix(u64::from(x));
        }
        fn write_u32(&mut self, x: u32) {
            self.mix(u64::from(x));
        }
        fn write_u64(&mut self, x: u64) {
            self.mix(x);
        }
        fn write_usize(&mut self, x: usize) {
            self.mix(x as u64);
        }
        fn write_isize(&mut self, x: isize) {
            self.mix(x as u64);
        }
        fn finish(&self) -> u64 {
            self.0
        }
    }
    let mut h = Fold(PREFIX_HASH_SEED);
    std::hash::Hash::hash(&object, &mut h);
    std::hash::Hasher::finish(&h)
}

/// The exhaustive strategy (see the module doc).
pub struct Exhaustive {
    mode: Mode,
    ops: Vec<OpInfo>,
    shard: Option<Shard>,
    /// Boxed: a node is a few hundred bytes, and nodes move (pushed, popped, kept spare) as
    /// often as executions branch.
    #[allow(clippy::vec_box)]
    nodes: Vec<Box<Node>>,
    /// Popped nodes, kept for their vectors' memory.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Node>>,
    /// Nodes replayed from the previous execution (the last of them takes a new choice).
    replay_len: usize,
    /// Next node index in this execution.
    depth: usize,
    /// Node whose step is running (its events follow `last_pos` in the log).
    pending: Option<usize>,
    last_pos: usize,
    /// Per actor: the lock class it went to sleep on.
    waiting: Vec<Option<LockClass>>,
    /// Files whose truncate or collapse has ended in this execution (the judge's PTE check
    /// on installation is armed), in the order they were armed: the entries of the steps a new
    /// execution replays are a prefix of the last execution's.
    armed: Vec<racesim_kernel::types::Ino>,
    /// This execution's `armed` and `waiting` have been brought to the state before its first
    /// new step.
    restored: bool,
    /// This execution stopped being analysed: sleep-set blocked, or equivalent to a finished
    /// subtree.
    blocked: bool,
    /// This execution's subtree is another shard's (it is the subtree's first execution).
    foreign: bool,
    /// This execution deviated below its frontier (it is not its subtree's first execution).
    beyond_first: bool,
    /// Deviations so far in this execution, and a hash of where they were and what they chose.
    deviations_seen: usize,
    prefix_hash: u64,
    /// Sharded: the depth from which a deviation crosses the frontier (set by the first
    /// execution, see [`DPOR_FRONTIER`]).
    deal_depth: usize,
    /// Node where this execution crossed the frontier (its last node above it).
    frontier: Option<usize>,
    /// First node of this execution whose choice is a local one (`usize::MAX`: none).
    local_from: usize,
    exhausted: bool,
    pub summary: Summary,
    last_trace: Option<u64>,
    /// Fingerprints of the explored traces, when counting them.
    traces: Option<std::collections::BTreeSet<u64>>,
    scratch: Vec<Access>,
    /// The race analysis's scratch: per actor, its first step in a reversal; the reversal's
    /// initials.
    first_in_v: Vec<usize>,
    initials: Vec<u32>,
    /// Task ids are below this (main and the actors).
    width: usize,
    /// Bounded POR, unsharded: the requests of the subtrees on the current path, and the
    /// requests that left each finished subtree, by configuration, with the fewest preemptions
    /// before a subtree of that configuration that finished (docs/exhaustive.md, "Finished
    /// subtrees": one with more preemptions explores no more).
    requests: Vec<Request>,
    finished: std::collections::BTreeMap<u128, (usize, Rc<[Escape]>)>,
}

/// Where a sharded search deals subtrees out (the frontier), as (deviations, eighths): at the
/// first deviation from a node's first choice that is at least the `deviations`-th of its
/// execution and at least `eighths` eighths of the first execution's length deep (and past the
/// first node, whose alternatives are too few subtrees). Unbounded DPOR's executions
/// deviate often and its subtrees are the larger the shallower they start: three deviations,
/// three eighths deep leave many subtrees, none of them large (two deviations left 101 on
/// readahead_mkwrite_punch, one of them 42% of the search). Under a preemption bound
/// executions deviate rarely: deeper, most would stay above the frontier, which every shard
/// runs. Measured in docs/exhaustive.md ("Sharding").
const DPOR_FRONTIER: (usize, usize) = (3, 3);
const BOUNDED_FRONTIER: (usize, usize) = (1, 0);
const PREFIX_HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// A node's configuration (see [`Exhaustive::configuration`]) from the trace key and actor of
/// the step before it, if any.
fn configuration(parent: Option<(u128, u32)>, current: Option<u32>) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (parent, current).hash(&mut h);
    parent.map_or(0, |p| p.0) ^ u128::from(h.finish())
}

/// The key of one step in a trace: its actor, its clock and its footprint, hashed twice
/// (128 bits).
fn step_key(actor: u32, clock: &[u32], footprint: &[Access]) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u64| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        actor.hash(&mut h);
        clock.hash(&mut h);
        footprint.hash(&mut h);
        h.finish()
    };
    u128::from(half(1)) << 64 | u128::from(half(2))
}

fn conflict(a: &[Access], b: &[Access]) -> bool {
    a.iter().any(|x| b.iter().any(|y| (x.write || y.write) && x.object.overlaps(y.object)))
}

impl Exhaustive {
    pub fn new(mode: Mode, ops: Vec<OpInfo>, shard: Option<Shard>, count_traces: bool) -> Self {
        Exhaustive {
            mode,
            shard: shard.filter(|s| s.count > 1),
            nodes: Vec::new(),
            spare: Vec::new(),
            replay_len: 0,
            depth: 0,
            pending: None,
            last_pos: 0,
            waiting: Vec::new(),
            armed: Vec::new(),
            restored: false,
            blocked: false,
            foreign: false,
            beyond_first: false,
            deviations_seen: 0,
            prefix_hash: PREFIX_HASH_SEED,
            deal_depth: usize::MAX,
            frontier: None,
            local_from: usize::MAX,
            exhausted: false,
            traces: count_traces.then(Default::default),
            last_trace: None,
            summary: Summary {
                preemption_bound: mode.bound(),
                shard: shard.filter(|s| s.count > 1),
                ..Summary::default()
            },
            scratch: Vec::new(),
            first_in_v: Vec::new(),
            initials: Vec::new(),
            requests: Vec::new(),
            finished: std::collections::BTreeMap::new(),
            width: ops.iter().map(|o| o.actor as usize + 2).max().unwrap_or(1),
            ops,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// The trace fingerprint of the last execution, when counting traces and it was analysed
    /// to its end (development aid: examples/trace_probe.rs).
    pub fn last_trace(&self) -> Option<u64> {
        self.last_trace
    }

    fn reduce(&self) -> bool {
        matches!(self.mode, Mode::Dpor | Mode::Bpor { .. })
    }

    /// Bounded POR remembers finished subtrees (sharded, only those this shard explores alone:
    /// see [`Exhaustive::own_subtree`]).
    fn caching(&self) -> bool {
        matches!(self.mode, Mode::Bpor { .. })
    }

    /// Whether the subtree of node `m` of the current path is this shard's alone and explored
    /// whole by it, as the unsharded search would: below the frontier of a subtree dealt to
    /// it, or below a local choice. Only such subtrees are remembered when finished. Always
    /// true unsharded.
    fn own_subtree(&self, m: usize) -> bool {
        self.shard.is_none()
            || (!self.foreign && self.frontier.is_some_and(|f| m > f))
            || (self.local_from != usize::MAX && m > self.local_from)
    }

    /// Whether node `m` of the current path may stand for a finished subtree remembered
    /// before: its subtree is this shard's ([`Exhaustive::own_subtree`]), and the races of this
    /// execution there are analysed by this shard alone (not the first execution of a dealt
    /// subtree, whose races every shard analyses alike).
    fn may_skip(&self, m: usize) -> bool {
        self.own_subtree(m) && (self.shard.is_none() || self.beyond_first || m > self.local_from)
    }

    /// Node `m`'s subtree is finished but not remembered: the requests its races made serve
    /// no subtree above (none of which is remembered either).
    fn forget_requests(&mut self, m: usize) {
        let start = self.nodes[m].log_start.min(self.requests.len());
        self.requests.truncate(start);
    }

    /// What decides a subtree's exploration under bounded POR, but for the preemptions so far:
    /// the trace of the steps before it (which fixes the kernel state and every actor's
    /// progress), the actor that ran last (where the running block began, and the next
    /// preemption). The preemptions so far only bound it: a subtree explores everything the
    /// same configuration's subtree with more preemptions before it would (docs/exhaustive.md),
    /// so the cache keeps them beside the key.
    fn configuration(&self, i: usize, current: Option<u32>) -> u128 {
        configuration(i.checked_sub(1).map(|k| (self.nodes[k].key, self.nodes[k].chosen)), current)
    }

    /// Records a request of a race reversal, for the summaries of finished subtrees.
    fn log_request(&mut self, request: Request) {
        if self.caching() {
            self.requests.push(request);
        }
    }

    /// The node of the `index`-th step of `actor` (1-based, as clocks count) before node `n`.
    fn node_of(&self, actor: u32, index: u32, n: usize) -> usize {
        (0..n)
            .filter(|&k| self.nodes[k].chosen == actor)
            .nth(index as usize - 1)
            .expect("racesim bug: a remembered subtree's prefix is not equivalent to this one")
    }

    /// Node `m`'s subtree is finished: the requests it made to nodes above it stay in the log
    /// (for the subtrees above) and, those its own races made, are remembered under its
    /// configuration.
    fn remember(&mut self, m: usize) {
        let start = self.nodes[m].log_start.min(self.requests.len());
        let mut escapes = Vec::new();
        let mut kept = start;
        for r in start..self.requests.len() {
            let e = self.requests[r];
            if e.target >= m {
                continue;
            }
            self.requests[kept] = e;
            kept += 1;
            if e.j < m {
                // A race of the prefix, not of the subtree: the prefix's own analysis finds it.
                continue;
            }
            let label = |k: usize| (self.nodes[k].chosen, self.nodes[k].clock[self.nodes[k].chosen as usize]);
            escapes.push(if !e.block {
                let (actor, index) = label(e.i);
                Escape::At { actor, index, q: e.q }
            } else if e.i < m {
                let (actor, index) = label(e.i);
                Escape::BlockOf { actor, index, q: e.q }
            } else {
                Escape::EntryBlock { q: e.q }
            });
        }
        // The same request from several races needs keeping once, with its latest race: a
        // subtree above takes it if that race is in the subtree (which the latest is whenever
        // any is), and the conversion above depends on nothing else. This keeps the log as
        // short as the distinct requests to the current path.
        self.requests[start..kept].sort_by_key(|e| (e.target, e.i, e.block, e.q, std::cmp::Reverse(e.j)));
        let mut write = start;
        for r in start..kept {
            let e = self.requests[r];
            if write > start && {
                let w = self.requests[write - 1];
                (w.target, w.i, w.block, w.q) == (e.target, e.i, e.block, e.q)
            } {
                continue;
            }
            self.requests[write] = e;
            write += 1;
        }
        self.requests.truncate(write);
        if self.finished.len() >= CACHE_MAX {
            // Full: start again (deterministically). Equivalent subtrees tend to finish near
            // each other in the search, so the recent ones are the useful ones.
            self.finished.clear();
        }
        {
            escapes.sort();
            escapes.dedup();
            // Keep the subtree with the most budget left: it stands for the others.
            let (config, preemptions) = (self.nodes[m].config, self.nodes[m].preemptions);
            if self.finished.get(&config).is_none_or(|&(p, _)| preemptions < p) {
                self.finished.insert(config, (preemptions, Rc::from(escapes)));
            }
        }
    }

    /// Node `n` would root a subtree equivalent to a finished one: make its requests here, as
    /// running it would.
    fn replay(&mut self, n: usize, escapes: &[Escape]) {
        for &escape in escapes {
            match escape {
                Escape::At { actor, index, q } => {
                    let i = self.node_of(actor, index, n);
                    self.add_backtrack(i, q, false);
                    self.log_request(Request { target: i, i, j: n, block: false, q });
                }
                Escape::BlockOf { actor, index, q } => {
                    let i = self.node_of(actor, index, n);
                    if let Some(k) = self.block_start(i) {
                        self.add_backtrack(k, q, false);
                        self.log_request(Request { target: k, i, j: n, block: true, q });
                    }
                }
                Escape::EntryBlock { q } => {
                    if let Some(k) = self.block_start(n) {
                        self.add_backtrack(k, q, false);
                        self.log_request(Request { target: k, i: n, j: n, block: true, q });
                    }
                }
            }
        }
    }

    /// Whether choosing `actor` at node `i` keeps the execution within the preemption bound.
    fn within_bound(&self, i: usize, actor: u32) -> bool {
        let node = &self.nodes[i];
        self.mode.bound().is_none_or(|b| node.preemptions + usize::from(node.current.is_some_and(|c| c != actor)) <= b)
    }

    /// Attributes the events since the last scheduling point to the step that produced them.
    #[inline]
    fn close_pending(&mut self, log: &[Event], kernel: &Kernel) {
        match self.pending.take() {
            // A replayed step (not the one that takes a new choice) did what it did the last
            // time: its footprint, and the state after it, are known.
            Some(i) if i + 1 >= self.replay_len => self.close_new(i, log, kernel),
            _ => self.last_pos = log.len(),
        }
    }

    /// Works out the footprint of the new step at node `i`, and its place in happens-before.
    #[inline(never)]
    fn close_new(&mut self, i: usize, log: &[Event], kernel: &Kernel) {
        if !self.restored {
            // The first new step: start from the state after the step before it.
            self.restored = true;
            match i.checked_sub(1) {
                Some(k) => {
                    self.armed.truncate(self.nodes[k].armed_after);
                    self.waiting.clone_from(&self.nodes[k].waiting_after);
                }
                None => {
                    self.armed.clear();
                    self.waiting.clear();
                }
            }
        }
        self.scratch.clear();
        let mut granted = None;
        let node = &mut self.nodes[i];
        for event in &log[self.last_pos.min(log.len())..] {
            let armed = match event.change {
                Change::PteInstalled { ino, .. } => self.armed.contains(&ino),
                _ => false,
            };
            racesim_oracles::judge_accesses(&self.ops, event, armed, kernel, &mut self.scratch);
            if let Some(ino) = racesim_oracles::arms_fence(&self.ops, event)
                && !self.armed.contains(&ino)
            {
                self.armed.push(ino);
            }
            let actor = event.actor as usize;
            if self.waiting.len() <= actor && actor < 4096 {
                self.waiting.resize(actor + 1, None);
            }
            match event.change {
                Change::LockWait { class, .. } => {
                    if let Some(w) = self.waiting.get_mut(actor) {
                        *w = Some(class);
                    }
                }
                Change::LockAcquired { class, .. } => {
                    if let Some(w) = self.waiting.get_mut(actor)
                        && *w == Some(class)
                    {
                        *w = None;
                        granted = Some(class);
                    }
                }
                _ => {}
            }
        }
        self.last_pos = log.len();
        node.armed_after = self.armed.len();
        node.waiting_after.clone_from(&self.waiting);
        self.scratch.sort_by_key(|a| (a.object, !a.write));
        self.scratch.dedup_by_key(|a| a.object);
        let (mut touches, mut writes) = (0, 0);
        for access in &self.scratch {
            let bits = signature(access.object);
            touches |= bits;
            if access.write {
                writes |= bits;
            }
        }
        node.touches = touches;
        node.writes = writes;
        // The node's (cleared) vector becomes the next step's scratch.
        node.footprint.clear();
        std::mem::swap(&mut node.footprint, &mut self.scratch);
        // The step that woke the actor is the one after which it could run again: the last node
        // since the actor's own previous step (where it went to sleep) whose enabled set lacks
        // it.
        let actor = node.chosen;
        let woken_by = granted
            .and_then(|_| {
                (0..i)
                    .rev()
                    .take_while(|&k| self.nodes[k].chosen != actor)
                    .find(|&k| !self.nodes[k].enabled.contains(&actor))
            })
            .map(|k| k as u32);
        self.nodes[i].woken_by = woken_by;
        self.clock_step(i);
    }

    /// The choice at one scheduling point. `runnable` holds the tasks that can run (sleepers
    /// hidden), main (task 0) included.
    pub fn at_point(
        &mut self,
        log: &[Event],
        kernel: &Kernel,
        runnable: &[TaskId],
        current: Option<TaskId>,
    ) -> Option<TaskId> {
        self.close_pending(log, kernel);
        if runnable.iter().any(|t| usize::from(*t) == 0) {
            // Main's steps touch nothing an actor touches: run them first, never branch on them.
            return Some(TaskId::from(0));
        }
        let id = |t: &TaskId| usize::from(*t) as u32;
        let i = self.depth;
        if i < self.replay_len && !self.blocked {
            // Replaying the previous execution's choice (every point of an execution but its
            // new suffix): kept lean, it is most points.
            self.depth += 1;
            let node = &self.nodes[i];
            assert!(
                node.enabled.len() == runnable.len()
                    && node.enabled.iter().zip(runnable).all(|(&a, b)| a as usize == usize::from(*b)),
                "racesim bug: exploration is not deterministic (at step {i}, {:?} could run before, {:?} now)",
                node.enabled,
                runnable.iter().map(id).collect::<Vec<_>>()
            );
            let chosen = node.chosen;
            if node.chosen_local && self.local_from == usize::MAX {
                self.local_from = i;
            }
            self.note_choice(i);
            self.pending = Some(i);
            return Some(TaskId::from(chosen as usize));
        }
        if self.blocked {
            // Redundant: the scheduler runs the rest without asking (nor judging).
            return None;
        }
        let current = current.filter(|c| runnable.contains(c)).map(|c| id(&c));
        self.depth += 1;
        self.fresh(i, runnable, current)
    }

    /// The choice at a node this search has not been at before (on this path).
    #[inline(never)]
    fn fresh(&mut self, i: usize, runnable: &[TaskId], current: Option<u32>) -> Option<TaskId> {
        let id = |t: &TaskId| usize::from(*t) as u32;
        let preemptions = match i.checked_sub(1).map(|p| &self.nodes[p]) {
            Some(parent) => parent.preemptions + usize::from(parent.current.is_some_and(|c| c != parent.chosen)),
            None => 0,
        };
        let mut node = self.spare.pop().unwrap_or_else(|| Box::new(Node::empty()));
        node.clear();
        node.enabled.extend(runnable.iter().map(id));
        match i.checked_sub(1).map(|p| &self.nodes[p]) {
            // Sleep sets only without a bound: under one, an execution a sleeper stands for may
            // need more preemptions than the one explored (docs/exhaustive.md).
            Some(parent) if self.mode == Mode::Dpor => node.sleep.extend(
                parent.sleep.iter().filter(|(p, fp)| *p != parent.chosen && !conflict(fp, &parent.footprint)).cloned(),
            ),
            _ => {}
        }
        if self.caching() {
            let config = self.configuration(i, current);
            if let Some((_, escapes)) =
                self.finished.get(&config).filter(|(p, _)| *p <= preemptions && self.may_skip(i)).cloned()
            {
                // Equivalent to a finished subtree that had at least this budget left: its
                // requests are made here, and the rest of this execution is not analysed.
                self.replay(i, &escapes);
                self.blocked = true;
                self.summary.redundant += 1;
                self.spare.push(node);
                return None;
            }
            node.config = config;
            node.log_start = self.requests.len();
        }
        let asleep = |p: u32| node.sleep.iter().any(|(s, _)| *s == p);
        let Some(first) = node.enabled.iter().copied().find(|&p| !asleep(p)) else {
            // Sleep-set blocked: every continuation is equivalent to one explored already.
            self.blocked = true;
            self.summary.redundant += 1;
            self.spare.push(node);
            return None;
        };
        // Keeping the running actor costs nothing, so the first choice is always within the
        // bound (no sleep set under a bound: every enabled actor is awake).
        let chosen = current.filter(|&c| !asleep(c)).unwrap_or(first);
        let cost = |p: u32| preemptions + usize::from(current.is_some_and(|c| c != p));
        match self.mode {
            Mode::Dpor | Mode::Bpor { .. } => node.backtrack.push(chosen),
            Mode::Naive { bound } => {
                let Node { enabled, backtrack, .. } = &mut *node;
                backtrack.extend(enabled.iter().copied().filter(|&p| bound.is_none_or(|b| cost(p) <= b)));
            }
        }
        node.current = current;
        node.chosen = chosen;
        node.preemptions = preemptions;
        node.first = chosen;
        self.nodes.push(node);
        self.note_choice(i);
        self.pending = Some(i);
        Some(TaskId::from(chosen as usize))
    }

    /// The choice at node `i`: a deviation from its first choice counts towards the frontier.
    fn note_choice(&mut self, i: usize) {
        if self.shard.is_none() {
            return;
        }
        let node = &self.nodes[i];
        if node.chosen == node.first {
            return;
        }
        if self.frontier.is_some() {
            self.beyond_first = true;
            return;
        }
        for x in [i as u64, node.chosen as u64] {
            self.prefix_hash = (self.prefix_hash ^ x).wrapping_mul(0x0100_0000_01b3);
        }
        self.deviations_seen += 1;
        if self.deviations_seen >= self.frontier_rule().0 && i >= self.deal_depth {
            self.decide_shard(i);
        }
    }

    /// The execution crossed the frontier after node `i`: whose subtree is this? Its prefix's
    /// by hash, unless the path took a local choice (then it is this shard's alone).
    fn decide_shard(&mut self, i: usize) {
        self.frontier = Some(i);
        if let Some(shard) = self.shard
            && (self.prefix_hash % shard.count as u64) as u32 != shard.index
            && self.local_from == usize::MAX
        {
            self.foreign = true;
        }
    }

    /// The frontier's (deviations, depth in eighths of the first execution), see
    /// [`DPOR_FRONTIER`].
    fn frontier_rule(&self) -> (usize, usize) {
        if self.mode == Mode::Dpor { DPOR_FRONTIER } else { BOUNDED_FRONTIER }
    }

    /// A new execution begins.
    pub fn begin(&mut self) {
        self.last_trace = None;
        self.depth = 0;
        self.pending = None;
        self.last_pos = 0;
        self.restored = false;
        self.blocked = false;
        self.foreign = false;
        self.beyond_first = false;
        self.deviations_seen = 0;
        self.prefix_hash = PREFIX_HASH_SEED;
        self.frontier = None;
        self.local_from = usize::MAX;
    }

    /// The execution ended with `log`: analyse its new steps, then pick the next execution.
    pub fn ended(&mut self, log: &[Event], kernel: &Kernel) {
        self.close_pending(log, kernel);
        self.summary.executions += 1;
        if self.shard.is_some() && self.summary.executions == 1 {
            // The first execution deviates nowhere: its length is the same in every shard. Never
            // at the first node, whose alternatives (an actor each) are too few subtrees.
            self.deal_depth = (self.nodes.len() * self.frontier_rule().1 / 8).max(1);
        }
        if self.shard.is_some() && self.frontier.is_none() {
            // Fewer deviations than the frontier needs: the whole execution is above it.
            self.decide_shard(usize::MAX);
        }
        // Nodes past the point of a blocked execution were never created.
        let first_new = self.replay_len.saturating_sub(1);
        // The races of a subtree's first execution (foreign or not) are analysed by every shard
        // alike, which keeps the top of the reduced tree the same in every shard.
        self.analyse(first_new);
        if self.foreign {
            self.summary.foreign += 1;
            // The rest of the subtree is another shard's: forget the nodes below the frontier.
            let keep = self.frontier.map_or(self.nodes.len(), |f| f.saturating_add(1)).min(self.nodes.len());
            if self.caching() && keep < self.nodes.len() {
                self.forget_requests(keep);
            }
            while self.nodes.len() > keep {
                if let Some(mut done) = self.nodes.pop() {
                    done.sleep.clear();
                    self.spare.push(done);
                }
            }
        } else {
            if !self.blocked
                && let Some(traces) = self.traces.as_mut()
            {
                let trace = fingerprint(&self.nodes, log, kernel);
                traces.insert(trace);
                self.last_trace = Some(trace);
            }
        }
        self.summary.distinct_traces = self.traces.as_ref().map(|t| t.len() as u64);
        self.next_execution();
    }

    /// The happens-before analysis of the step at node `j`, once its footprint is known: its
    /// vector clock (it happens after its actor's previous step and after every earlier step
    /// it conflicts with), the earlier steps it races with, and the key of the trace so far.
    ///
    /// Near-linear in the execution: the earlier steps are visited latest first while the clock
    /// accumulates, and a step the clock already covers (it happens before the actor's previous
    /// step, or before a conflicting step visited already) is neither compared nor joined: it
    /// cannot change the clock, and it is not a race (a step `i` conflicting with `j` races with
    /// it exactly when no step after `i` and before `j` is ordered between them, i.e. when the
    /// clock built from the later ones does not cover `i`). Once one step of an actor is
    /// covered so are its earlier ones, so the scan ends when every other actor that ran has a
    /// covered step.
    fn clock_step(&mut self, j: usize) {
        let me = self.nodes[j].chosen as usize;
        let width = self.width.max(me + 1);
        let mut clock = std::mem::take(&mut self.nodes[j].clock);
        clock.clear();
        clock.resize(width, 0);
        if let Some(before) = self.nodes[..j].iter().rev().find(|n| n.chosen as usize == me) {
            let n = width.min(before.clock.len());
            clock[..n].copy_from_slice(&before.clock[..n]);
        }
        let own = clock[me];
        let mut races = std::mem::take(&mut self.nodes[j].races);
        races.clear();
        let (earlier_nodes, rest) = self.nodes.split_at(j);
        let step = &rest[0];
        let seen_before = earlier_nodes.last().map_or(0, |n| n.seen);
        if !step.footprint.is_empty() {
            let others = if width <= 64 { seen_before & !(1u64 << me) } else { u64::MAX };
            let mut covered = 0u64;
            for (i, earlier) in earlier_nodes.iter().enumerate().rev() {
                let p = earlier.chosen as usize;
                if p == me {
                    continue;
                }
                if clock[p] >= earlier.clock[p] {
                    if width <= 64 {
                        covered |= 1 << p;
                        if covered == others {
                            break;
                        }
                    }
                    continue;
                }
                if !earlier.conflicts_with(step) {
                    continue;
                }
                races.push(i as u32);
                for (c, e) in clock.iter_mut().zip(&earlier.clock) {
                    *c = (*c).max(*e);
                }
            }
        }
        // Reversed earliest first, the order the backtrack sets were always filled in.
        races.reverse();
        clock[me] = own + 1;
        // The trace key only serves bounded POR's finished subtrees.
        let key = if self.caching() {
            let before = j.checked_sub(1).map_or(0, |k| self.nodes[k].key);
            before.wrapping_add(step_key(me as u32, &clock, &step.footprint))
        } else {
            0
        };
        let node = &mut self.nodes[j];
        node.clock = clock;
        node.races = races;
        node.key = key;
        node.seen = if width <= 64 { seen_before | 1 << me } else { u64::MAX };
    }

    /// Reverses the races of steps `from..` (the new suffix of the execution; their clocks and
    /// races are known, [`Exhaustive::clock_step`]).
    fn analyse(&mut self, from: usize) {
        if !self.reduce() {
            return;
        }
        for j in from..self.nodes.len() {
            let races = std::mem::take(&mut self.nodes[j].races);
            for &i in &races {
                let i = i as usize;
                // A wake-up cannot come before the release that woke it: not a race (the order
                // of the two requests is, and is reversed where they were queued). Any other
                // step on the lock between the two is: the woken actor could have taken the
                // lock before it, and must be explored doing so.
                if self.nodes[j].woken_by == Some(i as u32) {
                    continue;
                }
                // Sharded: a race whose later step is above the frontier, or in the first
                // execution of a subtree, on a path of shared choices, is found by every shard
                // alike; any other (found in a subtree's later executions) is this shard's own.
                let shared = (j <= self.frontier.unwrap_or(usize::MAX) || !self.beyond_first) && j < self.local_from;
                self.reverse(i, j, shared);
            }
            self.nodes[j].races = races;
        }
    }

    /// `i` happens before `j` (`i < j`).
    fn hb(&self, i: usize, j: usize) -> bool {
        let p = self.nodes[i].chosen as usize;
        self.nodes[j].clock.get(p).copied().unwrap_or(0) >= self.nodes[i].clock[p]
    }

    /// Makes sure the race `i ⋖ j` is reversed: some actor that can start the reversed order
    /// `notdep(i).j` is explored at node `i`.
    fn reverse(&mut self, i: usize, j: usize, shared: bool) {
        let q = self.nodes[j].chosen;
        if let Mode::Bpor { .. } = self.mode {
            // Under a bound one initial of the reversal is not as good as another (only some
            // may start it within the bound). Flanagan and Godefroid's rule, as Coons et al.
            // use it: the racing actor itself at `i` (every actor if it cannot run there),
            // within the bound; and since that may need a preemption the bound does not allow
            // while an equivalent execution within it starts where the actor running before
            // `i` was switched to, the same at that conservative backtracking point.
            self.add_backtrack(i, q, shared);
            self.log_request(Request { target: i, i, j, block: false, q });
            if let Some(k) = self.block_start(i) {
                self.add_backtrack(k, q, shared);
                self.log_request(Request { target: k, i, j, block: true, q });
            }
            return;
        }
        // v = the steps after i that do not happen after it, then j; its initials are the
        // actors whose first step in v happens after no other step of v. A step of v happens
        // after some earlier step of v of actor b exactly when it happens after b's first step
        // in v (program order), so each candidate is checked against the actors' first steps.
        let mut first = std::mem::take(&mut self.first_in_v);
        first.clear();
        first.resize(self.nodes[j].clock.len(), usize::MAX);
        let mut initials = std::mem::take(&mut self.initials);
        initials.clear();
        for x in ((i + 1)..j).filter(|&k| !self.hb(i, k)).chain([j]) {
            let actor = self.nodes[x].chosen as usize;
            if first[actor] != usize::MAX {
                continue;
            }
            let clock = &self.nodes[x].clock;
            if !first.iter().enumerate().any(|(b, &y)| y != usize::MAX && clock[b] >= self.nodes[y].clock[b]) {
                initials.push(actor as u32);
            }
            first[actor] = x;
        }
        self.first_in_v = first;
        let local = self.local_layer(i, shared);
        let node = &self.nodes[i];
        let pick = if initials.iter().any(|p| node.backtrack.contains(p) || (local && node.local.contains(p))) {
            None
        } else if initials.contains(&q) && node.enabled.contains(&q) {
            Some(Some(q))
        } else {
            Some(initials.iter().copied().find(|p| node.enabled.contains(p)))
        };
        self.initials = initials;
        match pick {
            None => {}
            Some(Some(p)) => self.add_backtrack(i, p, shared),
            // None of them can run there (a sleeper): be conservative, explore them all.
            Some(None) => self.add_all(i, shared),
        }
    }

    /// Whether an alternative at node `k` found by a race of this shard's own (`!shared`)
    /// goes to the local layer: `k` is above the frontier on a path of shared choices, where
    /// the backtrack sets must stay the same in every shard.
    fn local_layer(&self, k: usize, shared: bool) -> bool {
        self.shard.is_some() && !shared && k <= self.frontier.unwrap_or(usize::MAX) && k < self.local_from
    }

    /// The node where the block of steps of the actor that ran before node `i` began (the
    /// last context switch before `i`), if `i` is not the first node.
    fn block_start(&self, i: usize) -> Option<usize> {
        let before = i.checked_sub(1)?;
        let actor = self.nodes[before].chosen;
        let mut k = before;
        while k > 0 && self.nodes[k - 1].chosen == actor {
            k -= 1;
        }
        Some(k)
    }

    /// Makes sure `p` is explored at node `k` if it can run there within the bound; if it
    /// cannot run there at all, every actor that can.
    fn add_backtrack(&mut self, k: usize, p: u32, shared: bool) {
        if !self.nodes[k].enabled.contains(&p) {
            self.add_all(k, shared);
        } else if self.within_bound(k, p) {
            self.add_one(k, p, shared);
        }
    }

    /// Every actor that can run at node `k` within the bound joins its backtrack set.
    fn add_all(&mut self, k: usize, shared: bool) {
        for p in self.nodes[k].enabled.clone() {
            if self.within_bound(k, p) {
                self.add_one(k, p, shared);
            }
        }
    }

    fn add_one(&mut self, k: usize, p: u32, shared: bool) {
        let local = self.local_layer(k, shared);
        let node = &mut self.nodes[k];
        if node.backtrack.contains(&p) {
            return;
        }
        if !local {
            node.backtrack.push(p);
        } else if !node.local.contains(&p) {
            node.local.push(p);
        }
    }

    /// Backtracks to the deepest node with an alternative left.
    fn next_execution(&mut self) {
        loop {
            let Some(node) = self.nodes.last_mut() else {
                self.exhausted = true;
                self.summary.complete = true;
                self.replay_len = 0;
                return;
            };
            // The choice just explored sleeps in its siblings' subtrees (a local one does not);
            // its footprint is copied into the sleep set only if a sibling follows.
            let explored = node.chosen;
            let shared = !node.chosen_local;
            if !shared {
                node.local_done.push(explored);
            }
            let asleep = |p: &u32| (shared && *p == explored) || node.sleep.iter().any(|(s, _)| s == p);
            // The shared alternatives first (in the same order in every shard), then the local
            // ones, which do not sleep in their siblings' subtrees.
            let next = match node.backtrack.iter().copied().find(|p| !asleep(p)) {
                Some(p) => Some((p, false)),
                None => {
                    node.local.iter().copied().find(|p| !asleep(p) && !node.local_done.contains(p)).map(|p| (p, true))
                }
            };
            if let Some((p, local)) = next {
                if shared {
                    node.sleep.push((explored, Rc::from(&node.footprint[..])));
                }
                node.chosen = p;
                node.chosen_local = local;
                node.footprint.clear();
                node.touches = 0;
                node.writes = 0;
                node.clock.clear();
                self.replay_len = self.nodes.len();
                return;
            }
            if self.caching() {
                let m = self.nodes.len() - 1;
                if self.own_subtree(m) {
                    self.remember(m);
                } else {
                    self.forget_requests(m);
                }
            }
            if let Some(mut done) = self.nodes.pop() {
                // Its sleep set holds footprints other nodes share: let them go now.
                done.sleep.clear();
                self.spare.push(done);
            }
        }
    }
}

/// A trace's identity: each step's footprint with its happens-before clock, in per-actor order
/// (equivalent interleavings give the same), with page frames (and their locks) named as
/// [`Kernel::canonical`] numbers them — by file, index and allocation order — since equivalent
/// interleavings may allocate frames in another order (docs/exhaustive.md, "Equal up to the
/// numbering of page frames").
#[allow(clippy::vec_box)]
fn fingerprint(nodes: &[Box<Node>], log: &[Event], kernel: &Kernel) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut order: Vec<usize> = (0..kernel.pages.len()).collect();
    order.sort_by_key(|&p| (kernel.pages[p].ino, kernel.pages[p].index, p));
    let mut frame = vec![0; kernel.pages.len()];
    for (canonical, &p) in order.iter().enumerate() {
        frame[p] = canonical as racesim_kernel::types::PageId;
    }
    let rename = |p: racesim_kernel::types::PageId| frame.get(p as usize).copied().unwrap_or(p);
    let mut hasher = std::hash::DefaultHasher::new();
    let mut renamed: Vec<(Object, bool)> = Vec::new();
    // Actor by actor, each in its own order (which is its steps' clock order).
    let actors = nodes.iter().map(|n| n.chosen + 1).max().unwrap_or(0);
    for actor in 0..actors {
        for n in nodes.iter().filter(|n| n.chosen == actor) {
            actor.hash(&mut hasher);
            n.clock[..].hash(&mut hasher);
            // Renamed, a footprint's objects may sort differently: sorted again.
            renamed.clear();
            renamed.extend(n.footprint.iter().map(|access| {
                let object = match access.object {
                    Object::Page(p) => Object::Page(rename(p)),
                    Object::Lock(LockClass::Page(p)) => Object::Lock(LockClass::Page(rename(p))),
                    other => other,
                };
                (object, access.write)
            }));
            renamed.sort();
            renamed.hash(&mut hasher);
        }
    }
    // The final state's log tail (the sync) follows from the trace; the length separates
    // executions cut short.
    log.len().hash(&mut hasher);
    hasher.finish()
}

impl crate::strategy::Strategy for Exhaustive {
    fn begin(&mut self, _schedule: u64) {
        Exhaustive::begin(self)
    }
    fn choose(&mut self, runnable: &[TaskId], current: Option<TaskId>) -> Option<TaskId> {
        // Only reached through `at_point` (the scheduler asks at every point).
        current.filter(|c| runnable.contains(c)).or_else(|| runnable.first().copied())
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn sees_every_point(&self) -> bool {
        true
    }
    fn at_point(
        &mut self,
        log: &[Event],
        kernel: &Kernel,
        runnable: &[TaskId],
        current: Option<TaskId>,
    ) -> Option<TaskId> {
        Exhaustive::at_point(self, log, kernel, runnable, current)
    }
    fn execution_ended(&mut self, log: &[Event], kernel: &Kernel) {
        self.ended(log, kernel)
    }
    fn exhausted(&self) -> bool {
        self.exhausted
    }
    fn summary(&self) -> Option<Summary> {
        Some(self.summary.clone())
    }
}
