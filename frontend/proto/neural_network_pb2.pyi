from mlir_coreml.frontend.proto import data_structures_pb2 as _data_structures_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NeuralNetworkMultiArrayShapeMapping(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RANK5_ARRAY_MAPPING: _ClassVar[NeuralNetworkMultiArrayShapeMapping]
    EXACT_ARRAY_MAPPING: _ClassVar[NeuralNetworkMultiArrayShapeMapping]

class NeuralNetworkImageShapeMapping(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RANK5_IMAGE_MAPPING: _ClassVar[NeuralNetworkImageShapeMapping]
    RANK4_IMAGE_MAPPING: _ClassVar[NeuralNetworkImageShapeMapping]

class ScatterMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCATTER_UPDATE: _ClassVar[ScatterMode]
    SCATTER_ADD: _ClassVar[ScatterMode]
    SCATTER_SUB: _ClassVar[ScatterMode]
    SCATTER_MUL: _ClassVar[ScatterMode]
    SCATTER_DIV: _ClassVar[ScatterMode]
    SCATTER_MAX: _ClassVar[ScatterMode]
    SCATTER_MIN: _ClassVar[ScatterMode]
RANK5_ARRAY_MAPPING: NeuralNetworkMultiArrayShapeMapping
EXACT_ARRAY_MAPPING: NeuralNetworkMultiArrayShapeMapping
RANK5_IMAGE_MAPPING: NeuralNetworkImageShapeMapping
RANK4_IMAGE_MAPPING: NeuralNetworkImageShapeMapping
SCATTER_UPDATE: ScatterMode
SCATTER_ADD: ScatterMode
SCATTER_SUB: ScatterMode
SCATTER_MUL: ScatterMode
SCATTER_DIV: ScatterMode
SCATTER_MAX: ScatterMode
SCATTER_MIN: ScatterMode

class NeuralNetwork(_message.Message):
    __slots__ = ("layers", "preprocessing", "arrayInputShapeMapping", "imageInputShapeMapping", "updateParams")
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    ARRAYINPUTSHAPEMAPPING_FIELD_NUMBER: _ClassVar[int]
    IMAGEINPUTSHAPEMAPPING_FIELD_NUMBER: _ClassVar[int]
    UPDATEPARAMS_FIELD_NUMBER: _ClassVar[int]
    layers: _containers.RepeatedCompositeFieldContainer[NeuralNetworkLayer]
    preprocessing: _containers.RepeatedCompositeFieldContainer[NeuralNetworkPreprocessing]
    arrayInputShapeMapping: NeuralNetworkMultiArrayShapeMapping
    imageInputShapeMapping: NeuralNetworkImageShapeMapping
    updateParams: NetworkUpdateParameters
    def __init__(self, layers: _Optional[_Iterable[_Union[NeuralNetworkLayer, _Mapping]]] = ..., preprocessing: _Optional[_Iterable[_Union[NeuralNetworkPreprocessing, _Mapping]]] = ..., arrayInputShapeMapping: _Optional[_Union[NeuralNetworkMultiArrayShapeMapping, str]] = ..., imageInputShapeMapping: _Optional[_Union[NeuralNetworkImageShapeMapping, str]] = ..., updateParams: _Optional[_Union[NetworkUpdateParameters, _Mapping]] = ...) -> None: ...

class NeuralNetworkClassifier(_message.Message):
    __slots__ = ("layers", "preprocessing", "arrayInputShapeMapping", "imageInputShapeMapping", "updateParams", "stringClassLabels", "int64ClassLabels", "labelProbabilityLayerName")
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    ARRAYINPUTSHAPEMAPPING_FIELD_NUMBER: _ClassVar[int]
    IMAGEINPUTSHAPEMAPPING_FIELD_NUMBER: _ClassVar[int]
    UPDATEPARAMS_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    INT64CLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    LABELPROBABILITYLAYERNAME_FIELD_NUMBER: _ClassVar[int]
    layers: _containers.RepeatedCompositeFieldContainer[NeuralNetworkLayer]
    preprocessing: _containers.RepeatedCompositeFieldContainer[NeuralNetworkPreprocessing]
    arrayInputShapeMapping: NeuralNetworkMultiArrayShapeMapping
    imageInputShapeMapping: NeuralNetworkImageShapeMapping
    updateParams: NetworkUpdateParameters
    stringClassLabels: _data_structures_pb2.StringVector
    int64ClassLabels: _data_structures_pb2.Int64Vector
    labelProbabilityLayerName: str
    def __init__(self, layers: _Optional[_Iterable[_Union[NeuralNetworkLayer, _Mapping]]] = ..., preprocessing: _Optional[_Iterable[_Union[NeuralNetworkPreprocessing, _Mapping]]] = ..., arrayInputShapeMapping: _Optional[_Union[NeuralNetworkMultiArrayShapeMapping, str]] = ..., imageInputShapeMapping: _Optional[_Union[NeuralNetworkImageShapeMapping, str]] = ..., updateParams: _Optional[_Union[NetworkUpdateParameters, _Mapping]] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ClassLabels: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ..., labelProbabilityLayerName: _Optional[str] = ...) -> None: ...

class NeuralNetworkRegressor(_message.Message):
    __slots__ = ("layers", "preprocessing", "arrayInputShapeMapping", "imageInputShapeMapping", "updateParams")
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    ARRAYINPUTSHAPEMAPPING_FIELD_NUMBER: _ClassVar[int]
    IMAGEINPUTSHAPEMAPPING_FIELD_NUMBER: _ClassVar[int]
    UPDATEPARAMS_FIELD_NUMBER: _ClassVar[int]
    layers: _containers.RepeatedCompositeFieldContainer[NeuralNetworkLayer]
    preprocessing: _containers.RepeatedCompositeFieldContainer[NeuralNetworkPreprocessing]
    arrayInputShapeMapping: NeuralNetworkMultiArrayShapeMapping
    imageInputShapeMapping: NeuralNetworkImageShapeMapping
    updateParams: NetworkUpdateParameters
    def __init__(self, layers: _Optional[_Iterable[_Union[NeuralNetworkLayer, _Mapping]]] = ..., preprocessing: _Optional[_Iterable[_Union[NeuralNetworkPreprocessing, _Mapping]]] = ..., arrayInputShapeMapping: _Optional[_Union[NeuralNetworkMultiArrayShapeMapping, str]] = ..., imageInputShapeMapping: _Optional[_Union[NeuralNetworkImageShapeMapping, str]] = ..., updateParams: _Optional[_Union[NetworkUpdateParameters, _Mapping]] = ...) -> None: ...

class NeuralNetworkPreprocessing(_message.Message):
    __slots__ = ("featureName", "scaler", "meanImage")
    FEATURENAME_FIELD_NUMBER: _ClassVar[int]
    SCALER_FIELD_NUMBER: _ClassVar[int]
    MEANIMAGE_FIELD_NUMBER: _ClassVar[int]
    featureName: str
    scaler: NeuralNetworkImageScaler
    meanImage: NeuralNetworkMeanImage
    def __init__(self, featureName: _Optional[str] = ..., scaler: _Optional[_Union[NeuralNetworkImageScaler, _Mapping]] = ..., meanImage: _Optional[_Union[NeuralNetworkMeanImage, _Mapping]] = ...) -> None: ...

class NeuralNetworkImageScaler(_message.Message):
    __slots__ = ("channelScale", "blueBias", "greenBias", "redBias", "grayBias")
    CHANNELSCALE_FIELD_NUMBER: _ClassVar[int]
    BLUEBIAS_FIELD_NUMBER: _ClassVar[int]
    GREENBIAS_FIELD_NUMBER: _ClassVar[int]
    REDBIAS_FIELD_NUMBER: _ClassVar[int]
    GRAYBIAS_FIELD_NUMBER: _ClassVar[int]
    channelScale: float
    blueBias: float
    greenBias: float
    redBias: float
    grayBias: float
    def __init__(self, channelScale: _Optional[float] = ..., blueBias: _Optional[float] = ..., greenBias: _Optional[float] = ..., redBias: _Optional[float] = ..., grayBias: _Optional[float] = ...) -> None: ...

class NeuralNetworkMeanImage(_message.Message):
    __slots__ = ("meanImage",)
    MEANIMAGE_FIELD_NUMBER: _ClassVar[int]
    meanImage: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, meanImage: _Optional[_Iterable[float]] = ...) -> None: ...

class NeuralNetworkLayer(_message.Message):
    __slots__ = ("name", "input", "output", "inputTensor", "outputTensor", "isUpdatable", "convolution", "pooling", "activation", "innerProduct", "embedding", "batchnorm", "mvn", "l2normalize", "softmax", "lrn", "crop", "padding", "upsample", "resizeBilinear", "cropResize", "unary", "add", "multiply", "average", "scale", "bias", "max", "min", "dot", "reduce", "loadConstant", "reshape", "flatten", "permute", "concat", "split", "sequenceRepeat", "reorganizeData", "slice", "simpleRecurrent", "gru", "uniDirectionalLSTM", "biDirectionalLSTM", "custom", "copy", "branch", "loop", "loopBreak", "loopContinue", "rangeStatic", "rangeDynamic", "clip", "ceil", "floor", "sign", "round", "exp2", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "gelu", "equal", "notEqual", "lessThan", "lessEqual", "greaterThan", "greaterEqual", "logicalOr", "logicalXor", "logicalNot", "logicalAnd", "modBroadcastable", "minBroadcastable", "maxBroadcastable", "addBroadcastable", "powBroadcastable", "divideBroadcastable", "floorDivBroadcastable", "multiplyBroadcastable", "subtractBroadcastable", "tile", "stack", "gather", "scatter", "gatherND", "scatterND", "softmaxND", "gatherAlongAxis", "scatterAlongAxis", "reverse", "reverseSeq", "splitND", "concatND", "transpose", "sliceStatic", "sliceDynamic", "slidingWindows", "topK", "argMin", "argMax", "embeddingND", "batchedMatmul", "getShape", "loadConstantND", "fillLike", "fillStatic", "fillDynamic", "broadcastToLike", "broadcastToStatic", "broadcastToDynamic", "squeeze", "expandDims", "flattenTo2D", "reshapeLike", "reshapeStatic", "reshapeDynamic", "rankPreservingReshape", "constantPad", "randomNormalLike", "randomNormalStatic", "randomNormalDynamic", "randomUniformLike", "randomUniformStatic", "randomUniformDynamic", "randomBernoulliLike", "randomBernoulliStatic", "randomBernoulliDynamic", "categoricalDistribution", "reduceL1", "reduceL2", "reduceMax", "reduceMin", "reduceSum", "reduceProd", "reduceMean", "reduceLogSum", "reduceSumSquare", "reduceLogSumExp", "whereNonZero", "matrixBandPart", "lowerTriangular", "upperTriangular", "whereBroadcastable", "layerNormalization", "NonMaximumSuppression", "oneHot", "cumSum", "clampedReLU", "argSort", "pooling3d", "globalPooling3d", "sliceBySize", "convolution3d")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    INPUTTENSOR_FIELD_NUMBER: _ClassVar[int]
    OUTPUTTENSOR_FIELD_NUMBER: _ClassVar[int]
    ISUPDATABLE_FIELD_NUMBER: _ClassVar[int]
    CONVOLUTION_FIELD_NUMBER: _ClassVar[int]
    POOLING_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    INNERPRODUCT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    BATCHNORM_FIELD_NUMBER: _ClassVar[int]
    MVN_FIELD_NUMBER: _ClassVar[int]
    L2NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    SOFTMAX_FIELD_NUMBER: _ClassVar[int]
    LRN_FIELD_NUMBER: _ClassVar[int]
    CROP_FIELD_NUMBER: _ClassVar[int]
    PADDING_FIELD_NUMBER: _ClassVar[int]
    UPSAMPLE_FIELD_NUMBER: _ClassVar[int]
    RESIZEBILINEAR_FIELD_NUMBER: _ClassVar[int]
    CROPRESIZE_FIELD_NUMBER: _ClassVar[int]
    UNARY_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    MULTIPLY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    DOT_FIELD_NUMBER: _ClassVar[int]
    REDUCE_FIELD_NUMBER: _ClassVar[int]
    LOADCONSTANT_FIELD_NUMBER: _ClassVar[int]
    RESHAPE_FIELD_NUMBER: _ClassVar[int]
    FLATTEN_FIELD_NUMBER: _ClassVar[int]
    PERMUTE_FIELD_NUMBER: _ClassVar[int]
    CONCAT_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCEREPEAT_FIELD_NUMBER: _ClassVar[int]
    REORGANIZEDATA_FIELD_NUMBER: _ClassVar[int]
    SLICE_FIELD_NUMBER: _ClassVar[int]
    SIMPLERECURRENT_FIELD_NUMBER: _ClassVar[int]
    GRU_FIELD_NUMBER: _ClassVar[int]
    UNIDIRECTIONALLSTM_FIELD_NUMBER: _ClassVar[int]
    BIDIRECTIONALLSTM_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    COPY_FIELD_NUMBER: _ClassVar[int]
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    LOOP_FIELD_NUMBER: _ClassVar[int]
    LOOPBREAK_FIELD_NUMBER: _ClassVar[int]
    LOOPCONTINUE_FIELD_NUMBER: _ClassVar[int]
    RANGESTATIC_FIELD_NUMBER: _ClassVar[int]
    RANGEDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    CLIP_FIELD_NUMBER: _ClassVar[int]
    CEIL_FIELD_NUMBER: _ClassVar[int]
    FLOOR_FIELD_NUMBER: _ClassVar[int]
    SIGN_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    EXP2_FIELD_NUMBER: _ClassVar[int]
    SIN_FIELD_NUMBER: _ClassVar[int]
    COS_FIELD_NUMBER: _ClassVar[int]
    TAN_FIELD_NUMBER: _ClassVar[int]
    ASIN_FIELD_NUMBER: _ClassVar[int]
    ACOS_FIELD_NUMBER: _ClassVar[int]
    ATAN_FIELD_NUMBER: _ClassVar[int]
    SINH_FIELD_NUMBER: _ClassVar[int]
    COSH_FIELD_NUMBER: _ClassVar[int]
    TANH_FIELD_NUMBER: _ClassVar[int]
    ASINH_FIELD_NUMBER: _ClassVar[int]
    ACOSH_FIELD_NUMBER: _ClassVar[int]
    ATANH_FIELD_NUMBER: _ClassVar[int]
    ERF_FIELD_NUMBER: _ClassVar[int]
    GELU_FIELD_NUMBER: _ClassVar[int]
    EQUAL_FIELD_NUMBER: _ClassVar[int]
    NOTEQUAL_FIELD_NUMBER: _ClassVar[int]
    LESSTHAN_FIELD_NUMBER: _ClassVar[int]
    LESSEQUAL_FIELD_NUMBER: _ClassVar[int]
    GREATERTHAN_FIELD_NUMBER: _ClassVar[int]
    GREATEREQUAL_FIELD_NUMBER: _ClassVar[int]
    LOGICALOR_FIELD_NUMBER: _ClassVar[int]
    LOGICALXOR_FIELD_NUMBER: _ClassVar[int]
    LOGICALNOT_FIELD_NUMBER: _ClassVar[int]
    LOGICALAND_FIELD_NUMBER: _ClassVar[int]
    MODBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    MINBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    MAXBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    ADDBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    POWBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    DIVIDEBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    FLOORDIVBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    MULTIPLYBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    SUBTRACTBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    TILE_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    GATHER_FIELD_NUMBER: _ClassVar[int]
    SCATTER_FIELD_NUMBER: _ClassVar[int]
    GATHERND_FIELD_NUMBER: _ClassVar[int]
    SCATTERND_FIELD_NUMBER: _ClassVar[int]
    SOFTMAXND_FIELD_NUMBER: _ClassVar[int]
    GATHERALONGAXIS_FIELD_NUMBER: _ClassVar[int]
    SCATTERALONGAXIS_FIELD_NUMBER: _ClassVar[int]
    REVERSE_FIELD_NUMBER: _ClassVar[int]
    REVERSESEQ_FIELD_NUMBER: _ClassVar[int]
    SPLITND_FIELD_NUMBER: _ClassVar[int]
    CONCATND_FIELD_NUMBER: _ClassVar[int]
    TRANSPOSE_FIELD_NUMBER: _ClassVar[int]
    SLICESTATIC_FIELD_NUMBER: _ClassVar[int]
    SLICEDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    SLIDINGWINDOWS_FIELD_NUMBER: _ClassVar[int]
    TOPK_FIELD_NUMBER: _ClassVar[int]
    ARGMIN_FIELD_NUMBER: _ClassVar[int]
    ARGMAX_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGND_FIELD_NUMBER: _ClassVar[int]
    BATCHEDMATMUL_FIELD_NUMBER: _ClassVar[int]
    GETSHAPE_FIELD_NUMBER: _ClassVar[int]
    LOADCONSTANTND_FIELD_NUMBER: _ClassVar[int]
    FILLLIKE_FIELD_NUMBER: _ClassVar[int]
    FILLSTATIC_FIELD_NUMBER: _ClassVar[int]
    FILLDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    BROADCASTTOLIKE_FIELD_NUMBER: _ClassVar[int]
    BROADCASTTOSTATIC_FIELD_NUMBER: _ClassVar[int]
    BROADCASTTODYNAMIC_FIELD_NUMBER: _ClassVar[int]
    SQUEEZE_FIELD_NUMBER: _ClassVar[int]
    EXPANDDIMS_FIELD_NUMBER: _ClassVar[int]
    FLATTENTO2D_FIELD_NUMBER: _ClassVar[int]
    RESHAPELIKE_FIELD_NUMBER: _ClassVar[int]
    RESHAPESTATIC_FIELD_NUMBER: _ClassVar[int]
    RESHAPEDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    RANKPRESERVINGRESHAPE_FIELD_NUMBER: _ClassVar[int]
    CONSTANTPAD_FIELD_NUMBER: _ClassVar[int]
    RANDOMNORMALLIKE_FIELD_NUMBER: _ClassVar[int]
    RANDOMNORMALSTATIC_FIELD_NUMBER: _ClassVar[int]
    RANDOMNORMALDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    RANDOMUNIFORMLIKE_FIELD_NUMBER: _ClassVar[int]
    RANDOMUNIFORMSTATIC_FIELD_NUMBER: _ClassVar[int]
    RANDOMUNIFORMDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    RANDOMBERNOULLILIKE_FIELD_NUMBER: _ClassVar[int]
    RANDOMBERNOULLISTATIC_FIELD_NUMBER: _ClassVar[int]
    RANDOMBERNOULLIDYNAMIC_FIELD_NUMBER: _ClassVar[int]
    CATEGORICALDISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    REDUCEL1_FIELD_NUMBER: _ClassVar[int]
    REDUCEL2_FIELD_NUMBER: _ClassVar[int]
    REDUCEMAX_FIELD_NUMBER: _ClassVar[int]
    REDUCEMIN_FIELD_NUMBER: _ClassVar[int]
    REDUCESUM_FIELD_NUMBER: _ClassVar[int]
    REDUCEPROD_FIELD_NUMBER: _ClassVar[int]
    REDUCEMEAN_FIELD_NUMBER: _ClassVar[int]
    REDUCELOGSUM_FIELD_NUMBER: _ClassVar[int]
    REDUCESUMSQUARE_FIELD_NUMBER: _ClassVar[int]
    REDUCELOGSUMEXP_FIELD_NUMBER: _ClassVar[int]
    WHERENONZERO_FIELD_NUMBER: _ClassVar[int]
    MATRIXBANDPART_FIELD_NUMBER: _ClassVar[int]
    LOWERTRIANGULAR_FIELD_NUMBER: _ClassVar[int]
    UPPERTRIANGULAR_FIELD_NUMBER: _ClassVar[int]
    WHEREBROADCASTABLE_FIELD_NUMBER: _ClassVar[int]
    LAYERNORMALIZATION_FIELD_NUMBER: _ClassVar[int]
    NONMAXIMUMSUPPRESSION_FIELD_NUMBER: _ClassVar[int]
    ONEHOT_FIELD_NUMBER: _ClassVar[int]
    CUMSUM_FIELD_NUMBER: _ClassVar[int]
    CLAMPEDRELU_FIELD_NUMBER: _ClassVar[int]
    ARGSORT_FIELD_NUMBER: _ClassVar[int]
    POOLING3D_FIELD_NUMBER: _ClassVar[int]
    GLOBALPOOLING3D_FIELD_NUMBER: _ClassVar[int]
    SLICEBYSIZE_FIELD_NUMBER: _ClassVar[int]
    CONVOLUTION3D_FIELD_NUMBER: _ClassVar[int]
    name: str
    input: _containers.RepeatedScalarFieldContainer[str]
    output: _containers.RepeatedScalarFieldContainer[str]
    inputTensor: _containers.RepeatedCompositeFieldContainer[Tensor]
    outputTensor: _containers.RepeatedCompositeFieldContainer[Tensor]
    isUpdatable: bool
    convolution: ConvolutionLayerParams
    pooling: PoolingLayerParams
    activation: ActivationParams
    innerProduct: InnerProductLayerParams
    embedding: EmbeddingLayerParams
    batchnorm: BatchnormLayerParams
    mvn: MeanVarianceNormalizeLayerParams
    l2normalize: L2NormalizeLayerParams
    softmax: SoftmaxLayerParams
    lrn: LRNLayerParams
    crop: CropLayerParams
    padding: PaddingLayerParams
    upsample: UpsampleLayerParams
    resizeBilinear: ResizeBilinearLayerParams
    cropResize: CropResizeLayerParams
    unary: UnaryFunctionLayerParams
    add: AddLayerParams
    multiply: MultiplyLayerParams
    average: AverageLayerParams
    scale: ScaleLayerParams
    bias: BiasLayerParams
    max: MaxLayerParams
    min: MinLayerParams
    dot: DotProductLayerParams
    reduce: ReduceLayerParams
    loadConstant: LoadConstantLayerParams
    reshape: ReshapeLayerParams
    flatten: FlattenLayerParams
    permute: PermuteLayerParams
    concat: ConcatLayerParams
    split: SplitLayerParams
    sequenceRepeat: SequenceRepeatLayerParams
    reorganizeData: ReorganizeDataLayerParams
    slice: SliceLayerParams
    simpleRecurrent: SimpleRecurrentLayerParams
    gru: GRULayerParams
    uniDirectionalLSTM: UniDirectionalLSTMLayerParams
    biDirectionalLSTM: BiDirectionalLSTMLayerParams
    custom: CustomLayerParams
    copy: CopyLayerParams
    branch: BranchLayerParams
    loop: LoopLayerParams
    loopBreak: LoopBreakLayerParams
    loopContinue: LoopContinueLayerParams
    rangeStatic: RangeStaticLayerParams
    rangeDynamic: RangeDynamicLayerParams
    clip: ClipLayerParams
    ceil: CeilLayerParams
    floor: FloorLayerParams
    sign: SignLayerParams
    round: RoundLayerParams
    exp2: Exp2LayerParams
    sin: SinLayerParams
    cos: CosLayerParams
    tan: TanLayerParams
    asin: AsinLayerParams
    acos: AcosLayerParams
    atan: AtanLayerParams
    sinh: SinhLayerParams
    cosh: CoshLayerParams
    tanh: TanhLayerParams
    asinh: AsinhLayerParams
    acosh: AcoshLayerParams
    atanh: AtanhLayerParams
    erf: ErfLayerParams
    gelu: GeluLayerParams
    equal: EqualLayerParams
    notEqual: NotEqualLayerParams
    lessThan: LessThanLayerParams
    lessEqual: LessEqualLayerParams
    greaterThan: GreaterThanLayerParams
    greaterEqual: GreaterEqualLayerParams
    logicalOr: LogicalOrLayerParams
    logicalXor: LogicalXorLayerParams
    logicalNot: LogicalNotLayerParams
    logicalAnd: LogicalAndLayerParams
    modBroadcastable: ModBroadcastableLayerParams
    minBroadcastable: MinBroadcastableLayerParams
    maxBroadcastable: MaxBroadcastableLayerParams
    addBroadcastable: AddBroadcastableLayerParams
    powBroadcastable: PowBroadcastableLayerParams
    divideBroadcastable: DivideBroadcastableLayerParams
    floorDivBroadcastable: FloorDivBroadcastableLayerParams
    multiplyBroadcastable: MultiplyBroadcastableLayerParams
    subtractBroadcastable: SubtractBroadcastableLayerParams
    tile: TileLayerParams
    stack: StackLayerParams
    gather: GatherLayerParams
    scatter: ScatterLayerParams
    gatherND: GatherNDLayerParams
    scatterND: ScatterNDLayerParams
    softmaxND: SoftmaxNDLayerParams
    gatherAlongAxis: GatherAlongAxisLayerParams
    scatterAlongAxis: ScatterAlongAxisLayerParams
    reverse: ReverseLayerParams
    reverseSeq: ReverseSeqLayerParams
    splitND: SplitNDLayerParams
    concatND: ConcatNDLayerParams
    transpose: TransposeLayerParams
    sliceStatic: SliceStaticLayerParams
    sliceDynamic: SliceDynamicLayerParams
    slidingWindows: SlidingWindowsLayerParams
    topK: TopKLayerParams
    argMin: ArgMinLayerParams
    argMax: ArgMaxLayerParams
    embeddingND: EmbeddingNDLayerParams
    batchedMatmul: BatchedMatMulLayerParams
    getShape: GetShapeLayerParams
    loadConstantND: LoadConstantNDLayerParams
    fillLike: FillLikeLayerParams
    fillStatic: FillStaticLayerParams
    fillDynamic: FillDynamicLayerParams
    broadcastToLike: BroadcastToLikeLayerParams
    broadcastToStatic: BroadcastToStaticLayerParams
    broadcastToDynamic: BroadcastToDynamicLayerParams
    squeeze: SqueezeLayerParams
    expandDims: ExpandDimsLayerParams
    flattenTo2D: FlattenTo2DLayerParams
    reshapeLike: ReshapeLikeLayerParams
    reshapeStatic: ReshapeStaticLayerParams
    reshapeDynamic: ReshapeDynamicLayerParams
    rankPreservingReshape: RankPreservingReshapeLayerParams
    constantPad: ConstantPaddingLayerParams
    randomNormalLike: RandomNormalLikeLayerParams
    randomNormalStatic: RandomNormalStaticLayerParams
    randomNormalDynamic: RandomNormalDynamicLayerParams
    randomUniformLike: RandomUniformLikeLayerParams
    randomUniformStatic: RandomUniformStaticLayerParams
    randomUniformDynamic: RandomUniformDynamicLayerParams
    randomBernoulliLike: RandomBernoulliLikeLayerParams
    randomBernoulliStatic: RandomBernoulliStaticLayerParams
    randomBernoulliDynamic: RandomBernoulliDynamicLayerParams
    categoricalDistribution: CategoricalDistributionLayerParams
    reduceL1: ReduceL1LayerParams
    reduceL2: ReduceL2LayerParams
    reduceMax: ReduceMaxLayerParams
    reduceMin: ReduceMinLayerParams
    reduceSum: ReduceSumLayerParams
    reduceProd: ReduceProdLayerParams
    reduceMean: ReduceMeanLayerParams
    reduceLogSum: ReduceLogSumLayerParams
    reduceSumSquare: ReduceSumSquareLayerParams
    reduceLogSumExp: ReduceLogSumExpLayerParams
    whereNonZero: WhereNonZeroLayerParams
    matrixBandPart: MatrixBandPartLayerParams
    lowerTriangular: LowerTriangularLayerParams
    upperTriangular: UpperTriangularLayerParams
    whereBroadcastable: WhereBroadcastableLayerParams
    layerNormalization: LayerNormalizationLayerParams
    NonMaximumSuppression: NonMaximumSuppressionLayerParams
    oneHot: OneHotLayerParams
    cumSum: CumSumLayerParams
    clampedReLU: ClampedReLULayerParams
    argSort: ArgSortLayerParams
    pooling3d: Pooling3DLayerParams
    globalPooling3d: GlobalPooling3DLayerParams
    sliceBySize: SliceBySizeLayerParams
    convolution3d: Convolution3DLayerParams
    def __init__(self, name: _Optional[str] = ..., input: _Optional[_Iterable[str]] = ..., output: _Optional[_Iterable[str]] = ..., inputTensor: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., outputTensor: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., isUpdatable: _Optional[bool] = ..., convolution: _Optional[_Union[ConvolutionLayerParams, _Mapping]] = ..., pooling: _Optional[_Union[PoolingLayerParams, _Mapping]] = ..., activation: _Optional[_Union[ActivationParams, _Mapping]] = ..., innerProduct: _Optional[_Union[InnerProductLayerParams, _Mapping]] = ..., embedding: _Optional[_Union[EmbeddingLayerParams, _Mapping]] = ..., batchnorm: _Optional[_Union[BatchnormLayerParams, _Mapping]] = ..., mvn: _Optional[_Union[MeanVarianceNormalizeLayerParams, _Mapping]] = ..., l2normalize: _Optional[_Union[L2NormalizeLayerParams, _Mapping]] = ..., softmax: _Optional[_Union[SoftmaxLayerParams, _Mapping]] = ..., lrn: _Optional[_Union[LRNLayerParams, _Mapping]] = ..., crop: _Optional[_Union[CropLayerParams, _Mapping]] = ..., padding: _Optional[_Union[PaddingLayerParams, _Mapping]] = ..., upsample: _Optional[_Union[UpsampleLayerParams, _Mapping]] = ..., resizeBilinear: _Optional[_Union[ResizeBilinearLayerParams, _Mapping]] = ..., cropResize: _Optional[_Union[CropResizeLayerParams, _Mapping]] = ..., unary: _Optional[_Union[UnaryFunctionLayerParams, _Mapping]] = ..., add: _Optional[_Union[AddLayerParams, _Mapping]] = ..., multiply: _Optional[_Union[MultiplyLayerParams, _Mapping]] = ..., average: _Optional[_Union[AverageLayerParams, _Mapping]] = ..., scale: _Optional[_Union[ScaleLayerParams, _Mapping]] = ..., bias: _Optional[_Union[BiasLayerParams, _Mapping]] = ..., max: _Optional[_Union[MaxLayerParams, _Mapping]] = ..., min: _Optional[_Union[MinLayerParams, _Mapping]] = ..., dot: _Optional[_Union[DotProductLayerParams, _Mapping]] = ..., reduce: _Optional[_Union[ReduceLayerParams, _Mapping]] = ..., loadConstant: _Optional[_Union[LoadConstantLayerParams, _Mapping]] = ..., reshape: _Optional[_Union[ReshapeLayerParams, _Mapping]] = ..., flatten: _Optional[_Union[FlattenLayerParams, _Mapping]] = ..., permute: _Optional[_Union[PermuteLayerParams, _Mapping]] = ..., concat: _Optional[_Union[ConcatLayerParams, _Mapping]] = ..., split: _Optional[_Union[SplitLayerParams, _Mapping]] = ..., sequenceRepeat: _Optional[_Union[SequenceRepeatLayerParams, _Mapping]] = ..., reorganizeData: _Optional[_Union[ReorganizeDataLayerParams, _Mapping]] = ..., slice: _Optional[_Union[SliceLayerParams, _Mapping]] = ..., simpleRecurrent: _Optional[_Union[SimpleRecurrentLayerParams, _Mapping]] = ..., gru: _Optional[_Union[GRULayerParams, _Mapping]] = ..., uniDirectionalLSTM: _Optional[_Union[UniDirectionalLSTMLayerParams, _Mapping]] = ..., biDirectionalLSTM: _Optional[_Union[BiDirectionalLSTMLayerParams, _Mapping]] = ..., custom: _Optional[_Union[CustomLayerParams, _Mapping]] = ..., copy: _Optional[_Union[CopyLayerParams, _Mapping]] = ..., branch: _Optional[_Union[BranchLayerParams, _Mapping]] = ..., loop: _Optional[_Union[LoopLayerParams, _Mapping]] = ..., loopBreak: _Optional[_Union[LoopBreakLayerParams, _Mapping]] = ..., loopContinue: _Optional[_Union[LoopContinueLayerParams, _Mapping]] = ..., rangeStatic: _Optional[_Union[RangeStaticLayerParams, _Mapping]] = ..., rangeDynamic: _Optional[_Union[RangeDynamicLayerParams, _Mapping]] = ..., clip: _Optional[_Union[ClipLayerParams, _Mapping]] = ..., ceil: _Optional[_Union[CeilLayerParams, _Mapping]] = ..., floor: _Optional[_Union[FloorLayerParams, _Mapping]] = ..., sign: _Optional[_Union[SignLayerParams, _Mapping]] = ..., round: _Optional[_Union[RoundLayerParams, _Mapping]] = ..., exp2: _Optional[_Union[Exp2LayerParams, _Mapping]] = ..., sin: _Optional[_Union[SinLayerParams, _Mapping]] = ..., cos: _Optional[_Union[CosLayerParams, _Mapping]] = ..., tan: _Optional[_Union[TanLayerParams, _Mapping]] = ..., asin: _Optional[_Union[AsinLayerParams, _Mapping]] = ..., acos: _Optional[_Union[AcosLayerParams, _Mapping]] = ..., atan: _Optional[_Union[AtanLayerParams, _Mapping]] = ..., sinh: _Optional[_Union[SinhLayerParams, _Mapping]] = ..., cosh: _Optional[_Union[CoshLayerParams, _Mapping]] = ..., tanh: _Optional[_Union[TanhLayerParams, _Mapping]] = ..., asinh: _Optional[_Union[AsinhLayerParams, _Mapping]] = ..., acosh: _Optional[_Union[AcoshLayerParams, _Mapping]] = ..., atanh: _Optional[_Union[AtanhLayerParams, _Mapping]] = ..., erf: _Optional[_Union[ErfLayerParams, _Mapping]] = ..., gelu: _Optional[_Union[GeluLayerParams, _Mapping]] = ..., equal: _Optional[_Union[EqualLayerParams, _Mapping]] = ..., notEqual: _Optional[_Union[NotEqualLayerParams, _Mapping]] = ..., lessThan: _Optional[_Union[LessThanLayerParams, _Mapping]] = ..., lessEqual: _Optional[_Union[LessEqualLayerParams, _Mapping]] = ..., greaterThan: _Optional[_Union[GreaterThanLayerParams, _Mapping]] = ..., greaterEqual: _Optional[_Union[GreaterEqualLayerParams, _Mapping]] = ..., logicalOr: _Optional[_Union[LogicalOrLayerParams, _Mapping]] = ..., logicalXor: _Optional[_Union[LogicalXorLayerParams, _Mapping]] = ..., logicalNot: _Optional[_Union[LogicalNotLayerParams, _Mapping]] = ..., logicalAnd: _Optional[_Union[LogicalAndLayerParams, _Mapping]] = ..., modBroadcastable: _Optional[_Union[ModBroadcastableLayerParams, _Mapping]] = ..., minBroadcastable: _Optional[_Union[MinBroadcastableLayerParams, _Mapping]] = ..., maxBroadcastable: _Optional[_Union[MaxBroadcastableLayerParams, _Mapping]] = ..., addBroadcastable: _Optional[_Union[AddBroadcastableLayerParams, _Mapping]] = ..., powBroadcastable: _Optional[_Union[PowBroadcastableLayerParams, _Mapping]] = ..., divideBroadcastable: _Optional[_Union[DivideBroadcastableLayerParams, _Mapping]] = ..., floorDivBroadcastable: _Optional[_Union[FloorDivBroadcastableLayerParams, _Mapping]] = ..., multiplyBroadcastable: _Optional[_Union[MultiplyBroadcastableLayerParams, _Mapping]] = ..., subtractBroadcastable: _Optional[_Union[SubtractBroadcastableLayerParams, _Mapping]] = ..., tile: _Optional[_Union[TileLayerParams, _Mapping]] = ..., stack: _Optional[_Union[StackLayerParams, _Mapping]] = ..., gather: _Optional[_Union[GatherLayerParams, _Mapping]] = ..., scatter: _Optional[_Union[ScatterLayerParams, _Mapping]] = ..., gatherND: _Optional[_Union[GatherNDLayerParams, _Mapping]] = ..., scatterND: _Optional[_Union[ScatterNDLayerParams, _Mapping]] = ..., softmaxND: _Optional[_Union[SoftmaxNDLayerParams, _Mapping]] = ..., gatherAlongAxis: _Optional[_Union[GatherAlongAxisLayerParams, _Mapping]] = ..., scatterAlongAxis: _Optional[_Union[ScatterAlongAxisLayerParams, _Mapping]] = ..., reverse: _Optional[_Union[ReverseLayerParams, _Mapping]] = ..., reverseSeq: _Optional[_Union[ReverseSeqLayerParams, _Mapping]] = ..., splitND: _Optional[_Union[SplitNDLayerParams, _Mapping]] = ..., concatND: _Optional[_Union[ConcatNDLayerParams, _Mapping]] = ..., transpose: _Optional[_Union[TransposeLayerParams, _Mapping]] = ..., sliceStatic: _Optional[_Union[SliceStaticLayerParams, _Mapping]] = ..., sliceDynamic: _Optional[_Union[SliceDynamicLayerParams, _Mapping]] = ..., slidingWindows: _Optional[_Union[SlidingWindowsLayerParams, _Mapping]] = ..., topK: _Optional[_Union[TopKLayerParams, _Mapping]] = ..., argMin: _Optional[_Union[ArgMinLayerParams, _Mapping]] = ..., argMax: _Optional[_Union[ArgMaxLayerParams, _Mapping]] = ..., embeddingND: _Optional[_Union[EmbeddingNDLayerParams, _Mapping]] = ..., batchedMatmul: _Optional[_Union[BatchedMatMulLayerParams, _Mapping]] = ..., getShape: _Optional[_Union[GetShapeLayerParams, _Mapping]] = ..., loadConstantND: _Optional[_Union[LoadConstantNDLayerParams, _Mapping]] = ..., fillLike: _Optional[_Union[FillLikeLayerParams, _Mapping]] = ..., fillStatic: _Optional[_Union[FillStaticLayerParams, _Mapping]] = ..., fillDynamic: _Optional[_Union[FillDynamicLayerParams, _Mapping]] = ..., broadcastToLike: _Optional[_Union[BroadcastToLikeLayerParams, _Mapping]] = ..., broadcastToStatic: _Optional[_Union[BroadcastToStaticLayerParams, _Mapping]] = ..., broadcastToDynamic: _Optional[_Union[BroadcastToDynamicLayerParams, _Mapping]] = ..., squeeze: _Optional[_Union[SqueezeLayerParams, _Mapping]] = ..., expandDims: _Optional[_Union[ExpandDimsLayerParams, _Mapping]] = ..., flattenTo2D: _Optional[_Union[FlattenTo2DLayerParams, _Mapping]] = ..., reshapeLike: _Optional[_Union[ReshapeLikeLayerParams, _Mapping]] = ..., reshapeStatic: _Optional[_Union[ReshapeStaticLayerParams, _Mapping]] = ..., reshapeDynamic: _Optional[_Union[ReshapeDynamicLayerParams, _Mapping]] = ..., rankPreservingReshape: _Optional[_Union[RankPreservingReshapeLayerParams, _Mapping]] = ..., constantPad: _Optional[_Union[ConstantPaddingLayerParams, _Mapping]] = ..., randomNormalLike: _Optional[_Union[RandomNormalLikeLayerParams, _Mapping]] = ..., randomNormalStatic: _Optional[_Union[RandomNormalStaticLayerParams, _Mapping]] = ..., randomNormalDynamic: _Optional[_Union[RandomNormalDynamicLayerParams, _Mapping]] = ..., randomUniformLike: _Optional[_Union[RandomUniformLikeLayerParams, _Mapping]] = ..., randomUniformStatic: _Optional[_Union[RandomUniformStaticLayerParams, _Mapping]] = ..., randomUniformDynamic: _Optional[_Union[RandomUniformDynamicLayerParams, _Mapping]] = ..., randomBernoulliLike: _Optional[_Union[RandomBernoulliLikeLayerParams, _Mapping]] = ..., randomBernoulliStatic: _Optional[_Union[RandomBernoulliStaticLayerParams, _Mapping]] = ..., randomBernoulliDynamic: _Optional[_Union[RandomBernoulliDynamicLayerParams, _Mapping]] = ..., categoricalDistribution: _Optional[_Union[CategoricalDistributionLayerParams, _Mapping]] = ..., reduceL1: _Optional[_Union[ReduceL1LayerParams, _Mapping]] = ..., reduceL2: _Optional[_Union[ReduceL2LayerParams, _Mapping]] = ..., reduceMax: _Optional[_Union[ReduceMaxLayerParams, _Mapping]] = ..., reduceMin: _Optional[_Union[ReduceMinLayerParams, _Mapping]] = ..., reduceSum: _Optional[_Union[ReduceSumLayerParams, _Mapping]] = ..., reduceProd: _Optional[_Union[ReduceProdLayerParams, _Mapping]] = ..., reduceMean: _Optional[_Union[ReduceMeanLayerParams, _Mapping]] = ..., reduceLogSum: _Optional[_Union[ReduceLogSumLayerParams, _Mapping]] = ..., reduceSumSquare: _Optional[_Union[ReduceSumSquareLayerParams, _Mapping]] = ..., reduceLogSumExp: _Optional[_Union[ReduceLogSumExpLayerParams, _Mapping]] = ..., whereNonZero: _Optional[_Union[WhereNonZeroLayerParams, _Mapping]] = ..., matrixBandPart: _Optional[_Union[MatrixBandPartLayerParams, _Mapping]] = ..., lowerTriangular: _Optional[_Union[LowerTriangularLayerParams, _Mapping]] = ..., upperTriangular: _Optional[_Union[UpperTriangularLayerParams, _Mapping]] = ..., whereBroadcastable: _Optional[_Union[WhereBroadcastableLayerParams, _Mapping]] = ..., layerNormalization: _Optional[_Union[LayerNormalizationLayerParams, _Mapping]] = ..., NonMaximumSuppression: _Optional[_Union[NonMaximumSuppressionLayerParams, _Mapping]] = ..., oneHot: _Optional[_Union[OneHotLayerParams, _Mapping]] = ..., cumSum: _Optional[_Union[CumSumLayerParams, _Mapping]] = ..., clampedReLU: _Optional[_Union[ClampedReLULayerParams, _Mapping]] = ..., argSort: _Optional[_Union[ArgSortLayerParams, _Mapping]] = ..., pooling3d: _Optional[_Union[Pooling3DLayerParams, _Mapping]] = ..., globalPooling3d: _Optional[_Union[GlobalPooling3DLayerParams, _Mapping]] = ..., sliceBySize: _Optional[_Union[SliceBySizeLayerParams, _Mapping]] = ..., convolution3d: _Optional[_Union[Convolution3DLayerParams, _Mapping]] = ...) -> None: ...

class Tensor(_message.Message):
    __slots__ = ("rank", "dimValue")
    RANK_FIELD_NUMBER: _ClassVar[int]
    DIMVALUE_FIELD_NUMBER: _ClassVar[int]
    rank: int
    dimValue: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, rank: _Optional[int] = ..., dimValue: _Optional[_Iterable[int]] = ...) -> None: ...

