//! The explorer: the only crate that knows shuttle.
//!
//! [`explore`] runs a scenario under one policy for a number of schedules: each schedule starts
//! from the scenario's initial kernel, runs every actor as a shuttle task whose kernel steps
//! are scheduling points, then (if nothing fired) syncs and judges the quiescent state. It stops
//! at the first violation and returns it as a [`Finding`] with the decisions that reproduce it.
//! [`replay`] re-executes recorded decisions. [`to_trace`] turns a finding into a trace file.
//!
//! Architecture invariant: nothing here reads the clock, the environment or unseeded
//! randomness; the budget callback, the only way time enters, is the caller's.
//!
//! Modules: [`world`] (shared execution state, deadlock detection), [`cpu`] (the kernel's
//! `Cpu` on shuttle), [`strategy`] (random, PCT, replay), [`scheduler`] (the shuttle
//! `Scheduler` that ties them together).

pub mod cpu;
pub mod exhaustive;
pub mod scheduler;
pub mod strategy;
pub mod world;

use cpu::ShuttleCpu;
use racesim_kernel::event::{Event, SYNC_ACTOR};
use racesim_kernel::types::{ActorId, PageRange, WriteId};
use racesim_kernel::{Kernel, Machine, Names, Operation, Policy, SerialCpu, Task};
use racesim_oracles::{Judge, OpInfo, Violation};
use racesim_scenario::Scenario;
use scheduler::{Control, RacesimScheduler};
pub use scheduler::{Finding, Progress};
use shuttle_engine::{Config, FailurePersistence, MaxSteps, Runner};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use world::{SharedWorld, World, lock};

/// Default bound on steps in one schedule; a schedule that reaches it is cut and counted.
pub const STEPS_PER_SCHEDULE_MAX: u64 = 100_000;
/// Shuttle coroutine stack per task. Kernel functions nest a few frames deep; 128 KiB leaves
/// ample room over shuttle's 60 KiB default.
const TASK_STACK_BYTES: usize = 0x20000;

/// How to choose among runnable actors: defined with the scenario language, which lets a
/// scenario name the strategy its race needs.
pub use racesim_scenario::StrategyKind;

#[derive(Clone, Debug)]
pub struct ExploreConfig {
    pub strategy: StrategyKind,
    pub seed: u64,
    pub schedules_max: u64,
    pub steps_per_schedule_max: u64,
    /// Stop at the first violation (what users want). Benchmarks turn it off to measure
    /// throughput over a fixed number of complete schedules.
    pub stop_at_first_finding: bool,
    /// Count the schedules that reach this window (see [`racesim_scenario::Window`]).
    pub window: Option<racesim_scenario::Window>,
    /// Fold every schedule's event log into [`RunReport::log_digest`], for determinism checks.
    pub digest_logs: bool,
    /// Collect [`RunReport::outcomes`].
    pub collect_outcomes: bool,
    /// For the exhaustive strategy: explore only this shard of the search tree.
    pub shard: Option<exhaustive::Shard>,
    /// For the exhaustive strategy: count distinct traces ([`exhaustive::Summary`]).
    pub count_traces: bool,
}

impl ExploreConfig {
    /// What `racesim run` does by default, for `schedules_max` schedules.
    pub fn new(strategy: StrategyKind, seed: u64, schedules_max: u64) -> Self {
        ExploreConfig {
            strategy,
            seed,
            schedules_max,
            steps_per_schedule_max: STEPS_PER_SCHEDULE_MAX,
            stop_at_first_finding: true,
            window: None,
            digest_logs: false,
            collect_outcomes: false,
            shard: None,
            count_traces: false,
        }
    }
}

/// What a run found.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub policy: String,
    pub progress: Progress,
    /// Schedules cut short by the step bound.
    pub step_limited: u64,
    pub finding: Option<Finding>,
    /// Schedules that broke an oracle (more than one only when not stopping at the first).
    pub findings: u64,
    /// The budget callback ended the run before `schedules_max`.
    pub stopped_by_budget: bool,
    /// Schedules that reached the configured window.
    pub window_hits: u64,
    /// The window's patterns (opens, closes, inside) that matched in some schedule, as
    /// [`racesim_scenario::Window::parts_seen`] bits.
    pub window_parts: u8,
    /// Schedules whose end state no verdict could be given for: the serial-order search of the
    /// reference model reached its node bound. They count as neither clean nor violating.
    pub undecided: u64,
    /// The end-state searches' cost: configurations visited by the costliest schedule's, and
    /// by all schedules' together (`racesim bench` reports them).
    pub search_nodes_max: u64,
    pub search_nodes_total: u64,
    /// Digest of every schedule's event log, if asked for.
    pub log_digest: Option<u64>,
    /// What an exhaustive search covered (`None` for sampling strategies).
    pub exhaustive: Option<exhaustive::Summary>,
    /// Distinct (verdict, digest of the final state's canonical form) pairs, if asked for
    /// ([`racesim_kernel::Kernel::canonical`]).
    pub outcomes: Option<std::collections::BTreeSet<(String, u64)>>,
}

