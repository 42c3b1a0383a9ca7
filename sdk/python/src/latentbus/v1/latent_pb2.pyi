from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
DTYPE_BF16: DType
DTYPE_FP16: DType
DTYPE_FP32: DType
DTYPE_INT4: DType
DTYPE_INT8: DType
DTYPE_UNSPECIFIED: DType
ROTATION_HADAMARD: Rotation
ROTATION_HADAMARD_BLOCK64: Rotation
ROTATION_NONE: Rotation
SPACE_HIDDEN: Space
SPACE_INPUT_EMBEDDING: Space
SPACE_UNSPECIFIED: Space

class Encoding(_message.Message):
    __slots__ = ["dtype", "group_size", "rotation", "rotation_seed"]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    GROUP_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROTATION_FIELD_NUMBER: _ClassVar[int]
    ROTATION_SEED_FIELD_NUMBER: _ClassVar[int]
    dtype: DType
    group_size: int
    rotation: Rotation
    rotation_seed: int
    def __init__(self, dtype: _Optional[_Union[DType, str]] = ..., group_size: _Optional[int] = ..., rotation: _Optional[_Union[Rotation, str]] = ..., rotation_seed: _Optional[int] = ...) -> None: ...

class LatentPacket(_message.Message):
    __slots__ = ["checksum", "encoding", "format_version", "layer", "model_fingerprint", "model_id", "payload", "scales", "shape", "space"]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SCALES_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    SPACE_FIELD_NUMBER: _ClassVar[int]
    checksum: int
    encoding: Encoding
    format_version: int
    layer: int
    model_fingerprint: str
    model_id: str
    payload: bytes
    scales: bytes
    shape: _containers.RepeatedScalarFieldContainer[int]
    space: Space
    def __init__(self, format_version: _Optional[int] = ..., model_id: _Optional[str] = ..., model_fingerprint: _Optional[str] = ..., space: _Optional[_Union[Space, str]] = ..., layer: _Optional[int] = ..., shape: _Optional[_Iterable[int]] = ..., encoding: _Optional[_Union[Encoding, _Mapping]] = ..., scales: _Optional[bytes] = ..., payload: _Optional[bytes] = ..., checksum: _Optional[int] = ...) -> None: ...

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Rotation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Space(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
