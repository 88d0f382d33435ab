#!/usr/bin/env bash
# Issue 15's long-chain figures with one command: does throughput hold with a million
# transactions on chain, and does a restart take as long on a long chain as on a new one?
#
#   scripts/bench-long.sh [--txs N] [--duration S] [--out DIR] [--no-build]
#
# On a fresh 5-node local network (Release build, as scripts/bench.sh):
#   1. colend-bench --mix loans for S seconds (default 20): the empty-chain figure;
#   2. restart node3 twice and time each (from the start command until its RPC answers, until
#      it logs "listening", and until it is back at the others' height): the first replays
#      the write-ahead log the loans run left (at most LevelDB's write buffer, 12-20 MiB), the
#      second an almost empty one. For the first, node3 is stopped at once and started when the
#      four others have gone quiet (their merges after the load would otherwise share its disk
#      and cores, which nodes on their own machines do not);
#   3. colend-bench --mix anchor, 240 s at a time, until at least N transactions (default
#      1,000,000) are on chain;
#   4. colend-bench --mix loans for S seconds again, and the ratio to step 1 (target: within 10 %);
#   5. the two restarts of step 2 again; the ratios to step 2.
# Both loans runs run inside scripts/io-share.py: node1's time per height validating, committing
# and building on each chain is printed at the end.
# JSON lines go to DIR/long.jsonl (default bench-results/). Takes about 26 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
txs=1000000
duration=20
out=bench-results
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --txs) txs="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
  esac
done
bdir=build-release
[ "$build" -eq 1 ] && scripts/build-release.sh colend colend-node colend-bench
bin=$bdir/bin
mkdir -p "$out"
: >"$out/long.jsonl"
. scripts/bench-net.sh colend-long
"$bin/colend" localnet up --dir "$net/net" >/dev/null
py() { /usr/bin/python3 -c "$@"; }
height() {  # height of node K (-1 if it does not answer)
  "$bin/colend" status --home "$net/net/node$1" --json 2>/dev/null |
    py "import json,sys; print(json.load(sys.stdin)['height'])" 2>/dev/null || echo -1
}
now_ms() { date +%s%3N; }
# CPU ticks the four other nodes have used (utime + stime, /proc/PID/stat fields 14-15).
others_ticks() {
  local k sum=0 pid ticks
  for k in 1 2 4 5; do
    pid=$(cat "$net/net/node$k/node.pid" 2>/dev/null) || continue
    # a node gone between the two reads counts as 0, not as a failed script
    ticks=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}') || true
    sum=$((sum + ${ticks:-0}))
  done
  echo "$sum"
}
# Waits until the four other nodes use under a fifth of a core together over a second (their
# LevelDB merges after the load are done), at most 180 s; prints the seconds waited.
wait_others_quiet() {
  local s t0 t1 hz
  hz=$(getconf CLK_TCK)
  for s in $(seq 1 180); do
    t0=$(others_ticks); sleep 1; t1=$(others_ticks)
    [ $((t1 - t0)) -lt $((hz / 5)) ] && { echo "$s"; return; }
  done
  echo 180
}
# Restarts node3 (with "quiet": stopped at once, started when the others are quiet, so that on
# this one machine their merges do not share its start-up; nodes on their own machines never
# do) and prints one JSON line: the bytes of write-ahead log it found (LevelDB's *.log files),
# ms until its RPC answers, until its log says "listening" (the node's own start-up, without the
# polling's granularity) and until it is at the height node1 had when it was stopped.
restart() {
  local label=$1 target t0 t_rpc t_listen t_caught log_bytes waited=0
  "$bin/colend" localnet down --dir "$net/net" --node 3 >/dev/null
  [ "${2:-}" = quiet ] && waited=$(wait_others_quiet)
  target=$(height 1)
  log_bytes=$(cat "$net/net/node3/data/"*.log 2>/dev/null | wc -c)
  t0=$(now_ms)
  "$bin/colend" localnet up --dir "$net/net" --node 3 --timeout 600 >/dev/null
  until [ "$(height 3)" -ge 0 ]; do sleep 0.05; done
  t_rpc=$(now_ms)
  until [ "$(height 3)" -ge "$target" ]; do sleep 0.05; done
  t_caught=$(now_ms)
  t_listen=$(date -d "$(grep ' listening: ' "$net/net/node3/node.log" | tail -1 | cut -d' ' -f1)" +%s%3N)
  printf '{"restart":"%s","height":%s,"log_bytes":%s,"others_quiet_after_s":%s,"rpc_ms":%s,"listening_ms":%s,"at_height_ms":%s}\n' \
    "$label" "$target" "$log_bytes" "$waited" $((t_rpc - t0)) $((t_listen - t0)) $((t_caught - t0)) |
    tee -a "$out/long.jsonl"
}
bench() { "$bin/colend-bench" --dir "$net/net" --json "$@"; }
# The loans run inside scripts/io-share.py: prints colend-bench's JSON line; where each node's io
# thread spent the run goes to long.jsonl as its own line ("io_share": LABEL).
loans() {
  local both
  both=$(/usr/bin/python3 scripts/io-share.py --dir "$net/net" --json -- \
    "$bin/colend-bench" --dir "$net/net" --json --duration "$duration" --mix loans)
  echo "$both" | tail -n 1 |
    py "import json,sys; r=json.load(sys.stdin); r['io_share']=sys.argv[1]; print(json.dumps(r))" "$1" \
    >>"$out/long.jsonl"
  echo "$both" | head -n 1
}
field() { py "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$@"; }

