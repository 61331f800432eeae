//! The HTML page in a real browser: Debian's Chromium, headless, loads a page rendered from a
//! recorded trace and must run its script without a single console message, leaving one lane
//! element per lane, every step, the violation on the verdict's step, and the ready marker in
//! the DOM it dumps.
//!
//! Needs `/usr/bin/chromium` (Debian package `chromium`). Without it the tests fail under CI
//! (`CI` set: `.ci/run` must install it) and are skipped with a note elsewhere.

use racesim_scenario::Scenario;
use racesim_trace::Trace;
use racesim_view::Timeline;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Long enough for a cold start on a loaded CI machine; a run normally takes about a second.
const TIMEOUT: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The recorded trace whose file name starts with `prefix` (schedule numbers change when the
/// model does; the scenario and policy do not).
fn timeline(prefix: &str) -> Timeline {
    let root = workspace();
    let mut matching: Vec<PathBuf> = std::fs::read_dir(root.join("traces"))
        .expect("traces/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    matching.sort();
    let path = matching.first().unwrap_or_else(|| panic!("no trace in traces/ starts with {prefix}")).clone();
    let trace_file = path.display().to_string();
    let trace = Trace::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let scenario_path = root.join(&trace.scenario.path);
    let scenario = Scenario::load(&scenario_path).unwrap_or_else(|e| panic!("{}: {e}", scenario_path.display()));
    racesim_view::assemble::timeline(&scenario, &trace).unwrap_or_else(|e| panic!("{trace_file}: {e}"))
}

/// Whether the browser is installed. Missing is a failure under CI and a skip elsewhere.
fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    // clippy.toml bans reading the environment because it must not change what racesim
    // explores; here it only decides whether a missing browser fails the run (CI) or skips
    // the test (a developer machine without Chromium).
    #[allow(clippy::disallowed_methods)]
    let ci = std::env::var_os("CI").is_some();
    assert!(
        !ci,
        "{CHROMIUM} is missing: .ci/run must install Debian's chromium package (apt-get install -y chromium) \
         so the HTML timeline can be checked in a browser"
    );
    eprintln!("note: {CHROMIUM} not found, skipping the browser test (apt-get install chromium to run it)");
    false
}

/// A fresh scratch folder per test, so parallel tests never share a browser profile.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("racesim-view-browser-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("profile")).expect("a scratch folder");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Kept when a test fails, for looking at the page, the DOM and the log.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            eprintln!("kept {} for inspection", self.0.display());
        }
    }
}

struct Run {
    dom: String,
    log: String,
}

/// Loads `html` in headless Chromium and returns the DOM after its scripts ran, and the log.
fn load(html: &str, scratch: &Scratch) -> Run {
    let page = scratch.0.join("page.html");
    std::fs::write(&page, html).expect("write the page");
    let stdout = std::fs::File::create(scratch.0.join("dom.html")).expect("dom file");
    let stderr = std::fs::File::create(scratch.0.join("chromium.log")).expect("log file");
    let started = Instant::now();
    // Output goes to files rather than pipes: Chromium logs a lot, and a full pipe nobody
    // reads would stall it.
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", scratch.0.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.canonicalize().expect("the page exists").display()))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{CHROMIUM} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(scratch.0.join("dom.html")).expect("read the dom");
    let log = std::fs::read_to_string(scratch.0.join("chromium.log")).expect("read the log");
    assert!(status.success(), "{CHROMIUM} failed ({status}):\n{log}");
    Run { dom, log }
}

/// Console lines in Chromium's log. Chromium 156 prints every console message, whatever its
/// level, as `INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)` (older versions:
/// `INFO:CONSOLE(<line>)]`), so console.error cannot be told from console.log by level. The
/// page logs nothing on purpose, so any console line counts, as does an uncaught exception
/// however it is reported.
fn console_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|line| line.contains(":CONSOLE") || line.contains("Uncaught")).collect()
}

/// The start tags of a serialised DOM, skipping script and style contents (the page's script
/// has `<` in comparisons, which is not markup).
fn start_tags(dom: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = dom;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..=end];
        rest = &rest[end + 1..];
        if tag.starts_with("</") || tag.starts_with("<!") {
            continue;
        }
        tags.push(tag);
        for raw in ["script", "style"] {
            if tag.starts_with(&format!("<{raw}")) {
                let close = format!("</{raw}>");
                rest = rest.find(&close).map_or("", |at| &rest[at..]);
            }
        }
    }
    tags
}

