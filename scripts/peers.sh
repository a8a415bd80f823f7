#!/usr/bin/env bash
# The peer benchmark: trikv beside PyTorch and NumPy on the same inputs and cores
# (studies/peers/compare.py), then trikv's scaling with n (studies/peers/scale.py), then
# windowed grouped decode beside PyTorch (studies/peers/window_gqa.py), into results/peers/. Installs Debian's python3-torch and python3-matplotlib if missing, builds
# Release first. Extra arguments go to compare.py (e.g. --n 512 1024 --d 64).
set -euo pipefail
cd "$(dirname "$0")/.."
TRIKV_EXTRA_PACKAGES="python3-torch python3-matplotlib" ./scripts/setup.sh
./scripts/build.sh
/usr/bin/python3 studies/peers/compare.py --trikv build/bin/trikv --out results/peers "$@"
/usr/bin/python3 studies/peers/scale.py --trikv build/bin/trikv --out results/peers
/usr/bin/python3 studies/peers/window_gqa.py --micro build/bin/trikv_decode_micro --out results/peers
