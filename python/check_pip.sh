#!/usr/bin/env bash
# `pip install --no-build-isolation` of the checkout into a scratch venv (made with
# --system-site-packages, so NumPy and PyTorch come from Debian), reusing the CMake build
# BUILD_DIR: from another directory, `import trikv` is the venv's copy and attends, and the
# venv's `trikv` CLI runs in an empty environment and draws figures with the style installed
# beside it; `pip uninstall` then removes the package, the library, the CLI and the style.
# Offline (--no-index): nothing is downloaded.
# Usage: check_pip.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
source_dir=$1 build=$2 work=$3
rm -rf "$work"
mkdir -p "$work/elsewhere"
trap 'rm -rf "$work"' EXIT
venv=$work/venv
/usr/bin/python3 -m venv --system-site-packages "$venv"
TRIKV_CMAKE_BUILD_DIR=$build PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$venv/bin/pip" install --no-build-isolation --no-deps -q "$source_dir" >"$work/pip.log" 2>&1 ||
  { cat "$work/pip.log"; exit 1; }
cd "$work/elsewhere"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" - "$venv" <<'PY'
import sys
import numpy as np
import trikv
assert trikv.__file__.startswith(sys.argv[1]), trikv.__file__  # the venv's copy
x = [np.ones((3, 4), np.float32) for _ in range(5)]
assert np.allclose(trikv.attend(*x, cache="factor"), 1.0)
print("pip-installed trikv imports and attends:", trikv.__file__)
PY
env -i "$venv/bin/trikv" caches | grep -q '^  *factor\|factor' || { echo "the venv's trikv CLI does not list factor"; exit 1; }
echo "the venv's trikv CLI runs with an empty environment"
# Figures from the venv's CLI use the gnuplot style installed beside its libtrikv.
printf 'name = "pip"\ncaches = ["factor"]\nn = [8]\nd = [4]\nwarmup = 0\nrepetitions = 1\nmeasure_peaks = false\nfigures = ["pareto"]\nout = "%s"\n' \
  "$work/study" >"$work/study.toml"
env -i PATH=/usr/bin:/bin "$venv/bin/trikv" study "$work/study.toml" >"$work/study.log" 2>&1 || { cat "$work/study.log"; exit 1; }
grep -q "copies of $venv/share/trikv/gnuplot;" "$work/study/figures/pareto.gp" ||
  { echo "the venv's figures do not use $venv/share/trikv/gnuplot:"; grep "copies of" "$work/study/figures/pareto.gp"; exit 1; }
echo "its figures use the gnuplot style installed in the venv"
"$venv/bin/pip" uninstall -y -q trikv
for left in "$venv/bin/trikv" "$venv/lib/libtrikv.so" "$venv/share/trikv/gnuplot/trikv.gp"; do
  [ ! -e "$left" ] || { echo "pip uninstall left $left"; exit 1; }
done
if "$venv/bin/python" -c "import trikv" 2>/dev/null; then echo "trikv still imports after pip uninstall"; exit 1; fi
echo "pip uninstall removed the package, the library and the CLI"
