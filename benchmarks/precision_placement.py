"""Precision and placement figures for the note: per model, the fp16-weights and
emulate-ane-numerics reports (weight bytes, output drift against fp32 on the model's test
input from the zoo, fp16 overflow) and the partition-devices decisions of both policies.

    python benchmarks/precision_placement.py [--models mobilenet_v2,transformer,lstm] [--form nn_fp32]
        [--out DIR]   # also writes DIR/<model>.partition.json and .txt (cost policy)

Drift is measured by the reference interpreter (fp32 module vs the module after the precision
passes, the same input); estimated milliseconds come from passes/_cost_model.py (uncalibrated).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def placement(path, policy):
    from mlir_coreml.frontend import load_model
    from mlir_coreml.passes.manager import PassManager
    from mlir_coreml.passes.partition_devices import main_function, partition_report
    from mlir_coreml.passes.to_core import lower_to_core

    module = load_model(str(path))
    lower_to_core(module)
    PassManager.from_pipeline(f"canonicalize,cse,partition-devices{{policy={policy}}}").run(module)
    return partition_report(main_function(module), ("cpu", "gpu", "ane"), policy)


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
