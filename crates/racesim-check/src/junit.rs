//! JUnit XML, the report format CI systems render: one `<testsuite>` per file, one
//! `<testcase>` per case with its `time`, `<failure>` or `<error>` with the message and the
//! replay command.
//!
//! Serialised by quick-junit (the JUnit model of cargo-nextest): it keeps the counts, times
//! and escaping right, in the dialect Jenkins, GitLab and GitHub's reporters read.

use crate::{CaseResult, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The `classname` of a case from `file`: its path without the extension racesim reads, with
/// no dots left (Jenkins splits a classname at dots into packages: `scenarios/collapse_mmap`,
/// not `scenarios/collapse_mmap` / `toml`).
pub fn classname(file: &str) -> String {
    let file = file.trim_start_matches("./");
    let stem = file.strip_suffix(".trace.json").or_else(|| file.strip_suffix(".toml")).unwrap_or(file);
    stem.replace('.', "_")
}

/// Renders results as JUnit XML. `replay_commands[i]` is the command that reproduces a failure
/// of `results[i]`, when there is one.
pub fn render(results: &[CaseResult], replay_commands: &[Option<String>]) -> String {
    let mut report = Report::new("racesim check");
    let mut files: Vec<&str> = results.iter().map(|r| r.file.as_str()).collect();
    files.dedup();
    let mut total = std::time::Duration::ZERO;
    for file in files {
        let mut suite = TestSuite::new(file);
        let mut suite_time = std::time::Duration::ZERO;
        for (index, r) in results.iter().enumerate().filter(|(_, r)| r.file == file) {
            let replay = replay_commands.get(index).cloned().flatten();
            let body = match replay {
                Some(command) => format!("{}\nreproduce with: {command}", r.message),
                None => r.message.clone(),
            };
            let status = match r.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail | Status::Nondeterministic | Status::BadInput | Status::Stale => {
                    let kind = if matches!(r.status, Status::Fail | Status::Nondeterministic) {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status.set_type(r.status.name()).set_message(r.message.as_str()).set_description(body);
                    status
                }
            };
            let mut case = TestCase::new(r.name.as_str(), status);
            case.set_classname(classname(&r.file)).set_time(r.duration);
            // What an exhaustive case showed: verified, verified within B, incomplete after N.
            if let Some(coverage) = &r.coverage {
                case.add_property(quick_junit::Property::new("coverage", coverage.as_str()));
            }
            suite_time += r.duration;
            suite.add_test_case(case);
        }
        suite.set_time(suite_time);
        total += suite_time;
        report.add_test_suite(suite);
    }
    report.set_time(total);
    report.to_string().expect("a JUnit report serialises to a string")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(file: &str, name: &str, status: Status, message: &str) -> CaseResult {
        CaseResult {
            id: format!("{file} [{name}]"),
            file: file.into(),
            name: name.into(),
            status,
            message: message.into(),
            schedules: 1,
            trace: None,
            coverage: None,
            duration: std::time::Duration::from_millis(1500),
        }
    }

    #[test]
    fn failures_carry_message_and_replay_command_and_text_is_escaped() {
        let results = vec![
            case("a.toml", "legacy", Status::Pass, "ok"),
            case("a.toml", "mmaplock", Status::Fail, "expected clean, found <lost_write> & more"),
            case("b.trace.json", "replay", Status::BadInput, "trace format 9"),
        ];
        let xml = render(&results, &[None, Some("racesim replay x.json".into()), None]);
        assert!(xml.contains("tests=\"3\"") && xml.contains("failures=\"1\"") && xml.contains("errors=\"1\""), "{xml}");
        assert!(xml.contains("&lt;lost_write&gt; &amp; more"), "{xml}");
        assert!(xml.contains("reproduce with: racesim replay x.json"), "{xml}");
        assert!(xml.contains("<testsuite name=\"b.trace.json\""), "{xml}");
        assert!(xml.contains("type=\"bad input\""), "{xml}");
        assert!(xml.contains("time=\"1.500\""), "every case has its time: {xml}");
    }

    #[test]
    fn classnames_have_no_dots_for_jenkins_to_split() {
        assert_eq!(classname("scenarios/collapse_mmap.toml"), "scenarios/collapse_mmap");
        assert_eq!(
            classname("traces/collapse_mmap.legacy.seed1.schedule0.trace.json"),
            "traces/collapse_mmap_legacy_seed1_schedule0"
        );
        assert_eq!(classname("./scenarios/x.toml"), "scenarios/x");
    }
}
