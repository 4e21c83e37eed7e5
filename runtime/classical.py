"""Predict for models holding `classical` ops (classical models and mixed pipelines).

Inputs and outputs follow coremltools' `MLModel.predict` for non-tensor features: a dictionary
feature is a dict ({str or int: float}), int64 / double features are Python numbers, string
features str, sequences lists, multi-arrays numpy arrays, images H x W x C uint8 arrays or PIL
images; an optional input may be left out. A classifier returns its label and a
{label: probability} dict. The classical ops run their reference semantics through the
interpreter (tree ensembles call the compiled kernel in csrc/trees.c); each NeuralNetwork stage
is compiled on its own like a NeuralNetwork model (nn-to-core, CPU kernels), and falls back to
its numpy reference when a layer has no lowering.
"""
from __future__ import annotations

import os

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.interpreter import Interpreter
from mlir_coreml.ir.types import STRING, DictType, ListType, TensorType


class ClassicalCompiledModel:
    """The CompiledModel of a classical model or pipeline (same predict / inputs API)."""

    def __init__(self, module, source=None):
        from mlir_coreml.runtime.predict import main_function
        from mlir_coreml.ir.verifier import verify

        verify(module)
        self.module = module
        self.source = source
        self.function = main_function(module)
        self.arguments = list(self.function.arguments)
        features = _attr(self.function, "coreml.inputs") or []
        by_name = {f.get("name"): f.get("type", {}) for f in features if isinstance(f, dict)}
        self.optional = {name for name, t in by_name.items() if t.get("isOptional")}
        self.images = {name: (t["imageType"] or {}).get("colorSpace", "RGB") for name, t in by_name.items()
                       if "imageType" in t}
        returned = self.function.return_op.operands
        described = [f.get("name") for f in _attr(self.function, "coreml.outputs") or []]
        self._outputs = described if len(described) == len(returned) else [v.name for v in returned]
        self.networks = {op: compile_network(op) for op in module.walk() if op.op_name == "classical.neural_network"}

    @property
    def inputs(self) -> dict:
        return {a.name: a.type for a in self.arguments}

    @property
    def output_names(self) -> list[str]:
        return list(self._outputs)

    def __repr__(self):
        ins = ", ".join(f"{k}: {t}" for k, t in self.inputs.items())
        return f"CompiledModel(inputs=({ins}), outputs={self.output_names})"

    def predict(self, data):
        """dict of features -> dict of features; a list of dicts -> a list of dicts."""
        if isinstance(data, (list, tuple)):
            return [self.predict(item) for item in data]
        if not isinstance(data, dict):
            raise MlirCoremlError(f"predict expects a dict of input name -> value, got {type(data).__name__}")
        expected = ", ".join(f"'{k}' ({t})" for k, t in self.inputs.items())
        unknown = [k for k in data if k not in self.inputs]
        if unknown:
            raise MlirCoremlError(f"unknown input '{unknown[0]}'; the model's inputs are {expected}")
        args = []
        for arg in self.arguments:
            if arg.name not in data:
                if arg.name in self.optional:
                    args.append(None)
                    continue
                raise MlirCoremlError(f"missing input '{arg.name}' ({arg.type}); the model's inputs are {expected}")
            args.append(self.check_input(arg.name, data[arg.name], arg.type))
        interp = StageInterpreter(self.module, self.networks)
        results = interp.run_region(interp.function().regions[0], args)
        return dict(zip(self._outputs, results))

    def save(self, path) -> str:
        """Write the module with its data as IR text (`.mlir`); compile_model reads it back."""
        from mlir_coreml.codegen.atomic import write_file
        from mlir_coreml.ir.printer import print_module

        path = os.fspath(path)
        if not path.endswith(".mlir"):
            path += ".mlir"
        write_file(path, print_module(self.module, resources=True).encode("utf-8"))
        return path

    def check_input(self, name: str, value, t):
        if value is None and name in self.optional:
            return None
        if name in self.images:
            from mlir_coreml.runtime.features import image_pixels

            pixels = image_pixels(value, self.images[name])
            if pixels is not None and t.shape and None not in t.shape and pixels.size == int(np.prod(t.shape)):
                value = pixels.reshape(t.shape)
        if isinstance(t, DictType):
            if not isinstance(value, dict):
                raise MlirCoremlError(f"input '{name}' is a dictionary feature ({t}); pass a dict, "
                                      f"got {type(value).__name__}")
            try:
                return {(str(k) if t.key == STRING else int(k)): float(v) for k, v in value.items()}
            except (TypeError, ValueError):
                raise MlirCoremlError(f"input '{name}' must map {t.key} keys to numbers ({t})") from None
        if isinstance(t, ListType):
            if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
                raise MlirCoremlError(f"input '{name}' is a sequence feature ({t}); pass a list")
            return [str(v) if t.element == STRING else int(v) for v in value]
        if not isinstance(t, TensorType):
            return value
        if t.element == STRING:
            if not isinstance(value, str):
                raise MlirCoremlError(f"input '{name}' is a string feature; pass a str, got {type(value).__name__}")
            return value
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise MlirCoremlError(f"input '{name}' must be numeric ({t}), got {array.dtype}")
        if t.shape == ():
            if array.size != 1:
                raise MlirCoremlError(f"input '{name}' is a scalar feature ({t}), got shape {array.shape}")
            return int(array.reshape(-1)[0]) if t.element.name.startswith(("i", "u")) else float(array.reshape(-1)[0])
        if t.is_static and array.size != t.num_elements:
            raise MlirCoremlError(f"input '{name}' has shape {array.shape}, but the model expects {t}")
        array = array.astype(t.element.numpy_dtype)
        return array.reshape(t.shape) if t.is_static else array


def _attr(op, key):
    a = op.attributes.get(key)
    return None if a is None else a.value


class StageInterpreter(Interpreter):
    """The reference interpreter, with compiled runners for NeuralNetwork stages
    (`classical.neural_network` asks for `network_runner(op)`)."""

    def __init__(self, module, networks: dict):
        super().__init__(module)
        self.networks = networks

    def network_runner(self, op):
        return self.networks.get(op)


def compile_network(op):
    """`runner(arrays) -> arrays` for the region of a NeuralNetwork stage, compiled as its own
    module by the NeuralNetwork path; None (the stage then runs on its numpy reference) when a
    layer has no lowering."""
    from mlir_coreml.runtime.predict import compile_model
    from mlir_coreml.ir.dialects.builtin import ModuleOp
    from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
    from mlir_coreml.ir.opdef import build

    block = op.regions[0].blocks[0]
    fn = FuncOp.create("main", [a.type for a in block.args], [], arg_names=[a.name for a in block.args])
    mapping = dict(zip(block.args, fn.arguments))
    for inner in block.ops:
        if inner.op_name == "classical.yield":
            values = [mapping[v] for v in inner.operands]
            fn.body.append(build(ReturnOp, values))
            fn.set_result_types([v.type for v in values])
        else:
            fn.body.append(inner.clone(mapping))
    module = ModuleOp.create()
    module.body.append(fn)
    try:
        compiled = compile_model(module)
    except MlirCoremlError:
        return None
    return compiled.runner.run
