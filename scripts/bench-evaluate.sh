#!/usr/bin/env bash
# Wall time of one gpa-evaluate process, from spawn to exit, on the example
# input: a real run (lock, read, decide, atomic write with two fsyncs) and a
# dry run (read and decide only). Prints median, p95 and min per process,
# then, measured in the same run, the two floors no evaluate stage can go
# below (spawning /bin/true; one durable write: write and fsync a file,
# rename it, fsync the folder) and the stage's own work: its median minus
# those floors.
#
# Usage: scripts/bench-evaluate.sh [RUNS]   (default 300)
# Uses hyperfine when it can feed stdin (--input, hyperfine >= 1.16), trying
# `apt-get install -y hyperfine` when it is missing; else a Python loop.
set -euo pipefail

runs=${1:-300}
cd "$(dirname "$0")/.."

# Built as the container image builds it: statically linked, so no dynamic
# loader runs at start (the image's musl executables are static-pie; here the
# same shape with glibc). A dynamically linked build spends about 0.6 ms more
# per process in the loader and its relocations.
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --release --quiet --no-default-features --bin gpa-evaluate --target "$host"
bin=${CARGO_TARGET_DIR:-target}/$host/release/gpa-evaluate
config=example/evaluation_config.yaml
input=example/inputs/evaluate-v2.json

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/"runType": "scaler"/"runType": "api_dry_run"/' "$input" > "$work/dry-run.json"

if ! command -v hyperfine >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y hyperfine >/dev/null 2>&1 || true
fi
if command -v hyperfine >/dev/null 2>&1 && hyperfine --help | grep -q -- '--input'; then
  tool=hyperfine
else
  tool=python
fi

# measure NAME INPUT COMMAND...: writes one wall time per line (seconds) to $work/NAME.times
measure() {
  local name=$1 stdin=$2
  shift 2
  local command="$*"
  if [ "$tool" = hyperfine ]; then
    hyperfine --shell=none --warmup 20 --runs "$runs" --input "$stdin" \
      --export-json "$work/$name.json" "$command" >/dev/null
    python3 -c 'import json,sys; print("\n".join(map(str, json.load(open(sys.argv[1]))["results"][0]["times"])))' \
      "$work/$name.json" > "$work/$name.times"
  else
    python3 - "$runs" "$stdin" "$work/$name.times" $command <<'PY'
import subprocess, sys, time
runs, stdin_path, out_path, command = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
data = open(stdin_path, "rb").read()
times = []
for i in range(runs + 20):
    start = time.perf_counter()
    done = subprocess.run(command, input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"gpa-evaluate exited {done.returncode}")
    if i >= 20:  # warm-up runs are not counted
        times.append(elapsed)
open(out_path, "w").write("\n".join(map(str, times)) + "\n")
PY
  fi
}

# durable_write NAME: one durable write per iteration, timed in-process, in
# the folder the state file lives in
durable_write() {
  python3 - "$runs" "$work" "$work/$1.times" <<'PY'
import os, sys, time
runs, folder, out_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
target, temp = os.path.join(folder, "floor.json"), os.path.join(folder, ".floor.json.tmp")
data = b'{"runsSinceChange":1,"lastSeenReplicas":3,"lastTargetReplicas":3}\n'
times = []
for i in range(runs + 20):
    start = time.perf_counter()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
    os.rename(temp, target)
    dir_fd = os.open(folder, os.O_RDONLY)
    os.fsync(dir_fd)
    os.close(dir_fd)
    if i >= 20:
        times.append(time.perf_counter() - start)
open(out_path, "w").write("\n".join(map(str, times)) + "\n")
PY
}

# summary LABEL NAME: prints median, p95 and min of $work/NAME.times and
# keeps the median (ms) in $work/NAME.median
summary() {
  python3 - "$1" "$work/$2.times" "$work/$2.median" <<'PY'
import sys
label, path, median_path = sys.argv[1], sys.argv[2], sys.argv[3]
times = sorted(float(line) * 1000 for line in open(path) if line.strip())
n = len(times)
median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
p95 = times[min(n - 1, -(-95 * n // 100) - 1)]
open(median_path, "w").write(f"{median} {times[0]}\n")
print(f"{label:<44} n={n:<4} median {median:6.3f} ms   p95 {p95:6.3f} ms   min {times[0]:6.3f} ms")
PY
}

# own LABEL TOTAL FLOOR...: TOTAL's median minus the floors' medians
own() {
  python3 - "$work" "$@" <<'PY'
import sys
work, label, total, floors = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
figures = lambda name: [float(x) for x in open(f"{work}/{name}.median").read().split()]
own = [a - sum(f) for a, *f in zip(figures(total), *(figures(floor) for floor in floors))]
print(f"{label:<44} median {own[0]:6.3f} ms   min {own[1]:6.3f} ms")
PY
}

echo "gpa-evaluate, $runs runs each, measured with $tool ($(nproc) CPUs, $(uname -sr))"
measure real "$input" "$bin" --config "$config" --state "$work/state.json"
summary "real run (lock, decide, atomic write)" real
measure dry "$work/dry-run.json" "$bin" --config "$config" --state "$work/state.json"
summary "dry run (decide only)" dry
truebin=$(type -P true)
measure spawn "$input" "$truebin"
summary "floor: spawning $truebin" spawn
durable_write write
summary "floor: one durable write (fsync, rename, fsync)" write
echo "the stage's own work (its median and min minus the floors' medians and mins):"
own "  real run - spawn - durable write" real spawn write
own "  dry run - spawn" dry spawn
