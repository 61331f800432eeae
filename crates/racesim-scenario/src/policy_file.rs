//! Policy files: the form in which every locking policy is written, built-in or not.
//!
//! A policy is a TOML table: `name`, every field of [`Policy`] (see docs/scenario-format.md),
//! or a `base` built-in plus the fields that differ. The four built-ins are the files in
//! `policies/` at the root of the repository, embedded at build time and loaded through the
//! same parser a user's file goes through. A policy that asks a kernel function to take a lock
//! it already holds is refused at load time, naming the operation and the phase.

use crate::{ScenarioError, line_column};
use racesim_kernel::Policy;
use racesim_kernel::policy::{BUILTIN_POLICIES, PageCreateLock};

/// The built-in policy files, by name.
const BUILTIN_FILES: [(&str, &str); 4] = [
    ("legacy", include_str!("../../../policies/legacy.toml")),
    ("mmaplock", include_str!("../../../policies/mmaplock.toml")),
    ("range_lock", include_str!("../../../policies/range_lock.toml")),
    ("invalidate_lock", include_str!("../../../policies/invalidate_lock.toml")),
];

/// A built-in policy, loaded from its file.
pub fn builtin(name: &str) -> Option<Policy> {
    let (_, text) = BUILTIN_FILES.iter().find(|(n, _)| *n == name)?;
    let path = format!("policies/{name}.toml");
    Some(parse(text, &path).unwrap_or_else(|e| panic!("built-in policy file is broken: {e}")))
}

/// Parses a policy file.
pub fn parse(text: &str, path: &str) -> Result<Policy, ScenarioError> {
    crate::check_policy_file_name(text, path)?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e.span().map_or((0, 0), |s| line_column(text, s.start));
        ScenarioError { path: path.to_string(), line, column, message: e.message().trim_end().to_string() }
    })?;
    from_table(table).map_err(|message| ScenarioError { path: path.to_string(), line: 0, column: 0, message })
}

/// Reads a policy file from disk.
pub fn load(path: &std::path::Path) -> Result<Policy, ScenarioError> {
    let shown = path.display().to_string();
    let text = crate::read_input(path, "policy file")?;
    parse(&text, &shown)
}

/// The policy as a complete policy file.
pub fn to_toml(policy: &Policy) -> String {
    toml::to_string(&toml::Table::try_from(policy).expect("a policy serialises to a table"))
        .expect("a table serialises")
}

/// A policy from a table: `name`, and either every field or a `base` and some fields.
pub(crate) fn from_table(mut table: toml::Table) -> Result<Policy, String> {
    let name = match table.remove("name") {
        Some(toml::Value::String(s)) => s,
        _ => return Err("a policy needs a string 'name'".into()),
    };
    let mut merged = match table.remove("base") {
        None => toml::Table::new(),
        Some(toml::Value::String(base)) => {
            if !BUILTIN_POLICIES.contains(&base.as_str()) {
                return Err(format!(
                    "policy '{name}': unknown base '{base}'; expected one of {}",
                    BUILTIN_POLICIES.join(", ")
                ));
            }
            let base_policy = builtin(&base).expect("a listed built-in has a file");
            toml::Table::try_from(&base_policy).expect("a policy serialises to a table")
        }
        Some(_) => return Err(format!("policy '{name}': 'base' must be a string")),
    };
    if let Some(rules) = table.remove("lock") {
        let toml::Value::Array(rules) = rules else {
            return Err(format!("policy '{name}': 'lock' must be a list of [[lock]] tables"));
        };
        let derived = lock_fields(&name, &rules)?;
        for (key, value) in derived {
            merged.insert(key, value);
        }
    }
    migrate_dax_prezero(&name, &mut table)?;
    // Unknown fields are refused by Policy's deserializer, which names the known ones.
    for (key, value) in table {
        merged.insert(key, value);
    }
    merged.insert("name".into(), toml::Value::String(name.clone()));
    let policy: Policy = merged.try_into().map_err(|e: toml::de::Error| {
        let missing = e.message().trim_end().to_string();
        format!("policy '{name}': {missing} (give every field, or a 'base' policy to start from)")
    })?;
    check_consistency(&policy)?;
    Ok(policy)
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

/// The points where a kernel function takes a lock a policy decides, as (operation, phase),
/// with the locks each can take there: (lock, mode, range) and the field values they mean.
/// The rows are the lock table `racesim policy` prints; where each lock is taken and released
/// follows from the phase (docs/scenario-format.md, "Policies as lock tables").
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

/// The policy fields a lock table sets: every lock a policy decides, off unless a rule says so.
fn lock_fields(name: &str, rules: &[toml::Value]) -> Result<toml::Table, String> {
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
    for (i, rule) in rules.iter().enumerate() {
        let text = |key: &str| rule.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let where_ = format!("policy '{name}', [[lock]] number {}", i + 1);
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
    Ok(fields)
}

fn typed(value: &str) -> toml::Value {
    match value {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        other => toml::Value::String(other.into()),
    }
}

/// Refuses policies whose kernel functions would take a lock they already hold.
pub fn check_consistency(policy: &Policy) -> Result<(), String> {
    if policy.fault_lock_whole_fault && policy.page_create_lock == PageCreateLock::FaultLockShared {
        return Err(format!(
            "policy '{}': operation read fault, phase page creation: takes the fault lock shared while already \
             holding it for the whole fault (fault_lock_whole_fault); a recursive read of a fair rwsem deadlocks \
             behind a waiting writer. Choose one of the two.",
            policy.name
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_from_its_file() {
        for name in BUILTIN_POLICIES {
            assert_eq!(builtin(name).unwrap().name, name);
        }
    }

    #[test]
    fn a_policy_that_takes_the_fault_lock_twice_is_refused_naming_operation_and_phase() {
        let error =
            parse("name = \"twice\"\nbase = \"mmaplock\"\npage_create_lock = \"fault_lock_shared\"\n", "p.toml")
                .unwrap_err();
        assert!(error.message.contains("operation read fault, phase page creation"), "{error}");
    }

    #[test]
    fn an_incomplete_policy_without_base_says_what_is_missing() {
        let error = parse("name = \"half\"\nfault_lock_name = \"x\"\n", "p.toml").unwrap_err();
        assert!(error.message.contains("missing field") && error.message.contains("base"), "{error}");
    }

    /// Policy files and traces written before the direct IO fields existed still load, with
    /// the behaviour the model had then.
    #[test]
    fn a_policy_without_the_direct_io_fields_loads_with_their_defaults() {
        let mut table = toml::Table::try_from(builtin("legacy").unwrap()).unwrap();
        for field in ["dio_read_fence", "dio_read_delalloc", "dio_write_post_invalidate"] {
            assert!(table.remove(field).is_some(), "{field}");
        }
        let old: Policy = table.try_into().unwrap();
        assert!(!old.dio_read_fence);
        assert_eq!(old.dio_read_delalloc, racesim_kernel::policy::DioReadDelalloc::Hole);
        assert_eq!(old.dio_write_post_invalidate, racesim_kernel::policy::DioWritePostInvalidate::None);
    }

    #[test]
    fn unknown_fields_are_named() {
        let error = parse("name = \"x\"\nbase = \"legacy\"\nfault_lokc = true\n", "p.toml").unwrap_err();
        assert!(error.message.contains("unknown field `fault_lokc`"), "{error}");
    }
}
