// XXH3-64 (seed 0) of a byte string given in pieces, as the packet checksum uses it.
// An AVX2 build of XXH3 is chosen at run time when the CPU has it (Debian's
// libxxhash is built for baseline SSE2 and hashes at ~9 GB/s here); the value does
// not depend on the path. Thread-safe.
#ifndef LATENTBUS_CODEC_CHECKSUM_H_
#define LATENTBUS_CODEC_CHECKSUM_H_

#include <cstdint>
#include <initializer_list>

#include "absl/strings/string_view.h"

namespace latentbus::codec {

// Hash of the concatenation of `pieces`.
uint64_t Xxh3(std::initializer_list<absl::string_view> pieces);

namespace internal {
uint64_t Xxh3Portable(std::initializer_list<absl::string_view> pieces);
uint64_t Xxh3Avx2(std::initializer_list<absl::string_view> pieces);  // AVX2 CPUs only
}  // namespace internal

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_CHECKSUM_H_
