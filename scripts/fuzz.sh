#!/usr/bin/env bash
# Long fuzzing runs (README.md, "Fuzzing and sanitizers").
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--build-jobs B] [--no-build] [target...]
#
# Configures and builds build-fuzz/ (clang, -DCOLEND_FUZZ=ON, ccache), then runs each target
# (default: all) for N seconds (default 600) on a working copy of its seed corpus in
# build-fuzz/corpus-work/<target> (inputs found in earlier runs are kept there), with J parallel
# workers (libFuzzer -fork=J; default 1). Prints per target: executions, exec/s, coverage (cov:
# edges, ft: features) and corpus size, and any finding (crash, leak, timeout or out-of-memory
# input, kept in build-fuzz/findings/<target>/). Logs: build-fuzz/fuzz-logs/<target>.log.
# Exits 1 if any target found something, 2 on bad usage or a failed build.
set -uo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_peer_message fuzz_hello fuzz_tx fuzz_texts fuzz_rpc fuzz_genesis_config fuzz_bundle)
seconds=600
jobs=1
build_jobs=$(nproc)
build=1
targets=()
usage() { sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --build-jobs) build_jobs=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in *" $t "*) ;; *) echo "fuzz.sh: unknown target $t (targets: ${all_targets[*]})" >&2; exit 2 ;; esac
done

B=build-fuzz
if [ "$build" = 1 ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCOLEND_FUZZ=ON "${launcher[@]}" >/dev/null || exit 2
  cmake --build "$B" -j "$build_jobs" --target "${targets[@]}" || exit 2
fi

mkdir -p "$B/corpus-work" "$B/findings" "$B/fuzz-logs"
summary=()
found=0
for t in "${targets[@]}"; do
  work="$B/corpus-work/$t"
  findings="$B/findings/$t"
  log="$B/fuzz-logs/$t.log"
  mkdir -p "$work" "$findings"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  args=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$findings/")
  [ -f "tests/fuzz/dict/$t.dict" ] && args+=(-dict="tests/fuzz/dict/$t.dict")
  [ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
  marker="$B/fuzz-logs/.$t.start"
  touch "$marker"
  echo "== $t: ${seconds}s, $jobs worker(s), corpus $(ls "$work" | wc -l) inputs"
  "$B/bin/$t" "${args[@]}" "$work" >"$log" 2>&1
  rc=$?
  # Final figures: libFuzzer's last status line (cov/ft/corp/exec/s) and -print_final_stats.
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  execs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  [ -z "$execs" ] && execs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#')
  rate=$(grep -oE '^stat::average_exec_per_sec: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  [ -z "$rate" ] && rate=$(echo "$last" | grep -oE 'exec/s:? [0-9]+' | grep -oE '[0-9]+$')
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | awk '{print $2}')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+(/[0-9]+[a-zA-Z]*)?' | awk '{print $2}')
  new=$(find "$findings" -type f -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' \
         -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  status=ok
  if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
    status="FINDING (exit $rc)"
    found=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|FUZZ_CHECK|colend-verify)' "$log" | head -5 | sed 's/^/   /'
    for f in $new; do echo "   reproducer: $f  (rerun: $B/bin/$t $f)"; done
  fi
  line=$(printf '%-20s %-10s execs %-10s exec/s %-7s cov %-6s ft %-7s corpus %s' \
         "$t" "$status" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
  echo "   $line"
  summary+=("$line")
done
echo
echo "Summary (${seconds}s per target; logs in $B/fuzz-logs, findings in $B/findings):"
printf '  %s\n' "${summary[@]}"
exit $found
