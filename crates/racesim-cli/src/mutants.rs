//! `racesim mutants`: oracle sensitivity. Mutates every fixing policy one change at a time,
//! runs each mutant against the scenarios that expect its policy clean, and compares the
//! survivors with the expected-survivors list (`tests/mutants.toml`). The work is
//! `racesim_check::mutants`; this module prints it (docs/oracle-sensitivity.md).

use crate::output::{line, paint, record, style};
use crate::{Format, bad_input};
use racesim_check::mutants::{self, MutantResult, MutantSettings, Outcome, Survivors};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// Largest `--preemption-bound` of the exhaustive pass: beyond it a scenario's search is no
/// longer cheap.
pub const PREEMPTION_BOUND_MAX: u16 = 8;

#[derive(clap::Args)]
pub struct MutantsArgs {
    /// Scenario files or folders (searched recursively). Default: the project's scenarios/.
    paths: Vec<PathBuf>,
    /// Mutate only this policy: a built-in (or library name), `SCENARIO/VARIANT`, or a
    /// variant's name (every scenario's variant of that name). Repeatable. Default: every
    /// policy some scenario expects clean.
    #[arg(long, short)]
    policy: Vec<String>,
    /// Worker threads (1 to 256). Results are identical for any number.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=crate::JOBS_MAX as i64))]
    jobs: u16,
    /// Run only shard K of N of the sorted mutant list (every N-th mutant).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Schedules per scenario in the sampled pass (1 to 10^12).
    #[arg(long, short = 'n', default_value_t = MutantSettings::default().schedules,
          value_parser = clap::value_parser!(u64).range(1..=crate::run::SCHEDULES_MAX))]
    schedules: u64,
    /// Preemption bound of the exhaustive pass that follows the sampled one (0 to 8).
    #[arg(long, value_name = "B", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(0..=PREEMPTION_BOUND_MAX as i64))]
    preemption_bound: u16,
    /// Skip the exhaustive pass (sampling only: faster, may let mutants survive).
    #[arg(long)]
    no_exhaustive: bool,
    /// Seed of the sampled pass.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The expected survivors. Default: tests/mutants.toml next to the scenarios folder, if
    /// there is one.
    #[arg(long, value_name = "FILE")]
    survivors: Option<PathBuf>,
    /// Only list the mutants (and what the loader refuses), without running them.
    #[arg(long)]
    list: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub const AFTER_HELP: &str = "\
Exit codes of mutants:
  0  every survivor is listed in the survivors file, and every listed survivor survived
  1  a mutant survived that the list does not name, or a listed survivor was killed
  2  bad input: unreadable survivors file, unknown policy, bad arguments
  6  standard output could not be written
  130 interrupted by Ctrl-C: the mutants finished so far were reported

A mutant changes one thing in a policy that some scenario expects clean: one lock placement
removed, one exclusive placement taken shared, one range-lock range shrunk a step, or one
fix flag set back. It is killed when one of those scenarios now reports a violation.
docs/oracle-sensitivity.md explains the list of survivors.";

/// The survivors file next to the scenarios folder: `<root>/tests/mutants.toml`.
fn default_survivors(paths: &[PathBuf]) -> Option<PathBuf> {
    let folder = paths.iter().find(|p| p.is_dir())?;
    let root = folder.canonicalize().ok()?.parent()?.to_path_buf();
    let path = root.join("tests").join("mutants.toml");
    path.is_file().then_some(path)
}

