//! Policy files: the form in which every locking policy is written, built-in or not.
//!
//! A policy is a TOML table: `name`, the behaviour fields (docs/scenario-format.md), and its
//! lock placements as `[[lock]]` tables (`lock`, `mode`, `range`, `function`, `from`, `to`,
//! optional `code`; docs/policy-language.md). A `base` built-in supplies whatever the file does
//! not say; a placement replaces the base's placements of the same lock in the same function
//! and adds to the others (`remove = true` drops them). The built-ins are the files in
//! `policies/` at the root of the repository, embedded at build time and loaded through the
//! same parser a user's file goes through.
//!
//! Two older forms still load: the lock table of `operation`/`phase` rows, and the field per
//! lock decision (`fault_lock_whole_fault = true`, ...); both are translated into placements
//! ([`racesim_kernel::policy::old_form`]). Errors carry the line and column of the field at
//! fault; placements that can deadlock load with warnings ([`warnings`]).

use crate::{ScenarioError, line_column};
use racesim_kernel::Policy;
use racesim_kernel::lock::DeclaredLock;
use racesim_kernel::placement::{self, Func, LockClassForm, LockName, Placement, PlacementForm};
#[cfg(test)]
use racesim_kernel::policy::BUILTIN_POLICIES;
use racesim_kernel::policy::{old_form, resolve_builtin};

/// The built-in policy files, by name.
const BUILTIN_FILES: [(&str, &str); 6] = [
    ("legacy", include_str!("../../../policies/legacy.toml")),
    ("mmaplock", include_str!("../../../policies/mmaplock.toml")),
    ("range_lock", include_str!("../../../policies/range_lock.toml")),
    ("invalidate_lock", include_str!("../../../policies/invalidate_lock.toml")),
    ("xfs-4.1", include_str!("../../../policies/xfs-4.1.toml")),
    ("xfs-5.3", include_str!("../../../policies/xfs-5.3.toml")),
];

/// Every built-in by its own name, in the order `racesim policy --list` shows them.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN_FILES.iter().map(|(n, _)| *n)
}

/// The text of a built-in policy file (by name or library alias).
pub fn builtin_text(name: &str) -> Option<&'static str> {
    let name = resolve_builtin(name)?;
    BUILTIN_FILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A built-in policy (by its name or a library alias such as `ext4-4.4`), loaded from its file.
pub fn builtin(name: &str) -> Option<Policy> {
    let text = builtin_text(name)?;
    let path = format!("policies/{}.toml", resolve_builtin(name)?);
    Some(parse(text, &path).unwrap_or_else(|e| panic!("built-in policy file is broken: {e}")))
}

/// What is wrong with a policy table, and where: the `[[lock]]` entry (0 based, in the file's
/// order) and field, when it is about one. A field written `lock_class.NAME` is field `NAME` of
/// the `[[lock_class]]` entry of that number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
    pub entry: Option<(usize, &'static str)>,
}

impl From<String> for PolicyError {
    fn from(message: String) -> Self {
        PolicyError { message, entry: None }
    }
}

/// Parses a policy file.
pub fn parse(text: &str, path: &str) -> Result<Policy, ScenarioError> {
    parse_with_warnings(text, path).map(|(policy, _)| policy)
}

/// Parses a policy file; also returns the warnings about placements that can deadlock, with
/// their positions.
pub fn parse_with_warnings(text: &str, path: &str) -> Result<(Policy, Vec<ScenarioError>), ScenarioError> {
    crate::check_policy_file_name(text, path)?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e.span().map_or((0, 0), |s| line_column(text, s.start));
        ScenarioError { path: path.to_string(), line, column, message: e.message().trim_end().to_string() }
    })?;
    let at = |entry: Option<(usize, &str)>, message: String| {
        let (line, column) = match entry {
            Some((n, field)) => locate_entry(text, 0..text.len(), n, field).map_or((0, 0), |o| line_column(text, o)),
            None => (0, 0),
        };
        ScenarioError { path: path.to_string(), line, column, message }
    };
    let silent_on_punch_flush = !table.contains_key("base") && !table.contains_key("punch_hole_flush");
    let silent_on_clean_buffers = !table.contains_key("base") && !table.contains_key("writeback_clean_buffers");
    let renamed = format1_renamed_points(&table);
    let (policy, origins) = from_table_traced(table).map_err(|e| at(e.entry, e.message))?;
    let mut warnings: Vec<ScenarioError> =
        warnings_of(&policy, &origins).into_iter().map(|(entry, message)| at(entry, message)).collect();
    for n in renamed {
        warnings.push(at(Some((n, "function")), format1_warning(&policy.name)));
    }
    if silent_on_punch_flush {
        warnings.push(at(None, unsaid_punch_flush(&policy.name)));
    }
    if silent_on_clean_buffers {
        warnings.push(at(None, unsaid_clean_buffers(&policy.name)));
    }
    Ok((policy, warnings))
}

/// Reads a policy file from disk.
pub fn load(path: &std::path::Path) -> Result<Policy, ScenarioError> {
    load_with_warnings(path).map(|(p, _)| p)
}

/// Reads a policy file from disk, with its warnings.
pub fn load_with_warnings(path: &std::path::Path) -> Result<(Policy, Vec<ScenarioError>), ScenarioError> {
    let shown = path.display().to_string();
    let text = crate::read_input(path, "policy file")?;
    parse_with_warnings(&text, &shown)
}

/// The byte offset of `field` in the `n`-th `[[...lock]]` table of `text[span]`, or of the
/// table's header if the field is not written there.
pub fn locate(text: &str, span: std::ops::Range<usize>, n: usize, field: &str) -> Option<usize> {
    locate_in(text, span, "lock", n, field)
}

/// [`locate`] for a [`PolicyError`]'s entry: `lock_class.FIELD` is in the `n`-th
/// `[[...lock_class]]` table, any other field in the `n`-th `[[...lock]]` table.
pub fn locate_entry(text: &str, span: std::ops::Range<usize>, n: usize, field: &str) -> Option<usize> {
    match field.strip_prefix("lock_class.") {
        Some(field) => locate_in(text, span, "lock_class", n, field),
        None => locate_in(text, span, "lock", n, field),
    }
}

