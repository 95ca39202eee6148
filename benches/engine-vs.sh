#!/usr/bin/env bash
# Two builds of the engine benchmark, alternated: OLD then NEW, PAIRS times, one short
# criterion run each; prints each pair's time per 10 000 bills and the median ratio
# OLD / NEW (above 1: NEW is faster). Alternating keeps the machine's drift out of the ratio.
#
#   benches/engine-vs.sh OLD_BIN NEW_BIN [PAIRS] [BENCHMARK]
#
# A bench binary of another commit:
#   git worktree add /tmp/old COMMIT && (cd /tmp/old && cargo bench --bench engine --no-run)
# prints its path (target/release/deps/engine-…); this checkout's is built the same way.
set -euo pipefail

old=$1
new=$2
pairs=${3:-8}
benchmark=${4:-price_month_mix}

# One run of a bench binary: its median time per batch, in ms.
time_of() {
  "$1" --bench "^engine/$benchmark\$" --warm-up-time 0.5 --measurement-time 1 --noplot 2>&1 \
    | awk '/time:/ && !seen { sub(/.*\[/, ""); print $3; seen = 1 }'
}

for _ in $(seq "$pairs"); do
  a=$(time_of "$old")
  b=$(time_of "$new")
  echo "old $a ms  new $b ms  ratio $(echo "scale=3; $a / $b" | bc)"
done | tee /dev/stderr | awk '{ print $NF }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' | sed 's/^/median ratio old \/ new: /'
