// The rating file's common line, `user<d>item<d>rating[<d>timestamp]` with canonical decimal ids,
// parsed in C (see Sources/RatingData/RatingLineParser.swift, `LineParser.run`): the reader's
// hottest loop, where Swift's optionals, array appends and out-of-line helpers cost three times
// the parse itself. Anything this loop does not read it leaves to the Swift parser, which reads
// the same line with the same result, so the loop changes speed, never results.
#ifndef MF_NUMERIC_LINES_H
#define MF_NUMERIC_LINES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The numeric ids of one side (users or items): the direct-address table of an `IDMap`.
typedef struct {
  /// `table[key]` is the dense index of id `key`, or -1; `table_size` entries.
  int32_t *table;
  int64_t table_size;
  /// Ids known so far: the next new id gets this index.
  int64_t count;
  /// No id is added once `count` reaches this (the loop stops at such a line instead).
  int64_t limit;
  /// The keys of the ids added by this call, in order of their indices; the loop stops before
  /// a line that would add more than `new_capacity`.
  int64_t *new_keys;
  int64_t new_count;
  int64_t new_capacity;
} mf_numeric_ids;

/// Where parsed ratings go: rating n is `users[n]`, `items[n]`, `values[n]`, and `timestamps[n]`
/// when that line had one and `timestamps` is not NULL.
typedef struct {
  int32_t *users;
  int32_t *items;
  float *values;
  int64_t *timestamps;
  int64_t count;
  int64_t capacity;
  /// Lines that carried a timestamp.
  int64_t timestamp_count;
} mf_rating_output;

/// Parses lines of `bytes` from `*position` while each is a plain numeric line: a canonical
/// decimal user id (1–18 digits, no leading zero) whose key is inside the user table, the
/// delimiter (`first`, then `second` unless it is 0), the same for the item, the delimiter, a
/// rating `[-]digits[.digits]` of 1–15 digits, optionally the delimiter and a timestamp
/// `[-]digits` of 1–18 digits, then `\n`, `\r\n`, a lone `\r`, or `end`. The rating is the
/// correctly rounded quotient mantissa / 10^fraction digits in double, then rounded to float.
///
/// Stops at the first line it does not read that way (or that the tables, the output or the
/// id limit cannot take), at `end`, or at the first line starting at or after `stop_at`; that
/// line is left unread, and `*position` is its start. Returns the number of lines read.
int64_t mf_parse_numeric_lines(const uint8_t *bytes, int64_t *position, int64_t end, int64_t stop_at,
                               uint8_t first, uint8_t second, mf_numeric_ids *users,
                               mf_numeric_ids *items, mf_rating_output *output);

/// The lines of `bytes[0 ..< count]` as the reader counts them: a line ends at `\n`, `\r\n`, a
/// lone `\r`, or the end (so `count` bytes that do not end with a break hold one line more than
/// they hold breaks). 0 for no bytes. A line holds at most one rating: this bounds the ratings.
int64_t mf_count_lines(const uint8_t *bytes, int64_t count);

#ifdef __cplusplus
}
#endif

#endif
