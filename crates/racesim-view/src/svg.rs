//! Static SVG swimlane picture of a trace, for mailing-list posts and bug reports.
//!
//! Owns the SVG renderer and the layout decisions both pictures share (which lock bar goes in
//! which track of its lane, and which colour a lock gets); [`crate::html`] reuses those so the
//! interactive page and the static picture look alike.
//!
//! The picture is one column per lane with time flowing down, one row per step, lock bars in a
//! strip at the left of each lane (hatched and dashed while waiting), the race window shaded
//! amber across every lane, the sealing step outlined in orange and the oracle's step on a red
//! band, each with a badge, the verdict and the window under the title, and every lock's full
//! name in a key. The steps a reader of the race needs (the window's, the sealing one, the
//! oracle's) are never cut: their text wraps and their rows grow. Cards narrow so that the
//! picture fits [`TARGET_WIDTH`] (a mailing-list post) where the lanes allow. No scripts, no CSS, no external references:
//! presentation attributes only, so any viewer or converter draws the same thing.

use crate::Timeline;
use std::fmt::Write as _;

/// Lock colours, dark enough for white text. Red is left out: it means "violation".
const LOCK_COLOURS: [&str; 9] =
    ["#4e79a7", "#c76a0f", "#3d8a34", "#8f5a84", "#3f8f89", "#8c6d5a", "#c2508a", "#7a7a22", "#5b5fc7"];

/// Lane accents (the left edge of each step card and the lane header underline).
pub(crate) const LANE_COLOURS: [&str; 8] =
    ["#1a73e8", "#e37400", "#188038", "#9334e6", "#007b83", "#b06000", "#c5221f", "#5f6368"];

pub(crate) fn lane_colour(lane: usize) -> &'static str {
    LANE_COLOURS[lane % LANE_COLOURS.len()]
}

/// The lock a bar is about, without its mode or range: "i_rwsem(data) excl" and
/// "i_rwsem(data) shared" are one lock and get one colour, so contention between lanes shows.
fn lock_identity(lock: &str) -> &str {
    lock.find(')').map_or(lock, |end| &lock[..=end])
}

/// One colour per lock bar: locks get palette colours in order of first appearance, which is
/// deterministic and keeps the first (usually most important) locks well apart in hue.
pub(crate) fn lock_colours(timeline: &Timeline) -> Vec<&'static str> {
    let mut seen: Vec<&str> = Vec::new();
    timeline
        .locks
        .iter()
        .map(|bar| {
            let identity = lock_identity(&bar.lock);
            let index = seen.iter().position(|s| *s == identity).unwrap_or_else(|| {
                seen.push(identity);
                seen.len() - 1
            });
            LOCK_COLOURS[index % LOCK_COLOURS.len()]
        })
        .collect()
}

/// Where lock bars go: the track (0 = leftmost) of every bar within its lane, and how many
/// tracks each lane needs. Greedy interval colouring by start step, so nested locks (i_rwsem,
/// then page lock) sit side by side rather than on top of each other.
pub(crate) fn lock_tracks(timeline: &Timeline) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..timeline.locks.len()).collect();
    order.sort_by_key(|&i| (timeline.locks[i].from, timeline.locks[i].to, i));
    let mut track_of = vec![0; timeline.locks.len()];
    // Per lane, the last step covered by each track.
    let mut ends: Vec<Vec<usize>> = vec![Vec::new(); timeline.lanes.len()];
    for i in order {
        let bar = &timeline.locks[i];
        if bar.lane >= ends.len() {
            ends.resize(bar.lane + 1, Vec::new());
        }
        let lane = &mut ends[bar.lane];
        let track = lane.iter().position(|&end| end < bar.from).unwrap_or_else(|| {
            lane.push(0);
            lane.len() - 1
        });
        lane[track] = bar.to;
        track_of[i] = track;
    }
    (track_of, ends.iter().map(Vec::len).collect())
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// XML-escapes text for element content and double- or single-quoted attributes. Control
/// characters other than tab and newline are not allowed in XML 1.0 at all, so they are dropped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Splits `text` into lines of at most `width` characters at spaces (a word longer than a line
/// gets a line of its own, cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed =
            if line.is_empty() { word.chars().count() } else { line.chars().count() + 1 + word.chars().count() };
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.into_iter().map(|l| shorten(&l, width)).collect()
}

