#include "checksum.h"

#include <cstring>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace tideflow {
namespace {

// Note [slicing-by-8]
// table[0] is the classic byte-at-a-time table for the reflected polynomial; table[k][b] is the CRC of
// byte b followed by k zero bytes, so eight input bytes fold into the CRC with eight independent lookups
// per step instead of a serial chain of eight.
struct Tables {
  uint32_t t[8][256];
  explicit Tables(uint32_t poly) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
};

uint32_t crc_extend(const Tables& T, uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    lo ^= c;
    c = T.t[7][lo & 0xff] ^ T.t[6][(lo >> 8) & 0xff] ^ T.t[5][(lo >> 16) & 0xff] ^ T.t[4][lo >> 24] ^
        T.t[3][hi & 0xff] ^ T.t[2][(hi >> 8) & 0xff] ^ T.t[1][(hi >> 16) & 0xff] ^ T.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = T.t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
// SSE4.2 has a CRC-32C instruction: 8 bytes per cycle, several times the table method. Checkpoints of
// large variables checksum every byte they write and read.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  for (; n && (reinterpret_cast<uintptr_t>(p) & 7); --n) c = _mm_crc32_u8((uint32_t)c, *p++);
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
  }
  for (; n; --n) c = _mm_crc32_u8((uint32_t)c, *p++);
  return ~(uint32_t)c;
}
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  static const bool hw = __builtin_cpu_supports("sse4.2");
  if (hw) return crc32c_sse42(crc, static_cast<const uint8_t*>(data), n);
#endif
  static const Tables tables(0x82f63b78u);  // Castagnoli, reflected
  return crc_extend(tables, crc, data, n);
}

uint32_t crc32_ieee_extend(uint32_t crc, const void* data, size_t n) {
  static const Tables tables(0xedb88320u);  // IEEE 802.3, reflected
  return crc_extend(tables, crc, data, n);
}

uint32_t adler32_extend(uint32_t adler, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t a = adler & 0xffff, b = adler >> 16;
  while (n > 0) {
    // 5552 is the most bytes that can be summed before b may overflow 32 bits (zlib's NMAX).
    size_t k = n < 5552 ? n : 5552;
    n -= k;
    while (k--) {
      a += *p++;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b << 16) | a;
}

}  // namespace tideflow
