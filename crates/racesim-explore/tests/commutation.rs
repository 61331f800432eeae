//! The footprints the partial-order reduction trusts, checked against the model itself. The
//! exhaustive search never runs two orders of adjacent steps whose footprints do not conflict
//! (`racesim_oracles::judge_accesses`): it takes them to commute. Here that is tested the direct
//! way, on every shipped scenario under every policy it names: in sampled executions, each such
//! pair of adjacent steps of two actors is swapped and the schedule replayed; both orders must
//! end in the same verdict and, when clean, the same final state (canonical, frame numbers
//! aside) and the same events per actor. A footprint that leaves out what a step reads or writes
//! shows up here as a pair that does not commute, before it hides an interleaving from a
//! `verified` verdict (docs/exhaustive.md, "Soundness").

use racesim_explore::strategy::Strategy;
use racesim_kernel::event::{Access, Change};
use racesim_kernel::{Event, Kernel};
use racesim_oracles::OpInfo;
use racesim_scenario::Scenario;
use shuttle_engine::scheduler::TaskId;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Sampled executions per scenario and policy: 32 (about 187,000 pairs) reach both gaps this
/// test found (docs/exhaustive.md); 300 pass too (1.7 million pairs).
const SEEDS: u64 = 32;

fn scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Scenario::load(p).unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn ops_of(scenario: &Scenario) -> Vec<OpInfo> {
    let mut ops = Vec::new();
    let mut write = 0;
    for (actor, spec) in scenario.actors.iter().enumerate() {
        for (index, op) in spec.ops.iter().enumerate() {
            write += 1;
            ops.push(OpInfo { actor: actor as u8, op_index: index as u16, op: *op, write });
        }
    }
    ops
}

/// One scheduling point of an execution: who could run, who ran, and the footprint of the step
/// that followed (the events up to the next point, judged against the state after them, with
/// the fences armed by the steps before, as the exhaustive search computes it).
struct Point {
    runnable: Vec<u32>,
    chosen: u32,
    footprint: Vec<Access>,
    events: std::ops::Range<usize>,
}

/// A strategy that sees every point, forced ones included (as the exhaustive search does), and
/// follows a plan of choices, then picks at random.
struct Walk {
    ops: Vec<OpInfo>,
    plan: Vec<u32>,
    rng: u64,
    points: Vec<Point>,
    armed: Vec<u16>,
    /// Points where an actor ran (the plan's entries: main's points are not choices).
    choices: usize,
    /// The plan named a task that could not run at this choice.
    diverged: Option<usize>,
    end: Option<(Vec<Event>, Kernel)>,
}

impl Walk {
    /// Attributes the events since the last point to the step chosen there.
    fn close(&mut self, log: &[Event], kernel: &Kernel) {
        let Some(last) = self.points.last_mut() else { return };
        last.events.end = log.len();
        for event in &log[last.events.clone()] {
            let armed = matches!(event.change, Change::PteInstalled { ino, .. } if self.armed.contains(&ino));
            racesim_oracles::judge_accesses(&self.ops, event, armed, kernel, &mut last.footprint);
            if let Some(ino) = racesim_oracles::arms_fence(&self.ops, event)
                && !self.armed.contains(&ino)
            {
                self.armed.push(ino);
            }
        }
    }
}

struct Shared(Rc<RefCell<Walk>>);

