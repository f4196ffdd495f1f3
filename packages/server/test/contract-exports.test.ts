import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { ContactSnapshot } from '../src/exports/export-store'
import type { ContactIndexRow } from '../src/storage/index-store'
import { backends } from './backends'
import { codeOf, indexContact } from './contract-helpers'
import { contactRow } from './storage-helpers'

/** Every chunk a snapshot gives, up to and including the first empty one. */
async function drain(snapshot: ContactSnapshot, max: number): Promise<string[][]> {
  const chunks: string[][] = []
  for (let i = 0; i < 100; i++) {
    const chunk = await snapshot.next(max)
    expect(chunk.length).toBeLessThanOrEqual(max)
    chunks.push(chunk.map((r) => r.id))
    if (chunk.length === 0) break
  }
  return chunks
}

describe.each(backends)('%s export store', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>
  const opened: ContactSnapshot[] = []

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close()
    await cleanup()
  })

  const snapshot = async (
    workspace: string,
    from: number | null = null,
    to: number | null = null,
  ): Promise<ContactSnapshot> => {
    const s = await backend.exports.openContactSnapshot(workspace, { from, to })
    opened.push(s)
    return s
  }

  /** The ids of a whole snapshot, read in one chunk. */
  const idsIn = async (
    workspace: string,
    from: number | null,
    to: number | null,
  ): Promise<string[]> => {
    const s = await snapshot(workspace, from, to)
    const ids = (await s.next(1000)).map((r) => r.id)
    expect(s.total).toBe(ids.length)
    await s.close()
    return ids
  }

  const idsOf = async (chunk: Promise<readonly ContactIndexRow[]>): Promise<string[]> =>
    (await chunk).map((r) => r.id)

  it('holds nothing for a workspace without contacts', async () => {
    const s = await snapshot('w1')
    expect(s.total).toBe(0)
    expect(await s.next(10)).toEqual([])
  })

  it('reads every contact oldest first in chunks of at most max, then empty chunks', async () => {
    const rows = [
      contactRow('w1', 'late', { createdAt: 300, vip: true, values: { email: 'l@x.org' } }),
      contactRow('w1', 'b', { createdAt: 200, matchValue: 'm', hint: '@b***' }),
      contactRow('w1', 'first', { createdAt: 100, channel: 'email', platformUserId: 'f@x.org' }),
      contactRow('w1', 'a', { createdAt: 200, updatedAt: 250 }),
      contactRow('w1', 'c', { createdAt: 200, values: { plan: 'gold', tier: '2' } }),
    ]
    for (const row of rows) await indexContact(backend, row)

    const s = await snapshot('w1')
    expect(s.total).toBe(5)
    const first = await s.next(2)
    // Equal createdAt (a, b, c) is broken by id; the rows come back as they were indexed.
    expect(first).toEqual([rows[2], rows[3]])
    expect(await drain(s, 2)).toEqual([['b', 'c'], ['late'], []])
    expect(await s.next(2)).toEqual([])
    expect(s.total).toBe(5)
  })

  it('returns a full final chunk and then an empty one when max divides the total', async () => {
    for (let i = 1; i <= 4; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const s = await snapshot('w1')
    expect(await drain(s, 2)).toEqual([['c1', 'c2'], ['c3', 'c4'], []])
  })

  it('breaks ties of createdAt by id compared code unit by code unit, not by locale', async () => {
    // A locale collation orders these _x, -1, a, b, B, Z.
    for (const id of ['b', '_x', 'B', 'a', 'Z', '-1']) {
      await indexContact(backend, contactRow('w1', id, { createdAt: 5 }))
    }
    const s = await snapshot('w1')
    expect(await drain(s, 2)).toEqual([['-1', 'B'], ['Z', '_x'], ['a', 'b'], []])
  })

  it('holds the contacts created in [from, to), a null bound being open', async () => {
    for (const [id, createdAt] of [
      ['t10', 10],
      ['t20', 20],
      ['t25', 25],
      ['t30', 30],
      ['t40', 40],
    ] as const) {
      await indexContact(backend, contactRow('w1', id, { createdAt }))
    }

    expect(await idsIn('w1', 20, 30)).toEqual(['t20', 't25'])
    expect(await idsIn('w1', 20, null)).toEqual(['t20', 't25', 't30', 't40'])
    expect(await idsIn('w1', null, 30)).toEqual(['t10', 't20', 't25'])
    expect(await idsIn('w1', null, null)).toEqual(['t10', 't20', 't25', 't30', 't40'])
    expect(await idsIn('w1', 25, 26)).toEqual(['t25'])
    expect(await idsIn('w1', 30, 30)).toEqual([])
    expect(await idsIn('w1', 40, 10)).toEqual([])
    expect(await idsIn('w1', 41, null)).toEqual([])
  })

  it("holds only the workspace's own contacts", async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 1 }))
    await indexContact(backend, contactRow('w2', 'c2', { createdAt: 2 }))
    await indexContact(backend, contactRow('w2', 'c1', { createdAt: 3 }))

    expect(await idsIn('w1', null, null)).toEqual(['c1'])
    expect(await idsIn('w2', null, null)).toEqual(['c2', 'c1'])
    expect(await idsIn('w3', null, null)).toEqual([])
  })

  it('leaves out contacts appended after it opened and shows changed ones as they were', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 10 }))
    await indexContact(backend, contactRow('w1', 'c2', { createdAt: 20 }))

    const s = await snapshot('w1')
    await indexContact(backend, contactRow('w1', 'c0', { createdAt: 5 }))
    await indexContact(backend, contactRow('w1', 'c3', { createdAt: 30 }))
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 10, vip: true, hint: 'new' }))

    expect(s.total).toBe(2)
    const rows = await s.next(10)
    expect(rows.map((r) => r.id)).toEqual(['c1', 'c2'])
    expect(rows[0]).toMatchObject({ vip: false, hint: 'hint-c1' })
    expect(await s.next(10)).toEqual([])

    // A snapshot opened afterwards sees the changes.
    const later = await snapshot('w1')
    expect(later.total).toBe(4)
    const now = await later.next(10)
    expect(now.map((r) => r.id)).toEqual(['c0', 'c1', 'c2', 'c3'])
    expect(now[1]).toMatchObject({ vip: true, hint: 'new' })
  })

  it('keeps later chunks to the view it opened with while contacts are written between chunks', async () => {
    for (let i = 1; i <= 4; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i * 10 }))
    }
    const s = await snapshot('w1')
    expect(await idsOf(s.next(2))).toEqual(['c1', 'c2'])

    await indexContact(backend, contactRow('w1', 'c2b', { createdAt: 25 }))
    await indexContact(backend, contactRow('w1', 'c5', { createdAt: 50 }))
    await indexContact(backend, contactRow('w1', 'c4', { createdAt: 40, vip: true }))

    const rest = await s.next(10)
    expect(rest.map((r) => r.id)).toEqual(['c3', 'c4'])
    expect(rest[1]?.vip).toBe(false)
  })

  it('closes idempotently, before or after reading everything', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 1 }))
    await indexContact(backend, contactRow('w1', 'c2', { createdAt: 2 }))

    const unread = await snapshot('w1')
    await unread.close()
    await unread.close()

    const read = await snapshot('w1')
    expect(await idsOf(read.next(1))).toEqual(['c1'])
    await read.close()
    await expect(read.close()).resolves.toBeUndefined()

    // Closed snapshots leave the store usable: writes and a new snapshot see everything.
    await indexContact(backend, contactRow('w1', 'c3', { createdAt: 3 }))
    expect(await idsIn('w1', null, null)).toEqual(['c1', 'c2', 'c3'])
  })

  it('keeps several open snapshots independent of each other', async () => {
    for (let i = 1; i <= 3; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const one = await snapshot('w1')
    await indexContact(backend, contactRow('w1', 'c4', { createdAt: 4 }))
    const two = await snapshot('w1')

    expect(await idsOf(one.next(2))).toEqual(['c1', 'c2'])
    expect(await idsOf(two.next(3))).toEqual(['c1', 'c2', 'c3'])
    await one.close()
    expect(await idsOf(two.next(3))).toEqual(['c4'])
    expect([one.total, two.total]).toEqual([3, 4])
  })

  it('refuses a chunk size that is not a positive integer, and reads on afterwards', async () => {
    for (let i = 1; i <= 3; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const s = await snapshot('w1')
    for (const max of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(await codeOf(s.next(max))).toBe('bad-request')
    }
    // A refused size neither ended the snapshot nor moved it on.
    expect(await idsOf(s.next(2))).toEqual(['c1', 'c2'])
    expect(await codeOf(s.next(0))).toBe('bad-request')
    expect(await drain(s, 2)).toEqual([['c3'], []])
  })

  it('refuses to read once closed rather than answer an empty chunk', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 1 }))
    await indexContact(backend, contactRow('w1', 'c2', { createdAt: 2 }))
    const s = await snapshot('w1')
    expect(await idsOf(s.next(1))).toEqual(['c1'])
    await s.close()
    // An empty chunk would read as the end and finish a cut-off export file.
    await expect(s.next(1)).rejects.toThrow(/closed/)
  })

  it('reads consecutive chunks when reads are asked for without waiting', async () => {
    for (let i = 1; i <= 5; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const s = await snapshot('w1')
    const chunks = await Promise.all([s.next(2), s.next(2), s.next(2), s.next(2)])
    expect(chunks.map((c) => c.map((r) => r.id))).toEqual([['c1', 'c2'], ['c3', 'c4'], ['c5'], []])
  })

  it('lets a close asked for during a read wait for it, then refuses further reads', async () => {
    for (let i = 1; i <= 3; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const s = await snapshot('w1')
    const reading = s.next(2)
    const closing = s.close()
    expect(await idsOf(reading)).toEqual(['c1', 'c2'])
    await closing
    await expect(s.next(2)).rejects.toThrow(/closed/)
    expect(await idsIn('w1', null, null)).toEqual(['c1', 'c2', 'c3'])
  })
})