class WeightParams(_message.Message):
    __slots__ = ("floatValue", "float16Value", "rawValue", "int8RawValue", "quantization", "isUpdatable")
    FLOATVALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT16VALUE_FIELD_NUMBER: _ClassVar[int]
    RAWVALUE_FIELD_NUMBER: _ClassVar[int]
    INT8RAWVALUE_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    ISUPDATABLE_FIELD_NUMBER: _ClassVar[int]
    floatValue: _containers.RepeatedScalarFieldContainer[float]
    float16Value: bytes
    rawValue: bytes
    int8RawValue: bytes
    quantization: QuantizationParams
    isUpdatable: bool
    def __init__(self, floatValue: _Optional[_Iterable[float]] = ..., float16Value: _Optional[bytes] = ..., rawValue: _Optional[bytes] = ..., int8RawValue: _Optional[bytes] = ..., quantization: _Optional[_Union[QuantizationParams, _Mapping]] = ..., isUpdatable: _Optional[bool] = ...) -> None: ...

class QuantizationParams(_message.Message):
    __slots__ = ("numberOfBits", "linearQuantization", "lookupTableQuantization")
    NUMBEROFBITS_FIELD_NUMBER: _ClassVar[int]
    LINEARQUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    LOOKUPTABLEQUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    numberOfBits: int
    linearQuantization: LinearQuantizationParams
    lookupTableQuantization: LookUpTableQuantizationParams
    def __init__(self, numberOfBits: _Optional[int] = ..., linearQuantization: _Optional[_Union[LinearQuantizationParams, _Mapping]] = ..., lookupTableQuantization: _Optional[_Union[LookUpTableQuantizationParams, _Mapping]] = ...) -> None: ...

