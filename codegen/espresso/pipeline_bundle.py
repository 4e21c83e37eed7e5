"""Compile a pipeline `.mlmodel` (pipeline, pipelineClassifier, pipelineRegressor) of network stages
to a `.mlmodelc` bundle as coremlc does [O: UpdatableDrawingClassifier, an Apple-compiled
pipelineClassifier, see docs/espresso-model-kinds.md]:

    coremldata.bin            the pipeline's header and description (format.PIPELINE_FORMAT_VERSION,
                              the stages' versions in the platform string, trailer: stage count, type)
    metadata.json             2021+: the whole model's metadata (modelType with its stage structure)
    analytics/coremldata.bin  2021+: PipelineModelDetails (stage count) + SpecificationDetails
    model0/, model1/, ...     a bundle per stage, without metadata.json; its analytics keep only
                              NeuralNetworkModelDetails
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
    from mlir_coreml.codegen.espresso import coremldata as cd
    from mlir_coreml.codegen.espresso.bundle_writer import bundle_files
    from mlir_coreml.codegen.espresso.metadata import metadata_for
    from mlir_coreml.codegen.lower import lower_mlmodel

    stages = pipeline_stages(model)
    if not stages:
        raise MlirCoremlError("the pipeline has no models", str(path))
    files: dict[str, bytes] = {}
    stage_data = []
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
        _as_stage(module)
        files.update({f"{folder}/{name}": content for name, content in bundle_files(module).items()})
        stage_data.append(cd.parse_written_coremldata(files[f"{folder}/{fmt.COREMLDATA_FILE}"]))
    files[fmt.COREMLDATA_FILE] = cd.write_coremldata(cd.pipeline_coremldata(data, stage_data, where=str(path)))
    if era >= "2021":
        files[fmt.METADATA_FILE] = cd.write_metadata(metadata_for(model, path.stem, era))
        sections = {fmt.ANALYTICS_PIPELINE_SECTION: {"modelDimension": str(len(stages))},
                    fmt.ANALYTICS_SPEC_SECTION: {"modelHash": cd.sha256_base64(data), "modelName": path.stem}}
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
