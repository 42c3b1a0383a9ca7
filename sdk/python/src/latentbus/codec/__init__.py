"""The latent codec in numpy: float tensors <-> latentbus.v1.LatentPacket.

Same encodings and bytes as the C++ codec (codec/packet.h is the specification):

    from latentbus import codec
    packet = codec.encode(hidden_states, "int4/g32+rot")   # -> codec.Packet
    wire = codec.to_proto(packet)                           # latentbus.v1.LatentPacket
    floats = codec.decode(codec.from_proto(wire))           # validates, then decodes
"""
from latentbus.codec.encoding import (DEFAULT_ROTATION_SEED, DType, Encoding, Rotation,
                                      dtype_name, encoding_name, num_groups, parse_encoding,
                                      payload_bytes)
from latentbus.codec.errors import ChecksumError, PacketError
from latentbus.codec.packet import (DEFAULT_MAX_ELEMENTS, FORMAT_VERSION, MAX_RANK, Packet, Space,
                                    compute_checksum, decode, encode, validate)
from latentbus.codec.proto import encoding_from_proto, encoding_to_proto, from_proto, to_proto
from latentbus.codec.rotation import BlockHadamardRotation, HadamardRotation

__all__ = [
    "DEFAULT_MAX_ELEMENTS", "DEFAULT_ROTATION_SEED", "FORMAT_VERSION", "MAX_RANK",
    "BlockHadamardRotation", "ChecksumError", "DType", "Encoding", "HadamardRotation", "Packet", "PacketError",
    "Rotation", "Space", "compute_checksum", "decode", "dtype_name", "encode", "encoding_from_proto",
    "encoding_name", "encoding_to_proto", "from_proto", "num_groups", "parse_encoding",
    "payload_bytes", "to_proto", "validate",
]
