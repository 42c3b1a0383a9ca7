from google.protobuf import timestamp_pb2 as _timestamp_pb2
from latentbus.v1 import envelope_pb2 as _envelope_pb2
from latentbus.v1 import model_pb2 as _model_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DEADLINE_EXCEEDED: ErrorReason
DESCRIPTOR: _descriptor.FileDescriptor
DRAINING: ErrorReason
ERROR_REASON_UNSPECIFIED: ErrorReason
INTERNAL: ErrorReason
INVALID_ARGUMENT: ErrorReason
INVALID_PACKET: ErrorReason
MESSAGE_TOO_LARGE: ErrorReason
NEEDS_TEXT: ErrorReason
NOT_REGISTERED: ErrorReason
NO_CREDIT: ErrorReason
NO_ROUTE: ErrorReason
PERMISSION_DENIED: ErrorReason
QUEUE_FULL: ErrorReason
RATE_LIMITED: ErrorReason
TOO_MANY_TOPICS: ErrorReason
UNAUTHENTICATED: ErrorReason
UNKNOWN_MODEL: ErrorReason

class Ack(_message.Message):
    __slots__ = ["message_id", "sender_id", "through_delivery_seq"]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    THROUGH_DELIVERY_SEQ_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    sender_id: str
    through_delivery_seq: int
    def __init__(self, message_id: _Optional[str] = ..., sender_id: _Optional[str] = ..., through_delivery_seq: _Optional[int] = ...) -> None: ...

