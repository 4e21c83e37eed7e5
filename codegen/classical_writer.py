"""`classical`-dialect module -> `.mlmodel` Model message: the inverse of frontend/classical.py.

The top-level Model comes from the module and function `coreml.*` attributes; each op is one
model: its params message from the attributes (tree nodes from their columns), its envelope
from `coreml.model`; `classical.pipeline` ops and a top-level pipeline collect their stages in
order; a `classical.neural_network` op writes its `nn` ops through the NeuralNetwork writer.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.codegen.mlmodel_writer import SpecWriter, all_value_names, dict_to_message, plain_value
from mlir_coreml.errors import MlirCoremlError

PIPELINE_KINDS = ("pipeline", "pipelineClassifier", "pipelineRegressor")


def is_classical(module) -> bool:
    return any(op.op_name.startswith("classical.") for op in module.walk())


def classical_module_to_spec(module, where: str = "<module>"):
    from mlir_coreml.frontend.proto import model_pb2

    functions = [op for op in module.body.ops if op.op_name == "func.func"]
    if len(functions) != 1:
        raise MlirCoremlError(f"a classical model has one function, the module has {len(functions)}", where)
    fn = functions[0]
    mattrs, fattrs = module.attributes, fn.attributes
    kind = plain_value(mattrs.get("coreml.model_type", ""))
    model = model_pb2.Model()
    model.specificationVersion = int(plain_value(mattrs.get("coreml.spec_version", 1)))
    if plain_value(mattrs.get("coreml.updatable", False)):
        model.isUpdatable = True
    desc = {"input": fattrs.get("coreml.inputs", ()), "output": fattrs.get("coreml.outputs", ())}
    for key in ("predictedFeatureName", "predictedProbabilitiesName"):
        if f"coreml.{key}" in fattrs:
            desc[key] = fattrs[f"coreml.{key}"]
    if "coreml.training_inputs" in fattrs:
        desc["trainingInput"] = fattrs["coreml.training_inputs"]
    if "coreml.metadata" in mattrs:
        desc["metadata"] = mattrs["coreml.metadata"]
    dict_to_message(desc, model.description, where)
    stages = [op for op in fn.body.ops if op.op_name != "func.return"]
    if kind in PIPELINE_KINDS:
        pipeline = _pipeline_message(model, kind)
        names = plain_value(fattrs.get("coreml.stage_names", ())) or ()
        pipeline.names.extend(names)
        for op in stages:
            write_op(op, pipeline.models.add(), where)
        return model
    if len(stages) != 1:
        raise MlirCoremlError(f"a '{kind}' model is one op, the function has {len(stages)}", where)
    fill_params(stages[0], model, kind, where)
    return model


def _pipeline_message(model, kind):
    target = getattr(model, kind)
    target.SetInParent()
    return target if kind == "pipeline" else target.pipeline


def write_op(op, model, where: str) -> None:
    """Model message `model` for one stage op (envelope + params)."""
    envelope = op.attributes.get("coreml.model")
    if envelope is None:
        raise MlirCoremlError(f"stage op '{op.op_name}' has no coreml.model description", where)
    dict_to_message(envelope, model, where)
    kind = plain_value(op.attributes["kind"]) if "kind" in op.attributes else op.model_kind
    fill_params(op, model, kind, where)


def fill_params(op, model, kind: str, where: str) -> None:
    if op.op_name == "classical.pipeline":
        pipeline = _pipeline_message(model, kind)
        pipeline.names.extend(plain_value(op.attributes.get("names", ())) or ())
        for inner in op.regions[0].blocks[0].ops:
            if inner.op_name != "classical.yield":
                write_op(inner, pipeline.models.add(), where)
        return
    where = f"{where}: stage '{op.location.name}'" if op.location is not None and op.location.name else where
    if op.op_name == "classical.neural_network":
        _write_network(op, getattr(model, kind), where)
        return
    if not hasattr(op, "model_kind") or op.model_kind != kind:
        raise MlirCoremlError(f"op '{op.op_name}' cannot be written as a '{kind}' model", where)
    params = getattr(model, kind)
    params.SetInParent()
    fields = {k: v for k, v in op.attributes.items() if "." not in k}
    ensemble = fields.pop("treeEnsemble", None)
    dict_to_message(fields, params, where)
    if ensemble is not None:
        _write_ensemble(plain_value(ensemble), params.treeEnsemble, where)


def _write_ensemble(ensemble: dict, target, where: str) -> None:
    ensemble = dict(ensemble)
    columns = ensemble.pop("nodes", {})
    target.SetInParent()
    dict_to_message(ensemble, target, where)
    col = {k: np.asarray(v) for k, v in columns.items()}
    n = col["nodeId"].size
    starts = np.concatenate([[0], np.cumsum(col["evaluationCount"])]).astype(np.int64)
    plain = {k: col[k].tolist() for k in ("treeId", "nodeId", "nodeBehavior", "branchFeatureIndex",
                                          "branchFeatureValue", "trueChildNodeId", "falseChildNodeId",
                                          "missingValueTracksTrueChild", "relativeHitRate")}
    indices, values = col["evaluationIndex"].tolist(), col["evaluationValue"].tolist()
    for i in range(n):
        node = target.nodes.add()
        for key, column in plain.items():
            value = column[i]
            if value:
                setattr(node, key, bool(value) if key == "missingValueTracksTrueChild" else value)
        for k in range(starts[i], starts[i + 1]):
            info = node.evaluationInfo.add()
            info.evaluationIndex = indices[k]
            info.evaluationValue = values[k]


def _write_network(op, network, where: str) -> None:
    """The region's `nn` ops as the layers of NeuralNetwork message `network`."""
    network.SetInParent()
    dict_to_message(op.attributes.get("network", {}), network, where)
    block = op.regions[0].blocks[0]
    writer = SpecWriter(None, where)
    writer.used_names = all_value_names(op)
    for arg in block.args:
        writer.name_of(arg)
    writer.block(block, network, list(block.last_op.operands))
