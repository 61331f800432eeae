//! The trace file format.
//!
//! A trace records one schedule of one scenario under one policy: where it came from (racesim
//! version, scenario path, content hash and text, policy, strategy, seed, which schedule of the
//! run), racesim's own record of every scheduling decision, the event log rendered to text, and
//! the verdict. `racesim replay` re-executes the decisions and requires the same event log.
//! A trace is a bug report: it carries its scenario's text (format 3 on) and its policy's
//! definition when that came from a user's file, so it replays alone, anywhere.
//!
//! Compatibility rule: any change to the fields or to their meaning bumps
//! [`TRACE_FORMAT_VERSION`]; a racesim reads every format from [`OLDEST_READABLE_FORMAT`] to its
//! own (`racesim migrate` rewrites an older trace in the current format). Format 3 carries the
//! scenario's text and writes `policy_definition` in the policy language of placements; format 2
//! lacks the scenario's text (it replays only where its scenario file is) and wrote
//! `policy_definition` in the field-per-lock form, which the policy parser still reads. Decisions are
//! shuttle task numbers: 0 is the main task (it spawns the actors and runs the final sync),
//! `k >= 1` is actor `k - 1`; one decision is recorded wherever more than one task could run.
//!
//! This crate owns the format, safe writing of every output file ([`write_file`]) and checked
//! reading; it knows nothing of kernels.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const TRACE_FORMAT_VERSION: u32 = 3;
/// The oldest format this racesim still reads (format 2: no embedded scenario text).
pub const OLDEST_READABLE_FORMAT: u32 = 2;

/// Largest trace file racesim reads. A trace of the longest schedule the explorer's step bound
/// allows is a few MiB.
pub const TRACE_BYTES_MAX: u64 = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    pub format: u32,
    pub racesim_version: String,
    pub scenario: ScenarioRef,
    pub policy: String,
    pub strategy: String,
    pub seed: u64,
    /// Which schedule of the run (0-based) this is.
    pub schedule: u64,
    pub decisions: Vec<u32>,
    pub events: Vec<TraceEvent>,
    pub verdict: Verdict,
    /// Lock orders seen in earlier schedules of the run that a lock-order verdict depends on;
    /// a replay starts from them. Empty for every other verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lock_orders: Vec<LockOrder>,
    /// The policy as a policy file (TOML), when it came from the user's own file rather than
    /// from the scenario or the built-ins: the trace then replays without that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_definition: Option<String>,
}

/// One recorded lock order: `from` was held when `to` was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockOrder {
    pub from: String,
    pub to: String,
    pub actor: String,
    pub first: String,
    pub second: String,
    pub schedule: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRef {
    pub name: String,
    /// The scenario file as it was given to `racesim run`.
    pub path: String,
    /// SHA-256 of the scenario file's bytes, hex.
    pub content_hash: String,
    /// The scenario file's text (format 3 on; absent in format 2): replay, explain, show and
    /// minimize use it when no `--scenario` is given, so the trace needs no file beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One line of the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceEvent {
    pub actor: String,
    pub function: String,
    pub change: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// An oracle name (`lost_write`, ...) or `clean`.
    pub oracle: String,
    /// Index in `events` where the oracle fired.
    pub event: Option<usize>,
    pub actors: Vec<String>,
    pub message: String,
}

