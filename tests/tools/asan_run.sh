#!/usr/bin/env bash
# Sanitizer run (docs/threat-model.md): every native extension (_kernels, _fp16, _trees) and every
# generated kernel module built with AddressSanitizer + UndefinedBehaviorSanitizer, then the
# native-heavy tests run against those builds. The instrumented package is built into its own
# folder (default build/asan/, ASAN_BUILD_DIR to move it) and put first on PYTHONPATH, so the
# normal in-place build and the user's kernel cache are never touched.
#
#   tests/tools/asan_run.sh                 # the default test set below
#   tests/tools/asan_run.sh tests/csrc -x   # any pytest arguments instead
#
# Exit status: pytest's, or 3 when pytest passed but a sanitizer wrote a report. Reports land
# in <build dir>/reports/ (one file per process that hit one) and are printed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
OUT=${ASAN_BUILD_DIR:-$ROOT/build/asan}
CC=${CC:-gcc}
# -O1 -g: reports name source lines; frame pointers keep the stack traces whole.
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -g"
DEFAULT_TESTS=(tests/csrc tests/codegen/test_kernel_fuzz.py tests/codegen/test_kernel_path.py
               tests/codegen/test_generated.py tests/acceptance tests/security tests/classical)

LIBASAN=$($CC -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ] || [ "$LIBASAN" = libasan.so ]; then
    echo "asan_run: $CC has no AddressSanitizer runtime (libasan.so); install it (e.g. libgcc-12-dev)" >&2
    exit 2
fi

cd "$ROOT"
mkdir -p "$OUT"
echo "asan_run: building the instrumented package in $OUT/lib"
# setup.py build lays out the whole package (Python files included) with the instrumented
# extensions; its own flags (-O3) come after CFLAGS, the sanitizers stay on.
CC=$CC CFLAGS="$SAN" LDFLAGS="$SAN" "$PY" setup.py -q build --build-base "$OUT/build" --build-lib "$OUT/lib" \
    >"$OUT.build.log" 2>&1 || { tail -20 "$OUT.build.log" >&2; exit 2; }

# The tests run from a copy beside the build: run from the checkout, pytest would put the
# checkout first on sys.path and import its uninstrumented package.
REPORTS="$OUT/reports"
rm -rf "$REPORTS" "$OUT/cache" "$OUT/tests"
mkdir -p "$REPORTS"
tar -C "$ROOT" --exclude=.fixtures --exclude=__pycache__ --exclude=.hypothesis -cf - tests | tar -C "$OUT" -xf -
cd "$OUT"
export PYTHONPATH="$OUT/lib${PYTHONPATH:+:$PYTHONPATH}"
export LD_PRELOAD="$LIBASAN"  # the ASan runtime must be loaded before Python's own allocations
# CPython's allocator and interned objects live for the whole process: leaks are not checked.
export ASAN_OPTIONS="detect_leaks=0:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$REPORTS/ubsan"
export MLIR_COREML_EXTRA_CFLAGS="$SAN"   # generated kernel modules (runtime/build.py)
export MLIR_COREML_CACHE="$OUT/cache"

"$PY" - "$OUT/lib" <<'EOF'
import sys
from mlir_coreml.csrc import _fp16, _kernels, _trees
for module in (_fp16, _kernels, _trees):
    if not module.__file__.startswith(sys.argv[1]):
        sys.exit(f"asan_run: {module.__name__} comes from {module.__file__}, not the instrumented build")
EOF

status=0
if [ $# -gt 0 ]; then
    "$PY" -m pytest -q -p no:cacheprovider --rootdir "$OUT" "$@" || status=$?
else
    "$PY" -m pytest -q -p no:cacheprovider --rootdir "$OUT" "${DEFAULT_TESTS[@]}" || status=$?
fi

count=$(find "$REPORTS" -type f | wc -l)
echo "asan_run: $count sanitizer report(s) in $REPORTS"
if [ "$count" -gt 0 ]; then
    find "$REPORTS" -type f -exec cat {} +
    [ "$status" -ne 0 ] || status=3
fi
exit "$status"
