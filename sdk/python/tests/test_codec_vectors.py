"""The shared codec test vectors (codec/testdata/vectors, format in codec/vectors.h),
written by the C++ codec: this numpy codec must produce the same packet bytes for the
same input and encoding, decode the C++ packets to the same float bits, and refuse the
same damaged packets and bad inputs. codec/vectors_test.cc checks the C++ side."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from latentbus import codec
from latentbus.v1 import latent_pb2

from conftest import vectors_dir

DIR = vectors_dir()


@dataclasses.dataclass
class Case:
    kind: str
    name: str
    shape: str
    encoding: str
    input: str
    packet: str
    decoded: str
    expect: str

    def __str__(self):
        return self.name


def load_cases() -> list[Case]:
    cases = []
    for line in (DIR / "manifest.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split(" ")
        assert len(fields) == 8, line
        cases.append(Case(*fields))
    return cases


CASES = load_cases()


def of_kind(kind):
    return [pytest.param(c, id=c.name) for c in CASES if c.kind == kind]


def shape_of(case: Case) -> tuple[int, ...]:
    return tuple(int(d) for d in case.shape.split("x"))


def floats(rel: str) -> np.ndarray:
    return np.fromfile(DIR / rel, dtype="<f4")


def test_vectors_cover_every_encoding_and_edge():
    seen = set()
    odd_int4 = ragged = rank1 = rank3 = seeded = False
    for c in CASES:
        if c.kind != "roundtrip":
            continue
        e = codec.parse_encoding(c.encoding)
        shape = shape_of(c)
        n = int(np.prod(shape))
        seen.add((codec.dtype_name(e.dtype), e.group_size, e.rotation))
        odd_int4 |= n % 2 == 1 and e.dtype == codec.DType.INT4
        ragged |= e.group_size > 0 and n % e.group_size != 0
        rank1 |= len(shape) == 1
        rank3 |= len(shape) == 3
        seeded |= e.rotation == codec.Rotation.HADAMARD and \
            e.rotation_seed != codec.DEFAULT_ROTATION_SEED
    for rotation in codec.Rotation:
        for dtype in ("fp32", "fp16", "bf16"):
            assert (dtype, 0, rotation) in seen
        for dtype in ("int8", "int4"):
            for g in (32, 64, 128):
                assert (dtype, g, rotation) in seen
    assert odd_int4 and ragged and rank1 and rank3 and seeded
    assert {c.expect for c in CASES if c.kind == "decode_error"} == {"DATA_LOSS",
                                                                     "INVALID_ARGUMENT"}
    assert len(of_kind("roundtrip")) >= 90
    assert len(of_kind("decode_error")) >= 20
    assert len(of_kind("encode_error")) >= 5


@pytest.mark.parametrize("case", of_kind("roundtrip"))
def test_encode_gives_cpp_packet_bytes(case: Case):
    want = (DIR / case.packet).read_bytes()
    committed = latent_pb2.LatentPacket.FromString(want)
    packet = codec.encode(floats(case.input).reshape(shape_of(case)), case.encoding,
                          model_id=committed.model_id,
                          model_fingerprint=committed.model_fingerprint,
                          space=committed.space, layer=committed.layer)
    got = codec.to_proto(packet).SerializeToString()
    if got != want:  # say where, not just that
        c = codec.from_proto(want)
        assert packet.scales == c.scales, "scales differ"
        assert packet.payload == c.payload, "payload differs at byte %d" % next(
            i for i, (a, b) in enumerate(zip(packet.payload, c.payload)) if a != b)
        assert packet.checksum == c.checksum, "checksum differs"
    assert got == want


@pytest.mark.parametrize("case", of_kind("roundtrip"))
def test_decode_gives_cpp_floats(case: Case):
    packet = codec.from_proto((DIR / case.packet).read_bytes())
    got = codec.decode(packet)
    want = floats(case.decoded)
    assert got.shape == shape_of(case)
    assert got.dtype == np.float32
    # Bit-identical, including the sign of zeros.
    np.testing.assert_array_equal(got.reshape(-1).view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("case", of_kind("decode_error"))
def test_damaged_cpp_packets_are_refused(case: Case):
    data = (DIR / case.packet).read_bytes()
    if case.expect == "DATA_LOSS":
        with pytest.raises(codec.ChecksumError, match="checksum mismatch"):
            codec.decode(codec.from_proto(data))
    else:
        with pytest.raises(codec.PacketError) as info:
            codec.decode(codec.from_proto(data))
        assert not isinstance(info.value, codec.ChecksumError), info.value
        assert isinstance(info.value, ValueError)
        assert str(info.value).startswith("latent packet: "), info.value


@pytest.mark.parametrize("case", of_kind("encode_error"))
def test_bad_inputs_are_refused(case: Case):
    with pytest.raises(codec.PacketError):
        codec.encode(floats(case.input).reshape(shape_of(case)), case.encoding)
