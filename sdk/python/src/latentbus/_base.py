"""What the sync and asyncio clients share besides their Protocol's decisions: the
broker stub and call metadata on a channel the transport opened, and the attributes
read from the Protocol (latentbus.protocol)."""
from __future__ import annotations

from typing import Callable

from latentbus import connection, protocol
from latentbus.errors import BusError
from latentbus.messages import Registered
from latentbus.v1 import broker_pb2_grpc


class ClientBase:
    """The state of a client that is not its transport's: `_core` (a Protocol),
    `_stub` and `_metadata` for calls on `_channel`."""

    def __init__(self, address: str, channel, *, token: str | None, timeout: float,
                 on_error: Callable[[BusError], None] | None,
                 max_message_bytes: int | None):
        """Options as latentbus.client.Client; `channel` is grpc's sync or aio one."""
        self.address = address
        self._channel = channel
        self._stub = broker_pb2_grpc.BrokerStub(channel)
        self._metadata = connection.metadata(token)
        self._core = protocol.Protocol(self, timeout=timeout, on_error=on_error,
                                       max_message_bytes=max_message_bytes)

    @property
    def agent_id(self) -> str | None:
        """The agent id register() registered (None before)."""
        return self._core.agent_id

    @property
    def model(self):
        """The ModelSpec register() registered (None: text-only, or not registered)."""
        return self._core.model

    @property
    def registered(self) -> Registered | None:
        """The broker's Registered answer (None before register() returns)."""
        return self._core.registered

    @property
    def go_away(self) -> str | None:
        """Set when the broker announces it is draining."""
        return self._core.go_away

    @property
    def ignored_replies(self) -> int:
        """Deliveries that carried a pending request's correlation id but came from an
        agent the request was not addressed to (not taken as its reply)."""
        return self._core.ignored_replies

    @property
    def max_message_bytes(self) -> int:
        """The envelope size limit sends are checked against before they leave: the
        broker's, from Registered, once registered; until then the max_message_bytes
        option (0: none)."""
        return self._core.max_message_bytes
