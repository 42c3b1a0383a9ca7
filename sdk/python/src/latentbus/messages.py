"""The values the clients hand out and take in: envelopes, deliveries, send results.

Shared by the sync (latentbus.client) and asyncio (latentbus.aio) clients.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import uuid
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from latentbus import codec
from latentbus.errors import BusError
from latentbus.v1 import broker_pb2, envelope_pb2, latent_pb2

if TYPE_CHECKING:
    from latentbus.model import ModelSpec

Envelope = envelope_pb2.Envelope

MESSAGE_CLASSES = ("context", "reasoning", "instruction", "result", "control")


def message_class_value(message_class: str | int) -> int:
    """"context" / "reasoning" / "instruction" / "result" / "control", or the enum value."""
    if isinstance(message_class, int):
        return message_class
    name = f"MESSAGE_CLASS_{message_class.upper()}"
    try:
        return envelope_pb2.MessageClass.Value(name)
    except ValueError:
        raise ValueError(f"unknown message class '{message_class}': expected one of "
                         f"{', '.join(MESSAGE_CLASSES)}") from None


def message_class_name(value: int) -> str:
    """Lower-case class name; unknown and unspecified values read as "context"."""
    if value in (envelope_pb2.MESSAGE_CLASS_UNSPECIFIED,) or \
            value not in envelope_pb2.MessageClass.values():
        return "context"
    return envelope_pb2.MessageClass.Name(value)[len("MESSAGE_CLASS_"):].lower()


def form_name(value: int) -> str:
    """"latent", "text" or "" (unspecified)."""
    return {envelope_pb2.PAYLOAD_FORM_LATENT: "latent",
            envelope_pb2.PAYLOAD_FORM_TEXT: "text"}.get(value, "")


def new_message_id() -> str:
    return uuid.uuid4().hex


def _timestamp(when: _dt.datetime):
    from google.protobuf import timestamp_pb2
    ts = timestamp_pb2.Timestamp()
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    ts.FromNanoseconds(int(when.timestamp() * 1e9))
    return ts


def deadline_timestamp(deadline: float | _dt.datetime):
    """A float is seconds from now; a datetime is absolute (naive means UTC)."""
    if isinstance(deadline, _dt.datetime):
        return _timestamp(deadline)
    ts = _timestamp(_dt.datetime.now(_dt.timezone.utc))
    ts.FromNanoseconds(ts.ToNanoseconds() + int(float(deadline) * 1e9))
    return ts


def latent_for(model: "ModelSpec | None", array=None, encoding=None,
               latent=None) -> latent_pb2.LatentPacket | None:
    """The LatentPacket an envelope carries: `latent` as given (a codec.Packet or a
    LatentPacket), or `array` encoded (default int4/g32, the codec's recommended
    encoding) as hidden states of the registered model at its tap layer."""
    if latent is not None and array is not None:
        raise ValueError("pass either array= or latent=, not both")
    if latent is not None:
        return codec.to_proto(latent) if isinstance(latent, codec.Packet) else latent
    if array is None:
        return None
    if model is None or not model.model_id:
        raise ValueError("array= needs an agent registered with a model (its id, fingerprint "
                         "and tap layer name the packet); pass latent= to send a ready packet")
    packet = codec.encode(np.asarray(array), encoding or "int4/g32", model_id=model.model_id,
                          model_fingerprint=model.fingerprint, space=codec.Space.HIDDEN,
                          layer=model.tap_layer)
    return codec.to_proto(packet)


def build_envelope(*, to: str | None = None, topic: str | None = None, text: str | None = None,
                   latent: latent_pb2.LatentPacket | None = None,
                   message_class: str | int = "context",
                   deadline: float | _dt.datetime | None = None,
                   metadata: Mapping[str, str] | None = None, message_id: str | None = None,
                   correlation_id: str | None = None, expects_reply: bool = False,
                   traceparent: str | None = None, tracestate: str | None = None,
                   sender_id: str = "") -> envelope_pb2.Envelope:
    """An Envelope addressed to one agent (`to`) or a topic; a reply may name neither
    (the broker routes it to the requester by correlation id)."""
    if to is not None and topic is not None:
        raise ValueError("address an agent (to=) or a topic (topic=), not both")
    if to is None and topic is None and not correlation_id:
        raise ValueError("a message needs a recipient: to= (agent id) or topic=")
    if not text and latent is None:
        raise ValueError("a message carries text, a latent, or both")
    e = envelope_pb2.Envelope(message_id=message_id or new_message_id(), sender_id=sender_id,
                              message_class=message_class_value(message_class),
                              expects_reply=expects_reply)
    if to is not None:
        e.recipient.agent_id = to
    elif topic is not None:
        e.recipient.topic = topic
    if text:
        e.text = text
    if latent is not None:
        e.latent.CopyFrom(latent)
    if deadline is not None:
        e.deadline.CopyFrom(deadline_timestamp(deadline))
    if correlation_id:
        e.correlation_id = correlation_id
    if traceparent:
        e.traceparent = traceparent
    if tracestate:
        e.tracestate = tracestate
    for k, v in (metadata or {}).items():
        e.metadata[k] = v
    e.sent_at.CopyFrom(_timestamp(_dt.datetime.now(_dt.timezone.utc)))
    return e


@dataclasses.dataclass(frozen=True)
class Registered:
    """The broker's answer to Register."""
    agent_id: str
    send_credits: int
    max_message_bytes: int
    pending_redeliveries: int
    broker_version: str

    @classmethod
    def from_proto(cls, r: broker_pb2.Registered) -> "Registered":
        return cls(r.agent_id, r.send_credits, r.max_message_bytes, r.pending_redeliveries,
                   r.broker_version)


