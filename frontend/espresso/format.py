"""Facts about the files of a compiled NeuralNetwork `.mlmodelc` (espresso) bundle, written once.

Reader (`frontend/espresso/bundle.py`) and writers (`codegen/espresso/`) both take their
constants and the decoded-part records from here. Evidence levels follow
docs/espresso-format.md: [V] verified byte for byte on the samples, [O] observed, rule inferred.
All integers are little-endian; "u64" is an unsigned 64-bit word.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# --- compiler eras whose output `lower --coremlc-version` reproduces, oldest first. "2019-early"
# is the coremlc of the LetterClass bundle, a few months before FourRecognize's "2019": no
# neural_network_optionals/, no transform_params, padded convolution biases. Comparing era strings
# orders every era but "2019-early" (which sorts after "2019"): use era_at_least for that.
COREMLC_ERAS = ("2019-early", "2019", "2020", "2021", "2025")


def era_at_least(era: str, oldest: str) -> bool:
    return COREMLC_ERAS.index(era) >= COREMLC_ERAS.index(oldest)

# --- file names (relative to the bundle root) -------------------------------------------------
NET_FILE = "model.espresso.net"
SHAPE_FILE = "model.espresso.shape"
WEIGHTS_FILE = "model.espresso.weights"
COREMLDATA_FILE = "coremldata.bin"
PREPROCESSING_FILE = "model/coremldata.bin"
OPTIONALS_FILE = "neural_network_optionals/coremldata.bin"
ANALYTICS_FILE = "analytics/coremldata.bin"
METADATA_FILE = "metadata.json"

# --- module attributes of an espresso-dialect module: one per side file, set by the readers
# (frontend/mlmodelc.py, codegen/lower.py) and consumed by codegen/espresso/bundle_writer.py
NET_ATTR = "espresso.net"
ND_SHAPES_ATTR = "espresso.nd_shapes"
COREMLDATA_ATTR = "espresso.coremldata"
PREPROCESSING_ATTR = "espresso.preprocessing"
OPTIONALS_ATTR = "espresso.optionals"
ANALYTICS_ATTR = "espresso.analytics"
METADATA_ATTR = "espresso.metadata"
PADDED_BIASES_ATTR = "espresso.padded_biases"   # layer types whose bias blobs are padded x4
PIPELINE_ATTR = "espresso.pipeline"   # number of stages of a pipeline bundle read into one function

# --- compressed espresso JSON (Apple system models only, never coremlc output) ----------------
# 28-byte header: "pbze", u32 0, u32le 0x40, u32 0, u32be uncompressed size (@0x10), u32 0,
# u32be compressed size (@0x18), then an LZFSE ("bvx2") stream at 0x1C.
PBZE_MAGIC = b"pbze"
PBZE_HEADER_SIZE = 0x1C

# --- model.espresso.net ------------------------------------------------------------------------
NET_FORMAT_VERSION = 200
# Net keys naming weight blobs, and the element type of the blob's payload [V]. fp16 models keep
# their biases in float32.
BLOB_KEY_DTYPES = {
    "blob_weights": "<f4",
    "blob_weights_f16": "<f2",
    "blob_biases": "<f4",
    "blob_batchnorm_params": "<f4",
}
# inner_product biases are stored as nC floats followed by 3*nC zero floats [V S6]; the early-2019
# compiler pads convolution biases the same way (C floats + 3*C zeros) [V LetterClass], later ones
# do not (S1-S5). Layer types with padded biases, by era:
INNER_PRODUCT_BIAS_PAD_FACTOR = 4
PADDED_BIAS_LAYERS = {"2019-early": ("convolution", "inner_product")}
DEFAULT_PADDED_BIAS_LAYERS = ("inner_product",)
# Bias blob sizes in units of the layer field counting output channels.
BIAS_CHANNEL_FIELDS = {"convolution": "C", "inner_product": "nC"}

# Enumeration codes confirmed on the samples [V: value in the net vs the source layer]; the
# wider third-party tables are in docs/espresso-format.md section 2.5.
ACTIVATION_MODES = {"relu": 0, "linear": 6, "sigmoid_hard": 7}
ELEMENTWISE_OPERATIONS = {"add": 0, "multiply": 1, "inverse": 10, "max_alpha": 25, "exp": 27}
POOL_AVG_OR_MAX = {"average": 0, "max": 1}
# Convolution pad_mode: source `valid` (with explicit paddingAmounts) -> 0, `same` -> 1 (176 convs).
CONV_PAD_MODES = {"explicit": 0, "same": 1}
POOL_PAD_MODE_VALID = 2
REDUCE_MODES = {"sum": 0}

# --- model.espresso.weights [V, all samples] ---------------------------------------------------
# u64 N, then N x {u64 id, u64 size} with id == index, then the payloads in table order, no gaps.
# Data blobs have odd ids 1, 3, 5, ... allocated in layer order (within a layer biases first,
# then weights). Every even id is a zero-filled padding blob whose size is the minimum that makes
# the following data blob start at a file offset that is a multiple of WEIGHTS_ALIGNMENT (blob 0
# pads the header). N is therefore 2 x (number of data blobs): no padding entry follows the last
# data blob, and nothing is appended after it (in all samples the last blob happened to end on a
# 64-byte boundary, so whether coremlc pads the file tail is not known).
WEIGHTS_ALIGNMENT = 64
WEIGHTS_COUNT_SIZE = 8
WEIGHTS_ENTRY_SIZE = 16


def data_blob_id(index: int) -> int:
    """Blob id of the index-th data blob (0-based) in model.espresso.weights."""
    return 2 * index + 1


def is_padding_blob(blob_id: int) -> bool:
    return blob_id % 2 == 0


def padding_before(offset: int) -> int:
    """Size of the padding blob that moves a payload starting at `offset` to the next boundary."""
    return -offset % WEIGHTS_ALIGNMENT


# --- coremldata.bin (bundle root) [V, 6 samples] -----------------------------------------------
# 0x00 u32  model type (Model.proto oneof field number: 500 neuralNetwork, 502 mlProgram)
# 0x04 3 x u64 "format version" words: a major.minor.patch version of the compiled form, which
#      depends on the model type and (networks) the spec version, not on the era: see
#      coremldata_format_version below.
# 0x1C u64 length + bytes: platform string, "generic" for networks (pipelines: see below)
# 0x2B u64  specificationVersion of the source model
# 0x33 3 x u64 always 0 (reserved)
# 0x4B u64 L + L bytes: ModelDescription protobuf, byte-identical to the raw bytes of field 2
#      (`description`) of the source .mlmodel (== Model.description.SerializeToString() on every
#      paired sample; metadata field 100 only when the source has it, coremlc adds nothing)
# then the network trailer: u64 model type again; for a neuralNetworkClassifier (403) the class
#      labels, u64 label-kind (100 string / 101 int64: the NeuralNetworkClassifier field numbers),
#      u64 count, count x label (string: u64 len + bytes [V LetterClass]; int64: one i64 each
#      [V MNISTClassifier]), and the probabilities blob name (u64 len + bytes) [V both]; then, for
#      every network kind, u64 M, M x {u64 len, name}: the network's output names in *reverse*
#      description order [O, 2 multi-output samples]. A classifier lists the description outputs
#      other than the predicted label (`letter`, `labelProbabilities`; not `classLabel`) [O, 2 samples].
#      A neuralNetworkRegressor (303) is written like a neuralNetwork [inferred: no sample].
MODEL_TYPE_NEURAL_NETWORK = 500
MODEL_TYPE_NN_CLASSIFIER = 403
MODEL_TYPE_NN_REGRESSOR = 303
NETWORK_MODEL_TYPES = (MODEL_TYPE_NEURAL_NETWORK, MODEL_TYPE_NN_CLASSIFIER, MODEL_TYPE_NN_REGRESSOR)
# Model.Type oneof names of the network kinds (field numbers 500, 403, 303) and of pipelines (202,
# 200, 201): the model kinds `lower` writes as espresso bundles.
NETWORK_MODEL_KINDS = ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")
PIPELINE_MODEL_KINDS = ("pipeline", "pipelineClassifier", "pipelineRegressor")
PIPELINE_MODEL_TYPES = (202, 200, 201)
CLASS_LABEL_KINDS = {100: "string", 101: "int64"}   # NeuralNetworkClassifier.ClassLabels field numbers
MODEL_TYPE_ML_PROGRAM = 502
# A pipeline bundle, whatever its stages hold [O: UpdatableDrawingClassifier, an Apple-compiled
# pipelineClassifier (network + kNearestNeighborsClassifier stages), 2024+ coremlc; 3P: coremlc 3600's
# ML Program pipelines; see docs/pipeline-bundles.md]: each stage is a bundle of its own in `model0/`,
# `model1/`, ... The root coremldata.bin holds the pipeline's header and description; its platform
# string is the root platform followed, per stage, by `.<folder>v<the stage's format version
# a.b.c><the stage's platform>` ("generic.model0v1.2.1generic.model1v1.0.0notreesyet"; an ML Program
# stage: "v<spec>.0.0generic"); the trailer is u64 S (stage count) then u64 model type.


def pipeline_stage_folder(index: int) -> str:
    return f"model{index}"


COREMLDATA_PLATFORM = "generic"
# 0x04 3 x u64: a version of the compiled form, by model type; for networks by the source's
# specificationVersion, whatever the compiler's era [O: spec 1 -> (1, 2, 1) in S1, LetterClass and
# two 2024+ bundles (MNISTClassifier, UpdatableDrawingClassifier/model0); spec 2 -> (1, 3, 0) in
# S2-S5; spec 4 -> (3, 0, 0) in S6]. Spec 3 and 5+ take the nearest lower known version [inferred].
NETWORK_FORMAT_VERSIONS = {1: (1, 2, 1), 2: (1, 3, 0), 4: (3, 0, 0)}
PIPELINE_FORMAT_VERSION = (1, 0, 1)   # [O UpdatableDrawingClassifier]


def coremldata_format_version(model_type: int, spec_version: int) -> tuple[int, int, int]:
    if model_type in PIPELINE_MODEL_TYPES:
        return PIPELINE_FORMAT_VERSION
    known = [version for version in NETWORK_FORMAT_VERSIONS if version <= spec_version] or [1]
    return NETWORK_FORMAT_VERSIONS[max(known)]


COREMLDATA_RESERVED_WORDS = 3
MLMODEL_DESCRIPTION_FIELD = 2          # Model.description
MODEL_DESCRIPTION_OUTPUT_FIELD = 10    # ModelDescription.output (repeated FeatureDescription)
FEATURE_DESCRIPTION_NAME_FIELD = 1     # FeatureDescription.name
DESCRIPTION_METADATA_FIELD = 100       # ModelDescription.metadata
EMPTY_METADATA = b"\xa2\x06\x00"       # field 100, wire type 2, length 0

# --- model/coremldata.bin: image pre-processing [V structure, O meaning] -------------------------
# PREPROCESSING_RECORD_COUNT records, each u64 count, then count x {u64 len, name, f32 value},
# one entry per image input. Observed values for NeuralNetworkImageScaler: record 0 = 1.0,
# 1 and 2 = 0, 3..5 = the blue/green/red biases (order unknown: samples have equal biases),
# 6 = gray bias (?), 7 = channelScale.
PREPROCESSING_RECORD_COUNT = 8

# --- neural_network_optionals/coremldata.bin [O] -----------------------------------------------
# Only zero bytes seen; length by compiler era (2 / 4 / 5 zero u64 words). The early-2019 compiler
# (LetterClass) and the 2017 ones (xamarin) write no such file: None.
OPTIONALS_SIZES = {"2019-early": None, "2019": 16, "2020": 32, "2021": 40}

# --- analytics/coremldata.bin [V S4] -----------------------------------------------------------
# Sections until end of file: u64 len + section name, u64 count, count x {u64 klen, key,
# u64 vlen, value}. Sections and keys are in alphabetical order. Hashes are base64(SHA-256).
ANALYTICS_NN_SECTION = "NeuralNetworkModelDetails"
ANALYTICS_SPEC_SECTION = "SpecificationDetails"
ANALYTICS_PIPELINE_SECTION = "PipelineModelDetails"   # a pipeline's root: modelDimension = stage count [O]
ANALYTICS_HASHED_FILES = {
    "nnModelNetHash": NET_FILE,
    "nnModelShapeHash": SHAPE_FILE,
    "nnModelWeightsHash": WEIGHTS_FILE,
}

# --- JSON files: Foundation NSJSONSerialization pretty printing [V, all 14 JSON files] ----------
JSON_INDENT = "  "
JSON_KEY_SEPARATOR = " : "
JSON_FLOAT_FORMAT = "%.17g"


# --- decoded parts ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CoremlData:
    """The bundle root `coremldata.bin`, split into its fields."""

    model_type: int
    format_version: tuple[int, int, int]
    platform: str
    spec_version: int
    description: bytes                      # serialized ModelDescription (decoded elsewhere)
    output_names: tuple[str, ...] | None    # network trailer, in file order
    trailer: bytes                          # raw bytes after the description
    reserved: tuple[int, ...] = (0,) * COREMLDATA_RESERVED_WORDS
    class_labels: tuple | None = None       # neuralNetworkClassifier: str or int labels
    probability_blob: str | None = None     # neuralNetworkClassifier: the blob holding the probabilities


@dataclass(frozen=True)
class PreprocessingRecords:
    """`model/coremldata.bin`: PREPROCESSING_RECORD_COUNT records of (input name, float32) pairs."""

    records: tuple[tuple[tuple[str, float], ...], ...]


@dataclass(frozen=True)
class Analytics:
    """`analytics/coremldata.bin`: section name -> ordered (key, value) strings."""

    sections: dict[str, dict[str, str]] = field(default_factory=dict)
