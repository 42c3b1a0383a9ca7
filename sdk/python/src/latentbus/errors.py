"""Errors the broker reports, as one exception class.

Per-message refusals arrive as Error frames (or PublishResponse.error) carrying a
latentbus.v1.ErrorReason; refusals of a whole stream or RPC arrive as a gRPC status
whose message starts with "[REASON] " (broker/grpc_status.cc). Both become BusError,
whose `reason` is the ErrorReason name ("NO_ROUTE", "NEEDS_TEXT", ...) and whose text
starts with that name, never with the enum's number. A reason value this SDK does not
know (a newer broker) reads as "ERROR_REASON_UNSPECIFIED", to be handled as a
non-retryable failure; its number is kept in `reason_value` and shown in the text.
"""
from __future__ import annotations

import re

import grpc

from latentbus.v1 import broker_pb2

_REASON_PREFIX = re.compile(r"^\[([A-Z_]+)\] ?(.*)$", re.S)

# gRPC status codes whose meaning is one ErrorReason, for statuses without a prefix.
_REASON_FOR_CODE = {
    grpc.StatusCode.UNAUTHENTICATED: "UNAUTHENTICATED",
    grpc.StatusCode.PERMISSION_DENIED: "PERMISSION_DENIED",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
    grpc.StatusCode.INVALID_ARGUMENT: "INVALID_ARGUMENT",
}


def reason_name(value: int) -> str:
    """The ErrorReason name of `value`; "ERROR_REASON_UNSPECIFIED" for an unknown one."""
    try:
        return broker_pb2.ErrorReason.Name(value)
    except ValueError:
        return "ERROR_REASON_UNSPECIFIED"


def _reason(reason, reason_value: int | None) -> tuple[str, int]:
    """(name, number) of a reason given as a name, or as the enum's number (an int, e.g.
    broker_pb2.QUEUE_FULL or a raw latentbus.v1.Error.reason)."""
    if isinstance(reason, int) and not isinstance(reason, bool):
        value = int(reason)
        return reason_name(value), value
    name = str(reason)
    if reason_value is not None:
        return name, int(reason_value)
    known = broker_pb2.ErrorReason.keys()
    return name, broker_pb2.ErrorReason.Value(name) if name in known else 0


def _text(reason: str, value: int, detail: str) -> str:
    head = reason
    if reason == "ERROR_REASON_UNSPECIFIED" and value:
        head = f"{reason} (reason {value}, unknown to this SDK)"
    return f"{head}: {detail}" if detail else head


class BusError(Exception):
    """A refusal or failure reported by the broker (or detected by the SDK before
    sending, e.g. MESSAGE_TOO_LARGE against the broker's announced limit).

    Attributes: reason (ErrorReason name), reason_value (its number), detail (human
    readable), message_id and agent_ids (when the broker names them), grpc_code (for
    errors that ended an RPC or the stream, else None). str() is "REASON: detail".

    `reason` may be given as a name or as the enum's number; either way `reason` holds
    the name afterwards.
    """

    def __init__(self, reason: str | int, detail: str = "", *, message_id: str = "",
                 agent_ids=(), grpc_code: grpc.StatusCode | None = None,
                 reason_value: int | None = None):
        self.reason, self.reason_value = _reason(reason, reason_value)
        self.detail = detail
        self.message_id = message_id
        self.agent_ids = tuple(agent_ids)
        self.grpc_code = grpc_code
        super().__init__(_text(self.reason, self.reason_value, detail))

    def __reduce__(self):
        # Exception's default would rebuild from the text alone (pickle, copy,
        # multiprocessing), turning "QUEUE_FULL: detail" into the reason.
        return (_rebuild, (type(self), self.__dict__.copy()))

    @classmethod
    def from_proto(cls, error: broker_pb2.Error) -> "BusError":
        return cls(reason_name(error.reason), error.detail, message_id=error.message_id,
                   agent_ids=error.agent_ids, reason_value=error.reason)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "BusError":
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = (error.details() if hasattr(error, "details") else None) or str(error)
        match = _REASON_PREFIX.match(details)
        if match and match.group(1) in broker_pb2.ErrorReason.keys():
            reason, detail = match.group(1), match.group(2)
        else:
            reason, detail = _REASON_FOR_CODE.get(code, "ERROR_REASON_UNSPECIFIED"), details
        return cls(reason, detail, grpc_code=code)


def _rebuild(cls, state: dict) -> BusError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, _text(error.reason, error.reason_value, error.detail))
    return error


class MessageTooLarge(BusError):
    """MESSAGE_TOO_LARGE found by the SDK before sending: the envelope (`size` bytes,
    measured as the broker measures it) is over `limit`, the broker's max_message_bytes.
    Nothing was sent."""

    def __init__(self, size: int, limit: int, *, message_id: str = ""):
        super().__init__("MESSAGE_TOO_LARGE",
                         f"envelope is {size} bytes, over the limit of {limit} bytes "
                         "(max_message_bytes); refused before sending, nothing was sent",
                         message_id=message_id)
        self.size = size
        self.limit = limit


class StreamClosed(BusError):
    """The Connect stream is gone for good: the broker refused the registration, a newer
    stream registered the same agent id (grpc_code ABORTED), close() was called, or the
    stream broke and is not registered again (reconnect=False, or no broker of the list
    answered the first registration). Pending calls fail with it."""

    @classmethod
    def closed_locally(cls) -> "StreamClosed":
        return cls("ERROR_REASON_UNSPECIFIED", "the client was closed",
                   grpc_code=grpc.StatusCode.CANCELLED)
