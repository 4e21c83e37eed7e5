from mlir_coreml.frontend.proto import data_structures_pb2 as _data_structures_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NonMaximumSuppression(_message.Message):
    __slots__ = ("pickTop", "stringClassLabels", "int64ClassLabels", "iouThreshold", "confidenceThreshold", "confidenceInputFeatureName", "coordinatesInputFeatureName", "iouThresholdInputFeatureName", "confidenceThresholdInputFeatureName", "confidenceOutputFeatureName", "coordinatesOutputFeatureName")
    class PickTop(_message.Message):
        __slots__ = ("perClass",)
        PERCLASS_FIELD_NUMBER: _ClassVar[int]
        perClass: bool
        def __init__(self, perClass: _Optional[bool] = ...) -> None: ...
    PICKTOP_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    INT64CLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    IOUTHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCETHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCEINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    COORDINATESINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    IOUTHRESHOLDINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCETHRESHOLDINPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCEOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    COORDINATESOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    pickTop: NonMaximumSuppression.PickTop
    stringClassLabels: _data_structures_pb2.StringVector
    int64ClassLabels: _data_structures_pb2.Int64Vector
    iouThreshold: float
    confidenceThreshold: float
    confidenceInputFeatureName: str
    coordinatesInputFeatureName: str
    iouThresholdInputFeatureName: str
    confidenceThresholdInputFeatureName: str
    confidenceOutputFeatureName: str
    coordinatesOutputFeatureName: str
    def __init__(self, pickTop: _Optional[_Union[NonMaximumSuppression.PickTop, _Mapping]] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ClassLabels: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ..., iouThreshold: _Optional[float] = ..., confidenceThreshold: _Optional[float] = ..., confidenceInputFeatureName: _Optional[str] = ..., coordinatesInputFeatureName: _Optional[str] = ..., iouThresholdInputFeatureName: _Optional[str] = ..., confidenceThresholdInputFeatureName: _Optional[str] = ..., confidenceOutputFeatureName: _Optional[str] = ..., coordinatesOutputFeatureName: _Optional[str] = ...) -> None: ...

class ClassConfidenceThresholding(_message.Message):
    __slots__ = ("precisionRecallCurves",)
    PRECISIONRECALLCURVES_FIELD_NUMBER: _ClassVar[int]
    precisionRecallCurves: _containers.RepeatedCompositeFieldContainer[_data_structures_pb2.PrecisionRecallCurve]
    def __init__(self, precisionRecallCurves: _Optional[_Iterable[_Union[_data_structures_pb2.PrecisionRecallCurve, _Mapping]]] = ...) -> None: ...