class LinearQuantizationParams(_message.Message):
    __slots__ = ("scale", "bias")
    SCALE_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    scale: _containers.RepeatedScalarFieldContainer[float]
    bias: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, scale: _Optional[_Iterable[float]] = ..., bias: _Optional[_Iterable[float]] = ...) -> None: ...

class LookUpTableQuantizationParams(_message.Message):
    __slots__ = ("floatValue",)
    FLOATVALUE_FIELD_NUMBER: _ClassVar[int]
    floatValue: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, floatValue: _Optional[_Iterable[float]] = ...) -> None: ...

class ActivationParams(_message.Message):
    __slots__ = ("linear", "ReLU", "leakyReLU", "thresholdedReLU", "PReLU", "tanh", "scaledTanh", "sigmoid", "sigmoidHard", "ELU", "softsign", "softplus", "parametricSoftplus")
    LINEAR_FIELD_NUMBER: _ClassVar[int]
    RELU_FIELD_NUMBER: _ClassVar[int]
    LEAKYRELU_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDEDRELU_FIELD_NUMBER: _ClassVar[int]
    PRELU_FIELD_NUMBER: _ClassVar[int]
    TANH_FIELD_NUMBER: _ClassVar[int]
    SCALEDTANH_FIELD_NUMBER: _ClassVar[int]
    SIGMOID_FIELD_NUMBER: _ClassVar[int]
    SIGMOIDHARD_FIELD_NUMBER: _ClassVar[int]
    ELU_FIELD_NUMBER: _ClassVar[int]
    SOFTSIGN_FIELD_NUMBER: _ClassVar[int]
    SOFTPLUS_FIELD_NUMBER: _ClassVar[int]
    PARAMETRICSOFTPLUS_FIELD_NUMBER: _ClassVar[int]
    linear: ActivationLinear
    ReLU: ActivationReLU
    leakyReLU: ActivationLeakyReLU
    thresholdedReLU: ActivationThresholdedReLU
    PReLU: ActivationPReLU
    tanh: ActivationTanh
    scaledTanh: ActivationScaledTanh
    sigmoid: ActivationSigmoid
    sigmoidHard: ActivationSigmoidHard
    ELU: ActivationELU
    softsign: ActivationSoftsign
    softplus: ActivationSoftplus
    parametricSoftplus: ActivationParametricSoftplus
    def __init__(self, linear: _Optional[_Union[ActivationLinear, _Mapping]] = ..., ReLU: _Optional[_Union[ActivationReLU, _Mapping]] = ..., leakyReLU: _Optional[_Union[ActivationLeakyReLU, _Mapping]] = ..., thresholdedReLU: _Optional[_Union[ActivationThresholdedReLU, _Mapping]] = ..., PReLU: _Optional[_Union[ActivationPReLU, _Mapping]] = ..., tanh: _Optional[_Union[ActivationTanh, _Mapping]] = ..., scaledTanh: _Optional[_Union[ActivationScaledTanh, _Mapping]] = ..., sigmoid: _Optional[_Union[ActivationSigmoid, _Mapping]] = ..., sigmoidHard: _Optional[_Union[ActivationSigmoidHard, _Mapping]] = ..., ELU: _Optional[_Union[ActivationELU, _Mapping]] = ..., softsign: _Optional[_Union[ActivationSoftsign, _Mapping]] = ..., softplus: _Optional[_Union[ActivationSoftplus, _Mapping]] = ..., parametricSoftplus: _Optional[_Union[ActivationParametricSoftplus, _Mapping]] = ...) -> None: ...

