#!/usr/bin/env bash
# Installs lamina into a virtual environment and runs every test: pytest, then the C++
# kernel tests with ctest, then the same C++ tests under AddressSanitizer+UBSan.
#   bash scripts/test_all.sh            # everything
#   LAMINA_VENV=/path/to/venv ...       # use (or create) another virtual environment
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${LAMINA_VENV:-.venv}
python=${PYTHON:-python3}
jobs=${LAMINA_JOBS:-2}

step() { printf '\n== %s\n' "$*"; }

step "install lamina with its test and examples extras into $venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[test,examples]"

step "pytest"
"$venv/bin/python" -m pytest

step "ctest (C++ kernel tests)"
cmake -S . -B build/cpp-tests -G Ninja -DLAMINA_BUILD_PYTHON=OFF -DLAMINA_BUILD_TESTS=ON >/dev/null
cmake --build build/cpp-tests -j "$jobs"
ctest --test-dir build/cpp-tests --output-on-failure

step "ctest under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/cpp-sanitize -G Ninja -DLAMINA_BUILD_PYTHON=OFF -DLAMINA_BUILD_TESTS=ON \
  -DLAMINA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cpp-sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/cpp-sanitize --output-on-failure

step "ctest on the portable build (scalar kernels only, as on ARM)"
cmake -S . -B build/cpp-portable -G Ninja -DLAMINA_BUILD_PYTHON=OFF -DLAMINA_BUILD_TESTS=ON \
  -DLAMINA_SIMD=OFF >/dev/null
cmake --build build/cpp-portable -j "$jobs"
ctest --test-dir build/cpp-portable --output-on-failure
