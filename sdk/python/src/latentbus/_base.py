"""What the sync and asyncio clients share besides their Protocol's decisions: a channel
and stub per broker of the address list, call metadata, unary calls that move on to the
next broker while one is unreachable, and the attributes read from the Protocol
(latentbus.protocol)."""
from __future__ import annotations

import threading
from typing import Callable

import grpc

from latentbus import _failover, connection, protocol
from latentbus.errors import BusError
from latentbus.messages import Registered
from latentbus.v1 import broker_pb2_grpc


class ClientBase:
    """The state of a client that is not its transport's: `_core` (a Protocol), the
    channels it opened (`_channels`, by address) and `_metadata` for calls on them."""

    def __init__(self, address, make_channel: Callable[..., object], *, channel_options,
                 token: str | None, timeout: float,
                 on_error: Callable[[BusError], None] | None,
                 max_message_bytes: int | None, reconnect: bool, backoff_initial: float,
                 backoff_max: float, dedup_window: int):
        """Options as latentbus.client.Client; `make_channel(address, options=...)` opens
        grpc's sync or aio channel to one broker (when first used)."""
        addresses = _failover.split_addresses(address)
        self.address = ",".join(addresses)
        self._core = protocol.Protocol(
            self, timeout=timeout, on_error=on_error, max_message_bytes=max_message_bytes,
            addresses=addresses, reconnect=reconnect, backoff_initial=backoff_initial,
            backoff_max=backoff_max, dedup_window=dedup_window)
        self._make_channel = make_channel
        self._channel_options = (connection.reconnect_options(backoff_initial, backoff_max) +
                                 tuple(channel_options))
        self._channels: dict = {}  # address -> channel
        self._channels_lock = threading.Lock()  # the sync client opens them from any thread
        self._metadata = connection.metadata(token)
        self._unary_index = 0  # the broker that answered the last unary call

    def _stub(self, address: str) -> broker_pb2_grpc.BrokerStub:
        """The stub for the broker at `address`, on a channel opened once."""
        with self._channels_lock:
            if address not in self._channels:
                self._channels[address] = self._make_channel(address,
                                                             options=self._channel_options)
            return broker_pb2_grpc.BrokerStub(self._channels[address])

    def _opened_channels(self) -> list:
        with self._channels_lock:
            return list(self._channels.values())

    def _unary_targets(self):
        """(index, stub) of each broker a unary call tries in turn, starting with the one
        that answered last."""
        addresses = self._core.addresses
        for i in range(len(addresses)):
            index = (self._unary_index + i) % len(addresses)
            yield index, self._stub(addresses[index])

    def _unary_failed(self, error: grpc.RpcError, index: int, last: bool) -> BusError | None:
        """The BusError a unary call raises for `error` from broker `index`, or None when
        it goes on to the next broker: only an unreachable one (UNAVAILABLE) is passed
        over; the request goes again as it was (a Publish with the same message id, which
        the cluster stores once)."""
        if last or error.code() != grpc.StatusCode.UNAVAILABLE:
            return BusError.from_rpc_error(error)
        self._unary_index = (index + 1) % len(self._core.addresses)
        return None

    @property
    def addresses(self) -> tuple[str, ...]:
        """The brokers this client may use, in the order it tries them."""
        return self._core.addresses

    @property
    def current_address(self) -> str:
        """The broker the stream uses now (or opens at next while reconnecting)."""
        return self._core.address

    @property
    def reconnects(self) -> int:
        """Streams registered again after one was lost (failovers included)."""
        return self._core.reconnects

    @property
    def repeats_dropped(self) -> int:
        """Deliveries acked again and not handed over: repeats of deliveries the
        application had acked (dedup_window)."""
        return self._core.repeats_dropped

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
