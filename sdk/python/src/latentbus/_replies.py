"""Which delivery answers a pending request(), for both clients (latentbus.protocol).

A request's message id travels in clear to its recipient (and to whoever that recipient
shows it to), so a correlation id alone proves nothing about who wrote a reply. A request
addressed to one agent is therefore answered only by a delivery from that agent; a
delivery from anyone else that carries the same correlation id is not the reply. It is
handed to the application as an ordinary delivery (receive() / iteration), never
returned by request(), and the request keeps waiting. For a request sent to a topic the
broker decides who may answer (the topic's subscribers), so any sender is accepted.
"""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("latentbus")


def accepts_reply(responder: str | None, envelope) -> bool:
    """Whether `envelope`, whose correlation_id names a pending request, may be that
    request's reply. `responder` is the agent id the request was addressed to, or None
    for a request sent to a topic."""
    return responder is None or envelope.sender_id == responder


class PendingReply:
    """A request() waiting for its reply: the future the caller waits on and the agent
    the request was addressed to (None: a topic)."""

    __slots__ = ("future", "responder")

    def __init__(self, future: Any, responder: str | None):
        self.future = future
        self.responder = responder

    def accepts(self, envelope) -> bool:
        return accepts_reply(self.responder, envelope)


def log_refused(agent_id: str | None, envelope, responder: str) -> None:
    log.warning("latentbus: %s: ignored a reply to request %s from %s: the request went to "
                "%s, so only %s may answer it (handed over as an ordinary delivery)",
                agent_id, envelope.correlation_id, envelope.sender_id or "?", responder,
                responder)
