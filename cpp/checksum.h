#pragma once
// Checksums for the files tideflow writes: CRC-32C (Castagnoli) frames TFRecord event files; the IEEE
// CRC-32 and Adler-32 belong to PNG chunks and zlib streams (image summaries).
#include <cstddef>
#include <cstdint>

#include "export.h"

namespace tideflow {

// CRC-32C of data[0..n), continuing from `crc` (0 to start). Slicing-by-8 over tables built once.
TF_API uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

// TFRecord stores CRCs rotated and offset, so that a CRC of data that itself holds CRCs stays well mixed.
inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

// IEEE 802.3 CRC-32 (zlib's crc32), continuing from `crc` (0 to start).
TF_API uint32_t crc32_ieee_extend(uint32_t crc, const void* data, size_t n);
// Adler-32 (zlib's adler32), continuing from `adler` (1 to start).
TF_API uint32_t adler32_extend(uint32_t adler, const void* data, size_t n);

}  // namespace tideflow
