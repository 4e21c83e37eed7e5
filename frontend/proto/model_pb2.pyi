from mlir_coreml.frontend.proto import apple_models_pb2 as _apple_models_pb2
from mlir_coreml.frontend.proto import classical_models_pb2 as _classical_models_pb2
from mlir_coreml.frontend.proto import external_models_pb2 as _external_models_pb2
from mlir_coreml.frontend.proto import feature_engineering_pb2 as _feature_engineering_pb2
from mlir_coreml.frontend.proto import feature_types_pb2 as _feature_types_pb2
from mlir_coreml.frontend.proto import mil_pb2 as _mil_pb2
from mlir_coreml.frontend.proto import neural_network_pb2 as _neural_network_pb2
from mlir_coreml.frontend.proto import post_processing_pb2 as _post_processing_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Model(_message.Message):
    __slots__ = ("specificationVersion", "description", "isUpdatable", "pipelineClassifier", "pipelineRegressor", "pipeline", "glmRegressor", "supportVectorRegressor", "treeEnsembleRegressor", "neuralNetworkRegressor", "bayesianProbitRegressor", "glmClassifier", "supportVectorClassifier", "treeEnsembleClassifier", "neuralNetworkClassifier", "kNearestNeighborsClassifier", "neuralNetwork", "itemSimilarityRecommender", "mlProgram", "customModel", "linkedModel", "classConfidenceThresholding", "oneHotEncoder", "imputer", "featureVectorizer", "dictVectorizer", "scaler", "categoricalMapping", "normalizer", "arrayFeatureExtractor", "nonMaximumSuppression", "identity", "textClassifier", "wordTagger", "visionFeaturePrint", "soundAnalysisPreprocessing", "gazetteer", "wordEmbedding", "audioFeaturePrint", "serializedModel")
    SPECIFICATIONVERSION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ISUPDATABLE_FIELD_NUMBER: _ClassVar[int]
    PIPELINECLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    PIPELINEREGRESSOR_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    GLMREGRESSOR_FIELD_NUMBER: _ClassVar[int]
    SUPPORTVECTORREGRESSOR_FIELD_NUMBER: _ClassVar[int]
    TREEENSEMBLEREGRESSOR_FIELD_NUMBER: _ClassVar[int]
    NEURALNETWORKREGRESSOR_FIELD_NUMBER: _ClassVar[int]
    BAYESIANPROBITREGRESSOR_FIELD_NUMBER: _ClassVar[int]
    GLMCLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    SUPPORTVECTORCLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    TREEENSEMBLECLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    NEURALNETWORKCLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    KNEARESTNEIGHBORSCLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    NEURALNETWORK_FIELD_NUMBER: _ClassVar[int]
    ITEMSIMILARITYRECOMMENDER_FIELD_NUMBER: _ClassVar[int]
    MLPROGRAM_FIELD_NUMBER: _ClassVar[int]
    CUSTOMMODEL_FIELD_NUMBER: _ClassVar[int]
    LINKEDMODEL_FIELD_NUMBER: _ClassVar[int]
    CLASSCONFIDENCETHRESHOLDING_FIELD_NUMBER: _ClassVar[int]
    ONEHOTENCODER_FIELD_NUMBER: _ClassVar[int]
    IMPUTER_FIELD_NUMBER: _ClassVar[int]
    FEATUREVECTORIZER_FIELD_NUMBER: _ClassVar[int]
    DICTVECTORIZER_FIELD_NUMBER: _ClassVar[int]
    SCALER_FIELD_NUMBER: _ClassVar[int]
    CATEGORICALMAPPING_FIELD_NUMBER: _ClassVar[int]
    NORMALIZER_FIELD_NUMBER: _ClassVar[int]
    ARRAYFEATUREEXTRACTOR_FIELD_NUMBER: _ClassVar[int]
    NONMAXIMUMSUPPRESSION_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    TEXTCLASSIFIER_FIELD_NUMBER: _ClassVar[int]
    WORDTAGGER_FIELD_NUMBER: _ClassVar[int]
    VISIONFEATUREPRINT_FIELD_NUMBER: _ClassVar[int]
    SOUNDANALYSISPREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    GAZETTEER_FIELD_NUMBER: _ClassVar[int]
    WORDEMBEDDING_FIELD_NUMBER: _ClassVar[int]
    AUDIOFEATUREPRINT_FIELD_NUMBER: _ClassVar[int]
    SERIALIZEDMODEL_FIELD_NUMBER: _ClassVar[int]
    specificationVersion: int
    description: ModelDescription
    isUpdatable: bool
    pipelineClassifier: PipelineClassifier
    pipelineRegressor: PipelineRegressor
    pipeline: Pipeline
    glmRegressor: _classical_models_pb2.GLMRegressor
    supportVectorRegressor: _classical_models_pb2.SupportVectorRegressor
    treeEnsembleRegressor: _classical_models_pb2.TreeEnsembleRegressor
    neuralNetworkRegressor: _neural_network_pb2.NeuralNetworkRegressor
    bayesianProbitRegressor: _classical_models_pb2.BayesianProbitRegressor
    glmClassifier: _classical_models_pb2.GLMClassifier
    supportVectorClassifier: _classical_models_pb2.SupportVectorClassifier
    treeEnsembleClassifier: _classical_models_pb2.TreeEnsembleClassifier
    neuralNetworkClassifier: _neural_network_pb2.NeuralNetworkClassifier
    kNearestNeighborsClassifier: _classical_models_pb2.KNearestNeighborsClassifier
    neuralNetwork: _neural_network_pb2.NeuralNetwork
    itemSimilarityRecommender: _classical_models_pb2.ItemSimilarityRecommender
    mlProgram: _mil_pb2.Program
    customModel: _external_models_pb2.CustomModel
    linkedModel: _external_models_pb2.LinkedModel
    classConfidenceThresholding: _post_processing_pb2.ClassConfidenceThresholding
    oneHotEncoder: _feature_engineering_pb2.OneHotEncoder
    imputer: _feature_engineering_pb2.Imputer
    featureVectorizer: _feature_engineering_pb2.FeatureVectorizer
    dictVectorizer: _feature_engineering_pb2.DictVectorizer
    scaler: _feature_engineering_pb2.Scaler
    categoricalMapping: _feature_engineering_pb2.CategoricalMapping
    normalizer: _feature_engineering_pb2.Normalizer
    arrayFeatureExtractor: _feature_engineering_pb2.ArrayFeatureExtractor
    nonMaximumSuppression: _post_processing_pb2.NonMaximumSuppression
    identity: _feature_engineering_pb2.Identity
    textClassifier: _apple_models_pb2.TextClassifier
    wordTagger: _apple_models_pb2.WordTagger
    visionFeaturePrint: _apple_models_pb2.VisionFeaturePrint
    soundAnalysisPreprocessing: _apple_models_pb2.SoundAnalysisPreprocessing
    gazetteer: _apple_models_pb2.Gazetteer
    wordEmbedding: _apple_models_pb2.WordEmbedding
    audioFeaturePrint: _apple_models_pb2.AudioFeaturePrint
    serializedModel: SerializedModel
    def __init__(self, specificationVersion: _Optional[int] = ..., description: _Optional[_Union[ModelDescription, _Mapping]] = ..., isUpdatable: _Optional[bool] = ..., pipelineClassifier: _Optional[_Union[PipelineClassifier, _Mapping]] = ..., pipelineRegressor: _Optional[_Union[PipelineRegressor, _Mapping]] = ..., pipeline: _Optional[_Union[Pipeline, _Mapping]] = ..., glmRegressor: _Optional[_Union[_classical_models_pb2.GLMRegressor, _Mapping]] = ..., supportVectorRegressor: _Optional[_Union[_classical_models_pb2.SupportVectorRegressor, _Mapping]] = ..., treeEnsembleRegressor: _Optional[_Union[_classical_models_pb2.TreeEnsembleRegressor, _Mapping]] = ..., neuralNetworkRegressor: _Optional[_Union[_neural_network_pb2.NeuralNetworkRegressor, _Mapping]] = ..., bayesianProbitRegressor: _Optional[_Union[_classical_models_pb2.BayesianProbitRegressor, _Mapping]] = ..., glmClassifier: _Optional[_Union[_classical_models_pb2.GLMClassifier, _Mapping]] = ..., supportVectorClassifier: _Optional[_Union[_classical_models_pb2.SupportVectorClassifier, _Mapping]] = ..., treeEnsembleClassifier: _Optional[_Union[_classical_models_pb2.TreeEnsembleClassifier, _Mapping]] = ..., neuralNetworkClassifier: _Optional[_Union[_neural_network_pb2.NeuralNetworkClassifier, _Mapping]] = ..., kNearestNeighborsClassifier: _Optional[_Union[_classical_models_pb2.KNearestNeighborsClassifier, _Mapping]] = ..., neuralNetwork: _Optional[_Union[_neural_network_pb2.NeuralNetwork, _Mapping]] = ..., itemSimilarityRecommender: _Optional[_Union[_classical_models_pb2.ItemSimilarityRecommender, _Mapping]] = ..., mlProgram: _Optional[_Union[_mil_pb2.Program, _Mapping]] = ..., customModel: _Optional[_Union[_external_models_pb2.CustomModel, _Mapping]] = ..., linkedModel: _Optional[_Union[_external_models_pb2.LinkedModel, _Mapping]] = ..., classConfidenceThresholding: _Optional[_Union[_post_processing_pb2.ClassConfidenceThresholding, _Mapping]] = ..., oneHotEncoder: _Optional[_Union[_feature_engineering_pb2.OneHotEncoder, _Mapping]] = ..., imputer: _Optional[_Union[_feature_engineering_pb2.Imputer, _Mapping]] = ..., featureVectorizer: _Optional[_Union[_feature_engineering_pb2.FeatureVectorizer, _Mapping]] = ..., dictVectorizer: _Optional[_Union[_feature_engineering_pb2.DictVectorizer, _Mapping]] = ..., scaler: _Optional[_Union[_feature_engineering_pb2.Scaler, _Mapping]] = ..., categoricalMapping: _Optional[_Union[_feature_engineering_pb2.CategoricalMapping, _Mapping]] = ..., normalizer: _Optional[_Union[_feature_engineering_pb2.Normalizer, _Mapping]] = ..., arrayFeatureExtractor: _Optional[_Union[_feature_engineering_pb2.ArrayFeatureExtractor, _Mapping]] = ..., nonMaximumSuppression: _Optional[_Union[_post_processing_pb2.NonMaximumSuppression, _Mapping]] = ..., identity: _Optional[_Union[_feature_engineering_pb2.Identity, _Mapping]] = ..., textClassifier: _Optional[_Union[_apple_models_pb2.TextClassifier, _Mapping]] = ..., wordTagger: _Optional[_Union[_apple_models_pb2.WordTagger, _Mapping]] = ..., visionFeaturePrint: _Optional[_Union[_apple_models_pb2.VisionFeaturePrint, _Mapping]] = ..., soundAnalysisPreprocessing: _Optional[_Union[_apple_models_pb2.SoundAnalysisPreprocessing, _Mapping]] = ..., gazetteer: _Optional[_Union[_apple_models_pb2.Gazetteer, _Mapping]] = ..., wordEmbedding: _Optional[_Union[_apple_models_pb2.WordEmbedding, _Mapping]] = ..., audioFeaturePrint: _Optional[_Union[_apple_models_pb2.AudioFeaturePrint, _Mapping]] = ..., serializedModel: _Optional[_Union[SerializedModel, _Mapping]] = ...) -> None: ...

