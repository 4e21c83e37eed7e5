"""Named pipelines: what `compile_model` and `lower` run, by name, so that
`opt -p coreml-cpu` prints exactly the module the CPU runtime executes.

A name may stand anywhere a pass may in a pipeline text (`opt -p coreml-cpu`); it expands to
its passes. `--list-pipelines` shows them, `lower/compile --print-pipeline` the one in use.
"""
from __future__ import annotations

from mlir_coreml.frontend.espresso.format import COREMLC_ERAS, era_at_least

CPU_PIPELINE = "coreml-cpu"

# The CPU runtime's pipeline: lower, remove converter noise, recognise decomposed layers the
# kernels run whole, fold what the kernels absorb (weights, bias, padding, epilogue), then plan
# memory last: the runtime binds to its offsets. Each conv's algorithm is chosen on the fused ops
# (their epilogue and padding are final). fuse-depthwise-pointwise is not in it yet: on MobileNetV2
# its banded kernel measured 1.04x (fp16) to 1.2x (fp32) slower than the two kernels it replaces.
# blocked-layout runs chains of convolutions in NCHW16c (after the algorithms are chosen, before
# memory is planned): 0.82-1.00x the CPU time of the NCHW schedule on the zoo at one thread
# (benchmarks/blocked_layout.py).
_CPU = ("to-core,canonicalize,fuse-layernorm,fuse-gelu,fuse-silu,fuse-softmax,fuse-attention,fuse-conv-batchnorm,fuse-conv-scale,"
        "fuse-conv-bias,fuse-linear-bias,fuse-pad-conv,fuse-epilogue,canonicalize,cse,select-conv-algorithm,"
        "blocked-layout,concat-in-place,plan-memory")

def coremlc_pipeline(era: str) -> str:
    """The espresso backend's pipeline reproducing coremlc of `era` (codegen/lower.py)."""
    passes = ["fuse-conv-batchnorm"]
    if era_at_least(era, "2020"):
        passes.append("fold-padding")
    passes += [f"nn-to-espresso{{coremlc-version={era}}}", "fuse-activation"]
    return ",".join(passes)


PIPELINES: dict[str, tuple[str, str]] = {
    CPU_PIPELINE: (_CPU, "the CPU runtime: lower to core, canonicalize, fuse, plan memory"),
    **{f"coremlc-{era}": (coremlc_pipeline(era), f"`lower` to an espresso bundle as coremlc of {era}")
       for era in COREMLC_ERAS},
}


def named_pipeline(name: str) -> str | None:
    entry = PIPELINES.get(name)
    return None if entry is None else entry[0]


def list_pipelines() -> str:
    width = max(len(n) for n in PIPELINES)
    return "".join(f"{name:<{width}}  {text}\n{'':<{width}}    {description}\n"
                   for name, (text, description) in PIPELINES.items())
