#!/usr/bin/env bash
# Scores the autoscaler's decisions: runs `gpa simulate` on every profile in
# profiles/ (or the ones named) and prints one row of figures per profile,
# the oracle's among them. Asserts nothing: the figures are the result.
#
#   scripts/bench-decisions.sh                       # all profiles, built-in config
#   scripts/bench-decisions.sh profiles/step.yaml    # one profile
#
# Environment:
#   GPA_BIN      folder holding gpa (default: target/release, built if missing)
#   STAGES_BIN   folder holding the gpa-metric and gpa-evaluate to score
#                (default: GPA_BIN); point it at an older build to compare
#   CONFIG       evaluation config (default: the built-in one)
#   OUT          output folder (default: bench-out/decisions)
#
# A run takes as long as its profile (step: 140 s). Charts and timelines are
# left in $OUT/<profile>/.
set -euo pipefail
cd "$(dirname "$0")/.."

gpa_bin=${GPA_BIN:-target/release}
stages_bin=${STAGES_BIN:-$gpa_bin}
out=${OUT:-bench-out/decisions}
if [ ! -x "$gpa_bin/gpa" ]; then
  cargo build --release --locked --bins >&2
fi
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(profiles/*.yaml)
config_args=()
[ -n "${CONFIG:-}" ] && config_args=(--evaluation-config "$CONFIG")

printf '%-12s %5s %8s %8s %6s %6s %9s %10s %8s\n' \
  profile peak replicaS oracleS ratio overS reactionS reversals skipped
for profile in "${profiles[@]}"; do
  name=$(basename "$profile" .yaml)
  mkdir -p "$out/$name"
  "$gpa_bin/gpa" simulate --profile "$profile" --output-dir "$out/$name" \
    --metric-command "$stages_bin/gpa-metric" \
    --evaluate-command "$stages_bin/gpa-evaluate" \
    "${config_args[@]}" > "$out/$name/summary.json" 2> "$out/$name/log.txt"
  python3 - "$name" "$out/$name/summary.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
s = json.load(open(path))
def f(key, fmt="{}"):
    value = s.get(key)
    return "-" if value is None else fmt.format(value)
print(f"{name:<12} {f('peakReplicas'):>5} {f('replicaSeconds'):>8} "
      f"{f('oracleReplicaSeconds'):>8} {f('replicaSecondsRatio'):>6} "
      f"{f('secondsOverTarget'):>6} {f('reactionSeconds'):>9} "
      f"{f('reversals'):>10} {f('skippedIntervals'):>8}")
PY
done
