//! Self-contained HTML swimlane timeline of a trace.
//!
//! Owns the interactive page: one column per lane (CPU0/CPU1 style, time flowing down), one
//! row per step, lock bars in a strip at the left of each lane (hatched while waiting), the
//! violating step highlighted and the verdict at the top, the race window shaded and the
//! sealing step marked (as `explain` computes them), the window's steps shown whole, every
//! lock's full name in a key, and a side panel with the kernel state after the step under the
//! pointer (or the pinned one). The page opens scrolled to the race window.
//!
//! Everything visible is rendered here, server-side, so the page reads without JavaScript and
//! tests can inspect it as text. The script only adds the side panel's behaviour; it reads the
//! timeline from a `<script type="application/json">` block and writes the DOM with
//! `textContent`, never `innerHTML`, so names from a scenario cannot inject markup. A strict
//! Content-Security-Policy forbids any network access, so the file works offline and from mail.
//!
//! Hooks for tests: lanes are `class="lane" data-lane="<i>"`, steps carry `data-step="<i>"`,
//! the violating step has class `violation`, and `<body data-ready="1">` once the script ran.

use crate::Timeline;
use crate::svg::{lane_colour, lock_colours, lock_tracks, plural};
use std::fmt::Write as _;

// Geometry, in CSS pixels; the same numbers appear in the stylesheet and the script through
// custom properties, so they are stated once here.
const ROW: usize = 40;
const HEAD: usize = 32;
const TRACK: usize = 16;

/// Escaping for element content and quoted attributes: the SVG renderer's XML escaping is
/// valid HTML escaping too, so both pictures share it.
use crate::svg::escape;

/// The timeline as JSON that is safe inside `<script type="application/json">`: a `<` can only
/// occur inside JSON strings, where `\u003c` means the same, so `</script>` and `<!--` in a
/// name cannot end or confuse the block.
fn embedded_json(timeline: &Timeline) -> String {
    serde_json::to_string(timeline).expect("a timeline serialises").replace('<', "\\u003c")
}

