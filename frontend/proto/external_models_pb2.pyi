from mlir_coreml.frontend.proto import data_structures_pb2 as _data_structures_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomModel(_message.Message):
    __slots__ = ("className", "parameters", "description")
    class CustomModelParamValue(_message.Message):
        __slots__ = ("doubleValue", "stringValue", "intValue", "longValue", "boolValue", "bytesValue")
        DOUBLEVALUE_FIELD_NUMBER: _ClassVar[int]
        STRINGVALUE_FIELD_NUMBER: _ClassVar[int]
        INTVALUE_FIELD_NUMBER: _ClassVar[int]
        LONGVALUE_FIELD_NUMBER: _ClassVar[int]
        BOOLVALUE_FIELD_NUMBER: _ClassVar[int]
        BYTESVALUE_FIELD_NUMBER: _ClassVar[int]
        doubleValue: float
        stringValue: str
        intValue: int
        longValue: int
        boolValue: bool
        bytesValue: bytes
        def __init__(self, doubleValue: _Optional[float] = ..., stringValue: _Optional[str] = ..., intValue: _Optional[int] = ..., longValue: _Optional[int] = ..., boolValue: _Optional[bool] = ..., bytesValue: _Optional[bytes] = ...) -> None: ...
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: CustomModel.CustomModelParamValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[CustomModel.CustomModelParamValue, _Mapping]] = ...) -> None: ...
    CLASSNAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    className: str
    parameters: _containers.MessageMap[str, CustomModel.CustomModelParamValue]
    description: str
    def __init__(self, className: _Optional[str] = ..., parameters: _Optional[_Mapping[str, CustomModel.CustomModelParamValue]] = ..., description: _Optional[str] = ...) -> None: ...

class LinkedModel(_message.Message):
    __slots__ = ("linkedModelFile",)
    LINKEDMODELFILE_FIELD_NUMBER: _ClassVar[int]
    linkedModelFile: LinkedModelFile
    def __init__(self, linkedModelFile: _Optional[_Union[LinkedModelFile, _Mapping]] = ...) -> None: ...

class LinkedModelFile(_message.Message):
    __slots__ = ("linkedModelFileName", "linkedModelSearchPath")
    LINKEDMODELFILENAME_FIELD_NUMBER: _ClassVar[int]
    LINKEDMODELSEARCHPATH_FIELD_NUMBER: _ClassVar[int]
    linkedModelFileName: _data_structures_pb2.StringParameter
    linkedModelSearchPath: _data_structures_pb2.StringParameter
    def __init__(self, linkedModelFileName: _Optional[_Union[_data_structures_pb2.StringParameter, _Mapping]] = ..., linkedModelSearchPath: _Optional[_Union[_data_structures_pb2.StringParameter, _Mapping]] = ...) -> None: ...
