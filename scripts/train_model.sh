#!/usr/bin/env bash
# Trains a zoo model into its checkpoint directory in the source tree (docs/model.md), or with
# --verify checks that the checkpoint there reproduces its recorded held-out metrics:
#     ./scripts/train_model.sh NAME [--verify] [--steps N] [--threads T]
# NAME is one of `python3 -m trikv.model.zoo`. Builds the Python package first; the corpus
# package is installed by the training itself.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 || $1 == -* ]]; then
  echo "usage: $0 NAME [--verify] [--steps N] [--threads T]  (NAME: python3 -m trikv.model.zoo)" >&2
  exit 2
fi
model=$1
shift
cmake --build build -j2 --target trikv_python >/dev/null
export PYTHONPATH=build/python
# The zoo's directory of NAME, relative to the package, is the same under python/.
folder=$(/usr/bin/python3 -c "import os, sys; from trikv.model.zoo import lookup
try: print(os.path.relpath(lookup(sys.argv[1]).directory, 'build/python'))
except ValueError as error: sys.exit(str(error))" "$model") || exit 2
exec /usr/bin/python3 -m trikv.model.train --model "$model" --out "python/$folder" "$@"
