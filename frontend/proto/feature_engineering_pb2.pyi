from mlir_coreml.frontend.proto import data_structures_pb2 as _data_structures_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OneHotEncoder(_message.Message):
    __slots__ = ("stringCategories", "int64Categories", "outputSparse", "handleUnknown")
    class HandleUnknown(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ErrorOnUnknown: _ClassVar[OneHotEncoder.HandleUnknown]
        IgnoreUnknown: _ClassVar[OneHotEncoder.HandleUnknown]
    ErrorOnUnknown: OneHotEncoder.HandleUnknown
    IgnoreUnknown: OneHotEncoder.HandleUnknown
    STRINGCATEGORIES_FIELD_NUMBER: _ClassVar[int]
    INT64CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTSPARSE_FIELD_NUMBER: _ClassVar[int]
    HANDLEUNKNOWN_FIELD_NUMBER: _ClassVar[int]
    stringCategories: _data_structures_pb2.StringVector
    int64Categories: _data_structures_pb2.Int64Vector
    outputSparse: bool
    handleUnknown: OneHotEncoder.HandleUnknown
    def __init__(self, stringCategories: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64Categories: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ..., outputSparse: _Optional[bool] = ..., handleUnknown: _Optional[_Union[OneHotEncoder.HandleUnknown, str]] = ...) -> None: ...

class Imputer(_message.Message):
    __slots__ = ("imputedDoubleValue", "imputedInt64Value", "imputedStringValue", "imputedDoubleArray", "imputedInt64Array", "imputedStringDictionary", "imputedInt64Dictionary", "replaceDoubleValue", "replaceInt64Value", "replaceStringValue")
    IMPUTEDDOUBLEVALUE_FIELD_NUMBER: _ClassVar[int]
    IMPUTEDINT64VALUE_FIELD_NUMBER: _ClassVar[int]
    IMPUTEDSTRINGVALUE_FIELD_NUMBER: _ClassVar[int]
    IMPUTEDDOUBLEARRAY_FIELD_NUMBER: _ClassVar[int]
    IMPUTEDINT64ARRAY_FIELD_NUMBER: _ClassVar[int]
    IMPUTEDSTRINGDICTIONARY_FIELD_NUMBER: _ClassVar[int]
    IMPUTEDINT64DICTIONARY_FIELD_NUMBER: _ClassVar[int]
    REPLACEDOUBLEVALUE_FIELD_NUMBER: _ClassVar[int]
    REPLACEINT64VALUE_FIELD_NUMBER: _ClassVar[int]
    REPLACESTRINGVALUE_FIELD_NUMBER: _ClassVar[int]
    imputedDoubleValue: float
    imputedInt64Value: int
    imputedStringValue: str
    imputedDoubleArray: _data_structures_pb2.DoubleVector
    imputedInt64Array: _data_structures_pb2.Int64Vector
    imputedStringDictionary: _data_structures_pb2.StringToDoubleMap
    imputedInt64Dictionary: _data_structures_pb2.Int64ToDoubleMap
    replaceDoubleValue: float
    replaceInt64Value: int
    replaceStringValue: str
    def __init__(self, imputedDoubleValue: _Optional[float] = ..., imputedInt64Value: _Optional[int] = ..., imputedStringValue: _Optional[str] = ..., imputedDoubleArray: _Optional[_Union[_data_structures_pb2.DoubleVector, _Mapping]] = ..., imputedInt64Array: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ..., imputedStringDictionary: _Optional[_Union[_data_structures_pb2.StringToDoubleMap, _Mapping]] = ..., imputedInt64Dictionary: _Optional[_Union[_data_structures_pb2.Int64ToDoubleMap, _Mapping]] = ..., replaceDoubleValue: _Optional[float] = ..., replaceInt64Value: _Optional[int] = ..., replaceStringValue: _Optional[str] = ...) -> None: ...

class FeatureVectorizer(_message.Message):
    __slots__ = ("inputList",)
    class InputColumn(_message.Message):
        __slots__ = ("inputColumn", "inputDimensions")
        INPUTCOLUMN_FIELD_NUMBER: _ClassVar[int]
        INPUTDIMENSIONS_FIELD_NUMBER: _ClassVar[int]
        inputColumn: str
        inputDimensions: int
        def __init__(self, inputColumn: _Optional[str] = ..., inputDimensions: _Optional[int] = ...) -> None: ...
    INPUTLIST_FIELD_NUMBER: _ClassVar[int]
    inputList: _containers.RepeatedCompositeFieldContainer[FeatureVectorizer.InputColumn]
    def __init__(self, inputList: _Optional[_Iterable[_Union[FeatureVectorizer.InputColumn, _Mapping]]] = ...) -> None: ...

class DictVectorizer(_message.Message):
    __slots__ = ("stringToIndex", "int64ToIndex")
    STRINGTOINDEX_FIELD_NUMBER: _ClassVar[int]
    INT64TOINDEX_FIELD_NUMBER: _ClassVar[int]
    stringToIndex: _data_structures_pb2.StringVector
    int64ToIndex: _data_structures_pb2.Int64Vector
    def __init__(self, stringToIndex: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ..., int64ToIndex: _Optional[_Union[_data_structures_pb2.Int64Vector, _Mapping]] = ...) -> None: ...

class Scaler(_message.Message):
    __slots__ = ("shiftValue", "scaleValue")
    SHIFTVALUE_FIELD_NUMBER: _ClassVar[int]
    SCALEVALUE_FIELD_NUMBER: _ClassVar[int]
    shiftValue: _containers.RepeatedScalarFieldContainer[float]
    scaleValue: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, shiftValue: _Optional[_Iterable[float]] = ..., scaleValue: _Optional[_Iterable[float]] = ...) -> None: ...

class CategoricalMapping(_message.Message):
    __slots__ = ("stringToInt64Map", "int64ToStringMap", "strValue", "int64Value")
    STRINGTOINT64MAP_FIELD_NUMBER: _ClassVar[int]
    INT64TOSTRINGMAP_FIELD_NUMBER: _ClassVar[int]
    STRVALUE_FIELD_NUMBER: _ClassVar[int]
    INT64VALUE_FIELD_NUMBER: _ClassVar[int]
    stringToInt64Map: _data_structures_pb2.StringToInt64Map
    int64ToStringMap: _data_structures_pb2.Int64ToStringMap
    strValue: str
    int64Value: int
    def __init__(self, stringToInt64Map: _Optional[_Union[_data_structures_pb2.StringToInt64Map, _Mapping]] = ..., int64ToStringMap: _Optional[_Union[_data_structures_pb2.Int64ToStringMap, _Mapping]] = ..., strValue: _Optional[str] = ..., int64Value: _Optional[int] = ...) -> None: ...

class Normalizer(_message.Message):
    __slots__ = ("normType",)
    class NormType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        LMax: _ClassVar[Normalizer.NormType]
        L1: _ClassVar[Normalizer.NormType]
        L2: _ClassVar[Normalizer.NormType]
    LMax: Normalizer.NormType
    L1: Normalizer.NormType
    L2: Normalizer.NormType
    NORMTYPE_FIELD_NUMBER: _ClassVar[int]
    normType: Normalizer.NormType
    def __init__(self, normType: _Optional[_Union[Normalizer.NormType, str]] = ...) -> None: ...

class ArrayFeatureExtractor(_message.Message):
    __slots__ = ("extractIndex",)
    EXTRACTINDEX_FIELD_NUMBER: _ClassVar[int]
    extractIndex: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, extractIndex: _Optional[_Iterable[int]] = ...) -> None: ...

class Identity(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