/// Renders the timeline as one self-contained HTML page.
pub fn render(timeline: &Timeline) -> String {
    let (track_of, tracks) = lock_tracks(timeline);
    let colours = lock_colours(timeline);
    let rows = timeline.steps.iter().map(|s| s.index + 1).max().unwrap_or(0).max(1);
    let violation = timeline.verdict.as_ref().map(|v| v.step);
    let title = escape(&timeline.title);

    let mut s = String::with_capacity(16_384 + timeline.steps.len() * 400);
    s.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // No network at all: inline style and script only, images only as data: URLs (the icon).
    s.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         script-src 'unsafe-inline'; img-src data:\">\n",
    );
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(s, "<title>racesim: {title}</title>");
    // An empty icon, so the browser does not go looking for /favicon.ico.
    s.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(s, "<style>\n:root {{ --row: {ROW}px; --head: {HEAD}px; --track: {TRACK}px; }}\n{CSS}</style>");
    s.push_str("</head>\n<body>\n");

    // The header: what this is, and the verdict.
    s.push_str("<header class=\"top\">\n");
    let _ = writeln!(s, "<h1>{title}</h1>");
    let _ = writeln!(
        s,
        "<div class=\"meta\">racesim trace · scenario <b>{}</b> · policy <b>{}</b> · {} step{} · {} lane{} · {} lock interval{}</div>",
        escape(&timeline.scenario),
        escape(&timeline.policy),
        timeline.steps.len(),
        plural(timeline.steps.len()),
        timeline.lanes.len(),
        plural(timeline.lanes.len()),
        timeline.locks.len(),
        plural(timeline.locks.len())
    );
    match &timeline.verdict {
        Some(v) => {
            let _ = writeln!(
                s,
                "<div class=\"verdict\" role=\"alert\"><a class=\"jump\" href=\"#step-{}\" data-goto=\"{}\">✗ {} at step {}</a> <span class=\"message\">{}</span></div>",
                v.step,
                v.step,
                escape(&v.oracle),
                v.step,
                escape(&v.message)
            );
        }
        None => s.push_str("<div class=\"verdict ok\">No violation in this interleaving.</div>\n"),
    }
    s.push_str(
        "<div class=\"legend\"><span class=\"swatch held\"></span>lock held \
         <span class=\"swatch waiting\"></span>waiting for lock \
         <span class=\"swatch bad\"></span>oracle's step \
         <span class=\"swatch window\"></span>race window \
         <span class=\"swatch sealed\"></span>outcome sealed \
         <span class=\"keys\">hover a step to see the kernel state after it · click to pin · ↑/↓ or j/k to move · v: violation</span></div>\n",
    );
    if let Some(w) = &timeline.window {
        let sealed = timeline.sealed.map_or(String::new(), |st| {
            format!(" · the outcome was sealed at <a href=\"#step-{st}\" data-goto=\"{st}\">step {st}</a>")
        });
        let _ = writeln!(
            s,
            "<div class=\"window-note\"><a href=\"#step-{}\" data-goto=\"{}\">race window, steps {}–{}</a>: {}{sealed}</div>",
            w.from,
            w.from,
            w.from,
            w.to,
            escape(&w.description)
        );
    }
    // Lock names in full, one colour each: the bars' vertical labels are cut to their height.
    let mut lock_names: Vec<(&str, &str)> = Vec::new();
    for (bar, colour) in timeline.locks.iter().zip(&colours) {
        let identity = bar.lock.find(')').map_or(bar.lock.as_str(), |end| &bar.lock[..=end]);
        if !lock_names.iter().any(|(name, _)| *name == identity) {
            lock_names.push((identity, colour));
        }
    }
    if !lock_names.is_empty() {
        s.push_str("<div class=\"lock-names\">locks:");
        for (name, colour) in &lock_names {
            let _ = write!(s, " <span class=\"lock-name\" style=\"--c:{colour}\">{}</span>", escape(name));
        }
        s.push_str("</div>\n");
    }
    s.push_str("</header>\n<main>\n<div class=\"scroll\" id=\"scroll\">\n");
    let _ = writeln!(s, "<div class=\"timeline\" style=\"--rows:{rows}\">");

    // The gutter of step numbers.
    s.push_str("<div class=\"gutter\"><div class=\"head\">step</div><div class=\"body\">");
    for step in &timeline.steps {
        let bad = if violation == Some(step.index) { " bad" } else { "" };
        let _ = write!(s, "<div class=\"num{bad}\" style=\"top:{}px\">{}</div>", step.index * ROW, step.index);
    }
    s.push_str("</div></div>\n");

    for (lane, name) in timeline.lanes.iter().enumerate() {
        let lane_tracks = tracks.get(lane).copied().unwrap_or(0);
        let _ = writeln!(
            s,
            "<section class=\"lane\" data-lane=\"{lane}\" style=\"--tracks:{lane_tracks};--lane:{}\">",
            lane_colour(lane)
        );
        let _ =
            writeln!(s, "<div class=\"head\" title=\"{}\">{}</div>\n<div class=\"body\">", escape(name), escape(name));
        for (i, bar) in timeline.locks.iter().enumerate().filter(|(_, b)| b.lane == lane) {
            let what = if bar.waiting { "waits for" } else { "holds" };
            let _ = writeln!(
                s,
                "<div class=\"lock{}\" style=\"--c:{};left:{}px;top:{}px;height:{}px\" title=\"{} {what} {} (steps {}–{})\" data-lock=\"{i}\" data-from=\"{}\">{}</div>",
                if bar.waiting { " waiting" } else { "" },
                colours[i],
                3 + track_of[i] * TRACK,
                bar.from * ROW + 2,
                (bar.to.saturating_sub(bar.from) + 1) * ROW - 4,
                escape(name),
                escape(&bar.lock),
                bar.from,
                bar.to,
                bar.from,
                escape(&bar.lock)
            );
        }
        for step in timeline.steps.iter().filter(|st| st.lane == lane) {
            let bad = violation == Some(step.index);
            let sealed = timeline.sealed == Some(step.index);
            // Key steps (the window's, the sealing one, the oracle's) show their whole text.
            let mut classes = String::new();
            if bad {
                classes.push_str(" violation");
            }
            if sealed {
                classes.push_str(" sealed");
            }
            if timeline.is_key_step(step.index) {
                classes.push_str(" key");
            }
            let badge = if bad {
                "<span class=\"badge bad\">oracle fired</span>"
            } else if sealed {
                "<span class=\"badge sealed\">outcome sealed</span>"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "<div class=\"step{}\" id=\"step-{}\" data-step=\"{}\" tabindex=\"0\" style=\"top:{}px\" title=\"step {}: {}\">{badge}<span class=\"fn\">{}</span><span class=\"chg\">{}</span></div>",
                classes,
                step.index,
                step.index,
                step.index * ROW + 3,
                step.index,
                escape(&step.change),
                escape(&step.function),
                escape(&step.change)
            );
        }
        s.push_str("</div>\n</section>\n");
    }
    if let Some(w) = &timeline.window {
        let _ = writeln!(
            s,
            "<div class=\"band window\" id=\"race-window\" style=\"top:{}px;height:{}px\" title=\"race window: {}\"></div>",
            HEAD + w.from * ROW,
            (w.to.saturating_sub(w.from) + 1) * ROW,
            escape(&w.description)
        );
    }
    if let Some(step) = violation {
        let _ = writeln!(s, "<div class=\"band bad\" style=\"top:{}px\"></div>", HEAD + step * ROW);
    }
    s.push_str("<div class=\"band cursor\" id=\"cursor\" hidden></div>\n</div>\n</div>\n");

    // The side panel; the script fills it in.
    s.push_str(
        "<aside class=\"panel\" id=\"panel\">\n<h2 id=\"p-title\">Kernel state</h2>\n\
         <div id=\"p-where\" class=\"where\"></div>\n<div id=\"p-change\" class=\"change\">Hover over a step, or click it to pin it.</div>\n\
         <div id=\"p-verdict\" class=\"pverdict\" hidden></div>\n\
         <h3>Locks held or awaited</h3>\n<ul id=\"p-locks\" class=\"locks\"></ul>\n\
         <h3>Kernel state after this step <span class=\"note\">(changed lines marked)</span></h3>\n\
         <ul id=\"p-state\" class=\"state\"></ul>\n</aside>\n</main>\n",
    );

    let _ = writeln!(s, "<script type=\"application/json\" id=\"timeline-data\">{}</script>", embedded_json(timeline));
    let _ = writeln!(s, "<script>\n{JS}</script>");
    s.push_str("</body>\n</html>\n");
    s
}

