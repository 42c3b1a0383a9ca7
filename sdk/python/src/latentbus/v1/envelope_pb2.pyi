from google.protobuf import timestamp_pb2 as _timestamp_pb2
from latentbus.v1 import latent_pb2 as _latent_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
MESSAGE_CLASS_CONTEXT: MessageClass
MESSAGE_CLASS_CONTROL: MessageClass
MESSAGE_CLASS_INSTRUCTION: MessageClass
MESSAGE_CLASS_REASONING: MessageClass
MESSAGE_CLASS_RESULT: MessageClass
MESSAGE_CLASS_UNSPECIFIED: MessageClass
PAYLOAD_FORM_LATENT: PayloadForm
PAYLOAD_FORM_TEXT: PayloadForm
PAYLOAD_FORM_UNSPECIFIED: PayloadForm

class Address(_message.Message):
    __slots__ = ["agent_id", "topic"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    topic: str
    def __init__(self, agent_id: _Optional[str] = ..., topic: _Optional[str] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ["correlation_id", "deadline", "delivered_form", "delivery_attempt", "expects_reply", "latent", "message_class", "message_id", "metadata", "recipient", "sender_id", "sent_at", "text", "traceparent", "tracestate"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FORM_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EXPECTS_REPLY_FIELD_NUMBER: _ClassVar[int]
    LATENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    correlation_id: str
    deadline: _timestamp_pb2.Timestamp
    delivered_form: PayloadForm
    delivery_attempt: int
    expects_reply: bool
    latent: _latent_pb2.LatentPacket
    message_class: MessageClass
    message_id: str
    metadata: _containers.ScalarMap[str, str]
    recipient: Address
    sender_id: str
    sent_at: _timestamp_pb2.Timestamp
    text: str
    traceparent: str
    tracestate: str
    def __init__(self, message_id: _Optional[str] = ..., sender_id: _Optional[str] = ..., recipient: _Optional[_Union[Address, _Mapping]] = ..., message_class: _Optional[_Union[MessageClass, str]] = ..., deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., correlation_id: _Optional[str] = ..., expects_reply: bool = ..., traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ..., latent: _Optional[_Union[_latent_pb2.LatentPacket, _Mapping]] = ..., text: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., sent_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., delivered_form: _Optional[_Union[PayloadForm, str]] = ..., delivery_attempt: _Optional[int] = ...) -> None: ...

class MessageClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PayloadForm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
