#!/usr/bin/env bash
# Set-up, build, then the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir build --no-tests=error --output-on-failure -j"$(nproc)"