class ActivationLinear(_message.Message):
    __slots__ = ("alpha", "beta")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    beta: float
    def __init__(self, alpha: _Optional[float] = ..., beta: _Optional[float] = ...) -> None: ...

class ActivationReLU(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ActivationLeakyReLU(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class ActivationThresholdedReLU(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class ActivationPReLU(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: WeightParams
    def __init__(self, alpha: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class ActivationTanh(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ActivationScaledTanh(_message.Message):
    __slots__ = ("alpha", "beta")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    beta: float
    def __init__(self, alpha: _Optional[float] = ..., beta: _Optional[float] = ...) -> None: ...

class ActivationSigmoid(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ActivationSigmoidHard(_message.Message):
    __slots__ = ("alpha", "beta")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    beta: float
    def __init__(self, alpha: _Optional[float] = ..., beta: _Optional[float] = ...) -> None: ...

class ActivationELU(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class ActivationSoftsign(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ActivationSoftplus(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ActivationParametricSoftplus(_message.Message):
    __slots__ = ("alpha", "beta")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    alpha: WeightParams
    beta: WeightParams
    def __init__(self, alpha: _Optional[_Union[WeightParams, _Mapping]] = ..., beta: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class ConvolutionLayerParams(_message.Message):
    __slots__ = ("outputChannels", "kernelChannels", "nGroups", "kernelSize", "stride", "dilationFactor", "valid", "same", "isDeconvolution", "hasBias", "weights", "bias", "outputShape")
    OUTPUTCHANNELS_FIELD_NUMBER: _ClassVar[int]
    KERNELCHANNELS_FIELD_NUMBER: _ClassVar[int]
    NGROUPS_FIELD_NUMBER: _ClassVar[int]
    KERNELSIZE_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    DILATIONFACTOR_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    SAME_FIELD_NUMBER: _ClassVar[int]
    ISDECONVOLUTION_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTSHAPE_FIELD_NUMBER: _ClassVar[int]
    outputChannels: int
    kernelChannels: int
    nGroups: int
    kernelSize: _containers.RepeatedScalarFieldContainer[int]
    stride: _containers.RepeatedScalarFieldContainer[int]
    dilationFactor: _containers.RepeatedScalarFieldContainer[int]
    valid: ValidPadding
    same: SamePadding
    isDeconvolution: bool
    hasBias: bool
    weights: WeightParams
    bias: WeightParams
    outputShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, outputChannels: _Optional[int] = ..., kernelChannels: _Optional[int] = ..., nGroups: _Optional[int] = ..., kernelSize: _Optional[_Iterable[int]] = ..., stride: _Optional[_Iterable[int]] = ..., dilationFactor: _Optional[_Iterable[int]] = ..., valid: _Optional[_Union[ValidPadding, _Mapping]] = ..., same: _Optional[_Union[SamePadding, _Mapping]] = ..., isDeconvolution: _Optional[bool] = ..., hasBias: _Optional[bool] = ..., weights: _Optional[_Union[WeightParams, _Mapping]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ..., outputShape: _Optional[_Iterable[int]] = ...) -> None: ...

class ValidPadding(_message.Message):
    __slots__ = ("paddingAmounts",)
    PADDINGAMOUNTS_FIELD_NUMBER: _ClassVar[int]
    paddingAmounts: BorderAmounts
    def __init__(self, paddingAmounts: _Optional[_Union[BorderAmounts, _Mapping]] = ...) -> None: ...

class BorderAmounts(_message.Message):
    __slots__ = ("borderAmounts",)
    class EdgeSizes(_message.Message):
        __slots__ = ("startEdgeSize", "endEdgeSize")
        STARTEDGESIZE_FIELD_NUMBER: _ClassVar[int]
        ENDEDGESIZE_FIELD_NUMBER: _ClassVar[int]
        startEdgeSize: int
        endEdgeSize: int
        def __init__(self, startEdgeSize: _Optional[int] = ..., endEdgeSize: _Optional[int] = ...) -> None: ...
    BORDERAMOUNTS_FIELD_NUMBER: _ClassVar[int]
    borderAmounts: _containers.RepeatedCompositeFieldContainer[BorderAmounts.EdgeSizes]
    def __init__(self, borderAmounts: _Optional[_Iterable[_Union[BorderAmounts.EdgeSizes, _Mapping]]] = ...) -> None: ...

class SamePadding(_message.Message):
    __slots__ = ("asymmetryMode",)
    class SamePaddingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        BOTTOM_RIGHT_HEAVY: _ClassVar[SamePadding.SamePaddingMode]
        TOP_LEFT_HEAVY: _ClassVar[SamePadding.SamePaddingMode]
    BOTTOM_RIGHT_HEAVY: SamePadding.SamePaddingMode
    TOP_LEFT_HEAVY: SamePadding.SamePaddingMode
    ASYMMETRYMODE_FIELD_NUMBER: _ClassVar[int]
    asymmetryMode: SamePadding.SamePaddingMode
    def __init__(self, asymmetryMode: _Optional[_Union[SamePadding.SamePaddingMode, str]] = ...) -> None: ...

class PoolingLayerParams(_message.Message):
    __slots__ = ("type", "kernelSize", "stride", "valid", "same", "includeLastPixel", "avgPoolExcludePadding", "globalPooling")
    class PoolingType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MAX: _ClassVar[PoolingLayerParams.PoolingType]
        AVERAGE: _ClassVar[PoolingLayerParams.PoolingType]
        L2: _ClassVar[PoolingLayerParams.PoolingType]
    MAX: PoolingLayerParams.PoolingType
    AVERAGE: PoolingLayerParams.PoolingType
    L2: PoolingLayerParams.PoolingType
    class ValidCompletePadding(_message.Message):
        __slots__ = ("paddingAmounts",)
        PADDINGAMOUNTS_FIELD_NUMBER: _ClassVar[int]
        paddingAmounts: _containers.RepeatedScalarFieldContainer[int]
        def __init__(self, paddingAmounts: _Optional[_Iterable[int]] = ...) -> None: ...
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KERNELSIZE_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    SAME_FIELD_NUMBER: _ClassVar[int]
    INCLUDELASTPIXEL_FIELD_NUMBER: _ClassVar[int]
    AVGPOOLEXCLUDEPADDING_FIELD_NUMBER: _ClassVar[int]
    GLOBALPOOLING_FIELD_NUMBER: _ClassVar[int]
    type: PoolingLayerParams.PoolingType
    kernelSize: _containers.RepeatedScalarFieldContainer[int]
    stride: _containers.RepeatedScalarFieldContainer[int]
    valid: ValidPadding
    same: SamePadding
    includeLastPixel: PoolingLayerParams.ValidCompletePadding
    avgPoolExcludePadding: bool
    globalPooling: bool
    def __init__(self, type: _Optional[_Union[PoolingLayerParams.PoolingType, str]] = ..., kernelSize: _Optional[_Iterable[int]] = ..., stride: _Optional[_Iterable[int]] = ..., valid: _Optional[_Union[ValidPadding, _Mapping]] = ..., same: _Optional[_Union[SamePadding, _Mapping]] = ..., includeLastPixel: _Optional[_Union[PoolingLayerParams.ValidCompletePadding, _Mapping]] = ..., avgPoolExcludePadding: _Optional[bool] = ..., globalPooling: _Optional[bool] = ...) -> None: ...

class InnerProductLayerParams(_message.Message):
    __slots__ = ("inputChannels", "outputChannels", "hasBias", "weights", "bias", "int8DynamicQuantize")
    INPUTCHANNELS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTCHANNELS_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    INT8DYNAMICQUANTIZE_FIELD_NUMBER: _ClassVar[int]
    inputChannels: int
    outputChannels: int
    hasBias: bool
    weights: WeightParams
    bias: WeightParams
    int8DynamicQuantize: bool
    def __init__(self, inputChannels: _Optional[int] = ..., outputChannels: _Optional[int] = ..., hasBias: _Optional[bool] = ..., weights: _Optional[_Union[WeightParams, _Mapping]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ..., int8DynamicQuantize: _Optional[bool] = ...) -> None: ...

class EmbeddingLayerParams(_message.Message):
    __slots__ = ("inputDim", "outputChannels", "hasBias", "weights", "bias")
    INPUTDIM_FIELD_NUMBER: _ClassVar[int]
    OUTPUTCHANNELS_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    inputDim: int
    outputChannels: int
    hasBias: bool
    weights: WeightParams
    bias: WeightParams
    def __init__(self, inputDim: _Optional[int] = ..., outputChannels: _Optional[int] = ..., hasBias: _Optional[bool] = ..., weights: _Optional[_Union[WeightParams, _Mapping]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class BatchnormLayerParams(_message.Message):
    __slots__ = ("channels", "computeMeanVar", "instanceNormalization", "epsilon", "gamma", "beta", "mean", "variance")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    COMPUTEMEANVAR_FIELD_NUMBER: _ClassVar[int]
    INSTANCENORMALIZATION_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    VARIANCE_FIELD_NUMBER: _ClassVar[int]
    channels: int
    computeMeanVar: bool
    instanceNormalization: bool
    epsilon: float
    gamma: WeightParams
    beta: WeightParams
    mean: WeightParams
    variance: WeightParams
    def __init__(self, channels: _Optional[int] = ..., computeMeanVar: _Optional[bool] = ..., instanceNormalization: _Optional[bool] = ..., epsilon: _Optional[float] = ..., gamma: _Optional[_Union[WeightParams, _Mapping]] = ..., beta: _Optional[_Union[WeightParams, _Mapping]] = ..., mean: _Optional[_Union[WeightParams, _Mapping]] = ..., variance: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class MeanVarianceNormalizeLayerParams(_message.Message):
    __slots__ = ("acrossChannels", "normalizeVariance", "epsilon")
    ACROSSCHANNELS_FIELD_NUMBER: _ClassVar[int]
    NORMALIZEVARIANCE_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    acrossChannels: bool
    normalizeVariance: bool
    epsilon: float
    def __init__(self, acrossChannels: _Optional[bool] = ..., normalizeVariance: _Optional[bool] = ..., epsilon: _Optional[float] = ...) -> None: ...

class L2NormalizeLayerParams(_message.Message):
    __slots__ = ("epsilon",)
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    epsilon: float
    def __init__(self, epsilon: _Optional[float] = ...) -> None: ...

class SoftmaxLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LRNLayerParams(_message.Message):
    __slots__ = ("alpha", "beta", "localSize", "k")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    LOCALSIZE_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    beta: float
    localSize: int
    k: float
    def __init__(self, alpha: _Optional[float] = ..., beta: _Optional[float] = ..., localSize: _Optional[int] = ..., k: _Optional[float] = ...) -> None: ...

class CropLayerParams(_message.Message):
    __slots__ = ("cropAmounts", "offset")
    CROPAMOUNTS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    cropAmounts: BorderAmounts
    offset: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, cropAmounts: _Optional[_Union[BorderAmounts, _Mapping]] = ..., offset: _Optional[_Iterable[int]] = ...) -> None: ...

class PaddingLayerParams(_message.Message):
    __slots__ = ("constant", "reflection", "replication", "paddingAmounts")
    class PaddingConstant(_message.Message):
        __slots__ = ("value",)
        VALUE_FIELD_NUMBER: _ClassVar[int]
        value: float
        def __init__(self, value: _Optional[float] = ...) -> None: ...
    class PaddingReflection(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class PaddingReplication(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    CONSTANT_FIELD_NUMBER: _ClassVar[int]
    REFLECTION_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FIELD_NUMBER: _ClassVar[int]
    PADDINGAMOUNTS_FIELD_NUMBER: _ClassVar[int]
    constant: PaddingLayerParams.PaddingConstant
    reflection: PaddingLayerParams.PaddingReflection
    replication: PaddingLayerParams.PaddingReplication
    paddingAmounts: BorderAmounts
    def __init__(self, constant: _Optional[_Union[PaddingLayerParams.PaddingConstant, _Mapping]] = ..., reflection: _Optional[_Union[PaddingLayerParams.PaddingReflection, _Mapping]] = ..., replication: _Optional[_Union[PaddingLayerParams.PaddingReplication, _Mapping]] = ..., paddingAmounts: _Optional[_Union[BorderAmounts, _Mapping]] = ...) -> None: ...

class UpsampleLayerParams(_message.Message):
    __slots__ = ("scalingFactor", "mode", "linearUpsampleMode", "fractionalScalingFactor")
    class InterpolationMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NN: _ClassVar[UpsampleLayerParams.InterpolationMode]
        BILINEAR: _ClassVar[UpsampleLayerParams.InterpolationMode]
    NN: UpsampleLayerParams.InterpolationMode
    BILINEAR: UpsampleLayerParams.InterpolationMode
    class LinearUpsampleMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DEFAULT: _ClassVar[UpsampleLayerParams.LinearUpsampleMode]
        ALIGN_CORNERS_TRUE: _ClassVar[UpsampleLayerParams.LinearUpsampleMode]
        ALIGN_CORNERS_FALSE: _ClassVar[UpsampleLayerParams.LinearUpsampleMode]
    DEFAULT: UpsampleLayerParams.LinearUpsampleMode
    ALIGN_CORNERS_TRUE: UpsampleLayerParams.LinearUpsampleMode
    ALIGN_CORNERS_FALSE: UpsampleLayerParams.LinearUpsampleMode
    SCALINGFACTOR_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LINEARUPSAMPLEMODE_FIELD_NUMBER: _ClassVar[int]
    FRACTIONALSCALINGFACTOR_FIELD_NUMBER: _ClassVar[int]
    scalingFactor: _containers.RepeatedScalarFieldContainer[int]
    mode: UpsampleLayerParams.InterpolationMode
    linearUpsampleMode: UpsampleLayerParams.LinearUpsampleMode
    fractionalScalingFactor: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, scalingFactor: _Optional[_Iterable[int]] = ..., mode: _Optional[_Union[UpsampleLayerParams.InterpolationMode, str]] = ..., linearUpsampleMode: _Optional[_Union[UpsampleLayerParams.LinearUpsampleMode, str]] = ..., fractionalScalingFactor: _Optional[_Iterable[float]] = ...) -> None: ...

class ResizeBilinearLayerParams(_message.Message):
    __slots__ = ("targetSize", "mode")
    TARGETSIZE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    targetSize: _containers.RepeatedScalarFieldContainer[int]
    mode: SamplingMode
    def __init__(self, targetSize: _Optional[_Iterable[int]] = ..., mode: _Optional[_Union[SamplingMode, _Mapping]] = ...) -> None: ...

class SamplingMode(_message.Message):
    __slots__ = ("samplingMethod",)
    class Method(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STRICT_ALIGN_ENDPOINTS_MODE: _ClassVar[SamplingMode.Method]
        ALIGN_ENDPOINTS_MODE: _ClassVar[SamplingMode.Method]
        UPSAMPLE_MODE: _ClassVar[SamplingMode.Method]
        ROI_ALIGN_MODE: _ClassVar[SamplingMode.Method]
    STRICT_ALIGN_ENDPOINTS_MODE: SamplingMode.Method
    ALIGN_ENDPOINTS_MODE: SamplingMode.Method
    UPSAMPLE_MODE: SamplingMode.Method
    ROI_ALIGN_MODE: SamplingMode.Method
    SAMPLINGMETHOD_FIELD_NUMBER: _ClassVar[int]
    samplingMethod: SamplingMode.Method
    def __init__(self, samplingMethod: _Optional[_Union[SamplingMode.Method, str]] = ...) -> None: ...

class CropResizeLayerParams(_message.Message):
    __slots__ = ("targetSize", "normalizedCoordinates", "mode", "boxIndicesMode", "spatialScale")
    TARGETSIZE_FIELD_NUMBER: _ClassVar[int]
    NORMALIZEDCOORDINATES_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    BOXINDICESMODE_FIELD_NUMBER: _ClassVar[int]
    SPATIALSCALE_FIELD_NUMBER: _ClassVar[int]
    targetSize: _containers.RepeatedScalarFieldContainer[int]
    normalizedCoordinates: bool
    mode: SamplingMode
    boxIndicesMode: BoxCoordinatesMode
    spatialScale: float
    def __init__(self, targetSize: _Optional[_Iterable[int]] = ..., normalizedCoordinates: _Optional[bool] = ..., mode: _Optional[_Union[SamplingMode, _Mapping]] = ..., boxIndicesMode: _Optional[_Union[BoxCoordinatesMode, _Mapping]] = ..., spatialScale: _Optional[float] = ...) -> None: ...

class BoxCoordinatesMode(_message.Message):
    __slots__ = ("boxMode",)
    class Coordinates(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CORNERS_HEIGHT_FIRST: _ClassVar[BoxCoordinatesMode.Coordinates]
        CORNERS_WIDTH_FIRST: _ClassVar[BoxCoordinatesMode.Coordinates]
        CENTER_SIZE_HEIGHT_FIRST: _ClassVar[BoxCoordinatesMode.Coordinates]
        CENTER_SIZE_WIDTH_FIRST: _ClassVar[BoxCoordinatesMode.Coordinates]
    CORNERS_HEIGHT_FIRST: BoxCoordinatesMode.Coordinates
    CORNERS_WIDTH_FIRST: BoxCoordinatesMode.Coordinates
    CENTER_SIZE_HEIGHT_FIRST: BoxCoordinatesMode.Coordinates
    CENTER_SIZE_WIDTH_FIRST: BoxCoordinatesMode.Coordinates
    BOXMODE_FIELD_NUMBER: _ClassVar[int]
    boxMode: BoxCoordinatesMode.Coordinates
    def __init__(self, boxMode: _Optional[_Union[BoxCoordinatesMode.Coordinates, str]] = ...) -> None: ...

class UnaryFunctionLayerParams(_message.Message):
    __slots__ = ("type", "alpha", "epsilon", "shift", "scale")
    class Operation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SQRT: _ClassVar[UnaryFunctionLayerParams.Operation]
        RSQRT: _ClassVar[UnaryFunctionLayerParams.Operation]
        INVERSE: _ClassVar[UnaryFunctionLayerParams.Operation]
        POWER: _ClassVar[UnaryFunctionLayerParams.Operation]
        EXP: _ClassVar[UnaryFunctionLayerParams.Operation]
        LOG: _ClassVar[UnaryFunctionLayerParams.Operation]
        ABS: _ClassVar[UnaryFunctionLayerParams.Operation]
        THRESHOLD: _ClassVar[UnaryFunctionLayerParams.Operation]
    SQRT: UnaryFunctionLayerParams.Operation
    RSQRT: UnaryFunctionLayerParams.Operation
    INVERSE: UnaryFunctionLayerParams.Operation
    POWER: UnaryFunctionLayerParams.Operation
    EXP: UnaryFunctionLayerParams.Operation
    LOG: UnaryFunctionLayerParams.Operation
    ABS: UnaryFunctionLayerParams.Operation
    THRESHOLD: UnaryFunctionLayerParams.Operation
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    SHIFT_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    type: UnaryFunctionLayerParams.Operation
    alpha: float
    epsilon: float
    shift: float
    scale: float
    def __init__(self, type: _Optional[_Union[UnaryFunctionLayerParams.Operation, str]] = ..., alpha: _Optional[float] = ..., epsilon: _Optional[float] = ..., shift: _Optional[float] = ..., scale: _Optional[float] = ...) -> None: ...

class AddLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class MultiplyLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class AverageLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ScaleLayerParams(_message.Message):
    __slots__ = ("shapeScale", "scale", "hasBias", "shapeBias", "bias")
    SHAPESCALE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    SHAPEBIAS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    shapeScale: _containers.RepeatedScalarFieldContainer[int]
    scale: WeightParams
    hasBias: bool
    shapeBias: _containers.RepeatedScalarFieldContainer[int]
    bias: WeightParams
    def __init__(self, shapeScale: _Optional[_Iterable[int]] = ..., scale: _Optional[_Union[WeightParams, _Mapping]] = ..., hasBias: _Optional[bool] = ..., shapeBias: _Optional[_Iterable[int]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class BiasLayerParams(_message.Message):
    __slots__ = ("shape", "bias")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    bias: WeightParams
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class MaxLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MinLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DotProductLayerParams(_message.Message):
    __slots__ = ("cosineSimilarity",)
    COSINESIMILARITY_FIELD_NUMBER: _ClassVar[int]
    cosineSimilarity: bool
    def __init__(self, cosineSimilarity: _Optional[bool] = ...) -> None: ...

class ReduceLayerParams(_message.Message):
    __slots__ = ("mode", "epsilon", "axis")
    class ReduceOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SUM: _ClassVar[ReduceLayerParams.ReduceOperation]
        AVG: _ClassVar[ReduceLayerParams.ReduceOperation]
        PROD: _ClassVar[ReduceLayerParams.ReduceOperation]
        LOGSUM: _ClassVar[ReduceLayerParams.ReduceOperation]
        SUMSQUARE: _ClassVar[ReduceLayerParams.ReduceOperation]
        L1: _ClassVar[ReduceLayerParams.ReduceOperation]
        L2: _ClassVar[ReduceLayerParams.ReduceOperation]
        MAX: _ClassVar[ReduceLayerParams.ReduceOperation]
        MIN: _ClassVar[ReduceLayerParams.ReduceOperation]
        ARGMAX: _ClassVar[ReduceLayerParams.ReduceOperation]
    SUM: ReduceLayerParams.ReduceOperation
    AVG: ReduceLayerParams.ReduceOperation
    PROD: ReduceLayerParams.ReduceOperation
    LOGSUM: ReduceLayerParams.ReduceOperation
    SUMSQUARE: ReduceLayerParams.ReduceOperation
    L1: ReduceLayerParams.ReduceOperation
    L2: ReduceLayerParams.ReduceOperation
    MAX: ReduceLayerParams.ReduceOperation
    MIN: ReduceLayerParams.ReduceOperation
    ARGMAX: ReduceLayerParams.ReduceOperation
    class ReduceAxis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHW: _ClassVar[ReduceLayerParams.ReduceAxis]
        HW: _ClassVar[ReduceLayerParams.ReduceAxis]
        C: _ClassVar[ReduceLayerParams.ReduceAxis]
        H: _ClassVar[ReduceLayerParams.ReduceAxis]
        W: _ClassVar[ReduceLayerParams.ReduceAxis]
    CHW: ReduceLayerParams.ReduceAxis
    HW: ReduceLayerParams.ReduceAxis
    C: ReduceLayerParams.ReduceAxis
    H: ReduceLayerParams.ReduceAxis
    W: ReduceLayerParams.ReduceAxis
    MODE_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    AXIS_FIELD_NUMBER: _ClassVar[int]
    mode: ReduceLayerParams.ReduceOperation
    epsilon: float
    axis: ReduceLayerParams.ReduceAxis
    def __init__(self, mode: _Optional[_Union[ReduceLayerParams.ReduceOperation, str]] = ..., epsilon: _Optional[float] = ..., axis: _Optional[_Union[ReduceLayerParams.ReduceAxis, str]] = ...) -> None: ...

class LoadConstantLayerParams(_message.Message):
    __slots__ = ("shape", "data")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: WeightParams
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., data: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class ReshapeLayerParams(_message.Message):
    __slots__ = ("targetShape", "mode")
    class ReshapeOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHANNEL_FIRST: _ClassVar[ReshapeLayerParams.ReshapeOrder]
        CHANNEL_LAST: _ClassVar[ReshapeLayerParams.ReshapeOrder]
    CHANNEL_FIRST: ReshapeLayerParams.ReshapeOrder
    CHANNEL_LAST: ReshapeLayerParams.ReshapeOrder
    TARGETSHAPE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    targetShape: _containers.RepeatedScalarFieldContainer[int]
    mode: ReshapeLayerParams.ReshapeOrder
    def __init__(self, targetShape: _Optional[_Iterable[int]] = ..., mode: _Optional[_Union[ReshapeLayerParams.ReshapeOrder, str]] = ...) -> None: ...

class FlattenLayerParams(_message.Message):
    __slots__ = ("mode",)
    class FlattenOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHANNEL_FIRST: _ClassVar[FlattenLayerParams.FlattenOrder]
        CHANNEL_LAST: _ClassVar[FlattenLayerParams.FlattenOrder]
    CHANNEL_FIRST: FlattenLayerParams.FlattenOrder
    CHANNEL_LAST: FlattenLayerParams.FlattenOrder
    MODE_FIELD_NUMBER: _ClassVar[int]
    mode: FlattenLayerParams.FlattenOrder
    def __init__(self, mode: _Optional[_Union[FlattenLayerParams.FlattenOrder, str]] = ...) -> None: ...

class PermuteLayerParams(_message.Message):
    __slots__ = ("axis",)
    AXIS_FIELD_NUMBER: _ClassVar[int]
    axis: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, axis: _Optional[_Iterable[int]] = ...) -> None: ...

class ConcatLayerParams(_message.Message):
    __slots__ = ("sequenceConcat",)
    SEQUENCECONCAT_FIELD_NUMBER: _ClassVar[int]
    sequenceConcat: bool
    def __init__(self, sequenceConcat: _Optional[bool] = ...) -> None: ...

class SplitLayerParams(_message.Message):
    __slots__ = ("nOutputs",)
    NOUTPUTS_FIELD_NUMBER: _ClassVar[int]
    nOutputs: int
    def __init__(self, nOutputs: _Optional[int] = ...) -> None: ...

class SequenceRepeatLayerParams(_message.Message):
    __slots__ = ("nRepetitions",)
    NREPETITIONS_FIELD_NUMBER: _ClassVar[int]
    nRepetitions: int
    def __init__(self, nRepetitions: _Optional[int] = ...) -> None: ...

class ReorganizeDataLayerParams(_message.Message):
    __slots__ = ("mode", "blockSize")
    class ReorganizationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SPACE_TO_DEPTH: _ClassVar[ReorganizeDataLayerParams.ReorganizationType]
        DEPTH_TO_SPACE: _ClassVar[ReorganizeDataLayerParams.ReorganizationType]
        PIXEL_SHUFFLE: _ClassVar[ReorganizeDataLayerParams.ReorganizationType]
    SPACE_TO_DEPTH: ReorganizeDataLayerParams.ReorganizationType
    DEPTH_TO_SPACE: ReorganizeDataLayerParams.ReorganizationType
    PIXEL_SHUFFLE: ReorganizeDataLayerParams.ReorganizationType
    MODE_FIELD_NUMBER: _ClassVar[int]
    BLOCKSIZE_FIELD_NUMBER: _ClassVar[int]
    mode: ReorganizeDataLayerParams.ReorganizationType
    blockSize: int
    def __init__(self, mode: _Optional[_Union[ReorganizeDataLayerParams.ReorganizationType, str]] = ..., blockSize: _Optional[int] = ...) -> None: ...

class SliceLayerParams(_message.Message):
    __slots__ = ("startIndex", "endIndex", "stride", "axis")
    class SliceAxis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHANNEL_AXIS: _ClassVar[SliceLayerParams.SliceAxis]
        HEIGHT_AXIS: _ClassVar[SliceLayerParams.SliceAxis]
        WIDTH_AXIS: _ClassVar[SliceLayerParams.SliceAxis]
    CHANNEL_AXIS: SliceLayerParams.SliceAxis
    HEIGHT_AXIS: SliceLayerParams.SliceAxis
    WIDTH_AXIS: SliceLayerParams.SliceAxis
    STARTINDEX_FIELD_NUMBER: _ClassVar[int]
    ENDINDEX_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    AXIS_FIELD_NUMBER: _ClassVar[int]
    startIndex: int
    endIndex: int
    stride: int
    axis: SliceLayerParams.SliceAxis
    def __init__(self, startIndex: _Optional[int] = ..., endIndex: _Optional[int] = ..., stride: _Optional[int] = ..., axis: _Optional[_Union[SliceLayerParams.SliceAxis, str]] = ...) -> None: ...

class SimpleRecurrentLayerParams(_message.Message):
    __slots__ = ("inputVectorSize", "outputVectorSize", "activation", "sequenceOutput", "hasBiasVector", "weightMatrix", "recursionMatrix", "biasVector", "reverseInput")
    INPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCEOUTPUT_FIELD_NUMBER: _ClassVar[int]
    HASBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    RECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    BIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    REVERSEINPUT_FIELD_NUMBER: _ClassVar[int]
    inputVectorSize: int
    outputVectorSize: int
    activation: ActivationParams
    sequenceOutput: bool
    hasBiasVector: bool
    weightMatrix: WeightParams
    recursionMatrix: WeightParams
    biasVector: WeightParams
    reverseInput: bool
    def __init__(self, inputVectorSize: _Optional[int] = ..., outputVectorSize: _Optional[int] = ..., activation: _Optional[_Union[ActivationParams, _Mapping]] = ..., sequenceOutput: _Optional[bool] = ..., hasBiasVector: _Optional[bool] = ..., weightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., recursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., biasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., reverseInput: _Optional[bool] = ...) -> None: ...

class GRULayerParams(_message.Message):
    __slots__ = ("inputVectorSize", "outputVectorSize", "activations", "sequenceOutput", "hasBiasVectors", "updateGateWeightMatrix", "resetGateWeightMatrix", "outputGateWeightMatrix", "updateGateRecursionMatrix", "resetGateRecursionMatrix", "outputGateRecursionMatrix", "updateGateBiasVector", "resetGateBiasVector", "outputGateBiasVector", "reverseInput")
    INPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCEOUTPUT_FIELD_NUMBER: _ClassVar[int]
    HASBIASVECTORS_FIELD_NUMBER: _ClassVar[int]
    UPDATEGATEWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    RESETGATEWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATEWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    UPDATEGATERECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    RESETGATERECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATERECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    UPDATEGATEBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    RESETGATEBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATEBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    REVERSEINPUT_FIELD_NUMBER: _ClassVar[int]
    inputVectorSize: int
    outputVectorSize: int
    activations: _containers.RepeatedCompositeFieldContainer[ActivationParams]
    sequenceOutput: bool
    hasBiasVectors: bool
    updateGateWeightMatrix: WeightParams
    resetGateWeightMatrix: WeightParams
    outputGateWeightMatrix: WeightParams
    updateGateRecursionMatrix: WeightParams
    resetGateRecursionMatrix: WeightParams
    outputGateRecursionMatrix: WeightParams
    updateGateBiasVector: WeightParams
    resetGateBiasVector: WeightParams
    outputGateBiasVector: WeightParams
    reverseInput: bool
    def __init__(self, inputVectorSize: _Optional[int] = ..., outputVectorSize: _Optional[int] = ..., activations: _Optional[_Iterable[_Union[ActivationParams, _Mapping]]] = ..., sequenceOutput: _Optional[bool] = ..., hasBiasVectors: _Optional[bool] = ..., updateGateWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., resetGateWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGateWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., updateGateRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., resetGateRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGateRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., updateGateBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., resetGateBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGateBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., reverseInput: _Optional[bool] = ...) -> None: ...

class UniDirectionalLSTMLayerParams(_message.Message):
    __slots__ = ("inputVectorSize", "outputVectorSize", "activations", "params", "weightParams", "reverseInput")
    INPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTPARAMS_FIELD_NUMBER: _ClassVar[int]
    REVERSEINPUT_FIELD_NUMBER: _ClassVar[int]
    inputVectorSize: int
    outputVectorSize: int
    activations: _containers.RepeatedCompositeFieldContainer[ActivationParams]
    params: LSTMParams
    weightParams: LSTMWeightParams
    reverseInput: bool
    def __init__(self, inputVectorSize: _Optional[int] = ..., outputVectorSize: _Optional[int] = ..., activations: _Optional[_Iterable[_Union[ActivationParams, _Mapping]]] = ..., params: _Optional[_Union[LSTMParams, _Mapping]] = ..., weightParams: _Optional[_Union[LSTMWeightParams, _Mapping]] = ..., reverseInput: _Optional[bool] = ...) -> None: ...

class LSTMParams(_message.Message):
    __slots__ = ("sequenceOutput", "hasBiasVectors", "forgetBias", "hasPeepholeVectors", "coupledInputAndForgetGate", "cellClipThreshold")
    SEQUENCEOUTPUT_FIELD_NUMBER: _ClassVar[int]
    HASBIASVECTORS_FIELD_NUMBER: _ClassVar[int]
    FORGETBIAS_FIELD_NUMBER: _ClassVar[int]
    HASPEEPHOLEVECTORS_FIELD_NUMBER: _ClassVar[int]
    COUPLEDINPUTANDFORGETGATE_FIELD_NUMBER: _ClassVar[int]
    CELLCLIPTHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    sequenceOutput: bool
    hasBiasVectors: bool
    forgetBias: bool
    hasPeepholeVectors: bool
    coupledInputAndForgetGate: bool
    cellClipThreshold: float
    def __init__(self, sequenceOutput: _Optional[bool] = ..., hasBiasVectors: _Optional[bool] = ..., forgetBias: _Optional[bool] = ..., hasPeepholeVectors: _Optional[bool] = ..., coupledInputAndForgetGate: _Optional[bool] = ..., cellClipThreshold: _Optional[float] = ...) -> None: ...

class LSTMWeightParams(_message.Message):
    __slots__ = ("inputGateWeightMatrix", "forgetGateWeightMatrix", "blockInputWeightMatrix", "outputGateWeightMatrix", "inputGateRecursionMatrix", "forgetGateRecursionMatrix", "blockInputRecursionMatrix", "outputGateRecursionMatrix", "inputGateBiasVector", "forgetGateBiasVector", "blockInputBiasVector", "outputGateBiasVector", "inputGatePeepholeVector", "forgetGatePeepholeVector", "outputGatePeepholeVector")
    INPUTGATEWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    FORGETGATEWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    BLOCKINPUTWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATEWEIGHTMATRIX_FIELD_NUMBER: _ClassVar[int]
    INPUTGATERECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    FORGETGATERECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    BLOCKINPUTRECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATERECURSIONMATRIX_FIELD_NUMBER: _ClassVar[int]
    INPUTGATEBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    FORGETGATEBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    BLOCKINPUTBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATEBIASVECTOR_FIELD_NUMBER: _ClassVar[int]
    INPUTGATEPEEPHOLEVECTOR_FIELD_NUMBER: _ClassVar[int]
    FORGETGATEPEEPHOLEVECTOR_FIELD_NUMBER: _ClassVar[int]
    OUTPUTGATEPEEPHOLEVECTOR_FIELD_NUMBER: _ClassVar[int]
    inputGateWeightMatrix: WeightParams
    forgetGateWeightMatrix: WeightParams
    blockInputWeightMatrix: WeightParams
    outputGateWeightMatrix: WeightParams
    inputGateRecursionMatrix: WeightParams
    forgetGateRecursionMatrix: WeightParams
    blockInputRecursionMatrix: WeightParams
    outputGateRecursionMatrix: WeightParams
    inputGateBiasVector: WeightParams
    forgetGateBiasVector: WeightParams
    blockInputBiasVector: WeightParams
    outputGateBiasVector: WeightParams
    inputGatePeepholeVector: WeightParams
    forgetGatePeepholeVector: WeightParams
    outputGatePeepholeVector: WeightParams
    def __init__(self, inputGateWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., forgetGateWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., blockInputWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGateWeightMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., inputGateRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., forgetGateRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., blockInputRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGateRecursionMatrix: _Optional[_Union[WeightParams, _Mapping]] = ..., inputGateBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., forgetGateBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., blockInputBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGateBiasVector: _Optional[_Union[WeightParams, _Mapping]] = ..., inputGatePeepholeVector: _Optional[_Union[WeightParams, _Mapping]] = ..., forgetGatePeepholeVector: _Optional[_Union[WeightParams, _Mapping]] = ..., outputGatePeepholeVector: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class BiDirectionalLSTMLayerParams(_message.Message):
    __slots__ = ("inputVectorSize", "outputVectorSize", "activationsForwardLSTM", "activationsBackwardLSTM", "params", "weightParams")
    INPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONSFORWARDLSTM_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONSBACKWARDLSTM_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTPARAMS_FIELD_NUMBER: _ClassVar[int]
    inputVectorSize: int
    outputVectorSize: int
    activationsForwardLSTM: _containers.RepeatedCompositeFieldContainer[ActivationParams]
    activationsBackwardLSTM: _containers.RepeatedCompositeFieldContainer[ActivationParams]
    params: LSTMParams
    weightParams: _containers.RepeatedCompositeFieldContainer[LSTMWeightParams]
    def __init__(self, inputVectorSize: _Optional[int] = ..., outputVectorSize: _Optional[int] = ..., activationsForwardLSTM: _Optional[_Iterable[_Union[ActivationParams, _Mapping]]] = ..., activationsBackwardLSTM: _Optional[_Iterable[_Union[ActivationParams, _Mapping]]] = ..., params: _Optional[_Union[LSTMParams, _Mapping]] = ..., weightParams: _Optional[_Iterable[_Union[LSTMWeightParams, _Mapping]]] = ...) -> None: ...

class CustomLayerParams(_message.Message):
    __slots__ = ("className", "weights", "parameters", "description")
    class CustomLayerParamValue(_message.Message):
        __slots__ = ("doubleValue", "stringValue", "intValue", "longValue", "boolValue")
        DOUBLEVALUE_FIELD_NUMBER: _ClassVar[int]
        STRINGVALUE_FIELD_NUMBER: _ClassVar[int]
        INTVALUE_FIELD_NUMBER: _ClassVar[int]
        LONGVALUE_FIELD_NUMBER: _ClassVar[int]
        BOOLVALUE_FIELD_NUMBER: _ClassVar[int]
        doubleValue: float
        stringValue: str
        intValue: int
        longValue: int
        boolValue: bool
        def __init__(self, doubleValue: _Optional[float] = ..., stringValue: _Optional[str] = ..., intValue: _Optional[int] = ..., longValue: _Optional[int] = ..., boolValue: _Optional[bool] = ...) -> None: ...
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: CustomLayerParams.CustomLayerParamValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[CustomLayerParams.CustomLayerParamValue, _Mapping]] = ...) -> None: ...
    CLASSNAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    className: str
    weights: _containers.RepeatedCompositeFieldContainer[WeightParams]
    parameters: _containers.MessageMap[str, CustomLayerParams.CustomLayerParamValue]
    description: str
    def __init__(self, className: _Optional[str] = ..., weights: _Optional[_Iterable[_Union[WeightParams, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, CustomLayerParams.CustomLayerParamValue]] = ..., description: _Optional[str] = ...) -> None: ...

class CopyLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BranchLayerParams(_message.Message):
    __slots__ = ("ifBranch", "elseBranch")
    IFBRANCH_FIELD_NUMBER: _ClassVar[int]
    ELSEBRANCH_FIELD_NUMBER: _ClassVar[int]
    ifBranch: NeuralNetwork
    elseBranch: NeuralNetwork
    def __init__(self, ifBranch: _Optional[_Union[NeuralNetwork, _Mapping]] = ..., elseBranch: _Optional[_Union[NeuralNetwork, _Mapping]] = ...) -> None: ...

class LoopLayerParams(_message.Message):
    __slots__ = ("maxLoopIterations", "conditionVar", "conditionNetwork", "bodyNetwork")
    MAXLOOPITERATIONS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONVAR_FIELD_NUMBER: _ClassVar[int]
    CONDITIONNETWORK_FIELD_NUMBER: _ClassVar[int]
    BODYNETWORK_FIELD_NUMBER: _ClassVar[int]
    maxLoopIterations: int
    conditionVar: str
    conditionNetwork: NeuralNetwork
    bodyNetwork: NeuralNetwork
    def __init__(self, maxLoopIterations: _Optional[int] = ..., conditionVar: _Optional[str] = ..., conditionNetwork: _Optional[_Union[NeuralNetwork, _Mapping]] = ..., bodyNetwork: _Optional[_Union[NeuralNetwork, _Mapping]] = ...) -> None: ...

class LoopBreakLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LoopContinueLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RangeStaticLayerParams(_message.Message):
    __slots__ = ("endValue", "startValue", "stepSizeValue")
    ENDVALUE_FIELD_NUMBER: _ClassVar[int]
    STARTVALUE_FIELD_NUMBER: _ClassVar[int]
    STEPSIZEVALUE_FIELD_NUMBER: _ClassVar[int]
    endValue: float
    startValue: float
    stepSizeValue: float
    def __init__(self, endValue: _Optional[float] = ..., startValue: _Optional[float] = ..., stepSizeValue: _Optional[float] = ...) -> None: ...

class RangeDynamicLayerParams(_message.Message):
    __slots__ = ("startValue", "stepSizeValue")
    STARTVALUE_FIELD_NUMBER: _ClassVar[int]
    STEPSIZEVALUE_FIELD_NUMBER: _ClassVar[int]
    startValue: float
    stepSizeValue: float
    def __init__(self, startValue: _Optional[float] = ..., stepSizeValue: _Optional[float] = ...) -> None: ...

class ClipLayerParams(_message.Message):
    __slots__ = ("minVal", "maxVal")
    MINVAL_FIELD_NUMBER: _ClassVar[int]
    MAXVAL_FIELD_NUMBER: _ClassVar[int]
    minVal: float
    maxVal: float
    def __init__(self, minVal: _Optional[float] = ..., maxVal: _Optional[float] = ...) -> None: ...

class CeilLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FloorLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SignLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RoundLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Exp2LayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SinLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CosLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TanLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AsinLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AcosLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AtanLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SinhLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CoshLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TanhLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AsinhLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AcoshLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AtanhLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ErfLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GeluLayerParams(_message.Message):
    __slots__ = ("mode",)
    class GeluMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        EXACT: _ClassVar[GeluLayerParams.GeluMode]
        TANH_APPROXIMATION: _ClassVar[GeluLayerParams.GeluMode]
        SIGMOID_APPROXIMATION: _ClassVar[GeluLayerParams.GeluMode]
    EXACT: GeluLayerParams.GeluMode
    TANH_APPROXIMATION: GeluLayerParams.GeluMode
    SIGMOID_APPROXIMATION: GeluLayerParams.GeluMode
    MODE_FIELD_NUMBER: _ClassVar[int]
    mode: GeluLayerParams.GeluMode
    def __init__(self, mode: _Optional[_Union[GeluLayerParams.GeluMode, str]] = ...) -> None: ...

class EqualLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class NotEqualLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class LessThanLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class LessEqualLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class GreaterThanLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class GreaterEqualLayerParams(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    def __init__(self, alpha: _Optional[float] = ...) -> None: ...

class LogicalOrLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LogicalXorLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LogicalNotLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LogicalAndLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MinBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MaxBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PowBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DivideBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FloorDivBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MultiplyBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SubtractBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TileLayerParams(_message.Message):
    __slots__ = ("reps",)
    REPS_FIELD_NUMBER: _ClassVar[int]
    reps: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, reps: _Optional[_Iterable[int]] = ...) -> None: ...

class StackLayerParams(_message.Message):
    __slots__ = ("axis",)
    AXIS_FIELD_NUMBER: _ClassVar[int]
    axis: int
    def __init__(self, axis: _Optional[int] = ...) -> None: ...

class GatherLayerParams(_message.Message):
    __slots__ = ("axis",)
    AXIS_FIELD_NUMBER: _ClassVar[int]
    axis: int
    def __init__(self, axis: _Optional[int] = ...) -> None: ...

class ScatterLayerParams(_message.Message):
    __slots__ = ("axis", "mode")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    axis: int
    mode: ScatterMode
    def __init__(self, axis: _Optional[int] = ..., mode: _Optional[_Union[ScatterMode, str]] = ...) -> None: ...

class GatherNDLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ScatterNDLayerParams(_message.Message):
    __slots__ = ("mode",)
    MODE_FIELD_NUMBER: _ClassVar[int]
    mode: ScatterMode
    def __init__(self, mode: _Optional[_Union[ScatterMode, str]] = ...) -> None: ...

class SoftmaxNDLayerParams(_message.Message):
    __slots__ = ("axis",)
    AXIS_FIELD_NUMBER: _ClassVar[int]
    axis: int
    def __init__(self, axis: _Optional[int] = ...) -> None: ...

class GatherAlongAxisLayerParams(_message.Message):
    __slots__ = ("axis",)
    AXIS_FIELD_NUMBER: _ClassVar[int]
    axis: int
    def __init__(self, axis: _Optional[int] = ...) -> None: ...

class ScatterAlongAxisLayerParams(_message.Message):
    __slots__ = ("axis", "mode")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    axis: int
    mode: ScatterMode
    def __init__(self, axis: _Optional[int] = ..., mode: _Optional[_Union[ScatterMode, str]] = ...) -> None: ...

class ReverseLayerParams(_message.Message):
    __slots__ = ("reverseDim",)
    REVERSEDIM_FIELD_NUMBER: _ClassVar[int]
    reverseDim: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, reverseDim: _Optional[_Iterable[bool]] = ...) -> None: ...

class ReverseSeqLayerParams(_message.Message):
    __slots__ = ("batchAxis", "sequenceAxis")
    BATCHAXIS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCEAXIS_FIELD_NUMBER: _ClassVar[int]
    batchAxis: int
    sequenceAxis: int
    def __init__(self, batchAxis: _Optional[int] = ..., sequenceAxis: _Optional[int] = ...) -> None: ...

class SplitNDLayerParams(_message.Message):
    __slots__ = ("axis", "numSplits", "splitSizes")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    NUMSPLITS_FIELD_NUMBER: _ClassVar[int]
    SPLITSIZES_FIELD_NUMBER: _ClassVar[int]
    axis: int
    numSplits: int
    splitSizes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, axis: _Optional[int] = ..., numSplits: _Optional[int] = ..., splitSizes: _Optional[_Iterable[int]] = ...) -> None: ...

class ConcatNDLayerParams(_message.Message):
    __slots__ = ("axis", "interleave")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    INTERLEAVE_FIELD_NUMBER: _ClassVar[int]
    axis: int
    interleave: bool
    def __init__(self, axis: _Optional[int] = ..., interleave: _Optional[bool] = ...) -> None: ...

class TransposeLayerParams(_message.Message):
    __slots__ = ("axes",)
    AXES_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, axes: _Optional[_Iterable[int]] = ...) -> None: ...

class SliceStaticLayerParams(_message.Message):
    __slots__ = ("beginIds", "beginMasks", "endIds", "endMasks", "strides", "squeezeMasks")
    BEGINIDS_FIELD_NUMBER: _ClassVar[int]
    BEGINMASKS_FIELD_NUMBER: _ClassVar[int]
    ENDIDS_FIELD_NUMBER: _ClassVar[int]
    ENDMASKS_FIELD_NUMBER: _ClassVar[int]
    STRIDES_FIELD_NUMBER: _ClassVar[int]
    SQUEEZEMASKS_FIELD_NUMBER: _ClassVar[int]
    beginIds: _containers.RepeatedScalarFieldContainer[int]
    beginMasks: _containers.RepeatedScalarFieldContainer[bool]
    endIds: _containers.RepeatedScalarFieldContainer[int]
    endMasks: _containers.RepeatedScalarFieldContainer[bool]
    strides: _containers.RepeatedScalarFieldContainer[int]
    squeezeMasks: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, beginIds: _Optional[_Iterable[int]] = ..., beginMasks: _Optional[_Iterable[bool]] = ..., endIds: _Optional[_Iterable[int]] = ..., endMasks: _Optional[_Iterable[bool]] = ..., strides: _Optional[_Iterable[int]] = ..., squeezeMasks: _Optional[_Iterable[bool]] = ...) -> None: ...

class SliceDynamicLayerParams(_message.Message):
    __slots__ = ("beginMasks", "endIds", "endMasks", "strides", "squeezeMasks")
    BEGINMASKS_FIELD_NUMBER: _ClassVar[int]
    ENDIDS_FIELD_NUMBER: _ClassVar[int]
    ENDMASKS_FIELD_NUMBER: _ClassVar[int]
    STRIDES_FIELD_NUMBER: _ClassVar[int]
    SQUEEZEMASKS_FIELD_NUMBER: _ClassVar[int]
    beginMasks: _containers.RepeatedScalarFieldContainer[bool]
    endIds: _containers.RepeatedScalarFieldContainer[int]
    endMasks: _containers.RepeatedScalarFieldContainer[bool]
    strides: _containers.RepeatedScalarFieldContainer[int]
    squeezeMasks: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, beginMasks: _Optional[_Iterable[bool]] = ..., endIds: _Optional[_Iterable[int]] = ..., endMasks: _Optional[_Iterable[bool]] = ..., strides: _Optional[_Iterable[int]] = ..., squeezeMasks: _Optional[_Iterable[bool]] = ...) -> None: ...

class SlidingWindowsLayerParams(_message.Message):
    __slots__ = ("axis", "windowSize", "step")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    WINDOWSIZE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    axis: int
    windowSize: int
    step: int
    def __init__(self, axis: _Optional[int] = ..., windowSize: _Optional[int] = ..., step: _Optional[int] = ...) -> None: ...

class TopKLayerParams(_message.Message):
    __slots__ = ("axis", "K", "useBottomK")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    USEBOTTOMK_FIELD_NUMBER: _ClassVar[int]
    axis: int
    K: int
    useBottomK: bool
    def __init__(self, axis: _Optional[int] = ..., K: _Optional[int] = ..., useBottomK: _Optional[bool] = ...) -> None: ...

class ArgMinLayerParams(_message.Message):
    __slots__ = ("axis", "removeDim")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    REMOVEDIM_FIELD_NUMBER: _ClassVar[int]
    axis: int
    removeDim: bool
    def __init__(self, axis: _Optional[int] = ..., removeDim: _Optional[bool] = ...) -> None: ...

class ArgMaxLayerParams(_message.Message):
    __slots__ = ("axis", "removeDim")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    REMOVEDIM_FIELD_NUMBER: _ClassVar[int]
    axis: int
    removeDim: bool
    def __init__(self, axis: _Optional[int] = ..., removeDim: _Optional[bool] = ...) -> None: ...

class EmbeddingNDLayerParams(_message.Message):
    __slots__ = ("vocabSize", "embeddingSize", "hasBias", "weights", "bias")
    VOCABSIZE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGSIZE_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    vocabSize: int
    embeddingSize: int
    hasBias: bool
    weights: WeightParams
    bias: WeightParams
    def __init__(self, vocabSize: _Optional[int] = ..., embeddingSize: _Optional[int] = ..., hasBias: _Optional[bool] = ..., weights: _Optional[_Union[WeightParams, _Mapping]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class BatchedMatMulLayerParams(_message.Message):
    __slots__ = ("transposeA", "transposeB", "weightMatrixFirstDimension", "weightMatrixSecondDimension", "hasBias", "weights", "bias", "int8DynamicQuantize")
    TRANSPOSEA_FIELD_NUMBER: _ClassVar[int]
    TRANSPOSEB_FIELD_NUMBER: _ClassVar[int]
    WEIGHTMATRIXFIRSTDIMENSION_FIELD_NUMBER: _ClassVar[int]
    WEIGHTMATRIXSECONDDIMENSION_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    INT8DYNAMICQUANTIZE_FIELD_NUMBER: _ClassVar[int]
    transposeA: bool
    transposeB: bool
    weightMatrixFirstDimension: int
    weightMatrixSecondDimension: int
    hasBias: bool
    weights: WeightParams
    bias: WeightParams
    int8DynamicQuantize: bool
    def __init__(self, transposeA: _Optional[bool] = ..., transposeB: _Optional[bool] = ..., weightMatrixFirstDimension: _Optional[int] = ..., weightMatrixSecondDimension: _Optional[int] = ..., hasBias: _Optional[bool] = ..., weights: _Optional[_Union[WeightParams, _Mapping]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ..., int8DynamicQuantize: _Optional[bool] = ...) -> None: ...

class GetShapeLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LoadConstantNDLayerParams(_message.Message):
    __slots__ = ("shape", "data")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: WeightParams
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., data: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class FillLikeLayerParams(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: float
    def __init__(self, value: _Optional[float] = ...) -> None: ...

class FillStaticLayerParams(_message.Message):
    __slots__ = ("value", "targetShape")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TARGETSHAPE_FIELD_NUMBER: _ClassVar[int]
    value: float
    targetShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, value: _Optional[float] = ..., targetShape: _Optional[_Iterable[int]] = ...) -> None: ...

class FillDynamicLayerParams(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: float
    def __init__(self, value: _Optional[float] = ...) -> None: ...

class BroadcastToLikeLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BroadcastToStaticLayerParams(_message.Message):
    __slots__ = ("targetShape",)
    TARGETSHAPE_FIELD_NUMBER: _ClassVar[int]
    targetShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, targetShape: _Optional[_Iterable[int]] = ...) -> None: ...

class BroadcastToDynamicLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SqueezeLayerParams(_message.Message):
    __slots__ = ("axes", "squeezeAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    SQUEEZEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    squeezeAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., squeezeAll: _Optional[bool] = ...) -> None: ...

class ExpandDimsLayerParams(_message.Message):
    __slots__ = ("axes",)
    AXES_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, axes: _Optional[_Iterable[int]] = ...) -> None: ...

class FlattenTo2DLayerParams(_message.Message):
    __slots__ = ("axis",)
    AXIS_FIELD_NUMBER: _ClassVar[int]
    axis: int
    def __init__(self, axis: _Optional[int] = ...) -> None: ...

class ReshapeLikeLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReshapeStaticLayerParams(_message.Message):
    __slots__ = ("targetShape",)
    TARGETSHAPE_FIELD_NUMBER: _ClassVar[int]
    targetShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, targetShape: _Optional[_Iterable[int]] = ...) -> None: ...

class ReshapeDynamicLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RankPreservingReshapeLayerParams(_message.Message):
    __slots__ = ("targetShape",)
    TARGETSHAPE_FIELD_NUMBER: _ClassVar[int]
    targetShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, targetShape: _Optional[_Iterable[int]] = ...) -> None: ...

class ConstantPaddingLayerParams(_message.Message):
    __slots__ = ("value", "padAmounts", "padToGivenOutputSizeMode")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PADAMOUNTS_FIELD_NUMBER: _ClassVar[int]
    PADTOGIVENOUTPUTSIZEMODE_FIELD_NUMBER: _ClassVar[int]
    value: float
    padAmounts: _containers.RepeatedScalarFieldContainer[int]
    padToGivenOutputSizeMode: bool
    def __init__(self, value: _Optional[float] = ..., padAmounts: _Optional[_Iterable[int]] = ..., padToGivenOutputSizeMode: _Optional[bool] = ...) -> None: ...

class RandomNormalLikeLayerParams(_message.Message):
    __slots__ = ("seed", "mean", "stdDev")
    SEED_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    seed: int
    mean: float
    stdDev: float
    def __init__(self, seed: _Optional[int] = ..., mean: _Optional[float] = ..., stdDev: _Optional[float] = ...) -> None: ...

class RandomNormalStaticLayerParams(_message.Message):
    __slots__ = ("seed", "mean", "stdDev", "outputShape")
    SEED_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    OUTPUTSHAPE_FIELD_NUMBER: _ClassVar[int]
    seed: int
    mean: float
    stdDev: float
    outputShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seed: _Optional[int] = ..., mean: _Optional[float] = ..., stdDev: _Optional[float] = ..., outputShape: _Optional[_Iterable[int]] = ...) -> None: ...

class RandomNormalDynamicLayerParams(_message.Message):
    __slots__ = ("seed", "mean", "stdDev")
    SEED_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    seed: int
    mean: float
    stdDev: float
    def __init__(self, seed: _Optional[int] = ..., mean: _Optional[float] = ..., stdDev: _Optional[float] = ...) -> None: ...

class RandomUniformLikeLayerParams(_message.Message):
    __slots__ = ("seed", "minVal", "maxVal")
    SEED_FIELD_NUMBER: _ClassVar[int]
    MINVAL_FIELD_NUMBER: _ClassVar[int]
    MAXVAL_FIELD_NUMBER: _ClassVar[int]
    seed: int
    minVal: float
    maxVal: float
    def __init__(self, seed: _Optional[int] = ..., minVal: _Optional[float] = ..., maxVal: _Optional[float] = ...) -> None: ...

class RandomUniformStaticLayerParams(_message.Message):
    __slots__ = ("seed", "minVal", "maxVal", "outputShape")
    SEED_FIELD_NUMBER: _ClassVar[int]
    MINVAL_FIELD_NUMBER: _ClassVar[int]
    MAXVAL_FIELD_NUMBER: _ClassVar[int]
    OUTPUTSHAPE_FIELD_NUMBER: _ClassVar[int]
    seed: int
    minVal: float
    maxVal: float
    outputShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seed: _Optional[int] = ..., minVal: _Optional[float] = ..., maxVal: _Optional[float] = ..., outputShape: _Optional[_Iterable[int]] = ...) -> None: ...

class RandomUniformDynamicLayerParams(_message.Message):
    __slots__ = ("seed", "minVal", "maxVal")
    SEED_FIELD_NUMBER: _ClassVar[int]
    MINVAL_FIELD_NUMBER: _ClassVar[int]
    MAXVAL_FIELD_NUMBER: _ClassVar[int]
    seed: int
    minVal: float
    maxVal: float
    def __init__(self, seed: _Optional[int] = ..., minVal: _Optional[float] = ..., maxVal: _Optional[float] = ...) -> None: ...

class RandomBernoulliLikeLayerParams(_message.Message):
    __slots__ = ("seed", "prob")
    SEED_FIELD_NUMBER: _ClassVar[int]
    PROB_FIELD_NUMBER: _ClassVar[int]
    seed: int
    prob: float
    def __init__(self, seed: _Optional[int] = ..., prob: _Optional[float] = ...) -> None: ...

class RandomBernoulliStaticLayerParams(_message.Message):
    __slots__ = ("seed", "prob", "outputShape")
    SEED_FIELD_NUMBER: _ClassVar[int]
    PROB_FIELD_NUMBER: _ClassVar[int]
    OUTPUTSHAPE_FIELD_NUMBER: _ClassVar[int]
    seed: int
    prob: float
    outputShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seed: _Optional[int] = ..., prob: _Optional[float] = ..., outputShape: _Optional[_Iterable[int]] = ...) -> None: ...

class RandomBernoulliDynamicLayerParams(_message.Message):
    __slots__ = ("seed", "prob")
    SEED_FIELD_NUMBER: _ClassVar[int]
    PROB_FIELD_NUMBER: _ClassVar[int]
    seed: int
    prob: float
    def __init__(self, seed: _Optional[int] = ..., prob: _Optional[float] = ...) -> None: ...

class CategoricalDistributionLayerParams(_message.Message):
    __slots__ = ("seed", "numSamples", "isLogits", "eps", "temperature")
    SEED_FIELD_NUMBER: _ClassVar[int]
    NUMSAMPLES_FIELD_NUMBER: _ClassVar[int]
    ISLOGITS_FIELD_NUMBER: _ClassVar[int]
    EPS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    seed: int
    numSamples: int
    isLogits: bool
    eps: float
    temperature: float
    def __init__(self, seed: _Optional[int] = ..., numSamples: _Optional[int] = ..., isLogits: _Optional[bool] = ..., eps: _Optional[float] = ..., temperature: _Optional[float] = ...) -> None: ...

class ReduceL1LayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceL2LayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceMaxLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceMinLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceSumLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceProdLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceMeanLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceLogSumLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceSumSquareLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class ReduceLogSumExpLayerParams(_message.Message):
    __slots__ = ("axes", "keepDims", "reduceAll")
    AXES_FIELD_NUMBER: _ClassVar[int]
    KEEPDIMS_FIELD_NUMBER: _ClassVar[int]
    REDUCEALL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedScalarFieldContainer[int]
    keepDims: bool
    reduceAll: bool
    def __init__(self, axes: _Optional[_Iterable[int]] = ..., keepDims: _Optional[bool] = ..., reduceAll: _Optional[bool] = ...) -> None: ...

class WhereNonZeroLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MatrixBandPartLayerParams(_message.Message):
    __slots__ = ("numLower", "numUpper")
    NUMLOWER_FIELD_NUMBER: _ClassVar[int]
    NUMUPPER_FIELD_NUMBER: _ClassVar[int]
    numLower: int
    numUpper: int
    def __init__(self, numLower: _Optional[int] = ..., numUpper: _Optional[int] = ...) -> None: ...

class LowerTriangularLayerParams(_message.Message):
    __slots__ = ("k",)
    K_FIELD_NUMBER: _ClassVar[int]
    k: int
    def __init__(self, k: _Optional[int] = ...) -> None: ...

class UpperTriangularLayerParams(_message.Message):
    __slots__ = ("k",)
    K_FIELD_NUMBER: _ClassVar[int]
    k: int
    def __init__(self, k: _Optional[int] = ...) -> None: ...

class WhereBroadcastableLayerParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LayerNormalizationLayerParams(_message.Message):
    __slots__ = ("normalizedShape", "eps", "gamma", "beta")
    NORMALIZEDSHAPE_FIELD_NUMBER: _ClassVar[int]
    EPS_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    normalizedShape: _containers.RepeatedScalarFieldContainer[int]
    eps: float
    gamma: WeightParams
    beta: WeightParams
    def __init__(self, normalizedShape: _Optional[_Iterable[int]] = ..., eps: _Optional[float] = ..., gamma: _Optional[_Union[WeightParams, _Mapping]] = ..., beta: _Optional[_Union[WeightParams, _Mapping]] = ...) -> None: ...

class NonMaximumSuppressionLayerParams(_message.Message):
    __slots__ = ("iouThreshold", "scoreThreshold", "maxBoxes", "perClassSuppression")
    IOUTHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SCORETHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAXBOXES_FIELD_NUMBER: _ClassVar[int]
    PERCLASSSUPPRESSION_FIELD_NUMBER: _ClassVar[int]
    iouThreshold: float
    scoreThreshold: float
    maxBoxes: int
    perClassSuppression: bool
    def __init__(self, iouThreshold: _Optional[float] = ..., scoreThreshold: _Optional[float] = ..., maxBoxes: _Optional[int] = ..., perClassSuppression: _Optional[bool] = ...) -> None: ...

class OneHotLayerParams(_message.Message):
    __slots__ = ("oneHotVectorSize", "axis", "onValue", "offValue")
    ONEHOTVECTORSIZE_FIELD_NUMBER: _ClassVar[int]
    AXIS_FIELD_NUMBER: _ClassVar[int]
    ONVALUE_FIELD_NUMBER: _ClassVar[int]
    OFFVALUE_FIELD_NUMBER: _ClassVar[int]
    oneHotVectorSize: int
    axis: int
    onValue: float
    offValue: float
    def __init__(self, oneHotVectorSize: _Optional[int] = ..., axis: _Optional[int] = ..., onValue: _Optional[float] = ..., offValue: _Optional[float] = ...) -> None: ...

class CumSumLayerParams(_message.Message):
    __slots__ = ("axis", "excludeFinalSum", "reverse")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDEFINALSUM_FIELD_NUMBER: _ClassVar[int]
    REVERSE_FIELD_NUMBER: _ClassVar[int]
    axis: int
    excludeFinalSum: bool
    reverse: bool
    def __init__(self, axis: _Optional[int] = ..., excludeFinalSum: _Optional[bool] = ..., reverse: _Optional[bool] = ...) -> None: ...

class ClampedReLULayerParams(_message.Message):
    __slots__ = ("alpha", "beta")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    beta: float
    def __init__(self, alpha: _Optional[float] = ..., beta: _Optional[float] = ...) -> None: ...

class ArgSortLayerParams(_message.Message):
    __slots__ = ("axis", "descending")
    AXIS_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    axis: int
    descending: bool
    def __init__(self, axis: _Optional[int] = ..., descending: _Optional[bool] = ...) -> None: ...

class Pooling3DLayerParams(_message.Message):
    __slots__ = ("type", "kernelDepth", "kernelHeight", "kernelWidth", "strideDepth", "strideHeight", "strideWidth", "customPaddingFront", "customPaddingBack", "customPaddingTop", "customPaddingBottom", "customPaddingLeft", "customPaddingRight", "countExcludePadding", "paddingType")
    class PoolingType3D(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MAX: _ClassVar[Pooling3DLayerParams.PoolingType3D]
        AVERAGE: _ClassVar[Pooling3DLayerParams.PoolingType3D]
    MAX: Pooling3DLayerParams.PoolingType3D
    AVERAGE: Pooling3DLayerParams.PoolingType3D
    class Pooling3DPaddingType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CUSTOM: _ClassVar[Pooling3DLayerParams.Pooling3DPaddingType]
        VALID: _ClassVar[Pooling3DLayerParams.Pooling3DPaddingType]
        SAME: _ClassVar[Pooling3DLayerParams.Pooling3DPaddingType]
    CUSTOM: Pooling3DLayerParams.Pooling3DPaddingType
    VALID: Pooling3DLayerParams.Pooling3DPaddingType
    SAME: Pooling3DLayerParams.Pooling3DPaddingType
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KERNELDEPTH_FIELD_NUMBER: _ClassVar[int]
    KERNELHEIGHT_FIELD_NUMBER: _ClassVar[int]
    KERNELWIDTH_FIELD_NUMBER: _ClassVar[int]
    STRIDEDEPTH_FIELD_NUMBER: _ClassVar[int]
    STRIDEHEIGHT_FIELD_NUMBER: _ClassVar[int]
    STRIDEWIDTH_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGFRONT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGBACK_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGTOP_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGBOTTOM_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGLEFT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGRIGHT_FIELD_NUMBER: _ClassVar[int]
    COUNTEXCLUDEPADDING_FIELD_NUMBER: _ClassVar[int]
    PADDINGTYPE_FIELD_NUMBER: _ClassVar[int]
    type: Pooling3DLayerParams.PoolingType3D
    kernelDepth: int
    kernelHeight: int
    kernelWidth: int
    strideDepth: int
    strideHeight: int
    strideWidth: int
    customPaddingFront: int
    customPaddingBack: int
    customPaddingTop: int
    customPaddingBottom: int
    customPaddingLeft: int
    customPaddingRight: int
    countExcludePadding: bool
    paddingType: Pooling3DLayerParams.Pooling3DPaddingType
    def __init__(self, type: _Optional[_Union[Pooling3DLayerParams.PoolingType3D, str]] = ..., kernelDepth: _Optional[int] = ..., kernelHeight: _Optional[int] = ..., kernelWidth: _Optional[int] = ..., strideDepth: _Optional[int] = ..., strideHeight: _Optional[int] = ..., strideWidth: _Optional[int] = ..., customPaddingFront: _Optional[int] = ..., customPaddingBack: _Optional[int] = ..., customPaddingTop: _Optional[int] = ..., customPaddingBottom: _Optional[int] = ..., customPaddingLeft: _Optional[int] = ..., customPaddingRight: _Optional[int] = ..., countExcludePadding: _Optional[bool] = ..., paddingType: _Optional[_Union[Pooling3DLayerParams.Pooling3DPaddingType, str]] = ...) -> None: ...

class GlobalPooling3DLayerParams(_message.Message):
    __slots__ = ("type",)
    class GlobalPoolingType3D(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MAX: _ClassVar[GlobalPooling3DLayerParams.GlobalPoolingType3D]
        AVERAGE: _ClassVar[GlobalPooling3DLayerParams.GlobalPoolingType3D]
    MAX: GlobalPooling3DLayerParams.GlobalPoolingType3D
    AVERAGE: GlobalPooling3DLayerParams.GlobalPoolingType3D
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: GlobalPooling3DLayerParams.GlobalPoolingType3D
    def __init__(self, type: _Optional[_Union[GlobalPooling3DLayerParams.GlobalPoolingType3D, str]] = ...) -> None: ...

class SliceBySizeLayerParams(_message.Message):
    __slots__ = ("size", "axis")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    AXIS_FIELD_NUMBER: _ClassVar[int]
    size: int
    axis: int
    def __init__(self, size: _Optional[int] = ..., axis: _Optional[int] = ...) -> None: ...

class Convolution3DLayerParams(_message.Message):
    __slots__ = ("outputChannels", "inputChannels", "nGroups", "kernelDepth", "kernelHeight", "kernelWidth", "strideDepth", "strideHeight", "strideWidth", "dilationDepth", "dilationHeight", "dilationWidth", "hasBias", "weights", "bias", "paddingType", "customPaddingFront", "customPaddingBack", "customPaddingTop", "customPaddingBottom", "customPaddingLeft", "customPaddingRight", "isDeconvolution", "outputShape")
    class PaddingType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CUSTOM: _ClassVar[Convolution3DLayerParams.PaddingType]
        VALID: _ClassVar[Convolution3DLayerParams.PaddingType]
        SAME: _ClassVar[Convolution3DLayerParams.PaddingType]
    CUSTOM: Convolution3DLayerParams.PaddingType
    VALID: Convolution3DLayerParams.PaddingType
    SAME: Convolution3DLayerParams.PaddingType
    OUTPUTCHANNELS_FIELD_NUMBER: _ClassVar[int]
    INPUTCHANNELS_FIELD_NUMBER: _ClassVar[int]
    NGROUPS_FIELD_NUMBER: _ClassVar[int]
    KERNELDEPTH_FIELD_NUMBER: _ClassVar[int]
    KERNELHEIGHT_FIELD_NUMBER: _ClassVar[int]
    KERNELWIDTH_FIELD_NUMBER: _ClassVar[int]
    STRIDEDEPTH_FIELD_NUMBER: _ClassVar[int]
    STRIDEHEIGHT_FIELD_NUMBER: _ClassVar[int]
    STRIDEWIDTH_FIELD_NUMBER: _ClassVar[int]
    DILATIONDEPTH_FIELD_NUMBER: _ClassVar[int]
    DILATIONHEIGHT_FIELD_NUMBER: _ClassVar[int]
    DILATIONWIDTH_FIELD_NUMBER: _ClassVar[int]
    HASBIAS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    PADDINGTYPE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGFRONT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGBACK_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGTOP_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGBOTTOM_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGLEFT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMPADDINGRIGHT_FIELD_NUMBER: _ClassVar[int]
    ISDECONVOLUTION_FIELD_NUMBER: _ClassVar[int]
    OUTPUTSHAPE_FIELD_NUMBER: _ClassVar[int]
    outputChannels: int
    inputChannels: int
    nGroups: int
    kernelDepth: int
    kernelHeight: int
    kernelWidth: int
    strideDepth: int
    strideHeight: int
    strideWidth: int
    dilationDepth: int
    dilationHeight: int
    dilationWidth: int
    hasBias: bool
    weights: WeightParams
    bias: WeightParams
    paddingType: Convolution3DLayerParams.PaddingType
    customPaddingFront: int
    customPaddingBack: int
    customPaddingTop: int
    customPaddingBottom: int
    customPaddingLeft: int
    customPaddingRight: int
    isDeconvolution: bool
    outputShape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, outputChannels: _Optional[int] = ..., inputChannels: _Optional[int] = ..., nGroups: _Optional[int] = ..., kernelDepth: _Optional[int] = ..., kernelHeight: _Optional[int] = ..., kernelWidth: _Optional[int] = ..., strideDepth: _Optional[int] = ..., strideHeight: _Optional[int] = ..., strideWidth: _Optional[int] = ..., dilationDepth: _Optional[int] = ..., dilationHeight: _Optional[int] = ..., dilationWidth: _Optional[int] = ..., hasBias: _Optional[bool] = ..., weights: _Optional[_Union[WeightParams, _Mapping]] = ..., bias: _Optional[_Union[WeightParams, _Mapping]] = ..., paddingType: _Optional[_Union[Convolution3DLayerParams.PaddingType, str]] = ..., customPaddingFront: _Optional[int] = ..., customPaddingBack: _Optional[int] = ..., customPaddingTop: _Optional[int] = ..., customPaddingBottom: _Optional[int] = ..., customPaddingLeft: _Optional[int] = ..., customPaddingRight: _Optional[int] = ..., isDeconvolution: _Optional[bool] = ..., outputShape: _Optional[_Iterable[int]] = ...) -> None: ...

class NetworkUpdateParameters(_message.Message):
    __slots__ = ("lossLayers", "optimizer", "epochs", "shuffle", "seed")
    LOSSLAYERS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    SHUFFLE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    lossLayers: _containers.RepeatedCompositeFieldContainer[LossLayer]
    optimizer: Optimizer
    epochs: _data_structures_pb2.Int64Parameter
    shuffle: _data_structures_pb2.BoolParameter
    seed: _data_structures_pb2.Int64Parameter
    def __init__(self, lossLayers: _Optional[_Iterable[_Union[LossLayer, _Mapping]]] = ..., optimizer: _Optional[_Union[Optimizer, _Mapping]] = ..., epochs: _Optional[_Union[_data_structures_pb2.Int64Parameter, _Mapping]] = ..., shuffle: _Optional[_Union[_data_structures_pb2.BoolParameter, _Mapping]] = ..., seed: _Optional[_Union[_data_structures_pb2.Int64Parameter, _Mapping]] = ...) -> None: ...

class LossLayer(_message.Message):
    __slots__ = ("name", "categoricalCrossEntropyLossLayer", "meanSquaredErrorLossLayer")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORICALCROSSENTROPYLOSSLAYER_FIELD_NUMBER: _ClassVar[int]
    MEANSQUAREDERRORLOSSLAYER_FIELD_NUMBER: _ClassVar[int]
    name: str
    categoricalCrossEntropyLossLayer: CategoricalCrossEntropyLossLayer
    meanSquaredErrorLossLayer: MeanSquaredErrorLossLayer
    def __init__(self, name: _Optional[str] = ..., categoricalCrossEntropyLossLayer: _Optional[_Union[CategoricalCrossEntropyLossLayer, _Mapping]] = ..., meanSquaredErrorLossLayer: _Optional[_Union[MeanSquaredErrorLossLayer, _Mapping]] = ...) -> None: ...

class CategoricalCrossEntropyLossLayer(_message.Message):
    __slots__ = ("input", "target")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    input: str
    target: str
    def __init__(self, input: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class MeanSquaredErrorLossLayer(_message.Message):
    __slots__ = ("input", "target")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    input: str
    target: str
    def __init__(self, input: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class Optimizer(_message.Message):
    __slots__ = ("sgdOptimizer", "adamOptimizer")
    SGDOPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    ADAMOPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    sgdOptimizer: SGDOptimizer
    adamOptimizer: AdamOptimizer
    def __init__(self, sgdOptimizer: _Optional[_Union[SGDOptimizer, _Mapping]] = ..., adamOptimizer: _Optional[_Union[AdamOptimizer, _Mapping]] = ...) -> None: ...

class SGDOptimizer(_message.Message):
    __slots__ = ("learningRate", "miniBatchSize", "momentum")
    LEARNINGRATE_FIELD_NUMBER: _ClassVar[int]
    MINIBATCHSIZE_FIELD_NUMBER: _ClassVar[int]
    MOMENTUM_FIELD_NUMBER: _ClassVar[int]
    learningRate: _data_structures_pb2.DoubleParameter
    miniBatchSize: _data_structures_pb2.Int64Parameter
    momentum: _data_structures_pb2.DoubleParameter
    def __init__(self, learningRate: _Optional[_Union[_data_structures_pb2.DoubleParameter, _Mapping]] = ..., miniBatchSize: _Optional[_Union[_data_structures_pb2.Int64Parameter, _Mapping]] = ..., momentum: _Optional[_Union[_data_structures_pb2.DoubleParameter, _Mapping]] = ...) -> None: ...

class AdamOptimizer(_message.Message):
    __slots__ = ("learningRate", "miniBatchSize", "beta1", "beta2", "eps")
    LEARNINGRATE_FIELD_NUMBER: _ClassVar[int]
    MINIBATCHSIZE_FIELD_NUMBER: _ClassVar[int]
    BETA1_FIELD_NUMBER: _ClassVar[int]
    BETA2_FIELD_NUMBER: _ClassVar[int]
    EPS_FIELD_NUMBER: _ClassVar[int]
    learningRate: _data_structures_pb2.DoubleParameter
    miniBatchSize: _data_structures_pb2.Int64Parameter
    beta1: _data_structures_pb2.DoubleParameter
    beta2: _data_structures_pb2.DoubleParameter
    eps: _data_structures_pb2.DoubleParameter
    def __init__(self, learningRate: _Optional[_Union[_data_structures_pb2.DoubleParameter, _Mapping]] = ..., miniBatchSize: _Optional[_Union[_data_structures_pb2.Int64Parameter, _Mapping]] = ..., beta1: _Optional[_Union[_data_structures_pb2.DoubleParameter, _Mapping]] = ..., beta2: _Optional[_Union[_data_structures_pb2.DoubleParameter, _Mapping]] = ..., eps: _Optional[_Union[_data_structures_pb2.DoubleParameter, _Mapping]] = ...) -> None: ...
