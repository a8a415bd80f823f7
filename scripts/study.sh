#!/usr/bin/env bash
# Set-up, build, then the main job. Extra arguments are passed to `trikv bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
build/bin/trikv bench "$@"