class ModelDescription(_message.Message):
    __slots__ = ("input", "output", "predictedFeatureName", "predictedProbabilitiesName", "state", "functions", "defaultFunctionName", "trainingInput", "metadata")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PREDICTEDFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    PREDICTEDPROBABILITIESNAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    DEFAULTFUNCTIONNAME_FIELD_NUMBER: _ClassVar[int]
    TRAININGINPUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    input: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    output: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    predictedFeatureName: str
    predictedProbabilitiesName: str
    state: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    functions: _containers.RepeatedCompositeFieldContainer[FunctionDescription]
    defaultFunctionName: str
    trainingInput: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    metadata: Metadata
    def __init__(self, input: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., output: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., predictedFeatureName: _Optional[str] = ..., predictedProbabilitiesName: _Optional[str] = ..., state: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., functions: _Optional[_Iterable[_Union[FunctionDescription, _Mapping]]] = ..., defaultFunctionName: _Optional[str] = ..., trainingInput: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class FunctionDescription(_message.Message):
    __slots__ = ("name", "input", "output", "predictedFeatureName", "predictedProbabilitiesName", "state")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PREDICTEDFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    PREDICTEDPROBABILITIESNAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    input: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    output: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    predictedFeatureName: str
    predictedProbabilitiesName: str
    state: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    def __init__(self, name: _Optional[str] = ..., input: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., output: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., predictedFeatureName: _Optional[str] = ..., predictedProbabilitiesName: _Optional[str] = ..., state: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ...) -> None: ...

class FeatureDescription(_message.Message):
    __slots__ = ("name", "shortDescription", "type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHORTDESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    shortDescription: str
    type: _feature_types_pb2.FeatureType
    def __init__(self, name: _Optional[str] = ..., shortDescription: _Optional[str] = ..., type: _Optional[_Union[_feature_types_pb2.FeatureType, _Mapping]] = ...) -> None: ...

class Metadata(_message.Message):
    __slots__ = ("shortDescription", "versionString", "author", "license", "userDefined")
    class UserDefinedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SHORTDESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTRING_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    USERDEFINED_FIELD_NUMBER: _ClassVar[int]
    shortDescription: str
    versionString: str
    author: str
    license: str
    userDefined: _containers.ScalarMap[str, str]
    def __init__(self, shortDescription: _Optional[str] = ..., versionString: _Optional[str] = ..., author: _Optional[str] = ..., license: _Optional[str] = ..., userDefined: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Pipeline(_message.Message):
    __slots__ = ("models", "names")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class PipelineClassifier(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: Pipeline
    def __init__(self, pipeline: _Optional[_Union[Pipeline, _Mapping]] = ...) -> None: ...

class PipelineRegressor(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: Pipeline
    def __init__(self, pipeline: _Optional[_Union[Pipeline, _Mapping]] = ...) -> None: ...

class SerializedModel(_message.Message):
    __slots__ = ("identifier", "model")
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    identifier: str
    model: bytes
    def __init__(self, identifier: _Optional[str] = ..., model: _Optional[bytes] = ...) -> None: ...