impl RunReport {
    /// For an exhaustive run, what it showed if it found nothing ("verified", "verified within
    /// B preemptions", "incomplete after N executions"); `None` for a sampling strategy. A run
    /// with a finding is a violation whatever this says.
    pub fn coverage(&self) -> Option<exhaustive::Coverage> {
        Some(self.exhaustive.as_ref()?.coverage(self.step_limited > 0 || self.stopped_by_budget))
    }
}

/// What every task of the run needs, shared read-only.
struct Plan {
    initial: Kernel,
    policy: Policy,
    /// Per actor: its operations with their write ids.
    actors: Vec<Vec<(Operation, WriteId)>>,
    /// Per actor: the mm (process) it runs in.
    mms: Vec<u16>,
}

/// The scenario's operations as the oracles know them, numbered as their writes are.
fn ops_of(scenario: &Scenario) -> Vec<OpInfo> {
    let mut ops = Vec::new();
    let mut write: WriteId = 0;
    for (actor, spec) in scenario.actors.iter().enumerate() {
        for (index, op) in spec.ops.iter().enumerate() {
            write += 1;
            ops.push(OpInfo { actor: actor as ActorId, op_index: index as u16, op: *op, write });
        }
    }
    ops
}

fn plan(scenario: &Scenario, policy: &Policy) -> (Arc<Plan>, Vec<OpInfo>) {
    let ops = ops_of(scenario);
    let mut actors: Vec<Vec<(Operation, WriteId)>> = vec![Vec::new(); scenario.actors.len()];
    for info in &ops {
        actors[info.actor as usize].push((info.op, info.write));
    }
    let mms = scenario.actors.iter().map(|a| a.process as u16).collect();
    let mut initial = scenario.build_kernel();
    // The objects of the policy's declared lock classes, after every other lock (none: no
    // change).
    initial.declare_locks(&policy.declared_locks());
    let plan = Plan { initial, policy: policy.clone(), actors, mms };
    (Arc::new(plan), ops)
}

fn new_world(scenario: &Scenario, plan: &Plan, ops: Vec<OpInfo>, steps_max: u64) -> SharedWorld {
    let mut judge = Judge::new(&plan.initial, ops, Box::new(scenario.names()));
    judge.ignore(&scenario.ignore);
    Arc::new(Mutex::new(World {
        machine: Machine::new(plan.initial.clone()),
        judge,
        waits: vec![None; plan.actors.len()],
        finished: vec![false; plan.actors.len()],
        violation: None,
        violation_end: usize::MAX,
        steps: 0,
        steps_max,
        step_limit_hit: false,
        halt: false,
        ignore: scenario.ignore.clone(),
        lock_graph: racesim_oracles::lockdep::LockGraph::new(),
        lock_orders_per_execution: None,
        held: Default::default(),
        executions: 0,
        snapshots: None,
        live: false,
        names: scenario.names(),
    }))
}

/// One execution: reset, run the actors, then sync and judge the quiescent state.
fn execution_body(world: SharedWorld, plan: Arc<Plan>) -> impl Fn() + Send + Sync + 'static {
    move || {
        lock(&world).reset(&plan.initial);
        let handles: Vec<_> = (0..plan.actors.len())
            .map(|actor| {
                let world = world.clone();
                let plan = plan.clone();
                shuttle::thread::spawn(move || run_actor(world, &plan, actor as ActorId))
            })
            .collect();
        for handle in handles {
            let _ = handle.join();
        }
        let mut world = lock(&world);
        if world.violation.is_none() && !world.step_limit_hit {
            quiesce(&mut world, &plan.policy);
        }
    }
}

fn run_actor(world: SharedWorld, plan: &Plan, actor: ActorId) {
    let mut cpu = ShuttleCpu { world: world.clone(), actor };
    let mut task = Task::new(&mut cpu, actor, plan.mms[actor as usize], &plan.policy);
    for (index, (op, write)) in plan.actors[actor as usize].iter().enumerate() {
        task.run_operation(index as u16, op, *write);
    }
    lock(&world).finished[actor as usize] = true;
}

