"""Precision and placement figures for the note: per model, the fp16-weights and
emulate-ane-numerics reports (weight bytes, output drift against fp32 on the model's test
input from the zoo, fp16 overflow), the partition-devices decisions of both policies, and the
hybrid run (one runner per segment, gpu/ane segments in fp16) measured against the all-CPU run.

    python benchmarks/precision_placement.py [--models mobilenet_v2,transformer,lstm] [--form nn_fp32]
        [--out DIR]   # also writes DIR/<model>.<policy>.partition.json and .txt

Placement runs on the ops that run (the CPU pipeline's fusions first). Drift is measured by the
reference interpreter (fp32 module vs the module after the precision passes, the same input); the hybrid drift on the kernels (the compiled hybrid model's run vs
the all-CPU fp32 run, threads=1); estimated milliseconds come from passes/_cost_model.py
(uncalibrated). The hybrid run uses both policies: `cost` (what compute_units="all" runs) and
`greedy` (every op on the Neural Engine that it can run: the most fp16 segments).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def fused_pipeline() -> str:
    """The CPU pipeline's lowering and fusions without memory planning: the ops that run, which
    the placement passes then partition (memory is planned per segment after outlining)."""
    from mlir_coreml.passes.pipelines import named_pipeline

    return named_pipeline("coreml-cpu").replace(",concat-in-place,plan-memory", "")


def placement(path, policy):
    from mlir_coreml.frontend import load_model
    from mlir_coreml.passes.manager import PassManager
    from mlir_coreml.passes.partition_devices import main_function, partition_report

    module = load_model(str(path))
    PassManager.from_pipeline(f"{fused_pipeline()},partition-devices{{policy={policy}}}").run(module)
    return partition_report(main_function(module), ("cpu", "gpu", "ane"), policy)


def hybrid(path, inputs, policy, cpu_outputs):
    """The hybrid model placed for compute_units="all" with `policy` (the CPU pipeline's fusions,
    then the placement passes) and its outputs' drift against `cpu_outputs` (max abs, relative L2)."""
    import numpy as np

    from mlir_coreml.runtime.precision import placement_pipeline
    from mlir_coreml.runtime.predict import compile_model

    pipeline = f"{fused_pipeline()},{placement_pipeline('all', policy)}"
    model = compile_model(str(path), pipeline=pipeline, threads=1)
    got = model.predict(inputs)
    drift = {k: (float(np.abs(got[k] - v).max()), float(np.linalg.norm(got[k] - v) / np.linalg.norm(v)))
             for k, v in cpu_outputs.items()}
    return model, drift


def main(argv=None) -> int:
    from mlir_coreml.passes.partition_devices import report_text
    from mlir_coreml.runtime.predict import compile_model
    from tests.models.zoo import ModelZoo

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="mobilenet_v2,transformer,lstm")
    p.add_argument("--form", default="nn_fp32")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    zoo = ModelZoo(os.environ.get("MLIR_COREML_FIXTURES") or os.path.join(ROOT, "tests", ".fixtures"))
    for name in args.models.split(","):
        path, inputs, _ = zoo.get(name, args.form)
        print(f"== {name} ({args.form})")
        for precision in ("fp16", "ane"):
            report = compile_model(str(path), precision=precision, codegen=False).precision_report(inputs)
            drift = ", ".join(f"{d.name}: max|diff| {d.max_abs:.3g} rel {d.relative:.3g}" for d in report.drift)
            print(f"  {precision:5s} weights {report.bytes_before} -> {report.bytes_after} B; {drift}; "
                  f"overflow: {report.overflow or 'none'}")
        greedy, cost = placement(path, "greedy"), placement(path, "cost")
        print(f"  partition: greedy {greedy['estimated_ms']:.4f} ms in {len(greedy['segments'])} segments, "
              f"cost {cost['estimated_ms']:.4f} ms in {len(cost['segments'])} segments")
        print("  " + report_text(cost).replace("\n", "\n  ").rstrip())
        cpu_outputs = compile_model(str(path), threads=1).predict(inputs)
        for policy in ("cost", "greedy"):
            model, drift = hybrid(path, inputs, policy, cpu_outputs)
            shown = ", ".join(f"{k}: max|diff| {a:.3g} rel {r:.3g}" for k, (a, r) in drift.items())
            print(f"  hybrid run ({policy}): segments {' | '.join(model.runner.describe())}; vs all-CPU: {shown}")
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for policy, report in (("greedy", greedy), ("cost", cost)):
                with open(os.path.join(args.out, f"{name}.{policy}.partition.json"), "w") as f:
                    json.dump(report, f, indent=1)
                with open(os.path.join(args.out, f"{name}.{policy}.partition.txt"), "w") as f:
                    f.write(report_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
