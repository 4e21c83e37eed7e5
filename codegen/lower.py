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

from mlir_coreml.passes.pipelines import COREMLC_ERAS as ERAS


def default_pipeline(era: str) -> str:
    from mlir_coreml.passes.pipelines import named_pipeline

    return named_pipeline(f"coremlc-{era}")


def lower_pipeline(model_path, pipeline: str | None = None, emit: str = "mlmodelc",
                   coremlc_version: str = "2021") -> str:
    """The pipeline `lower_model` runs for these arguments (`lower --print-pipeline`)."""
    if pipeline is not None:
        return pipeline
    if emit != "mlmodelc" or Path(model_path).suffix == ".mlmodelc":
        return ""
    from mlir_coreml.frontend import is_ml_program

    path = Path(model_path)
    return "" if is_ml_program(path, _read_if_mlmodel(path)) else default_pipeline(coremlc_version)


def lower_model(model_path, output, pipeline: str | None = None, emit: str = "mlmodelc",
                coremlc_version: str = "2021") -> None:
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

        lower_ml_program(path, output, pipeline)
        return
    if coremlc_version not in ERAS:
        raise MlirCoremlError(f"unknown coremlc version '{coremlc_version}' (expected {', '.join(ERAS)})")
    from mlir_coreml.codegen.espresso.bundle_writer import write_bundle

    if path.suffix == ".mlmodelc":
        from mlir_coreml.frontend.mlmodelc import read

        module = read(path)
        _run_pipeline(module, pipeline or "")
    else:
        module = lower_mlmodel(path, pipeline, coremlc_version, data)
    write_bundle(module, output)


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
    try:
        return path.read_bytes()
    except OSError:
        return None


def _read_source(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise MlirCoremlError(f"cannot read: {err.strerror}", str(path)) from None


def _parse_spec(data: bytes, path: Path):
    from mlir_coreml.frontend.proto import model_pb2

    model = model_pb2.Model()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf raises DecodeError, sometimes others, on garbage
        raise MlirCoremlError("not a Core ML model protobuf", str(path)) from None
    if model.WhichOneof("Type") != "neuralNetwork":
        raise MlirCoremlError(f"model type '{model.WhichOneof('Type')}' cannot be lowered to an espresso "
                              "bundle (only NeuralNetwork models)", str(path))
    return model


def lower_mlmodel(path: Path, pipeline: str | None, era: str, data: bytes | None = None):
    """The espresso-dialect module for a NeuralNetwork `.mlmodel`, with its bundle attributes."""
    from mlir_coreml.codegen.espresso.coremldata import BackgroundSha256
    from mlir_coreml.frontend.mlmodel import ModelImporter
    from mlir_coreml.ir.attributes import to_attr

    data = _read_source(path) if data is None else data
    # The analytics hash the source file: that runs on another core while this one parses and lowers.
    model_hash = BackgroundSha256(data) if era >= "2021" else None
    model = _parse_spec(data, path)
    module = ModelImporter(model, str(path)).run()  # the parsed spec, not a second parse of the file
    _run_pipeline(module, pipeline if pipeline is not None else default_pipeline(era))
    attrs = bundle_attributes(data, model, path.stem, era, model_hash.result() if model_hash else None)
    module.attributes.update({key: to_attr(value) for key, value in attrs.items()})
    return module


def bundle_attributes(data: bytes, model, model_name: str, era: str, model_hash: str | None = None) -> dict:
    """The `espresso.*` module attributes describing every side file, as coremlc derives them
    (`model_hash`: the source's sha256_base64, when computed already)."""
    from mlir_coreml.codegen.espresso.coremldata import coremldata_from_mlmodel, preprocessing_from_scaler
    from mlir_coreml.codegen.espresso.metadata import metadata_for
    from mlir_coreml.frontend.espresso.format import (ANALYTICS_ATTR, COREMLDATA_ATTR, METADATA_ATTR, ND_SHAPES_ATTR,
                                                      NET_ATTR, OPTIONALS_ATTR, PREPROCESSING_ATTR)

    core = coremldata_from_mlmodel(data, era="2021" if era == "2025" else era, where=None)
    if era == "2025":
        core_format = fmt.COREMLDATA_FORMAT_VERSIONS["2025"]
    else:
        core_format = core.format_version
    images = [f for f in model.description.input if f.type.WhichOneof("Type") == "imageType"]
    scalers = {p.featureName: p.scaler for p in model.neuralNetwork.preprocessing
               if p.WhichOneof("preprocessor") == "scaler"}
    if len(model.description.input) == 1 and "" in scalers:
        scalers[model.description.input[0].name] = scalers.pop("")
    header = {}
    if images:
        header["transform_params"] = {f.name: _transform_params(scalers.get(f.name), f) for f in images}
    if era >= "2021":
        header["analyses"] = {}
    header.update(properties={}, storage=fmt.WEIGHTS_FILE, format_version=fmt.NET_FORMAT_VERSION)
    if era >= "2025":
        header["metadata_in_weights"] = []
    attrs = {
        NET_ATTR: header,
        ND_SHAPES_ATTR: model.specificationVersion >= 4,
        COREMLDATA_ATTR: {"model_type": core.model_type, "format_version": list(core_format),
                          "platform": core.platform, "spec_version": core.spec_version,
                          "reserved": list(core.reserved), "description": core.description.hex(),
                          "output_names": list(core.output_names)},
        OPTIONALS_ATTR: fmt.OPTIONALS_SIZES.get(era, fmt.OPTIONALS_SIZES["2021"]),
    }
    if images:
        records = [[] for _ in range(fmt.PREPROCESSING_RECORD_COUNT)]
        for feature in images:
            scaler = scalers.get(feature.name)
            one = preprocessing_from_scaler(feature.name, **_scaler_values(scaler))
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


def _transform_params(scaler, feature) -> dict:
    """`transform_params` of one image input [V S1-S5 for RGB inputs with a scaler]."""
    from mlir_coreml.passes.nn_to_espresso import f32

    values = _scaler_values(scaler)
    space = feature.type.imageType.colorSpace
    return {"bias_a": 0, "bias_g": f32(values.get("green_bias", 0.0)), "bias_r": f32(values.get("red_bias", 0.0)),
            "bias_b": f32(values.get("blue_bias", 0.0)), "center_mean": 0,
            "is_network_bgr": int(space == 30),  # ImageFeatureType.BGR
            "scale": f32(values.get("channel_scale", 1.0))}


def _analytics(data: bytes, model, model_name: str, model_hash: str | None) -> dict:
    """Analytics sections; the bundle writer fills in the hashes of the files it writes."""
    from mlir_coreml.codegen.espresso.coremldata import sha256_base64

    details = {"modelDimension": str(len(model.neuralNetwork.layers)), "nnModelNetHash": "",
               "nnModelShapeHash": "", "nnModelWeightsHash": ""}
    spec = {"modelHash": model_hash or sha256_base64(data), "modelName": model_name}
    return {fmt.ANALYTICS_NN_SECTION: details, fmt.ANALYTICS_SPEC_SECTION: spec}