/// The final `sync` (every dirty page written back, serially) and the end-state oracles.
fn quiesce(world: &mut World, policy: &Policy) {
    let World { machine, judge, violation, ignore, .. } = world;
    let first = machine.log.len();
    // Each end-state check in turn; the first finding the scenario does not ignore wins.
    let kept = |v: Option<racesim_oracles::Violation>| v.filter(|v| !ignore.contains(&v.oracle));
    *violation = kept(judge.check_orphans(&machine.kernel, first.saturating_sub(1)));
    if violation.is_some() {
        return;
    }
    {
        let mut cpu = SerialCpu::new(machine);
        let mut task = Task::new(&mut cpu, SYNC_ACTOR, 0, policy);
        let inodes = task.cpu.machine.kernel.inodes.len();
        for ino in 0..inodes {
            task.filemap_write_and_wait_range(ino as u16, PageRange::WHOLE, "sync");
        }
    }
    *violation = kept(judge.check_events(&machine.kernel, &machine.log, first));
    if violation.is_none() {
        *violation = kept(judge.check_quiescent(&machine.kernel, &machine.log));
    }
    if let Some(snapshots) = world.snapshots.as_mut() {
        snapshots.push((world.machine.log.len(), world.machine.kernel.clone()));
    }
}

fn shuttle_config() -> Config {
    let mut config = Config::new();
    config.failure_persistence = FailurePersistence::None;
    config.max_steps = MaxSteps::None;
    config.stack_size = TASK_STACK_BYTES;
    config.silence_warnings = true;
    config
}

/// Explores exhaustively in `mode` (the naive modes are not on the command line: tests compare
/// the reduction against them), with `config`'s limits and collection settings.
pub fn explore_mode(scenario: &Scenario, policy: &Policy, mode: exhaustive::Mode, config: &ExploreConfig) -> RunReport {
    let strategy = Box::new(exhaustive_strategy(scenario, mode, config.shard, config.count_traces));
    let options = RunOptions {
        seed: config.seed,
        schedules_max: config.schedules_max,
        steps_max: config.steps_per_schedule_max,
        keep_last_log: false,
        stop_at_first_finding: config.stop_at_first_finding,
        window: config.window.clone(),
        digest_logs: config.digest_logs,
        snapshots: false,
        lock_orders: Vec::new(),
        budget: Box::new(|_| true),
        collect_outcomes: config.collect_outcomes,
    };
    run_to_report(scenario, policy, strategy, options)
}

/// The shortest schedule breaking `oracle` among every interleaving with at most `bound`
/// preemptions (complete unless more than `executions_max` executions are needed; the second
/// value says whether it was complete). Every run starts from `lock_orders` (a lock-order
/// finding's prior orders). The minimizer's search.
pub fn shortest_within_bound(
    scenario: &Scenario,
    policy: &Policy,
    bound: usize,
    oracle: racesim_oracles::Oracle,
    lock_orders: &[racesim_oracles::lockdep::Order],
    executions_max: u64,
) -> (Option<Finding>, bool) {
    let strategy = Box::new(exhaustive_strategy(scenario, exhaustive::Mode::Naive { bound: Some(bound) }, None, false));
    let options = RunOptions {
        seed: 0,
        schedules_max: executions_max,
        steps_max: STEPS_PER_SCHEDULE_MAX,
        keep_last_log: false,
        stop_at_first_finding: false,
        window: None,
        digest_logs: false,
        snapshots: false,
        lock_orders: lock_orders.to_vec(),
        budget: Box::new(|_| true),
        collect_outcomes: false,
    };
    let control = run_with(scenario, policy, strategy, options, Some(oracle));
    let control = Rc::try_unwrap(control).ok().expect("the runner is gone").into_inner();
    let complete = control.strategy.exhausted();
    (control.finding, complete)
}

