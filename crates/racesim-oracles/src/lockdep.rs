//! The lock-order oracle, lockdep-style: every time an actor takes a lock while holding
//! others, the order "held class -> new class" is recorded, across all schedules of a run. A
//! new order that closes a cycle with recorded ones is a possible deadlock, reported even when
//! no schedule deadlocked, with the two acquisitions side by side in the CPU0/CPU1 layout
//! kernel developers know from lockdep splats.
//!
//! Classes, not instances: every inode's `i_rwsem` is one class, as in lockdep. Nesting two
//! objects of one class is taken as annotated (`mutex_lock_nested()`), so it records no order.
//! Taking the same object again while holding it is lockdep's "possible recursive locking
//! detected" (a recursive read of a fair rwsem deadlocks as soon as a writer queues between the
//! two reads), reported whether or not a writer queued. Every report lists the locks the actor
//! holds, oldest first, with the events that took them.

use crate::{Oracle, Violation};
use racesim_kernel::event::{Change, Event, Names, SYNC_ACTOR};
use racesim_kernel::lock::{DeclaredKind, DeclaredLock, LockClass, LockKind};
use racesim_kernel::types::ActorId;

const N: usize = LockKind::COUNT;

/// How an order was first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub actor: String,
    /// Where the first lock was taken, and where the second.
    pub first: String,
    pub second: String,
    pub schedule: u64,
}

/// A recorded order, for carrying it into a trace: a lock-order finding depends on orders seen
/// in earlier schedules, which a replay of one schedule must be given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub from: LockKind,
    pub to: LockKind,
    pub example: Example,
}

/// The class named `name` (as [`LockKind::name`] spells it): a built-in class or one of
/// `declared`.
pub fn kind_named(name: &str, declared: &[DeclaredLock]) -> Option<LockKind> {
    LockKind::BUILTIN
        .into_iter()
        .find(|k| k.name() == name)
        .or_else(|| declared.iter().find(|d| d.name() == name).map(|d| LockKind::Declared(*d)))
}

/// Orders between lock classes seen so far in a run (kept across schedules). Classes are
/// indexed by [`LockKind::index`]; `kinds` remembers which class each index of a declared
/// class stands for (a run has one policy, so one class per slot).
#[derive(Clone, Debug)]
pub struct LockGraph {
    edges: Vec<Option<Example>>,
    kinds: Vec<Option<LockKind>>,
}

/// Per execution: which locks each actor holds (class and object), with the event that took
/// them.
#[derive(Clone, Debug, Default)]
pub struct Held {
    per_actor: Vec<Vec<(LockKind, Option<LockClass>, usize)>>,
}

impl Held {
    pub fn reset(&mut self) {
        self.per_actor.iter_mut().for_each(Vec::clear);
    }
}

impl Default for LockGraph {
    fn default() -> Self {
        LockGraph::new()
    }
}

impl LockGraph {
    pub fn new() -> Self {
        let mut kinds = vec![None; N];
        for k in LockKind::BUILTIN {
            kinds[k.index()] = Some(k);
        }
        LockGraph { edges: vec![None; N * N], kinds }
    }

