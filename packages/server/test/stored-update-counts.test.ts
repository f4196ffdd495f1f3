import { describe, expect, it } from 'vitest'
import { storedUpdateCounts } from '../src/storage/stored-update-counts'

/** A stand-in for the file: the stored updates per document, and how often it was read. */
function file() {
  const stored = new Map<string, number>()
  let reads = 0
  return {
    stored,
    reads: () => reads,
    recount: (doc: string) => {
      reads += 1
      return stored.get(doc) ?? 0
    },
    append(doc: string, n = 1) {
      stored.set(doc, (stored.get(doc) ?? 0) + n)
    },
  }
}

describe('stored update counts', () => {
  it('reads a document it does not know from the file once, then counts its appends itself', () => {
    const f = file()
    f.append('d', 3)
    const counts = storedUpdateCounts(10, f.recount)
    f.append('d')
    expect(counts.appended('d', 1)).toBe(false)
    expect(f.reads()).toBe(1)
    for (let i = 0; i < 6; i++) {
      f.append('d')
      expect(counts.appended('d', 1)).toBe(false)
    }
    expect(f.reads()).toBe(1)
    f.append('d', 2)
    // 12 stored: past the limit, which the file confirms.
    expect(counts.appended('d', 2)).toBe(true)
    expect(f.reads()).toBe(2)
  })

  it('believes the file, not its count, when the count says the limit is passed', () => {
    const f = file()
    const counts = storedUpdateCounts(10, f.recount)
    f.append('d', 8)
    expect(counts.appended('d', 8)).toBe(false)
    // Another connection erased or compacted the document: the count is too high.
    f.stored.set('d', 0)
    f.append('d', 4)
    expect(counts.appended('d', 4)).toBe(false)
    // And from the file's figure on, it counts on.
    f.append('d', 7)
    expect(counts.appended('d', 7)).toBe(true)
  })

  it('starts from the file again after a reset (a compaction)', () => {
    const f = file()
    const counts = storedUpdateCounts(10, f.recount)
    f.append('d', 11)
    expect(counts.appended('d', 11)).toBe(true)
    f.stored.set('d', 0)
    counts.reset('d')
    f.append('d')
    expect(counts.appended('d', 1)).toBe(false)
    expect(f.reads()).toBe(2)
  })
})
