//! `racesim check`: the regression suite. Discovers cases in scenario folders and traces, takes
//! this shard's share, runs them on worker threads, prints one line per case (or JSON), a
//! summary table, writes the traces of unexpected findings and an optional JUnit report.

use crate::output::{line, paint, record, shell_quote, style, thousands, write_atomically};
use crate::{Format, bad_input};
use racesim_check::{Case, CaseResult, Settings, Status};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Scenario files, policy files, traces, or folders of them (searched recursively).
    /// Default: scenarios/ and traces/ of the project (the nearest folder, here or above, that
    /// holds a scenarios/ folder).
    paths: Vec<PathBuf>,
    /// Worker threads (1 to 256). Results are identical for any number.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=crate::JOBS_MAX as i64))]
    jobs: u16,
    /// Run only shard K of N (e.g. 2/3): every N-th case of the sorted list. Shards 1/N..N/N
    /// together run every case exactly once, so a CI matrix of N machines covers the suite.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Schedules per expectation case (1 to 10^12).
    #[arg(long, short = 'n', default_value_t = Settings::default().schedules,
          value_parser = clap::value_parser!(u64).range(1..=crate::run::SCHEDULES_MAX))]
    schedules: u64,
    /// Seed of every expectation case's exploration (as for `run`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How expectation cases pick the next actor: `random`, `pct`, `pct:N` or `exhaustive`.
    /// Default: what each scenario asks for (`verify = ...` for its clean expectations, else
    /// `strategy = ...`), random if it asks for nothing.
    #[arg(long)]
    strategy: Option<String>,
    /// Every case exhaustively, with at most B preemptions (implies `--strategy exhaustive`).
    #[arg(long, value_name = "B")]
    preemption_bound: Option<usize>,
    /// Where the traces of unexpected findings go.
    #[arg(long, default_value = crate::CHECK_OUT)]
    out: PathBuf,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub const AFTER_HELP: &str = "\
Exit codes of check (the most severe wins):
  0  every case passed
  4  nondeterminism: the same schedules logged differently twice (a racesim bug)
  1  a case failed: wrong verdict, window never reached, or a trace that no longer replays
  2  bad input: a file that is not a scenario or trace, a malformed scenario or trace
  5  stale traces only: a trace's scenario changed since it was recorded
  6  standard output could not be written (disk full, /dev/full)
  130 interrupted by Ctrl-C: the cases finished so far and a partial summary were printed
  101 internal error

Cases: for each scenario, one per policy in its [expect] table and one determinism check;
for each *.trace.json, one replay; for each policy file, one load. In folders, only what racesim
reads (*.toml, *.trace.json) is a case: a README, a JUnit report or notes beside them are skipped.";

