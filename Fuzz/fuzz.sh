#!/usr/bin/env bash
# Builds the libFuzzer targets (swiftc -sanitize=fuzzer,address) and runs each on its seed
# corpus.
#
#   Fuzz/fuzz.sh                      # build, then run every target for 60 s
#   FUZZ_SECONDS=600 Fuzz/fuzz.sh     # 10 minutes per target
#   Fuzz/fuzz.sh rating-reader model-file   # some targets only
#
# Targets (Fuzz/Targets/): rating-reader (RatingFileReader.parse, every delimiter and option),
# model-file (ModelFile.decode, then serving and re-encoding what it accepts), history
# (`--history` parsing and folding the result in), id-list (`--items` files), npy (the .npy
# writer's output parsed back, and the ids files). Seeds: Fuzz/seeds/TARGET/ (real and
# generated files, see the README, "Hardening"). Work files go to Fuzz/.build/: the growing corpus,
# and crash-*/timeout-*/leak-* inputs, which must become regression tests. Each target's run is
# summarised in Fuzz/results/TARGET.md (runs, coverage, findings, load), which the README quotes.
# Exit status: non-zero if any target found a crash, a hang (> 10 s per input) or a leak.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/Fuzz/.build
mkdir -p "$out/lib"
seconds=${FUZZ_SECONDS:-60}
all=(rating-reader model-file history id-list npy)
targets=("$@")
# The revision the targets are built from, taken before building (the results files name it).
revision="$(git rev-parse --short HEAD)$(git diff --quiet -- Sources Fuzz/Targets || echo '-dirty')"
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

# The library modules, instrumented for coverage and ASan (MF_NO_PREFETCH: see
# Sources/LinearAlgebra/Prefetch.swift), as static libraries.
flags=(-O -g -parse-as-library -sanitize=fuzzer,address -DMF_NO_PREFETCH -package-name mf
  -I "$out/lib" -L "$out/lib")
blas=(-Xcc -fmodule-map-file=Sources/CBLAS/module.modulemap
  -Xcc -fmodule-map-file=Sources/CLAPACKE/module.modulemap
  $(pkg-config --cflags-only-I openblas lapacke))
build_module() {  # name, modules it imports, extra flags…
  local name=$1 deps=$2; shift 2
  local stamp="$out/lib/$name.stamp" stale=""
  [ -f "$stamp" ] || stale=1
  [ -n "$stale" ] || [ -z "$(find "Sources/$name" -newer "$stamp" -name '*.swift' | head -1)" ] || stale=1
  for d in $deps; do [ -n "$stale" ] || [ ! "$out/lib/$d.stamp" -nt "$stamp" ] || stale=1; done
  [ -n "$stale" ] || return 0
  echo "building $name"
  swiftc "${flags[@]}" "$@" -emit-library -static -emit-module -module-name "$name" \
    -emit-module-path "$out/lib/$name.swiftmodule" -o "$out/lib/lib$name.a" $(find "Sources/$name" -name '*.swift' | sort) \
    2> >(grep -v "warning:" >&2) || exit 1
  touch "$stamp"
}
# The C targets (the SGD loops, Box–Muller, the rating reader's numeric-line loop): each compiled
# with clang into a static library, with a module map so that swiftc can import it as SwiftPM does.
build_c_target() {  # name, source file (in Sources/name/), header (in Sources/name/include/)
  local name=$1 source=$2 header=$3
  local stamp="$out/lib/$name.stamp"
  if [ ! -f "$stamp" ] || [ "Sources/$name/$source" -nt "$stamp" ] \
    || [ "Sources/$name/include/$header" -nt "$stamp" ]; then
    echo "building $name"
    clang -O2 -g -fsanitize=address,fuzzer-no-link -I "Sources/$name/include" \
      -c "Sources/$name/$source" -o "$out/lib/$name.o" || exit 1
    rm -f "$out/lib/lib$name.a"
    ar rcs "$out/lib/lib$name.a" "$out/lib/$name.o" || exit 1
    printf 'module %s {\n  header "%s/Sources/%s/include/%s"\n  export *\n}\n' \
      "$name" "$root" "$name" "$header" > "$out/lib/$name.modulemap"
    touch "$stamp"
  fi
  blas+=(-Xcc -fmodule-map-file="$out/lib/$name.modulemap")
}
build_c_target CSGDKernels sgd_kernels.c sgd_kernels.h
build_c_target CRandom gaussian_pairs.c gaussian_pairs.h
build_c_target CRatingParser numeric_lines.c numeric_lines.h

build_module RatingData "CRandom CRatingParser" "${blas[@]}"
build_module LinearAlgebra "" "${blas[@]}"
build_module MatrixFactorization "RatingData LinearAlgebra CSGDKernels" "${blas[@]}"

source_of() {
  case $1 in
    rating-reader) echo RatingReader ;; model-file) echo ModelFile ;; history) echo History ;;
    id-list) echo IDList ;; npy) echo NPY ;; *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  src=Fuzz/Targets/$(source_of "$t").swift
  bin=$out/fuzz-$t
  stale=""
  for lib in "$out"/lib/lib*.a "$src"; do [ "$lib" -nt "$bin" ] && stale=1; done
  if [ ! -x "$bin" ] || [ -n "$stale" ]; then
    echo "building fuzz-$t"
    swiftc "${flags[@]}" "${blas[@]}" "$src" -lMatrixFactorization -lLinearAlgebra -lRatingData -lCSGDKernels -lCRandom -lCRatingParser \
      $(pkg-config --libs openblas lapacke) -lm -o "$bin" 2> >(grep -v "warning:" >&2) || exit 1
  fi
  corpus=$out/corpus/$t
  artifacts=$out/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz-$t: $seconds s, seeds Fuzz/seeds/$t"
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  "$bin" "$corpus" "Fuzz/seeds/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" > "$out/$t.log" 2>&1
  code=$?
  runs=$(grep -oE "Done [0-9]+ runs in [0-9]+ second" "$out/$t.log" | tail -1)
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*" "$out/$t.log" | tail -1)
  found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' \) | wc -l)
  echo "   exit $code; ${runs:-no summary}; ${cov:-no coverage line}; crash/hang/leak/oom inputs: $found"
  # The run's figures, for the README to quote: Fuzz/results/TARGET.md, rewritten by each run of
  # that target.
  mkdir -p "$root/Fuzz/results"
  {
    echo "# fuzz-$t"
    echo
    echo "Written by \`FUZZ_SECONDS=$seconds Fuzz/fuzz.sh $t\` on $(date -u '+%Y-%m-%d %H:%M') UTC, mf $revision,"
    echo "$(nproc) cores, load average (1 min) $load_before before and $(cut -d' ' -f1 /proc/loadavg) after."
    echo
    echo "| target | seconds | exit | runs | coverage (edges / features) | corpus | crash, hang, leak, oom inputs |"
    echo "|---|---|---|---|---|---|---|"
    echo "| $t | $seconds | $code | $(echo "$runs" | grep -oE '^Done [0-9]+' | grep -oE '[0-9]+') | $(echo "$cov" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+') / $(echo "$cov" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+') | $(echo "$cov" | grep -oE 'corp: [^ ]+' | cut -d' ' -f2) | $found |"
  } > "$root/Fuzz/results/$t.md"
  if [ "$code" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    grep -E "ERROR|SUMMARY|Fatal error|Precondition|panic|Test unit written" "$out/$t.log" | head -8
  fi
done
exit $status
