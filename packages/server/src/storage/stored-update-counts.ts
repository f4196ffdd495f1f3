/**
 * How many updates each document has stored since its last compaction, as far as one writer
 * knows: kept beside the writer so that a commit need not count them in the file (a scan of
 * up to `limit` index entries, most of a small commit's cost). A count is a hint: once it
 * says a document is past the limit, `recount` reads the file, so appends by another
 * connection, an erasure or a compaction elsewhere only delay or advance that one check.
 */
export interface StoredUpdateCounts {
  /**
   * Records `appended` updates of `doc` just committed; true when the document is past the
   * limit (checked against the file).
   */
  appended(doc: string, appended: number): boolean
  /** The document was compacted (or erased): its count starts again from the file. */
  reset(doc: string): void
}

/**
 * Hints kept for at most this many documents: documents at rest are compacted (and forgotten)
 * after a quiet spell, so only the recently written ones stay; past it, all are forgotten and
 * counted again from the file when next written.
 */
const MAX_TRACKED = 10_000

/**
 * Counts over `recount(doc)`, which returns the document's stored updates (it may stop
 * counting past `limit`).
 *
 * @example
 * const counts = storedUpdateCounts(500, (doc) => countStmt.get(doc, 501)!.n)
 * if (counts.appended('acme/contact/c1', 1)) compactSoon('acme/contact/c1')
 */
export function storedUpdateCounts(
  limit: number,
  recount: (doc: string) => number,
): StoredUpdateCounts {
  const counts = new Map<string, number>()
  return {
    appended(doc, appended) {
      const known = counts.get(doc)
      // Unknown: the file's count already includes what was just committed.
      let count = known === undefined ? recount(doc) : known + appended
      if (known !== undefined && count > limit) count = recount(doc)
      if (known === undefined && counts.size >= MAX_TRACKED) counts.clear()
      counts.set(doc, count)
      return count > limit
    },
    reset(doc) {
      counts.delete(doc)
    },
  }
}
