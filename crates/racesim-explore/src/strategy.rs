//! Exploration strategies: which runnable task runs next. Each is seeded from the run's seed and
//! the schedule's number only (ChaCha8 with one stream per schedule), so schedule `k` of seed
//! `s` is the same whatever ran before it, on any machine, and shuttle's `SHUTTLE_RANDOM_SEED`
//! (which overrides the seed of shuttle's own random schedulers) has no say.

use racesim_kernel::{Event, Kernel};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shuttle_engine::scheduler::TaskId;

/// Picks among the runnable tasks. Called only when there is a real choice (two or more).
pub trait Strategy {
    /// A new schedule begins.
    fn begin(&mut self, schedule: u64);
    fn choose(&mut self, runnable: &[TaskId], current: Option<TaskId>) -> Option<TaskId>;
    fn next_u64(&mut self) -> u64;
    /// The schedule just run had `choices` decisions (for strategies that calibrate).
    fn observe_length(&mut self, _choices: usize) {}
    /// A strategy that wants every scheduling point, forced ones included, with the event log
    /// so far ([`crate::exhaustive`]): the scheduler then calls [`Strategy::at_point`] instead
    /// of [`Strategy::choose`]; `None` from it abandons the rest of the execution as redundant
    /// (no outcome is collected from it).
    fn sees_every_point(&self) -> bool {
        false
    }
    fn at_point(
        &mut self,
        _log: &[Event],
        _kernel: &Kernel,
        runnable: &[TaskId],
        current: Option<TaskId>,
    ) -> Option<TaskId> {
        self.choose(runnable, current)
    }
    /// The execution just run produced `log` and left `kernel` (for strategies that see every
    /// point).
    fn execution_ended(&mut self, _log: &[Event], _kernel: &Kernel) {}
    /// Nothing is left to explore: the run ends, complete.
    fn exhausted(&self) -> bool {
        false
    }
    /// What an exhaustive search did.
    fn summary(&self) -> Option<crate::exhaustive::Summary> {
        None
    }
}

fn rng_for(seed: u64, schedule: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(schedule);
    rng
}

/// Uniformly random choice at every decision.
pub struct RandomWalk {
    seed: u64,
    rng: ChaCha8Rng,
}

impl RandomWalk {
    pub fn new(seed: u64) -> Self {
        RandomWalk { seed, rng: rng_for(seed, 0) }
    }
}

impl Strategy for RandomWalk {
    fn begin(&mut self, schedule: u64) {
        self.rng = rng_for(self.seed, schedule);
    }
    fn choose(&mut self, runnable: &[TaskId], _current: Option<TaskId>) -> Option<TaskId> {
        Some(runnable[self.rng.random_range(0..runnable.len())])
    }
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): tasks get random
/// distinct priorities, the highest-priority runnable task runs, and at `depth - 1` randomly
/// chosen decisions the running task drops to the lowest priority. A bug of depth `d` is found
/// with probability at least `1 / (n * k^(d-1))` per schedule.
pub struct Pct {
    seed: u64,
    depth: usize,
    rng: ChaCha8Rng,
    /// Priority per task id; higher runs first.
    priorities: Vec<u64>,
    change_points: Vec<usize>,
    decisions: usize,
    /// Estimated decisions per schedule (the longest seen so far), the `k` of PCT.
    length_estimate: usize,
    lowered: u64,
}

impl Pct {
    pub fn new(seed: u64, depth: usize) -> Self {
        Pct {
            seed,
            depth: depth.max(1),
            rng: rng_for(seed, 0),
            priorities: Vec::new(),
            change_points: Vec::new(),
            decisions: 0,
            length_estimate: 32,
            lowered: 0,
        }
    }

    fn priority(&mut self, task: TaskId) -> u64 {
        let index = usize::from(task);
        while self.priorities.len() <= index {
            // Initial priorities sit above every lowered one.
            let priority = self.depth as u64 + 1 + (self.rng.next_u64() >> 8);
            self.priorities.push(priority);
        }
        self.priorities[index]
    }
}

impl Strategy for Pct {
    fn begin(&mut self, schedule: u64) {
        self.rng = rng_for(self.seed, schedule);
        self.priorities.clear();
        self.decisions = 0;
        self.lowered = 0;
        self.change_points.clear();
        for _ in 1..self.depth {
            let point = self.rng.random_range(1..=self.length_estimate);
            self.change_points.push(point);
        }
    }

    fn choose(&mut self, runnable: &[TaskId], current: Option<TaskId>) -> Option<TaskId> {
        self.decisions += 1;
        if let Some(current) = current
            && self.change_points.contains(&self.decisions)
        {
            self.priority(current);
            self.lowered += 1;
            // Lowered priorities are 1..depth, below every initial one, later ones lower.
            self.priorities[usize::from(current)] = self.depth as u64 - self.lowered.min(self.depth as u64 - 1);
        }
        let mut best = runnable[0];
        let mut best_priority = self.priority(best);
        for &task in &runnable[1..] {
            let priority = self.priority(task);
            if priority > best_priority {
                best = task;
                best_priority = priority;
            }
        }
        Some(best)
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn observe_length(&mut self, choices: usize) {
        self.length_estimate = self.length_estimate.max(choices);
    }
}

/// Follows recorded decisions. A decision that names a task which cannot run, or running out
/// of decisions while there is still a choice to make, is a divergence.
pub struct Replay {
    decisions: Vec<u32>,
    next: usize,
    pub diverged: Option<String>,
}

impl Replay {
    pub fn new(decisions: Vec<u32>) -> Self {
        Replay { decisions, next: 0, diverged: None }
    }

