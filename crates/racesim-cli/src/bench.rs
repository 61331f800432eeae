//! `racesim bench`: throughput (schedules per second), cost per step and time to first
//! violation of a scenario under each policy, next to plain shuttle running a body with the
//! same number of tasks and scheduling points, and the resident memory after the first
//! thousand schedules and at the end (it must stay flat).

use crate::output::{line, thousands};
use crate::run::resolve;
use crate::{Format, bad_input, exit};
use racesim_explore::ExploreConfig;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The scenario to measure.
    #[arg(default_value = "scenarios/collapse_mmap.toml")]
    scenario: PathBuf,
    /// Policies (as for `run`); default: the scenario's.
    #[arg(long, short)]
    policy: Option<String>,
    /// Complete schedules to run per policy (violations do not stop the measurement); 1 to 10^12.
    #[arg(long, short = 'n', default_value_t = 20_000,
          value_parser = clap::value_parser!(u64).range(1..=crate::run::SCHEDULES_MAX))]
    schedules: u64,
    /// `random`, `pct`, `pct:N` or `exhaustive` (then also: executions, distinct traces,
    /// executions per distinct trace; the search stops when complete or at --schedules).
    /// Default: the scenario's `strategy`, else random.
    #[arg(long)]
    strategy: Option<String>,
    /// With `exhaustive` (implied): at most B preemptions.
    #[arg(long, value_name = "B")]
    preemption_bound: Option<usize>,
    /// With `exhaustive`: explore only shard K of N of the search tree (as `run --shard`), and
    /// show the shard's own and foreign executions (its balance against the others).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Resident set size of this process in KiB, from /proc (Linux); None elsewhere.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Plain shuttle: `tasks` threads, `yields` scheduling points in all, a random scheduler.