/// The value of attribute `name` in a start tag (Chromium serialises values in double quotes).
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')?;
    Some(&tag[at..at + end])
}

fn has_class(tag: &str, class: &str) -> bool {
    attribute(tag, "class").is_some_and(|classes| classes.split_whitespace().any(|c| c == class))
}

/// Renders `trace_file`, loads it, and checks what the page promises.
fn check_page(trace_file: &str, name: &str) {
    if !chromium_available() {
        return;
    }
    let timeline = timeline(trace_file);
    let scratch = Scratch::new(name);
    let run = load(&racesim_view::html::render(&timeline), &scratch);

    let console = console_lines(&run.log);
    assert!(console.is_empty(), "the page wrote to the console:\n{}", console.join("\n"));

    let tags = start_tags(&run.dom);
    let body = tags.iter().find(|t| t.starts_with("<body")).expect("a body");
    assert_eq!(attribute(body, "data-ready"), Some("1"), "the script did not finish: {body}");

    // One lane element per lane, each `class="lane"`, in lane order.
    assert_eq!(run.dom.matches("class=\"lane\"").count(), timeline.lanes.len());
    let lanes: Vec<&str> = tags.iter().filter_map(|t| attribute(t, "data-lane")).collect();
    let expected: Vec<String> = (0..timeline.lanes.len()).map(|i| i.to_string()).collect();
    assert_eq!(lanes, expected, "data-lane attributes");
    assert!(tags.iter().filter(|t| attribute(t, "data-lane").is_some()).all(|t| has_class(t, "lane")));

    // Every step, once.
    let mut steps: Vec<usize> =
        tags.iter().filter_map(|t| attribute(t, "data-step")).map(|s| s.parse().expect("a step number")).collect();
    steps.sort_unstable();
    let expected: Vec<usize> = timeline.steps.iter().map(|s| s.index).collect();
    assert_eq!(steps, expected, "data-step attributes");

    // The violation, on the verdict's step, and nowhere else.
    let verdict = timeline.verdict.as_ref().expect("the recorded traces all fail");
    let violations: Vec<&&str> = tags.iter().filter(|t| has_class(t, "violation")).collect();
    assert_eq!(violations.len(), 1, "violation elements: {violations:?}");
    assert_eq!(attribute(violations[0], "data-step"), Some(verdict.step.to_string().as_str()));

    // The script opened on the violating step: the side panel shows it and its state.
    assert!(run.dom.contains(&format!("Step {} (pinned)", verdict.step)), "the side panel was not filled in");
    let last_state = timeline.steps.iter().find(|s| s.index == verdict.step).and_then(|s| s.state.last());
    if let Some(line) = last_state {
        // As serialised text: Chromium escapes &, < and > in text nodes.
        let text = line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(run.dom.contains(&format!(">{text}</li>")), "state line {line:?} not in the side panel");
    }
}

#[test]
fn four_lanes_with_sync_in_chromium() {
    check_page("mkwrite_punch.legacy.seed1.", "mkwrite_punch");
}

#[test]
fn waiting_bars_in_chromium() {
    check_page("collapse_mmap.legacy.seed1.", "collapse_mmap");
}

/// The console check must not pass vacuously: if Chromium stopped logging console messages
/// (or changed their format), a page that logs an error has to be caught here.
#[test]
fn a_console_error_is_noticed() {
    if !chromium_available() {
        return;
    }
    let timeline = timeline("failed_write.legacy.seed1.");
    let html = racesim_view::html::render(&timeline);
    let marker = "document.body.dataset.ready = \"1\";";
    assert!(html.contains(marker));
    let broken = html.replace(marker, &format!("{marker} console.error(\"deliberate console error\"); null.boom();"));
    let scratch = Scratch::new("console");
    let run = load(&broken, &scratch);
    let console = console_lines(&run.log);
    assert!(console.iter().any(|l| l.contains("deliberate console error")), "console.error not seen in:\n{}", run.log);
    assert!(console.iter().any(|l| l.contains("Uncaught")), "the uncaught exception not seen in:\n{}", run.log);
}
