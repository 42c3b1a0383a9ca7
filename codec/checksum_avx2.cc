// Compiled with -mavx2: xxhash.h selects its AVX2 accumulate loop.
#include "codec/checksum.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace latentbus::codec::internal {

uint64_t Xxh3Avx2(std::initializer_list<absl::string_view> pieces)
#include "codec/checksum_impl.inc"

}  // namespace latentbus::codec::internal
