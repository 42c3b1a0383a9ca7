"""Requests and answers of the unary RPCs, shared by both clients."""
from __future__ import annotations

from latentbus.errors import BusError
from latentbus.messages import SendResult, message_class_value
from latentbus.v1 import broker_pb2


def publish_request(envelope, sender_id: str) -> broker_pb2.PublishRequest:
    if not sender_id:
        raise ValueError("publish needs sender_id= (an agent id the token may act as)")
    envelope.sender_id = sender_id
    return broker_pb2.PublishRequest(envelope=envelope)


def publish_result(response: broker_pb2.PublishResponse) -> SendResult:
    """Raises BusError when nothing was delivered; partial failures land in
    SendResult.errors."""
    if response.HasField("error") and not response.recipients:
        raise BusError.from_proto(response.error)
    errors = (BusError.from_proto(response.error),) if response.HasField("error") else ()
    return SendResult.from_proto(response.message_id, response.recipients, errors)


def route_query_request(*, sender_id: str, to: str | None, topic: str | None,
                        message_class, has_text: bool, has_latent: bool,
                        model_id: str) -> broker_pb2.RouteQueryRequest:
    if (to is None) == (topic is None):
        raise ValueError("route_query needs exactly one of to= (agent id) or topic=")
    request = broker_pb2.RouteQueryRequest(
        sender_id=sender_id, message_class=message_class_value(message_class),
        model_id=model_id, has_text=has_text, has_latent=has_latent)
    if to is not None:
        request.recipient.agent_id = to
    else:
        request.recipient.topic = topic
    return request
