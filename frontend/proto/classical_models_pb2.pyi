from mlir_coreml.frontend.proto import data_structures_pb2 as _data_structures_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TreeEnsemblePostEvaluationTransform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NoTransform: _ClassVar[TreeEnsemblePostEvaluationTransform]
    Classification_SoftMax: _ClassVar[TreeEnsemblePostEvaluationTransform]
    Regression_Logistic: _ClassVar[TreeEnsemblePostEvaluationTransform]
    Classification_SoftMaxWithZeroClassReference: _ClassVar[TreeEnsemblePostEvaluationTransform]
NoTransform: TreeEnsemblePostEvaluationTransform
Classification_SoftMax: TreeEnsemblePostEvaluationTransform
Regression_Logistic: TreeEnsemblePostEvaluationTransform
Classification_SoftMaxWithZeroClassReference: TreeEnsemblePostEvaluationTransform

class GLMRegressor(_message.Message):
    __slots__ = ("weights", "offset", "postEvaluationTransform")
    class PostEvaluationTransform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NoTransform: _ClassVar[GLMRegressor.PostEvaluationTransform]
        Logit: _ClassVar[GLMRegressor.PostEvaluationTransform]
        Probit: _ClassVar[GLMRegressor.PostEvaluationTransform]
    NoTransform: GLMRegressor.PostEvaluationTransform
    Logit: GLMRegressor.PostEvaluationTransform
    Probit: GLMRegressor.PostEvaluationTransform
    class DoubleArray(_message.Message):
        __slots__ = ("value",)
        VALUE_FIELD_NUMBER: _ClassVar[int]
        value: _containers.RepeatedScalarFieldContainer[float]
        def __init__(self, value: _Optional[_Iterable[float]] = ...) -> None: ...
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    POSTEVALUATIONTRANSFORM_FIELD_NUMBER: _ClassVar[int]
    weights: _containers.RepeatedCompositeFieldContainer[GLMRegressor.DoubleArray]
    offset: _containers.RepeatedScalarFieldContainer[float]
    postEvaluationTransform: GLMRegressor.PostEvaluationTransform
    def __init__(self, weights: _Optional[_Iterable[_Union[GLMRegressor.DoubleArray, _Mapping]]] = ..., offset: _Optional[_Iterable[float]] = ..., postEvaluationTransform: _Optional[_Union[GLMRegressor.PostEvaluationTransform, str]] = ...) -> None: ...

class GLMClassifier(_message.Message):
    __slots__ = ("weights", "offset", "postEvaluationTransform", "classEncoding", "stringClassLabels", "int64ClassLabels")
    class PostEvaluationTransform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        Logit: _ClassVar[GLMClassifier.PostEvaluationTransform]
        Probit: _ClassVar[GLMClassifier.PostEvaluationTransform]
    Logit: GLMClassifier.PostEvaluationTransform
    Probit: GLMClassifier.PostEvaluationTransform
    class ClassEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ReferenceClass: _ClassVar[GLMClassifier.ClassEncoding]
        OneVsRest: _ClassVar[GLMClassifier.ClassEncoding]
    ReferenceClass: GLMClassifier.ClassEncoding
    OneVsRest: GLMClassifier.ClassEncoding
    class DoubleArray(_message.Message):
        __slots__ = ("value",)
        VALUE_FIELD_NUMBER: _ClassVar[int]
        value: _containers.RepeatedScalarFieldContainer[float]
        def __init__(self, value: _Optional[_Iterable[float]] = ...) -> None: ...
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    POSTEVALUATIONTRANSFORM_FIELD_NUMBER: _ClassVar[int]
    CLASSENCODING_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    INT64CLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    weights: _containers.RepeatedCompositeFieldContainer[GLMClassifier.DoubleArray]
    offset: _containers.RepeatedScalarFieldContainer[float]
    postEvaluationTransform: GLMClassifier.PostEvaluationTransform
    classEncoding: GLMClassifier.ClassEncoding
    stringClassLabels: _data_structures_pb2.StringVector
    int64ClassLabels: _data_structures_pb2.Int64Vector
    def __init__(self, weights: _Optional[_Iterable[_Union[GLMClassifier.DoubleArray, _Mapping]]] = ..., offset: _Optional[_Iterable[float]] = ..., postEvaluationTransform: _Optional[_Union[GLMClassifier.PostEvaluationTransform, str]] = ..., classEncoding: _Optional[_Union[GLMClassifier.ClassEncoding, str]] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ClassLabels: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ...) -> None: ...

