//! The HTML page in a real browser: Debian's Chromium, headless, loads a page rendered from a
//! recorded trace and must run its script without a single console message, leaving one lane
//! element per lane, every step, the violation on the verdict's step, and the ready marker in
//! the DOM it dumps.
//!
//! The pictures are also looked at, not only read as DOM: Chromium takes screenshots of the
//! minimized collapse trace's page and SVG, and the pixels must show the race window's shade,
//! the sealing step's mark and (in the SVG) the oracle's step. The screenshots are kept in
//! `target/tmp/racesim-screenshots/` for people to look at.
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

/// Takes a `width` x `height` screenshot of `file` in headless Chromium; returns RGB pixels.
fn screenshot(file: &Path, width: u32, height: u32, scratch: &Scratch, keep_as: &str) -> (u32, u32, Vec<u8>) {
    let png_path = scratch.0.join("shot.png");
    let log = std::fs::File::create(scratch.0.join("shot.log")).expect("log file");
    let status = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg("--virtual-time-budget=2000")
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--user-data-dir={}", scratch.0.join("profile").display()))
        .arg(format!("--screenshot={}", png_path.display()))
        .arg(format!("file://{}", file.canonicalize().expect("the file exists").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
    assert!(status.success(), "{CHROMIUM} --screenshot failed ({status})");
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("racesim-screenshots");
    std::fs::create_dir_all(&kept).expect("screenshot folder");
    std::fs::copy(&png_path, kept.join(keep_as)).expect("keep the screenshot");
    let decoder = png::Decoder::new(std::fs::File::open(&png_path).expect("the screenshot"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    pixels.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    let rgb: Vec<u8> = pixels.chunks(channels).flat_map(|p| [p[0], p[1], p[2]]).collect();
    (info.width, info.height, rgb)
}

/// Pixels close to `colour` (each channel within `tolerance`).
fn count_near(rgb: &[u8], colour: (u8, u8, u8), tolerance: u8) -> usize {
    rgb.chunks(3)
        .filter(|p| {
            p[0].abs_diff(colour.0) <= tolerance
                && p[1].abs_diff(colour.1) <= tolerance
                && p[2].abs_diff(colour.2) <= tolerance
        })
        .count()
}

/// The pale amber of the race window's shade (over white or the row stripes).
fn count_window_shade(rgb: &[u8]) -> usize {
    rgb.chunks(3)
        .filter(|p| p[0] >= 240 && (225..=248).contains(&p[1]) && (185..=225).contains(&p[2]) && p[0] - p[2] > 20)
        .count()
}

const SEALED_ORANGE: (u8, u8, u8) = (0xb4, 0x5f, 0x06);
const ORACLE_RED: (u8, u8, u8) = (0xc5, 0x22, 0x1f);

#[test]
fn the_collapse_pictures_show_the_race_in_screenshots() {
    if !chromium_available() {
        return;
    }
    let timeline = timeline("collapse_mmap.legacy.minimized");
    let window = timeline.window.clone().expect("the minimized collapse trace has a race window");
    let store = timeline.steps.iter().find(|s| s.change.contains("user store to data:6 lands")).map(|s| s.index);
    assert_eq!(timeline.sealed, store, "the store landing seals the outcome");
    let scratch = Scratch::new("screenshots");
    // The page opens on the race: its first screen (a laptop's) has the shaded window and the
    // sealing step's mark, though the log starts 13 steps earlier.
    let page = scratch.0.join("collapse.html");
    std::fs::write(&page, racesim_view::html::render(&timeline)).unwrap();
    let (w, h, rgb) = screenshot(&page, 1280, 1000, &scratch, "collapse.minimized.html.png");
    assert_eq!((w, h), (1280, 1000));
    let shade = count_window_shade(&rgb);
    assert!(shade > 50_000, "the race window's shade is not on the first screen ({shade} pixels)");
    let sealed = count_near(&rgb, SEALED_ORANGE, 24);
    assert!(sealed > 300, "the sealing step's mark is not on the first screen ({sealed} pixels)");
    // The key step is not cut: its whole text is in the DOM, in a card that may widen.
    let html = racesim_view::html::render(&timeline);
    assert!(html.contains("removes page#0 (data:6) from the page cache, discarding dirty data"));
    assert!(html.contains(&format!("race window, steps {}–{}", window.from, window.to)));

    // The SVG at the width of a mailing-list post: it fits, and shows window, sealing and oracle.
    let svg = racesim_view::svg::render(&timeline);
    let svg_width: usize = svg.split("width=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    assert!(svg_width <= racesim_view::svg::TARGET_WIDTH, "the SVG is {svg_width} pixels wide");
    assert!(svg.contains("discarding dirty data") && !svg.contains("the page c…"), "a key step was cut");
    let picture = scratch.0.join("collapse.svg");
    std::fs::write(&picture, &svg).unwrap();
    let svg_height: u32 = svg.split("height=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    let (_, _, rgb) = screenshot(&picture, svg_width as u32, svg_height, &scratch, "collapse.minimized.svg.png");
    assert!(count_window_shade(&rgb) > 50_000, "the race window is not shaded in the SVG");
    assert!(count_near(&rgb, SEALED_ORANGE, 24) > 300, "the sealing step is not marked in the SVG");
    assert!(count_near(&rgb, ORACLE_RED, 24) > 300, "the oracle's step is not marked in the SVG");
}

#[test]
fn a_four_actor_picture_is_screenshotted_too() {
    if !chromium_available() {
        return;
    }
    let timeline = timeline("mkwrite_punch.legacy.seed1.");
    let scratch = Scratch::new("four");
    let page = scratch.0.join("four.html");
    std::fs::write(&page, racesim_view::html::render(&timeline)).unwrap();
    let (_, _, rgb) = screenshot(&page, 1280, 1000, &scratch, "mkwrite_punch.html.png");
    assert!(count_window_shade(&rgb) > 20_000, "the race window is not on the first screen");
    let picture = scratch.0.join("four.svg");
    let svg = racesim_view::svg::render(&timeline);
    std::fs::write(&picture, &svg).unwrap();
    let width: u32 = svg.split("width=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    let height: u32 = svg.split("height=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    let (_, _, rgb) = screenshot(&picture, width, height.min(4000), &scratch, "mkwrite_punch.svg.png");
    assert!(count_near(&rgb, ORACLE_RED, 24) > 300, "the oracle's step is not marked in the SVG");
}
