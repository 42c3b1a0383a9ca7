"""Conversion between codec Packets and the wire message latentbus.v1.LatentPacket.

from_proto checks only what the conversion itself needs (enum values it knows, rank);
decode()/validate() do the full checks. Mirrors codec/packet_proto.h.
"""
from __future__ import annotations

from latentbus.codec.encoding import DType, Encoding, Rotation
from latentbus.codec.errors import PacketError
from latentbus.codec.packet import MAX_RANK, Packet, Space
from latentbus.v1 import latent_pb2


def encoding_to_proto(encoding: Encoding) -> latent_pb2.Encoding:
    return latent_pb2.Encoding(dtype=int(encoding.dtype), group_size=encoding.group_size,
                               rotation=int(encoding.rotation),
                               rotation_seed=encoding.rotation_seed)


def encoding_from_proto(proto: latent_pb2.Encoding) -> Encoding:
    """PacketError for an unknown or unspecified dtype or an unknown rotation (a newer
    peer's value is never guessed at)."""
    if proto.dtype not in tuple(DType):
        raise PacketError(f"unknown or unspecified dtype {proto.dtype}")
    if proto.rotation not in tuple(Rotation):
        raise PacketError(f"unknown rotation {proto.rotation}")
    return Encoding(DType(proto.dtype), proto.group_size, Rotation(proto.rotation),
                    proto.rotation_seed)


def to_proto(packet: Packet) -> latent_pb2.LatentPacket:
    return latent_pb2.LatentPacket(
        format_version=packet.format_version, model_id=packet.model_id,
        model_fingerprint=packet.model_fingerprint, space=int(packet.space), layer=packet.layer,
        shape=list(packet.shape), encoding=encoding_to_proto(packet.encoding),
        scales=packet.scales, payload=packet.payload, checksum=packet.checksum)


def from_proto(proto: latent_pb2.LatentPacket | bytes) -> Packet:
    """Accepts the message or its serialized bytes."""
    if isinstance(proto, (bytes, bytearray, memoryview)):
        message = latent_pb2.LatentPacket()
        try:
            message.ParseFromString(bytes(proto))
        except Exception as e:  # protobuf's DecodeError
            raise PacketError(f"latent packet: not a serialized LatentPacket ({e})") from None
        proto = message
    try:
        encoding = encoding_from_proto(proto.encoding)
    except PacketError as e:
        raise PacketError(f"latent packet: {e}") from None
    if proto.space not in tuple(Space):
        raise PacketError(f"latent packet: unknown space {proto.space}")
    if len(proto.shape) > MAX_RANK:
        raise PacketError(f"latent packet: shape has {len(proto.shape)} dims, at most "
                          f"{MAX_RANK} allowed")
    return Packet(shape=tuple(proto.shape), encoding=encoding, scales=bytes(proto.scales),
                  payload=bytes(proto.payload), checksum=proto.checksum,
                  format_version=proto.format_version, model_id=proto.model_id,
                  model_fingerprint=proto.model_fingerprint, space=Space(proto.space),
                  layer=proto.layer)
