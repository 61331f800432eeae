//! Ctrl-C during `run`, `check`, `bench` and `mutants`: the first SIGINT asks the exploration to stop at
//! the next schedule boundary (or at the mid-schedule check the time budget uses), and the
//! command prints what it has so far and exits with [`crate::exit::INTERRUPTED`]; a second
//! SIGINT exits at once with the same code. The explorer knows nothing of signals: the CLI
//! hands it a stop flag through the budget callback it already asks between schedules.
//!
//! Traces are written through `racesim_trace::write_file`'s atomic writer, so even the second
//! Ctrl-C, which ends racesim wherever it is, leaves no half-written trace.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first SIGINT (in the signal handler: an atomic store is async-signal-safe).
fn flag() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Installs the SIGINT handlers (once; later calls do nothing). signal-hook's pair does both
/// halves inside the handler: the conditional shutdown, registered first, exits only when the
/// flag is already set (a second Ctrl-C); the flag registration sets it (the first).
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::SIGINT;
            let code = i32::from(crate::exit::INTERRUPTED);
            // Failing to install leaves Ctrl-C as it was (ending racesim at once): not worth
            // refusing to run for.
            let _ = signal_hook::flag::register_conditional_shutdown(SIGINT, code, flag().clone());
            let _ = signal_hook::flag::register(SIGINT, flag().clone());
        }
    });
}

/// Whether Ctrl-C was pressed. The first caller to see it says on stderr what happens next.
pub fn requested() -> bool {
    static SAID: AtomicBool = AtomicBool::new(false);
    let requested = flag().load(Ordering::SeqCst);
    if requested && !SAID.swap(true, Ordering::SeqCst) {
        // On a terminal, over the progress line.
        let clear = if std::io::IsTerminal::is_terminal(&std::io::stderr()) { "\r\x1b[2K" } else { "" };
        crate::output::stderr_line(format!(
            "{clear}racesim: interrupted: stopping at the next schedule (Ctrl-C again to quit at once)"
        ));
    }
    requested
}

/// The stop flag itself, for library code that takes one (racesim-check's workers).
pub fn stop_flag() -> Arc<AtomicBool> {
    flag().clone()
}
