"""Compile a pipeline `.mlmodel` (pipeline, pipelineClassifier, pipelineRegressor) of network stages
to a `.mlmodelc` bundle: one complete espresso sub-bundle per stage, in `model0/`, `model1/`, ...
(each with its own coremldata.bin, as coremlc writes them), under a root `coremldata.bin` holding
the pipeline's own description.

Evidence: the `modelN/` folder names come from the issue text and Pipeline.proto's default stage
names; no Apple-compiled pipeline bundle was available, so the root file's trailer (the stage
folder names) and what each sub-bundle holds (what a standalone bundle of the stage would hold)
are [inferred] — see frontend/espresso/format.py.
"""
from __future__ import annotations

from pathlib import Path

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt


def pipeline_stages(model) -> list:
    """The stage `Model` messages of a pipeline model, in order."""
    kind = model.WhichOneof("Type")
    pipeline = model.pipeline if kind == "pipeline" else getattr(model, kind).pipeline
    return list(pipeline.models)


def pipeline_bundle_files(model, data: bytes, path: Path, pipeline: str | None, era: str) -> dict[str, bytes]:
    """Every file of the pipeline bundle, by relative path. A stage that is not a network (a
    feature extractor, a classical model, one of Apple's built-in models) is refused, naming it."""
    from mlir_coreml.codegen.espresso.bundle_writer import bundle_files
    from mlir_coreml.codegen.espresso.coremldata import pipeline_coremldata, write_coremldata
    from mlir_coreml.codegen.lower import lower_mlmodel

    stages = pipeline_stages(model)
    if not stages:
        raise MlirCoremlError("the pipeline has no models", str(path))
    files: dict[str, bytes] = {}
    for index, stage in enumerate(stages):
        folder = fmt.pipeline_stage_folder(index)
        kind = stage.WhichOneof("Type")
        if kind not in fmt.NETWORK_MODEL_KINDS:
            raise MlirCoremlError(f"pipeline stage {folder} is a '{kind}' model; only network stages "
                                  f"({', '.join(fmt.NETWORK_MODEL_KINDS)}) compile to espresso bundles", str(path))
        try:
            module = lower_mlmodel(path, pipeline, era, stage.SerializeToString(), stage)
        except MlirCoremlError as err:
            raise MlirCoremlError(f"pipeline stage {folder}: {err.message}", err.where or str(path)) from None
        files.update({f"{folder}/{name}": content for name, content in bundle_files(module).items()})
    core = pipeline_coremldata(data, len(stages), era="2021" if era == "2025" else era, where=str(path))
    files[fmt.COREMLDATA_FILE] = write_coremldata(core)
    return files
