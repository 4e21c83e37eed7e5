"""Pipelines holding ML Programs -> `.mlmodelc`, laid out as coremlc 3600 does:

    X.mlmodelc/
      model0/model.mil, model0/coremldata.bin   stage 0 as an ML Program bundle without metadata.json and
      [model0/weights/...]                      analytics [V cast and dynamic fixtures]; each stage keeps its
                                                own copy of the weight files it uses [3P mlmodelc-export README]
      model1/...                                stage 1 (a NeuralNetwork stage: an espresso bundle [G])
      metadata.json                             the pipeline's description; histogram, computePrecision and
                                                storagePrecision over all ML Program stages; modelType
                                                {name, structure} [V]
      coremldata.bin                            [G] the ML Program header with the pipeline's model type
                                                field, its description, one trailer per stage
      analytics/coremldata.bin                  [G] as for an ML Program

Stages that are themselves pipelines are refused (not seen in any sample).
"""
from __future__ import annotations

import os
from pathlib import Path

from mlir_coreml.codegen.atomic import write_directory, write_files
from mlir_coreml.errors import MlirCoremlError

STAGE_FILES = ("model.mil", "coremldata.bin")      # what a stage folder holds besides its weights [V]


def write_pipeline_bundle(spec, model_dir: str, output, model_name: str, source: bytes, era: str | None = None) -> None:
    """Write the pipeline `spec` (its weight paths relative to `model_dir`) at `output`, atomically."""
    from mlir_coreml.frontend.pipeline import pipeline_models

    output = os.path.abspath(os.fspath(output))
    stages = pipeline_models(spec)
    writers = [_stage_writer(stage, i, model_dir, output, model_name, era) for i, stage in enumerate(stages)]
    programs = [(w[1], w[2]) for w in writers if w[1] is not None]
    files = {"metadata.json": _metadata(spec, stages, [m for m, _ in programs], [w for _, w in programs], model_name),
             "coremldata.bin": _coremldata(spec, source, output, len(stages)),
             "analytics/coremldata.bin": _analytics(source, model_name)}

    def fill(staging: Path) -> None:
        write_files(staging, files)
        for index, (write, _, _) in enumerate(writers):
            folder = staging / f"model{index}"
            folder.mkdir()
            write(folder)

    write_directory(output, fill)


def _stage_writer(stage, index: int, model_dir: str, where: str, model_name: str, era: str | None):
    """(a function filling the stage folder, the stage's mil module and WeightFiles, or None twice)."""
    from mlir_coreml.frontend.pipeline import holds_ml_program, pipeline_models, spec_to_module

    kind = stage.WhichOneof("Type")
    if pipeline_models(stage):
        raise MlirCoremlError(f"pipeline stage {index} is itself a pipeline; nested pipelines cannot be lowered",
                              where)
    if holds_ml_program(stage):
        from mlir_coreml.codegen.mlprogram_bundle import bundle_files

        module = spec_to_module(stage, model_dir, f"{where}: stage {index}")
        files, weights = bundle_files(module, where, model_name, stage.SerializeToString(), era)

        def write_program(folder: Path) -> None:
            write_files(folder, {name: files[name] for name in STAGE_FILES})
            weights.write(folder)

        return write_program, module, weights
    if kind not in ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor"):
        raise MlirCoremlError(f"pipeline stage {index} is a '{kind}' model, which cannot be lowered", where)
    from mlir_coreml.codegen.espresso.bundle_writer import write_bundle
    from mlir_coreml.codegen.lower import lower_mlmodel

    module = lower_mlmodel(Path(f"{model_name}.mlmodel"), None, era or "2025", stage.SerializeToString())
    return (lambda folder: write_bundle(module, folder)), None, None


def _metadata(spec, stages, modules, weights, model_name: str) -> bytes:
    from mlir_coreml.codegen import mlprogram_metadata as meta
    from mlir_coreml.codegen.espresso.coremldata import write_metadata
    from mlir_coreml.ir.dialects.func import entry_function

    entries = [entry_function(m) for m in modules]
    histogram: dict[str, int] = {}
    for fn in entries:
        for key, count in meta.function_histogram(fn).items():
            histogram[key] = histogram.get(key, 0) + count
    precisions = {p for fn in entries for p in _precision_names(meta.compute_precision(fn))}
    storage = {p for m, w in zip(modules, weights) for fn in [entry_function(m)]
               if (text := meta.storage_precision([fn], w.stored_dtype)) for p in _precision_names(text)}
    desc = spec.description
    out = {"metadataOutputVersion": "3.0"}
    if storage:
        out["storagePrecision"] = meta.mixed_precision(storage)  # over all stages [V weighted pipeline]
    for key, value in (("shortDescription", desc.metadata.shortDescription),
                       ("version", desc.metadata.versionString), ("author", desc.metadata.author),
                       ("license", desc.metadata.license)):
        if value:
            out[key] = value
    version = spec.specificationVersion
    out.update({
        "outputSchema": [meta.feature_schema(f) for f in desc.output], "modelParameters": [],
        "specificationVersion": version, "mlProgramOperationTypeHistogram": dict(sorted(histogram.items())),
        "computePrecision": meta.mixed_precision(precisions) or "Float32", "isUpdatable": "0",
        "stateSchema": [meta.feature_schema(f) for f in desc.state]})
    if version in meta.AVAILABILITY:
        out["availability"] = dict(meta.AVAILABILITY[version])
    out["modelType"] = {"name": f"MLModelType_{spec.WhichOneof('Type')}",
                        "structure": [{"name": f"MLModelType_{s.WhichOneof('Type')}"} for s in stages]}
    out["inputSchema"] = [meta.feature_schema(f) for f in desc.input]
    out["userDefinedMetadata"] = dict(sorted(desc.metadata.userDefined.items()))
    out["generatedClassName"] = meta.class_name(model_name)
    out["method"] = "predict"
    return write_metadata([out])


def _precision_names(text: str) -> list[str]:
    if text.startswith("Mixed (") and text.endswith(")"):
        return text[len("Mixed ("):-1].split(", ")
    return [text]


def _coremldata(spec, source: bytes, where: str, stage_count: int) -> bytes:
    import struct

    from mlir_coreml.codegen.mlprogram_bundle import coremldata_bytes, description_bytes

    data = bytearray(coremldata_bytes(description_bytes(None, source, where), spec.specificationVersion, stage_count))
    field = spec.DESCRIPTOR.fields_by_name[spec.WhichOneof("Type")].number
    struct.pack_into("<I", data, 0, field)  # the stage trailers stay 502 [G]
    return bytes(data)


def _analytics(source: bytes, model_name: str) -> bytes:
    from mlir_coreml.codegen.mlprogram_bundle import analytics_for_program

    return analytics_for_program(source, model_name)
