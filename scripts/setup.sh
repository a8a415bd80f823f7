#!/usr/bin/env bash
# Installs the Debian 12 packages trikv needs, only those missing (apt-get, through sudo when
# not root). Safe to run again and again.
set -euo pipefail

packages=(
  build-essential cmake
  libxtensor-dev libxtensor-blas-dev libopenblas-dev libxsimd-dev
  libtbb-dev catch2 libcli11-dev libtomlplusplus-dev
  gnuplot-nox python3-numpy
  poppler-utils  # pdftotext: tests/test_figures.cpp reads the keys of the PDF figures
  libpng-dev  # tests/test_figure_stress.cpp reads the PNG renderings back
  pybind11-dev python3-dev python3-pytest python3-torch python3-pandas
  python3-pip python3-venv python3-setuptools python3-wheel  # pip install . (pyproject.toml, setup.py)
  bible-kjv bible-kjv-text  # the model's corpus (docs/model.md); python/tests/test_model.py reads it
)
# Callers may ask for more (the fuzz build wants clang), space-separated.
read -r -a extra <<< "${TRIKV_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
