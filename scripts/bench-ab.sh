#!/usr/bin/env bash
# Latency after a burst, two builds side by side on one machine: for each run and each build in
# turn (interleaved, so a slower minute of a shared machine hits both), a fresh 5-node local
# network, colend-bench as fast as it goes, then at a fixed offered rate on the same network.
# Prints one line per run and build, and the median of the runs per build.
#
#   scripts/bench-ab.sh [--runs N] [--rate R] [--duration S] [--clients C] [--mix loans|anchor]
#                       REV_A REV_B
#
#   REV       a git revision, built in Release (-O3, no test hooks) in a worktree under
#             .bench-ab/<commit> (kept for the next call), or "." for this tree's
#             build-release/ (scripts/build-release.sh)
#   --runs    runs per build (default 3)
#   --rate    offered rate after the maximum run, tx/s (default 400, about half the peak here)
#   --duration seconds of each of the two loads (default 20)
# Each line also gives the nodes' largest RSS (VmHWM) over both loads, and for the fixed-rate load
# the block intervals node1 logged (the median, and how many exceeded 200 ms: the slow episodes)
# and how many memtable flushes node1's LevelDB started in that time (its LOG).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
rate=400
duration=20
clients=8
mix=loans
revs=()
usage() { sed -n '2,18p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs | --rate | --duration | --clients | --mix)
      if [ $# -lt 2 ]; then
        echo "bench-ab.sh: $1 needs a value" >&2
        usage
      fi ;;&
    --runs) runs="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --mix) mix="$2"; shift 2 ;;
    -*) echo "bench-ab.sh: unknown option '$1'" >&2; usage ;;
    *) revs+=("$1"); shift ;;
  esac
done
for pair in "runs:$runs" "rate:$rate" "duration:$duration" "clients:$clients"; do
  if ! [[ "${pair#*:}" =~ ^[1-9][0-9]{0,5}$ ]]; then
    echo "bench-ab.sh: --${pair%%:*} must be a whole number from 1 to 999999, got '${pair#*:}'" >&2
    exit 2
  fi
done
if [ "$mix" != loans ] && [ "$mix" != anchor ]; then
  echo "bench-ab.sh: --mix must be loans or anchor, got '$mix'" >&2
  exit 2
fi
if [ "${#revs[@]}" -ne 2 ]; then
  echo "bench-ab.sh: give two revisions (\".\" for this tree), got ${#revs[@]}" >&2
  usage
fi
scripts/install-deps.sh

# The binaries of a revision: "." is this tree's release build; a commit is built once in its own
# worktree (its own CMakeLists.txt, so an older commit builds as it did then).
bins=()
labels=()
for rev in "${revs[@]}"; do
  if [ "$rev" = "." ]; then
    scripts/build-release.sh colend colend-node colend-bench >/dev/null
    bins+=("$PWD/build-release/bin")
    labels+=("this-tree")
    continue
  fi
  commit=$(git rev-parse --verify --quiet "$rev^{commit}") || {
    echo "bench-ab.sh: $rev is not a revision of this repository" >&2
    exit 2
  }
  wt=.bench-ab/$commit
  if [ ! -d "$wt" ]; then
    git worktree add --detach "$wt" "$commit" >/dev/null
  fi
  echo "== building $rev ($commit) in $wt/build" >&2
  cmake -S "$wt" -B "$wt/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOLEND_TEST_HOOKS=OFF \
    -DCOLEND_WERROR=OFF >/dev/null
  cmake --build "$wt/build" -j "$(nproc)" --target colend colend-node colend-bench >/dev/null
  bins+=("$PWD/$wt/build/bin")
  labels+=("${rev}")
done

results=$(mktemp)
net=""
cleanup() {
  if [ -n "$net" ]; then
    "$bin/colend" localnet down --dir "$net/net" --kill >/dev/null 2>&1 || true
    rm -rf "$net"
  fi
  rm -f "$results"
}
trap cleanup EXIT

field() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
printf '%-12s %3s  %9s  %16s  %7s  %8s  %s\n' build run "max tx/s" "at $rate: p50 ms" "p99 ms" \
  "RSS MiB" "node1 blocks: median ms / over 200 ms / flushes"
for run in $(seq 1 "$runs"); do
  for i in 0 1; do
    bin=${bins[$i]}
    net=$(mktemp -d /tmp/colend-ab.XXXXXX)
    "$bin/colend" localnet init --dir "$net/net" --nodes 5 >/dev/null
    "$bin/colend" localnet up --dir "$net/net" >/dev/null
    sleep 2
    "$bin/colend-bench" --dir "$net/net" --duration "$duration" --clients "$clients" --mix "$mix" \
      --json >"$net/max.json"
    log=$net/net/node1/node.log
    ldb_log=$net/net/node1/data/LOG
    log_from=$(wc -l <"$log")
    ldb_from=$(wc -l <"$ldb_log")
    "$bin/colend-bench" --dir "$net/net" --duration "$duration" --clients "$clients" --mix "$mix" \
      --rate "$rate" --json >"$net/rate.json"
    blocks=$(tail -n +"$((log_from + 1))" "$log" | /usr/bin/python3 -c '
import re, sys
from datetime import datetime
times = [datetime.fromisoformat(m.group(1)).timestamp() for m in
         (re.match(r"(\S+)Z \S+ +\[\S+\] block \d+ \S+ txs \d+ committed", l) for l in sys.stdin) if m]
gaps = sorted((b - a) * 1000 for a, b in zip(times, times[1:]))
print("%.0f / %d" % (gaps[len(gaps) // 2], sum(g > 200 for g in gaps)) if gaps else "- / -")')
    flushes=$(tail -n +"$((ldb_from + 1))" "$ldb_log" | grep -c "Level-0 table #[0-9]*: started" || true)
    rss=$(/usr/bin/python3 -c "import json,sys; print(max(json.load(open(f))['rss_mib_max'] for f in sys.argv[1:]))" \
      "$net/max.json" "$net/rate.json")
    max_tps=$(field "$net/max.json" committed_tps)
    p50=$(field "$net/rate.json" latency_ms_p50)
    p99=$(field "$net/rate.json" latency_ms_p99)
    printf '%-12s %3d  %9.1f  %16.0f  %7.0f  %8.1f  %s / %s\n' "${labels[$i]}" "$run" "$max_tps" \
      "$p50" "$p99" "$rss" "$blocks" "$flushes"
    echo "$i $max_tps $p50 $p99" >>"$results"
    "$bin/colend" localnet down --dir "$net/net" --kill >/dev/null 2>&1 || true
    rm -rf "$net"
    net=""
  done
done
echo "== median of $runs runs"
for i in 0 1; do
  /usr/bin/python3 -c '
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in open(sys.argv[1]) if l.split()[0] == sys.argv[2]]
m = [statistics.median(c) for c in zip(*rows)]
print("%-12s max %.1f tx/s; at %s offered p50 %.0f ms, p99 %.0f ms" % (sys.argv[3], m[0], sys.argv[4], m[1], m[2]))
' "$results" "$i" "${labels[$i]}" "$rate"
done
