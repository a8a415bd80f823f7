#!/usr/bin/env bash
# Set-up, then configure and build Release into build/ (extra arguments go to cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
