"""Channels to the broker: address, TLS, bearer token, message size limits."""
from __future__ import annotations

import os

import grpc

# The broker enforces its own limit (max_message_bytes, MESSAGE_TOO_LARGE); the client
# must not refuse first with a smaller default of its own.
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    ("grpc.keepalive_time_ms", 30000),
    ("grpc.keepalive_timeout_ms", 10000),
)


def _pem(root_ca: bytes | str | os.PathLike | None) -> bytes | None:
    if root_ca is None or isinstance(root_ca, bytes):
        return root_ca
    text = os.fspath(root_ca)
    if "-----BEGIN" in text:
        return text.encode()
    with open(text, "rb") as f:
        return f.read()


def credentials(tls: bool, root_ca) -> grpc.ChannelCredentials | None:
    """TLS credentials, or None for plaintext. `root_ca` (PEM bytes, PEM text or a file
    path) implies TLS; tls=True without it uses the system's roots."""
    if root_ca is None and not tls:
        return None
    return grpc.ssl_channel_credentials(root_certificates=_pem(root_ca))


def metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Call metadata: `authorization: Bearer <token>` (broker/auth.h) when a token is set."""
    if not token:
        return ()
    return (("authorization", f"Bearer {token}"),)


def reconnect_options(backoff_initial: float, backoff_max: float) -> tuple:
    """Channel options that bound grpc's own wait between connection attempts like the
    client's reconnect backoff, so that a broker that comes back is seen as soon as the
    client asks for it again."""
    return (("grpc.initial_reconnect_backoff_ms", max(1, int(backoff_initial * 1000))),
            ("grpc.max_reconnect_backoff_ms", max(1, int(backoff_max * 1000))))


def sync_channel(address: str, *, tls: bool = False, root_ca=None, options=()) -> grpc.Channel:
    creds = credentials(tls, root_ca)
    opts = list(CHANNEL_OPTIONS) + list(options)
    if creds is None:
        return grpc.insecure_channel(address, options=opts)
    return grpc.secure_channel(address, creds, options=opts)


def aio_channel(address: str, *, tls: bool = False, root_ca=None, options=()):
    creds = credentials(tls, root_ca)
    opts = list(CHANNEL_OPTIONS) + list(options)
    if creds is None:
        return grpc.aio.insecure_channel(address, options=opts)
    return grpc.aio.secure_channel(address, creds, options=opts)