pub fn mutants(args: MutantsArgs) -> u8 {
    crate::interrupt::install();
    let shard = match args.shard.as_deref().map(racesim_check::parse_shard) {
        None => None,
        Some(Some(shard)) => Some(shard),
        Some(None) => {
            return bad_input(format!("--shard wants K/N with 1 <= K <= N, got '{}'", args.shard.unwrap_or_default()));
        }
    };
    let paths = if args.paths.is_empty() {
        racesim_check::default_paths().into_iter().take(1).collect()
    } else {
        args.paths.clone()
    };
    let survivors_path = args.survivors.clone().or_else(|| default_survivors(&paths));
    let survivors = match &survivors_path {
        Some(path) => match Survivors::load(path) {
            Ok(list) => Some(list),
            Err(e) => return bad_input(e),
        },
        None => None,
    };
    let all = mutants::subjects(&paths);
    let subjects: Vec<_> = all.iter().filter(|s| mutants::selects(&args.policy, s)).cloned().collect();
    if let Some(unknown) = args.policy.iter().find(|n| !all.iter().any(|s| mutants::selects(&[(*n).clone()], s))) {
        let known: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
        return bad_input(format!(
            "no policy '{unknown}' is expected clean by a scenario in {}; the policies are {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            known.join(", ")
        ));
    }
    let generated = mutants::generate(&all, &subjects);
    let total = generated.len();
    let selected: Vec<_> = match shard {
        None => generated,
        Some((k, n)) => generated.into_iter().enumerate().filter(|(i, _)| i % n == k - 1).map(|(_, m)| m).collect(),
    };
    if args.list {
        for m in &selected {
            let state = match &m.policy {
                Ok(_) => format!("{} scenario runs", m.runs.len()),
                Err(e) => format!("refused: {e}"),
            };
            match args.format {
                Format::Human => line(format!("{}  ({state})", m.id())),
                Format::Json => record(
                    "mutants.mutant",
                    serde_json::json!({
                        "policy": m.subject,
                        "mutant": m.mutation,
                        "outcome": if m.policy.is_ok() { "generated" } else { "refused" },
                        "runs": m.runs.iter().map(|(t, p)| format!("{} [{}]", t.file, p.name)).collect::<Vec<_>>(),
                    }),
                ),
            }
        }
        return crate::exit::CLEAN;
    }
    let settings = MutantSettings {
        seed: args.seed,
        schedules: args.schedules,
        preemption_bound: (!args.no_exhaustive).then_some(usize::from(args.preemption_bound)),
        stop: Some(crate::interrupt::stop_flag()),
        ..MutantSettings::default()
    };
    let started = Instant::now();
    let show_progress = args.format == Format::Human && std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if show_progress {
            crate::output::stderr_text(format!(
                "\r\x1b[2K  mutants: {done}/{total}, {:.1}s",
                started.elapsed().as_secs_f64()
            ));
        }
    };
    let results = mutants::run_mutants(&selected, &settings, usize::from(args.jobs), &progress);
    if show_progress {
        crate::output::stderr_text("\r\x1b[2K");
    }
    let empty = Survivors::default();
    let list = survivors.as_ref().unwrap_or(&empty);
    let subject_ids: Vec<String> = subjects.iter().map(|s| s.id.clone()).collect();
    // Ctrl-C: the mutants finished so far are reported and judged (a listed survivor that was
    // not run is not "absent"), and the exit code says the run was cut short.
    let interrupted = crate::interrupt::requested();
    let judgement = mutants::judge(&results, list, &subject_ids, shard.is_none() && !interrupted);
    let seconds = started.elapsed().as_secs_f64();
    match args.format {
        Format::Human => print_human(&results, list, &judgement, subjects.len(), total, shard, seconds),
        Format::Json => print_json(&results, list, &judgement, subjects.len(), total, shard, seconds),
    }
    if survivors_path.is_none() && !judgement.unexpected_survivors.is_empty() {
        crate::output::stderr_line(
            "racesim: note: no survivors file (tests/mutants.toml); every survivor counts as unexpected",
        );
    }
    if interrupted {
        crate::output::stderr_line(format!(
            "racesim: interrupted (Ctrl-C): {} of {} mutants ran",
            results.len(),
            selected.len()
        ));
        return crate::exit::INTERRUPTED;
    }
    if judgement.holds() { crate::exit::CLEAN } else { crate::exit::VIOLATION }
}

fn count(results: &[MutantResult], name: &str) -> usize {
    results.iter().filter(|r| r.outcome.name() == name).count()
}

