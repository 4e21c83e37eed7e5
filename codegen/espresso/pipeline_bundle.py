"""The network parts of a compiled pipeline bundle, as coremlc writes them [O: UpdatableDrawingClassifier,
an Apple-compiled pipelineClassifier, see docs/pipeline-bundles.md]: a network stage's sub-bundle,
and the root metadata.json / analytics of a pipeline of networks. The bundle itself (root
coremldata.bin, stage folders, nesting) is written by codegen/pipeline_bundle.py for every pipeline.

    metadata.json             2021+: the whole model's metadata (modelType with its stage structure)
    analytics/coremldata.bin  2021+: PipelineModelDetails (stage count) + SpecificationDetails
    model0/, model1/, ...     a network stage: its bundle without metadata.json; its analytics keep
                              only NeuralNetworkModelDetails
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


def network_stage_files(stage, folder: str, path: Path, pipeline: str | None, era: str) -> dict[str, bytes]:
    """The files of a network stage's sub-bundle, by path relative to the stage folder."""
    from mlir_coreml.codegen.espresso.bundle_writer import bundle_files
    from mlir_coreml.codegen.lower import lower_mlmodel

    try:
        module = lower_mlmodel(path, pipeline, era, stage.SerializeToString(), stage)
    except MlirCoremlError as err:
        raise MlirCoremlError(f"pipeline stage {folder}: {err.message}", err.where or str(path)) from None
    _as_stage(module)
    return bundle_files(module)


def root_side_files(model, data: bytes, model_name: str, era: str, metadata: bool = True) -> dict[str, bytes]:
    """metadata.json (from the network metadata rules, when `metadata`) and analytics of a pipeline
    root, for the eras that write them (2021+). The analytics are those of Apple's pipeline bundle
    whatever the stages hold [O UpdatableDrawingClassifier]."""
    from mlir_coreml.codegen.espresso import coremldata as cd
    from mlir_coreml.codegen.espresso.metadata import metadata_for

    if era is not None and not fmt.era_at_least(era, "2021"):
        return {}
    files = {}
    if metadata:
        files[fmt.METADATA_FILE] = cd.write_metadata(metadata_for(model, model_name, era or "2025"))
    sections = {fmt.ANALYTICS_PIPELINE_SECTION: {"modelDimension": str(len(pipeline_stages(model)))},
                fmt.ANALYTICS_SPEC_SECTION: {"modelHash": cd.sha256_base64(data), "modelName": model_name}}
    files[fmt.ANALYTICS_FILE] = cd.write_analytics(fmt.Analytics(sections=sections))
    return files


def _as_stage(module) -> None:
    """A stage bundle has no metadata.json, and its analytics only describe its network."""
    from mlir_coreml.ir.attributes import to_attr
    from mlir_coreml.ir.dialects.espresso import json_value

    module.attributes.pop(fmt.METADATA_ATTR, None)
    analytics = module.attributes.get(fmt.ANALYTICS_ATTR)
    if analytics is not None:
        sections = json_value(analytics)
        module.attributes[fmt.ANALYTICS_ATTR] = to_attr({fmt.ANALYTICS_NN_SECTION: sections[fmt.ANALYTICS_NN_SECTION]})