/// Why a trace could not be read.
#[derive(Debug)]
pub enum TraceError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Not JSON, truncated, or missing fields.
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Written by a racesim with another trace format.
    Version {
        path: PathBuf,
        found: u64,
    },
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            TraceError::Malformed { path, line, column, message } => {
                write!(f, "{}:{line}:{column}: not a racesim trace: {message}", path.display())
            }
            TraceError::Version { path, found } if *found > TRACE_FORMAT_VERSION as u64 => write!(
                f,
                "{}: trace format {found} is newer than this racesim, which reads trace formats \
                 {OLDEST_READABLE_FORMAT} to {TRACE_FORMAT_VERSION}; use a newer racesim",
                path.display()
            ),
            TraceError::Version { path, found } => write!(
                f,
                "{}: trace format {found} is not supported; this racesim reads trace formats \
                 {OLDEST_READABLE_FORMAT} to {TRACE_FORMAT_VERSION} (re-record it with this version: \
                 racesim run ... --save-trace DIR)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for TraceError {}

impl Trace {
    /// Parses a trace, checking its format version before anything else.
    pub fn from_json(text: &str, path: &Path) -> Result<Trace, TraceError> {
        let malformed = |e: serde_json::Error| TraceError::Malformed {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(malformed)?;
        match value.get("format").and_then(|f| f.as_u64()) {
            Some(v) if (OLDEST_READABLE_FORMAT as u64..=TRACE_FORMAT_VERSION as u64).contains(&v) => {}
            Some(found) => return Err(TraceError::Version { path: path.to_path_buf(), found }),
            None => {
                return Err(TraceError::Malformed {
                    path: path.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: "no numeric 'format' field".into(),
                });
            }
        }
        serde_json::from_str(text).map_err(malformed)
    }

    /// Reads a trace file of at most [`TRACE_BYTES_MAX`] bytes (a device or a FIFO that never
    /// ends is an error, not an endless read).
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        use std::io::Read;
        let io = |error| TraceError::Io { path: path.to_path_buf(), error };
        let mut bytes = Vec::new();
        std::fs::File::open(path).and_then(|f| f.take(TRACE_BYTES_MAX + 1).read_to_end(&mut bytes)).map_err(io)?;
        if bytes.len() as u64 > TRACE_BYTES_MAX {
            let message = format!("a trace file is at most {} MiB", TRACE_BYTES_MAX >> 20);
            return Err(io(std::io::Error::new(std::io::ErrorKind::InvalidData, message)));
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text ({e})"))))?;
        Trace::from_json(&text, path)
    }

    /// Whether this trace is in an older format than the one this racesim writes.
    pub fn is_old_format(&self) -> bool {
        self.format < TRACE_FORMAT_VERSION
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a trace serialises");
        text.push('\n');
        text
    }

    /// Writes the trace to `path` with [`write_file`]: atomically for a regular file, in place
    /// for a character device or FIFO, refused for anything else. An interrupted run leaves no
    /// half-written trace and no temporary file.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        write_file(path, self.to_json().as_bytes())
    }
}

/// Writes `bytes` to `path`, the one way racesim writes an output file (traces, pictures,
/// JUnit reports, reduced scenarios).
///
/// - A regular file, or a path that does not exist yet, is replaced atomically: readers see the
///   old content or the new, never half of it. On Linux the data goes into an unnamed file
///   (`O_TMPFILE`) that is given its name (`linkat`) only once complete, so a process killed
///   mid-write leaves nothing behind. Elsewhere (or on a filesystem without `O_TMPFILE`) a
///   named temporary `.NAME.PID.tmp` is renamed over `path`, and the temporaries of writers
///   that died (their PID no longer exists) are removed first.
/// - A character device (`/dev/null`, `/dev/stdout`, a terminal) or a FIFO is written in
///   place, as a shell redirection would: replacing it with a regular file would break the
///   machine (as root, renaming over `/dev/full` replaces the device node).
/// - A symbolic link, block device, socket or directory is refused: racesim does not follow
///   links or overwrite devices it was not meant to; give the real path.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) => {
            let kind = metadata.file_type();
            if kind.is_file() {
                return write_atomically(path, bytes);
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if kind.is_char_device() || kind.is_fifo() {
                    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
                    return file.write_all(bytes).and_then(|_| file.flush());
                }
            }
            let what = if kind.is_symlink() {
                "is a symbolic link; racesim does not write through links (give the path it points to)"
            } else if kind.is_dir() {
                "is a directory"
            } else {
                "is a special file (block device or socket); racesim writes only regular files, character devices and FIFOs"
            };
            Err(std::io::Error::other(what))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => write_atomically(path, bytes),
        Err(e) => Err(e),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    // Left by writers killed mid-write (an older racesim, or a system without O_TMPFILE).
    remove_dead_temporaries(folder, path);
    #[cfg(target_os = "linux")]
    if let Some(result) = unnamed::write(folder, path, bytes) {
        return result;
    }
    let temporary = temporary_name(folder, path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// `.NAME.PID.tmp` beside `path`.
fn temporary_name(folder: &Path, path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    folder.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// The PID in a temporary's name `.NAME.PID.tmp`, if it is one.
fn temporary_pid(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, pid) = rest.rsplit_once('.')?;
    pid.parse().ok()
}

/// Removes the temporaries `.NAME.PID.tmp` of `path` whose writers were killed mid-write. A
/// temporary whose writer is alive (or whose liveness cannot be told) stays.
fn remove_dead_temporaries(folder: &Path, path: &Path) {
    let Some(target) = path.file_name().and_then(|n| n.to_str()) else { return };
    let prefix = format!(".{target}.");
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.starts_with(&prefix)) else { continue };
        let Some(pid) = temporary_pid(name) else { continue };
        if pid != std::process::id() && process_is_dead(pid) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_is_dead(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    !alive && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_is_dead(_pid: u32) -> bool {
    false
}

/// The Linux way: an `O_TMPFILE` file has no name until `linkat` gives it one, so a crash at
/// any point before leaves nothing on disk.
#[cfg(target_os = "linux")]
mod unnamed {
    use std::ffi::CString;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;

    /// `None` when `O_TMPFILE` or `/proc/self/fd` is not available here: use a named temporary.
    pub(super) fn write(folder: &Path, path: &Path, bytes: &[u8]) -> Option<std::io::Result<()>> {
        let mut file =
            match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_TMPFILE).mode(0o666).open(folder) {
                Ok(file) => file,
                Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)) => {
                    return None;
                }
                Err(e) => return Some(Err(e)),
            };
        if let Err(e) = file.write_all(bytes).and_then(|_| file.sync_all()) {
            return Some(Err(e));
        }
        let source = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).expect("no NUL in a number");
        let link = |target: &Path| -> std::io::Result<()> {
            let target = CString::new(target.as_os_str().as_bytes())
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
            // SAFETY: both paths are NUL-terminated and live across the call.
            let done = unsafe {
                libc::linkat(libc::AT_FDCWD, source.as_ptr(), libc::AT_FDCWD, target.as_ptr(), libc::AT_SYMLINK_FOLLOW)
            };
            if done == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        };
        match link(path) {
            Ok(()) => Some(Ok(())),
            // The target exists: name the complete file beside it, then rename over it. Only a
            // crash in between (no IO left to do) can leave the temporary, which the next
            // writer removes once this process is gone.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                let temporary = super::temporary_name(folder, path);
                let _ = std::fs::remove_file(&temporary);
                Some(link(&temporary).and_then(|_| {
                    std::fs::rename(&temporary, path).inspect_err(|_| {
                        let _ = std::fs::remove_file(&temporary);
                    })
                }))
            }
            // No /proc: the named way works.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && !Path::new("/proc/self/fd").exists() => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trace {
        Trace {
            format: TRACE_FORMAT_VERSION,
            racesim_version: "0.1.0".into(),
            scenario: ScenarioRef {
                name: "s".into(),
                path: "s.toml".into(),
                content_hash: "ab".into(),
                text: Some("name = \"s\"\n".into()),
            },
            policy: "legacy".into(),
            strategy: "random".into(),
            seed: 7,
            schedule: 3,
            decisions: vec![1, 2, 1],
            events: vec![TraceEvent { actor: "a".into(), function: "f".into(), change: "c".into() }],
            verdict: Verdict {
                oracle: "lost_write".into(),
                event: Some(0),
                actors: vec!["a".into()],
                message: "m".into(),
            },
            lock_orders: vec![LockOrder {
                from: "mmap_sem".into(),
                to: "page_lock".into(),
                actor: "a".into(),
                first: "f".into(),
                second: "g".into(),
                schedule: 1,
            }],
            policy_definition: None,
        }
    }

    #[test]
    fn round_trips() {
        let trace = sample();
        assert_eq!(Trace::from_json(&trace.to_json(), Path::new("t")).unwrap(), trace);
    }

    #[test]
    fn format_2_traces_still_load() {
        let current = format!("\"format\": {TRACE_FORMAT_VERSION}");
        let text = sample().to_json().replacen(&current, "\"format\": 2", 1);
        let trace = Trace::from_json(&text, Path::new("old.trace.json")).unwrap();
        assert_eq!(trace.format, 2);
    }

    #[test]
    fn other_format_version_is_named() {
        let current = format!("\"format\": {TRACE_FORMAT_VERSION}");
        let text = sample().to_json().replacen(&current, "\"format\": 99", 1);
        let error = Trace::from_json(&text, Path::new("t.json")).unwrap_err();
        assert!(matches!(error, TraceError::Version { found: 99, .. }), "{error}");
    }

    #[test]
    fn format_2_still_reads_without_scenario_text() {
        let mut old = sample();
        old.format = 2;
        old.scenario.text = None;
        let read = Trace::from_json(&old.to_json(), Path::new("t.json")).unwrap();
        assert_eq!(read, old);
        assert!(read.is_old_format());
    }

    #[test]
    fn newer_format_says_so() {
        let current = format!("\"format\": {TRACE_FORMAT_VERSION}");
        let text = sample().to_json().replacen(&current, "\"format\": 99", 1);
        let error = Trace::from_json(&text, Path::new("t.json")).unwrap_err();
        assert!(error.to_string().contains("newer than this racesim"), "{error}");
        let text = sample().to_json().replacen(&current, "\"format\": 1", 1);
        let error = Trace::from_json(&text, Path::new("t.json")).unwrap_err();
        assert!(error.to_string().contains("trace format 1 is not supported"), "{error}");
    }

    #[test]
    fn truncated_trace_is_malformed_with_position() {
        let text = sample().to_json();
        let error = Trace::from_json(&text[..text.len() / 2], Path::new("t.json")).unwrap_err();
        assert!(matches!(error, TraceError::Malformed { .. }), "{error}");
    }

    fn scratch(name: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("racesim-trace-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    /// Issue 14 (5): a kill -9 mid-write left `.NAME.PID.tmp` behind for good.
    #[cfg(unix)]
    #[test]
    fn issue14_temporaries_of_dead_writers_are_removed() {
        let folder = scratch("dead");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = folder.join(format!(".x.trace.json.{dead}.tmp"));
        let other = folder.join(format!(".y.trace.json.{dead}.tmp"));
        let mine = folder.join(format!(".x.trace.json.{}.tmp", std::process::id()));
        for p in [&stale, &other, &mine] {
            std::fs::write(p, "half").unwrap();
        }
        sample().save(&folder.join("x.trace.json")).unwrap();
        assert!(!stale.exists(), "a dead writer's temporary goes");
        assert!(other.exists(), "another target's temporary is that target's writer's business");
        assert!(mine.exists(), "a live writer's temporary stays");
        std::fs::remove_dir_all(&folder).unwrap();
    }

    /// Issue 14 (5): a symlink given as an output became a regular file.
    #[cfg(unix)]
    #[test]
    fn issue14_a_symlink_as_output_is_refused_and_kept() {
        let folder = scratch("link");
        let target = folder.join("target");
        let link = folder.join("link.trace.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = write_file(&link, b"x").unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(!target.exists());
        std::fs::remove_dir_all(&folder).unwrap();
    }

    /// Issue 14 (5): `/dev/null` as an output is written in place, not replaced.
    #[cfg(unix)]
    #[test]
    fn issue14_a_character_device_is_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        write_file(Path::new("/dev/null"), b"x").unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[test]
    fn replacing_a_regular_file_leaves_no_temporary() {
        let folder = scratch("replace");
        let path = folder.join("x.trace.json");
        write_file(&path, b"old").unwrap();
        sample().save(&path).unwrap();
        assert_eq!(Trace::load(&path).unwrap(), sample());
        let names: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.trace.json")]);
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn save_is_atomic_and_leaves_no_temporary() {
        let folder = std::env::temp_dir().join(format!("racesim-trace-test-{}", std::process::id()));
        let path = folder.join("x.trace.json");
        sample().save(&path).unwrap();
        assert_eq!(Trace::load(&path).unwrap(), sample());
        let leftovers: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
