"""Connect-stream frames the clients write, and the checks made before writing them."""
from __future__ import annotations

from latentbus.errors import MessageTooLarge
from latentbus.v1 import broker_pb2, envelope_pb2


# The stream protocol revision the clients offer (broker.proto, "Protocol revision 2"):
# requests ask for no SendResult, a reply acks its request, acks give credits back.
PROTOCOL = 2


def register(seq: int, agent_id: str, model, topics, credits: int,
             protocol: int = PROTOCOL) -> broker_pb2.AgentFrame:
    frame = broker_pb2.AgentFrame(seq=seq)
    frame.register.agent_id = agent_id
    frame.register.protocol = protocol
    if model is not None:
        frame.register.model.CopyFrom(model)
    frame.register.initial_credits = credits
    frame.register.topics.extend(topics)
    return frame


def subscribe(seq: int, topic: str, on: bool) -> broker_pb2.AgentFrame:
    frame = broker_pb2.AgentFrame(seq=seq)
    if on:
        frame.subscribe.topic = topic
    else:
        frame.unsubscribe.topic = topic
    return frame


def send(seq: int, envelope: envelope_pb2.Envelope,
         want_result: bool = True) -> broker_pb2.AgentFrame:
    frame = broker_pb2.AgentFrame(seq=seq)
    frame.send.envelope.CopyFrom(envelope)
    frame.send.want_result = want_result  # read by revision-2 brokers only
    return frame


def ack(message_id: str, sender_id: str) -> broker_pb2.AgentFrame:
    frame = broker_pb2.AgentFrame()
    frame.ack.message_id = message_id
    frame.ack.sender_id = sender_id
    return frame


def credit(credits: int) -> broker_pb2.AgentFrame:
    frame = broker_pb2.AgentFrame()
    frame.credit.credits = credits
    return frame


# The broker's default max_message_bytes (broker/config.h, LimitsConfig): the limit the
# clients assume for Publish until a stream's Registered frame tells them the real one.
DEFAULT_MAX_MESSAGE_BYTES = 4 << 20


def message_limit(registered, configured: int) -> int:
    """The limit to check against: the one the broker announced in Registered when
    there is one, else the client's max_message_bytes option (0: no local check)."""
    if registered is not None and registered.max_message_bytes:
        return registered.max_message_bytes
    return configured


def check_max_message_bytes(value) -> int:
    """Validates a client's max_message_bytes option (None: the broker's default)."""
    if value is None:
        return DEFAULT_MAX_MESSAGE_BYTES
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_message_bytes must be an int >= 0 (0: no local check), "
                         f"got {value!r}")
    return value


def check_size(envelope: envelope_pb2.Envelope, max_message_bytes: int) -> None:
    """Refuses locally what the broker would refuse with MESSAGE_TOO_LARGE (raises
    MessageTooLarge, a BusError). Beyond the limit plus the broker's 64 KiB frame
    allowance gRPC itself would end the whole stream or fail the RPC without a reason,
    so the check keeps one oversized message from costing the connection. The broker
    measures the envelope with sender_id filled in; so does this."""
    if not max_message_bytes:
        return
    size = envelope.ByteSize()
    if size > max_message_bytes:
        raise MessageTooLarge(size, max_message_bytes, message_id=envelope.message_id)


class DeliveryCredits:
    """Delivery flow control on the receiving side. The agent grants `window` credits
    at registration; the broker spends one per Deliver and never has more uncredited
    deliveries in flight. As the application consumes deliveries the client returns
    credits, in batches of half the window (one Credit frame per batch), so at most
    `window` deliveries wait in the client. Not thread-safe: the clients call it through
    their latentbus.protocol.Protocol."""

    def __init__(self, window: int):
        if window < 1:
            raise ValueError("the delivery credit window must be >= 1")
        self.window = window
        self._owed = 0

    def consumed(self, n: int = 1) -> int:
        """Records n consumed deliveries; returns the credits to send now (0 = none)."""
        self._owed += n
        if self._owed < max(1, self.window // 2):
            return 0
        owed, self._owed = self._owed, 0
        return owed
