#include "telemetry/trace_context.h"

#include <random>

namespace latentbus::telemetry {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// The value of a lowercase hex digit, -1 for anything else (W3C: upper case is invalid).
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes 2 * N hex digits at `in` into `out`; false on a non-hex digit.
template <size_t N>
bool DecodeHex(const char* in, std::array<uint8_t, N>* out) {
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexValue(in[2 * i]), lo = HexValue(in[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
void EncodeHex(const std::array<uint8_t, N>& in, char* out) {
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHex[in[i] >> 4];
    out[2 * i + 1] = kHex[in[i] & 0xf];
  }
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  for (uint8_t b : a) {
    if (b != 0) return false;
  }
  return true;
}

// splitmix64 over a per-thread state seeded once from the OS: fast, and ids from two
// threads or two processes do not collide in practice.
uint64_t NextRandom() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <size_t N>
void FillRandom(std::array<uint8_t, N>* out) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t r = NextRandom();
      for (size_t j = i; j < N && j < i + 8; ++j, r >>= 8) (*out)[j] = static_cast<uint8_t>(r);
    }
  } while (AllZero(*out));
}

}  // namespace

bool SpanContext::valid() const { return !AllZero(trace_id) && !AllZero(span_id); }

bool operator==(const SpanContext& a, const SpanContext& b) {
  return a.trace_id == b.trace_id && a.span_id == b.span_id && a.flags == b.flags &&
         a.remote == b.remote;
}

std::optional<SpanContext> ParseTraceparent(absl::string_view v) {
  if (v.size() < kTraceparentLength) return std::nullopt;
  const int v_hi = HexValue(v[0]), v_lo = HexValue(v[1]);
  if (v_hi < 0 || v_lo < 0) return std::nullopt;
  const int version = v_hi << 4 | v_lo;
  if (version == 0xff) return std::nullopt;
  if (version == 0 && v.size() != kTraceparentLength) return std::nullopt;
  if (v.size() > kTraceparentLength && v[kTraceparentLength] != '-') return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  SpanContext c;
  std::array<uint8_t, 1> flags{};
  if (!DecodeHex(v.data() + 3, &c.trace_id) || !DecodeHex(v.data() + 36, &c.span_id) ||
      !DecodeHex(v.data() + 53, &flags)) {
    return std::nullopt;
  }
  if (!c.valid()) return std::nullopt;
  c.flags = flags[0];
  c.remote = true;
  return c;
}

void FormatTraceparentTo(const SpanContext& c, char* out) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  EncodeHex(c.trace_id, out + 3);
  out[35] = '-';
  EncodeHex(c.span_id, out + 36);
  out[52] = '-';
  EncodeHex(std::array<uint8_t, 1>{c.flags}, out + 53);
}

std::string FormatTraceparent(const SpanContext& c) {
  std::string s(kTraceparentLength, '\0');
  FormatTraceparentTo(c, s.data());
  return s;
}

std::string TraceIdHex(const TraceId& id) {
  std::string s(32, '\0');
  EncodeHex(id, s.data());
  return s;
}

std::string SpanIdHex(const SpanId& id) {
  std::string s(16, '\0');
  EncodeHex(id, s.data());
  return s;
}

TraceId NewTraceId() {
  TraceId id;
  FillRandom(&id);
  return id;
}

SpanId NewSpanId() {
  SpanId id;
  FillRandom(&id);
  return id;
}

}  // namespace latentbus::telemetry