    /// Every class seen so far (built-in and declared), in index order.
    fn all_kinds(&self) -> impl Iterator<Item = LockKind> + '_ {
        self.kinds.iter().flatten().copied()
    }

    fn add_edge(&mut self, from: LockKind, to: LockKind, example: Example) {
        self.kinds[from.index()] = Some(from);
        self.kinds[to.index()] = Some(to);
        self.edges[from.index() * N + to.index()] = Some(example);
    }

    fn edge(&self, from: LockKind, to: LockKind) -> Option<&Example> {
        self.edges[from.index() * N + to.index()].as_ref()
    }

    /// The orders first seen in schedules before `schedule`.
    pub fn orders_before(&self, schedule: u64) -> Vec<Order> {
        let mut orders = Vec::new();
        for from in self.all_kinds() {
            for to in self.all_kinds() {
                if let Some(example) = self.edge(from, to).filter(|e| e.schedule < schedule) {
                    orders.push(Order { from, to, example: example.clone() });
                }
            }
        }
        orders
    }

    /// Starts from orders recorded elsewhere (replaying a lock-order finding).
    pub fn seed(&mut self, orders: &[Order]) {
        for order in orders {
            self.add_edge(order.from, order.to, order.example.clone());
        }
    }

    /// A path of recorded orders from `from` to `to`, as classes.
    fn path(&self, from: LockKind, to: LockKind) -> Option<Vec<LockKind>> {
        let mut previous: [Option<LockKind>; N] = [None; N];
        let mut seen = [false; N];
        let mut queue = std::collections::VecDeque::from([from]);
        seen[from.index()] = true;
        while let Some(at) = queue.pop_front() {
            if at == to {
                let mut path = vec![to];
                let mut cursor = to;
                while let Some(p) = previous[cursor.index()] {
                    path.push(p);
                    cursor = p;
                }
                path.reverse();
                return Some(path);
            }
            for next in self.kinds.iter().flatten().copied() {
                if self.edge(at, next).is_some() && !seen[next.index()] {
                    seen[next.index()] = true;
                    previous[next.index()] = Some(at);
                    queue.push_back(next);
                }
            }
        }
        None
    }

    /// Follows the lock events in `log[first..]`: records orders, and returns the first one
    /// that closes a cycle. `schedule` numbers the schedule for messages.
    pub fn observe(
        &mut self,
        held: &mut Held,
        log: &[Event],
        first: usize,
        schedule: u64,
        names: &dyn Names,
    ) -> Option<Violation> {
        for (offset, event) in log[first..].iter().enumerate() {
            let at = first + offset;
            if event.actor == SYNC_ACTOR {
                continue;
            }
            let actor = event.actor as usize;
            if held.per_actor.len() <= actor {
                held.per_actor.resize(actor + 1, Vec::new());
            }
            let taken = match event.change {
                Change::LockAcquired { class, .. } => Some((class.kind(), Some(class))),
                // A new page enters the cache locked by its creator.
                Change::PageAdded { page, .. } => Some((LockKind::Page, Some(LockClass::Page(page)))),
                Change::LockReleased { class, .. } => {
                    let list = &mut held.per_actor[actor];
                    if let Some(i) = list.iter().rposition(|(_, c, _)| *c == Some(class)) {
                        list.remove(i);
                    } else if let Some(i) = list.iter().rposition(|(k, _, _)| *k == class.kind()) {
                        list.remove(i);
                    }
                    None
                }
                _ => None,
            };
            let Some((new, object)) = taken else { continue };
            // Lockdep's "possible recursive locking detected": the same lock object taken again
            // by its holder. Range locks (disjoint ranges of one tree nest), DAX entries (one
            // per index), i_dio_count (a counter), DAX page references (one per block) and
            // journal handles (jbd2 nests them) are not recursive in that sense.
            // A declared range lock nests as the range lock does.
            let recursive_kind = !matches!(
                new,
                LockKind::RangeLock | LockKind::DaxEntry | LockKind::DioCount | LockKind::DaxPin | LockKind::Journal
            ) && !matches!(new, LockKind::Declared(d) if d.kind() == DeclaredKind::Range);
            if recursive_kind
                && let Some(object) = object
                && let Some(&(_, _, first_at)) = held.per_actor[actor].iter().find(|(_, c, _)| *c == Some(object))
            {
                let message = format!(
                    "possible recursive locking detected: {} takes {} again, already holding it since {}; {}",
                    names.actor(event.actor),
                    describe(event, names),
                    describe(&log[first_at], names),
                    held_list(&held.per_actor[actor], log, names)
                );
                return Some(Violation { oracle: Oracle::LockOrder, event: at, actors: vec![event.actor], message });
            }
            for i in 0..held.per_actor[actor].len() {
                let (old, _, taken_at) = held.per_actor[actor][i];
                // Two objects of one class nested (two inodes' range locks, say) are taken as
                // annotated, as kernel code does with mutex_lock_nested(); the same object twice
                // is a deadlock, which the deadlock oracle reports.
                // i_dio_count is a counter and a DAX pin a page reference, not locks lockdep
                // tracks.
                let untracked = |k| matches!(k, LockKind::DioCount | LockKind::DaxPin);
                if old == new || untracked(old) || untracked(new) || self.edge(old, new).is_some() {
                    continue;
                }
                // Does the reverse order exist already (directly or through other classes)?
                if let Some(cycle) = self.path(new, old) {
                    let mut violation = self.report(&cycle, old, new, taken_at, at, event.actor, log, names);
                    violation.message.push_str(&format!("; {}", held_list(&held.per_actor[actor], log, names)));
                    return Some(violation);
                }
                let example = Example {
                    actor: names.actor(event.actor),
                    first: describe(&log[taken_at], names),
                    second: describe(event, names),
                    schedule,
                };
                self.add_edge(old, new, example);
            }
            held.per_actor[actor].push((new, object, at));
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        cycle: &[LockKind],
        old: LockKind,
        new: LockKind,
        taken_at: usize,
        at: usize,
        actor: ActorId,
        log: &[Event],
        names: &dyn Names,
    ) -> Violation {
        let chain: Vec<&str> = std::iter::once(old).chain(cycle.iter().copied()).map(|k| k.name()).collect();
        let mut message = format!(
            "possible circular locking dependency {}: {} takes {} while holding {}, but the reverse order was seen before",
            chain.join(" -> "),
            names.actor(actor),
            new.name(),
            old.name()
        );
        // The earlier order, first link of the reverse path.
        if let Some(example) = cycle.windows(2).next().and_then(|w| self.edge(w[0], w[1])) {
            message.push_str(&format!(
                "; existing dependency (schedule {}): {} took {} ({}) then {} ({})",
                example.schedule,
                example.actor,
                cycle[0].name(),
                example.first,
                cycle[1].name(),
                example.second
            ));
        }
        message.push_str(&format!(
            "; new dependency: {} took {} ({}) then {} ({})",
            names.actor(actor),
            old.name(),
            describe(&log[taken_at], names),
            new.name(),
            describe(&log[at], names)
        ));
        message.push_str(&format!(
            "; possible unsafe locking scenario: CPU0 lock({}) / CPU1 lock({}) / CPU1 lock({}) / CPU0 lock({}) *** DEADLOCK ***",
            old.name(),
            new.name(),
            old.name(),
            new.name()
        ));
        Violation { oracle: Oracle::LockOrder, event: at, actors: vec![actor], message }
    }
}

