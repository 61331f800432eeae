//! Printing: stdout lines that treat a closed pipe as success (`racesim ... | head` is
//! normal use), and the progress indicator on stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Writes a line to stdout; exits quietly with success if the reader went away.
pub fn line(text: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{}", text.as_ref()).and_then(|_| stdout.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("cannot write to stdout: {error}");
    }
}

/// A one-line progress indicator on stderr, shown only when stderr is a terminal.
pub struct Progress {
    enabled: bool,
    label: String,
    started: Instant,
    last_drawn: Instant,
}

const REDRAW_EVERY: Duration = Duration::from_millis(100);

impl Progress {
    pub fn new(label: String, wanted: bool) -> Self {
        let now = Instant::now();
        Progress { enabled: wanted && std::io::stderr().is_terminal(), label, started: now, last_drawn: now }
    }

    pub fn update(&mut self, schedules: u64, steps: u64) {
        if !self.enabled || self.last_drawn.elapsed() < REDRAW_EVERY {
            return;
        }
        self.last_drawn = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64();
        eprint!(
            "\r\x1b[2K  {}: {} schedules, {} steps, {:.1}s",
            self.label,
            thousands(schedules),
            thousands(steps),
            elapsed
        );
    }

    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Quotes a path for a shell command line when it needs it.
pub fn shell_quote(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:+=,".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
