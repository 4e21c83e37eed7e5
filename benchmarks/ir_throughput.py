"""Print/parse throughput of the textual IR on a generated module of N ops (default 10k).

    python benchmarks/ir_throughput.py [N]
"""
import sys
import time

import numpy as np

from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.core import materialize_constant
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.core import Location, Operation
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.types import tensor
from mlir_coreml.ir.verifier import verify


def generate(n_ops: int):
    t = tensor((1, 64, 56, 56), "f32")
    module = ModuleOp.create()
    fn = FuncOp.create("main", [t], [t], ["input"])
    module.body.append(fn)
    x = fn.body.args[0]
    rng = np.random.default_rng(0)
    for i in range(n_ops // 2):
        w = materialize_constant(rng.standard_normal((64, 64, 1, 1)).astype(np.float16), name=f"w{i}")
        fn.body.append(w)
        conv = Operation([x, w.result], [t], {"strides": [1, 1], "pads": [0, 0, 0, 0], "relu": True},
                         location=Location(name=f"layer_{i}/conv"), name="bench.conv2d", result_names=[f"blob_{i}"])
        fn.body.append(conv)
        x = conv.result
    fn.body.append(build(ReturnOp, [x]))
    return module


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    module = generate(n)
    verify(module)
    start = time.perf_counter()
    text = print_module(module)
    t_print = time.perf_counter() - start
    start = time.perf_counter()
    again = parse_module(text)
    t_parse = time.perf_counter() - start
    start = time.perf_counter()
    verify(again)
    t_verify = time.perf_counter() - start
    assert print_module(again) == text
    ops = sum(1 for _ in module.walk())
    print(f"{ops} ops, {len(text) / 1e6:.2f} MB of text")
    print(f"print : {t_print:.3f} s  ({ops / t_print:,.0f} ops/s)")
    print(f"parse : {t_parse:.3f} s  ({ops / t_parse:,.0f} ops/s)")
    print(f"verify: {t_verify:.3f} s  ({ops / t_verify:,.0f} ops/s)")


if __name__ == "__main__":
    main()
