"""Codec errors: every malformed tensor or packet raises one of these, never crashes."""


class PacketError(ValueError):
    """A tensor that cannot be encoded, or a packet that fails validation or decoding
    (codec InvalidArgument)."""


class ChecksumError(PacketError):
    """The packet's checksum does not match its contents (codec DataLoss)."""
