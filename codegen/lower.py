"""`lower`: compile a NeuralNetwork `.mlmodel` to a `.mlmodelc` bundle, as `xcrun coremlc compile`.

    .mlmodel --frontend.mlmodel--> nn dialect --pipeline--> espresso dialect --bundle_writer--> .mlmodelc

The default pipeline reproduces coremlc of the chosen era (`coremlc_version`):
fuse-conv-batchnorm, fold-padding (2020 and later), nn-to-espresso, fuse-activation. The side
files (coremldata.bin, model/coremldata.bin, neural_network_optionals, metadata.json, analytics)
come from the source protobuf and are attached as `espresso.*` module attributes, so the bundle
writer sees one self-describing module.
"""
from __future__ import annotations

from pathlib import Path

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt

ERAS = fmt.COREMLC_ERAS
GRAYSCALE = 10  # ImageFeatureType.ColorSpace
NETWORK_TYPES = fmt.NETWORK_MODEL_KINDS
PIPELINE_TYPES = fmt.PIPELINE_MODEL_KINDS
DEFAULT_ERA = "2021"   # NeuralNetwork bundles; ML Programs default to coremlc 3520/3600 (2025-2026)


def default_pipeline(era: str) -> str:
    from mlir_coreml.passes.pipelines import named_pipeline

    return named_pipeline(f"coremlc-{era}")


def lower_pipeline(model_path, pipeline: str | None = None, emit: str = "mlmodelc",
                   coremlc_version: str | None = None) -> str:
    """The pipeline `lower_model` runs for these arguments (`lower --print-pipeline`)."""
    if pipeline is not None:
        return pipeline
    if emit != "mlmodelc" or Path(model_path).suffix == ".mlmodelc":
        return ""
    from mlir_coreml.frontend import is_ml_program

    path = Path(model_path)
    return "" if is_ml_program(path, _read_if_mlmodel(path)) else default_pipeline(coremlc_version or DEFAULT_ERA)


def lower_model(model_path, output, pipeline: str | None = None, emit: str = "mlmodelc",
                coremlc_version: str | None = None) -> None:
    """Compile `model_path` and write the bundle at `output` atomically. With `emit` "mlmodel" or
    "mlpackage", the (optimised) model goes back to Apple's toolchain formats instead.
    (runtime.bundle_kernels adds the CPU runtime's generated module to such a bundle.)"""
    if emit in ("mlmodel", "mlpackage"):
        from mlir_coreml.codegen.mlmodel_writer import export_model
        from mlir_coreml.frontend import load_model

        module = load_model(str(model_path))
        _run_pipeline(module, pipeline or "")
        export_model(module, output, emit)
        return
    if emit != "mlmodelc":
        raise MlirCoremlError(f"unknown output form '{emit}' (expected mlmodelc, mlmodel or mlpackage)",
                              str(model_path))
    from mlir_coreml.frontend import is_ml_program

    path = Path(model_path)
    data = _read_if_mlmodel(path)  # read once: for the kind check, the parse and the model hash
    if is_ml_program(path, data):  # .mlpackage, ML Program .mlmodel or model.mil bundle
        from mlir_coreml.codegen.mlprogram_bundle import lower_ml_program

        if coremlc_version is not None and coremlc_version not in ERAS:
            raise MlirCoremlError(f"unknown coremlc version '{coremlc_version}' (expected {', '.join(ERAS)})")
        lower_ml_program(path, output, pipeline, coremlc_version)
        return
    coremlc_version = coremlc_version or DEFAULT_ERA
    if coremlc_version not in ERAS:
        raise MlirCoremlError(f"unknown coremlc version '{coremlc_version}' (expected {', '.join(ERAS)})")
    from mlir_coreml.codegen.espresso.bundle_writer import write_bundle

    if path.suffix == ".mlmodelc":
        from mlir_coreml.frontend.mlmodelc import read

        module = read(path)
        if fmt.PIPELINE_ATTR in module.attributes or "coreml.pipeline_stages" in module.attributes:
            raise MlirCoremlError("a compiled pipeline bundle is read as one function and cannot be written back "
                                  "as stages; lower its source .mlmodel instead", str(path))
        _run_pipeline(module, pipeline or "")
        write_bundle(module, output)
        return
    data = _read_source(path) if data is None else data
    model = _parse_spec(data, path)
    if model.WhichOneof("Type") in PIPELINE_TYPES:
        from mlir_coreml.codegen.pipeline_bundle import write_pipeline_bundle

        write_pipeline_bundle(model, str(path.parent), output, path.stem, data, coremlc_version, path, pipeline)
        return
    write_bundle(lower_mlmodel(path, pipeline, coremlc_version, data, model), output)


