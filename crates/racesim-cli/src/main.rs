//! `racesim`: explore, replay, check, minimize, explain, draw and benchmark race scenarios of
//! the Linux page cache.
//!
//! This crate owns the command line (arguments parsed by clap, then validated into plans),
//! printing (human and JSON), files (reading scenarios and traces, writing traces) and the
//! clock (time budgets, progress, benchmarks) and signals (Ctrl-C, [`interrupt`]). Everything
//! it prints comes from values the
//! library crates return.

mod bench;
mod check;
mod interrupt;
mod migrate;
mod minimize;
mod mutants;
mod output;
mod policy;
mod replay;
mod run;
mod show;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, documented in README.md and `racesim --help`.
pub mod exit {
    /// No violation found (run), or a clean trace replayed identically.
    pub const CLEAN: u8 = 0;
    /// A violation was found (run) or reproduced (replay).
    pub const VIOLATION: u8 = 1;
    /// Bad input or usage: unreadable or malformed scenario or trace, unknown policy.
    pub const BAD_INPUT: u8 = 2;
    /// The replay did not reproduce the recorded trace.
    pub const DIVERGED: u8 = 3;
    /// Standard output could not be written (`> /dev/full`, a full disk); a closed pipe is not
    /// an error. 4 and 5 are `racesim check`'s own.
    pub const STDOUT: u8 = 6;
    /// Ctrl-C (SIGINT) stopped `run`, `check` or `bench` early: what was explored so far was
    /// printed, and is no verdict. 128 + SIGINT, as shells report a process ended by it.
    pub const INTERRUPTED: u8 = 130;
    // 101: internal error (a racesim bug; Rust's exit code for a panic).
}

const AFTER_HELP: &str = "\
Exit codes (README.md has them per command; check has its own, see racesim check --help):
  0    no violation found (run); trace replayed clean and identical (replay); minimize,
       explain, show, migrate succeeded
  1    a violation was found (run) or reproduced (replay)
  2    bad input or usage: malformed scenario or trace, unknown policy, bad arguments
  3    the trace no longer replays (replay diverged; minimize, explain, show refuse it)
  6    standard output could not be written (disk full, /dev/full); a closed pipe is not an error
  130  interrupted by Ctrl-C (run, check, bench): the partial summary was printed; a second
       Ctrl-C quits at once
  101  internal error (a racesim bug; please report it with the command that caused it)

Examples:
  racesim run scenarios/collapse_mmap.toml
  racesim run scenarios/collapse_mmap.toml --policy legacy --seed 7 --schedules 100000
  racesim run scenarios/mkwrite_punch.toml --policy all --strategy pct:3 --format json
  racesim replay racesim-out/collapse_mmap.legacy.seed1.schedule3.trace.json
  racesim check --jobs 2 --junit racesim-out/junit.xml
  racesim mutants --jobs 2
  racesim bench scenarios/collapse_mmap.toml --schedules 20000";

