#if canImport(Glibc)
  import Glibc
#endif

/// Parsers for the numbers in a rating file, working on raw bytes.
enum NumberParsing {
  /// Powers of ten exactly representable in `Double`.
  private static let exactPowersOfTen: [Double] = (0 ... 22).map { p in
    var x = 1.0
    for _ in 0 ..< p { x *= 10 }
    return x
  }

  /// Parses a decimal number (`3`, `-2.5`, `4.`, `.5`, `1e-3`), or `nil` if `bytes` is not one.
  ///
  /// Fast path (Clinger 1990): with at most 15 significant digits and a decimal exponent of at
  /// most 22 in magnitude, `mantissa ×/÷ 10^e` in `Double` is correctly rounded. Anything else
  /// (long mantissas, `nan`, `inf`, hex) goes to `strtod`, so the result is the C library's.
  @inline(__always)
  static func parseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    let n = bytes.count
    if n == 0 { return nil }
    var i = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
      negative = bytes[0] == UInt8(ascii: "-")
      i = 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var fractionDigits = 0
    var sawDigit = false
    while i < n, case let d = bytes[i] &- UInt8(ascii: "0"), d <= 9 {
      mantissa = mantissa &* 10 &+ UInt64(d)
      if mantissa != 0 { digits += 1 }
      sawDigit = true
      i += 1
    }
    if i < n && bytes[i] == UInt8(ascii: ".") {
      i += 1
      while i < n, case let d = bytes[i] &- UInt8(ascii: "0"), d <= 9 {
        mantissa = mantissa &* 10 &+ UInt64(d)
        if mantissa != 0 { digits += 1 }
        fractionDigits += 1
        sawDigit = true
        i += 1
      }
    }
    var exponent = 0
    if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) && sawDigit {
      i += 1
      var expNegative = false
      if i < n && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
        expNegative = bytes[i] == UInt8(ascii: "-")
        i += 1
      }
      var sawExpDigit = false
      while i < n, case let d = bytes[i] &- UInt8(ascii: "0"), d <= 9 {
        if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
        sawExpDigit = true
        i += 1
      }
      if !sawExpDigit { return nil }
      if expNegative { exponent = -exponent }
    }
    if i == n && sawDigit && digits <= 15 {
      let e = exponent - fractionDigits
      var value = Double(mantissa)
      if e >= 0 && e <= 22 {
        value *= exactPowersOfTen[e]
        return negative ? -value : value
      } else if e < 0 && e >= -22 {
        value /= exactPowersOfTen[-e]
        return negative ? -value : value
      }
    }
    return slowParseDouble(bytes)
  }

  /// `strtod` on a NUL-terminated copy; the whole field must be consumed.
  private static func slowParseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    if bytes.count > 400 { return nil }
    var copy = [CChar](repeating: 0, count: bytes.count + 1)
    for j in 0 ..< bytes.count {
      if bytes[j] == 0 { return nil }
      copy[j] = CChar(bitPattern: bytes[j])
    }
    return copy.withUnsafeMutableBufferPointer { buffer -> Double? in
      var end: UnsafeMutablePointer<CChar>? = nil
      let value = strtod(buffer.baseAddress!, &end)
      guard let end, end - buffer.baseAddress! == bytes.count else { return nil }
      return value
    }
  }

  /// Parses a (possibly negative) integer, or `nil` if `bytes` is not one or overflows `Int64`.
  @inline(__always)
  static func parseInt64(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    let n = bytes.count
    if n == 0 { return nil }
    var i = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
      negative = bytes[0] == UInt8(ascii: "-")
      i = 1
      if n == 1 { return nil }
    }
    var value: Int64 = 0
    while i < n {
      let d = bytes[i] &- UInt8(ascii: "0")
      if d > 9 { return nil }
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(Int64(d))
      if o1 || o2 { return nil }
      value = s
      i += 1
    }
    return negative ? -value : value
  }
}
