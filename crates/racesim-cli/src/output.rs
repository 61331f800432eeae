//! Printing: stdout lines that survive a closed pipe (`racesim ... | head` is normal use: the
//! command goes on, writes its files and exits with its own code), atomic file writes, and the
//! progress indicator on stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The reader of stdout went away: stop printing, keep working.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether stdout gets colour: anstream's choice (a terminal, unless `NO_COLOR` is set;
/// `CLICOLOR_FORCE` forces it).
fn stdout_colour() -> bool {
    static CHOICE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CHOICE.get_or_init(|| anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never)
}

/// Styles for the words a reader looks for first.
pub mod style {
    use anstyle::{AnsiColor, Style};
    pub const BAD: Style = AnsiColor::Red.on_default().bold();
    pub const GOOD: Style = AnsiColor::Green.on_default();
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    pub const MARK: Style = AnsiColor::Red.on_default().bold();
}

/// `text` in `style`; [`line`] strips the styling again where colour is off.
pub fn paint(style: anstyle::Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Writes a line to stdout, unless the reader has gone away (a broken pipe is normal use:
/// `racesim ... | head`). Any other write error (`> /dev/full`, a full disk, a closed
/// descriptor) stops racesim with a message and [`crate::exit::STDOUT`]: the output the user
/// asked for is lost, and going on silently would hide it. Colour from [`paint`] goes out
/// only where stdout takes it.
pub fn line(text: impl AsRef<str>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let text = text.as_ref();
    let text: std::borrow::Cow<str> =
        if stdout_colour() { text.into() } else { anstream::adapter::strip_str(text).to_string().into() };
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{text}").and_then(|_| stdout.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            return;
        }
        drop(stdout);
        stderr_line(format!("racesim: error: cannot write to stdout: {error}"));
        std::process::exit(i32::from(crate::exit::STDOUT));
    }
}

/// Writes a line to stderr. A failing stderr (`2>/dev/full`, a closed descriptor) is ignored:
/// messages there are for a person who is not listening, and the exit code must stay the
/// verdict's (`eprintln!` would panic and exit 101 instead).
pub fn stderr_line(text: impl AsRef<str>) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", text.as_ref()).and_then(|_| stderr.flush());
}

/// Writes `text` to stderr without a newline (progress redraws), ignoring write errors as
/// [`stderr_line`] does.
pub fn stderr_text(text: impl AsRef<str>) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{}", text.as_ref()).and_then(|_| stderr.flush());
}

/// The version of the JSON records `--format json` prints (docs/json.md). Bumped when a field
/// changes meaning or goes away; adding a field does not bump it.
pub const JSON_SCHEMA: u32 = 1;

/// Prints one JSON record: the object `fields` with its `type` (what kind of record it is) and
/// the `schema` version first, so that a reader can dispatch on `type` and refuse an unknown
/// `schema` before reading anything else.
pub fn record(kind: &str, fields: serde_json::Value) {
    let mut object = serde_json::Map::new();
    object.insert("type".into(), kind.into());
    object.insert("schema".into(), JSON_SCHEMA.into());
    if let serde_json::Value::Object(fields) = fields {
        object.extend(fields);
    }
    line(serde_json::Value::Object(object).to_string());
}

/// Writes an output file: atomically for a regular file, in place for a character device or a
/// FIFO, refused for a symbolic link or another special file (see [`racesim_trace::write_file`]).
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    racesim_trace::write_file(path, text.as_bytes())
}

/// Makes sure traces can be written into `folder` before any work is done: creates it, writes
/// and removes a probe file in it, and removes again the folders it had to create (a clean
/// run leaves nothing behind; the first trace creates them for good).
pub fn check_out_folder(folder: &Path) -> std::io::Result<()> {
    let missing: Vec<&Path> = folder.ancestors().take_while(|p| !p.as_os_str().is_empty() && !p.exists()).collect();
    std::fs::create_dir_all(folder)?;
    let probe = folder.join(format!(".racesim-probe.{}.tmp", std::process::id()));
    let result = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&probe).map(drop);
    let _ = std::fs::remove_file(&probe);
    for created in missing {
        let _ = std::fs::remove_dir(created);
    }
    result
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
        stderr_text(format!(
            "\r\x1b[2K  {}: {} schedules, {} steps, {:.1}s",
            self.label,
            thousands(schedules),
            thousands(steps),
            elapsed
        ));
    }

    pub fn finish(&self) {
        if self.enabled {
            stderr_text("\r\x1b[2K");
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