def _run_pipeline(module, pipeline: str) -> None:
    from mlir_coreml.ir.verifier import verify
    from mlir_coreml.passes.manager import PassManager

    # One verification of the result rather than one per pass: the main job's cost is start-up
    # and I/O, and a broken result is still refused before anything is written.
    PassManager.from_pipeline(pipeline, verify_each=False).run(module)
    verify(module)


def _read_if_mlmodel(path: Path) -> bytes | None:
    """The bytes of an `.mlmodel` file; None for other forms, or when it cannot be read
    (lower_mlmodel reports that, after the option checks)."""
    if path.suffix.lower() != ".mlmodel":
        return None
    from mlir_coreml.ir.guard import read_file

    try:
        return read_file(path, "protobuf")
    except MlirCoremlError:
        return None


def _read_source(path: Path) -> bytes:
    from mlir_coreml.ir.guard import read_file

    return read_file(path, "protobuf")


def _parse_spec(data: bytes, path: Path):
    from mlir_coreml.frontend.proto import model_pb2

    model = model_pb2.Model()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf raises DecodeError, sometimes others, on garbage
        raise MlirCoremlError("not a Core ML model protobuf", str(path)) from None
    kind = model.WhichOneof("Type")
    if kind in NETWORK_TYPES + PIPELINE_TYPES:  # a pipeline's lowering names any stage it cannot write
        return model
    if kind != "mlProgram":
        # The public compiled classical bundles (krypted/CoreML_CLI: a GLM pipeline without its
        # source, a tree ensemble with it) show 'generic' / 'spec' coremldata.bin containers and a
        # binary _B0000.DAT node table that is not decoded yet: too little to write them faithfully.
        raise MlirCoremlError(f"model type '{kind}' holds classical (non-neural) models: how coremlc lays those "
                              "out in .mlmodelc is not publicly documented, so this compiler does not write them; "
                              "compile_model / `run` execute the .mlmodel directly, `--emit mlmodel` exports it",
                              str(path))
    raise MlirCoremlError(f"model type '{kind}' cannot be lowered to an espresso "
                          f"bundle (only {', '.join(NETWORK_TYPES)} and pipelines of them)", str(path))


def lower_mlmodel(path: Path, pipeline: str | None, era: str, data: bytes | None = None, model=None):
    """The espresso-dialect module for a network `.mlmodel` (`data`: its bytes, `model`: the parsed
    protobuf, when the caller has them), with its bundle attributes."""
    from mlir_coreml.codegen.espresso.coremldata import BackgroundSha256
    from mlir_coreml.frontend.mlmodel import ModelImporter
    from mlir_coreml.ir.attributes import to_attr

    data = _read_source(path) if data is None else data
    # The analytics hash the source file: that runs on another core while this one parses and lowers.
    model_hash = BackgroundSha256(data) if era >= "2021" else None
    model = _parse_spec(data, path) if model is None else model
    if model.WhichOneof("Type") not in NETWORK_TYPES:
        raise MlirCoremlError(f"model type '{model.WhichOneof('Type')}' is not a network; lower_mlmodel "
                              "compiles one network (pipelines: lower_model)", str(path))
    module = ModelImporter(model, str(path)).run()  # the parsed spec, not a second parse of the file
    _run_pipeline(module, pipeline if pipeline is not None else default_pipeline(era))
    warn_inferred_forms(module, path)
    attrs = bundle_attributes(data, model, path.stem, era, model_hash.result() if model_hash else None)
    module.attributes.update({key: to_attr(value) for key, value in attrs.items()})
    return module


def warn_inferred_forms(module, path) -> None:
    """One warning line naming the inferred espresso forms nn-to-espresso wrote (if any)."""
    import sys

    from mlir_coreml.passes.nn_to_espresso import INFERRED_ATTR

    inferred = module.attributes.pop(INFERRED_ATTR, None)
    if inferred is None:
        return
    types = ", ".join(str(t) for t in inferred.value)
    print(f"warning: {path}: wrote inferred espresso forms (no Apple-compiled bundle shows them; "
          f"see docs/espresso-layers.md): {types}", file=sys.stderr)


