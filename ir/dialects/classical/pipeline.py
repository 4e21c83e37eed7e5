"""Pipelines and NeuralNetwork stages: models that hold other models in a region.

    %label, %probs = classical.pipeline %x ({
    ^bb0(%x: tensor<4xf64>):
      %v = classical.scaler %x {...} : (tensor<4xf64>) -> tensor<4xf64>
      %l, %p = classical.glm_classifier %v {...} : ...
      classical.yield %l, %p : tensor<string>, dict<string, f64>
    }) {kind = "pipelineClassifier", coreml.model = {...}} : ...

The block arguments are the pipeline's inputs; each stage reads the pipeline inputs and the
outputs of earlier stages by name, as Core ML wires them. A top-level pipeline needs no op:
its stages are the function body. `classical.neural_network` holds an imported NeuralNetwork
(`nn` ops, blob shapes as frontend/mlmodel.py makes them) and converts at its boundary:
inputs are reshaped to the network's blob shapes, outputs to the stage's declared features,
and a NeuralNetworkClassifier's probability blob becomes the label and probability dict.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.dialects.classical.base import MODEL_ATTR, MODEL_OPS, as_feature, model_op
from mlir_coreml.ir.opdef import (AnyType, IsolatedFromAbove, Terminator, VerifyError, attribute, op_def, operand,
                                  region, result)
from mlir_coreml.ir.types import DictType, TensorType

PIPELINE_KINDS = ("pipeline", "pipelineClassifier", "pipelineRegressor")
NETWORK_KINDS = ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")


@op_def("classical.yield")
class YieldOp(Operation):
    """Terminator of pipeline and network regions: the stage's outputs."""

    values = operand(AnyType, variadic=True)
    traits = frozenset({Terminator})


class RegionModel(Operation):
    inputs = operand(AnyType, variadic=True)
    outputs = result(AnyType, variadic=True)
    body = region()
    kind = attribute("str")
    traits = frozenset({IsolatedFromAbove})
    kinds: tuple = ()

    def attr(self, name: str, default=None):
        a = self.attributes.get(name)
        return default if a is None else a.value

    def verify_(self):
        if self.kind not in self.kinds:
            raise VerifyError(f"kind '{self.kind}' is not one of {', '.join(self.kinds)}")
        block = self.body.blocks[0] if self.body.blocks else None
        if block is None or len(block.args) != len(self.operands):
            raise VerifyError(f"its region must take the {len(self.operands)} inputs as block arguments")
        last = block.last_op
        if last is None or last.op_name != "classical.yield" or len(last.operands) != len(self.results):
            raise VerifyError(f"its region must end in classical.yield of {len(self.results)} values")


@model_op("pipeline")
@op_def("classical.pipeline")
class PipelineOp(RegionModel):
    """A Pipeline, PipelineClassifier or PipelineRegressor (`kind`) nested in another pipeline."""

    kinds = PIPELINE_KINDS

    def execute(self, interp, env, *inputs):
        return tuple(interp.run_region(self.body, list(inputs)))


@model_op("neuralNetwork")
@op_def("classical.neural_network")
class NeuralNetworkOp(RegionModel):
    """A NeuralNetwork stage of a pipeline (see the module docstring)."""

    kinds = NETWORK_KINDS

    def description(self) -> dict:
        return (self.attr(MODEL_ATTR) or {}).get("description", {})

    def execute(self, interp, env, *inputs):
        args = []
        for value, arg in zip(inputs, self.body.blocks[0].args):
            array = np.asarray(value, dtype=np.float32)
            t = arg.type
            if isinstance(t, TensorType) and t.is_static:
                if array.size != t.num_elements:
                    raise ValueError(f"network input '{arg.name}' has {array.size} values, "
                                     f"the network expects {t}")
                array = array.reshape(t.shape)
            args.append(array)
        runner = getattr(interp, "network_runner", lambda op: None)(self)
        yielded = runner([np.ascontiguousarray(a) for a in args]) if runner else interp.run_region(self.body, args)
        desc = self.description()
        labels = _labels(self.attr("network", {}))
        outs = []
        for value, r in zip(yielded, self.results):
            if self.kind == "neuralNetworkClassifier" and labels and isinstance(r.type, DictType):
                outs.append(dict(zip(labels, np.asarray(value, dtype=np.float64).reshape(-1).tolist())))
            elif self.kind == "neuralNetworkClassifier" and labels and r.name == desc.get("predictedFeatureName"):
                outs.append(labels[int(np.argmax(np.asarray(value).reshape(-1)))])
            else:
                outs.append(as_feature(value, r.type))
        return tuple(outs)


def _labels(network: dict) -> list:
    if "stringClassLabels" in network:
        return [str(v) for v in network["stringClassLabels"].get("vector", ())]
    if "int64ClassLabels" in network:
        return [int(v) for v in network["int64ClassLabels"].get("vector", ())]
    return []


MODEL_OPS.update({kind: PipelineOp for kind in PIPELINE_KINDS})
MODEL_OPS.update({kind: NeuralNetworkOp for kind in NETWORK_KINDS})