/// Explores `scenario` under `policy`. `budget` is asked before each schedule whether to go on
/// (it is where a caller puts a time limit or a progress indicator).
pub fn explore(
    scenario: &Scenario,
    policy: &Policy,
    config: &ExploreConfig,
    budget: Box<dyn FnMut(&Progress) -> bool>,
) -> RunReport {
    let strategy: Box<dyn strategy::Strategy> = match config.strategy {
        StrategyKind::Random => Box::new(strategy::RandomWalk::new(config.seed)),
        StrategyKind::Pct { depth } => Box::new(strategy::Pct::new(config.seed, depth)),
        StrategyKind::Exhaustive { preemption_bound } => {
            let mode = match preemption_bound {
                None => exhaustive::Mode::Dpor,
                Some(bound) => exhaustive::Mode::Bpor { bound },
            };
            Box::new(exhaustive_strategy(scenario, mode, config.shard, config.count_traces))
        }
    };
    let options = RunOptions {
        seed: config.seed,
        schedules_max: config.schedules_max,
        steps_max: config.steps_per_schedule_max,
        keep_last_log: false,
        stop_at_first_finding: config.stop_at_first_finding,
        window: config.window.clone(),
        digest_logs: config.digest_logs,
        snapshots: false,
        lock_orders: Vec::new(),
        budget,
        collect_outcomes: config.collect_outcomes,
    };
    run_to_report(scenario, policy, strategy, options)
}

/// The exhaustive strategy for `scenario` (its footprints need the scenario's operations).
pub fn exhaustive_strategy(
    scenario: &Scenario,
    mode: exhaustive::Mode,
    shard: Option<exhaustive::Shard>,
    count_traces: bool,
) -> exhaustive::Exhaustive {
    exhaustive::Exhaustive::new(mode, ops_of(scenario), shard, count_traces)
}

/// Everything a run needs besides the scenario, the policy and the strategy.
struct RunOptions {
    seed: u64,
    schedules_max: u64,
    steps_max: u64,
    keep_last_log: bool,
    stop_at_first_finding: bool,
    window: Option<racesim_scenario::Window>,
    digest_logs: bool,
    /// Keep the kernel state after every step (replays for pictures).
    snapshots: bool,
    /// Lock orders to start from (replaying a lock-order finding).
    lock_orders: Vec<racesim_oracles::lockdep::Order>,
    budget: Box<dyn FnMut(&Progress) -> bool>,
    collect_outcomes: bool,
}

fn run(
    scenario: &Scenario,
    policy: &Policy,
    strategy: Box<dyn strategy::Strategy>,
    options: RunOptions,
) -> Rc<RefCell<Control>> {
    run_with(scenario, policy, strategy, options, None)
}

/// [`run`]; with `shortest`, the finding kept is the shortest that breaks that oracle.
fn run_with(
    scenario: &Scenario,
    policy: &Policy,
    strategy: Box<dyn strategy::Strategy>,
    options: RunOptions,
    shortest: Option<racesim_oracles::Oracle>,
) -> Rc<RefCell<Control>> {
    let (plan, ops) = plan(scenario, policy);
    let world = new_world(scenario, &plan, ops, options.steps_max);
    if options.snapshots {
        lock(&world).snapshots = Some(Vec::new());
    }
    lock(&world).lock_graph.seed(&options.lock_orders);
    if shortest.is_some() {
        // The minimizer wants a schedule that reproduces from the given orders alone.
        lock(&world).lock_orders_per_execution = Some(options.lock_orders.clone());
    }
    let control = Rc::new(RefCell::new(Control {
        strategy,
        seed: options.seed,
        schedules_max: options.schedules_max,
        progress: Progress::default(),
        step_limited: 0,
        decisions: Vec::new(),
        preempted: Vec::new(),
        decision_positions: Vec::new(),
        finding: None,
        findings: 0,
        stop_at_first_finding: options.stop_at_first_finding,
        keep_last_log: options.keep_last_log,
        last_log: Vec::new(),
        snapshots: Vec::new(),
        budget: options.budget,
        stopped_by_budget: false,
        stopped_mid_schedule: false,
        points_since_budget: 0,
        window: options.window,
        window_hits: 0,
        window_parts: 0,
        undecided: 0,
        search_nodes_max: 0,
        search_nodes_total: 0,
        digest: options.digest_logs.then(std::hash::DefaultHasher::new),
        outcomes: options.collect_outcomes.then(Default::default),
        shortest,
    }));
    let scheduler = RacesimScheduler { world: world.clone(), control: control.clone() };
    Runner::new(scheduler, shuttle_config()).run(execution_body(world.clone(), plan));
    if let Some(snapshots) = lock(&world).snapshots.take() {
        control.borrow_mut().snapshots = snapshots;
    }
    control
}

/// Runs to the end and reports: what every entry point that wants a [`RunReport`] does.
fn run_to_report(
    scenario: &Scenario,
    policy: &Policy,
    strategy: Box<dyn strategy::Strategy>,
    options: RunOptions,
) -> RunReport {
    let control = run(scenario, policy, strategy, options);
    let control = Rc::try_unwrap(control).ok().expect("the runner is gone").into_inner();
    report(policy, control)
}