// Geometry, in pixels. Text is monospace so widths can be computed without font metrics:
// a monospace glyph is about 0.6 em wide.
const PAD: usize = 16;
const GUTTER: usize = 40;
const TRACK: usize = 14;
/// Step cards are as wide as fits the picture into [`TARGET_WIDTH`], within these bounds.
const CARD_MIN: usize = 180;
const CARD_MAX: usize = 300;
/// The width of a mailing-list post's picture: an 800-pixel SVG shows at full size in mail
/// clients and list archives without being scaled down to unreadable text.
pub const TARGET_WIDTH: usize = 800;
const ROW: usize = 34;
/// Extra height per wrapped line of a key step's text.
const WRAP_LINE: usize = 13;
const HEAD: usize = 28;
const LINE: usize = 17;
/// The race window's shade and the sealing step's mark.
const WINDOW_FILL: &str = "#fff3d1";
const WINDOW_EDGE: &str = "#e8a317";
const SEALED: &str = "#b45f06";

/// Characters of 10.5px change text and of 11px function text that fit a card.
fn change_chars(card: usize) -> usize {
    (card - 14) * 10 / 63
}
fn function_chars(card: usize) -> usize {
    (card - 14) * 10 / 66
}

/// Renders the timeline as a standalone SVG document.
pub fn render(timeline: &Timeline) -> String {
    let (track_of, tracks) = lock_tracks(timeline);
    let colours = lock_colours(timeline);
    let lanes = timeline.lanes.len().max(1);
    let strips: usize = (0..lanes).map(|lane| tracks.get(lane).copied().unwrap_or(0) * TRACK + 18).sum();
    let card = (TARGET_WIDTH.saturating_sub(2 * PAD + GUTTER + strips) / lanes).clamp(CARD_MIN, CARD_MAX);
    let lane_width = |lane: usize| tracks.get(lane).copied().unwrap_or(0) * TRACK + 8 + card + 6;
    let mut lane_x = Vec::with_capacity(timeline.lanes.len());
    let mut x = PAD + GUTTER;
    for lane in 0..timeline.lanes.len() {
        lane_x.push(x);
        x += lane_width(lane);
    }
    let width = (x + PAD).max(480);
    let rows = timeline.steps.iter().map(|s| s.index + 1).max().unwrap_or(0).max(1);
    // Key steps (the window's, the sealing one, the oracle's) are never cut: their change
    // text wraps, and their row grows to hold it.
    let mut change_lines: Vec<Vec<String>> = vec![Vec::new(); rows];
    for step in &timeline.steps {
        change_lines[step.index] = if timeline.is_key_step(step.index) {
            wrap(&step.change, change_chars(card))
        } else {
            vec![shorten(&step.change, change_chars(card))]
        };
    }
    let row_height: Vec<usize> =
        change_lines.iter().map(|lines| ROW + lines.len().saturating_sub(1) * WRAP_LINE).collect();

    // The caption: title, what was explored, the verdict, each wrapped to the picture's width
    // (a monospace glyph is 0.6 em wide, so a 12px line holds width / 7.2 characters).
    let chars = |font_px: usize| (width - 2 * PAD) * 10 / (font_px * 6);
    let verdict_colour = if timeline.verdict.is_some() { "#c5221f" } else { "#188038" };
    let mut caption: Vec<(String, usize, &str, &str)> = Vec::new();
    for line in wrap(&timeline.title, chars(16)) {
        caption.push((line, 16, "bold", "#202124"));
    }
    let meta = format!(
        "racesim: scenario {}, policy {}, {} step{}, {} lane{}",
        timeline.scenario,
        timeline.policy,
        timeline.steps.len(),
        plural(timeline.steps.len()),
        timeline.lanes.len(),
        plural(timeline.lanes.len())
    );
    for line in wrap(&meta, chars(12)) {
        caption.push((line, 12, "normal", "#202124"));
    }
    let verdict = match &timeline.verdict {
        Some(v) => format!("✗ {} at step {}: {}", v.oracle, v.step, v.message),
        None => "no violation".to_string(),
    };
    for line in wrap(&verdict, chars(12)) {
        caption.push((line, 12, "bold", verdict_colour));
    }
    if let Some(w) = &timeline.window {
        let sealed = timeline.sealed.map_or(String::new(), |st| format!("; the outcome was sealed at step {st}"));
        for line in wrap(&format!("race window, steps {}-{}: {}{sealed}", w.from, w.to, w.description), chars(12)) {
            caption.push((line, 12, "normal", SEALED));
        }
    }
    // Lock names in full (the bars' own labels are cut to their height), one colour each.
    let mut lock_names: Vec<(&str, &str)> = Vec::new();
    for (bar, colour) in timeline.locks.iter().zip(&colours) {
        let identity = lock_identity(&bar.lock);
        if !lock_names.iter().any(|(name, _)| *name == identity) {
            lock_names.push((identity, colour));
        }
    }
    let mut lock_rows: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
    let mut used = 0;
    for &(name, colour) in &lock_names {
        let needed = 20 + name.chars().count() * 66 / 10 + 12;
        if used + needed > width - 2 * PAD - 50 && !lock_rows.last().is_some_and(Vec::is_empty) {
            lock_rows.push(Vec::new());
            used = 0;
        }
        lock_rows.last_mut().expect("a row").push((name, colour));
        used += needed;
    }
    if lock_names.is_empty() {
        lock_rows.clear();
    }
    let caption_top = PAD + 16;
    let legend_top = caption_top + caption.len() * LINE + 6;
    let locks_top = legend_top + LINE + 2;
    let lanes_top = locks_top + lock_rows.len() * LINE + 4;
    let rows_top = lanes_top + HEAD;
    let mut row_y = Vec::with_capacity(rows + 1);
    let mut y = rows_top;
    for h in &row_height {
        row_y.push(y);
        y += h;
    }
    row_y.push(y);
    let rows_bottom = y;
    let height = rows_bottom + PAD;

    let mut s = String::with_capacity(4096 + timeline.steps.len() * 700);
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11" fill="#202124">"##
    );
    let _ = writeln!(s, "<title>{}</title>", escape(&timeline.title));
    if let Some(v) = &timeline.verdict {
        let _ = writeln!(s, "<desc>{}</desc>", escape(&format!("{} at step {}: {}", v.oracle, v.step, v.message)));
    }
    let _ = writeln!(
        s,
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9aa0a6" stroke-width="3"/></pattern></defs>"##
    );
    let _ = writeln!(s, r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##);

    for (i, (text, size, weight, fill)) in caption.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{PAD}" y="{}" font-size="{size}" font-weight="{weight}" fill="{fill}">{}</text>"#,
            caption_top + i * LINE,
            escape(text)
        );
    }
    // Legend: what a held and a waiting bar look like.
    let ly = legend_top - 10;
    let _ = writeln!(
        s,
        r##"<g font-size="11"><rect x="{PAD}" y="{ly}" width="22" height="11" rx="2" fill="#4e79a7"/><text x="{}" y="{}">lock held</text><rect x="{}" y="{ly}" width="22" height="11" rx="2" fill="url(#hatch)" stroke="#4e79a7" stroke-dasharray="3 2"/><text x="{}" y="{}">waiting for lock</text><rect x="{}" y="{ly}" width="22" height="11" rx="2" fill="#fce8e6" stroke="#c5221f" stroke-width="2"/><text x="{}" y="{}">oracle's step</text><rect x="{}" y="{ly}" width="22" height="11" rx="2" fill="{WINDOW_FILL}" stroke="{WINDOW_EDGE}"/><text x="{}" y="{}">race window</text><rect x="{}" y="{ly}" width="22" height="11" rx="2" fill="#ffffff" stroke="{SEALED}" stroke-width="2.5"/><text x="{}" y="{}">outcome sealed</text></g>"##,
        PAD + 28,
        legend_top,
        PAD + 108,
        PAD + 136,
        legend_top,
        PAD + 256,
        PAD + 284,
        legend_top,
        PAD + 388,
        PAD + 416,
        legend_top,
        PAD + 502,
        PAD + 530,
        legend_top
    );
    for (i, row) in lock_rows.iter().enumerate() {
        let ty = locks_top + i * LINE;
        let mut lx = PAD;
        let _ = write!(
            s,
            r##"<g font-size="11"><text x="{lx}" y="{ty}" fill="#5f6368">{}</text>"##,
            if i == 0 { "locks:" } else { "" }
        );
        lx += 50;
        for (name, colour) in row {
            let _ = write!(
                s,
                r##"<rect x="{lx}" y="{}" width="14" height="11" rx="2" fill="{colour}"/><text x="{}" y="{ty}">{}</text>"##,
                ty - 10,
                lx + 18,
                escape(name)
            );
            lx += 20 + name.chars().count() * 66 / 10 + 12;
        }
        let _ = writeln!(s, "</g>");
    }

    // Row stripes across the whole width, so a step can be followed across lanes.
    let right = x;
    for row in (1..rows).step_by(2) {
        let _ = writeln!(
            s,
            r##"<rect x="{PAD}" y="{}" width="{}" height="{}" fill="#f4f5f7"/>"##,
            row_y[row],
            right - PAD,
            row_height[row]
        );
    }
    // The race window: shaded across every lane, with a bracket in the gutter.
    if let Some(w) = timeline.window.as_ref().filter(|w| w.from <= w.to && w.to < rows) {
        let (top, bottom) = (row_y[w.from], row_y[w.to + 1]);
        let _ = writeln!(
            s,
            r##"<g><title>race window: {}</title><rect x="{PAD}" y="{top}" width="{}" height="{}" fill="{WINDOW_FILL}" fill-opacity="0.85"/><rect x="{}" y="{top}" width="4" height="{}" fill="{WINDOW_EDGE}"/></g>"##,
            escape(&w.description),
            right - PAD,
            bottom - top,
            PAD + 2,
            bottom - top
        );
    }
    if let Some(v) = timeline.verdict.as_ref().filter(|v| v.step < rows) {
        let _ = writeln!(
            s,
            r##"<rect x="{PAD}" y="{}" width="{}" height="{}" fill="#fce8e6"/>"##,
            row_y[v.step],
            right - PAD,
            row_height[v.step]
        );
    }
    // Lane separators and headers.
    for (lane, name) in timeline.lanes.iter().enumerate() {
        let lx = lane_x[lane];
        let w = lane_width(lane);
        let _ = writeln!(s, r##"<line x1="{lx}" y1="{lanes_top}" x2="{lx}" y2="{rows_bottom}" stroke="#dadce0"/>"##);
        let _ = writeln!(
            s,
            r##"<rect x="{lx}" y="{lanes_top}" width="{w}" height="{HEAD}" fill="#f1f3f4"/><rect x="{lx}" y="{}" width="{w}" height="3" fill="{}"/><text x="{}" y="{}" font-size="13" font-weight="bold" text-anchor="middle">{}</text>"##,
            lanes_top + HEAD - 3,
            lane_colour(lane),
            lx + w / 2,
            lanes_top + 18,
            escape(&shorten(name, w * 10 / 78))
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="11" fill="#5f6368" text-anchor="end">step</text>"##,
        PAD + GUTTER - 6,
        lanes_top + 18
    );

    // Lock bars, under the step cards.
    for (i, bar) in timeline.locks.iter().enumerate() {
        let Some(&lx) = lane_x.get(bar.lane) else { continue };
        let bx = lx + 4 + track_of[i] * TRACK;
        let (from, to) = (bar.from.min(rows - 1), bar.to.min(rows - 1));
        let top = row_y[from] + 2;
        let h = (row_y[to + 1] - row_y[from]).saturating_sub(4);
        let colour = colours[i];
        let what = if bar.waiting { "waits for" } else { "holds" };
        let _ = write!(
            s,
            r#"<g><title>{} {what} {} (steps {}–{})</title>"#,
            escape(timeline.lanes.get(bar.lane).map_or("", String::as_str)),
            escape(&bar.lock),
            bar.from,
            bar.to
        );
        if bar.waiting {
            let _ = write!(
                s,
                r#"<rect x="{bx}" y="{top}" width="{}" height="{h}" rx="2" fill="url(#hatch)" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 2"/>"#,
                TRACK - 3
            );
        } else {
            let _ =
                write!(s, r#"<rect x="{bx}" y="{top}" width="{}" height="{h}" rx="2" fill="{colour}"/>"#, TRACK - 3);
        }
        // Vertical label, reading downwards, only where at least a few characters fit.
        let fits = h.saturating_sub(8) * 10 / 54;
        if fits >= 4 {
            let cx = bx as f64 + (TRACK - 3) as f64 / 2.0;
            let ty = top + 4;
            // Dark text with a white halo on the hatching, white text on solid bars.
            let paint = if bar.waiting {
                r##"font-weight="bold" fill="#202124" stroke="#ffffff" stroke-width="2.5" paint-order="stroke""##
            } else {
                r##"fill="#ffffff""##
            };
            let _ = write!(
                s,
                r#"<text x="{cx}" y="{ty}" dy="0.35em" font-size="9" {paint} transform="rotate(90 {cx} {ty})">{}</text>"#,
                escape(&shorten(&bar.lock, fits))
            );
        }
        let _ = writeln!(s, "</g>");
    }

    // Steps: the number in the gutter, the card in its lane.
    let violation = timeline.verdict.as_ref().map(|v| v.step);
    for step in timeline.steps.iter().filter(|st| st.index < rows) {
        let y = row_y[step.index];
        let h = row_height[step.index];
        let bad = violation == Some(step.index);
        let sealed = timeline.sealed == Some(step.index);
        let number_colour = if bad {
            "#c5221f"
        } else if sealed {
            SEALED
        } else {
            "#5f6368"
        };
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{number_colour}"{}>{}</text>"##,
            PAD + GUTTER - 6,
            y + 19,
            if bad || sealed { r#" font-weight="bold""# } else { "" },
            step.index
        );
        let Some(&lx) = lane_x.get(step.lane) else { continue };
        let cx = lx + 4 + tracks.get(step.lane).copied().unwrap_or(0) * TRACK + 4;
        let (fill, stroke, stroke_width) = if bad {
            ("#fce8e6", "#c5221f", "2")
        } else if sealed {
            ("#ffffff", SEALED, "2.5")
        } else {
            ("#ffffff", "#c8ccd4", "1")
        };
        // A badge says what the mark means, at the card's top right.
        let badge = if bad {
            Some(("oracle fired", "#c5221f"))
        } else if sealed {
            Some(("outcome sealed", SEALED))
        } else {
            None
        };
        let badge_chars = badge.map_or(0, |(text, _)| text.chars().count() + 1);
        let function_room = function_chars(card).saturating_sub(badge_chars * 9 / 11);
        let key = timeline.is_key_step(step.index);
        // A key step's function is never cut either: its font shrinks to fit instead.
        let function_len = step.function.chars().count();
        let (function_text, function_size) = if key && function_len > function_room {
            (step.function.clone(), (11.0 * function_room as f64 / function_len as f64).max(7.0))
        } else {
            (shorten(&step.function, function_room), 11.0)
        };
        let _ = write!(
            s,
            r#"<g{}><title>{}</title><rect x="{cx}" y="{}" width="{card}" height="{}" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"/><rect x="{cx}" y="{}" width="3" height="{}" fill="{}"/><text x="{}" y="{}" font-weight="bold" font-size="{function_size:.1}">{}</text>"#,
            if bad {
                r#" class="violation""#
            } else if sealed {
                r#" class="sealed""#
            } else {
                ""
            },
            escape(&format!(
                "step {} · {} · {}: {}",
                step.index,
                lane_name(timeline, step.lane),
                step.function,
                step.change
            )),
            y + 3,
            h - 6,
            y + 3,
            h - 6,
            lane_colour(step.lane),
            cx + 8,
            y + 15,
            escape(&function_text),
        );
        if let Some((text, colour)) = badge {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" font-size="9" font-weight="bold" text-anchor="end" fill="{colour}">{}</text>"#,
                cx + card - 5,
                y + 13,
                text.to_uppercase()
            );
        }
        for (i, line) in change_lines[step.index].iter().enumerate() {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" font-size="10.5" fill="{}">{}</text>"#,
                cx + 8,
                y + 28 + i * WRAP_LINE,
                if bad { "#a50e0e" } else { "#3c4043" },
                escape(line)
            );
        }
        let _ = writeln!(s, "</g>");
    }
    s.push_str("</svg>\n");
    s
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn lane_name(timeline: &Timeline, lane: usize) -> &str {
    timeline.lanes.get(lane).map_or("?", String::as_str)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{LockBar, Step, Timeline, Verdict};

    /// Two lanes, four steps, a held and a waited-for lock, a violation at step 3, and text
    /// that must be escaped everywhere.
    pub(crate) fn small() -> Timeline {
        let step = |index, lane, function: &str, change: &str| Step {
            index,
            lane,
            function: function.into(),
            change: change.into(),
            state: vec![format!("data: i_size {index}"), "free blocks, next first: b4".into()],
        };
        Timeline {
            title: "tiny under legacy".into(),
            scenario: "tiny".into(),
            policy: "legacy".into(),
            lanes: vec!["writer".into(), "read<er>".into()],
            steps: vec![
                step(0, 0, "inode_lock", "takes i_rwsem(data) excl"),
                step(1, 1, "inode_lock", "waits for i_rwsem(data) shared"),
                step(2, 0, "generic_perform_write", "copies <script>&\" into page#0"),
                step(3, 1, "filemap_read", "reads data:0 and sees leftovers"),
            ],
            locks: vec![
                LockBar { lane: 0, lock: "i_rwsem(data) excl".into(), from: 0, to: 3, waiting: false },
                LockBar { lane: 1, lock: "i_rwsem(data) shared".into(), from: 1, to: 3, waiting: true },
            ],
            verdict: Some(Verdict {
                oracle: "stale_data".into(),
                step: 3,
                message: "reader sees <leftovers> & \"junk\"".into(),
            }),
            window: Some(crate::RaceWindow { from: 1, to: 3, description: "between <lock> & read".into() }),
            sealed: Some(2),
        }
    }

    /// A structural well-formedness check: every tag is closed in order, attributes are
    /// quoted, and every `&` starts an entity. Not a validating parser; enough to catch broken
    /// escaping or unbalanced output.
    pub(crate) fn check_xml(doc: &str) -> Result<(), String> {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = doc;
        let mut roots = 0;
        while let Some(open) = rest.find('<') {
            check_text(&rest[..open])?;
            rest = &rest[open..];
            if let Some(body) = rest.strip_prefix("<?") {
                let end = body.find("?>").ok_or("unterminated processing instruction")?;
                rest = &body[end + 2..];
                continue;
            }
            if let Some(body) = rest.strip_prefix("<!--") {
                let end = body.find("-->").ok_or("unterminated comment")?;
                rest = &body[end + 3..];
                continue;
            }
            let end = tag_end(rest).ok_or_else(|| format!("unterminated tag at {:?}", &rest[..rest.len().min(40)]))?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let name = name.trim();
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
            let name = &tag[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '_') {
                return Err(format!("bad tag name in <{tag}>"));
            }
            check_attributes(&tag[name_end..])?;
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name);
            }
        }
        if !rest.trim().is_empty() {
            return Err("text after the root element".into());
        }
        match (stack.last(), roots) {
            (Some(open), _) => Err(format!("<{open}> never closed")),
            (None, 1) => Ok(()),
            (None, n) => Err(format!("{n} root elements")),
        }
    }

    /// Index of the `>` ending the tag that starts `s`, skipping quoted attribute values.
    fn tag_end(s: &str) -> Option<usize> {
        let mut quote = None;
        for (i, c) in s.char_indices().skip(1) {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => return Some(i),
                (None, '<') | (Some(_), '<') => return None,
                _ => {}
            }
        }
        None
    }

    fn check_attributes(mut attrs: &str) -> Result<(), String> {
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                return Ok(());
            }
            let eq = attrs.find('=').ok_or_else(|| format!("attribute without value: {attrs}"))?;
            let name = attrs[..eq].trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("bad attribute name {name:?}"));
            }
            let value = &attrs[eq + 1..];
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'').ok_or("unquoted attribute")?;
            let close = value[1..].find(quote).ok_or("unterminated attribute")?;
            check_text(&value[1..1 + close])?;
            attrs = &value[close + 2..];
        }
    }

    fn check_text(text: &str) -> Result<(), String> {
        if text.contains("]]>") {
            return Err("]]> in text".into());
        }
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            rest = &rest[amp + 1..];
            let end = rest.find(';').ok_or("& without ;")?;
            let entity = &rest[..end];
            let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
                || entity.strip_prefix("#x").is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                || entity.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            if !known {
                return Err(format!("unknown entity &{entity};"));
            }
        }
        Ok(())
    }

    #[test]
    fn the_checker_catches_broken_documents() {
        assert!(check_xml("<a><b/></a>").is_ok());
        assert!(check_xml("<a><b></a>").is_err());
        assert!(check_xml("<a>x & y</a>").is_err());
        assert!(check_xml("<a>x <script> y</a>").is_err());
        assert!(check_xml(r#"<a b="1"c="2"/>"#).is_ok());
        assert!(check_xml("<a b=1/>").is_err());
        assert!(check_xml("<a/><b/>").is_err());
    }

    #[test]
    fn svg_is_a_well_formed_standalone_document() {
        let svg = render(&small());
        check_xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let root = &svg[svg.find("<svg").unwrap()..];
        let root = &root[..root.find('>').unwrap()];
        assert!(root.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        for attribute in ["width=\"", "height=\"", "viewBox=\"0 0 "] {
            assert!(root.contains(attribute), "root lacks {attribute}: {root}");
        }
        assert!(!svg.contains("<script"), "no scripts in a static picture");
        assert!(!svg.contains("href"), "no external references");
    }

    #[test]
    fn svg_shows_lanes_steps_locks_and_the_violation() {
        let t = small();
        let svg = render(&t);
        assert!(svg.contains(">writer</text>"));
        assert!(svg.contains(">read&lt;er&gt;</text>"));
        for step in &t.steps {
            assert!(svg.contains(&format!(">{}</text>", escape(&step.function))), "step {} missing", step.index);
        }
        assert_eq!(svg.matches(r#"class="violation""#).count(), 1);
        let violation = &svg[svg.find(r#"class="violation""#).unwrap()..];
        assert!(violation[..violation.find("</g>").unwrap()].contains("reads data:0"));
        // The verdict is the caption, escaped.
        assert!(svg.contains("stale_data at step 3: reader sees &lt;leftovers&gt; &amp; &quot;junk&quot;"));
        // One held bar, one hatched waiting bar.
        assert_eq!(svg.matches(r##"fill="url(#hatch)" stroke="#"##).count(), 2, "legend and the waiting bar");
        assert!(svg.contains("holds i_rwsem(data) excl (steps 0–3)"));
        assert!(svg.contains("waits for i_rwsem(data) shared (steps 1–3)"));
    }

    #[test]
    fn svg_escapes_step_text() {
        let svg = render(&small());
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("&\""));
        assert!(svg.contains("copies &lt;script&gt;&amp;&quot; into page#0"));
    }

    #[test]
    fn escape_drops_what_xml_cannot_carry() {
        assert_eq!(escape("a\u{1}b\u{FFFF}c'"), "abc&apos;");
    }

    #[test]
    fn tracks_put_overlapping_bars_side_by_side() {
        let mut t = small();
        t.locks = vec![
            LockBar { lane: 0, lock: "i_rwsem(data) excl".into(), from: 0, to: 3, waiting: false },
            LockBar { lane: 0, lock: "page_lock(#0)".into(), from: 1, to: 2, waiting: false },
            LockBar { lane: 0, lock: "page_lock(#1)".into(), from: 3, to: 3, waiting: false },
            LockBar { lane: 1, lock: "i_rwsem(data) shared".into(), from: 1, to: 3, waiting: false },
        ];
        let (track_of, tracks) = lock_tracks(&t);
        assert_eq!(track_of, vec![0, 1, 1, 0]);
        assert_eq!(tracks, vec![2, 1]);
        let colours = lock_colours(&t);
        assert_eq!(colours[0], colours[3], "one lock, one colour, whatever the mode");
        assert_ne!(colours[0], colours[1]);
    }

    #[test]
    fn wrap_and_shorten_respect_widths() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(wrap("aa bb cc dd", 5), vec!["aa bb", "cc dd"]);
        assert_eq!(wrap("abcdefgh x", 4), vec!["abc…", "x"]);
    }
}