def bundle_attributes(data: bytes, model, model_name: str, era: str, model_hash: str | None = None) -> dict:
    """The `espresso.*` module attributes describing every side file, as coremlc derives them
    (`model_hash`: the source's sha256_base64, when computed already)."""
    from mlir_coreml.codegen.espresso.coremldata import coremldata_from_mlmodel, preprocessing_from_scaler
    from mlir_coreml.codegen.espresso.metadata import metadata_for
    from mlir_coreml.frontend.espresso.format import (ANALYTICS_ATTR, COREMLDATA_ATTR, METADATA_ATTR, ND_SHAPES_ATTR,
                                                      NET_ATTR, OPTIONALS_ATTR, PREPROCESSING_ATTR)

    core = coremldata_from_mlmodel(data, where=None, model=model)
    images = [f for f in model.description.input if f.type.WhichOneof("Type") == "imageType"]
    network = getattr(model, model.WhichOneof("Type"))
    scalers = {p.featureName: p.scaler for p in network.preprocessing
               if p.WhichOneof("preprocessor") == "scaler"}
    if len(model.description.input) == 1 and "" in scalers:
        scalers[model.description.input[0].name] = scalers.pop("")
    header = {}
    if images and fmt.era_at_least(era, "2019"):  # the early-2019 compiler leaves the scaler to model/coremldata.bin [V LetterClass]
        header["transform_params"] = {f.name: _transform_params(scalers.get(f.name), f, era) for f in images}
    if era >= "2021":
        header["analyses"] = {}
    header.update(properties={}, storage=fmt.WEIGHTS_FILE, format_version=fmt.NET_FORMAT_VERSION)
    if era >= "2025":
        header["metadata_in_weights"] = []
    attrs = {
        NET_ATTR: header,
        ND_SHAPES_ATTR: model.specificationVersion >= 4,
        COREMLDATA_ATTR: {"model_type": core.model_type, "format_version": list(core.format_version),
                          "platform": core.platform, "spec_version": core.spec_version,
                          "reserved": list(core.reserved), "description": core.description.hex(),
                          "output_names": list(core.output_names)},
    }
    if era in fmt.PADDED_BIAS_LAYERS:
        attrs[fmt.PADDED_BIASES_ATTR] = list(fmt.PADDED_BIAS_LAYERS[era])
    if core.class_labels is not None:
        attrs[COREMLDATA_ATTR].update(class_labels=list(core.class_labels), probability_blob=core.probability_blob)
    if fmt.OPTIONALS_SIZES.get(era, fmt.OPTIONALS_SIZES["2021"]) is not None:
        attrs[OPTIONALS_ATTR] = fmt.OPTIONALS_SIZES.get(era, fmt.OPTIONALS_SIZES["2021"])
    if images:
        records = [[] for _ in range(fmt.PREPROCESSING_RECORD_COUNT)]
        for feature in images:
            scaler = scalers.get(feature.name)
            gray = feature.type.imageType.colorSpace == GRAYSCALE
            one = preprocessing_from_scaler(feature.name, gray=gray, **_scaler_values(scaler))
            for record, entries in zip(records, one.records):
                record += [list(entry) for entry in entries]
        attrs[PREPROCESSING_ATTR] = records
    if era >= "2021":
        attrs[METADATA_ATTR] = metadata_for(model, model_name, era)
        attrs[ANALYTICS_ATTR] = _analytics(data, model, model_name, model_hash)
    return attrs


def _scaler_values(scaler) -> dict:
    if scaler is None:
        return {}
    return {"channel_scale": scaler.channelScale if scaler.channelScale else 1.0,
            "blue_bias": scaler.blueBias, "green_bias": scaler.greenBias, "red_bias": scaler.redBias,
            "gray_bias": scaler.grayBias}


def _transform_params(scaler, feature, era: str) -> dict:
    """`transform_params` of one image input [V S1-S5 for RGB inputs with a scaler]."""
    from mlir_coreml.passes.nn_to_espresso import f32

    values = _scaler_values(scaler)
    space = feature.type.imageType.colorSpace
    if space == GRAYSCALE:  # one channel: its bias in every colour slot [inferred: no gray sample has transform_params]
        values.update(red_bias=values.get("gray_bias", 0.0), green_bias=values.get("gray_bias", 0.0),
                      blue_bias=values.get("gray_bias", 0.0))
    return {"bias_a": 0, "bias_g": f32(values.get("green_bias", 0.0)), "bias_r": f32(values.get("red_bias", 0.0)),
            "bias_b": f32(values.get("blue_bias", 0.0)), "center_mean": 0,
            "is_network_bgr": int(space == 30),  # ImageFeatureType.BGR
            "scale": f32(values.get("channel_scale", 1.0)),
            # the newest compilers also say whether the image arrives as BGR [O MNISTClassifier, 2024+]
            **({"is_image_bgr": int(space == 30)} if era >= "2025" else {})}


def _analytics(data: bytes, model, model_name: str, model_hash: str | None) -> dict:
    """Analytics sections; the bundle writer fills in the hashes of the files it writes."""
    from mlir_coreml.codegen.espresso.coremldata import sha256_base64

    details = {"modelDimension": str(len(getattr(model, model.WhichOneof("Type")).layers)), "nnModelNetHash": "",
               "nnModelShapeHash": "", "nnModelWeightsHash": ""}
    spec = {"modelHash": model_hash or sha256_base64(data), "modelName": model_name}
    return {fmt.ANALYTICS_NN_SECTION: details, fmt.ANALYTICS_SPEC_SECTION: spec}
