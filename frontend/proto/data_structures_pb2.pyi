from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StringToInt64Map(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.ScalarMap[str, int]
    def __init__(self, map: _Optional[_Mapping[str, int]] = ...) -> None: ...

class Int64ToStringMap(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.ScalarMap[int, str]
    def __init__(self, map: _Optional[_Mapping[int, str]] = ...) -> None: ...

class StringToDoubleMap(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.ScalarMap[str, float]
    def __init__(self, map: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Int64ToDoubleMap(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: float
        def __init__(self, key: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.ScalarMap[int, float]
    def __init__(self, map: _Optional[_Mapping[int, float]] = ...) -> None: ...

class StringVector(_message.Message):
    __slots__ = ("vector",)
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, vector: _Optional[_Iterable[str]] = ...) -> None: ...

class Int64Vector(_message.Message):
    __slots__ = ("vector",)
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, vector: _Optional[_Iterable[int]] = ...) -> None: ...

class FloatVector(_message.Message):
    __slots__ = ("vector",)
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, vector: _Optional[_Iterable[float]] = ...) -> None: ...

class DoubleVector(_message.Message):
    __slots__ = ("vector",)
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, vector: _Optional[_Iterable[float]] = ...) -> None: ...

class Int64Range(_message.Message):
    __slots__ = ("minValue", "maxValue")
    MINVALUE_FIELD_NUMBER: _ClassVar[int]
    MAXVALUE_FIELD_NUMBER: _ClassVar[int]
    minValue: int
    maxValue: int
    def __init__(self, minValue: _Optional[int] = ..., maxValue: _Optional[int] = ...) -> None: ...

class Int64Set(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class DoubleRange(_message.Message):
    __slots__ = ("minValue", "maxValue")
    MINVALUE_FIELD_NUMBER: _ClassVar[int]
    MAXVALUE_FIELD_NUMBER: _ClassVar[int]
    minValue: float
    maxValue: float
    def __init__(self, minValue: _Optional[float] = ..., maxValue: _Optional[float] = ...) -> None: ...

class PrecisionRecallCurve(_message.Message):
    __slots__ = ("precisionValues", "precisionConfidenceThresholds", "recallValues", "recallConfidenceThresholds")
    PRECISIONVALUES_FIELD_NUMBER: _ClassVar[int]
    PRECISIONCONFIDENCETHRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    RECALLVALUES_FIELD_NUMBER: _ClassVar[int]
    RECALLCONFIDENCETHRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    precisionValues: FloatVector
    precisionConfidenceThresholds: FloatVector
    recallValues: FloatVector
    recallConfidenceThresholds: FloatVector
    def __init__(self, precisionValues: _Optional[_Union[FloatVector, _Mapping]] = ..., precisionConfidenceThresholds: _Optional[_Union[FloatVector, _Mapping]] = ..., recallValues: _Optional[_Union[FloatVector, _Mapping]] = ..., recallConfidenceThresholds: _Optional[_Union[FloatVector, _Mapping]] = ...) -> None: ...

class Int64Parameter(_message.Message):
    __slots__ = ("defaultValue", "range", "set")
    DEFAULTVALUE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    SET_FIELD_NUMBER: _ClassVar[int]
    defaultValue: int
    range: Int64Range
    set: Int64Set
    def __init__(self, defaultValue: _Optional[int] = ..., range: _Optional[_Union[Int64Range, _Mapping]] = ..., set: _Optional[_Union[Int64Set, _Mapping]] = ...) -> None: ...

class DoubleParameter(_message.Message):
    __slots__ = ("defaultValue", "range")
    DEFAULTVALUE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    defaultValue: float
    range: DoubleRange
    def __init__(self, defaultValue: _Optional[float] = ..., range: _Optional[_Union[DoubleRange, _Mapping]] = ...) -> None: ...

class StringParameter(_message.Message):
    __slots__ = ("defaultValue",)
    DEFAULTVALUE_FIELD_NUMBER: _ClassVar[int]
    defaultValue: str
    def __init__(self, defaultValue: _Optional[str] = ...) -> None: ...

class BoolParameter(_message.Message):
    __slots__ = ("defaultValue",)
    DEFAULTVALUE_FIELD_NUMBER: _ClassVar[int]
    defaultValue: bool
    def __init__(self, defaultValue: _Optional[bool] = ...) -> None: ...
