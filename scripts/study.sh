#!/usr/bin/env bash
# Set-up, build, then the main job: the default study (studies/default.toml) with its figures,
# into results/default/. Extra arguments go to `trikv study` (e.g. another study file, --out).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
build/bin/trikv study "$@"
