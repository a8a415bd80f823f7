#!/usr/bin/env bash
# Trains the shipped 2-simplicial language model into python/trikv/model/shipped (docs/model.md),
# or with --verify checks that the shipped checkpoint reproduces its recorded held-out loss.
# Builds the Python package first; the corpus package is installed by the script itself.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j2 --target trikv_python >/dev/null
PYTHONPATH=build/python exec /usr/bin/python3 -m trikv.model.train --out python/trikv/model/shipped "$@"