    pub fn consumed_all(&self) -> bool {
        self.next == self.decisions.len()
    }
}

impl Strategy for Replay {
    fn begin(&mut self, _schedule: u64) {
        self.next = 0;
    }
    fn choose(&mut self, runnable: &[TaskId], _current: Option<TaskId>) -> Option<TaskId> {
        let Some(&wanted) = self.decisions.get(self.next) else {
            self.diverged =
                Some(format!("the trace has {} decisions, but the replay needs more", self.decisions.len()));
            return None;
        };
        let wanted = TaskId::from(wanted as usize);
        if !runnable.contains(&wanted) {
            self.diverged = Some(format!(
                "decision {} names task {}, which cannot run then (runnable: {:?})",
                self.next,
                usize::from(wanted),
                runnable.iter().map(|t| usize::from(*t)).collect::<Vec<_>>()
            ));
            return None;
        }
        self.next += 1;
        Some(wanted)
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// A decision that means "let the running task go on, if it can" (no preemption).
pub const KEEP_RUNNING: u32 = u32::MAX;

/// Follows decisions where they fit and never preempts where they do not: a recorded task that
/// cannot run, [`KEEP_RUNNING`], or running out of decisions all mean "continue the current
/// task if it can run, else the lowest-numbered runnable task". Deterministic; the minimizer
/// uses it to try schedules with fewer preemptions.
pub struct Guided {
    decisions: Vec<u32>,
    next: usize,
}

impl Guided {
    pub fn new(decisions: Vec<u32>) -> Self {
        Guided { decisions, next: 0 }
    }
}

impl Strategy for Guided {
    fn begin(&mut self, _schedule: u64) {
        self.next = 0;
    }
    fn choose(&mut self, runnable: &[TaskId], current: Option<TaskId>) -> Option<TaskId> {
        let wanted = self.decisions.get(self.next).copied();
        self.next += 1;
        if let Some(task) = wanted.filter(|&t| t != KEEP_RUNNING).map(|t| TaskId::from(t as usize))
            && runnable.contains(&task)
        {
            return Some(task);
        }
        match current {
            Some(task) if runnable.contains(&task) => Some(task),
            _ => runnable.iter().copied().min(),
        }
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// Follows a prefix of decisions, then chooses at random (seeded per schedule). Used to ask
/// whether a prefix already seals the outcome: if every continuation breaks the same oracle,
/// it does.
pub struct PrefixThenRandom {
    prefix: Vec<u32>,
    next: usize,
    seed: u64,
    rng: ChaCha8Rng,
}

impl PrefixThenRandom {
    pub fn new(prefix: Vec<u32>, seed: u64) -> Self {
        PrefixThenRandom { prefix, next: 0, seed, rng: rng_for(seed, 0) }
    }
}

impl Strategy for PrefixThenRandom {
    fn begin(&mut self, schedule: u64) {
        self.next = 0;
        self.rng = rng_for(self.seed, schedule);
    }
    fn choose(&mut self, runnable: &[TaskId], _current: Option<TaskId>) -> Option<TaskId> {
        let wanted = self.prefix.get(self.next).map(|&t| TaskId::from(t as usize));
        self.next += 1;
        match wanted {
            Some(task) if runnable.contains(&task) => Some(task),
            _ => Some(runnable[self.rng.random_range(0..runnable.len())]),
        }
    }
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// Runs with no preemption except the planned ones: at choice point `i` of a plan entry
/// `(i, task)`, switch to `task` if it can run; everywhere else keep the current task running
/// if it can, else run the lowest-numbered runnable task. Records what it saw at every choice
/// point, so that a search can enumerate where else to preempt. The minimizer's exhaustive
/// search over schedules with at most k preemptions is built on it.
pub struct Planned {
    plan: Vec<(usize, u32)>,
    next: usize,
    /// Per choice point: the task that was running (if any) and the runnable tasks.
    pub seen: Vec<(Option<u32>, Vec<u32>)>,
    /// Plan entries that were applied as real preemptions.
    pub applied: usize,
}

impl Planned {
    pub fn new(plan: Vec<(usize, u32)>) -> Self {
        Planned { plan, next: 0, seen: Vec::new(), applied: 0 }
    }
}

impl Strategy for Planned {
    fn begin(&mut self, _schedule: u64) {
        self.next = 0;
        self.seen.clear();
        self.applied = 0;
    }
    fn choose(&mut self, runnable: &[TaskId], current: Option<TaskId>) -> Option<TaskId> {
        let index = self.next;
        self.next += 1;
        let current_runnable = current.filter(|c| runnable.contains(c));
        self.seen
            .push((current.map(|c| usize::from(c) as u32), runnable.iter().map(|t| usize::from(*t) as u32).collect()));
        if let Some(&(_, task)) = self.plan.iter().find(|(at, _)| *at == index) {
            let task = TaskId::from(task as usize);
            if runnable.contains(&task) && current_runnable.is_some_and(|c| c != task) {
                self.applied += 1;
                return Some(task);
            }
        }
        current_runnable.or_else(|| runnable.iter().copied().min())
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
}
