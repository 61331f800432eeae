//! JUnit XML, the report format CI systems render: one `<testsuite>` per file, one
//! `<testcase>` per case, `<failure>` or `<error>` with the message and the replay command.

use crate::{CaseResult, Status};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// Renders results as JUnit XML. `replay_commands[i]` is the command that reproduces a failure
/// of `results[i]`, when there is one.
pub fn render(results: &[CaseResult], replay_commands: &[Option<String>]) -> String {
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let failures = count(Status::Fail) + count(Status::Nondeterministic);
    let errors = count(Status::BadInput) + count(Status::Stale);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"racesim check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n",
        results.len()
    ));
    let mut files: Vec<&str> = results.iter().map(|r| r.file.as_str()).collect();
    files.dedup();
    for file in files {
        let members: Vec<(usize, &CaseResult)> = results.iter().enumerate().filter(|(_, r)| r.file == file).collect();
        let suite_failures =
            members.iter().filter(|(_, r)| matches!(r.status, Status::Fail | Status::Nondeterministic)).count();
        let suite_errors = members.iter().filter(|(_, r)| matches!(r.status, Status::BadInput | Status::Stale)).count();
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"{suite_errors}\">\n",
            escape(file),
            members.len()
        ));
        for (index, r) in members {
            xml.push_str(&format!("    <testcase classname=\"{}\" name=\"{}\"", escape(&r.file), escape(&r.name)));
            let replay = replay_commands.get(index).cloned().flatten();
            let body = match replay {
                Some(command) => format!("{}\nreproduce with: {command}", r.message),
                None => r.message.clone(),
            };
            let properties = r.coverage.as_ref().map_or(String::new(), |c| {
                format!("      <properties><property name=\"coverage\" value=\"{}\" /></properties>\n", escape(c))
            });
            match r.status {
                Status::Pass if properties.is_empty() => xml.push_str(" />\n"),
                Status::Pass => xml.push_str(&format!(">\n{properties}    </testcase>\n")),
                Status::Fail | Status::Nondeterministic => xml.push_str(&format!(
                    ">\n{properties}      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    r.status.name(),
                    escape(&r.message),
                    escape(&body)
                )),
                Status::BadInput | Status::Stale => xml.push_str(&format!(
                    ">\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>\n",
                    r.status.name(),
                    escape(&r.message),
                    escape(&body)
                )),
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
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
        assert!(xml.contains("tests=\"3\" failures=\"1\" errors=\"1\""), "{xml}");
        assert!(xml.contains("&lt;lost_write&gt; &amp; more"), "{xml}");
        assert!(xml.contains("reproduce with: racesim replay x.json"), "{xml}");
        assert!(xml.contains("<testsuite name=\"b.trace.json\""), "{xml}");
        assert!(xml.contains("<error type=\"bad input\""), "{xml}");
    }
}