fn print_human(
    results: &[MutantResult],
    list: &Survivors,
    judgement: &mutants::Judgement,
    subjects: usize,
    total: usize,
    shard: Option<(usize, usize)>,
    seconds: f64,
) {
    for r in results {
        let (status, detail) = match &r.outcome {
            Outcome::Killed { scenario, oracle, pass, schedule } => {
                (paint(style::GOOD, "killed  "), format!("by {scenario}: {oracle} ({pass}, schedule {schedule})"))
            }
            Outcome::Refused { error } => ("refused ".to_string(), format!("by the loader: {error}")),
            Outcome::Survived { undecided } => {
                let undecided = if undecided.is_empty() {
                    String::new()
                } else {
                    format!(" [undecided: {}]", undecided.join(", "))
                };
                match list.find(&r.id()) {
                    Some(s) => {
                        (paint(style::WARN, "survived"), format!("listed, {}: {}{undecided}", s.kind.name(), s.reason))
                    }
                    None => (paint(style::BAD, "SURVIVED"), format!("not in the survivors list{undecided}")),
                }
            }
        };
        line(format!("{status} {}  {detail}", r.id()));
    }
    line("");
    line(format!(
        "summary{}: {} mutants of {subjects} policies in {seconds:.1}s (generated {total} in all)",
        shard.map_or(String::new(), |(k, n)| format!(" (shard {k}/{n})")),
        results.len()
    ));
    for name in ["killed", "survived", "refused"] {
        line(format!("  {name:<10} {:>5}", count(results, name)));
    }
    for (what, ids) in [
        ("survived but not listed (write the scenario, or list it with its reason)", &judgement.unexpected_survivors),
        ("listed but killed (take it off tests/mutants.toml)", &judgement.listed_but_killed),
        ("listed but not generated (renamed or gone)", &judgement.listed_but_absent),
    ] {
        if !ids.is_empty() {
            line(paint(style::BAD, format!("{what}:")));
            for id in ids {
                line(format!("  {id}"));
            }
        }
    }
}

fn print_json(
    results: &[MutantResult],
    list: &Survivors,
    judgement: &mutants::Judgement,
    subjects: usize,
    total: usize,
    shard: Option<(usize, usize)>,
    seconds: f64,
) {
    for r in results {
        let mut object = serde_json::json!({
            "policy": r.subject,
            "mutant": r.mutation,
            "outcome": r.outcome.name(),
            "runs": r.runs,
        });
        let fields = object.as_object_mut().expect("an object");
        match &r.outcome {
            Outcome::Killed { scenario, oracle, pass, schedule } => {
                fields.insert("killed_by".into(), scenario.clone().into());
                fields.insert("oracle".into(), oracle.clone().into());
                fields.insert("pass".into(), pass.clone().into());
                fields.insert("schedule".into(), (*schedule).into());
            }
            Outcome::Refused { error } => {
                fields.insert("error".into(), error.clone().into());
            }
            Outcome::Survived { undecided } => {
                fields.insert("undecided".into(), undecided.clone().into());
                let listed = list.find(&r.id());
                fields.insert("listed".into(), listed.is_some().into());
                if let Some(s) = listed {
                    fields.insert("kind".into(), s.kind.name().into());
                    fields.insert("reason".into(), s.reason.clone().into());
                }
            }
        }
        record("mutants.mutant", object);
    }
    record(
        "mutants.summary",
        serde_json::json!({
            "policies": subjects,
            "generated": total,
            "mutants": results.len(),
            "killed": count(results, "killed"),
            "survived": count(results, "survived"),
            "refused": count(results, "refused"),
            "unexpected_survivors": judgement.unexpected_survivors,
            "listed_but_killed": judgement.listed_but_killed,
            "listed_but_absent": judgement.listed_but_absent,
            "shard": shard.map(|(k, n)| format!("{k}/{n}")),
            "seconds": seconds,
            // Ctrl-C: `mutants` counts only those that finished.
            "interrupted": crate::interrupt::requested(),
            "exit_code": if crate::interrupt::requested() {
                crate::exit::INTERRUPTED
            } else if judgement.holds() {
                crate::exit::CLEAN
            } else {
                crate::exit::VIOLATION
            },
        }),
    );
}
