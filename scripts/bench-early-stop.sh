#!/usr/bin/env bash
# Measures early stop in the metric stage: runs `gpa simulate` on the step,
# spike and ramp profiles twice, with early stop on and off
# (gooseEarlyStop=false, the full-length run), on the same interval grid,
# and prints one row per profile:
#
#   agree%     intervals whose decision (scale up, hold or scale down) is the
#              one the full-length run took in the same interval
#   verdict%   intervals whose verdict (the target's measured figure above or
#              at most its limit) is the full-length run's: the decision
#              also depends on the state (replicas still starting, quiet
#              runs counted), which faster decisions change
#   probeOff/probeOn, fewer%   probe requests over the whole run
#   medMetricOff/On, lower%    median metric-stage wall time, seconds
#   reactOff/On                reactionSeconds of the summary
#
# Asserts nothing: the figures are the result (docs/metric.md shows them).
#
#   scripts/bench-early-stop.sh                      # step, spike and ramp
#   scripts/bench-early-stop.sh profiles/step.yaml   # one profile
#
# Environment:
#   GPA_BIN      folder holding gpa, gpa-metric and gpa-evaluate
#                (default: target/release, built if missing)
#   RUN_TIME     gooseRunTime of both runs: the full length, and early stop's
#                cap (default 10, the image's default with early stop)
#   INTERVAL_MS  the CPA interval of both runs (default 15000: the full-length
#                run fits in it, so both runs have the same intervals)
#   OUT          output folder (default: bench-out/early-stop)
#
# The two runs of a profile run at the same time (the simulated service's
# capacity is a model of sleeps, so they barely disturb each other); a
# profile takes as long as it lasts (step: 140 s).
set -euo pipefail
cd "$(dirname "$0")/.."

gpa_bin=${GPA_BIN:-target/release}
run_time=${RUN_TIME:-10}
interval_ms=${INTERVAL_MS:-15000}
out=${OUT:-bench-out/early-stop}
if [ ! -x "$gpa_bin/gpa" ]; then
  cargo build --release --locked --bins >&2
fi
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(profiles/step.yaml profiles/spike.yaml profiles/ramp.yaml)
metric_timeout_ms=$(( (run_time + 10) * 1000 ))

simulate() { # profile folder early-stop
  mkdir -p "$2"
  "$gpa_bin/gpa" simulate --profile "$1" --output-dir "$2" \
    --interval-ms "$interval_ms" --metric-timeout-ms "$metric_timeout_ms" \
    --set "gooseRunTime=$run_time" --set "gooseEarlyStop=$3" \
    > "$2/summary.json" 2> "$2/log.txt"
}

printf '%-8s %6s %8s %9s %8s %6s %12s %11s %7s %9s %8s\n' \
  profile agree% verdict% probeOff probeOn fewer% medMetricOff medMetricOn lower% reactOff reactOn
for profile in "${profiles[@]}"; do
  name=$(basename "$profile" .yaml)
  simulate "$profile" "$out/$name/off" false &
  off=$!
  simulate "$profile" "$out/$name/on" true
  wait "$off"
  python3 - "$name" "$out/$name" <<'PY'
import csv, json, re, statistics, sys
name, base = sys.argv[1], sys.argv[2]

def load(mode):
    rows = list(csv.DictReader(open(f"{base}/{mode}/intervals.csv")))
    log = open(f"{base}/{mode}/log.txt").read()
    probes = sum(int(n) for n in re.findall(r"metric stage: (\d+) probe requests", log))
    summary = json.load(open(f"{base}/{mode}/summary.json"))
    return rows, probes, summary

def decision(row):
    if not row["evaluatedReplicas"]:
        return "skipped"
    change = int(row["evaluatedReplicas"]) - int(row["replicas"])
    return "up" if change > 0 else "down" if change < 0 else "hold"

def median_metric(rows):
    times = [float(r["metricSeconds"]) for r in rows if r["metricSeconds"]]
    return statistics.median(times) if times else float("nan")

def target():
    text = open(f"{base}/off/evaluation-config.yaml").read()
    kind = re.search(r"type:\s*(\w+)", text).group(1)
    limit = float(re.search(r"target:\s*([\d.]+)", text).group(1))
    tolerance = re.search(r"tolerance:\s*([\d.]+)", text)
    limit *= 1 + (float(tolerance.group(1)) if tolerance else 0)
    column = {"mean": "measuredMeanMs", "p95": "measuredP95Ms"}.get(kind)
    return column, limit

column, limit = target()

def verdict(row):
    if column is None or not row[column]:
        return None
    return float(row[column]) > limit

(off, probe_off, s_off), (on, probe_on, s_on) = load("off"), load("on")
pairs = list(zip(off, on))
agree = sum(decision(a) == decision(b) for a, b in pairs) / max(len(pairs), 1) * 100
judged = [(verdict(a), verdict(b)) for a, b in pairs if verdict(a) is not None and verdict(b) is not None]
same = sum(a == b for a, b in judged) / len(judged) * 100 if judged else float("nan")
med_off, med_on = median_metric(off), median_metric(on)
fewer = (1 - probe_on / probe_off) * 100 if probe_off else float("nan")
lower = (1 - med_on / med_off) * 100 if med_off else float("nan")
react = lambda s: "-" if s.get("reactionSeconds") is None else str(s["reactionSeconds"])
print(f"{name:<8} {agree:6.1f} {same:8.1f} {probe_off:9d} {probe_on:8d} {fewer:6.1f} "
      f"{med_off:12.2f} {med_on:11.2f} {lower:7.1f} {react(s_off):>9} {react(s_on):>8}")
if len(off) != len(on):
    print(f"  note: {len(off)} intervals without early stop, {len(on)} with; compared the first {len(pairs)}")
PY
done