class BayesianProbitRegressor(_message.Message):
    __slots__ = ("numberOfFeatures", "bias", "features", "regressionInputFeatureName", "optimismInputFeatureName", "samplingScaleInputFeatureName", "samplingTruncationInputFeatureName", "meanOutputFeatureName", "varianceOutputFeatureName", "pessimisticProbabilityOutputFeatureName", "sampledProbabilityOutputFeatureName")
    class Gaussian(_message.Message):
        __slots__ = ("mean", "precision")
        MEAN_FIELD_NUMBER: _ClassVar[int]
        PRECISION_FIELD_NUMBER: _ClassVar[int]
        mean: float
        precision: float
        def __init__(self, mean: _Optional[float] = ..., precision: _Optional[float] = ...) -> None: ...
    class FeatureValueWeight(_message.Message):
        __slots__ = ("featureValue", "featureWeight")
        FEATUREVALUE_FIELD_NUMBER: _ClassVar[int]
        FEATUREWEIGHT_FIELD_NUMBER: _ClassVar[int]
        featureValue: int
        featureWeight: BayesianProbitRegressor.Gaussian
        def __init__(self, featureValue: _Optional[int] = ..., featureWeight: _Optional[_Union[BayesianProbitRegressor.Gaussian, _Mapping]] = ...) -> None: ...
    class FeatureWeight(_message.Message):
        __slots__ = ("featureId", "weights")
        FEATUREID_FIELD_NUMBER: _ClassVar[int]
        WEIGHTS_FIELD_NUMBER: _ClassVar[int]
        featureId: int
        weights: _containers.RepeatedCompositeFieldContainer[BayesianProbitRegressor.FeatureValueWeight]
        def __init__(self, featureId: _Optional[int] = ..., weights: _Optional[_Iterable[_Union[BayesianProbitRegressor.FeatureValueWeight, _Mapping]]] = ...) -> None: ...
    NUMBEROFFEATURES_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    REGRESSIONINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    OPTIMISMINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLINGSCALEINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLINGTRUNCATIONINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    MEANOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    VARIANCEOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    PESSIMISTICPROBABILITYOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLEDPROBABILITYOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    numberOfFeatures: int
    bias: BayesianProbitRegressor.Gaussian
    features: _containers.RepeatedCompositeFieldContainer[BayesianProbitRegressor.FeatureWeight]
    regressionInputFeatureName: str
    optimismInputFeatureName: str
    samplingScaleInputFeatureName: str
    samplingTruncationInputFeatureName: str
    meanOutputFeatureName: str
    varianceOutputFeatureName: str
    pessimisticProbabilityOutputFeatureName: str
    sampledProbabilityOutputFeatureName: str
    def __init__(self, numberOfFeatures: _Optional[int] = ..., bias: _Optional[_Union[BayesianProbitRegressor.Gaussian, _Mapping]] = ..., features: _Optional[_Iterable[_Union[BayesianProbitRegressor.FeatureWeight, _Mapping]]] = ..., regressionInputFeatureName: _Optional[str] = ..., optimismInputFeatureName: _Optional[str] = ..., samplingScaleInputFeatureName: _Optional[str] = ..., samplingTruncationInputFeatureName: _Optional[str] = ..., meanOutputFeatureName: _Optional[str] = ..., varianceOutputFeatureName: _Optional[str] = ..., pessimisticProbabilityOutputFeatureName: _Optional[str] = ..., sampledProbabilityOutputFeatureName: _Optional[str] = ...) -> None: ...

class SupportVectorRegressor(_message.Message):
    __slots__ = ("kernel", "sparseSupportVectors", "denseSupportVectors", "coefficients", "rho")
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    SPARSESUPPORTVECTORS_FIELD_NUMBER: _ClassVar[int]
    DENSESUPPORTVECTORS_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENTS_FIELD_NUMBER: _ClassVar[int]
    RHO_FIELD_NUMBER: _ClassVar[int]
    kernel: Kernel
    sparseSupportVectors: SparseSupportVectors
    denseSupportVectors: DenseSupportVectors
    coefficients: Coefficients
    rho: float
    def __init__(self, kernel: _Optional[_Union[Kernel, _Mapping]] = ..., sparseSupportVectors: _Optional[_Union[SparseSupportVectors, _Mapping]] = ..., denseSupportVectors: _Optional[_Union[DenseSupportVectors, _Mapping]] = ..., coefficients: _Optional[_Union[Coefficients, _Mapping]] = ..., rho: _Optional[float] = ...) -> None: ...

