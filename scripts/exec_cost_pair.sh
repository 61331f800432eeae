#!/bin/sh
# Paired cost measurement, base against this tree (development aid; see
# crates/racesim-explore/examples/exec_cost.rs): alternates the two builds' exec_cost runs
# on one scenario and policy, REPS times, and prints each run's ratio lines.
# usage: scripts/exec_cost_pair.sh BASE_BIN NEW_BIN SCENARIO POLICY REPS [BOUND]
base=$1 new=$2 scenario=$3 policy=$4 reps=$5 bound=${6:--}
i=0
while [ "$i" -lt "$reps" ]; do
  for side in base new; do
    eval bin=\$$side
    printf '%s ' "$side"
    "$bin" "$scenario" "$policy" 1 "$bound" | grep '^rep' | sed 's/.*| ratio/ratio/'
  done
  i=$((i + 1))
done