/// The report of a finished run.
fn report(policy: &Policy, control: Control) -> RunReport {
    RunReport {
        policy: policy.name.clone(),
        progress: control.progress,
        step_limited: control.step_limited,
        finding: control.finding,
        findings: control.findings,
        stopped_by_budget: control.stopped_by_budget,
        window_hits: control.window_hits,
        window_parts: control.window_parts,
        undecided: control.undecided,
        search_nodes_max: control.search_nodes_max,
        search_nodes_total: control.search_nodes_total,
        log_digest: control.digest.map(|h| std::hash::Hasher::finish(&h)),
        exhaustive: control.strategy.summary(),
        outcomes: control.outcomes,
    }
}

/// Explores with a strategy of the caller's (the minimizer's and explainer's searches).
pub fn explore_with(
    scenario: &Scenario,
    policy: &Policy,
    strategy: Box<dyn strategy::Strategy>,
    schedules_max: u64,
    stop_at_first_finding: bool,
) -> RunReport {
    let options = RunOptions {
        seed: 0,
        schedules_max,
        steps_max: STEPS_PER_SCHEDULE_MAX,
        keep_last_log: false,
        stop_at_first_finding,
        window: None,
        digest_logs: false,
        snapshots: false,
        lock_orders: Vec::new(),
        budget: Box::new(|_| true),
        collect_outcomes: false,
    };
    run_to_report(scenario, policy, strategy, options)
}

/// What re-executing recorded decisions produced.
#[derive(Clone, Debug)]
pub struct ReplayReport {
    pub events: Vec<Event>,
    pub violation: Option<Violation>,
    /// The decisions did not fit the execution (a changed scenario or racesim).
    pub diverged: Option<String>,
}

/// One schedule run under a given strategy.
pub struct OneRun {
    pub events: Vec<Event>,
    pub violation: Option<Violation>,
    /// The decisions actually taken, and which of them were preemptions.
    pub decisions: Vec<u32>,
    pub preempted: Vec<bool>,
    /// Per decision: the log length when it was taken.
    pub decision_positions: Vec<usize>,
    /// Lock orders of earlier schedules a lock-order verdict depends on.
    pub prior_lock_orders: Vec<racesim_oracles::lockdep::Order>,
    /// With `snapshots`: the kernel state after each step, with the log length then.
    pub snapshots: Vec<(usize, Kernel)>,
}

impl OneRun {
    pub fn preemptions(&self) -> usize {
        self.preempted.iter().filter(|p| **p).count()
    }

    /// Steps up to and including the one where the oracle fired (all of them if none did).
    pub fn steps(&self) -> usize {
        self.violation.as_ref().map_or(self.events.len(), |v| v.event + 1)
    }

    /// As a finding, for writing a trace (`schedule` says where it came from).
    pub fn into_finding(self, schedule: u64) -> Option<Finding> {
        let violation = self.violation?;
        Some(Finding {
            schedule,
            decisions: self.decisions,
            preempted: self.preempted,
            decision_positions: self.decision_positions,
            prior_lock_orders: self.prior_lock_orders,
            events: self.events,
            violation,
        })
    }
}

/// Runs exactly one schedule with `strategy` (a replay, or a minimizer's candidate).
pub fn run_one(scenario: &Scenario, policy: &Policy, strategy: Box<dyn strategy::Strategy>, snapshots: bool) -> OneRun {
    run_one_seeded(scenario, policy, strategy, snapshots, Vec::new())
}

/// [`run_one`], starting from lock orders seen before (a lock-order finding's replay).
pub fn run_one_seeded(
    scenario: &Scenario,
    policy: &Policy,
    strategy: Box<dyn strategy::Strategy>,
    snapshots: bool,
    lock_orders: Vec<racesim_oracles::lockdep::Order>,
) -> OneRun {
    let options = RunOptions {
        seed: 0,
        schedules_max: 1,
        steps_max: STEPS_PER_SCHEDULE_MAX,
        keep_last_log: true,
        stop_at_first_finding: true,
        window: None,
        digest_logs: false,
        snapshots,
        lock_orders,
        budget: Box::new(|_| true),
        collect_outcomes: false,
    };
    let control = run(scenario, policy, strategy, options);
    let mut control = control.borrow_mut();
    let snapshots = std::mem::take(&mut control.snapshots);
    match control.finding.take() {
        Some(f) => OneRun {
            events: f.events,
            violation: Some(f.violation),
            decisions: f.decisions,
            preempted: f.preempted,
            decision_positions: f.decision_positions,
            prior_lock_orders: f.prior_lock_orders,
            snapshots,
        },
        None => OneRun {
            events: std::mem::take(&mut control.last_log),
            violation: None,
            decisions: std::mem::take(&mut control.decisions),
            preempted: std::mem::take(&mut control.preempted),
            decision_positions: std::mem::take(&mut control.decision_positions),
            prior_lock_orders: Vec::new(),
            snapshots,
        },
    }
}

