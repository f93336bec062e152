#!/usr/bin/env bash
# The test suite under ThreadSanitizer and AddressSanitizer (release builds, each in its own
# scratch folder so the normal .build is untouched).
#
#   Scripts/sanitize.sh                    # both, whole suite
#   Scripts/sanitize.sh thread             # TSan only
#   Scripts/sanitize.sh address 'SGD|ALS'  # ASan on the tests matching a filter
#
# The mf binary the command-line tests start is built with the same sanitizer; every process
# writes its reports to .build-SANITIZER/reports/, and the script counts them at the end
# (a report in a child process would otherwise only reach that test's captured stderr).
# Exit status: non-zero if a test failed or any report was written.
set -uo pipefail
cd "$(dirname "$0")/.."

which=${1:-all}
filter=${2:-}
case "$which" in
  all) sanitizers=(thread address) ;;
  thread | address) sanitizers=("$which") ;;
  *) echo "usage: $0 [all|thread|address] [filter]" >&2; exit 2 ;;
esac

# The revision under test, taken before building; each sanitizer's run is summarised in
# Scripts/results/sanitize-SANITIZER.md (rewritten by each run), which the README quotes.
revision="$(git rev-parse --short HEAD)$(git diff --quiet -- Sources Tests || echo '-dirty')"
mkdir -p Scripts/results
status=0
for s in "${sanitizers[@]}"; do
  scratch=".build-$s"
  reports="$PWD/$scratch/reports"
  rm -rf "$reports"
  mkdir -p "$reports"
  # TSan: Hogwild BPR's races are intended; they alone are suppressed (see Scripts/tsan.supp).
  export TSAN_OPTIONS="suppressions=$PWD/Scripts/tsan.supp halt_on_error=0 log_path=$reports/tsan"
  export ASAN_OPTIONS="detect_leaks=1 halt_on_error=0 log_path=$reports/asan"
  # LeakSanitizer: only XCTest's own runner objects are suppressed (see Scripts/lsan.supp).
  export LSAN_OPTIONS="suppressions=$PWD/Scripts/lsan.supp"
  # OpenMPI's components stay loaded to the end, so that leaks inside them are named (and
  # suppressed as OpenMPI's, see Scripts/lsan.supp) rather than reported from an unknown module.
  export OMPI_MCA_mca_base_component_disable_dlclose=1
  # MF_NO_PREFETCH: the prefetch intrinsic cannot be instrumented (see Sources/LinearAlgebra/Prefetch.swift).
  args=(-c release --sanitize="$s" --scratch-path "$scratch" -Xswiftc -DMF_NO_PREFETCH)
  [ -n "$filter" ] && args+=(--filter "$filter")
  echo "== swift test ${args[*]}"
  start=$(date +%s)
  swift test "${args[@]}" 2>&1 | tee "$scratch/test.log" | grep -E "^(✔|✘) (Test run|Suite)|error:|WARNING: ThreadSanitizer|ERROR: AddressSanitizer"
  test_status=${PIPESTATUS[0]}
  count=$(cat "$reports"/* 2>/dev/null | grep -cE "^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (Address|Leak)Sanitizer)" || true)
  seconds=$(( $(date +%s) - start ))
  echo "== $s: tests exit $test_status, $count sanitizer report(s) in $reports, $seconds s"
  {
    echo "# The test suite under the $s sanitizer"
    echo
    echo "Written by \`Scripts/sanitize.sh $which${filter:+ '$filter'}\` on $(date -u '+%Y-%m-%d %H:%M') UTC, mf $revision,"
    echo "$(nproc) cores, load average (1 min) $(cut -d' ' -f1 /proc/loadavg) at the end."
    echo
    echo "| sanitizer | filter | tests exit | test run | sanitizer reports | seconds (build and run) |"
    echo "|---|---|---|---|---|---|"
    echo "| $s | ${filter:-(whole suite)} | $test_status | $(grep -E '^(✔|✘) Test run with' "$scratch/test.log" | tail -1 | sed 's/|/\\|/g') | $count | $seconds |"
    if [ "$count" -gt 0 ]; then
      echo
      echo "Reports by kind:"
      echo
      grep -hE "^(WARNING: ThreadSanitizer|SUMMARY)" "$reports"/* | sort | uniq -c | sort -rn | head -20 | sed 's/^/    /'
    fi
  } > "Scripts/results/sanitize-$s.md"
  if [ "$count" -gt 0 ]; then
    grep -hE "^(WARNING: ThreadSanitizer|SUMMARY)" "$reports"/* | sort | uniq -c | sort -rn | head -20
    status=1
  fi
  [ "$test_status" -ne 0 ] && status=1
done
exit $status