@dataclasses.dataclass(frozen=True)
class RecipientOutcome:
    agent_id: str
    form: str    # "latent" or "text"
    reason: str  # why text was chosen ("no_bridge", "receiver_text_only", ...); "" for latents


@dataclasses.dataclass(frozen=True)
class SendResult:
    """An accepted message: how each recipient will receive it. `errors` lists the
    recipients that could not get it (e.g. QUEUE_FULL) when others did (Publish only;
    on a stream such late errors go to the client's on_error callback)."""
    message_id: str
    recipients: tuple[RecipientOutcome, ...]
    errors: tuple[BusError, ...] = ()

    @classmethod
    def from_proto(cls, message_id: str, recipients, errors=()) -> "SendResult":
        return cls(message_id, tuple(RecipientOutcome(r.agent_id, form_name(r.form), r.reason)
                                     for r in recipients), tuple(errors))


@dataclasses.dataclass(frozen=True)
class RouteDecision:
    agent_id: str
    form: str
    reason: str
    bridge_id: str
    fidelity: float


@dataclasses.dataclass(frozen=True)
class RouteQueryResult:
    """What a send would do, per recipient; `error` is what the broker would refuse it
    with (e.g. NEEDS_TEXT), or None."""
    decisions: tuple[RouteDecision, ...]
    error: BusError | None

    @classmethod
    def from_proto(cls, r: broker_pb2.RouteQueryResponse) -> "RouteQueryResult":
        decisions = tuple(RouteDecision(d.agent_id, form_name(d.form), d.reason, d.bridge_id,
                                        d.fidelity) for d in r.decisions)
        return cls(decisions, BusError.from_proto(r.error) if r.HasField("error") else None)


class Delivery:
    """An envelope delivered to this agent. Ack it once processed (`ack()`; with the
    asyncio client `await ack()`), or it is redelivered to the next stream that
    registers this agent id. Reply to a request with `reply(...)`."""

    __slots__ = ("envelope", "_client", "_stream")

    def __init__(self, envelope: envelope_pb2.Envelope, client: Any = None, stream: int = 0):
        self.envelope = envelope
        self._client = client
        self._stream = stream  # the client's stream it came on (delivery credits are per stream)

    message_id = property(lambda self: self.envelope.message_id)
    sender_id = property(lambda self: self.envelope.sender_id)
    text = property(lambda self: self.envelope.text)
    correlation_id = property(lambda self: self.envelope.correlation_id)
    expects_reply = property(lambda self: self.envelope.expects_reply)
    delivery_attempt = property(lambda self: self.envelope.delivery_attempt)
    traceparent = property(lambda self: self.envelope.traceparent)

    @property
    def message_class(self) -> str:
        return message_class_name(self.envelope.message_class)

    @property
    def form(self) -> str:
        """"latent" or "text": which form the broker chose for this receiver."""
        return form_name(self.envelope.delivered_form)

    @property
    def topic(self) -> str | None:
        r = self.envelope.recipient
        return r.topic if r.WhichOneof("target") == "topic" else None

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.envelope.metadata)

    @property
    def deadline(self) -> _dt.datetime | None:
        if not self.envelope.HasField("deadline"):
            return None
        return self.envelope.deadline.ToDatetime(tzinfo=_dt.timezone.utc)

    @property
    def latent(self) -> codec.Packet | None:
        """The latent packet (in this receiver's space), or None for text."""
        if not self.envelope.HasField("latent"):
            return None
        return codec.from_proto(self.envelope.latent)

    def array(self) -> np.ndarray:
        """The latent decoded to float32 (validates; raises codec.PacketError)."""
        packet = self.latent
        if packet is None:
            raise ValueError(f"message {self.message_id} carries no latent")
        return codec.decode(packet)

    def ack(self):
        return self._client.ack(self)

    def reply(self, **kwargs):
        return self._client.reply(self, **kwargs)

    def __repr__(self) -> str:
        what = f"text={self.text[:40]!r}" if self.text else "latent"
        return (f"Delivery(id={self.message_id!r}, from={self.sender_id!r}, {what}, "
                f"attempt={self.delivery_attempt})")
