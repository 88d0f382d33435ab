#!/usr/bin/env bash
# The peer figure of issue 15: a 5-member etcd cluster on loopback (Debian's etcd-server), loaded
# with `etcdctl check perf --load=l` (about 60 s), on this machine. Prints the durable write
# rate it sustained; with --json, one JSON line {"etcd_writes_per_s", "etcd_check", ...}.
#
#   scripts/bench-etcd.sh [--json] [--keep]      (--keep leaves the data directories)
#
# Everything listens on 127.0.0.1 (ports 23790-23809) and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
json=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --json) json=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: scripts/bench-etcd.sh [--json] [--keep]" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh >&2
members=5
dir=$(mktemp -d /tmp/colend-etcd.XXXXXX)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$keep" -eq 0 ]; then rm -rf "$dir"; else echo "etcd data kept in $dir" >&2; fi
}
trap stop EXIT
cluster=""
endpoints=""
for i in $(seq 1 $members); do
  cluster+="${cluster:+,}e$i=http://127.0.0.1:$((23800 + i))"
  endpoints+="${endpoints:+,}http://127.0.0.1:$((23790 + i))"
done
for i in $(seq 1 $members); do
  etcd --name "e$i" --data-dir "$dir/e$i" \
    --listen-client-urls "http://127.0.0.1:$((23790 + i))" \
    --advertise-client-urls "http://127.0.0.1:$((23790 + i))" \
    --listen-peer-urls "http://127.0.0.1:$((23800 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((23800 + i))" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token colend-bench >"$dir/e$i.log" 2>&1 &
  pids+=($!)
done
export ETCDCTL_API=3
for _ in $(seq 1 100); do
  etcdctl --endpoints="$endpoints" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
etcdctl --endpoints="$endpoints" endpoint health >&2
echo "etcdctl check perf --load=l on $members members (about 60 s)..." >&2
# check perf exits non-zero when a criterion FAILs; its figures are what we want either way.
out=$(etcdctl --endpoints="$endpoints" check perf --load=l 2>&1 || true)
# (the progress bar is one line of carriage returns; the verdict lines follow it)
out=$(echo "$out" | tr '\r' '\n' | grep -v ' / [0-9]* ')
echo "$out" >&2
# "PASS: Throughput is 2080 writes/s" or "FAIL: Throughput too low: 2080 writes/s"
writes=$(echo "$out" | grep -o '[0-9.]* writes/s' | head -1 | cut -d' ' -f1)
slowest=$(echo "$out" | grep 'Slowest request took' | grep -o '[0-9.]*s$' | head -1 | tr -d s)
verdict=$(echo "$out" | grep -q '^FAIL' && echo FAIL || echo PASS)
if [ -z "$writes" ]; then
  echo "bench-etcd: no throughput figure in etcdctl's output" >&2
  exit 1
fi
if [ "$json" -eq 1 ]; then
  echo "{\"etcd_members\": $members, \"etcd_writes_per_s\": $writes, \"etcd_slowest_s\": ${slowest:-null}, \"etcd_check\": \"$verdict\", \"etcd_version\": \"$(etcd --version | sed -n 's/etcd Version: //p')\"}"
else
  echo "etcd ($members members, loopback, etcdctl check perf --load=l): $writes writes/s ($verdict; slowest request ${slowest:-?} s)"
fi
