#!/usr/bin/env bash
# Issue 15's figures with one command: installs what is missing, builds, starts a fresh 5-node
# local network in a temporary directory, runs colend-bench as fast as it goes and then at a sweep
# of offered rates (one JSON line each), stops the network, and draws the sweep as a PNG.
#
#   scripts/bench.sh [--duration S] [--clients C] [--mix loans|anchor] [--rates "R1 R2 ..."]
#                    [--suite std|sm] [--out DIR] [--perf] [--etcd] [--no-build]
#
#   --suite   the chain's signature suite (localnet init --suite; default std): sm signs and
#             verifies with SM2/SM3, and the bound is then SM2's, measured in the same run
#   --rates   offered rates of the sweep (default: 25, 50, 75, 100 and 125 % of the maximum
#             measured first)
#   --out     where results go (default bench-results/): max.json, io-max.json (where each
#             node's io thread spent the maximum run: scripts/io-share.py), sweep.jsonl (every
#             run, and the etcd line with --etcd), bench.png, and with --perf perf-top.txt
#   --perf    perf record -g on node1 during the maximum-rate run; prints the top 15 symbols
#   --etcd    also runs scripts/bench-etcd.sh (a 5-member etcd cluster, etcdctl check perf
#             --load=l, about 60 s) and prints both figures side by side
# Everything runs on loopback and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=20
clients=8
mix=loans
rates=""
suite=std
out=bench-results
perf=0
etcd=0
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --mix) mix="$2"; shift 2 ;;
    --rates) rates="$2"; shift 2 ;;
    --suite) suite="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --perf) perf=1; shift ;;
    --etcd) etcd=1; shift ;;
    --no-build) build=0; shift ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
  esac
done
case "$suite" in std|sm) ;; *) echo "bench.sh: --suite must be std or sm, not '$suite'" >&2; exit 2 ;; esac
# The figures are for the optimised build a bank runs (scripts/build-release.sh).
bdir=build-release
[ "$build" -eq 1 ] && scripts/build-release.sh colend colend-node colend-bench
if [ "$perf" -eq 1 ] && ! command -v perf >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi
bin=$bdir/bin
mkdir -p "$out"
: >"$out/sweep.jsonl"
. scripts/bench-net.sh colend-bench
"$bin/colend" localnet up --dir "$net/net"
bench() { "$bin/colend-bench" --dir "$net/net" --duration "$duration" --clients "$clients" --mix "$mix" "$@"; }

echo "== as fast as it goes ($duration s, $clients clients, mix $mix, suite $suite)"
if [ "$perf" -eq 1 ]; then
  pid=$(cat "$net/net/node1/node.pid")
  # Starts after the verification bound and the pre-signing (about 10 s), covers the load.
  (sleep 10; perf record -g -p "$pid" -o "$out/perf.data" -- sleep "$duration" >/dev/null 2>&1) &
  perf_job=$!
fi
# Wrapped in io-share.py: the nodes' /metrics before and after give where each io thread spent
# the run (io-max.json); colend-bench's own line stays max.json.
/usr/bin/python3 scripts/io-share.py --dir "$net/net" --json -- "$bin/colend-bench" --dir "$net/net" \
  --duration "$duration" --clients "$clients" --mix "$mix" --json >"$out/max-io.txt"
head -n 1 "$out/max-io.txt" >"$out/max.json"
tail -n 1 "$out/max-io.txt" >"$out/io-max.json"
rm -f "$out/max-io.txt"
[ "$perf" -eq 1 ] && wait "$perf_job" || true
cat "$out/max.json" >>"$out/sweep.jsonl"
field() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
max_tps=$(field "$out/max.json" committed_tps)
printf 'committed %.1f tx/s, p50 %.0f ms, p99 %.0f ms, verification bound %.0f tx/s, node RSS max %.1f MiB\n' \
  "$max_tps" "$(field "$out/max.json" latency_ms_p50)" "$(field "$out/max.json" latency_ms_p99)" \
  "$(field "$out/max.json" verify_bound_tps)" "$(field "$out/max.json" rss_mib_max)"
/usr/bin/python3 - "$out/io-max.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = r["nodes"]["node1"]
ms = lambda k: n[k]["mean_ms"]
pc = lambda k: 100 * n[k]["share"]
print(f"node1's io thread, {n['blocks']} heights: validate {ms('step:validate'):.1f} ms ({pc('step:validate'):.1f} %), "
      f"commit {ms('step:commit'):.1f} ms ({pc('step:commit'):.1f} %; block sync {ms('sync:block'):.1f}), "
      f"vote-state syncs {pc('sync:vote-state'):.1f} %, lease syncs {pc('sync:signing-lease'):.1f} %, "
      f"build {pc('step:build'):.1f} %: busy {100 * n['io_busy_share']:.1f} % of {r['seconds']:.1f} s")
PY
if [ "$perf" -eq 1 ] && [ -f "$out/perf.data" ]; then
  perf report -i "$out/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null |
    grep -v '^#' | grep -v '^ *$' | sed 's/[ -]*$//' | cut -c1-160 | head -15 >"$out/perf-top.txt" || true
  echo "== perf: node1's top 15 symbols during the maximum-rate run"
  cat "$out/perf-top.txt"
fi

if [ -z "$rates" ]; then
  rates=$(/usr/bin/python3 -c "import sys; m=float(sys.argv[1]); print(' '.join(str(max(1, round(m*f))) for f in (0.25, 0.5, 0.75, 1.0, 1.25)))" "$max_tps")
fi
for rate in $rates; do
  echo "== offered $rate tx/s"
  bench --rate "$rate" --json | tee -a "$out/sweep.jsonl" | /usr/bin/python3 -c \
    "import json,sys; r=json.load(sys.stdin); print(f\"committed {r['committed_tps']:.1f} tx/s, p50 {r['latency_ms_p50']:.0f} ms, p90 {r['latency_ms_p90']:.0f} ms, p99 {r['latency_ms_p99']:.0f} ms, rejected {r['rejected']}, not committed {r['uncommitted']}\")"
done
"$bin/colend" localnet down --dir "$net/net" >/dev/null

if [ "$etcd" -eq 1 ]; then
  echo "== etcd, 5 members on loopback (etcdctl check perf --load=l)"
  scripts/bench-etcd.sh --json | tee -a "$out/sweep.jsonl"
  etcd_writes=$(tail -1 "$out/sweep.jsonl" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['etcd_writes_per_s'])")
  printf '== side by side: colend %.1f committed tx/s (as fast as it goes) | etcd %.0f writes/s | ratio %.2f (target >= 2.5)\n' \
    "$max_tps" "$etcd_writes" "$(/usr/bin/python3 -c "print($max_tps / $etcd_writes)")"
fi
/usr/bin/python3 scripts/plot_bench.py "$out/sweep.jsonl" "$out/bench.png"
