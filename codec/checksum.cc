#include "codec/checksum.h"

#include "codec/cpu_features.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace latentbus::codec {
namespace internal {

uint64_t Xxh3Portable(std::initializer_list<absl::string_view> pieces)
#include "codec/checksum_impl.inc"

}  // namespace internal

uint64_t Xxh3(std::initializer_list<absl::string_view> pieces) {
#if defined(LATENTBUS_HAVE_AVX2)
  if (CpuHasAvx2()) return internal::Xxh3Avx2(pieces);
#endif
  return internal::Xxh3Portable(pieces);
}

}  // namespace latentbus::codec
