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

/// Writes a line to stdout, unless the reader has gone away. Colour from [`paint`] goes out
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
        panic!("cannot write to stdout: {error}");
    }
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

/// Writes `text` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// renamed over `path`; on failure the temporary file goes. Nobody sees a half-written file.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
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
