"""Build the full-size zoo models (fixed seeds) as files for timing the main job by hand.

    python -m benchmarks.build_models [--models mobilenet_v2,resnet18] [--form nn_fp32] [-o /tmp/lower_models]

Writes `<out>/<name>.mlmodel` (or `.mlpackage`), copied from the zoo's content-hash cache
(MLIR_COREML_FIXTURES, else tests/.fixtures), so repeated calls cost no rebuild. Then time the
main job, interpreter start included:

    for i in 1 2 3; do rm -rf /tmp/out.mlmodelc; /usr/bin/time -f %e \
        python -m mlir_coreml lower /tmp/lower_models/resnet18.mlmodel -o /tmp/out.mlmodelc; done
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path


def main(argv=None) -> int:
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v2,resnet18")
    ap.add_argument("--form", default="nn_fp32")
    ap.add_argument("-o", "--out", default="/tmp/lower_models")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.models.split(","):
        built = zoo.cached_build(name, args.form, os.environ.get("MLIR_COREML_FIXTURES") or None)
        src = next(p for p in built.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
        dst = out / f"{name}{src.suffix}"
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)
        print(dst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