pub fn check(args: CheckArgs) -> u8 {
    let strategy = match crate::run::parse_strategy(args.strategy.as_deref())
        .and_then(|s| crate::run::with_bound(s, args.preemption_bound))
    {
        Ok(strategy) => strategy,
        Err(e) => return bad_input(e),
    };
    let shard = match args.shard.as_deref().map(racesim_check::parse_shard) {
        None => None,
        Some(Some(shard)) => Some(shard),
        Some(None) => {
            return bad_input(format!("--shard wants K/N with 1 <= K <= N, got '{}'", args.shard.unwrap_or_default()));
        }
    };
    if args.jobs == 0
    /* refused by clap too */
    {
        return bad_input("--jobs must be at least 1");
    }
    crate::interrupt::install();
    let settings = Settings {
        strategy,
        seed: args.seed,
        schedules: args.schedules,
        stop: Some(crate::interrupt::stop_flag()),
        ..Settings::default()
    };
    let paths = if args.paths.is_empty() { racesim_check::default_paths() } else { args.paths.clone() };
    let cases: Vec<Case> = racesim_check::select_shard(racesim_check::discover(&paths), shard);
    if args.format == Format::Human {
        // Before the cases run (their lines come at the end): what is about to run, and a sign
        // that it started.
        line(format!(
            "checking {} cases{} with {} job{}",
            cases.len(),
            shard.map_or(String::new(), |(k, n)| format!(" (shard {k}/{n})")),
            args.jobs,
            if args.jobs == 1 { "" } else { "s" }
        ));
    }
    let started = Instant::now();
    let show_progress = args.format == Format::Human && std::io::stderr().is_terminal();
    let last_drawn = Mutex::new(Instant::now());
    let progress = |p: racesim_check::Progress| {
        if !show_progress {
            return;
        }
        let mut last = last_drawn.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed().as_millis() < 100 && p.done < p.total {
            return;
        }
        *last = Instant::now();
        crate::output::stderr_text(format!(
            "\r\x1b[2K  check: {}/{} cases, {} schedules, {:.1}s",
            p.done,
            p.total,
            thousands(p.schedules),
            started.elapsed().as_secs_f64()
        ));
    };
    let results = racesim_check::run_cases(&cases, &settings, usize::from(args.jobs), &progress);
    if show_progress {
        crate::output::stderr_text("\r\x1b[2K");
    }
    // Ctrl-C: the cases that finished are reported as usual, the rest did not run.
    let interrupted = crate::interrupt::requested();
    let replays = write_failure_traces(&results, &args.out);
    match args.format {
        Format::Human => {
            print_human(&results, &replays, started.elapsed().as_secs_f64(), shard);
            if interrupted {
                line(format!(
                    "{}: {} of {} cases finished; the other {} did not run",
                    paint(style::WARN, "interrupted (Ctrl-C)"),
                    results.len(),
                    cases.len(),
                    cases.len() - results.len()
                ));
            }
        }
        Format::Json => {
            for (r, replay) in results.iter().zip(&replays) {
                let object = serde_json::json!({
                    "case": r.id,
                    "file": r.file,
                    "name": r.name,
                    "status": r.status.name().to_lowercase(),
                    "message": r.message,
                    "schedules": r.schedules,
                    "coverage": r.coverage,
                    "replay": replay,
                    "seconds": r.duration.as_secs_f64(),
                });
                record("check.case", object);
            }
            let count = |s: Status| results.iter().filter(|r| r.status == s).count();
            record(
                "check.summary",
                serde_json::json!({
                    "cases": results.len(),
                    "pass": count(Status::Pass),
                    "fail": count(Status::Fail),
                    "stale": count(Status::Stale),
                    "bad_input": count(Status::BadInput),
                    "nondeterministic": count(Status::Nondeterministic),
                    "schedules": results.iter().map(|r| r.schedules).sum::<u64>(),
                    "seconds": started.elapsed().as_secs_f64(),
                    "shard": shard.map(|(k, n)| format!("{k}/{n}")),
                    "interrupted": interrupted,
                    "selected": cases.len(),
                    "exit_code": if interrupted { crate::exit::INTERRUPTED } else { racesim_check::exit_code(&results) },
                }),
            );
        }
    }
    if let Some(path) = &args.junit {
        let xml = racesim_check::junit::render(&results, &replays);
        if let Err(e) = write_atomically(path, &xml) {
            crate::output::stderr_line(format!("racesim: error: cannot write {}: {e}", path.display()));
            // A failed case or nondeterminism says more than the lost report.
            let code = racesim_check::exit_code(&results);
            return if code == racesim_check::exit::FAILED || code == racesim_check::exit::NONDETERMINISTIC {
                code
            } else {
                crate::exit::BAD_INPUT
            };
        }
    }
    if interrupted {
        return crate::exit::INTERRUPTED;
    }
    racesim_check::exit_code(&results)
}

/// Saves the trace of each unexpected finding; returns the replay command per result.
fn write_failure_traces(results: &[CaseResult], out: &std::path::Path) -> Vec<Option<String>> {
    results
        .iter()
        .map(|r| {
            let trace = r.trace.as_ref()?;
            let name = format!(
                "{}.{}.seed{}.schedule{}.trace.json",
                crate::run::safe_component(&trace.scenario.name),
                crate::run::safe_component(&trace.policy),
                trace.seed,
                trace.schedule
            );
            let path = out.join(name);
            match trace.save(&path) {
                Ok(()) => Some(format!("racesim replay {}", shell_quote(&path.display().to_string()))),
                Err(e) => {
                    crate::output::stderr_line(format!("racesim: warning: cannot write trace {}: {e}", path.display()));
                    None
                }
            }
        })
        .collect()
}

fn print_human(results: &[CaseResult], replays: &[Option<String>], seconds: f64, shard: Option<(usize, usize)>) {
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(20).min(70);
    for (r, replay) in results.iter().zip(replays) {
        let coverage = r.coverage.as_deref().map_or(String::new(), |c| format!("[{c}] "));
        let status = format!("{:<7}", r.status.name());
        let status = match r.status {
            Status::Pass => paint(style::GOOD, status),
            Status::Stale => paint(style::WARN, status),
            _ => paint(style::BAD, status),
        };
        line(format!("{status} {:<width$}  {coverage}{}", r.id, r.message));
        if let Some(command) = replay {
            line(format!("{:<7} {:<width$}  reproduce: {command}", "", ""));
        }
    }
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let schedules: u64 = results.iter().map(|r| r.schedules).sum();
    line("");
    line(format!(
        "summary{}: {} cases in {:.1}s, {} schedules",
        shard.map_or(String::new(), |(k, n)| format!(" (shard {k}/{n})")),
        results.len(),
        seconds,
        thousands(schedules)
    ));
    line("  status             cases");
    for status in [Status::Pass, Status::Fail, Status::Stale, Status::BadInput, Status::Nondeterministic] {
        line(format!("  {:<18} {:>5}", status.name(), count(status)));
    }
    // How the expectations were established: sampled, or what the exhaustive search showed.
    let mut coverages: Vec<&str> = results.iter().filter_map(|r| r.coverage.as_deref()).collect();
    coverages.sort_unstable();
    coverages.dedup();
    if !coverages.is_empty() {
        line("  expectations by coverage");
        for coverage in coverages {
            let n = results.iter().filter(|r| r.coverage.as_deref() == Some(coverage)).count();
            line(format!("  {coverage:<40} {n:>5}"));
        }
    }
}
