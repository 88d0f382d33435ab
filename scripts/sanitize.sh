#!/usr/bin/env bash
# Builds the unit tests with sanitizers and runs them. Installs what is missing first.
#   scripts/sanitize.sh [address,undefined|thread] [gtest filter]
# address,undefined (default): clang with AddressSanitizer + UndefinedBehaviorSanitizer in
#   build-fuzz/ (the build scripts/fuzz.sh uses: -DCOLEND_FUZZ=ON), the unit tests, then a short
#   run of each libFuzzer target over its seed corpus (ctest -L fuzz, 10 s of fuzzing each).
# thread: gcc with ThreadSanitizer in build-tsan/, the unit tests.
# Exit 0 only if every unit test passes with no sanitizer report (reports abort the test) and,
# with address,undefined, no fuzz target finds anything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
sanitize="${1:-address,undefined}"
filter="${2:-*}"
units=(crypto_test consensus_test contracts_test lending_test node_test node_net_test tools_test cli_wait_test)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
case "$sanitize" in
  address,undefined)
    dir=build-fuzz
    CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCOLEND_FUZZ=ON "${launcher[@]}" -DCOLEND_WERROR="${COLEND_WERROR:-OFF}" \
      -DCOLEND_FUZZ_SMOKE_SECONDS="${COLEND_FUZZ_SMOKE_SECONDS:-10}" >/dev/null
    cmake --build "$dir" -j "$(nproc)" --target "${units[@]}" fuzz ;;
  thread)
    dir=build-tsan
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLEND_TEST_HOOKS=ON \
      -DCOLEND_SANITIZE=thread "${launcher[@]}" >/dev/null
    cmake --build "$dir" -j "$(nproc)" --target "${units[@]}" ;;
  *) echo "sanitize.sh: unknown sanitizer list '$sanitize' (address,undefined | thread)" >&2; exit 2 ;;
esac
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
failed=()
for unit in "${units[@]}"; do
  echo "== $unit under -fsanitize=$sanitize"
  if ! "$dir/bin/$unit" --gtest_filter="$filter" --gtest_brief=1; then failed+=("$unit"); fi
done
if [ "$sanitize" = address,undefined ]; then
  echo "== fuzz targets over their seed corpora (ctest -L fuzz)"
  ctest --test-dir "$dir" -L fuzz --output-on-failure || failed+=("fuzz targets")
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitize.sh: FAILED under -fsanitize=$sanitize: ${failed[*]}" >&2
  exit 1
fi
echo "sanitize.sh: all unit tests passed under -fsanitize=$sanitize"
