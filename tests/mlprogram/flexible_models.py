"""Zoo models converted again as ML Programs with flexible inputs (range and enumerated shapes)
and as multi-function models (coremltools 9 multifunction utilities), with PyTorch's outputs at
three input shapes each. Built into a temporary folder by the tests (a few seconds per model)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

# zoo name -> (flexible axis -> (lower, upper)), the three shapes to predict (the first is the default)
FLEXIBLE = {
    "mobilenet_v2_small": ({2: (32, 64), 3: (32, 64)}, [(1, 3, 64, 64), (1, 3, 32, 32), (1, 3, 48, 40)]),
    "layer_conv": ({2: (4, 32), 3: (4, 32)}, [(1, 8, 16, 16), (1, 8, 4, 9), (1, 8, 32, 20)]),
    "mlp": ({0: (1, 8)}, [(1, 256), (3, 256), (8, 256)]),
    "resnet18_small": ({2: (32, 96), 3: (32, 96)}, [(1, 3, 64, 64), (1, 3, 32, 32), (1, 3, 96, 48)]),
    "squeezenet1_1_small": ({2: (32, 96), 3: (32, 96)}, [(1, 3, 64, 64), (1, 3, 48, 48), (1, 3, 96, 64)]),
    "unet_small": ({2: (32, 96), 3: (32, 96)}, [(1, 3, 64, 64), (1, 3, 32, 32), (1, 3, 48, 80)]),
    "transformer_small": ({1: (4, 32)}, [(1, 16, 64), (1, 8, 64), (1, 32, 64)]),
    "lstm": ({0: (4, 32)}, [(16, 1, 32), (4, 1, 32), (24, 1, 32)]),
    "gru": ({0: (4, 24)}, [(12, 1, 16), (5, 1, 16), (20, 1, 16)]),
}
# Not here: gru_loop (the trace unrolls its 8 steps: the length is not flexible) and
# gru_loop_scripted (scripted, which `convert` does not trace; its while_loop runs in test_zoo).


def _torch_module(name):
    from tests.models import zoo

    return zoo, zoo.instantiate(name)


def expected(name: str, shape: tuple, seed: int = 0) -> tuple[dict, dict]:
    """Inputs at `shape` and PyTorch's outputs, keyed as the zoo model names them."""
    import torch

    zoo, module = _torch_module(name)
    entry = zoo.REGISTRY[name]
    x = np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        out = zoo._flatten_outputs(module(torch.from_numpy(x)))
    return {entry.inputs[0].name: x}, dict(zip(entry.outputs, out))


def convert(name: str, kind: str, path: Path, target: str = "iOS17"):
    """Convert zoo model `name` with `kind` ("range", "enumerated" or "fixed") input shapes."""
    import torch

    zoo, module = _torch_module(name)
    ct = zoo._import_ct()
    entry = zoo.REGISTRY[name]
    axes, shapes = FLEXIBLE[name]
    example = torch.from_numpy(np.zeros(shapes[0], np.float32))
    with zoo._quiet():
        traced = torch.jit.trace(module, example)
        if kind == "range":
            dims = tuple(ct.RangeDim(lo, hi, default=shapes[0][i]) if i in axes else d
                         for i, (d, (lo, hi)) in enumerate(zip(shapes[0], [axes.get(i, (0, 0)) for i in
                                                                           range(len(shapes[0]))])))
            shape = ct.Shape(dims)
        elif kind == "enumerated":
            shape = ct.EnumeratedShapes(shapes=[list(s) for s in shapes], default=list(shapes[0]))
        else:
            shape = shapes[0]
        model = ct.convert(traced, inputs=[ct.TensorType(name=entry.inputs[0].name, shape=shape)],
                           outputs=[ct.TensorType(name=n) for n in entry.outputs], convert_to="mlprogram",
                           minimum_deployment_target=getattr(ct.target, target),
                           compute_precision=ct.precision.FLOAT32)
    model.save(str(path))
    return path


def cached_convert(name: str, kind: str, target: str, cache_root) -> Path:
    """`convert`, built once into `<cache_root>/flexible-<hash>/` (the zoo's cache, MLIR_COREML_FIXTURES):
    keyed by this file, the zoo, the arguments and the tool versions; published by an atomic rename."""
    import fcntl
    import hashlib
    import json
    import os
    import shutil

    from tests.models import zoo

    digest = hashlib.sha256(Path(__file__).read_bytes() + Path(zoo.__file__).read_bytes())
    digest.update(f"\0{name}\0{kind}\0{target}\0{json.dumps(zoo._versions(), sort_keys=True)}".encode())
    root = Path(cache_root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"flexible-{digest.hexdigest()[:20]}"
    if (final / "model.mlpackage").is_dir():
        return final / "model.mlpackage"
    with open(root / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / "model.mlpackage").is_dir():
            tmp = root / f"{final.name}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            try:
                convert(name, kind, tmp / "model.mlpackage", target)
                shutil.rmtree(final, ignore_errors=True)
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return final / "model.mlpackage"


def multifunction(paths: dict[str, Path], out: Path, default: str):
    """One `.mlpackage` whose functions are the `main` functions of `paths` (name -> package)."""
    from tests.models import zoo

    ct = zoo._import_ct()
    desc = ct.utils.MultiFunctionDescriptor()
    for function_name, path in paths.items():
        desc.add_function(str(path), src_function_name="main", target_function_name=function_name)
    desc.default_function_name = default
    with zoo._quiet():
        ct.utils.save_multifunction(desc, str(out))
    return out
