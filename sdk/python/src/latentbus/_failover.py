"""Failover rules both clients share through their Protocol (latentbus.protocol), with no
I/O: the broker list, which stream endings are final, the wait before each reconnect, and
the bounded windows of remembered (sender, message id) pairs.

The rules are the C++ client's (agent/client/client.h, "Reconnect"):

  * `address` names one broker or several of one cluster ("b1:7070,b2:7070", or a list).
    The first registration tries them in order, moving on only while a broker is
    unreachable (UNAVAILABLE); any other refusal is the answer.
  * A registered stream that breaks is opened again after a backoff: to the same broker
    first (to the next one when the broker had said GoAway: it is draining), then to the
    next ones in turn, for as long as it takes (pending calls keep their own timeouts).
  * An end that reconnecting would not mend is final: FINAL_CODES, a stream the client
    ended itself (close()), and an error in the client itself, reading a stream or
    opening the next one (a root_ca file gone, a bug).
"""
from __future__ import annotations

import collections
import random
from typing import Hashable, Iterable

import grpc

# A stream ended with one of these does not get better by reconnecting: a bad or
# insufficient token, a registration the broker refuses, a newer stream that registered the
# same agent id (ABORTED), a broker that cannot serve the stream, a frame over its limit.
FINAL_CODES = frozenset({
    grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ABORTED, grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
})


def split_addresses(address: str | Iterable[str]) -> tuple[str, ...]:
    """The brokers `address` names: "host:port", "h1:p1,h2:p2", or a list/tuple of
    host:port. Raises ValueError when it names none."""
    parts = address.split(",") if isinstance(address, str) else list(address)
    if not all(isinstance(part, str) for part in parts):
        raise ValueError(f"address must be host:port strings, got {address!r}")
    addresses = tuple(part.strip() for part in parts if part.strip())
    if not addresses:
        raise ValueError(f"no broker address in {address!r}")
    return addresses


def stream_end_code(cause: BaseException | None) -> grpc.StatusCode | None:
    """The status a stream ended with: OK when the broker ended it (`cause` None), the
    RPC's code for a grpc.RpcError, None for anything else (an end the transport chose,
    or a bug: never reconnected)."""
    if cause is None:
        return grpc.StatusCode.OK
    if isinstance(cause, grpc.RpcError) and hasattr(cause, "code"):
        return cause.code()
    return None


def check_backoff(initial: float, maximum: float) -> None:
    for name, value in (("backoff_initial", initial), ("backoff_max", maximum)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")


class Backoff:
    """The wait before each reconnect attempt: attempt n (0, 1, ...) waits a uniformly
    random time in [nominal/2, nominal], nominal = min(initial * 2^n, maximum), so that
    clients which lost the same broker do not all come back at once."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None):
        check_backoff(initial, maximum)
        self._initial = float(initial)
        self._max = max(float(maximum), self._initial)
        self._nominal = self._initial
        self._rng = rng or random.Random()

    def next(self) -> float:
        wait = self._nominal * self._rng.uniform(0.5, 1.0)
        self._nominal = min(self._nominal * 2, self._max)
        return wait

    def reset(self) -> None:
        """Back to the first attempt (after a registration that held)."""
        self._nominal = self._initial


class KeyWindow:
    """The last `size` keys added, oldest forgotten first; size 0 remembers nothing."""

    def __init__(self, size: int):
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"a window size must be an int >= 0, got {size!r}")
        self.size = size
        self._keys: collections.OrderedDict[Hashable, None] = collections.OrderedDict()

    def add(self, key: Hashable) -> None:
        if self.size == 0 or key in self._keys:
            return
        self._keys[key] = None
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)

    def discard(self, key: Hashable) -> bool:
        """Forgets `key`; whether it was remembered."""
        if key not in self._keys:
            return False
        del self._keys[key]
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)