class AgentFrame(_message.Message):
    __slots__ = ["ack", "acks", "credit", "register", "send", "seq", "subscribe", "unsubscribe"]
    ACKS_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    SEND_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    UNSUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    ack: Ack
    acks: _containers.RepeatedCompositeFieldContainer[Ack]
    credit: Credit
    register: Register
    send: Send
    seq: int
    subscribe: Subscribe
    unsubscribe: Unsubscribe
    def __init__(self, seq: _Optional[int] = ..., register: _Optional[_Union[Register, _Mapping]] = ..., subscribe: _Optional[_Union[Subscribe, _Mapping]] = ..., unsubscribe: _Optional[_Union[Unsubscribe, _Mapping]] = ..., send: _Optional[_Union[Send, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., credit: _Optional[_Union[Credit, _Mapping]] = ..., acks: _Optional[_Iterable[_Union[Ack, _Mapping]]] = ...) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ["agent_id", "connected", "connected_since", "model", "queue_depth", "topics", "unacked"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_SINCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    UNACKED_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    connected: bool
    connected_since: _timestamp_pb2.Timestamp
    model: _model_pb2.ModelSpec
    queue_depth: int
    topics: _containers.RepeatedScalarFieldContainer[str]
    unacked: int
    def __init__(self, agent_id: _Optional[str] = ..., model: _Optional[_Union[_model_pb2.ModelSpec, _Mapping]] = ..., connected_since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., connected: bool = ..., topics: _Optional[_Iterable[str]] = ..., queue_depth: _Optional[int] = ..., unacked: _Optional[int] = ...) -> None: ...

class BridgeInfo(_message.Message):
    __slots__ = ["bridge_id", "dst_dim", "dst_fingerprint", "dst_model_id", "fidelity", "kind", "src_dim", "src_fingerprint", "src_layer", "src_model_id"]
    class FidelityEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BRIDGE_ID_FIELD_NUMBER: _ClassVar[int]
    DST_DIM_FIELD_NUMBER: _ClassVar[int]
    DST_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    DST_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    FIDELITY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SRC_DIM_FIELD_NUMBER: _ClassVar[int]
    SRC_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    SRC_LAYER_FIELD_NUMBER: _ClassVar[int]
    SRC_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    bridge_id: str
    dst_dim: int
    dst_fingerprint: str
    dst_model_id: str
    fidelity: _containers.ScalarMap[str, float]
    kind: str
    src_dim: int
    src_fingerprint: str
    src_layer: int
    src_model_id: str
    def __init__(self, bridge_id: _Optional[str] = ..., kind: _Optional[str] = ..., src_model_id: _Optional[str] = ..., src_fingerprint: _Optional[str] = ..., dst_model_id: _Optional[str] = ..., dst_fingerprint: _Optional[str] = ..., src_layer: _Optional[int] = ..., src_dim: _Optional[int] = ..., dst_dim: _Optional[int] = ..., fidelity: _Optional[_Mapping[str, float]] = ...) -> None: ...

class BrokerFrame(_message.Message):
    __slots__ = ["credit", "deliver", "error", "go_away", "registered", "send_credits", "send_result", "seq", "subscribe_result"]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    DELIVER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GO_AWAY_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    SEND_CREDITS_FIELD_NUMBER: _ClassVar[int]
    SEND_RESULT_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_RESULT_FIELD_NUMBER: _ClassVar[int]
    credit: Credit
    deliver: Deliver
    error: Error
    go_away: GoAway
    registered: Registered
    send_credits: int
    send_result: SendResult
    seq: int
    subscribe_result: SubscribeResult
    def __init__(self, seq: _Optional[int] = ..., registered: _Optional[_Union[Registered, _Mapping]] = ..., deliver: _Optional[_Union[Deliver, _Mapping]] = ..., send_result: _Optional[_Union[SendResult, _Mapping]] = ..., subscribe_result: _Optional[_Union[SubscribeResult, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., credit: _Optional[_Union[Credit, _Mapping]] = ..., go_away: _Optional[_Union[GoAway, _Mapping]] = ..., send_credits: _Optional[int] = ...) -> None: ...

class Credit(_message.Message):
    __slots__ = ["credits"]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    credits: int
    def __init__(self, credits: _Optional[int] = ...) -> None: ...

class Deliver(_message.Message):
    __slots__ = ["delivery_seq", "envelope"]
    DELIVERY_SEQ_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    delivery_seq: int
    envelope: _envelope_pb2.Envelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., delivery_seq: _Optional[int] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ["agent_ids", "detail", "message_id", "reason", "seq"]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    detail: str
    message_id: str
    reason: ErrorReason
    seq: int
    def __init__(self, reason: _Optional[_Union[ErrorReason, str]] = ..., detail: _Optional[str] = ..., message_id: _Optional[str] = ..., seq: _Optional[int] = ..., agent_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ["connected_agents", "counters", "gauges", "started_at"]
    class CountersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class GaugesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CONNECTED_AGENTS_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    GAUGES_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    connected_agents: int
    counters: _containers.ScalarMap[str, float]
    gauges: _containers.ScalarMap[str, float]
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., connected_agents: _Optional[int] = ..., counters: _Optional[_Mapping[str, float]] = ..., gauges: _Optional[_Mapping[str, float]] = ...) -> None: ...

class GoAway(_message.Message):
    __slots__ = ["detail"]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    detail: str
    def __init__(self, detail: _Optional[str] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ["agents"]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ...) -> None: ...

class ListBridgesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListBridgesResponse(_message.Message):
    __slots__ = ["bridges"]
    BRIDGES_FIELD_NUMBER: _ClassVar[int]
    bridges: _containers.RepeatedCompositeFieldContainer[BridgeInfo]
    def __init__(self, bridges: _Optional[_Iterable[_Union[BridgeInfo, _Mapping]]] = ...) -> None: ...

class LoadBridgeRequest(_message.Message):
    __slots__ = ["artifact", "path", "replace"]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    artifact: bytes
    path: str
    replace: bool
    def __init__(self, path: _Optional[str] = ..., artifact: _Optional[bytes] = ..., replace: bool = ...) -> None: ...

class LoadBridgeResponse(_message.Message):
    __slots__ = ["bridge"]
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    bridge: BridgeInfo
    def __init__(self, bridge: _Optional[_Union[BridgeInfo, _Mapping]] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ["envelope"]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ["error", "message_id", "recipients"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    error: Error
    message_id: str
    recipients: _containers.RepeatedCompositeFieldContainer[RecipientOutcome]
    def __init__(self, message_id: _Optional[str] = ..., recipients: _Optional[_Iterable[_Union[RecipientOutcome, _Mapping]]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class RecipientOutcome(_message.Message):
    __slots__ = ["agent_id", "form", "reason"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    form: _envelope_pb2.PayloadForm
    reason: str
    def __init__(self, agent_id: _Optional[str] = ..., form: _Optional[_Union[_envelope_pb2.PayloadForm, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class Register(_message.Message):
    __slots__ = ["agent_id", "initial_credits", "model", "protocol", "topics"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INITIAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    initial_credits: int
    model: _model_pb2.ModelSpec
    protocol: int
    topics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, agent_id: _Optional[str] = ..., model: _Optional[_Union[_model_pb2.ModelSpec, _Mapping]] = ..., initial_credits: _Optional[int] = ..., topics: _Optional[_Iterable[str]] = ..., protocol: _Optional[int] = ...) -> None: ...

class Registered(_message.Message):
    __slots__ = ["agent_id", "broker_version", "max_message_bytes", "pending_redeliveries", "protocol", "send_credits"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    BROKER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PENDING_REDELIVERIES_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SEND_CREDITS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    broker_version: str
    max_message_bytes: int
    pending_redeliveries: int
    protocol: int
    send_credits: int
    def __init__(self, agent_id: _Optional[str] = ..., send_credits: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., pending_redeliveries: _Optional[int] = ..., broker_version: _Optional[str] = ..., protocol: _Optional[int] = ...) -> None: ...

class RouteDecision(_message.Message):
    __slots__ = ["agent_id", "bridge_id", "fidelity", "form", "reason"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_ID_FIELD_NUMBER: _ClassVar[int]
    FIDELITY_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    bridge_id: str
    fidelity: float
    form: _envelope_pb2.PayloadForm
    reason: str
    def __init__(self, agent_id: _Optional[str] = ..., form: _Optional[_Union[_envelope_pb2.PayloadForm, str]] = ..., reason: _Optional[str] = ..., bridge_id: _Optional[str] = ..., fidelity: _Optional[float] = ...) -> None: ...

class RouteQueryRequest(_message.Message):
    __slots__ = ["has_latent", "has_text", "message_class", "model_id", "recipient", "sender_id"]
    HAS_LATENT_FIELD_NUMBER: _ClassVar[int]
    HAS_TEXT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    has_latent: bool
    has_text: bool
    message_class: _envelope_pb2.MessageClass
    model_id: str
    recipient: _envelope_pb2.Address
    sender_id: str
    def __init__(self, sender_id: _Optional[str] = ..., recipient: _Optional[_Union[_envelope_pb2.Address, _Mapping]] = ..., message_class: _Optional[_Union[_envelope_pb2.MessageClass, str]] = ..., model_id: _Optional[str] = ..., has_text: bool = ..., has_latent: bool = ...) -> None: ...

class RouteQueryResponse(_message.Message):
    __slots__ = ["decisions", "error"]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[RouteDecision]
    error: Error
    def __init__(self, decisions: _Optional[_Iterable[_Union[RouteDecision, _Mapping]]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class Send(_message.Message):
    __slots__ = ["envelope", "want_result"]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    WANT_RESULT_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    want_result: bool
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., want_result: bool = ...) -> None: ...

class SendResult(_message.Message):
    __slots__ = ["message_id", "recipients"]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    recipients: _containers.RepeatedCompositeFieldContainer[RecipientOutcome]
    def __init__(self, message_id: _Optional[str] = ..., recipients: _Optional[_Iterable[_Union[RecipientOutcome, _Mapping]]] = ...) -> None: ...

class Subscribe(_message.Message):
    __slots__ = ["topic"]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    topic: str
    def __init__(self, topic: _Optional[str] = ...) -> None: ...

class SubscribeResult(_message.Message):
    __slots__ = ["subscribed", "topic"]
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    subscribed: bool
    topic: str
    def __init__(self, topic: _Optional[str] = ..., subscribed: bool = ...) -> None: ...

class UnloadBridgeRequest(_message.Message):
    __slots__ = ["bridge_id"]
    BRIDGE_ID_FIELD_NUMBER: _ClassVar[int]
    bridge_id: str
    def __init__(self, bridge_id: _Optional[str] = ...) -> None: ...

class UnloadBridgeResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class Unsubscribe(_message.Message):
    __slots__ = ["topic"]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    topic: str
    def __init__(self, topic: _Optional[str] = ...) -> None: ...

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