impl Strategy for Shared {
    fn begin(&mut self, _schedule: u64) {}
    fn choose(&mut self, runnable: &[TaskId], _current: Option<TaskId>) -> Option<TaskId> {
        Some(runnable[0])
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn sees_every_point(&self) -> bool {
        true
    }
    fn at_point(&mut self, log: &[Event], kernel: &Kernel, runnable: &[TaskId], _: Option<TaskId>) -> Option<TaskId> {
        let mut walk = self.0.borrow_mut();
        walk.close(log, kernel);
        let ids: Vec<u32> = runnable.iter().map(|t| usize::from(*t) as u32).collect();
        let i = walk.choices;
        // Main first, never a choice (as in the exhaustive search).
        let chosen = if ids.contains(&0) {
            0
        } else if let Some(&wanted) = walk.plan.get(i) {
            if !ids.contains(&wanted) && walk.diverged.is_none() {
                walk.diverged = Some(i);
            }
            if ids.contains(&wanted) { wanted } else { ids[0] }
        } else {
            // splitmix64: a fixed, seeded walk.
            walk.rng = walk.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = walk.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ids[((z ^ (z >> 31)) % ids.len() as u64) as usize]
        };
        if chosen != 0 {
            walk.choices += 1;
        }
        let start = log.len();
        walk.points.push(Point { runnable: ids, chosen, footprint: Vec::new(), events: start..start });
        runnable.iter().copied().find(|t| usize::from(*t) as u32 == chosen)
    }
    fn execution_ended(&mut self, log: &[Event], kernel: &Kernel) {
        let mut walk = self.0.borrow_mut();
        walk.close(log, kernel);
        walk.end = Some((log.to_vec(), kernel.clone()));
    }
}

fn conflict(a: &[Access], b: &[Access]) -> bool {
    a.iter().any(|x| b.iter().any(|y| (x.write || y.write) && x.object.overlaps(y.object)))
}

/// What must not change when two commuting steps swap: the verdict, and for a clean run the
/// final state and what each actor did.
#[derive(PartialEq, Debug)]
enum Ending {
    Violation(racesim_oracles::Oracle),
    Clean { state: Box<Kernel>, per_actor: Vec<Vec<String>> },
}

/// Frame number -> its number in [`Kernel::canonical`]'s order (by file, index, allocation).
fn canonical_frames(kernel: &Kernel) -> Vec<usize> {
    let mut order: Vec<usize> = (0..kernel.pages.len()).collect();
    order.sort_by_key(|&p| (kernel.pages[p].ino, kernel.pages[p].index, p));
    let mut to = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        to[old] = new;
    }
    to
}

/// An event's text with its frame numbers (`page#N`, `page_lock(#N)`) in canonical order:
/// two insertions into different slots commute, and the frames they got are numbered by
/// allocation order.
fn renumber_frames(text: &str, frames: &[usize]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..=at]);
        let is_frame = rest[..at].ends_with("page") || rest[..at].ends_with("page_lock(");
        rest = &rest[at + 1..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) if is_frame => out.push_str(&frames.get(n).copied().unwrap_or(n).to_string()),
            _ => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// Runs one execution following `plan` (then at random from `seed`).
fn walk(scenario: &Scenario, policy: &racesim_kernel::Policy, plan: Vec<u32>, seed: u64) -> (Walk, Ending) {
    let walk = Rc::new(RefCell::new(Walk {
        ops: ops_of(scenario),
        plan,
        rng: seed,
        points: Vec::new(),
        armed: Vec::new(),
        choices: 0,
        diverged: None,
        end: None,
    }));
    let run = racesim_explore::run_one(scenario, policy, Box::new(Shared(walk.clone())), false);
    let walk = Rc::try_unwrap(walk).ok().expect("the run is over").into_inner();
    let ending = match (&run.violation, &walk.end) {
        (Some(v), _) => Ending::Violation(v.oracle),
        (None, Some((log, state))) => {
            let names = scenario.names();
            let frames = canonical_frames(state);
            let mut per_actor = vec![Vec::new(); scenario.actors.len() + 1];
            for e in log {
                let slot = (e.actor as usize).min(scenario.actors.len());
                let text = format!("{} {}", e.function, e.change.describe(&names));
                per_actor[slot].push(renumber_frames(&text, &frames));
            }
            Ending::Clean { state: Box::new(state.canonical()), per_actor }
        }
        (None, None) => panic!("{}: an execution ended without a state", scenario.path),
    };
    (walk, ending)
}

/// Small scenarios for footprints that no shipped scenario's sampled executions put side by
/// side: each names the policies it runs under (its expectations are not judged here).
fn litmus() -> Vec<Scenario> {
    let parse = |name: &str, body: &str| {
        let text = format!("format = 1\nname = \"{name}\"\ndescription = \"litmus\"\n{body}");
        Scenario::parse(&text, name).unwrap_or_else(|e| panic!("{e}"))
    };
    vec![
        // On a file of 1 KiB blocks, a truncate up against the page that straddles EOF:
        // page_mkwrite maps the buffers inside the i_size it sampled, and writeback zeroes,
        // and does not write, the blocks past i_size (a store put data there for the zeroing
        // to matter). Both read i_size, which the truncate writes.
        parse(
            "subpage_writeback_vs_truncate_up",
            r#"
[[file]]
name = "data"
pages = 1
block_size = 1024
mapped = [0]

[[actor]]
name = "app"
ops = [
  { op = "truncate", file = "data", blocks = 2 },
  { op = "store", file = "data", page = 0, block = 3 },
  { op = "writeback", file = "data" },
]

[[actor]]
name = "grow"
ops = [{ op = "truncate", file = "data", size = 1 }]

[expect]
legacy = "clean"
"xfs-5.3" = "clean"
"#,
        ),
    ]
}