/// Schedules [`window_problems`] samples to learn which kernel functions each actor runs.
pub const WINDOW_SAMPLE_SCHEDULES: u64 = 64;

/// Why the scenario's `[window]` may never be reached: a pattern naming a kernel function its actor never runs under any of `policies` (in
/// [`WINDOW_SAMPLE_SCHEDULES`] seeded random schedules each; kernel functions are only known
/// by running the model, and some run only under some policies), with the closest function
/// it does run. A typo in a function name otherwise shows only as "window never reached".
/// Empty when the scenario declares no window or every pattern matched. A function that runs
/// only inside the race itself may be missed by the sample: callers ask only once a window
/// was never reached, and the message says it is a sample.
pub fn window_problems(scenario: &Scenario, policies: &[Policy]) -> Vec<String> {
    let Some(window) = &scenario.window else { return Vec::new() };
    // (actor, function) pairs seen, in a sorted set: deterministic order for the suggestions.
    let mut seen: std::collections::BTreeSet<(ActorId, &'static str)> = std::collections::BTreeSet::new();
    for policy in policies {
        for seed in 0..WINDOW_SAMPLE_SCHEDULES {
            let run = run_one(scenario, policy, Box::new(strategy::RandomWalk::new(seed)), false);
            seen.extend(run.events.iter().map(|e| (e.actor, e.function)));
        }
    }
    let names = scenario.names();
    let mut problems = Vec::new();
    for (role, pattern) in [("opens", &window.opens), ("inside", &window.inside), ("closes", &window.closes)] {
        let Some(function) = &pattern.function else { continue };
        if seen.contains(&(pattern.actor, function.as_str())) {
            continue;
        }
        let runs: Vec<&str> = seen.iter().filter(|(a, _)| *a == pattern.actor).map(|(_, f)| *f).collect();
        problems.push(format!(
            "[window] {role}: in {} sampled schedules{}, actor '{}' never ran kernel function '{function}'{}",
            WINDOW_SAMPLE_SCHEDULES * policies.len() as u64,
            if policies.len() == 1 { format!(" under {}", policies[0].name) } else { String::new() },
            names.actor(pattern.actor),
            racesim_scenario::did_you_mean(function, runs.iter().copied())
        ));
    }
    problems
}

/// A strategy shared with the caller, so that it can be inspected after the run.
pub struct Shared<S>(pub Rc<RefCell<S>>);

impl<S: strategy::Strategy> strategy::Strategy for Shared<S> {
    fn begin(&mut self, schedule: u64) {
        self.0.borrow_mut().begin(schedule)
    }
    fn choose(
        &mut self,
        runnable: &[shuttle_engine::scheduler::TaskId],
        current: Option<shuttle_engine::scheduler::TaskId>,
    ) -> Option<shuttle_engine::scheduler::TaskId> {
        self.0.borrow_mut().choose(runnable, current)
    }
    fn next_u64(&mut self) -> u64 {
        self.0.borrow_mut().next_u64()
    }
    fn observe_length(&mut self, choices: usize) {
        self.0.borrow_mut().observe_length(choices)
    }
    fn sees_every_point(&self) -> bool {
        self.0.borrow().sees_every_point()
    }
    fn at_point(
        &mut self,
        log: &[Event],
        kernel: &Kernel,
        runnable: &[shuttle_engine::scheduler::TaskId],
        current: Option<shuttle_engine::scheduler::TaskId>,
    ) -> Option<shuttle_engine::scheduler::TaskId> {
        self.0.borrow_mut().at_point(log, kernel, runnable, current)
    }
    fn execution_ended(&mut self, log: &[Event], kernel: &Kernel) {
        self.0.borrow_mut().execution_ended(log, kernel)
    }
    fn exhausted(&self) -> bool {
        self.0.borrow().exhausted()
    }
    fn summary(&self) -> Option<exhaustive::Summary> {
        self.0.borrow().summary()
    }
}

/// Re-executes one schedule from its recorded decisions.
pub fn replay(scenario: &Scenario, policy: &Policy, decisions: &[u32]) -> ReplayReport {
    replay_with_states(scenario, policy, decisions, &[], false).0
}

/// Re-executes one schedule, starting from the given lock orders, and if asked keeps the
/// kernel state after every step.
pub fn replay_with_states(
    scenario: &Scenario,
    policy: &Policy,
    decisions: &[u32],
    lock_orders: &[racesim_oracles::lockdep::Order],
    snapshots: bool,
) -> (ReplayReport, Vec<(usize, Kernel)>) {
    let replayer = Rc::new(RefCell::new(strategy::Replay::new(decisions.to_vec())));
    let strategy = Box::new(Shared(replayer.clone()));
    let run = run_one_seeded(scenario, policy, strategy, snapshots, lock_orders.to_vec());
    let replayer = replayer.borrow();
    let mut diverged = replayer.diverged.clone();
    if diverged.is_none() && !replayer.consumed_all() {
        diverged = Some("the execution ended before all recorded decisions were used".into());
    }
    (ReplayReport { events: run.events, violation: run.violation, diverged }, run.snapshots)
}

/// Renders events for a trace or a terminal.
pub fn render_events(scenario: &Scenario, events: &[Event]) -> Vec<racesim_trace::TraceEvent> {
    let names = scenario.names();
    events
        .iter()
        .map(|e| racesim_trace::TraceEvent {
            actor: names.actor(e.actor),
            function: e.function.to_string(),
            change: e.change.describe(&names),
        })
        .collect()
}

/// The trace of a finding.
pub fn to_trace(scenario: &Scenario, policy: &str, config: &ExploreConfig, finding: &Finding) -> racesim_trace::Trace {
    let names = scenario.names();
    racesim_trace::Trace {
        format: racesim_trace::TRACE_FORMAT_VERSION,
        racesim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: racesim_trace::ScenarioRef {
            name: scenario.name.clone(),
            path: scenario.path.clone(),
            content_hash: scenario.content_hash.clone(),
            // The trace replays alone: a scenario built in memory (no text) cannot be embedded.
            text: (!scenario.text.is_empty()).then(|| scenario.text.clone()),
        },
        policy: policy.to_string(),
        strategy: config.strategy.label(),
        seed: config.seed,
        schedule: finding.schedule,
        decisions: finding.decisions.clone(),
        events: render_events(scenario, &finding.events),
        verdict: verdict_of(Some(&finding.violation), &names),
        lock_orders: finding
            .prior_lock_orders
            .iter()
            .map(|o| racesim_trace::LockOrder {
                from: o.from.name().to_string(),
                to: o.to.name().to_string(),
                actor: o.example.actor.clone(),
                first: o.example.first.clone(),
                second: o.example.second.clone(),
                schedule: o.example.schedule,
            })
            .collect(),
        policy_definition: None,
    }
}

/// Makes the policy a trace names known to `scenario` if the trace carries its definition and
/// the scenario does not define it (a policy from the user's own file).
pub fn adopt_trace_policy(scenario: &mut Scenario, trace: &racesim_trace::Trace) -> Result<(), String> {
    if scenario.policy(&trace.policy).is_some() {
        return Ok(());
    }
    let Some(text) = &trace.policy_definition else { return Ok(()) };
    let policy =
        racesim_scenario::policy_file::parse(text, "the trace's policy_definition").map_err(|e| e.to_string())?;
    scenario.variants.push(policy);
    Ok(())
}

/// The lock orders a trace carries, back as the oracle's values (unknown classes are skipped:
/// they cannot have come from this racesim's format).
pub fn lock_orders_of(trace: &racesim_trace::Trace) -> Vec<racesim_oracles::lockdep::Order> {
    use racesim_oracles::lockdep::{Example, Order, kind_named};
    // Classes the trace's policy declares, looked up only if an order names one.
    let builtin = |name: &str| kind_named(name, &[]).is_some();
    let declared = if trace.lock_orders.iter().all(|o| builtin(&o.from) && builtin(&o.to)) {
        Vec::new()
    } else {
        declared_locks_of(trace)
    };
    trace
        .lock_orders
        .iter()
        .filter_map(|o| {
            Some(Order {
                from: kind_named(&o.from, &declared)?,
                to: kind_named(&o.to, &declared)?,
                example: Example {
                    actor: o.actor.clone(),
                    first: o.first.clone(),
                    second: o.second.clone(),
                    schedule: o.schedule,
                },
            })
        })
        .collect()
}

/// The lock classes the policy of a trace declares: from its `policy_definition`, else from
/// the variant of its embedded scenario text (none if neither says).
fn declared_locks_of(trace: &racesim_trace::Trace) -> Vec<racesim_kernel::lock::DeclaredLock> {
    if let Some(text) = &trace.policy_definition {
        return racesim_scenario::policy_file::parse(text, "the trace's policy_definition")
            .map(|p| p.declared_locks())
            .unwrap_or_default();
    }
    trace
        .scenario
        .text
        .as_ref()
        .and_then(|text| Scenario::parse(text, &trace.scenario.path).ok())
        .and_then(|s| s.policy(&trace.policy))
        .map(|p| p.declared_locks())
        .unwrap_or_default()
}

/// A trace verdict from a violation (or clean).
pub fn verdict_of(violation: Option<&Violation>, names: &dyn Names) -> racesim_trace::Verdict {
    match violation {
        Some(v) => racesim_trace::Verdict {
            oracle: v.oracle.name().to_string(),
            event: Some(v.event),
            actors: v.actors.iter().map(|&a| names.actor(a)).collect(),
            message: v.message.clone(),
        },
        None => {
            racesim_trace::Verdict { oracle: "clean".into(), event: None, actors: Vec::new(), message: String::new() }
        }
    }
}

/// How a replay compares with the trace it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    Matches,
    Diverged(String),
}

