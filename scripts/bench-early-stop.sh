#!/usr/bin/env bash
# Measures early stop in the metric stage: runs `gpa simulate` on the step,
# spike and ramp profiles twice at the same time, on the same interval grid:
#
#   full   gooseEarlyStop=shadow: every test runs its whole gooseRunTime
#          (the full-length run; it scales on the full reports), and each
#          report also carries the report early stop would have printed
#          from the same samples, which the simulation decides on too, as a
#          dry run on the same state
#   on     gooseEarlyStop=true: early stop really stops the tests
#
# and prints one row per profile. Columns from the full run alone (the
# same samples judged both ways):
#
#   agree%       intervals whose decision (targetReplicas) on the early-stop
#                report is the one taken on the full report
#                (summary.earlyStopShadow.agreement)
#   dir%         intervals whose decision goes the same way (up, hold, down,
#                or no decision: the evaluate stage failed) on both reports
#   stops        intervals early stop would have ended early, of all
#   winFull/winEarly   median measured window, seconds: the full report's,
#                and where early stop would have stopped
#
# Columns that need both runs (each run scales its own way):
#
#   probeFull/probeOn, fewer%  probe requests over the whole run
#   medMetricFull/On, lower%   median metric-stage wall time, seconds
#   reactFull/reactOn          reactionSeconds of the summary
#
# Below each row, every interval whose two decisions differ, with both
# reasons. Asserts nothing: the figures are the result (docs/metric.md
# shows them).
#
#   scripts/bench-early-stop.sh                      # step, spike and ramp
#   scripts/bench-early-stop.sh profiles/step.yaml   # one profile
#   STEP_AT="17 20 23 26 29" scripts/bench-early-stop.sh   # the step, moved
#
# Environment:
#   GPA_BIN      folder holding gpa, gpa-metric and gpa-evaluate
#                (default: target/release, built if missing)
#   RUN_TIME     gooseRunTime of both runs: the full length, and early stop's
#                cap (default 10, the image's default with early stop)
#   INTERVAL_MS  the CPA interval of both runs (default 15000: the full-length
#                run fits in it)
#   OUT          output folder (default: bench-out/early-stop)
#   ANALYZE_ONLY set to 1: print the table from the runs already in OUT,
#                without running them again
#   STEP_AT      seconds: runs profiles/step.yaml with its load step moved
#                to start at each of these instead of 20 s (same length,
#                written to OUT/profiles/step-at-N.yaml). Who sees a load
#                change first depends on where it lands in the interval: a
#                full-length probe covers 10 s of it, an early-stopped one
#                2-3 s; moving the step samples that phase.
#
# The full run differs from one with gooseEarlyStop=false only in that the
# metric stage watches the requests (a copy of each, kept in memory). The
# two runs of a profile run at the same time (the simulated service's
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
for at in ${STEP_AT:-}; do
  mkdir -p "$out/profiles"
  # quiet for `at` s, the 50 s step, then quiet to the same 140 s
  awk -v at="$at" '/durationSeconds:/ { n++; if (n == 1) sub(/[0-9]+/, at); if (n == 3) sub(/[0-9]+/, 90 - at) } { print }' \
    profiles/step.yaml > "$out/profiles/step-at-$at.yaml"
  profiles+=("$out/profiles/step-at-$at.yaml")
done
[ ${#profiles[@]} -gt 0 ] || profiles=(profiles/step.yaml profiles/spike.yaml profiles/ramp.yaml)
metric_timeout_ms=$(( (run_time + 10) * 1000 ))

simulate() { # profile folder early-stop
  mkdir -p "$2"
  "$gpa_bin/gpa" simulate --profile "$1" --output-dir "$2" \
    --interval-ms "$interval_ms" --metric-timeout-ms "$metric_timeout_ms" \
    --set "gooseRunTime=$run_time" --set "gooseEarlyStop=$3" \
    > "$2/summary.json" 2> "$2/log.txt"
}

analyze() { # name folder
  python3 - "$1" "$2" <<'PY'
import csv, json, re, statistics, sys
name, base = sys.argv[1], sys.argv[2]

def load(mode):
    rows = list(csv.DictReader(open(f"{base}/{mode}/intervals.csv")))
    log = open(f"{base}/{mode}/log.txt").read()
    probes = sum(int(n) for n in re.findall(r"metric stage: (\d+) probe requests", log))
    timeline = json.load(open(f"{base}/{mode}/timeline.json"))
    return rows, probes, timeline

def median_metric(rows):
    times = [float(r["metricSeconds"]) for r in rows if r["metricSeconds"]]
    return statistics.median(times) if times else float("nan")

(full, probe_full, t_full), (on, probe_on, t_on) = load("full"), load("on")
shadow = t_full["summary"].get("earlyStopShadow")
if shadow is None:
    sys.exit(f"{name}: the full run's summary has no earlyStopShadow (is gpa-metric older than shadow mode?)")
agree = shadow["agreement"] * 100
def way(replicas, evaluated):
    if evaluated is None:
        return "none"
    return "up" if evaluated > replicas else "down" if evaluated < replicas else "hold"
shadowed = [i for i in t_full["intervals"] if i.get("earlyStopShadow")]
same_way = sum(way(i["replicas"], i.get("evaluatedReplicas"))
               == way(i["replicas"], i["earlyStopShadow"].get("evaluatedReplicas")) for i in shadowed)
direction = same_way / len(shadowed) * 100 if shadowed else float("nan")
stops = f"{shadow['stoppedEarly']}/{shadow['intervals']}"
med_full, med_on = median_metric(full), median_metric(on)
fewer = (1 - probe_on / probe_full) * 100 if probe_full else float("nan")
lower = (1 - med_on / med_full) * 100 if med_full else float("nan")
react = lambda t: "-" if t["summary"].get("reactionSeconds") is None else str(t["summary"]["reactionSeconds"])
print(f"{name:<8} {agree:7.1f} {direction:6.1f} {stops:>7} {shadow['medianFullRunTimeSeconds']:7.2f} "
      f"{shadow['medianRunTimeSeconds']:8.2f} {probe_full:9d} {probe_on:8d} {fewer:6.1f} "
      f"{med_full:13.2f} {med_on:11.2f} {lower:7.1f} {react(t_full):>9} {react(t_on):>8}")
for interval in t_full["intervals"]:
    s = interval.get("earlyStopShadow")
    if s and not s["agrees"]:
        when = f"stop at {s['runTimeSeconds']:.1f} s" if s["stoppedEarly"] else "no stop"
        print(f"  t={interval['atSeconds']:.0f}s differs ({when}):")
        print(f"    full  {interval.get('evaluatedReplicas')}: {interval['reason']}")
        print(f"    early {s.get('evaluatedReplicas')}: {s['reason']}")
PY
}

printf '%-8s %7s %6s %7s %7s %8s %9s %8s %6s %13s %11s %7s %9s %8s\n' \
  profile agree% dir% stops winFull winEarly probeFull probeOn fewer% medMetricFull medMetricOn lower% reactFull reactOn
for profile in "${profiles[@]}"; do
  name=$(basename "$profile" .yaml)
  if [ "${ANALYZE_ONLY:-0}" != 1 ]; then
    simulate "$profile" "$out/$name/full" shadow &
    full=$!
    simulate "$profile" "$out/$name/on" true
    wait "$full"
  fi
  analyze "$name" "$out/$name"
done
