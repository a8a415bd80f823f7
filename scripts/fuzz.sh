#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/ and runs each for
# SECONDS (default 60) from its seed corpus in tests/fuzz/corpus/. A crash fails the script;
# the crashing input is left in build-fuzz/artifacts/ (turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
TRIKV_EXTRA_PACKAGES="clang libclang-rt-14-dev" ./scripts/setup.sh
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTRIKV_FUZZ=ON -DTRIKV_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_npy fuzz_cache_spec fuzz_study_toml fuzz_cli_args fuzz_results_csv
mkdir -p build-fuzz/artifacts
for target in npy cache_spec study_toml cli_args results_csv; do
  seeds=tests/fuzz/corpus/${target%%_*}
  [ "$target" = cache_spec ] && seeds=tests/fuzz/corpus/spec
  [ "$target" = study_toml ] && seeds=tests/fuzz/corpus/toml
  [ "$target" = cli_args ] && seeds=tests/fuzz/corpus/args
  [ "$target" = results_csv ] && seeds=tests/fuzz/corpus/csv
  work=build-fuzz/corpus-$target
  mkdir -p "$work"
  echo "fuzz: $target for ${seconds}s"
  build-fuzz/bin/fuzz_$target -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=8192 \
    -artifact_prefix=build-fuzz/artifacts/$target- -print_final_stats=1 "$work" "$seeds" 2>build-fuzz/fuzz_$target.log \
    || { tail -40 build-fuzz/fuzz_$target.log; echo "fuzz: $target found a crash"; exit 1; }
  grep -E "stat::number_of_executed_units|Done" build-fuzz/fuzz_$target.log | tail -2
done