/// "locks held: ...", as lockdep lists them, oldest first.
fn held_list(held: &[(LockKind, Option<LockClass>, usize)], log: &[Event], names: &dyn Names) -> String {
    let locks: Vec<String> = held.iter().map(|&(_, _, at)| format!("#{at} {}", describe(&log[at], names))).collect();
    format!("{} lock{} held: {}", locks.len(), if locks.len() == 1 { "" } else { "s" }, locks.join(", "))
}

fn describe(event: &Event, names: &dyn Names) -> String {
    format!("{}: {}", event.function, event.change.describe(names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use racesim_kernel::event::NumericNames;
    use racesim_kernel::lock::LockMode;
    use racesim_kernel::types::PageRange;

    fn take(actor: u8, class: LockClass) -> Event {
        Event {
            actor,
            function: "f",
            change: Change::LockAcquired { class, mode: LockMode::Exclusive, range: PageRange::WHOLE },
        }
    }
    fn drop(actor: u8, class: LockClass) -> Event {
        Event {
            actor,
            function: "f",
            change: Change::LockReleased { class, mode: LockMode::Exclusive, range: PageRange::WHOLE },
        }
    }

    #[test]
    fn an_inversion_across_schedules_is_reported_and_replays_from_its_prior_orders() {
        let (a, b) = (LockClass::IRwsem(0), LockClass::MmapSem(0));
        let mut graph = LockGraph::new();
        let mut held = Held::default();
        // Schedule 0: actor 0 takes i_rwsem then mmap_sem. No schedule ever deadlocks.
        let first = vec![take(0, a), take(0, b), drop(0, b), drop(0, a)];
        assert!(graph.observe(&mut held, &first, 0, 0, &NumericNames).is_none());
        held.reset();
        // Schedule 1: actor 1 takes them the other way round.
        let second = vec![take(1, b), take(1, a)];
        let found = graph.observe(&mut held, &second, 0, 1, &NumericNames).expect("an inversion");
        assert_eq!(found.oracle, Oracle::LockOrder);
        assert_eq!(found.event, 1);
        assert!(found.message.contains("mmap_sem -> i_rwsem -> mmap_sem"), "{}", found.message);
        assert!(found.message.contains("existing dependency (schedule 0)"), "{}", found.message);
        // A replay of schedule 1 alone finds it only when given the orders of schedule 0.
        let prior = graph.orders_before(1);
        assert_eq!(prior.len(), 1);
        let mut fresh = LockGraph::new();
        assert!(fresh.observe(&mut Held::default(), &second, 0, 0, &NumericNames).is_none());
        let mut seeded = LockGraph::new();
        seeded.seed(&prior);
        assert!(seeded.observe(&mut Held::default(), &second, 0, 0, &NumericNames).is_some());
    }

    #[test]
    fn a_lock_taken_again_by_its_holder_is_recursive_locking_with_the_held_locks_listed() {
        let sem = LockClass::FaultLock(0);
        let shared = |class| Event {
            actor: 0,
            function: "f",
            change: Change::LockAcquired { class, mode: LockMode::Shared, range: PageRange::WHOLE },
        };
        let log = vec![take(0, LockClass::MmapSem(0)), shared(sem), shared(sem)];
        let found = LockGraph::new().observe(&mut Held::default(), &log, 0, 0, &NumericNames).expect("recursion");
        assert_eq!((found.oracle, found.event), (Oracle::LockOrder, 2));
        assert!(found.message.contains("possible recursive locking detected"), "{}", found.message);
        assert!(found.message.contains("2 locks held: #0"), "{}", found.message);
        // Two range locks of one tree nest.
        let ranges = vec![take(0, LockClass::RangeLock(0)), take(0, LockClass::RangeLock(0))];
        assert!(LockGraph::new().observe(&mut Held::default(), &ranges, 0, 0, &NumericNames).is_none());
    }

    #[test]
    fn nesting_two_objects_of_one_class_records_no_order() {
        let mut graph = LockGraph::new();
        let log = vec![take(0, LockClass::RangeLock(0)), take(0, LockClass::RangeLock(1))];
        assert!(graph.observe(&mut Held::default(), &log, 0, 0, &NumericNames).is_none());
        assert!(graph.orders_before(1).is_empty());
    }
}
