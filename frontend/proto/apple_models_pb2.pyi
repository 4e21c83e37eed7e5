from mlir_coreml.frontend.proto import data_structures_pb2 as _data_structures_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VisionFeaturePrint(_message.Message):
    __slots__ = ("scene", "objects")
    class Scene(_message.Message):
        __slots__ = ("version",)
        class SceneVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            SCENE_VERSION_INVALID: _ClassVar[VisionFeaturePrint.Scene.SceneVersion]
            SCENE_VERSION_1: _ClassVar[VisionFeaturePrint.Scene.SceneVersion]
            SCENE_VERSION_2: _ClassVar[VisionFeaturePrint.Scene.SceneVersion]
        SCENE_VERSION_INVALID: VisionFeaturePrint.Scene.SceneVersion
        SCENE_VERSION_1: VisionFeaturePrint.Scene.SceneVersion
        SCENE_VERSION_2: VisionFeaturePrint.Scene.SceneVersion
        VERSION_FIELD_NUMBER: _ClassVar[int]
        version: VisionFeaturePrint.Scene.SceneVersion
        def __init__(self, version: _Optional[_Union[VisionFeaturePrint.Scene.SceneVersion, str]] = ...) -> None: ...
    class Objects(_message.Message):
        __slots__ = ("version", "output")
        class ObjectsVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            OBJECTS_VERSION_INVALID: _ClassVar[VisionFeaturePrint.Objects.ObjectsVersion]
            OBJECTS_VERSION_1: _ClassVar[VisionFeaturePrint.Objects.ObjectsVersion]
        OBJECTS_VERSION_INVALID: VisionFeaturePrint.Objects.ObjectsVersion
        OBJECTS_VERSION_1: VisionFeaturePrint.Objects.ObjectsVersion
        VERSION_FIELD_NUMBER: _ClassVar[int]
        OUTPUT_FIELD_NUMBER: _ClassVar[int]
        version: VisionFeaturePrint.Objects.ObjectsVersion
        output: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, version: _Optional[_Union[VisionFeaturePrint.Objects.ObjectsVersion, str]] = ..., output: _Optional[_Iterable[str]] = ...) -> None: ...
    SCENE_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    scene: VisionFeaturePrint.Scene
    objects: VisionFeaturePrint.Objects
    def __init__(self, scene: _Optional[_Union[VisionFeaturePrint.Scene, _Mapping]] = ..., objects: _Optional[_Union[VisionFeaturePrint.Objects, _Mapping]] = ...) -> None: ...

class AudioFeaturePrint(_message.Message):
    __slots__ = ("sound",)
    class Sound(_message.Message):
        __slots__ = ("version",)
        class SoundVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            SOUND_VERSION_INVALID: _ClassVar[AudioFeaturePrint.Sound.SoundVersion]
            SOUND_VERSION_1: _ClassVar[AudioFeaturePrint.Sound.SoundVersion]
        SOUND_VERSION_INVALID: AudioFeaturePrint.Sound.SoundVersion
        SOUND_VERSION_1: AudioFeaturePrint.Sound.SoundVersion
        VERSION_FIELD_NUMBER: _ClassVar[int]
        version: AudioFeaturePrint.Sound.SoundVersion
        def __init__(self, version: _Optional[_Union[AudioFeaturePrint.Sound.SoundVersion, str]] = ...) -> None: ...
    SOUND_FIELD_NUMBER: _ClassVar[int]
    sound: AudioFeaturePrint.Sound
    def __init__(self, sound: _Optional[_Union[AudioFeaturePrint.Sound, _Mapping]] = ...) -> None: ...

class SoundAnalysisPreprocessing(_message.Message):
    __slots__ = ("vggish",)
    class Vggish(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    VGGISH_FIELD_NUMBER: _ClassVar[int]
    vggish: SoundAnalysisPreprocessing.Vggish
    def __init__(self, vggish: _Optional[_Union[SoundAnalysisPreprocessing.Vggish, _Mapping]] = ...) -> None: ...

class TextClassifier(_message.Message):
    __slots__ = ("revision", "language", "modelParameterData", "stringClassLabels")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    MODELPARAMETERDATA_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    revision: int
    language: str
    modelParameterData: bytes
    stringClassLabels: _data_structures_pb2.StringVector
    def __init__(self, revision: _Optional[int] = ..., language: _Optional[str] = ..., modelParameterData: _Optional[bytes] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ...) -> None: ...

class WordTagger(_message.Message):
    __slots__ = ("revision", "language", "tokensOutputFeatureName", "tokenTagsOutputFeatureName", "tokenLocationsOutputFeatureName", "tokenLengthsOutputFeatureName", "modelParameterData", "stringTags")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TOKENSOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    TOKENTAGSOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    TOKENLOCATIONSOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    TOKENLENGTHSOUTPUTFEATURENAME_FIELD_NUMBER: _ClassVar[int]
    MODELPARAMETERDATA_FIELD_NUMBER: _ClassVar[int]
    STRINGTAGS_FIELD_NUMBER: _ClassVar[int]
    revision: int
    language: str
    tokensOutputFeatureName: str
    tokenTagsOutputFeatureName: str
    tokenLocationsOutputFeatureName: str
    tokenLengthsOutputFeatureName: str
    modelParameterData: bytes
    stringTags: _data_structures_pb2.StringVector
    def __init__(self, revision: _Optional[int] = ..., language: _Optional[str] = ..., tokensOutputFeatureName: _Optional[str] = ..., tokenTagsOutputFeatureName: _Optional[str] = ..., tokenLocationsOutputFeatureName: _Optional[str] = ..., tokenLengthsOutputFeatureName: _Optional[str] = ..., modelParameterData: _Optional[bytes] = ..., stringTags: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ...) -> None: ...

class Gazetteer(_message.Message):
    __slots__ = ("revision", "language", "modelParameterData", "stringClassLabels")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    MODELPARAMETERDATA_FIELD_NUMBER: _ClassVar[int]
    STRINGCLASSLABELS_FIELD_NUMBER: _ClassVar[int]
    revision: int
    language: str
    modelParameterData: bytes
    stringClassLabels: _data_structures_pb2.StringVector
    def __init__(self, revision: _Optional[int] = ..., language: _Optional[str] = ..., modelParameterData: _Optional[bytes] = ..., stringClassLabels: _Optional[_Union[_data_structures_pb2.StringVector, _Mapping]] = ...) -> None: ...

class WordEmbedding(_message.Message):
    __slots__ = ("revision", "language", "modelParameterData")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    MODELPARAMETERDATA_FIELD_NUMBER: _ClassVar[int]
    revision: int
    language: str
    modelParameterData: bytes
    def __init__(self, revision: _Optional[int] = ..., language: _Optional[str] = ..., modelParameterData: _Optional[bytes] = ...) -> None: ...
