#!/usr/bin/env bash
# The peer benchmark: trikv beside PyTorch and NumPy on the same inputs and cores
# (studies/peers/compare.py), then trikv's scaling with n (studies/peers/scale.py), then
# windowed grouped decode beside PyTorch (studies/peers/window_gqa.py), into results/peers/.
# Every script writes rows with results.csv's columns (a peer's row names it in `system`), and
# `trikv figures` draws them with the study's figure system. Installs Debian's python3-torch if
# missing, builds Release first. Extra arguments go to compare.py (e.g. --n 512 1024 --d 64).
set -euo pipefail
cd "$(dirname "$0")/.."
TRIKV_EXTRA_PACKAGES="python3-torch" ./scripts/setup.sh
./scripts/build.sh
export PYTHONPATH="$PWD/build/python${PYTHONPATH:+:$PYTHONPATH}"  # the build's trikv package
/usr/bin/python3 studies/peers/compare.py --trikv build/bin/trikv --out results/peers "$@"
/usr/bin/python3 studies/peers/scale.py --trikv build/bin/trikv --out results/peers
/usr/bin/python3 studies/peers/window_gqa.py --micro build/bin/trikv_decode_micro --out results/peers
