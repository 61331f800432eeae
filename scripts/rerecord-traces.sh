#!/usr/bin/env bash
# Re-records every trace in traces/, then the explain snapshot of the minimized collapse trace
# (an insta snapshot: review its diff as the traces').
# Run from the repository root after `cargo build --release`; review the diff before committing
# (traces/README.md says when and why).
set -euo pipefail
rm -f traces/*.trace.json
for s in scenarios/*.toml; do ./target/release/racesim run "$s" --save-trace traces >/dev/null || true; done
# One trace stands for the policies that fail the same way:
# dio_read_pinned_reclaim (invalidate_lock), dio_write_buffered_read (mmaplock),
# dio_read_mkwrite_delalloc (legacy), dio_read_punch_fence (legacy_no_fence, recorded with pct:4,
# whose schedule minimizes to the race's three preemptions).
rm -f traces/dio_read_pinned_reclaim.{legacy,mmaplock,range_lock}.*.trace.json
rm -f traces/dio_write_buffered_read.legacy*.trace.json
rm -f traces/dio_read_mkwrite_delalloc.{mmaplock,range_lock,invalidate_lock}.*.trace.json
rm -f traces/dio_read_punch_fence.*.trace.json
./target/release/racesim run scenarios/dio_read_punch_fence.toml --policy legacy_no_fence --strategy pct:4 --save-trace traces >/dev/null || true
# failed_write_cleanup_fault under xfs-5.3 reaches two oracles; pct:3 seed 8 records the
# orphan dirty page of 198dd8aedee6 (seed 1's random walk records f43dc4dc3eff's lost write).
# (Seed 5 did until xfs-5.3's writes mapped through iomap, buffered_write_map = "iomap".)
./target/release/racesim run scenarios/failed_write_cleanup_fault.toml --policy xfs-5.3 --strategy pct:3 --seed 8 --save-trace traces >/dev/null || true
# dax_truncate under legacy reaches two oracles; seed 2 records the write to a freed block.
./target/release/racesim run scenarios/dax_truncate.toml --policy legacy --seed 2 --save-trace traces >/dev/null || true
./target/release/racesim minimize traces/collapse_mmap.legacy.seed1.*.trace.json --out traces/collapse_mmap.legacy.minimized.trace.json >/dev/null || true
INSTA_UPDATE=always cargo test --release -q -p racesim-view --test explain >/dev/null || true
git status --short traces crates/racesim-view/tests/snapshots | head -50
