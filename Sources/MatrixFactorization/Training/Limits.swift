import RatingData

/// The largest jobs mf takes, checked before anything large is allocated.
///
/// - users and items: at most 2,147,483,646 each (dense indices are `Int32`; the reader stops
///   at the next new id with a line-numbered error);
/// - rank: 1 … 4096 (``TrainingOptions/validate()``);
/// - ratings: as many as memory holds; the file is read whole, so a file larger than the memory
///   the process may use is refused before it is read;
/// - the factor tables: (users + items) × (rank + 1) floats, held several times during a fit
///   (see ``factorTableCopies(_:)``), must fit in the memory the process may use
///   (``MemoryBudget``), or the fit is refused with the size it would need.
public enum Limits {
  /// How many copies of the factor tables a fit with `options` holds at once, at the least:
  /// the live tables, and the model's copy at the end (or, during an epoch, the epoch's start,
  /// kept to undo it); with divergence retries, the fit's start too; with early stopping, the
  /// best epoch's; for SGD, its slot-ordered working copy. (Measured: 20,100 rows at rank 4096,
  /// SGD, 4 copies of 314 MiB: peak RSS 1,283 MiB.)
  public static func factorTableCopies(_ options: TrainingOptions) -> Int {
    var copies = 2
    if options.divergenceRetries > 0 { copies += 1 }
    if options.earlyStopPatience != nil { copies += 1 }
    if options.algorithm == .sgd { copies += 1 }
    return copies
  }

  /// Refuses a fit whose factor tables cannot fit in the memory the process may use, before
  /// they are allocated, naming the size they would need.
  static func checkFactorTables(users: Int, items: Int, options: TrainingOptions) throws(MFError) {
    let rows = users + items
    let (perCopy, o1) = rows.multipliedReportingOverflow(by: (options.rank + 1) * 4)
    let copies = factorTableCopies(options)
    let (needed, o2) = perCopy.multipliedReportingOverflow(by: copies)
    let available = MemoryBudget.availableBytes
    if o1 || o2 || needed > available {
      throw .insufficientMemory(
        what: "the factor tables of \(users) users and \(items) items at rank \(options.rank) (\(copies) copies of \(MemoryBudget.describe(o1 ? Int.max : perCopy)) during the fit)",
        needed: o1 || o2 ? Int.max : needed, available: available,
        remedy: Remedy(.rank, larger: false))
    }
  }
}
