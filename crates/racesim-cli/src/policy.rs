//! `racesim policy`: a policy read as a lock table: for each operation and phase, which lock,
//! in which mode, over which range, taken and released where.

use crate::output::line;
use crate::{Format, bad_input, exit};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PolicyArgs {
    /// A built-in policy (legacy, mmaplock, range_lock, invalidate_lock), a variant of
    /// `--scenario`, or a policy file.
    policy: String,
    /// The scenario whose `[[policy]]` variants may be named.
    #[arg(long)]
    scenario: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn policy(args: PolicyArgs) -> u8 {
    let scenario = match &args.scenario {
        Some(path) => match racesim_scenario::Scenario::load(path) {
            Ok(s) => Some(s),
            Err(e) => return bad_input(e),
        },
        None => None,
    };
    let from_scenario = match &scenario {
        Some(s) => s.policy(&args.policy),
        None => racesim_scenario::policy_file::builtin(&args.policy),
    };
    let policy = match from_scenario {
        Some(p) => p,
        None if std::path::Path::new(&args.policy).is_file() => {
            match racesim_scenario::policy_file::load(std::path::Path::new(&args.policy)) {
                Ok(p) => p,
                Err(e) => return bad_input(e),
            }
        }
        None => {
            // Say where we looked and what is there, so the user can pick.
            let mut known: Vec<String> =
                racesim_kernel::policy::BUILTIN_POLICIES.iter().map(|s| s.to_string()).collect();
            let place = match &scenario {
                Some(s) => {
                    known.extend(s.variants.iter().map(|v| v.name.clone()));
                    format!("a policy of {} (", s.path)
                }
                None => "a built-in policy (".to_string(),
            };
            return bad_input(format!("'{}' is neither {place}{}) nor a policy file", args.policy, known.join(", ")));
        }
    };
    let table = policy.lock_table();
    match args.format {
        Format::Human => {
            line(format!("policy {}: the locks it adds to page locks, mmap_sem and i_dio_count", policy.name));
            let widths = [38, 36, 16, 19, 30];
            line(format!(
                "  {:<w0$} {:<w1$} {:<w2$} {:<w3$} {:<w4$} taken / released",
                "operation",
                "phase",
                "lock",
                "mode",
                "range",
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4]
            ));
            for r in &table {
                line(format!(
                    "  {:<w0$} {:<w1$} {:<w2$} {:<w3$} {:<w4$} {} / {}",
                    r.operation,
                    r.phase,
                    r.lock,
                    r.mode,
                    r.range,
                    r.taken,
                    r.released,
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2],
                    w3 = widths[3],
                    w4 = widths[4]
                ));
            }
            line(format!(
                "  dax_zeroing = {}, write_alloc = {:?}, reclaim_skips_pinned = {}",
                policy.dax_zeroing.name(),
                policy.write_alloc,
                policy.reclaim_skips_pinned
            ));
            line(format!(
                "  dio_read_fence = {}, dio_read_delalloc = {:?}, dio_write_post_invalidate = {:?}",
                policy.dio_read_fence, policy.dio_read_delalloc, policy.dio_write_post_invalidate
            ));
        }
        Format::Json => {
            for r in &table {
                crate::output::record(
                    "policy.lock",
                    serde_json::json!({
                        "policy": policy.name, "operation": r.operation, "phase": r.phase, "lock": r.lock,
                        "mode": r.mode, "range": r.range, "taken": r.taken, "released": r.released,
                    }),
                );
            }
        }
    }
    exit::CLEAN
}