/// A trace re-executed against its scenario.
#[derive(Clone, Debug)]
pub struct TraceReplay {
    pub events: Vec<racesim_trace::TraceEvent>,
    pub verdict: racesim_trace::Verdict,
    pub comparison: Comparison,
    /// The scenario replayed against means something else than the one the trace was recorded
    /// with: judged on the parsed scenarios when the trace embeds its scenario's text (a new
    /// comment changes nothing), on the file's content hash for a format-2 trace.
    pub scenario_changed: bool,
}

/// Replays `trace` against `scenario` and compares decisions, event log and verdict. `None`
/// if the scenario does not define the trace's policy.
pub fn replay_trace(scenario: &Scenario, trace: &racesim_trace::Trace) -> Option<TraceReplay> {
    let mut adopted = scenario.clone();
    // A malformed definition leaves the policy undefined; callers adopt it themselves first
    // (racesim_explore::adopt_trace_policy) to report why.
    let _ = adopt_trace_policy(&mut adopted, trace);
    let policy = adopted.policy(&trace.policy)?;
    let (report, _) = replay_with_states(scenario, &policy, &trace.decisions, &lock_orders_of(trace), false);
    let events = render_events(scenario, &report.events);
    let verdict = verdict_of(report.violation.as_ref(), &scenario.names());
    let comparison = compare(trace, &events, &verdict, report.diverged.as_deref());
    Some(TraceReplay { events, verdict, comparison, scenario_changed: scenario_changed(scenario, trace) })
}