#[derive(Parser)]
#[command(
    name = "racesim",
    version,
    about = "Deterministic race explorer for Linux page-cache locking designs",
    long_about = "racesim explores the interleavings of a small virtual kernel (page cache, page tables, \
block map, allocator, i_size, mmap_sem, page locks, range locks) running the actors of a scenario, \
under a locking policy, until an oracle fires: stale data, write to a freed block, lost write, \
mapping beyond EOF, deadlock. Every finding is a trace that replays bit for bit.",
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// One JSON object per line on stdout, nothing else.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Explore a scenario under one or more locking policies and report what breaks.
    #[command(after_help = AFTER_HELP)]
    Run(run::RunArgs),
    /// Re-execute a recorded trace step by step and check it reproduces its event log.
    #[command(after_help = AFTER_HELP)]
    Replay(replay::ReplayArgs),
    /// Run the regression suite: every scenario's expectations, determinism, and every trace.
    #[command(after_help = check::AFTER_HELP)]
    Check(check::CheckArgs),
    /// Shrink a failing trace: fewer preemptions, then fewer steps, then fewer operations.
    Minimize(minimize::MinimizeArgs),
    /// Explain a trace: CPU0/CPU1 columns, the race window, the step that sealed the outcome.
    Explain(show::ExplainArgs),
    /// Draw a trace: an interactive HTML swimlane timeline, a static SVG, or JSON.
    Show(show::ShowArgs),
    /// Oracle sensitivity: mutate every fixing policy one change at a time and check that a
    /// scenario notices each mutant (or that the survivors list says why none does).
    #[command(after_help = mutants::AFTER_HELP)]
    Mutants(mutants::MutantsArgs),
    /// Read a policy as a lock table: each operation and phase, lock, mode, range, taken/released.
    Policy(policy::PolicyArgs),
    /// Rewrite traces of an older trace format in the current one (embedding their scenario).
    Migrate(migrate::MigrateArgs),
    /// Print a shell completion script: `racesim completions bash > /etc/bash_completion.d/racesim`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `racesim man > racesim.1 && man ./racesim.1`.
    Man,
    /// Measure schedules per second and cost per step against plain shuttle.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { exit::BAD_INPUT } else { exit::CLEAN });
        }
    };
    let code = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Replay(args) => replay::replay(args),
        Command::Check(args) => check::check(args),
        Command::Minimize(args) => minimize::minimize(args),
        Command::Explain(args) => show::explain(args),
        Command::Show(args) => show::show(args),
        Command::Policy(args) => policy::policy(args),
        Command::Mutants(args) => mutants::mutants(args),
        Command::Migrate(args) => migrate::migrate(args),
        Command::Bench(args) => bench::bench(args),
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "racesim", &mut text);
            output::line(String::from_utf8_lossy(&text).trim_end_matches('\n'));
            exit::CLEAN
        }
        Command::Man => {
            let mut text = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut text) {
                Ok(()) => {
                    output::line(String::from_utf8_lossy(&text).trim_end_matches('\n'));
                    exit::CLEAN
                }
                Err(e) => bad_input(format!("cannot render the man page: {e}")),
            }
        }
    };
    ExitCode::from(code)
}

/// Prints a bad-input error and returns its exit code.
pub fn bad_input(message: impl std::fmt::Display) -> u8 {
    crate::output::stderr_line(format!("racesim: error: {message}"));
    exit::BAD_INPUT
}

/// Prints a bad scenario or policy file: the `file:line:column: message` line, then (when the
/// error has a position and the file can be read) the source line with a caret under the
/// column, as compilers show it. Returns the bad-input exit code.
pub fn bad_file(error: &racesim_scenario::ScenarioError) -> u8 {
    crate::output::stderr_line(format!("racesim: error: {error}"));
    if let Some(snippet) = snippet(error) {
        crate::output::stderr_line(snippet);
    }
    exit::BAD_INPUT
}

/// The source line of `error` with a caret under its column; `None` without a position or a
/// readable file.
fn snippet(error: &racesim_scenario::ScenarioError) -> Option<String> {
    if error.line == 0 {
        return None;
    }
    let text = racesim_scenario::read_input(std::path::Path::new(&error.path), "file").ok()?;
    let source = text.lines().nth(error.line - 1)?;
    // A long line is shown around the column: the caret must stay on screen.
    const SHOWN_CHARS_MAX: usize = 100;
    let chars: Vec<char> = source.chars().collect();
    let column = error.column.saturating_sub(1).min(chars.len());
    let start = column.saturating_sub(SHOWN_CHARS_MAX / 2);
    let end = (start + SHOWN_CHARS_MAX).min(chars.len());
    let shown: String = chars[start..end].iter().collect();
    let lead = if start > 0 { "..." } else { "" };
    let tail = if end < chars.len() { "..." } else { "" };
    // Tabs stay tabs under the caret, so it lines up however the terminal expands them.
    let pad: String =
        lead.chars().chain(chars[start..column].iter().copied()).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    let number = error.line.to_string();
    let gutter = " ".repeat(number.len());
    Some(format!("{gutter} |\n{number} | {lead}{shown}{tail}\n{gutter} | {pad}^"))
}

/// Upper bound of `--jobs`: worker threads beyond this only cost memory.
pub const JOBS_MAX: u16 = 256;

/// Where traces go unless `--out` says otherwise.
pub const OUT: &str = "racesim-out";
/// Where `racesim check` writes the traces of unexpected findings.
pub const CHECK_OUT: &str = "racesim-out/check";

pub fn default_out() -> PathBuf {
    PathBuf::from(OUT)
}
