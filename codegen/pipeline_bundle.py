"""Every pipeline (pipeline, pipelineClassifier, pipelineRegressor) -> `.mlmodelc`, whatever its stages
hold: NeuralNetworks, ML Programs, or pipelines of them. Layout and evidence: docs/pipeline-bundles.md.

    X.mlmodelc/
      coremldata.bin            the one pipeline root layout (codegen/espresso/coremldata.pipeline_coremldata):
                                version (1, 0, 1), platform string naming each stage's version, the
                                pipeline's description, trailer: stage count, model type [O Apple NN
                                pipeline; 3P byte-compared for ML Program pipelines]
      metadata.json             the pipeline's: ML Program rules when a stage holds an ML Program
                                (histogram and precisions over those stages) [V], else the network rules
      analytics/coremldata.bin  PipelineModelDetails + SpecificationDetails [O]
      modelNames/coremldata.bin the stage names (MODEL_NAMES_FILE) [3P]
      model0/, model1/, ...     each stage as its kind writes it, without metadata.json: an ML Program as
                                model.mil + coremldata.bin (+ its copy of the weights), a network as an
                                espresso bundle, a pipeline as a root coremldata.bin and its own
                                model0/, model1/ ... [G: no nested pipeline seen]
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mlir_coreml.codegen.atomic import write_directory, write_files
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt

STAGE_FILES = ("model.mil", "coremldata.bin")      # what an ML Program stage folder holds besides its weights [V]
# The stage names: u64 count, then u64 length + UTF-8 bytes each; the source's Pipeline.names, else
# the folder names; for every pipeline holding an ML Program [3P: coremlc 3600 output byte-compared by
# mlmodelc-export], for a pipeline of networks only when the source names its stages [O: Apple's
# UpdatableDrawingClassifier names none and has no such file; G: with names]
MODEL_NAMES_FILE = "modelNames/coremldata.bin"


@dataclass
class _Stage:
    write: Callable[[Path], None]            # fills the stage folder
    coremldata: bytes                        # the stage's root coremldata.bin (its version and platform)
    programs: list = field(default_factory=list)   # (mil module, WeightFiles) of every ML Program inside


@dataclass(frozen=True)
class _Context:
    model_dir: str            # `@model_path` of the source's weight files
    where: str                # the output, for messages
    model_name: str
    source_path: Path
    era: str | None
    passes: str | None


def write_pipeline_bundle(spec, model_dir: str, output, model_name: str, source: bytes, era: str | None = None,
                          source_path=None, passes: str | None = None) -> None:
    """Write the pipeline `spec` (its ML Programs' weight paths relative to `model_dir`) at `output`,
    atomically. `era` as `lower --coremlc-version`; `passes` runs on the network stages."""
    from mlir_coreml.codegen.espresso.pipeline_bundle import root_side_files
    from mlir_coreml.frontend.pipeline import holds_ml_program

    output = os.path.abspath(os.fspath(output))
    ctx = _Context(model_dir, output, model_name, Path(source_path or f"{model_name}.mlmodel"), era, passes)
    root = _pipeline_stage(spec, source, ctx)
    programs = holds_ml_program(spec)
    files = root_side_files(spec, source, model_name, era, metadata=not programs)
    if programs:
        modules = [m for m, _ in root.programs]
        files[fmt.METADATA_FILE] = _metadata(spec, modules, [w for _, w in root.programs], model_name)
    write_directory(output, lambda staging: (write_files(staging, files), root.write(staging)))


def _pipeline_stage(spec, source: bytes, ctx: _Context) -> _Stage:
    """A pipeline as a stage: its root coremldata.bin beside a folder per stage."""
    from mlir_coreml.codegen.espresso import coremldata as cd
    from mlir_coreml.frontend.pipeline import holds_ml_program, pipeline_models

    models = pipeline_models(spec)
    if not models:
        raise MlirCoremlError("the pipeline has no models", str(ctx.source_path))
    stages = [_stage(model, fmt.pipeline_stage_folder(i), ctx) for i, model in enumerate(models)]
    parsed = [cd.parse_written_coremldata(stage.coremldata) for stage in stages]
    root = cd.write_coremldata(cd.pipeline_coremldata(source, parsed, ctx.where, empty_metadata=holds_ml_program(spec)))

    files = {fmt.COREMLDATA_FILE: root}
    names = _stage_names(spec)
    if names or holds_ml_program(spec):
        files[MODEL_NAMES_FILE] = cd.write_strings(names or [fmt.pipeline_stage_folder(i) for i in range(len(stages))])

    def write(folder: Path) -> None:
        write_files(folder, files)
        for index, stage in enumerate(stages):
            sub = folder / fmt.pipeline_stage_folder(index)
            sub.mkdir()
            stage.write(sub)

    return _Stage(write, root, [p for stage in stages for p in stage.programs])


def _stage_names(spec) -> list[str]:
    kind = spec.WhichOneof("Type")
    return list((spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline).names)


def _stage(model, folder: str, ctx: _Context) -> _Stage:
    from mlir_coreml.frontend.pipeline import pipeline_models, spec_to_module

    kind = model.WhichOneof("Type")
    if pipeline_models(model):
        return _pipeline_stage(model, model.SerializeToString(), ctx)
    if kind == "mlProgram":
        from mlir_coreml.codegen.mlprogram_bundle import bundle_files

        module = spec_to_module(model, ctx.model_dir, f"{ctx.where}: stage {folder}")
        files, weights = bundle_files(module, ctx.where, ctx.model_name, model.SerializeToString(), ctx.era)

        def write_program(target: Path) -> None:
            write_files(target, {name: files[name] for name in STAGE_FILES})
            weights.write(target)

        return _Stage(write_program, files[fmt.COREMLDATA_FILE], [(module, weights)])
    if kind not in fmt.NETWORK_MODEL_KINDS:
        raise MlirCoremlError(f"pipeline stage {folder} is a '{kind}' model; only network and ML Program stages "
                              f"(and pipelines of them) compile to bundles", str(ctx.source_path))
    from mlir_coreml.codegen.espresso.pipeline_bundle import network_stage_files

    files = network_stage_files(model, folder, ctx.source_path, ctx.passes, ctx.era or "2025")
    return _Stage(lambda target: write_files(target, files), files[fmt.COREMLDATA_FILE])


def _metadata(spec, modules, weights, model_name: str) -> bytes:
    from mlir_coreml.codegen import mlprogram_metadata as meta
    from mlir_coreml.codegen.espresso.coremldata import write_metadata
    from mlir_coreml.frontend.pipeline import pipeline_models
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
                        "structure": [{"name": f"MLModelType_{s.WhichOneof('Type')}"} for s in pipeline_models(spec)]}
    out["inputSchema"] = [meta.feature_schema(f) for f in desc.input]
    out["userDefinedMetadata"] = dict(sorted(desc.metadata.userDefined.items()))
    out["generatedClassName"] = meta.class_name(model_name)
    out["method"] = "predict"
    return write_metadata([out])


def _precision_names(text: str) -> list[str]:
    if text.startswith("Mixed (") and text.endswith(")"):
        return text[len("Mixed ("):-1].split(", ")
    return [text]
