#!/usr/bin/env bash
# Re-records every trace in traces/ and the explain snapshot of the minimized collapse trace.
# Run from the repository root after `cargo build --release`; review the diff before committing
# (traces/README.md says when and why).
set -euo pipefail
rm -f traces/*.trace.json
for s in scenarios/*.toml; do ./target/release/racesim run "$s" --save-trace traces >/dev/null || true; done
# dio_read_pinned_reclaim: one trace (invalidate_lock) stands for the four built-ins.
rm -f traces/dio_read_pinned_reclaim.{legacy,mmaplock,range_lock}.*.trace.json
# dax_truncate under legacy reaches two oracles; seed 2 records the write to a freed block.
./target/release/racesim run scenarios/dax_truncate.toml --policy legacy --seed 2 --save-trace traces >/dev/null || true
./target/release/racesim minimize traces/collapse_mmap.legacy.seed1.*.trace.json --out traces/collapse_mmap.legacy.minimized.trace.json >/dev/null || true
./target/release/racesim explain traces/collapse_mmap.legacy.minimized.trace.json > crates/racesim-view/tests/snapshots/collapse_mmap.legacy.minimized.explain.txt || true
git status --short traces crates/racesim-view/tests/snapshots | head -50
