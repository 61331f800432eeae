//! Shared by the probe examples (development aids): the exhaustive strategy, wrapped to record
//! each execution's decisions (as a replay takes them: wherever more than one task can run)
//! and preemptions, and to hand them to the probe when the execution ends.

use racesim_explore::exhaustive::Exhaustive;
use racesim_explore::strategy::Strategy;
use racesim_kernel::Kernel;
use racesim_kernel::event::Event;
use shuttle_engine::scheduler::TaskId;

/// What a probe learns at the end of an execution: the strategy (after its own bookkeeping),
/// the log, the final state, the decisions and the preemptions.
pub type OnEnd = Box<dyn FnMut(&Exhaustive, &[Event], &Kernel, &[u32], usize)>;

pub struct Recording {
    inner: Exhaustive,
    decisions: Vec<u32>,
    preemptions: usize,
    on_end: OnEnd,
}

impl Recording {
    pub fn new(inner: Exhaustive, on_end: OnEnd) -> Self {
        Recording { inner, decisions: Vec::new(), preemptions: 0, on_end }
    }
}

impl Strategy for Recording {
    fn begin(&mut self, schedule: u64) {
        self.decisions.clear();
        self.preemptions = 0;
        Strategy::begin(&mut self.inner, schedule)
    }
    fn choose(&mut self, runnable: &[TaskId], current: Option<TaskId>) -> Option<TaskId> {
        self.inner.choose(runnable, current)
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
        let chosen = Strategy::at_point(&mut self.inner, log, kernel, runnable, current);
        if runnable.len() > 1
            && let Some(task) = chosen
        {
            self.decisions.push(usize::from(task) as u32);
            if current.is_some_and(|c| runnable.contains(&c) && c != task) {
                self.preemptions += 1;
            }
        }
        chosen
    }
    fn execution_ended(&mut self, log: &[Event], kernel: &Kernel) {
        self.inner.ended(log, kernel);
        (self.on_end)(&self.inner, log, kernel, &self.decisions, self.preemptions);
    }
    fn exhausted(&self) -> bool {
        self.inner.exhausted()
    }
    fn summary(&self) -> Option<racesim_explore::exhaustive::Summary> {
        Some(self.inner.summary.clone())
    }
}
