"""Start-up: cold and warm `compile_model` times of the benchmark models, each in a fresh process.

    python -m benchmarks.startup [--models resnet18,mobilenet_v2,transformer] [--form nn_fp16]
                                 [--repeats 5] [--baseline /path/to/other/python]

Per model, three states of the caches (a private MLIR_COREML_CACHE per model):
  cold      both caches empty: frontend, passes, C build of the generated module;
  no-cache  the kernel build cached, the compile cache off (MLIR_COREML_COMPILE_CACHE=0):
            what every compile cost before the compile cache;
  warm      both caches filled: the second compile of the same file.
Each figure is `compile_model` in a new interpreter that has imported numpy (a program that
predicts has), median of --repeats (cold: once); the whole process's wall time is beside it.
`--baseline PY` runs the same children with another checkout's interpreter, interleaved with
ours, for before/after ratios on this noisy shared machine. Children write bytecode caches (as
an installed package does) even when PYTHONDONTWRITEBYTECODE is set here.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
import numpy
start = time.perf_counter()
import mlir_coreml
model = mlir_coreml.compile_model(sys.argv[1])
took = time.perf_counter() - start
timing = getattr(model, "compile_timing", None)
top = [] if timing is None else [(name, round(s, 4)) for depth, name, s in timing.rows if depth == 0]
print(json.dumps({"compile": took, "phases": top}))
"""
MODES = ("cold", "no-cache", "warm")


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def child(python: str, model: str, cache: str, mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "MLIR_COREML_TIMING")}
    env.update(MLIR_COREML_CACHE=cache, MLIR_COREML_COMPILE_CACHE="0" if mode == "no-cache" else "1",
               MLIR_COREML_CODEGEN="1")
    start = time.perf_counter()
    done = subprocess.run([python, "-c", CHILD, model], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{model}: the child failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def measure(pythons: dict[str, str], model: str, repeats: int) -> dict:
    """label -> mode -> list of child results; the labels interleave run by run."""
    caches = {label: tempfile.mkdtemp(prefix="mlir_coreml-startup-") for label in pythons}
    results = {label: {mode: [] for mode in MODES} for label in pythons}
    try:
        for mode in MODES:
            for _ in range(1 if mode == "cold" else repeats):
                for label, python in pythons.items():
                    results[label][mode].append(child(python, model, caches[label], mode))
    finally:
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)
    return results


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,mobilenet_v2,transformer")
    ap.add_argument("--form", default="nn_fp16")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline", help="another checkout's python, measured interleaved as 'before'")
    args = ap.parse_args(argv)
    from benchmarks import build_models
    from mlir_coreml.csrc import _kernels

    folder = tempfile.mkdtemp(prefix="mlir_coreml-startup-models-")
    build_models.main(["--models", args.models, "--form", args.form, "-o", folder])
    pythons = {"ours": sys.executable} | ({"before": args.baseline} if args.baseline else {})
    print(f"CPU: {cpu_name()} (ISA {_kernels.detect_isa()}), form {args.form}, compile_model seconds in a fresh "
          f"process, median of {args.repeats} (cold: 1); wall = whole process")
    print(f"{'model':<14}{'who':<8}" + "".join(f"{m + ' s':>12}{'wall':>8}" for m in MODES) + "  warm phases")
    for name in args.models.split(","):
        path = next(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith(name + "."))
        results = measure(pythons, path, args.repeats)
        for label, runs in results.items():
            cells = "".join(f"{median(runs[m], 'compile'):12.3f}{median(runs[m], 'wall'):8.2f}" for m in MODES)
            phases = ", ".join(f"{n} {s:.3f}" for n, s in runs["warm"][-1]["phases"])
            print(f"{name:<14}{label:<8}{cells}  {phases}", flush=True)
        if "before" in results:
            ratios = [median(results["ours"][m], "compile") / median(results["before"][m], "compile") for m in MODES]
            print(f"{name:<14}{'ratio':<8}" + "".join(f"{r:12.2f}{'':8}" for r in ratios), flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
