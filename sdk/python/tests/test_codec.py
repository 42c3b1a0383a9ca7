"""The numpy codec's own API: names, errors a caller sees, and what the vectors cannot
show (array types, limits that must refuse before allocating)."""
from __future__ import annotations

import numpy as np
import pytest

from latentbus import codec


def hidden(rows=4, width=64, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, width)).astype(np.float32)


@pytest.mark.parametrize("name", ["fp32", "fp16", "bf16", "int8/g32", "int8/g128", "int4/g64",
                                  "int4/g32+rot", "int8/g64+rot:42", "bf16+rot:0",
                                  "int4/g32+rot64", "fp16+rot64:7"])
def test_encoding_names_round_trip(name):
    assert codec.encoding_name(codec.parse_encoding(name)) == name


def test_encoding_defaults_and_aliases():
    assert codec.parse_encoding("int4") == codec.Encoding(codec.DType.INT4, 32)
    rot = codec.parse_encoding("int8/g64+rot")
    assert rot.rotation == codec.Rotation.HADAMARD
    assert rot.rotation_seed == codec.DEFAULT_ROTATION_SEED
    blocks = codec.parse_encoding("int4+rot64:0")
    assert blocks.rotation == codec.Rotation.HADAMARD_BLOCK64
    assert blocks.rotation_seed == 0


@pytest.mark.parametrize("bad, message", [
    ("int3", "unknown encoding"),
    ("int4/g48", "group size must be 32, 64 or 128"),
    ("fp16/g32", "takes no group size"),
    ("int4+spin", "bad rotation"),
    ("int4+rot:x", "bad rotation seed"),
    ("int4+rot64:", "bad rotation seed"),
    ("int4+rot64:\u0661", "bad rotation seed"),
    ("int4+rot6", "bad rotation"),
    ("int4+rot128", "bad rotation"),
    ("int8/32", "bad group size"),
    # Only ASCII digits, as the C++ parser reads them: no spaces, signs, other scripts.
    ("int4/g\uff13\uff12", "bad group size"),
    ("int4/g\u00b2", "bad group size"),
    ("int4/g 64", "bad group size"),
    ("int4+rot:+5", "bad rotation seed"),
    ("int4+rot: 5", "bad rotation seed"),
])
def test_bad_encoding_names_are_value_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        codec.parse_encoding(bad)


@pytest.mark.parametrize("data, message", [
    (np.array([[1 + 5j, 2 - 3j]]), "complex"),
    (np.array([["a", "b"]]), "values"),
    ([[1.0, 2.0], [3.0]], "rectangular"),
])
def test_data_that_is_not_a_real_array_is_refused(data, message):
    with pytest.raises(codec.PacketError, match=message):
        codec.encode(data, "fp32")


def test_wrong_payload_length_is_a_clear_value_error():
    packet = codec.encode(hidden(), "int4/g32")
    packet.payload = packet.payload[:-1]
    packet.checksum = codec.compute_checksum(packet)  # only the length is wrong
    with pytest.raises(ValueError, match=r"payload is 127 bytes, shape \[4,64\] as int4/g32 "
                                         r"needs 128"):
        codec.decode(packet)


def test_corrupt_checksum_names_both_values():
    packet = codec.encode(hidden(), "int8/g32")
    packet.checksum ^= 1 << 63
    with pytest.raises(codec.ChecksumError, match="carried [0-9a-f]{16}, computed [0-9a-f]{16}"):
        codec.decode(packet)


def test_oversized_shape_is_refused_before_allocating():
    packet = codec.encode(hidden(), "int4/g32")
    packet.shape = (1 << 20, 1 << 20)
    with pytest.raises(codec.PacketError, match="element limit"):
        codec.decode(packet)
    packet = codec.encode(hidden(), "int4/g32")
    with pytest.raises(codec.PacketError, match="element limit"):
        codec.decode(packet, max_elements=100)


def test_garbage_bytes_are_not_a_packet():
    with pytest.raises(codec.PacketError, match="not a serialized LatentPacket"):
        codec.from_proto(b"\xff\xff\xff\xff")


def test_input_is_converted_to_float32_like_the_cpp_codec():
    x64 = hidden().astype(np.float64) + 1e-12  # below fp32 resolution
    assert codec.encode(x64, "fp32").payload == codec.encode(hidden(), "fp32").payload
    # Non-contiguous views encode their values, not their memory.
    wide = hidden(4, 128)
    assert codec.encode(wide[:, ::2], "int4/g32").payload == \
        codec.encode(np.ascontiguousarray(wide[:, ::2]), "int4/g32").payload


def test_rank_limits():
    with pytest.raises(codec.PacketError, match="1 to 4 dims"):
        codec.encode(np.float32(1.0), "fp32")
    with pytest.raises(codec.PacketError, match="1 to 4 dims"):
        codec.encode(np.zeros((1, 1, 1, 1, 2), np.float32), "fp32")
    with pytest.raises(codec.PacketError, match="zero dim"):
        codec.encode(np.zeros((0, 4), np.float32), "fp32")


def test_encode_error_names_the_bad_element():
    x = hidden()
    x[2, 5] = np.inf
    with pytest.raises(codec.PacketError, match=r"element 133 is inf"):
        codec.encode(x, "int4/g32")


def test_rotation_spreads_outliers():
    # The reason the rotation exists: an outlier channel ruins absmax int4 groups.
    x = hidden(32, 576, seed=3)
    x[:, [7, 100, 300, 501]] *= 20
    plain = codec.decode(codec.encode(x, "int4/g32"))
    err = lambda y: float(np.linalg.norm(x - y) / np.linalg.norm(x))  # noqa: E731
    for name in ("int4/g32+rot", "int4/g32+rot64"):
        rotated = codec.decode(codec.encode(x, name))
        assert err(rotated) < 0.75 * err(plain), name
        assert err(rotated) < 0.13, name


@pytest.mark.parametrize("width", [1, 7, 64, 77, 100, 576, 4096 + 77])
def test_block_rotation_is_orthogonal_within_its_blocks(width):
    # +rot64 takes any width; each block of b channels maps a one-hot to +-1/sqrt(b) on
    # that block and nothing elsewhere, and the inverse restores the row.
    rot = codec.BlockHadamardRotation(width, seed=9)
    begin = 0
    for size in rot.blocks:
        one_hot = np.zeros((1, width), dtype=np.float32)
        one_hot[0, begin] = 1
        y = rot.forward(one_hot)[0]
        want = np.zeros(width, dtype=np.float32)
        want[begin:begin + size] = 1 / np.sqrt(size)
        np.testing.assert_allclose(np.abs(y), want, atol=1e-7)
        begin += size
    assert begin == width
    x = hidden(3, width, seed=width)
    np.testing.assert_allclose(rot.inverse(rot.forward(x)), x, rtol=0, atol=2e-6)


def test_metadata_travels_outside_the_checksum():
    a = codec.encode(hidden(), "int4/g32", model_id="m", model_fingerprint="f",
                     space=codec.Space.HIDDEN, layer=3)
    b = codec.encode(hidden(), "int4/g32")
    assert a.checksum == b.checksum
    back = codec.from_proto(codec.to_proto(a).SerializeToString())
    assert (back.model_id, back.model_fingerprint, back.space, back.layer) == ("m", "f", 1, 3)
