//! `racesim policy`: prints a policy as the policy file it is, in exactly the form the parser
//! reads (`racesim policy X | racesim policy -` prints X again), with warnings about placements
//! that can deadlock on stderr; `--points` lists the kernel functions and their named points,
//! `--list` the built-ins and their library names.

use crate::output::line;
use crate::{Format, bad_input, exit};
use racesim_kernel::placement::{FUNCTIONS, POINTS, PlacementForm};
use std::io::Read;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PolicyArgs {
    /// A built-in policy or library name (legacy, ext4-4.4, xfs-5.3, ...), a variant of
    /// `--scenario`, a policy file, or `-` for a policy file on stdin.
    #[arg(required_unless_present_any = ["points", "list"])]
    policy: Option<String>,
    /// The scenario whose `[[policy]]` variants may be named.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// List the kernel functions and the points a placement can name.
    #[arg(long)]
    points: bool,
    /// List the built-in policies and their library names.
    #[arg(long)]
    list: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn policy(args: PolicyArgs) -> u8 {
    if args.points {
        for (func, name, what) in FUNCTIONS {
            line(format!("{name}: {what}"));
            for (_, _, point, description) in POINTS.iter().filter(|(_, f, _, _)| *f == func) {
                line(format!("  {point:<30} {description}"));
            }
        }
        return exit::CLEAN;
    }
    if args.list {
        for name in racesim_scenario::policy_file::builtin_names() {
            let aliases: Vec<&str> =
                racesim_kernel::policy::LIBRARY.iter().filter(|(_, n)| *n == name).map(|(a, _)| *a).collect();
            line(format!("{name:<16} {}", aliases.join(", ")));
        }
        return exit::CLEAN;
    }
    let wanted = args.policy.clone().unwrap_or_default();
    let loaded = if wanted == "-" {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            return bad_input(format!("cannot read stdin: {e}"));
        }
        racesim_scenario::policy_file::parse_with_warnings(&text, "<stdin>").map_err(|e| e.to_string())
    } else {
        let scenario = match &args.scenario {
            Some(path) => match racesim_scenario::Scenario::load(path) {
                Ok(s) => Some(s),
                Err(e) => return crate::bad_file(&e),
            },
            None => None,
        };
        let from_scenario = match &scenario {
            Some(s) => s.policy(&wanted),
            None => racesim_scenario::policy_file::builtin(&wanted),
        };
        match from_scenario {
            Some(p) => {
                let warnings = racesim_scenario::policy_file::warnings(&p);
                Ok((
                    p,
                    warnings
                        .into_iter()
                        .map(|m| racesim_scenario::ScenarioError {
                            path: wanted.clone(),
                            line: 0,
                            column: 0,
                            message: m,
                        })
                        .collect(),
                ))
            }
            None if std::path::Path::new(&wanted).is_file() => {
                racesim_scenario::policy_file::load_with_warnings(std::path::Path::new(&wanted))
                    .map_err(|e| e.to_string())
            }
            None => {
                // Say where we looked and what is there, so the user can pick.
                let mut known: Vec<String> =
                    racesim_scenario::policy_file::builtin_names().map(|s| s.to_string()).collect();
                known.extend(racesim_kernel::policy::LIBRARY.iter().map(|(a, _)| a.to_string()));
                let place = match &scenario {
                    Some(s) => {
                        known.extend(s.variants.iter().map(|v| v.name.clone()));
                        format!("a policy of {} (", s.path)
                    }
                    None => "a built-in policy (".to_string(),
                };
                Err(format!("'{wanted}' is neither {place}{}) nor a policy file", known.join(", ")))
            }
        }
    };
    let (policy, warnings) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return bad_input(e),
    };
    for w in &warnings {
        crate::output::stderr_line(w.to_string());
    }
    match args.format {
        Format::Human => {
            line(racesim_scenario::policy_file::to_toml(&policy).trim_end_matches('\n'));
        }
        Format::Json => {
            for p in &policy.lock {
                let form = PlacementForm::from(p);
                crate::output::record(
                    "policy.lock",
                    serde_json::json!({
                        "policy": policy.name, "lock": form.lock, "mode": form.mode, "range": form.range,
                        "function": form.function, "from": form.from, "to": form.to, "code": form.code,
                    }),
                );
            }
        }
    }
    exit::CLEAN
}
