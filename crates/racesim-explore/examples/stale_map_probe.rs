//! Probe (development aid): does a scenario's buffered write apply a stale cached map?
//! `stale_map_probe <scenario.toml> <policy>` explores every interleaving (DPOR) and counts the
//! executions in which `__iomap_write_begin` applies a delayed extent of the map it holds to a
//! page whose block another actor allocated since that map was taken, those in which reclaim
//! also evicted the page in between (the write instantiates a new folio per the stale map: the
//! precondition of d7b64041164c's corruption), and the `->iomap_valid` checks that found the
//! map stale. On iomap_stale_map_writeback: xfs-5.3 207,766 executions, 79,094 stale uses,
//! 5,129 of an evicted page; xfs_6_2 335,271 executions, no stale use.
mod probe_common;

use racesim_explore::exhaustive::Mode;
use racesim_kernel::event::{Change, Event};
use racesim_kernel::types::Extent;
use racesim_scenario::Scenario;
use std::cell::RefCell;
use std::rc::Rc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    // (executions, with a stale use, with a stale use after reclaim evicted the page, stale
    // checks, the log of the first execution with a stale use of an evicted page)
    let counts = Rc::new(RefCell::new((0u64, 0u64, 0u64, 0u64, None::<String>)));
    let c = counts.clone();
    let inner = racesim_explore::exhaustive_strategy(&scenario, Mode::Dpor, None, false);
    let probe = probe_common::Recording::new(
        inner,
        Box::new(move |_, log: &[Event], _, _, _| {
            let mut c = c.borrow_mut();
            c.0 += 1;
            let mut last_begin = 0;
            let (mut stale, mut evicted_stale) = (false, false);
            for (i, e) in log.iter().enumerate() {
                if e.function == "xfs_buffered_write_iomap_begin" {
                    last_begin = i;
                }
                if let Change::IomapValid { valid: false, .. } = e.change {
                    c.3 += 1;
                }
                if e.function == "__iomap_write_begin"
                    && let Change::BlockMapped { lblk, extent: Extent::Delalloc, .. } = e.change
                {
                    let alloc = log[last_begin..i].iter().position(|w| {
                        w.actor != e.actor
                            && matches!(w.change, Change::BlockMapped { lblk: l, allocated: true, .. } if l == lblk)
                    });
                    if let Some(a) = alloc {
                        stale = true;
                        let evicted = log[last_begin + a..i]
                            .iter()
                            .any(|w| matches!(w.change, Change::PageReclaimed { index, .. } if index == lblk));
                        if evicted {
                            evicted_stale = true;
                            if c.4.is_none() {
                                c.4 = Some(
                                    log.iter()
                                        .map(|e| format!("{} {} {:?}", e.actor, e.function, e.change))
                                        .collect::<Vec<_>>()
                                        .join("\n"),
                                );
                            }
                        }
                    }
                }
            }
            c.1 += stale as u64;
            c.2 += evicted_stale as u64;
        }),
    );
    let report = racesim_explore::explore_with(&scenario, &policy, Box::new(probe), 5_000_000, false);
    let c = counts.borrow();
    println!(
        "{}: {:?}; executions {}, stale use {}, stale use of an evicted page {}, stale checks {}",
        args[2],
        report.exhaustive.map(|s| s.executions),
        c.0,
        c.1,
        c.2,
        c.3
    );
    if let Some(log) = &c.4 {
        println!("{log}");
    }
}
