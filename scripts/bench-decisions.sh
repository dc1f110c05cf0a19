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
#   SIMULATE_ARGS  more options for every `gpa simulate` run, split on spaces
#                (e.g. `--prometheus` for the query source)
#   RUNS         runs of each profile (default 1). One run is one sample: when
#                a decay lands relative to the load varies from run to run.
#                With RUNS above 1 the runs of a profile run side by side (the
#                simulated service is a model of sleeps, so they barely
#                disturb each other), each prints its row, and a `median` row
#                follows (each column's median).
#
# windowS is the windowed oracle's replica-seconds (docs/simulate.md, "The
# oracle"): the least a rule that decays only as far as its CPU sample
# allows can spend; windowS / oracleS is the best ratio such a rule reaches.
#
# A run takes as long as its profile (step: 140 s). Charts and timelines are
# left in $OUT/<profile>/ (with RUNS above 1, in $OUT/<profile>/<run>/).
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
read -r -a extra_args <<< "${SIMULATE_ARGS:-}"

printf '%-12s %5s %8s %8s %6s %6s %9s %10s %8s %8s\n' \
  profile peak replicaS oracleS ratio overS reactionS reversals skipped windowS
runs=${RUNS:-1}
for profile in "${profiles[@]}"; do
  name=$(basename "$profile" .yaml)
  dirs=()
  for run in $(seq 1 "$runs"); do
    dir=$out/$name
    [ "$runs" -gt 1 ] && dir=$out/$name/$run
    mkdir -p "$dir"
    dirs+=("$dir")
    "$gpa_bin/gpa" simulate --profile "$profile" --output-dir "$dir" \
      --metric-command "$stages_bin/gpa-metric" \
      --evaluate-command "$stages_bin/gpa-evaluate" \
      "${config_args[@]}" "${extra_args[@]}" > "$dir/summary.json" 2> "$dir/log.txt" &
  done
  wait
  python3 - "$name" "${dirs[@]}" <<'PY'
import json, statistics, sys
name, dirs = sys.argv[1], sys.argv[2:]
keys = ["peakReplicas", "replicaSeconds", "oracleReplicaSeconds",
        "replicaSecondsRatio", "secondsOverTarget", "reactionSeconds",
        "reversals", "skippedIntervals", "windowOracleReplicaSeconds"]
widths = [5, 8, 8, 6, 6, 9, 10, 8, 8]
def row(label, values):
    cells = ["-" if v is None else ("{:.2f}".format(v) if isinstance(v, float)
             and k == "replicaSecondsRatio" else "{:g}".format(v))
             for k, v in zip(keys, values)]
    print(f"{label:<12} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
summaries = []
for d in dirs:
    try:
        summaries.append(json.load(open(d + "/summary.json")))
    except ValueError:
        print(f"{name:<12} failed: see {d}/log.txt")
        continue
    row(name, [summaries[-1].get(k) for k in keys])
if len(summaries) > 1:
    def median(k):
        values = [s[k] for s in summaries if s.get(k) is not None]
        return statistics.median(values) if values else None
    row("  median", [median(k) for k in keys])
PY
done