echo "== loans, $duration s, on the new chain"
empty=$(loans new-chain)
echo "$empty" | tee -a "$out/long.jsonl" >/dev/null
on_chain=$(field "$empty" committed)
printf 'committed %.1f tx/s, p50 %.0f ms, p99 %.0f ms\n' "$(field "$empty" committed_tps)" \
  "$(field "$empty" latency_ms_p50)" "$(field "$empty" latency_ms_p99)"
echo "== restart on the new chain, twice"
restart new-chain quiet
restart new-chain-again
while [ "$on_chain" -lt "$txs" ]; do
  fill=$(bench --duration 240 --mix anchor)
  echo "$fill" >>"$out/long.jsonl"
  on_chain=$((on_chain + $(field "$fill" committed)))
  printf '== filled: %s transactions on chain (anchors at %.0f tx/s), node RSS max %.1f MiB\n' \
    "$on_chain" "$(field "$fill" committed_tps)" "$(field "$fill" rss_mib_max)"
done
echo "== loans, $duration s, with $on_chain transactions on chain"
long=$(loans long-chain)
echo "$long" | tee -a "$out/long.jsonl" >/dev/null
printf 'committed %.1f tx/s, p50 %.0f ms, p99 %.0f ms, node RSS max %.1f MiB\n' \
  "$(field "$long" committed_tps)" "$(field "$long" latency_ms_p50)" \
  "$(field "$long" latency_ms_p99)" "$(field "$long" rss_mib_max)"
echo "== restart with $on_chain transactions on chain"
restart long-chain quiet
restart long-chain-again
py "
import json
rows = [json.loads(l) for l in open('$out/long.jsonl')]
loans = [r for r in rows if r.get('mix') == 'loans']
restarts = {r['restart']: r for r in rows if 'restart' in r}
print('== throughput long/new chain: %.2f (%.1f / %.1f tx/s; target >= 0.90)' % (
    loans[-1]['committed_tps'] / loans[0]['committed_tps'], loans[-1]['committed_tps'], loans[0]['committed_tps']))
io = {r['io_share']: r['nodes']['node1'] for r in rows if 'io_share' in r}
if 'new-chain' in io and 'long-chain' in io:
    n, l = io['new-chain'], io['long-chain']
    print('== node1 per height, long/new chain: validate %.1f / %.1f ms, commit %.1f / %.1f ms '
          '(block sync %.1f / %.1f), build %.1f / %.1f ms; io thread busy in these %.0f / %.0f %%' % (
        l['step:validate']['mean_ms'], n['step:validate']['mean_ms'], l['step:commit']['mean_ms'],
        n['step:commit']['mean_ms'], l['sync:block']['mean_ms'], n['sync:block']['mean_ms'],
        l['step:build']['mean_ms'], n['step:build']['mean_ms'], 100 * l['io_busy_share'],
        100 * n['io_busy_share']))
    if 'io_thread_cpu_s' in n and 'io_thread_cpu_s' in l:
        print('== node1 CPU per committed transaction, long/new chain: io thread %.3f / %.3f ms, '
              'process %.3f / %.3f ms' % (
            1000 * l['io_thread_cpu_s'] / loans[-1]['committed'], 1000 * n['io_thread_cpu_s'] / loans[0]['committed'],
            1000 * l['process_cpu_s'] / loans[-1]['committed'], 1000 * n['process_cpu_s'] / loans[0]['committed']))
for label in ('', '-again'):
    l, n = restarts['long-chain' + label], restarts['new-chain' + label]
    print('== restart%s long/new chain: RPC answers after %d / %d ms, listening after %d / %d ms, '
          'back at height after %d / %d ms (write-ahead log %.1f / %.1f MiB%s)' % (
        ' again' if label else '', l['rpc_ms'], n['rpc_ms'], l['listening_ms'], n['listening_ms'],
        l['at_height_ms'], n['at_height_ms'], l['log_bytes'] / 2**20, n['log_bytes'] / 2**20,
        '' if label else '; started %d / %d s after the load, the others quiet' % (
            l['others_quiet_after_s'], n['others_quiet_after_s'])))
"