class SparseSupportVectors(_message.Message):
    __slots__ = ("vectors",)
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    vectors: _containers.RepeatedCompositeFieldContainer[SparseVector]
    def __init__(self, vectors: _Optional[_Iterable[_Union[SparseVector, _Mapping]]] = ...) -> None: ...

class SparseVector(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[SparseNode]
    def __init__(self, nodes: _Optional[_Iterable[_Union[SparseNode, _Mapping]]] = ...) -> None: ...

class SparseNode(_message.Message):
    __slots__ = ("index", "value")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    index: int
    value: float
    def __init__(self, index: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class DenseSupportVectors(_message.Message):
    __slots__ = ("vectors",)
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    vectors: _containers.RepeatedCompositeFieldContainer[DenseVector]
    def __init__(self, vectors: _Optional[_Iterable[_Union[DenseVector, _Mapping]]] = ...) -> None: ...

class DenseVector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Coefficients(_message.Message):
    __slots__ = ("alpha",)
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    alpha: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, alpha: _Optional[_Iterable[float]] = ...) -> None: ...

class SupportVectorClassifier(_message.Message):
    __slots__ = ("kernel", "numberOfSupportVectorsPerClass", "sparseSupportVectors", "denseSupportVectors", "coefficients", "rho", "probA", "probB", "stringClassLabels", "int64ClassLabels")
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    NUMBEROFSUPPORTVECTORSPERCLASS_FIELD_NUMBER: _ClassVar[int]
    SPARSESUPPORTVECTORS_FIELD_NUMBER: _ClassVar[int]
    DENSESUPPORTVECTORS_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENTS_FIELD_NUMBER: _ClassVar[int]
    RHO_FIELD_NUMBER: _ClassVar[int]
    PROBA_FIELD_NUMBER: _ClassVar[int]
    PROBB_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    INT64CLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    kernel: Kernel
    numberOfSupportVectorsPerClass: _containers.RepeatedScalarFieldContainer[int]
    sparseSupportVectors: SparseSupportVectors
    denseSupportVectors: DenseSupportVectors
    coefficients: _containers.RepeatedCompositeFieldContainer[Coefficients]
    rho: _containers.RepeatedScalarFieldContainer[float]
    probA: _containers.RepeatedScalarFieldContainer[float]
    probB: _containers.RepeatedScalarFieldContainer[float]
    stringClassLabels: _data_structures_pb2.StringVector
    int64ClassLabels: _data_structures_pb2.Int64Vector
    def __init__(self, kernel: _Optional[_Union[Kernel, _Mapping]] = ..., numberOfSupportVectorsPerClass: _Optional[_Iterable[int]] = ..., sparseSupportVectors: _Optional[_Union[SparseSupportVectors, _Mapping]] = ..., denseSupportVectors: _Optional[_Union[DenseSupportVectors, _Mapping]] = ..., coefficients: _Optional[_Iterable[_Union[Coefficients, _Mapping]]] = ..., rho: _Optional[_Iterable[float]] = ..., probA: _Optional[_Iterable[float]] = ..., probB: _Optional[_Iterable[float]] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ClassLabels: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ...) -> None: ...

class Kernel(_message.Message):
    __slots__ = ("linearKernel", "rbfKernel", "polyKernel", "sigmoidKernel")
    LINEARKERNEL_FIELD_NUMBER: _ClassVar[int]
    RBFKERNEL_FIELD_NUMBER: _ClassVar[int]
    POLYKERNEL_FIELD_NUMBER: _ClassVar[int]
    SIGMOIDKERNEL_FIELD_NUMBER: _ClassVar[int]
    linearKernel: LinearKernel
    rbfKernel: RBFKernel
    polyKernel: PolyKernel
    sigmoidKernel: SigmoidKernel
    def __init__(self, linearKernel: _Optional[_Union[LinearKernel, _Mapping]] = ..., rbfKernel: _Optional[_Union[RBFKernel, _Mapping]] = ..., polyKernel: _Optional[_Union[PolyKernel, _Mapping]] = ..., sigmoidKernel: _Optional[_Union[SigmoidKernel, _Mapping]] = ...) -> None: ...

class LinearKernel(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RBFKernel(_message.Message):
    __slots__ = ("gamma",)
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    gamma: float
    def __init__(self, gamma: _Optional[float] = ...) -> None: ...

class PolyKernel(_message.Message):
    __slots__ = ("degree", "c", "gamma")
    DEGREE_FIELD_NUMBER: _ClassVar[int]
    C_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    degree: int
    c: float
    gamma: float
    def __init__(self, degree: _Optional[int] = ..., c: _Optional[float] = ..., gamma: _Optional[float] = ...) -> None: ...

class SigmoidKernel(_message.Message):
    __slots__ = ("gamma", "c")
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    C_FIELD_NUMBER: _ClassVar[int]
    gamma: float
    c: float
    def __init__(self, gamma: _Optional[float] = ..., c: _Optional[float] = ...) -> None: ...

class TreeEnsembleClassifier(_message.Message):
    __slots__ = ("treeEnsemble", "postEvaluationTransform", "stringClassLabels", "int64ClassLabels")
    TREEENSEMBLE_FIELD_NUMBER: _ClassVar[int]
    POSTEVALUATIONTRANSFORM_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    INT64CLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    treeEnsemble: TreeEnsembleParameters
    postEvaluationTransform: TreeEnsemblePostEvaluationTransform
    stringClassLabels: _data_structures_pb2.StringVector
    int64ClassLabels: _data_structures_pb2.Int64Vector
    def __init__(self, treeEnsemble: _Optional[_Union[TreeEnsembleParameters, _Mapping]] = ..., postEvaluationTransform: _Optional[_Union[TreeEnsemblePostEvaluationTransform, str]] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ClassLabels: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ...) -> None: ...

class TreeEnsembleRegressor(_message.Message):
    __slots__ = ("treeEnsemble", "postEvaluationTransform")
    TREEENSEMBLE_FIELD_NUMBER: _ClassVar[int]
    POSTEVALUATIONTRANSFORM_FIELD_NUMBER: _ClassVar[int]
    treeEnsemble: TreeEnsembleParameters
    postEvaluationTransform: TreeEnsemblePostEvaluationTransform
    def __init__(self, treeEnsemble: _Optional[_Union[TreeEnsembleParameters, _Mapping]] = ..., postEvaluationTransform: _Optional[_Union[TreeEnsemblePostEvaluationTransform, str]] = ...) -> None: ...

class TreeEnsembleParameters(_message.Message):
    __slots__ = ("nodes", "numPredictionDimensions", "basePredictionValue")
    class TreeNode(_message.Message):
        __slots__ = ("treeId", "nodeId", "nodeBehavior", "branchFeatureIndex", "branchFeatureValue", "trueChildNodeId", "falseChildNodeId", "missingValueTracksTrueChild", "evaluationInfo", "relativeHitRate")
        class TreeNodeBehavior(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            BranchOnValueLessThanEqual: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
            BranchOnValueLessThan: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
            BranchOnValueGreaterThanEqual: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
            BranchOnValueGreaterThan: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
            BranchOnValueEqual: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
            BranchOnValueNotEqual: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
            LeafNode: _ClassVar[TreeEnsembleParameters.TreeNode.TreeNodeBehavior]
        BranchOnValueLessThanEqual: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        BranchOnValueLessThan: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        BranchOnValueGreaterThanEqual: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        BranchOnValueGreaterThan: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        BranchOnValueEqual: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        BranchOnValueNotEqual: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        LeafNode: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        class EvaluationInfo(_message.Message):
            __slots__ = ("evaluationIndex", "evaluationValue")
            EVALUATIONINDEX_FIELD_NUMBER: _ClassVar[int]
            EVALUATIONVALUE_FIELD_NUMBER: _ClassVar[int]
            evaluationIndex: int
            evaluationValue: float
            def __init__(self, evaluationIndex: _Optional[int] = ..., evaluationValue: _Optional[float] = ...) -> None: ...
        TREEID_FIELD_NUMBER: _ClassVar[int]
        NODEID_FIELD_NUMBER: _ClassVar[int]
        NODEBEHAVIOR_FIELD_NUMBER: _ClassVar[int]
        BRANCHFEATUREINDEX_FIELD_NUMBER: _ClassVar[int]
        BRANCHFEATUREVALUE_FIELD_NUMBER: _ClassVar[int]
        TRUECHILDNODEID_FIELD_NUMBER: _ClassVar[int]
        FALSECHILDNODEID_FIELD_NUMBER: _ClassVar[int]
        MISSINGVALUETRACKSTRUECHILD_FIELD_NUMBER: _ClassVar[int]
        EVALUATIONINFO_FIELD_NUMBER: _ClassVar[int]
        RELATIVEHITRATE_FIELD_NUMBER: _ClassVar[int]
        treeId: int
        nodeId: int
        nodeBehavior: TreeEnsembleParameters.TreeNode.TreeNodeBehavior
        branchFeatureIndex: int
        branchFeatureValue: float
        trueChildNodeId: int
        falseChildNodeId: int
        missingValueTracksTrueChild: bool
        evaluationInfo: _containers.RepeatedCompositeFieldContainer[TreeEnsembleParameters.TreeNode.EvaluationInfo]
        relativeHitRate: float
        def __init__(self, treeId: _Optional[int] = ..., nodeId: _Optional[int] = ..., nodeBehavior: _Optional[_Union[TreeEnsembleParameters.TreeNode.TreeNodeBehavior, str]] = ..., branchFeatureIndex: _Optional[int] = ..., branchFeatureValue: _Optional[float] = ..., trueChildNodeId: _Optional[int] = ..., falseChildNodeId: _Optional[int] = ..., missingValueTracksTrueChild: _Optional[bool] = ..., evaluationInfo: _Optional[_Iterable[_Union[TreeEnsembleParameters.TreeNode.EvaluationInfo, _Mapping]]] = ..., relativeHitRate: _Optional[float] = ...) -> None: ...
    NODES_FIELD_NUMBER: _ClassVar[int]
    NUMPREDICTIONDIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    BASEPREDICTIONVALUE_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[TreeEnsembleParameters.TreeNode]
    numPredictionDimensions: int
    basePredictionValue: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, nodes: _Optional[_Iterable[_Union[TreeEnsembleParameters.TreeNode, _Mapping]]] = ..., numPredictionDimensions: _Optional[int] = ..., basePredictionValue: _Optional[_Iterable[float]] = ...) -> None: ...

class KNearestNeighborsClassifier(_message.Message):
    __slots__ = ("nearestNeighborsIndex", "numberOfNeighbors", "stringClassLabels", "int64ClassLabels", "defaultStringLabel", "defaultInt64Label", "uniformWeighting", "inverseDistanceWeighting")
    NEARESTNEIGHBORSINDEX_FIELD_NUMBER: _ClassVar[int]
    NUMBEROFNEIGHBORS_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    INT64CLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULTSTRINGLABEL_FIELD_NUMBER: _ClassVar[int]
    DEFAULTINT64LABEL_FIELD_NUMBER: _ClassVar[int]
    UNIFORMWEIGHTING_FIELD_NUMBER: _ClassVar[int]
    INVERSEDISTANCEWEIGHTING_FIELD_NUMBER: _ClassVar[int]
    nearestNeighborsIndex: NearestNeighborsIndex
    numberOfNeighbors: _data_structures_pb2.Int64Parameter
    stringClassLabels: _data_structures_pb2.StringVector
    int64ClassLabels: _data_structures_pb2.Int64Vector
    defaultStringLabel: str
    defaultInt64Label: int
    uniformWeighting: UniformWeighting
    inverseDistanceWeighting: InverseDistanceWeighting
    def __init__(self, nearestNeighborsIndex: _Optional[_Union[NearestNeighborsIndex, _Mapping]] = ..., numberOfNeighbors: _Optional[_Union[_data_structures_pb2.Int64Parameter, _Mapping]] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ClassLabels: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ..., defaultStringLabel: _Optional[str] = ..., defaultInt64Label: _Optional[int] = ..., uniformWeighting: _Optional[_Union[UniformWeighting, _Mapping]] = ..., inverseDistanceWeighting: _Optional[_Union[InverseDistanceWeighting, _Mapping]] = ...) -> None: ...

class NearestNeighborsIndex(_message.Message):
    __slots__ = ("numberOfDimensions", "floatSamples", "linearIndex", "singleKdTreeIndex", "squaredEuclideanDistance")
    NUMBEROFDIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    FLOATSAMPLES_FIELD_NUMBER: _ClassVar[int]
    LINEARINDEX_FIELD_NUMBER: _ClassVar[int]
    SINGLEKDTREEINDEX_FIELD_NUMBER: _ClassVar[int]
    SQUAREDEUCLIDEANDISTANCE_FIELD_NUMBER: _ClassVar[int]
    numberOfDimensions: int
    floatSamples: _containers.RepeatedCompositeFieldContainer[_data_structures_pb2.FloatVector]
    linearIndex: LinearIndex
    singleKdTreeIndex: SingleKdTreeIndex
    squaredEuclideanDistance: SquaredEuclideanDistance
    def __init__(self, numberOfDimensions: _Optional[int] = ..., floatSamples: _Optional[_Iterable[_Union[_data_structures_pb2.FloatVector, _Mapping]]] = ..., linearIndex: _Optional[_Union[LinearIndex, _Mapping]] = ..., singleKdTreeIndex: _Optional[_Union[SingleKdTreeIndex, _Mapping]] = ..., squaredEuclideanDistance: _Optional[_Union[SquaredEuclideanDistance, _Mapping]] = ...) -> None: ...

class LinearIndex(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SingleKdTreeIndex(_message.Message):
    __slots__ = ("leafSize",)
    LEAFSIZE_FIELD_NUMBER: _ClassVar[int]
    leafSize: int
    def __init__(self, leafSize: _Optional[int] = ...) -> None: ...

class SquaredEuclideanDistance(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UniformWeighting(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InverseDistanceWeighting(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ItemSimilarityRecommender(_message.Message):
    __slots__ = ("itemItemSimilarities", "itemStringIds", "itemInt64Ids", "itemInputFeatureName", "numRecommendationsInputFeatureName", "itemRestrictionInputFeatureName", "itemExclusionInputFeatureName", "recommendedItemListOutputFeatureName", "recommendedItemScoreOutputFeatureName")
    class ConnectedItem(_message.Message):
        __slots__ = ("itemId", "similarityScore")
        ITEMID_FIELD_NUMBER: _ClassVar[int]
        SIMILARITYSCORE_FIELD_NUMBER: _ClassVar[int]
        itemId: int
        similarityScore: float
        def __init__(self, itemId: _Optional[int] = ..., similarityScore: _Optional[float] = ...) -> None: ...
    class SimilarItems(_message.Message):
        __slots__ = ("itemId", "similarItemList", "itemScoreAdjustment")
        ITEMID_FIELD_NUMBER: _ClassVar[int]
        SIMILARITEMLIST_FIELD_NUMBER: _ClassVar[int]
        ITEMSCOREADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
        itemId: int
        similarItemList: _containers.RepeatedCompositeFieldContainer[ItemSimilarityRecommender.ConnectedItem]
        itemScoreAdjustment: float
        def __init__(self, itemId: _Optional[int] = ..., similarItemList: _Optional[_Iterable[_Union[ItemSimilarityRecommender.ConnectedItem, _Mapping]]] = ..., itemScoreAdjustment: _Optional[float] = ...) -> None: ...
    ITEMITEMSIMILARITIES_FIELD_NUMBER: _ClassVar[int]
    ITEMSTRINGIDS_FIELD_NUMBER: _ClassVar[int]
    ITEMINT64IDS_FIELD_NUMBER: _ClassVar[int]
    ITEMINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    NUMRECOMMENDATIONSINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    ITEMRESTRICTIONINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    ITEMEXCLUSIONINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDEDITEMLISTOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDEDITEMSCOREOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    itemItemSimilarities: _containers.RepeatedCompositeFieldContainer[ItemSimilarityRecommender.SimilarItems]
    itemStringIds: _data_structures_pb2.StringVector
    itemInt64Ids: _data_structures_pb2.Int64Vector
    itemInputFeatureName: str
    numRecommendationsInputFeatureName: str
    itemRestrictionInputFeatureName: str
    itemExclusionInputFeatureName: str
    recommendedItemListOutputFeatureName: str
    recommendedItemScoreOutputFeatureName: str
    def __init__(self, itemItemSimilarities: _Optional[_Iterable[_Union[ItemSimilarityRecommender.SimilarItems, _Mapping]]] = ..., itemStringIds: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., itemInt64Ids: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ..., itemInputFeatureName: _Optional[str] = ..., numRecommendationsInputFeatureName: _Optional[str] = ..., itemRestrictionInputFeatureName: _Optional[str] = ..., itemExclusionInputFeatureName: _Optional[str] = ..., recommendedItemListOutputFeatureName: _Optional[str] = ..., recommendedItemScoreOutputFeatureName: _Optional[str] = ...) -> None: ...