/// Whether `scenario` means something else than the scenario `trace` was recorded with (see
/// [`TraceReplay::scenario_changed`]).
pub fn scenario_changed(scenario: &Scenario, trace: &racesim_trace::Trace) -> bool {
    match &trace.scenario.text {
        Some(text) => match Scenario::parse(text, &trace.scenario.path) {
            Ok(recorded) => !recorded.same_meaning(scenario),
            // The embedded text no longer parses: the format of scenarios changed under it.
            Err(_) => true,
        },
        None => scenario.content_hash != trace.scenario.content_hash,
    }
}

fn compare(
    trace: &racesim_trace::Trace,
    events: &[racesim_trace::TraceEvent],
    verdict: &racesim_trace::Verdict,
    diverged: Option<&str>,
) -> Comparison {
    use racesim_trace::TraceEvent;
    if let Some(reason) = diverged {
        return Comparison::Diverged(reason.to_string());
    }
    let longest = trace.events.len().max(events.len());
    if let Some(i) = (0..longest).find(|&i| trace.events.get(i) != events.get(i)) {
        let show = |e: Option<&TraceEvent>| {
            e.map_or("(nothing)".to_string(), |e| format!("{} {}: {}", e.actor, e.function, e.change))
        };
        return Comparison::Diverged(format!(
            "event {i} differs: recorded \"{}\", replayed \"{}\"",
            show(trace.events.get(i)),
            show(events.get(i))
        ));
    }
    if verdict.oracle != trace.verdict.oracle || verdict.event != trace.verdict.event {
        return Comparison::Diverged(format!(
            "verdict differs: recorded {} at event {:?}, replayed {} at event {:?}",
            trace.verdict.oracle, trace.verdict.event, verdict.oracle, verdict.event
        ));
    }
    Comparison::Matches
}
