//! The trace file format.
//!
//! A trace records one schedule of one scenario under one policy: where it came from (racesim
//! version, scenario path and content hash, policy, strategy, seed, which schedule of the run),
//! racesim's own record of every scheduling decision, the event log rendered to text, and the
//! verdict. `racesim replay` re-executes the decisions and requires the same event log.
//!
//! Compatibility rule: a trace is read only by a racesim whose [`TRACE_FORMAT_VERSION`] equals
//! the trace's `format`, or is one of the [`READABLE_FORMATS`] it still reads; any change to the
//! fields or to their meaning bumps it. Format 3 (lock placements) writes `policy_definition`
//! in the policy language of placements; format 2 wrote it in the field-per-lock form, which
//! the policy parser still reads, so format 2 traces still load. Decisions are
//! shuttle task numbers: 0 is the main task (it spawns the actors and runs the final sync),
//! `k >= 1` is actor `k - 1`; one decision is recorded wherever more than one task could run.
//!
//! This crate owns the format, atomic writing and checked reading; it knows nothing of kernels.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const TRACE_FORMAT_VERSION: u32 = 3;

/// Every format this racesim reads (older ones differ only in what the policy parser reads).
pub const READABLE_FORMATS: [u32; 2] = [2, 3];

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
            TraceError::Version { path, found } => write!(
                f,
                "{}: trace format {found} is not supported; this racesim reads trace format {TRACE_FORMAT_VERSION} \
                 (re-record it with this version: racesim run ... --out DIR)",
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
            Some(v) if READABLE_FORMATS.iter().any(|&f| f as u64 == v) => {}
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

    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let text = std::fs::read_to_string(path).map_err(|error| TraceError::Io { path: path.to_path_buf(), error })?;
        Trace::from_json(&text, path)
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a trace serialises");
        text.push('\n');
        text
    }

    /// Writes the trace to `path` atomically: a temporary file in the same folder, flushed to
    /// disk, then renamed over `path`. An interrupted run leaves no half-written trace.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("trace");
        let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(self.to_json().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trace {
        Trace {
            format: TRACE_FORMAT_VERSION,
            racesim_version: "0.1.0".into(),
            scenario: ScenarioRef { name: "s".into(), path: "s.toml".into(), content_hash: "ab".into() },
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
        assert!(error.to_string().contains("trace format 99 is not supported"));
    }

    #[test]
    fn truncated_trace_is_malformed_with_position() {
        let text = sample().to_json();
        let error = Trace::from_json(&text[..text.len() / 2], Path::new("t.json")).unwrap_err();
        assert!(matches!(error, TraceError::Malformed { .. }), "{error}");
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
