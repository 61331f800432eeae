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
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e.span().map_or((0, 0), |s| line_column(text, s.start));
        ScenarioError { path: path.to_string(), line, column, message: e.message().trim_end().to_string() }
    })?;
    from_table(table).map_err(|message| ScenarioError { path: path.to_string(), line: 0, column: 0, message })
}

/// Reads a policy file from disk.
pub fn load(path: &std::path::Path) -> Result<Policy, ScenarioError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        path: shown.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read policy file: {e}"),
    })?;
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
    let known = toml::Table::try_from(builtin_shape()).expect("a policy serialises to a table");
    for (key, value) in table {
        if !known.contains_key(&key) {
            let fields: Vec<&str> = known.keys().map(|k| k.as_str()).filter(|k| *k != "name").collect();
            return Err(format!("policy '{name}': unknown field '{key}'; expected one of {}", fields.join(", ")));
        }
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

/// Any complete policy, for the list of field names.
fn builtin_shape() -> Policy {
    toml::from_str(BUILTIN_FILES[0].1).expect("the legacy policy file is complete")
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

    #[test]
    fn unknown_fields_are_named() {
        let error = parse("name = \"x\"\nbase = \"legacy\"\nfault_lokc = true\n", "p.toml").unwrap_err();
        assert!(error.message.contains("unknown field 'fault_lokc'"), "{error}");
    }
}
