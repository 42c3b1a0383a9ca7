// What a freestanding test program (no C library) still needs: the four memory functions
// the compiler may call for copies and fills, and the CPU's brand string for the harness
// (emulated_cpu.py checks that the emulated CPU is the model it asked for). Compiled with
// -fno-builtin and without loop pattern distribution, so that these loops do not become calls to
// themselves.
#include <cstddef>

extern "C" {

void* memcpy(void* out, const void* in, size_t n) {
  auto* o = static_cast<unsigned char*>(out);
  const auto* i = static_cast<const unsigned char*>(in);
  for (size_t k = 0; k < n; ++k) o[k] = i[k];
  return out;
}

void* memmove(void* out, const void* in, size_t n) {
  auto* o = static_cast<unsigned char*>(out);
  const auto* i = static_cast<const unsigned char*>(in);
  if (o < i) {
    for (size_t k = 0; k < n; ++k) o[k] = i[k];
  } else {
    for (size_t k = n; k > 0; --k) o[k - 1] = i[k - 1];
  }
  return out;
}

void* memset(void* out, int value, size_t n) {
  auto* o = static_cast<unsigned char*>(out);
  for (size_t k = 0; k < n; ++k) o[k] = static_cast<unsigned char>(value);
  return out;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t k = 0; k < n; ++k) {
    if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
  }
  return 0;
}

// The 48 bytes of CPUID leaves 0x80000002-0x80000004 into `out`.
void latentbus_cpu_brand(unsigned* out) {
  for (unsigned leaf = 0; leaf < 3; ++leaf) {
    unsigned a, b, c, d;
    __asm__ volatile("cpuid"
                     : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                     : "a"(0x80000002u + leaf), "c"(0));
    out[4 * leaf] = a;
    out[4 * leaf + 1] = b;
    out[4 * leaf + 2] = c;
    out[4 * leaf + 3] = d;
  }
}

}  // extern "C"