/// The byte offset of `field` in the `n`-th `[[table]]` (or `[[policy.table]]`) of
/// `text[span]`, or of that table's header if the field is not written there.
fn locate_in(text: &str, span: std::ops::Range<usize>, table: &str, n: usize, field: &str) -> Option<usize> {
    let region = &text[span.start.min(text.len())..span.end.min(text.len())];
    let mut offset = 0;
    let mut seen = 0;
    let mut header = None;
    let is_header = |trimmed: &str| {
        let Some(rest) = trimmed.strip_prefix("[[") else { return false };
        let Some(end) = rest.find("]]") else { return false };
        let name = rest[..end].trim();
        name == table || name.strip_suffix(table).is_some_and(|p| p.ends_with('.'))
    };
    for line in region.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if is_header(trimmed) {
            if seen == n {
                header = Some(offset);
            } else if header.is_some() {
                break;
            }
            seen += 1;
        } else if header.is_some() && trimmed.starts_with('[') {
            break;
        } else if let Some(_h) = header
            && let Some(rest) = trimmed.strip_prefix(field)
            && rest.trim_start().starts_with('=')
        {
            let indent = line.len() - trimmed.len();
            return Some(span.start + offset + indent);
        }
        offset += line.len();
    }
    header.map(|h| span.start + h)
}

/// The policy as a complete policy file in today's form: what `racesim policy NAME` prints,
/// and what the parser reads back as the same policy.
pub fn to_toml(policy: &Policy) -> String {
    let body = to_toml_body(policy, "");
    format!("# racesim policy {}: every field and every lock placement (docs/policy-language.md).\n{body}", policy.name)
}

/// The policy's fields, then its placements as `[[{prefix}lock]]` tables (`prefix` is
/// `policy.` inside a scenario).
pub fn to_toml_body(policy: &Policy, prefix: &str) -> String {
    let mut table = toml::Table::try_from(policy).expect("a policy serialises to a table");
    table.remove("lock");
    table.remove("lock_class");
    let mut out = format!("format = {POLICY_FORMAT_VERSION}\n");
    out.push_str(&toml::to_string(&table).expect("a table serialises"));
    for d in &policy.declared {
        let form = toml::Table::try_from(LockClassForm::from(d)).expect("a declaration serialises");
        out.push_str(&format!("\n[[{prefix}lock_class]]\n{}", toml::to_string(&form).expect("a table serialises")));
    }
    for p in &policy.lock {
        let form = toml::Table::try_from(PlacementForm::from(p)).expect("a placement serialises");
        out.push_str(&format!("\n[[{prefix}lock]]\n{}", toml::to_string(&form).expect("a table serialises")));
    }
    out
}

/// The warning for a policy file (not derived from a `base`) that does not say
/// `punch_hole_flush`. Files written before the field get `none`, what they meant then; but no
/// ext4 or XFS kernel punched a hole without writing the dirty range out first, so in a scenario
/// that commits or crashes such a policy can report stale data Linux never had.
fn unsaid_punch_flush(name: &str) -> String {
    format!(
        "policy '{name}': warning: 'punch_hole_flush' is not given, so punch_hole evicts dirty pages \
         without writing them out ('none', what policy files written before the field meant); no \
         ext4 or XFS kernel did that, and where a scenario commits or crashes it can report \
         stale_data that Linux cannot have. Say punch_hole_flush = \"before_lock\" (ext4 3.0+) or \
         \"under_lock\" (XFS)"
    )
}

/// The warning for a policy file without `base` that does not say `writeback_clean_buffers`.
/// Files written before the field get `true`, what they meant then (writing a clean buffer
/// wrote what its block held, until direct IO on files of smaller blocks could outdate one);
/// that is XFS's writeback, not ext4's.
fn unsaid_clean_buffers(name: &str) -> String {
    format!(
        "policy '{name}': warning: 'writeback_clean_buffers' is not given, so writeback of a page of \
         blocks smaller than a page writes its clean buffers too (true, as XFS does and as policy files \
         written before the field meant); ext4 writes the dirty ones only, and with direct IO on such a \
         file the difference is a lost_write. Say writeback_clean_buffers = false (ext4) or true (XFS)"
    )
}

/// The warnings of a policy (placements that can deadlock), as messages.
pub fn warnings(policy: &Policy) -> Vec<String> {
    warnings_of(policy, &vec![None; policy.lock.len()]).into_iter().map(|(_, m)| m).collect()
}

