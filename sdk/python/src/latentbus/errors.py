"""Errors the broker reports, as one exception class.

Per-message refusals arrive as Error frames (or PublishResponse.error) carrying a
latentbus.v1.ErrorReason; refusals of a whole stream or RPC arrive as a gRPC status
whose message starts with "[REASON] " (broker/grpc_status.cc). Both become BusError,
whose `reason` is the ErrorReason name ("NO_ROUTE", "NEEDS_TEXT", ...). A reason value
this SDK does not know (a newer broker) reads as "ERROR_REASON_UNSPECIFIED", to be
handled as a non-retryable failure, with the number kept in `reason_value`.
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
    try:
        return broker_pb2.ErrorReason.Name(value)
    except ValueError:
        return "ERROR_REASON_UNSPECIFIED"


class BusError(Exception):
    """A refusal or failure reported by the broker (or detected by the SDK before
    sending, e.g. MESSAGE_TOO_LARGE against the broker's announced limit).

    Attributes: reason (ErrorReason name), reason_value (its number), detail (human
    readable), message_id and agent_ids (when the broker names them), grpc_code (for
    errors that ended an RPC or the stream, else None).
    """

    def __init__(self, reason: str, detail: str = "", *, message_id: str = "",
                 agent_ids=(), grpc_code: grpc.StatusCode | None = None,
                 reason_value: int | None = None):
        self.reason = reason
        self.reason_value = (reason_value if reason_value is not None else
                             broker_pb2.ErrorReason.Value(reason)
                             if reason in broker_pb2.ErrorReason.keys() else 0)
        self.detail = detail
        self.message_id = message_id
        self.agent_ids = tuple(agent_ids)
        self.grpc_code = grpc_code
        super().__init__(f"{reason}: {detail}" if detail else reason)

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


class StreamClosed(BusError):
    """The Connect stream is gone: the broker refused the registration, a newer stream
    registered the same agent id (grpc_code ABORTED), the broker shut down, the network
    failed, or close() was called. Pending calls fail with it."""

    @classmethod
    def closed_locally(cls) -> "StreamClosed":
        return cls("ERROR_REASON_UNSPECIFIED", "the client was closed",
                   grpc_code=grpc.StatusCode.CANCELLED)
