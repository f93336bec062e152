#include "numeric_lines.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// 10^0 … 10^15, exact in double.
static const double powers_of_ten[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static const uint64_t small_powers_of_ten[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                                100000000};

// The run of ASCII digits at *p, which it moves past: its value (wrapping beyond 19 digits;
// callers reject runs that long) and its length. Eight bytes at a time while eight are there to
// read: a word's non-digit bytes are those whose high nibble is not 3 or whose low nibble plus 6
// carries out of it, and the first of them ends the run; its digits are then combined in three
// multiplications (the SWAR conversion of Lemire, "Faster integer parsing", 2018), after shifting
// them to the top so that the bytes below read as leading zeros.
static inline int64_t digit_run(const uint8_t *bytes, int64_t *p, int64_t end, uint64_t *value) {
  uint64_t v = 0;
  int64_t count = 0;
  int64_t at = *p;
  while (end - at >= 8) {
    uint64_t word;
    memcpy(&word, bytes + at, 8);  // the file is little-endian text; x86-64 and arm64 are too
    word ^= 0x3030303030303030ULL;
    const uint64_t high = 0xF0F0F0F0F0F0F0F0ULL;
    uint64_t non_digit = (word & high) | (((word & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) & high);
    int n = non_digit == 0 ? 8 : __builtin_ctzll(non_digit) >> 3;
    if (n > 0) {
      uint64_t w = (word & 0x0F0F0F0F0F0F0F0FULL) << (8 * (8 - n));
      w = (w * 2561) >> 8;
      w = ((w & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
      w = ((w & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
      v = v * small_powers_of_ten[n] + w;
      count += n;
      at += n;
    }
    if (n < 8) {
      *p = at;
      *value = v;
      return count;
    }
  }
  while (at < end) {
    uint8_t d = (uint8_t)(bytes[at] - '0');
    if (d > 9) break;
    v = v * 10 + d;
    count += 1;
    at += 1;
  }
  *p = at;
  *value = v;
  return count;
}

// The length of the run of ASCII digits at *p, which it moves past (digit_run without the value).
static inline int64_t digit_skip(const uint8_t *bytes, int64_t *p, int64_t end) {
  int64_t at = *p;
  int64_t start = at;
  while (end - at >= 8) {
    uint64_t word;
    memcpy(&word, bytes + at, 8);
    word ^= 0x3030303030303030ULL;
    const uint64_t high = 0xF0F0F0F0F0F0F0F0ULL;
    uint64_t non_digit = (word & high) | (((word & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) & high);
    if (non_digit != 0) {
      at += __builtin_ctzll(non_digit) >> 3;
      *p = at;
      return at - start;
    }
    at += 8;
  }
  while (at < end && (uint8_t)(bytes[at] - '0') <= 9) at += 1;
  *p = at;
  return at - start;
}

// A canonical decimal id at *p followed by the delimiter, which it moves past; 0 when the field
// is anything else.
static inline int id_field(const uint8_t *bytes, int64_t *p, int64_t end, uint8_t first, uint8_t second,
                           uint64_t *key) {
  int64_t start = *p;
  int64_t at = start;
  int64_t digits = digit_run(bytes, &at, end, key);
  if (digits == 0 || digits > 18 || (digits > 1 && bytes[start] == '0')) return 0;
  if (at >= end || bytes[at] != first) return 0;
  at += 1;
  if (second) {
    if (at >= end || bytes[at] != second) return 0;
    at += 1;
  }
  *p = at;
  return 1;
}

int64_t mf_parse_numeric_lines(const uint8_t *bytes, int64_t *position, int64_t end, int64_t stop_at,
                               uint8_t first, uint8_t second, mf_numeric_ids *users,
                               mf_numeric_ids *items, mf_rating_output *output) {
  int64_t p = *position;
  int64_t lines = 0;
  int32_t *const user_table = users->table;
  int32_t *const item_table = items->table;
  const uint64_t user_table_size = (uint64_t)users->table_size;
  const uint64_t item_table_size = (uint64_t)items->table_size;
  int64_t count = output->count;
  int64_t timestamp_count = output->timestamp_count;
  while (p < end && p < stop_at && count < output->capacity) {
    int64_t q = p;
    uint64_t user_key, item_key;
    if (!id_field(bytes, &q, end, first, second, &user_key) || user_key >= user_table_size) break;
    if (!id_field(bytes, &q, end, first, second, &item_key) || item_key >= item_table_size) break;
    // Rating: [-]digits[.digits], 1–15 digits in all (so that the mantissa is exact).
    int negative = 0;
    if (q < end && bytes[q] == '-') {
      negative = 1;
      q += 1;
    }
    uint64_t mantissa = 0;
    int64_t digits = 0;
    while (q < end && (uint8_t)(bytes[q] - '0') <= 9) {
      mantissa = mantissa * 10 + (uint8_t)(bytes[q] - '0');
      digits += 1;
      q += 1;
    }
    int64_t fraction_digits = 0;
    if (q < end && bytes[q] == '.') {
      q += 1;
      while (q < end && (uint8_t)(bytes[q] - '0') <= 9) {
        mantissa = mantissa * 10 + (uint8_t)(bytes[q] - '0');
        fraction_digits += 1;
        q += 1;
      }
    }
    if (digits + fraction_digits == 0 || digits + fraction_digits > 15) break;
    // At most 15 digits: the mantissa fits int64, whose conversion is one instruction (that of
    // uint64 is several on x86-64); exact either way.
    double rating = (double)(int64_t)mantissa;
    if (fraction_digits > 0) rating /= powers_of_ten[fraction_digits];
    if (negative) rating = -rating;
    // An optional timestamp, then the line's end.
    int has_timestamp = 0;
    int64_t timestamp = 0;
    if (q < end && bytes[q] != '\n' && bytes[q] != '\r') {
      if (bytes[q] != first) break;
      q += 1;
      if (second) {
        if (q >= end || bytes[q] != second) break;
        q += 1;
      }
      int time_negative = 0;
      if (q < end && bytes[q] == '-') {
        time_negative = 1;
        q += 1;
      }
      // Its value only when it is kept; either way its digits are checked as the Swift parser
      // checks them.
      int64_t n;
      if (output->timestamps) {
        uint64_t value;
        n = digit_run(bytes, &q, end, &value);
        timestamp = time_negative ? -(int64_t)value : (int64_t)value;
      } else {
        n = digit_skip(bytes, &q, end);
      }
      if (n == 0 || n > 18) break;
      has_timestamp = 1;
    }
    int64_t next;
    if (q == end) {
      next = end;
    } else if (bytes[q] == '\n') {
      next = q + 1;
    } else if (bytes[q] == '\r') {
      next = q + 1 < end && bytes[q + 1] == '\n' ? q + 2 : q + 1;
    } else {
      break;
    }
    // The ids, added only once the whole line is known to be read here.
    if (users->count >= users->limit || items->count >= items->limit) break;
    int32_t user = user_table[user_key];
    int32_t item = item_table[item_key];
    if ((user < 0 && users->new_count >= users->new_capacity) ||
        (item < 0 && items->new_count >= items->new_capacity))
      break;
    if (user < 0) {
      user = (int32_t)users->count++;
      user_table[user_key] = user;
      users->new_keys[users->new_count++] = (int64_t)user_key;
    }
    if (item < 0) {
      item = (int32_t)items->count++;
      item_table[item_key] = item;
      items->new_keys[items->new_count++] = (int64_t)item_key;
    }
    output->users[count] = user;
    output->items[count] = item;
    output->values[count] = (float)rating;
    if (has_timestamp) {
      if (output->timestamps) output->timestamps[count] = timestamp;
      timestamp_count += 1;
    }
    count += 1;
    lines += 1;
    p = next;
  }
  output->count = count;
  output->timestamp_count = timestamp_count;
  *position = p;
  return lines;
}

int64_t mf_count_lines(const uint8_t *bytes, int64_t count) {
  if (count <= 0) return 0;
  // Every break but a \r that begins a \r\n ends a line; the last byte ends the last line
  // whatever it is (a break, or the end of an unterminated line), hence the + 1 and the scan
  // stopping one byte short of the end. This pass runs over the whole file before the parse, so
  // it is written for SSE2 (the x86-64 baseline): 16 bytes a step, each lane's line ends counted
  // in a byte (255 steps at most) and summed with `psadbw`.
  int64_t breaks = 0;
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i carriage = _mm_set1_epi8('\r');
  while (count - 1 - i >= 16) {
    __m128i lanes = _mm_setzero_si128();
    for (int step = 0; step < 255 && count - 1 - i >= 16; step++, i += 16) {
      __m128i here = _mm_loadu_si128((const __m128i *)(bytes + i));
      __m128i next = _mm_loadu_si128((const __m128i *)(bytes + i + 1));
      __m128i ends = _mm_or_si128(_mm_cmpeq_epi8(here, newline),
                                  _mm_andnot_si128(_mm_cmpeq_epi8(next, newline), _mm_cmpeq_epi8(here, carriage)));
      lanes = _mm_sub_epi8(lanes, ends);  // a match is -1
    }
    __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    breaks += _mm_cvtsi128_si64(sums) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
  }
#endif
  for (; i + 1 < count; i++) {
    breaks += (bytes[i] == '\n') | ((bytes[i] == '\r') & (bytes[i + 1] != '\n'));
  }
  return breaks + 1;
}