/// Returns schedules per second and scheduling decisions per schedule.
fn plain_shuttle(tasks: usize, yields: u64, schedules: u64, seed: u64) -> (f64, f64) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let per_task = (yields as usize).div_ceil(tasks.max(1));
    let decisions = Arc::new(AtomicU64::new(0));
    struct Counting<S> {
        inner: S,
        decisions: Arc<AtomicU64>,
    }
    impl<S: shuttle::scheduler::Scheduler> shuttle::scheduler::Scheduler for Counting<S> {
        fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
            self.inner.new_execution()
        }
        fn next_task(
            &mut self,
            runnable: &[&shuttle::scheduler::Task],
            current: Option<shuttle::scheduler::TaskId>,
            is_yielding: bool,
        ) -> Option<shuttle::scheduler::TaskId> {
            self.decisions.fetch_add(1, Ordering::Relaxed);
            self.inner.next_task(runnable, current, is_yielding)
        }
        fn next_u64(&mut self) -> u64 {
            self.inner.next_u64()
        }
    }
    let scheduler = Counting {
        inner: shuttle::scheduler::RandomScheduler::new_from_seed(seed, schedules as usize),
        decisions: decisions.clone(),
    };
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    let started = Instant::now();
    shuttle::Runner::new(scheduler, config).run(move || {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                shuttle::thread::spawn(move || {
                    for _ in 0..per_task {
                        shuttle::thread::yield_now();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    (schedules as f64 / seconds, decisions.load(Ordering::Relaxed) as f64 / schedules as f64)
}

pub fn bench(args: BenchArgs) -> u8 {
    crate::interrupt::install();
    let (scenario, policies, strategy) = match resolve(&args.scenario, args.policy.as_deref(), args.strategy.as_deref())
    {
        Ok(resolved) => resolved,
        Err(code) => return code,
    };
    let strategy = match (args.preemption_bound, args.strategy.as_deref()) {
        (None, _) => strategy,
        (Some(b), None | Some("exhaustive")) => racesim_explore::StrategyKind::Exhaustive { preemption_bound: Some(b) },
        (Some(_), Some(other)) => {
            return bad_input(format!("--preemption-bound goes with --strategy exhaustive, not {other}"));
        }
    };
    if args.schedules == 0 {
        return bad_input("--schedules must be at least 1");
    }
    let shard = match crate::run::parse_search_shard(args.shard.as_deref(), strategy) {
        Ok(shard) => shard,
        Err(message) => return bad_input(message),
    };
    if args.format == Format::Human {
        line(format!(
            "bench {} ({}), {} schedules per policy, {} seed {}, release build: {}",
            scenario.name,
            scenario.path,
            thousands(args.schedules),
            strategy.label(),
            args.seed,
            !cfg!(debug_assertions)
        ));
        line(format!(
            "  {:<32} {:>12} {:>10} {:>9} {:>12} {:>12} {:>9} {:>10} {:>10} {:>13}",
            "policy",
            "schedules/s",
            "steps/sch",
            "ns/step",
            "shuttle/s",
            "shuttle ns",
            "ratio",
            "1st found",
            "RSS KiB",
            "ref mean/max"
        ));
    }
    for policy in &policies {
        let config = ExploreConfig {
            stop_at_first_finding: false,
            count_traces: strategy.is_exhaustive(),
            shard,
            ..ExploreConfig::new(strategy, args.seed, args.schedules)
        };
        let rss_early = std::rc::Rc::new(std::cell::Cell::new(None));
        let probe = rss_early.clone();
        let started = Instant::now();
        let report = racesim_explore::explore(
            &scenario,
            policy,
            &config,
            Box::new(move |p| {
                if p.schedules == 1_000 {
                    probe.set(rss_kib());
                }
                !crate::interrupt::requested()
            }),
        );
        let seconds = started.elapsed().as_secs_f64();
        if crate::interrupt::requested() {
            // Ctrl-C: what was measured so far, and no baseline runs after it.
            let text = format!(
                "{} schedules in {seconds:.1}s ({:.0} schedules/s), {} violating",
                thousands(report.progress.schedules),
                report.progress.schedules as f64 / seconds.max(1e-9),
                thousands(report.findings)
            );
            match args.format {
                Format::Human => {
                    line(format!("  {:<32} interrupted (Ctrl-C) after {text}", policy.name));
                }
                Format::Json => crate::output::record(
                    "bench",
                    serde_json::json!({
                        "scenario": scenario.name,
                        "policy": policy.name,
                        "interrupted": true,
                        "schedules": report.progress.schedules,
                        "seconds": seconds,
                        "violating_schedules": report.findings,
                    }),
                ),
            }
            return exit::INTERRUPTED;
        }
        let rss_end = rss_kib();
        let schedules = report.progress.schedules.max(1);
        let rate = schedules as f64 / seconds;
        let steps_per_schedule = report.progress.steps as f64 / schedules as f64;
        let ns_per_step = seconds * 1e9 / report.progress.steps.max(1) as f64;
        // Time to first violation: the ordinary run, stopping at the first finding.
        let first = Instant::now();
        let found = racesim_explore::explore(
            &scenario,
            policy,
            &ExploreConfig { stop_at_first_finding: true, ..config.clone() },
            Box::new(|_| !crate::interrupt::requested()),
        );
        let first_seconds = first.elapsed().as_secs_f64();
        if crate::interrupt::requested() {
            if args.format == Format::Human {
                line(format!("  {:<32} interrupted (Ctrl-C) while timing the first violation", policy.name));
            }
            return exit::INTERRUPTED;
        }
        let first_text = match &found.finding {
            Some(f) => format!("#{} {:.1}ms", f.schedule, first_seconds * 1e3),
            None => "none".to_string(),
        };
        let (shuttle_rate, shuttle_decisions) = plain_shuttle(
            scenario.actors.len(),
            steps_per_schedule.round() as u64,
            args.schedules.min(100_000),
            args.seed,
        );
        let shuttle_ns = 1e9 / (shuttle_rate * shuttle_decisions.max(1.0));
        let ratio = rate / shuttle_rate;
        let rss_early = rss_early.get();
        // The end-state (reference model) searches: configurations per schedule.
        let search_mean = report.search_nodes_total as f64 / schedules as f64;
        if let Some(summary) = &report.exhaustive {
            let distinct = summary.distinct_traces.unwrap_or(0);
            let per_trace = summary.executions as f64 / distinct.max(1) as f64;
            // Coverage words are a clean run's; with violations, say how many and whether
            // the search finished.
            // A shard verifies only its part of the search: say which.
            let what = match crate::run::coverage_text(&report) {
                Some(c) if report.findings == 0 => c,
                _ if summary.complete => format!("complete, {} violating", thousands(report.findings)),
                _ => format!("incomplete, {} violating", thousands(report.findings)),
            };
            // A shard's own executions are its share of the search; its foreign ones (the first
            // execution of each other shard's subtree) are the price of dealing without talking.
            let shard_text = summary.shard.map_or(String::new(), |s| {
                format!(
                    ", shard {}/{}: {} own + {} foreign",
                    s.index + 1,
                    s.count,
                    thousands(summary.executions - summary.foreign),
                    thousands(summary.foreign)
                )
            });
            match args.format {
                Format::Human => line(format!(
                    "  {:<32} exhaustive: {} executions ({what}){shard_text}, {} distinct traces, {:.0} executions/s, {:.2} executions per distinct trace, {} redundant",
                    policy.name,
                    thousands(summary.executions),
                    thousands(distinct),
                    rate,
                    per_trace,
                    thousands(summary.redundant)
                )),
                Format::Json => line(
                    serde_json::json!({
                        "scenario": scenario.name,
                        "policy": policy.name,
                        "exhaustive": true,
                        "coverage": what,
                        "executions": summary.executions,
                        "distinct_traces": distinct,
                        "redundant_executions": summary.redundant,
                        "shard": summary.shard.map(|s| format!("{}/{}", s.index + 1, s.count)),
                        "own_executions": summary.executions - summary.foreign,
                        "foreign_executions": summary.foreign,
                        "executions_per_second": rate,
                        "executions_per_distinct_trace": per_trace,
                    })
                    .to_string(),
                ),
            }
        }
        match args.format {
            Format::Human => line(format!(
                "  {:<32} {:>12.0} {:>10.1} {:>9.0} {:>12.0} {:>12.0} {:>8.2}x {:>10} {:>10} {:>13}",
                policy.name,
                rate,
                steps_per_schedule,
                ns_per_step,
                shuttle_rate,
                shuttle_ns,
                ratio,
                first_text,
                match (rss_early, rss_end) {
                    (Some(a), Some(b)) => format!("{a}->{b}"),
                    (None, Some(b)) => b.to_string(),
                    _ => "n/a".into(),
                },
                format!("{search_mean:.1}/{}", report.search_nodes_max)
            )),
            Format::Json => crate::output::record(
                "bench",
                serde_json::json!({
                    "scenario": scenario.name,
                    "policy": policy.name,
                    "schedules": report.progress.schedules,
                    "seconds": seconds,
                    "schedules_per_second": rate,
                    "steps_per_schedule": steps_per_schedule,
                    "ns_per_step": ns_per_step,
                    "violating_schedules": report.findings,
                    "plain_shuttle_schedules_per_second": shuttle_rate,
                    "plain_shuttle_ns_per_decision": shuttle_ns,
                    "ratio_to_plain_shuttle": ratio,
                    "first_violation_schedule": found.finding.as_ref().map(|f| f.schedule),
                    "first_violation_seconds": found.finding.as_ref().map(|_| first_seconds),
                    "rss_kib_after_1000_schedules": rss_early,
                    "rss_kib_at_end": rss_end,
                    "reference_search_nodes_mean": search_mean,
                    "reference_search_nodes_max": report.search_nodes_max,
                }),
            ),
        }
    }
    if args.format == Format::Human {
        line(
            "  ratio = racesim schedules/s over plain shuttle's with the same tasks and scheduling points; target >= 0.5",
        );
        line(
            "  ref = configurations the end-state searches (lost write, stale data) visited per schedule: mean/costliest",
        );
    }
    exit::CLEAN
}