const CSS: &str = r#"
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #202124; background: #fff; color-scheme: light; }
.top { padding: 10px 16px 8px; border-bottom: 1px solid #dadce0; background: #f8f9fa; }
h1 { font-size: 18px; margin: 0 0 2px; }
.meta { color: #5f6368; font-size: 12px; }
.verdict { margin: 8px 0 6px; padding: 8px 12px; border: 1px solid #f4c7c3; border-left: 5px solid #c5221f; background: #fce8e6; color: #a50e0e; border-radius: 4px; font-size: 14px; }
.verdict.ok { border-color: #ceead6; border-left-color: #188038; background: #e6f4ea; color: #0d652d; }
.verdict .jump { font-weight: 700; color: #a50e0e; margin-right: 6px; }
.verdict .message { color: #3c4043; }
.legend { font-size: 12px; color: #5f6368; display: flex; align-items: center; gap: 4px; flex-wrap: wrap; }
.legend .keys { margin-left: 16px; }
.swatch { display: inline-block; width: 22px; height: 11px; border-radius: 2px; margin-left: 10px; vertical-align: middle; }
.swatch:first-child { margin-left: 0; }
.swatch.held { background: #4e79a7; }
.swatch.waiting { background: repeating-linear-gradient(135deg, #4e79a7 0 2px, #fff 2px 5px); border: 1px dashed #4e79a7; }
.swatch.bad { background: #fce8e6; border: 2px solid #c5221f; }
.swatch.window { background: #fff3d1; border: 1px solid #e8a317; }
.swatch.sealed { background: #fff; border: 2px solid #b45f06; }
.window-note { font-size: 12px; color: #7a4100; margin: 4px 0 2px; }
.window-note a { color: #7a4100; font-weight: 700; }
.lock-names { font-size: 12px; color: #5f6368; margin-top: 4px; }
.lock-name { color: #202124; margin-left: 8px; white-space: nowrap; }
.lock-name::before { content: ""; display: inline-block; width: 12px; height: 10px; border-radius: 2px; background: var(--c); margin-right: 4px; vertical-align: -1px; }
main { flex: 1; min-height: 0; display: flex; }
.scroll { flex: 1; min-width: 0; overflow: auto; }
/* clip, not hidden: hidden would make this a scroll container and unstick the lane headers.
   It keeps an unusually wide expanded card from widening the page. */
.timeline { position: relative; display: flex; min-width: min-content; overflow-x: clip; }
.head { position: sticky; top: 0; z-index: 4; height: var(--head); line-height: var(--head); padding: 0 8px; background: #f1f3f4; border-bottom: 3px solid var(--lane, #dadce0); font-weight: 700; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; text-align: center; }
.body { position: relative; height: calc(var(--rows) * var(--row)); background: repeating-linear-gradient(to bottom, transparent 0 var(--row), #f4f5f7 var(--row) calc(2 * var(--row))); }
.gutter { position: sticky; left: 0; z-index: 5; width: 44px; flex: none; background: #fff; border-right: 1px solid #dadce0; }
.gutter .head { z-index: 6; color: #5f6368; font-weight: 400; font-size: 12px; padding: 0 4px; }
.num { position: absolute; right: 6px; height: var(--row); line-height: var(--row); color: #5f6368; font: 12px/var(--row) ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.num.bad { color: #c5221f; font-weight: 700; }
.lane { flex: 1 0 calc(var(--tracks) * var(--track) + 200px); min-width: calc(var(--tracks) * var(--track) + 200px); border-right: 1px solid #dadce0; }
.step { position: absolute; z-index: 2; left: calc(var(--tracks) * var(--track) + 6px); right: 6px; height: calc(var(--row) - 6px); padding: 1px 6px 1px 8px; background: #fff; border: 1px solid #c8ccd4; border-left: 4px solid var(--lane); border-radius: 4px; cursor: pointer; overflow: hidden; line-height: 15px; }
.step:hover { border-color: #80868b; border-left-color: var(--lane); }
.step .fn, .step .chg { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.step .fn { font: 600 12px/15px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.step .chg { font-size: 12px; color: #3c4043; }
.step.violation { background: #fce8e6; border: 2px solid #c5221f; border-left-width: 4px; }
.step.violation .chg { color: #a50e0e; font-weight: 600; }
.step.sealed { border: 2px solid #b45f06; border-left-width: 4px; }
.badge { float: right; margin-left: 8px; font: 700 9px/15px system-ui, sans-serif; text-transform: uppercase; letter-spacing: 0.04em; }
.badge.bad { color: #c5221f; }
.badge.sealed { color: #b45f06; }
.step.selected { outline: 2px solid #1a73e8; outline-offset: 1px; }
/* A step is the only one in its row, so the one under the pointer, the pinned one and the
   violation may grow over the lanes to their right to show their whole text. */
.step:hover, .step.selected, .step.key { right: auto; width: max-content; min-width: calc(100% - var(--tracks) * var(--track) - 12px); z-index: 3; }
/* In the last lane they grow leftwards instead, over their own lock strip, not off the page. */
section.lane:last-of-type .step:hover, section.lane:last-of-type .step.selected, section.lane:last-of-type .step.key { left: auto; right: 6px; }
.step:focus-visible { outline: 2px solid #1a73e8; }
.lock { position: absolute; z-index: 2; width: calc(var(--track) - 4px); border-radius: 3px; background: var(--c); color: #fff; writing-mode: vertical-rl; font-size: 10px; line-height: calc(var(--track) - 4px); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 3px 0; cursor: default; }
.lock.waiting { background: repeating-linear-gradient(135deg, var(--c) 0 2px, #fff 2px 5px); border: 1px dashed var(--c); color: #202124; font-weight: 700; text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
.lock.current { box-shadow: 0 0 0 2px #1a73e8; }
.band { position: absolute; left: 0; right: 0; height: var(--row); z-index: 1; pointer-events: none; }
.band.window { background: rgba(255, 200, 60, 0.22); border-left: 5px solid #e8a317; }
.band.bad { background: rgba(197, 34, 31, 0.10); border-top: 1px solid rgba(197, 34, 31, 0.5); border-bottom: 1px solid rgba(197, 34, 31, 0.5); }
.band.cursor { background: rgba(26, 115, 232, 0.10); border-top: 1px solid rgba(26, 115, 232, 0.45); border-bottom: 1px solid rgba(26, 115, 232, 0.45); }
.band[hidden] { display: none; }
.panel { flex: none; width: 360px; overflow: auto; padding: 10px 14px 16px; border-left: 1px solid #dadce0; background: #fbfbfc; }
.panel h2 { font-size: 15px; margin: 0 0 4px; }
.panel h3 { font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; color: #5f6368; margin: 14px 0 4px; }
.panel .note { text-transform: none; letter-spacing: 0; font-weight: 400; }
.where { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-weight: 600; }
.change { margin-top: 2px; }
.pverdict { margin-top: 8px; padding: 6px 8px; background: #fce8e6; border-left: 4px solid #c5221f; color: #a50e0e; }
.pverdict[hidden] { display: none; }
.panel ul { list-style: none; margin: 0; padding: 0; }
.locks li { padding: 2px 0 2px 8px; border-left: 4px solid var(--c, #999); margin: 2px 0; }
.locks li.waiting { border-left-style: dashed; font-style: italic; }
.locks .empty, .state .empty { color: #80868b; border: 0; font-style: italic; }
.state li { font: 12px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; padding: 2px 6px; margin: 1px 0; border-left: 3px solid transparent; }
.state li.changed { background: #fef7e0; border-left-color: #f9ab00; }
"#;

const JS: &str = r#"(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var row = parseInt(getComputedStyle(document.documentElement).getPropertyValue("--row"), 10);
  var head = parseInt(getComputedStyle(document.documentElement).getPropertyValue("--head"), 10);
  var byIndex = {};
  data.steps.forEach(function (step) { byIndex[step.index] = step; });
  var elements = {};
  document.querySelectorAll("[data-step]").forEach(function (el) { elements[el.dataset.step] = el; });
  var lockElements = {};
  document.querySelectorAll("[data-lock]").forEach(function (el) { lockElements[el.dataset.lock] = el; });
  var order = data.steps.map(function (step) { return step.index; }).sort(function (a, b) { return a - b; });
  var cursor = document.getElementById("cursor");
  var violation = data.verdict ? data.verdict.step : null;
  var pinned = null;
  var shown = null;

  function text(id, value) { document.getElementById(id).textContent = value; }
  function item(list, content, cls, colour) {
    var li = document.createElement("li");
    li.textContent = content;
    if (cls) { li.className = cls; }
    if (colour) { li.style.setProperty("--c", colour); }
    list.appendChild(li);
  }

  function show(index) {
    var step = byIndex[index];
    if (step === undefined || index === shown) { return; }
    shown = index;
    var lane = data.lanes[step.lane] === undefined ? "?" : data.lanes[step.lane];
    text("p-title", "Step " + index + (index === pinned ? " (pinned)" : ""));
    text("p-where", lane + " · " + step.function);
    text("p-change", step.change);
    var verdict = document.getElementById("p-verdict");
    if (index === violation) {
      verdict.hidden = false;
      verdict.textContent = "✗ " + data.verdict.oracle + ": " + data.verdict.message;
    } else {
      verdict.hidden = true;
      verdict.textContent = "";
    }
    var locks = document.getElementById("p-locks");
    locks.textContent = "";
    data.locks.forEach(function (bar, i) {
      var on = bar.from <= index && index <= bar.to;
      var el = lockElements[i];
      if (el) { el.classList.toggle("current", on); }
      if (!on) { return; }
      var who = data.lanes[bar.lane] === undefined ? "?" : data.lanes[bar.lane];
      item(locks, who + (bar.waiting ? " waits for " : " holds ") + bar.lock + "  (steps " + bar.from + "–" + bar.to + ")",
        bar.waiting ? "waiting" : "", el ? el.style.getPropertyValue("--c") : "");
    });
    if (!locks.firstChild) { item(locks, "none", "empty"); }
    var previous = {};
    var at = order.indexOf(index);
    if (at > 0) { byIndex[order[at - 1]].state.forEach(function (line) { previous[line] = true; }); }
    var state = document.getElementById("p-state");
    state.textContent = "";
    step.state.forEach(function (line) { item(state, line, at > 0 && !previous[line] ? "changed" : ""); });
    if (!step.state.length) { item(state, "no snapshot for this step", "empty"); }
    // The violation has its own red band; a blue one on top of it would turn it purple.
    cursor.hidden = index === violation;
    cursor.style.top = (head + index * row) + "px";
  }

  function pin(index, scroll) {
    if (byIndex[index] === undefined) { return; }
    if (pinned !== null && elements[pinned]) { elements[pinned].classList.remove("selected"); }
    pinned = index;
    if (elements[index]) {
      elements[index].classList.add("selected");
      if (scroll) { elements[index].scrollIntoView({ block: "nearest", inline: "nearest" }); }
    }
    shown = null;
    show(index);
  }

  var scroll = document.getElementById("scroll");
  scroll.addEventListener("mouseover", function (event) {
    var el = event.target.closest("[data-step]");
    if (el) { show(Number(el.dataset.step)); }
  });
  scroll.addEventListener("mouseleave", function () { if (pinned !== null) { show(pinned); } });
  scroll.addEventListener("click", function (event) {
    var el = event.target.closest("[data-step]");
    if (el) { pin(Number(el.dataset.step), false); return; }
    var bar = event.target.closest(".lock");
    if (bar) { pin(Number(bar.dataset.from), false); }
  });
  scroll.addEventListener("focusin", function (event) {
    var el = event.target.closest("[data-step]");
    if (el) { pin(Number(el.dataset.step), false); }
  });
  document.querySelectorAll("[data-goto]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      pin(Number(link.dataset.goto), true);
      if (elements[link.dataset.goto]) { elements[link.dataset.goto].scrollIntoView({ block: "center" }); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var at = order.indexOf(pinned === null ? order[0] : pinned);
    var next = null;
    if (event.key === "ArrowDown" || event.key === "j") { next = order[Math.min(order.length - 1, at + 1)]; }
    else if (event.key === "ArrowUp" || event.key === "k") { next = order[Math.max(0, at - 1)]; }
    else if (event.key === "Home") { next = order[0]; }
    else if (event.key === "End") { next = order[order.length - 1]; }
    else if (event.key === "v" && violation !== null) { next = violation; }
    if (next === null || next === undefined) { return; }
    event.preventDefault();
    pin(next, true);
    if (elements[next]) { elements[next].focus({ preventScroll: true }); }
  });

  // Start on the violating step (or the first one) in the panel, and open on the race: the
  // race window at the top of the view (a step before it for context), not the beginning.
  if (order.length) { pin(violation !== null && byIndex[violation] !== undefined ? violation : order[0], false); }
  if (data.window) { scroll.scrollTop = Math.max(0, (data.window.from - 1) * row); }
  document.body.dataset.ready = "1";
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::tests::small;

    #[test]
    fn every_lane_is_a_column() {
        let t = small();
        let html = render(&t);
        assert_eq!(html.matches("class=\"lane\"").count(), t.lanes.len());
        for lane in 0..t.lanes.len() {
            assert_eq!(html.matches(&format!("<section class=\"lane\" data-lane=\"{lane}\"")).count(), 1);
        }
        assert!(html.contains(">writer</div>"));
        assert!(html.contains(">read&lt;er&gt;</div>"));
    }

    #[test]
    fn every_step_is_in_its_lane() {
        let t = small();
        let html = render(&t);
        for step in &t.steps {
            let marker = format!("data-step=\"{}\"", step.index);
            assert_eq!(html.matches(&marker).count(), 1, "step {}", step.index);
            // The step sits between its lane's opening tag and the next lane's.
            let at = html.find(&marker).unwrap();
            let lane_at = html[..at].rfind("data-lane=\"").unwrap();
            assert!(html[lane_at..].starts_with(&format!("data-lane=\"{}\"", step.lane)));
            assert!(html[at..].contains(&format!("<span class=\"fn\">{}</span>", step.function)));
        }
    }

    #[test]
    fn the_violation_is_marked_and_the_verdict_is_on_top() {
        let html = render(&small());
        assert_eq!(html.matches("class=\"step violation").count(), 1);
        assert!(html.contains("<div class=\"step violation key\" id=\"step-3\" data-step=\"3\""));
        // The sealing step and the window are marked too.
        assert!(html.contains("<div class=\"step sealed key\" id=\"step-2\""));
        assert!(html.contains("class=\"band window\" id=\"race-window\""));
        assert!(html.contains("race window, steps 1–3</a>: between &lt;lock&gt; &amp; read"));
        let verdict = html.find("class=\"verdict\"").unwrap();
        assert!(verdict < html.find("class=\"lane\"").unwrap(), "the verdict comes before the lanes");
        assert!(html.contains("✗ stale_data at step 3</a> <span class=\"message\">reader sees &lt;leftovers&gt; &amp; &quot;junk&quot;</span>"));
    }

    #[test]
    fn text_is_escaped_and_data_cannot_close_its_script() {
        let html = render(&small());
        assert!(!html.contains("<script>&"));
        assert!(html.contains("<span class=\"chg\">copies &lt;script&gt;&amp;&quot; into page#0</span>"));
        // Two script elements: the data and the code; nothing in the data ends either early.
        assert_eq!(html.matches("<script").count(), 2);
        assert_eq!(html.matches("</script").count(), 2);
        let data_start = html.find("<script type=\"application/json\" id=\"timeline-data\">").unwrap();
        let data = &html[data_start..];
        let data = &data[data.find('>').unwrap() + 1..data.find("</script>").unwrap()];
        assert!(!data.contains('<'));
        let parsed: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(parsed["steps"][2]["change"], "copies <script>&\" into page#0");
        assert_eq!(parsed["lanes"][1], "read<er>");
    }

    #[test]
    fn lock_bars_are_drawn_held_and_waiting() {
        let html = render(&small());
        assert_eq!(html.matches("<div class=\"lock\"").count(), 1);
        assert_eq!(html.matches("<div class=\"lock waiting\"").count(), 1);
        assert!(html.contains("title=\"writer holds i_rwsem(data) excl (steps 0–3)\""));
        assert!(html.contains("title=\"read&lt;er&gt; waits for i_rwsem(data) shared (steps 1–3)\""));
    }

    #[test]
    fn the_page_needs_nothing_from_the_network() {
        let html = render(&small());
        for forbidden in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!html.contains(forbidden), "{forbidden} in the page");
        }
        assert!(html.contains("Content-Security-Policy"));
        assert!(html.contains("document.body.dataset.ready = \"1\""));
    }

    #[test]
    fn a_timeline_without_verdict_or_steps_still_renders() {
        let mut t = small();
        t.verdict = None;
        t.window = None;
        t.sealed = None;
        let html = render(&t);
        assert!(!html.contains("step violation"));
        assert!(html.contains("No violation"));
        t.steps.clear();
        t.locks.clear();
        let html = render(&t);
        assert_eq!(html.matches("class=\"lane\"").count(), 2);
    }
}