fn warnings_of(policy: &Policy, origins: &[Option<usize>]) -> Vec<(Option<(usize, &'static str)>, String)> {
    match placement::check(&policy.lock) {
        Ok(warnings) => warnings
            .into_iter()
            .map(|(i, m)| {
                (
                    origins.get(i).copied().flatten().map(|n| (n, "from")),
                    format!("policy '{}': warning: {m}", policy.name),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The policy format this racesim writes (`format = 2`). A policy table without `format` is
/// format 1, which every racesim before the key wrote.
pub const POLICY_FORMAT_VERSION: i64 = 2;

/// The direct IO points that format 2 reordered, as format 1 named them and the format-2 point
/// that keeps what a format-1 placement there meant. Format 1 pinned the user buffer
/// (`get_user_pages`) before the page-cache flush (`filemap_write_and_wait_range`); every kernel
/// flushes first, so format 2 has the flush, then the pin, then `get_block` before the blocks
/// are mapped. A format-1 placement at `get_user_pages` covered the pin and the flush: it is
/// at `filemap_write_and_wait_range` now. One at `filemap_write_and_wait_range` came after the
/// pin (Kara's range lock over the bio): it is at `get_block` now.
const FORMAT1_DIO_POINTS: [(&str, &str); 2] =
    [("get_user_pages", "filemap_write_and_wait_range"), ("filemap_write_and_wait_range", "get_block")];

/// Rewrites a format-1 `[[lock]]` table's direct IO points into format 2 (see
/// [`FORMAT1_DIO_POINTS`]); returns whether it changed one.
fn rename_format1_points(rule: &mut toml::Table) -> bool {
    let dio = matches!(rule.get("function").and_then(|f| f.as_str()), Some("dio_read" | "dio_write"));
    let mut changed = false;
    for key in ["from", "to"] {
        let Some(toml::Value::String(point)) = rule.get_mut(key) else { continue };
        if let Some((_, now)) = FORMAT1_DIO_POINTS.iter().find(|(then, _)| dio && then == point) {
            *point = now.to_string();
            changed = true;
        }
    }
    changed
}

/// The `[[lock]]` entries of a format-1 policy table (no `format` key) whose direct IO points
/// are read in their format-1 meaning ([`FORMAT1_DIO_POINTS`]).
fn format1_renamed_points(table: &toml::Table) -> Vec<usize> {
    if table.contains_key("format") {
        return Vec::new();
    }
    let Some(toml::Value::Array(rules)) = table.get("lock") else { return Vec::new() };
    rules
        .iter()
        .enumerate()
        .filter_map(|(n, rule)| {
            let mut rule = rule.as_table()?.clone();
            rename_format1_points(&mut rule).then_some(n)
        })
        .collect()
}

fn format1_warning(name: &str) -> String {
    format!(
        "policy '{name}': warning: no 'format' key, so this is policy format 1, where a direct IO pinned its \
         buffer (get_user_pages) before its flush (filemap_write_and_wait_range). Linux flushes first, and \
         format {POLICY_FORMAT_VERSION} follows it: this placement is read as format 1 meant it, \
         get_user_pages as filemap_write_and_wait_range (before the flush and the pin) and \
         filemap_write_and_wait_range as get_block (after the pin). Write format = {POLICY_FORMAT_VERSION} \
         and the format-2 point names (racesim policy FILE prints them) to silence this"
    )
}

/// A policy from a table: `name`, and either every field or a `base` and some fields.
pub(crate) fn from_table(table: toml::Table) -> Result<Policy, PolicyError> {
    from_table_traced(table).map(|(p, _)| p)
}

/// A policy from a table, with the `[[lock]]` entry each placement came from (`None`: from
/// the base or an older-form field).
pub(crate) fn from_table_traced(mut table: toml::Table) -> Result<(Policy, Vec<Option<usize>>), PolicyError> {
    let name = match table.remove("name") {
        Some(toml::Value::String(s)) => s,
        _ => return Err("a policy needs a string 'name'".to_string().into()),
    };
    let format = match table.remove("format") {
        None => 1,
        Some(toml::Value::Integer(n)) if (1..=POLICY_FORMAT_VERSION).contains(&n) => n,
        Some(other) => {
            return Err(format!(
                "policy '{name}': policy format {other} is not supported; this racesim reads policy formats 1 \
                 to {POLICY_FORMAT_VERSION}"
            )
            .into());
        }
    };
    let base = match table.remove("base") {
        None => None,
        Some(toml::Value::String(base)) => {
            let Some(resolved) = resolve_builtin(&base) else {
                let mut known: Vec<&str> = builtin_names().collect();
                known.extend(racesim_kernel::policy::LIBRARY.iter().map(|(a, _)| *a));
                return Err(format!(
                    "policy '{name}': unknown base '{base}'{}; expected one of {}",
                    placement::nearest(&base, &known),
                    known.join(", ")
                )
                .into());
            };
            Some(builtin(resolved).expect("a listed built-in has a file"))
        }
        Some(_) => return Err(format!("policy '{name}': 'base' must be a string").into()),
    };
    let mut merged = match &base {
        None => toml::Table::new(),
        Some(b) => {
            let mut t = toml::Table::try_from(b).expect("a policy serialises to a table");
            t.remove("lock");
            t.remove("lock_class");
            t
        }
    };
    // Declared lock classes: the base's, then the file's (a name twice is an error).
    let mut class_forms: Vec<LockClassForm> =
        base.as_ref().map(|b| b.declared.iter().map(LockClassForm::from).collect()).unwrap_or_default();
    let from_base = class_forms.len();
    if let Some(classes) = table.remove("lock_class") {
        let toml::Value::Array(classes) = classes else {
            return Err(format!("policy '{name}': 'lock_class' must be a list of [[lock_class]] tables").into());
        };
        for (n, class) in classes.into_iter().enumerate() {
            let form: LockClassForm = class.try_into().map_err(|e: toml::de::Error| PolicyError {
                message: format!(
                    "policy '{name}', lock class: {} (a [[lock_class]] has name, kind, and optionally after and code)",
                    e.message().trim_end()
                ),
                entry: Some((n, "lock_class.name")),
            })?;
            class_forms.push(form);
        }
    }
    let declarations = placement::declare(&class_forms).map_err(|(i, e)| PolicyError {
        message: format!("policy '{name}': {}", e.message),
        entry: i.checked_sub(from_base).map(|n| {
            let field = match e.field {
                "kind" => "lock_class.kind",
                "after" => "lock_class.after",
                _ => "lock_class.name",
            };
            (n, field)
        }),
    })?;
    let classes: Vec<DeclaredLock> = declarations.iter().map(|d| d.lock).collect();
    if !class_forms.is_empty() {
        merged.insert("lock_class".into(), toml::Value::try_from(&class_forms).expect("declarations serialise"));
    }
    let mut lock: Vec<Placement> = base.as_ref().map(|b| b.lock.clone()).unwrap_or_default();
    let mut origins: Vec<Option<usize>> = vec![None; lock.len()];
    let mut wrote_placements = false;
    if let Some(rules) = table.remove("lock") {
        let toml::Value::Array(rules) = rules else {
            return Err(format!("policy '{name}': 'lock' must be a list of [[lock]] tables").into());
        };
        let mut entries = Vec::new();
        for (n, rule) in rules.iter().enumerate() {
            let toml::Value::Table(rule) = rule else {
                return Err(format!("policy '{name}': 'lock' must be a list of [[lock]] tables").into());
            };
            entries.push((n, rule));
        }
        let older: Vec<&toml::Table> = entries
            .iter()
            .filter(|(_, r)| r.contains_key("operation") || r.contains_key("phase"))
            .map(|(_, r)| *r)
            .collect();
        if !older.is_empty() && older.len() != entries.len() {
            let n =
                entries.iter().find(|(_, r)| r.contains_key("operation") || r.contains_key("phase")).map(|(n, _)| *n);
            return Err(PolicyError {
                message: format!(
                    "policy '{name}': mixes [[lock]] placements (function, from, to) with rows of the older \
                     operation/phase form; write every lock as a placement (racesim policy prints the placements)"
                ),
                entry: n.map(|n| (n, "operation")),
            });
        }
        if !older.is_empty() {
            let (fields, set) = lock_fields(&name, &older)?;
            if base.is_none() {
                // A complete lock table: every lock decision, off unless a row takes it.
                for (key, value) in fields {
                    table.entry(key).or_insert(value);
                }
            } else {
                for field in set {
                    let value = fields.get(&field).expect("a set field has a value").clone();
                    table.entry(field).or_insert(value);
                }
            }
        } else {
            wrote_placements = true;
            for (n, rule) in entries {
                let mut rule = rule.clone();
                if format == 1 {
                    rename_format1_points(&mut rule);
                }
                let remove = match rule.remove("remove") {
                    None => false,
                    Some(toml::Value::Boolean(b)) => b,
                    Some(_) => {
                        return Err(PolicyError {
                            message: format!("policy '{name}': 'remove' must be true or false"),
                            entry: Some((n, "remove")),
                        });
                    }
                };
                if remove {
                    let text = |key: &str| rule.get(key).and_then(|v| v.as_str()).map(str::to_string);
                    let (Some(l), Some(f)) = (text("lock"), text("function")) else {
                        return Err(PolicyError {
                            message: format!("policy '{name}': a removal names the 'lock' and the 'function'"),
                            entry: Some((n, "remove")),
                        });
                    };
                    let (Some(l), Some(f)) = (LockName::named_in(&l, &classes), Func::named(&f)) else {
                        return Err(PolicyError {
                            message: format!("policy '{name}': no lock '{l}' in a function '{f}' to remove"),
                            entry: Some((n, "lock")),
                        });
                    };
                    let before = lock.len();
                    let keep: Vec<bool> = lock.iter().map(|p| !(p.lock == l && p.func() == f)).collect();
                    let mut k = keep.iter();
                    lock.retain(|_| *k.next().expect("one flag per placement"));
                    let mut k = keep.iter();
                    origins.retain(|_| *k.next().expect("one flag per placement"));
                    if lock.len() == before {
                        return Err(PolicyError {
                            message: format!(
                                "policy '{name}': the base takes no {} in {}; nothing to remove",
                                l.name(),
                                f.name()
                            ),
                            entry: Some((n, "remove")),
                        });
                    }
                    continue;
                }
                let form: PlacementForm =
                    toml::Value::Table(rule).try_into().map_err(|e: toml::de::Error| PolicyError {
                        message: format!("policy '{name}', lock placement: {}", e.message().trim_end()),
                        entry: Some((n, "lock")),
                    })?;
                let p = form.placement_in(&classes).map_err(|e| PolicyError {
                    message: format!("policy '{name}': {}", e.message),
                    entry: Some((n, e.field)),
                })?;
                // Replaces the base's placements of this lock in this function (the first
                // placement of the file for that pair takes the place of the first replaced).
                let key = (p.lock, p.func());
                let from_file = |o: &Option<usize>| o.is_some();
                let first_of_key =
                    lock.iter().zip(origins.iter()).position(|(q, o)| (q.lock, q.func()) == key && !from_file(o));
                match first_of_key {
                    Some(at) => {
                        let mut i = 0;
                        while i < lock.len() {
                            if (lock[i].lock, lock[i].func()) == key && !from_file(&origins[i]) && i != at {
                                lock.remove(i);
                                origins.remove(i);
                            } else {
                                i += 1;
                            }
                        }
                        let at = lock
                            .iter()
                            .zip(origins.iter())
                            .position(|(q, o)| (q.lock, q.func()) == key && !from_file(o))
                            .expect("kept the first");
                        lock[at] = p;
                        origins[at] = Some(n);
                    }
                    None => {
                        // After the last placement of this function from the file, else at
                        // the end.
                        lock.push(p);
                        origins.push(Some(n));
                    }
                }
            }
        }
    }
    migrate_dax_prezero(&name, &mut table)?;
    // Fields of the older per-lock form: on a base (or next to placements), each replaces its
    // slot; a complete set without a base is read as that form.
    let old_fields: Vec<&str> = old_form::FIELDS.iter().copied().filter(|f| table.contains_key(*f)).collect();
    if !old_fields.is_empty() && wrote_placements {
        return Err(format!(
            "policy '{name}': gives [[lock]] placements and the older per-lock field{} {}; write the locks as \
             placements only",
            if old_fields.len() > 1 { "s" } else { "" },
            old_fields.join(", ")
        )
        .into());
    }
    let complete_old_form = base.is_none() && !old_fields.is_empty();
    if !complete_old_form {
        for field in old_fields {
            let value = table.remove(field).expect("present");
            let text = match &value {
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let before: Vec<Placement> = lock.clone();
            old_form::apply_field(&mut lock, field, &text).map_err(|e| format!("policy '{name}': {e}"))?;
            // Placements that survived keep their origin; new ones come from the field.
            origins = lock
                .iter()
                .map(|p| before.iter().position(|q| q == p).and_then(|i| origins.get(i).copied().flatten()))
                .collect();
        }
        merged.insert(
            "lock".into(),
            toml::Value::try_from(lock.iter().map(PlacementForm::from).collect::<Vec<_>>())
                .expect("placements serialise"),
        );
    }
    // Unknown fields are refused by the policy's deserializer, which names the known ones.
    for (key, value) in table {
        merged.insert(key, value);
    }
    merged.insert("name".into(), toml::Value::String(name.clone()));
    let policy: Policy = merged.try_into().map_err(|e: toml::de::Error| {
        let message = e.message().trim_end().to_string();
        if message.starts_with("missing field") {
            format!("policy '{name}': {message} (give every field, or a 'base' policy to start from)")
        } else {
            format!("policy '{name}': {message}")
        }
    })?;
    if complete_old_form {
        origins = vec![None; policy.lock.len()];
    }
    if let Err((i, message)) = placement::check(&policy.lock) {
        return Err(PolicyError {
            message: format!("policy '{name}': {message}"),
            entry: origins.get(i).copied().flatten().map(|n| (n, "from")),
        });
    }
    Ok((policy, origins))
}

/// Policy files (and the policies that traces carry) written before `dax_zeroing` said
/// `dax_prezero = true` ("zeroed at allocation", what the model then did for every policy that
/// zeroed) or `false` (never zeroed): read them as `dax_zeroing = "allocation"` / `"never"`.
/// A file that gives both is refused.
fn migrate_dax_prezero(name: &str, table: &mut toml::Table) -> Result<(), String> {
    let Some(old) = table.remove("dax_prezero") else { return Ok(()) };
    let toml::Value::Boolean(prezero) = old else {
        return Err(format!("policy '{name}': 'dax_prezero' must be true or false (or write dax_zeroing instead)"));
    };
    if table.contains_key("dax_zeroing") {
        return Err(format!(
            "policy '{name}': give dax_zeroing or the older dax_prezero, not both (dax_prezero = {prezero} means \
             dax_zeroing = \"{}\")",
            if prezero { "allocation" } else { "never" }
        ));
    }
    let value = if prezero { "allocation" } else { "never" };
    table.insert("dax_zeroing".into(), toml::Value::String(value.into()));
    Ok(())
}

/// A lock a kernel function can take at a point, as (lock, mode, range), with the policy field
/// values it means.
type LockChoice = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);
/// One point: (operation, phase) and the locks that can be taken there.
type LockPoint = (&'static str, &'static str, &'static [LockChoice]);

/// The vocabulary of the lock-table form that came before placements (`[[lock]]` with
/// `operation` and `phase`): each (operation, phase) point with the locks it could take there,
/// as (lock, mode, range), and the older policy fields each meant. Only for reading files in
/// that form; [`racesim_kernel::placement::POINTS`] describes the points of today's form.
const LOCK_POINTS: &[LockPoint] = &[
    ("fault", "filemap_fault", &[("fault_lock", "shared", "file", &[("fault_lock_whole_fault", "true")])]),
    (
        "page cache fill",
        "page creation",
        &[
            ("range_lock", "exclusive", "index", &[("page_create_lock", "range_lock")]),
            ("fault_lock", "shared", "file", &[("page_create_lock", "fault_lock_shared")]),
        ],
    ),
    (
        "write fault",
        "page_mkwrite",
        &[
            ("fault_lock", "shared", "file", &[("mkwrite_fault_lock", "true")]),
            ("range_lock", "exclusive", "index", &[("mkwrite_range_lock", "true")]),
        ],
    ),
    (
        "write",
        "whole syscall",
        &[
            ("i_rwsem", "exclusive", "file", &[("write_i_rwsem", "true")]),
            ("range_lock", "exclusive", "range", &[("write_range_lock", "whole_syscall")]),
        ],
    ),
    ("write", "write_begin", &[("range_lock", "exclusive", "page", &[("write_range_lock", "per_page")])]),
    (
        "invalidation",
        "flush, eviction and block changes",
        &[
            (
                "fault_lock",
                "exclusive",
                "file",
                &[("invalidation_lock", "fault_lock_exclusive"), ("collapse_flush_outside_lock", "false")],
            ),
            (
                "range_lock",
                "exclusive",
                "range",
                &[("invalidation_lock", "range_lock"), ("collapse_flush_outside_lock", "false")],
            ),
            (
                "range_lock",
                "exclusive",
                "range, collapse and insert to EOF",
                &[
                    ("invalidation_lock", "range_lock"),
                    ("collapse_lock_to_eof", "true"),
                    ("collapse_flush_outside_lock", "false"),
                ],
            ),
        ],
    ),
    (
        "invalidation",
        "eviction and block changes",
        &[
            ("fault_lock", "exclusive", "file", &[("invalidation_lock", "fault_lock_exclusive")]),
            ("range_lock", "exclusive", "range", &[("invalidation_lock", "range_lock")]),
            (
                "range_lock",
                "exclusive",
                "range, collapse and insert to EOF",
                &[("invalidation_lock", "range_lock"), ("collapse_lock_to_eof", "true")],
            ),
        ],
    ),
    ("invalidation", "inode_dio_wait", &[("i_dio_count", "exclusive", "file", &[("wait_for_dio", "true")])]),
    ("direct read", "until submission", &[("i_rwsem", "shared", "file", &[("dio_read_i_rwsem", "true")])]),
    ("direct IO", "bio", &[("range_lock", "exclusive", "bio", &[("dio_range_lock", "true")])]),
    (
        "DAX fault",
        "i_size check and insertion",
        &[("i_mmap_rwsem", "shared", "file", &[("dax_fault_lock", "i_mmap_shared")])],
    ),
    (
        "DAX fault",
        "whole fault",
        &[
            ("fault_lock", "shared", "file", &[("dax_fault_lock", "fault_lock_shared")]),
            ("range_lock", "exclusive", "index", &[("dax_fault_lock", "range_lock_exclusive")]),
            ("dax_entry", "exclusive", "index", &[("dax_entry_lock", "true")]),
        ],
    ),
];

/// The older policy fields a lock table in the older form sets: every lock a policy decides,
/// off unless a rule says so; with the names of the fields the rules set explicitly.
fn lock_fields(name: &str, rules: &[&toml::Table]) -> Result<(toml::Table, Vec<String>), String> {
    let mut fields = toml::Table::new();
    for (key, value) in [
        ("fault_lock_whole_fault", "false"),
        ("page_create_lock", "none"),
        ("mkwrite_fault_lock", "false"),
        ("mkwrite_range_lock", "false"),
        ("write_i_rwsem", "false"),
        ("write_range_lock", "none"),
        ("invalidation_lock", "none"),
        ("collapse_lock_to_eof", "false"),
        // Without a lock across it, the flush cannot be inside one: it comes first.
        ("collapse_flush_outside_lock", "true"),
        ("wait_for_dio", "false"),
        ("dio_read_i_rwsem", "false"),
        ("dio_range_lock", "false"),
        // A DAX fault takes at least i_mmap_rwsem around its i_size check and insertion (4.x).
        ("dax_fault_lock", "i_mmap_shared"),
    ] {
        fields.insert(key.into(), typed(value));
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut entry_lock = false;
    let mut set: Vec<String> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let text = |key: &str| rule.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let where_ = format!("policy '{name}', [[lock]] number {} (older operation/phase form)", i + 1);
        let (Some(operation), Some(phase), Some(lock), Some(mode), Some(range)) =
            (text("operation"), text("phase"), text("lock"), text("mode"), text("range"))
        else {
            return Err(format!("{where_}: needs string fields operation, phase, lock, mode and range"));
        };
        let Some((_, _, choices)) = LOCK_POINTS.iter().find(|(o, p, _)| *o == operation && *p == phase) else {
            let points: Vec<String> = LOCK_POINTS.iter().map(|(o, p, _)| format!("\"{o}\" / \"{p}\"")).collect();
            return Err(format!(
                "{where_}: operation \"{operation}\", phase \"{phase}\" is not a point where a kernel function takes a \
                 lock the policy decides; expected one of {}",
                points.join(", ")
            ));
        };
        let Some((_, _, _, sets)) = choices.iter().find(|(l, m, r, _)| *l == lock && *m == mode && *r == range) else {
            let options: Vec<String> = choices.iter().map(|(l, m, r, _)| format!("{l} {m} over {r}")).collect();
            return Err(format!(
                "{where_}: in operation {operation}, phase {phase}, the kernel function cannot take {lock} {mode} over \
                 {range}; it can take {}",
                options.join(", or ")
            ));
        };
        let key = (operation.clone(), lock.clone());
        if seen.contains(&key) {
            return Err(format!("{where_}: operation {operation} takes {lock} twice"));
        }
        seen.push(key);
        for (field, value) in sets.iter() {
            if *field == "dax_entry_lock" {
                entry_lock = true;
                continue;
            }
            fields.insert((*field).into(), typed(value));
            if !set.iter().any(|s| s == field) {
                set.push((*field).to_string());
            }
        }
    }
    if entry_lock {
        // The DAX entry lock comes with the fault lock (invalidate_lock, Linux 5.15).
        if fields.get("dax_fault_lock").and_then(|v| v.as_str()) != Some("fault_lock_shared") {
            return Err(format!(
                "policy '{name}': the DAX entry lock is modelled only together with the fault lock shared across the \
                 whole DAX fault"
            ));
        }
        fields.insert("dax_fault_lock".into(), typed("fault_lock_shared_and_entry_lock"));
    }
    Ok((fields, set))
}

fn typed(value: &str) -> toml::Value {
    match value {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        other => toml::Value::String(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_from_its_file() {
        for name in BUILTIN_POLICIES {
            assert_eq!(builtin(name).unwrap().name, name);
        }
        for (alias, name) in racesim_kernel::policy::LIBRARY {
            assert_eq!(builtin(alias).unwrap().name, name, "{alias}");
        }
    }

    #[test]
    fn every_builtin_round_trips_through_its_printed_form() {
        for name in builtin_names() {
            let policy = builtin(name).unwrap();
            let printed = to_toml(&policy);
            assert_eq!(parse(&printed, "printed.toml").unwrap(), policy, "{name}:\n{printed}");
        }
    }

    #[test]
    fn a_placement_on_a_base_keeps_every_other_placement() {
        let legacy = builtin("legacy").unwrap();
        let text = "name = \"x\"\nbase = \"legacy\"\n[[lock]]\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"bio\"\nfunction = \"dio_read\"\nfrom = \"start\"\nto = \"end\"\n";
        let policy = parse(text, "x.toml").unwrap();
        assert_eq!(policy.lock.len(), legacy.lock.len() + 1);
        assert!(legacy.lock.iter().all(|p| policy.lock.contains(p)));
        // One of the same lock in the same function replaces the base's.
        let text = "name = \"y\"\nbase = \"legacy\"\n[[lock]]\nlock = \"i_rwsem\"\nmode = \"shared\"\nrange = \"file\"\nfunction = \"write\"\nfrom = \"start\"\nto = \"end\"\n";
        let policy = parse(text, "y.toml").unwrap();
        assert_eq!(policy.lock.len(), legacy.lock.len());
        assert_eq!(policy.lock.iter().filter(|p| p.func() == Func::Write).count(), 1);
        // remove = true drops them.
        let text =
            "name = \"z\"\nbase = \"legacy\"\n[[lock]]\nlock = \"i_rwsem\"\nfunction = \"write\"\nremove = true\n";
        let policy = parse(text, "z.toml").unwrap();
        assert_eq!(policy.lock.len(), legacy.lock.len() - 1);
    }

    #[test]
    fn errors_name_line_column_and_the_nearest_point() {
        let text = "name = \"x\"\nbase = \"legacy\"\n\n[[lock]]\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"bio\"\nfunction = \"dio_read\"\nfrom = \"get_user_page\"\nto = \"end\"\n";
        let error = parse(text, "x.toml").unwrap_err();
        assert_eq!((error.line, error.column), (9, 1), "{error}");
        assert!(error.message.contains("did you mean 'get_user_pages'"), "{error}");
        let backwards = text.replace("get_user_page\"", "end\"").replace("to = \"end\"", "to = \"start\"");
        let error = parse(&backwards, "x.toml").unwrap_err();
        assert!(error.message.contains("a release without an acquisition"), "{error}");
        assert_eq!(error.line, 10, "{error}");
        let twice = "name = \"t\"\nbase = \"legacy\"\n[[lock]]\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"page\"\nfunction = \"page_mkwrite\"\nfrom = \"start\"\nto = \"end\"\n[[lock]]\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"page\"\nfunction = \"page_mkwrite\"\nfrom = \"lock_page\"\nto = \"end\"\n";
        let error = parse(twice, "t.toml").unwrap_err();
        assert!(error.message.contains("overlapping placements of one lock"), "{error}");
        assert_eq!(error.line, 15, "{error}");
    }

    #[test]
    fn a_recursive_read_of_the_fault_lock_loads_with_a_warning() {
        let (policy, warnings) = parse_with_warnings(
            "name = \"twice\"\nbase = \"mmaplock\"\npage_create_lock = \"fault_lock_shared\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(policy.name, "twice");
        assert!(warnings.iter().any(|w| w.message.contains("recursive read of a fair rwsem")), "{warnings:?}");
    }

    #[test]
    fn the_builtins_have_no_warnings() {
        for name in builtin_names() {
            assert_eq!(warnings(&builtin(name).unwrap()), Vec::<String>::new(), "{name}");
        }
    }

    /// A policy file written before `punch_hole_flush` keeps loading, with `none`, and says
    /// that no kernel punched without the write-out; a file that gives the field, or derives
    /// from a base (which gives it), loads without that warning.
    #[test]
    fn a_policy_file_silent_on_the_punch_flush_loads_with_a_warning() {
        let mut full = to_toml(&builtin("mmaplock").unwrap());
        let said = parse_with_warnings(&full, "p.toml").unwrap().1;
        assert!(said.iter().all(|w| !w.message.contains("punch_hole_flush")), "{said:?}");
        full = full.lines().filter(|l| !l.starts_with("punch_hole_flush")).collect::<Vec<_>>().join("\n");
        let (policy, unsaid) = parse_with_warnings(&full, "p.toml").unwrap();
        assert_eq!(policy.punch_hole_flush, racesim_kernel::policy::RangeFlush::None);
        assert_eq!(unsaid.len(), 1, "{unsaid:?}");
        assert!(unsaid[0].message.contains("'punch_hole_flush' is not given"), "{}", unsaid[0]);
        assert!(unsaid[0].to_string().starts_with("p.toml: policy 'mmaplock': warning:"), "{}", unsaid[0]);
        let derived = parse_with_warnings("name = \"v\"\nbase = \"legacy\"\n", "v.toml").unwrap().1;
        assert!(derived.is_empty(), "{derived:?}");
    }

    /// The same for `writeback_clean_buffers`: a file without it means `true` (XFS's writeback),
    /// with a warning naming ext4's `false`.
    #[test]
    fn a_policy_file_silent_on_clean_buffers_loads_with_a_warning() {
        let full = to_toml(&builtin("invalidate_lock").unwrap());
        let said = parse_with_warnings(&full, "p.toml").unwrap().1;
        assert!(said.is_empty(), "{said:?}");
        let full = full.lines().filter(|l| !l.starts_with("writeback_clean_buffers")).collect::<Vec<_>>().join("\n");
        let (policy, unsaid) = parse_with_warnings(&full, "p.toml").unwrap();
        assert!(policy.writeback_clean_buffers);
        assert_eq!(unsaid.len(), 1, "{unsaid:?}");
        assert!(unsaid[0].message.contains("'writeback_clean_buffers' is not given"), "{}", unsaid[0]);
    }

    /// A format-1 file (no `format` key) that places a lock at the direct IO points format 2
    /// reordered keeps what it meant, with a warning on that placement; the same file in
    /// format 2 means the new points, silently; an unknown format is refused.
    #[test]
    fn a_format_1_direct_io_placement_keeps_its_meaning_with_a_warning() {
        let placement = |from: &str, to: &str| {
            format!(
                "name = \"x\"\nbase = \"range_lock\"\n\n[[lock]]\nlock = \"range_lock\"\nmode = \"exclusive\"\n\
                 range = \"bio\"\nfunction = \"dio_write\"\nfrom = \"{from}\"\nto = \"{to}\"\n"
            )
        };
        let dio_write = |policy: &Policy| {
            let p = policy.lock.iter().find(|p| p.lock == LockName::RangeLock && p.func() == Func::DioWrite).unwrap();
            (p.from.name(), p.to.name())
        };
        let (old, warnings) =
            parse_with_warnings(&placement("filemap_write_and_wait_range", "inode_dio_end"), "p.toml").unwrap();
        assert_eq!(dio_write(&old), ("get_block", "inode_dio_end"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 8, "{}", warnings[0]);
        assert!(warnings[0].message.contains("policy format 1"), "{}", warnings[0]);
        // The built-in says the same thing in format 2.
        assert_eq!(old.lock, builtin("range_lock").unwrap().lock);
        let (old, _) = parse_with_warnings(&placement("get_user_pages", "submitted"), "p.toml").unwrap();
        assert_eq!(dio_write(&old), ("filemap_write_and_wait_range", "submitted"));
        let new = format!("format = 2\n{}", placement("filemap_write_and_wait_range", "inode_dio_end"));
        let (new, warnings) = parse_with_warnings(&new, "p.toml").unwrap();
        assert_eq!(dio_write(&new), ("filemap_write_and_wait_range", "inode_dio_end"));
        // No format warning; the lock-order warning that a range lock across the pin earns.
        assert!(warnings.iter().all(|w| !w.message.contains("format 1")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.message.contains("across 'get_user_pages'")), "{warnings:?}");
        // A format-1 file without those points loads without the format warning.
        let (_, warnings) = parse_with_warnings(&placement("get_block", "inode_dio_end"), "p.toml").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let error = parse(&format!("format = 3\n{}", placement("start", "end")), "p.toml").unwrap_err();
        assert!(error.message.contains("policy format 3 is not supported"), "{error}");
    }

    #[test]
    fn an_incomplete_policy_without_base_says_what_is_missing() {
        let error = parse("name = \"half\"\nfault_lock_name = \"x\"\n", "p.toml").unwrap_err();
        assert!(error.message.contains("missing field") && error.message.contains("base"), "{error}");
    }

    /// Policy files and traces written before the direct IO fields (and `failed_write_cleanup`,
    /// `buffered_write_map`, `dio_write_past_eof`) existed still load, with the behaviour the
    /// model had then.
    #[test]
    fn a_policy_without_the_direct_io_fields_loads_with_their_defaults() {
        let mut table = toml::Table::try_from(builtin("xfs-5.3").unwrap()).unwrap();
        let fields = ["dio_read_fence", "dio_read_delalloc", "dio_write_post_invalidate", "failed_write_cleanup"];
        for field in fields.into_iter().chain(["buffered_write_map", "dio_write_past_eof"]) {
            assert!(table.remove(field).is_some(), "{field}");
        }
        let old: Policy = table.try_into().unwrap();
        assert_eq!(old.failed_write_cleanup, racesim_kernel::policy::FailedWriteCleanup::None);
        assert_eq!(old.buffered_write_map, racesim_kernel::policy::BufferedWriteMap::PerPage);
        assert_eq!(old.dio_write_past_eof, racesim_kernel::policy::DioWritePastEof::Written);
        assert!(!old.dio_read_fence);
        assert_eq!(old.dio_read_delalloc, racesim_kernel::policy::DioReadDelalloc::Hole);
        assert_eq!(old.dio_write_post_invalidate, racesim_kernel::policy::DioWritePostInvalidate::None);
    }

    /// A policy with a declared lock class, as the tests below vary it.
    const DECLARED: &str = "name = \"d\"\nbase = \"ext4-4.5\"\n\n[[lock_class]]\nname = \"i_data_sem\"\nkind = \"rwsem\"\nafter = \"page_lock\"\ncode = \"EXT4_I(inode)->i_data_sem\"\n\n[[lock]]\nlock = \"i_data_sem\"\nmode = \"shared\"\nrange = \"file\"\nfunction = \"readpage\"\nfrom = \"start\"\nto = \"end\"\n";

    #[test]
    fn a_declared_lock_class_is_placed_by_name_and_round_trips() {
        let policy = parse(DECLARED, "d.toml").unwrap();
        assert_eq!(policy.declared.len(), 1);
        let d = policy.declared[0].lock;
        assert_eq!((d.name(), d.kind(), d.slot()), ("i_data_sem", racesim_kernel::lock::DeclaredKind::Rwsem, 0));
        // Ranked just after the page lock.
        assert_eq!(d.rank(), LockName::PageLock.rank().map(|r| r + 1));
        let base = builtin("ext4-4.5").unwrap();
        assert_eq!(policy.lock.len(), base.lock.len() + 1);
        assert!(policy.lock.iter().any(|p| p.lock == LockName::Declared(d) && p.func() == Func::Readpage));
        // racesim policy X | racesim policy -: the declaration is kept.
        let printed = to_toml(&policy);
        assert!(printed.contains("[[lock_class]]"), "{printed}");
        assert_eq!(parse(&printed, "printed.toml").unwrap(), policy, "{printed}");
        // The serialised form traces embed (serde) keeps it too.
        let table = toml::Table::try_from(&policy).unwrap();
        let back: Policy = table.try_into().unwrap();
        assert_eq!(back, policy);
        // A file on top of it with no declarations of its own... removal by declared name works.
        let removed = format!("{DECLARED}\n[[lock]]\nlock = \"i_data_sem\"\nfunction = \"readpage\"\nremove = true\n");
        assert!(parse(&removed, "r.toml").is_ok());
    }

    #[test]
    fn policies_without_declarations_serialise_as_before() {
        for name in builtin_names() {
            let table = toml::Table::try_from(builtin(name).unwrap()).unwrap();
            assert!(!table.contains_key("lock_class"), "{name}");
        }
    }

    #[test]
    fn declaration_errors_name_line_column() {
        let err = |text: &str| parse(text, "d.toml").unwrap_err();
        // An unknown class in a placement, with the nearest declared name.
        let e = err(&DECLARED.replace("lock = \"i_data_sem\"", "lock = \"i_data_sme\""));
        assert!(e.message.contains("did you mean 'i_data_sem'"), "{e}");
        assert_eq!((e.line, e.column), (11, 1), "{e}");
        // Declared twice.
        let twice = DECLARED.replace("[[lock]]", "[[lock_class]]\nname = \"i_data_sem\"\nkind = \"mutex\"\n\n[[lock]]");
        let e = err(&twice);
        assert!(e.message.contains("declared twice"), "{e}");
        assert_eq!((e.line, e.column), (11, 1), "{e}");
        // A built-in's name.
        let e = err(&DECLARED.replace("name = \"i_data_sem\"", "name = \"journal\""));
        assert!(e.message.contains("built-in lock class"), "{e}");
        assert_eq!((e.line, e.column), (5, 1), "{e}");
        // An unknown kind, with the nearest.
        let e = err(&DECLARED.replace("kind = \"rwsem\"", "kind = \"rwsme\""));
        assert!(e.message.contains("did you mean 'rwsem'"), "{e}");
        assert_eq!((e.line, e.column), (6, 1), "{e}");
        // A shared placement of a mutex.
        let e = err(&DECLARED.replace("kind = \"rwsem\"", "kind = \"mutex\""));
        assert!(e.message.contains("mutex"), "{e}");
        assert_eq!((e.line, e.column), (12, 1), "{e}");
        // An rwsem over a page range.
        let e = err(&DECLARED.replace("range = \"file\"", "range = \"page\""));
        assert!(e.message.contains("range = \"file\""), "{e}");
        // A range kind may lock pages.
        let ranged =
            DECLARED.replace("kind = \"rwsem\"", "kind = \"range\"").replace("range = \"file\"", "range = \"page\"");
        assert!(parse(&ranged, "d.toml").is_ok());
        // 'after' naming nothing ordered.
        let e = err(&DECLARED.replace("after = \"page_lock\"", "after = \"page_lokc\""));
        assert!(e.message.contains("did you mean 'page_lock'"), "{e}");
        assert_eq!((e.line, e.column), (7, 1), "{e}");
    }

    #[test]
    fn the_page_lock_is_refused_as_a_placement_with_where_the_kernel_takes_it() {
        let e = parse(&DECLARED.replace("lock = \"i_data_sem\"", "lock = \"page_lock\""), "d.toml").unwrap_err();
        assert!(e.message.contains("readpage holds the page lock itself"), "{e}");
        assert!(e.message.contains("a second time"), "{e}");
        assert_eq!((e.line, e.column), (11, 1), "{e}");
    }

    #[test]
    fn a_declared_lock_held_across_an_eviction_warns() {
        let text = DECLARED
            .replace("function = \"readpage\"", "function = \"punch_hole\"")
            .replace("from = \"start\"", "from = \"invalidate\"");
        let (_, warnings) = parse_with_warnings(&text, "d.toml").unwrap();
        assert!(warnings.iter().any(|w| w.message.contains("page_lock before i_data_sem")), "{warnings:?}");
        let (_, warnings) = parse_with_warnings(DECLARED, "d.toml").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let error = parse("name = \"x\"\nbase = \"legacy\"\nfault_lokc = true\n", "p.toml").unwrap_err();
        assert!(error.message.contains("unknown field `fault_lokc`"), "{error}");
    }
}
