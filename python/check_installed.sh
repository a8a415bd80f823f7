#!/usr/bin/env bash
# Installs the build into a scratch prefix (cmake --install) and imports the installed package
# with Debian's python3, outside the build tree: the layout and the relative RPATH that make
# `import trikv` work after an install. Usage: check_installed.sh BUILD_DIR PREFIX PACKAGE_DIR
set -euo pipefail
build=$1 prefix=$2 package_dir=$3
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
cd "$(mktemp -d)"
PYTHONPATH="$prefix/$package_dir" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$prefix" <<'PY'
import sys
import numpy as np
import trikv
assert trikv.__file__.startswith(sys.argv[1]), trikv.__file__  # the installed copy, not the build tree's
cache = trikv.Cache("factor", 2, 4)
token = np.ones((2, 4), np.float32)
cache.append(token, token, token, token)
out = cache.attend(token)
assert out.shape == (2, 4) and np.allclose(out, 1.0), out  # one pair: the output is v1 ∘ v2
print("installed trikv imports and attends:", trikv.__file__)
PY