/// Sampled executions per litmus scenario and policy (they are small: more seeds are cheap).
const LITMUS_SEEDS: u64 = 256;

/// What checking some scenarios found: pairs swapped, (scenario, policy) cases, and the pairs
/// that did not commute.
#[derive(Default)]
struct Checked {
    pairs: u64,
    cases: u64,
    failures: Vec<String>,
}

/// Swaps every pair of adjacent independent steps of `seeds` sampled executions of each
/// scenario under each policy it names, and compares the two ends.
fn check_commutation(scenarios: Vec<Scenario>, seeds: u64) -> Checked {
    let Checked { mut pairs, mut cases, mut failures } = Checked::default();
    for scenario in scenarios {
        for (name, _) in &scenario.expect {
            let policy = scenario.policy(name).unwrap_or_else(|| panic!("{}: policy {name}", scenario.path));
            cases += 1;
            for seed in 0..seeds {
                let (original, ending) = walk(&scenario, &policy, Vec::new(), seed);
                let chosen: Vec<u32> = original.points.iter().map(|p| p.chosen).filter(|&c| c != 0).collect();
                let mut choice = 0;
                for k in 0..original.points.len().saturating_sub(1) {
                    if original.points[k].chosen != 0 {
                        choice += 1;
                    }
                    let (a, b) = (&original.points[k], &original.points[k + 1]);
                    // Main's steps are never reordered by the search; the second step's actor
                    // must have been able to run at the first point (a step that enables
                    // another is ordered by the search's enabled sets, not by footprints).
                    if a.chosen == b.chosen
                        || a.chosen == 0
                        || b.chosen == 0
                        || !a.runnable.contains(&b.chosen)
                        || conflict(&a.footprint, &b.footprint)
                    {
                        continue;
                    }
                    let mut plan = chosen.clone();
                    plan.swap(choice - 1, choice);
                    let (swapped, swapped_ending) = walk(&scenario, &policy, plan, seed);
                    pairs += 1;
                    let complete = matches!(ending, Ending::Violation(_))
                        || (swapped.diverged.is_none() && swapped.points.len() == original.points.len());
                    if !complete || swapped_ending != ending {
                        let names = scenario.names();
                        let show = |p: &Point| {
                            let log = &original.end.as_ref().map(|e| &e.0[..]).unwrap_or(&[]);
                            log.get(p.events.clone())
                                .unwrap_or(&[])
                                .iter()
                                .map(|e| e.describe(&names))
                                .collect::<Vec<_>>()
                                .join("; ")
                        };
                        let got = match (&swapped.diverged, &swapped_ending) {
                            (Some(i), _) => format!("diverged at point {i}"),
                            (None, Ending::Violation(o)) => format!("violation {o}"),
                            (None, Ending::Clean { .. }) => "clean, another end".to_string(),
                        };
                        let was = match &ending {
                            Ending::Violation(o) => format!("violation {o}"),
                            Ending::Clean { .. } => "clean".to_string(),
                        };
                        failures.push(format!(
                            "{} under {name}, seed {seed}, points {k} and {}: was {was}, swapped {got}\n  [{}]\n  [{}]",
                            scenario.path,
                            k + 1,
                            show(a),
                            show(b)
                        ));
                    }
                }
            }
        }
    }
    Checked { pairs, cases, failures }
}

fn assert_commute(checked: &Checked) {
    assert!(
        checked.failures.is_empty(),
        "{} pair(s) of independent steps do not commute:\n{}",
        checked.failures.len(),
        checked.failures.join("\n")
    );
}

#[test]
fn steps_whose_footprints_do_not_conflict_commute() {
    let checked = check_commutation(scenarios(), SEEDS);
    let (pairs, cases) = (checked.pairs, checked.cases);
    assert!(cases > 300 && pairs > 100_000, "too few pairs checked: {pairs} in {cases} cases");
    assert_commute(&checked);
}

#[test]
fn steps_of_the_litmus_scenarios_commute_where_their_footprints_say_so() {
    let checked = check_commutation(litmus(), LITMUS_SEEDS);
    assert!(checked.pairs > 1_000, "too few pairs checked: {}", checked.pairs);
    assert_commute(&checked);
}
