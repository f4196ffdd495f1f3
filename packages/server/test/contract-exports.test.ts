import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { ContactSnapshot } from '../src/exports/export-store'
import { backends } from './backends'
import { indexContact } from './contract-helpers'
import { contactRow } from './storage-helpers'

/** Every chunk a snapshot gives, up to and including the first empty one. */
function drain(snapshot: ContactSnapshot, max: number): string[][] {
  const chunks: string[][] = []
  for (let i = 0; i < 100; i++) {
    const chunk = snapshot.next(max)
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

  beforeEach(() => {
    ;({ backend, cleanup } = open())
  })

  afterEach(async () => {
    for (const s of opened.splice(0)) s.close()
    await cleanup()
  })

  const snapshot = (
    workspace: string,
    from: number | null = null,
    to: number | null = null,
  ): ContactSnapshot => {
    const s = backend.exports.openContactSnapshot(workspace, { from, to })
    opened.push(s)
    return s
  }

  /** The ids of a whole snapshot, read in one chunk. */
  const idsIn = (workspace: string, from: number | null, to: number | null): string[] => {
    const s = snapshot(workspace, from, to)
    const ids = s.next(1000).map((r) => r.id)
    expect(s.total).toBe(ids.length)
    s.close()
    return ids
  }

  it('holds nothing for a workspace without contacts', () => {
    const s = snapshot('w1')
    expect(s.total).toBe(0)
    expect(s.next(10)).toEqual([])
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

    const s = snapshot('w1')
    expect(s.total).toBe(5)
    const first = s.next(2)
    // Equal createdAt (a, b, c) is broken by id; the rows come back as they were indexed.
    expect(first).toEqual([rows[2], rows[3]])
    expect(drain(s, 2)).toEqual([['b', 'c'], ['late'], []])
    expect(s.next(2)).toEqual([])
    expect(s.total).toBe(5)
  })

  it('returns a full final chunk and then an empty one when max divides the total', async () => {
    for (let i = 1; i <= 4; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const s = snapshot('w1')
    expect(drain(s, 2)).toEqual([['c1', 'c2'], ['c3', 'c4'], []])
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

    expect(idsIn('w1', 20, 30)).toEqual(['t20', 't25'])
    expect(idsIn('w1', 20, null)).toEqual(['t20', 't25', 't30', 't40'])
    expect(idsIn('w1', null, 30)).toEqual(['t10', 't20', 't25'])
    expect(idsIn('w1', null, null)).toEqual(['t10', 't20', 't25', 't30', 't40'])
    expect(idsIn('w1', 25, 26)).toEqual(['t25'])
    expect(idsIn('w1', 30, 30)).toEqual([])
    expect(idsIn('w1', 40, 10)).toEqual([])
    expect(idsIn('w1', 41, null)).toEqual([])
  })

  it("holds only the workspace's own contacts", async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 1 }))
    await indexContact(backend, contactRow('w2', 'c2', { createdAt: 2 }))
    await indexContact(backend, contactRow('w2', 'c1', { createdAt: 3 }))

    expect(idsIn('w1', null, null)).toEqual(['c1'])
    expect(idsIn('w2', null, null)).toEqual(['c2', 'c1'])
    expect(idsIn('w3', null, null)).toEqual([])
  })

  it('leaves out contacts appended after it opened and shows changed ones as they were', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 10 }))
    await indexContact(backend, contactRow('w1', 'c2', { createdAt: 20 }))

    const s = snapshot('w1')
    await indexContact(backend, contactRow('w1', 'c0', { createdAt: 5 }))
    await indexContact(backend, contactRow('w1', 'c3', { createdAt: 30 }))
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 10, vip: true, hint: 'new' }))

    expect(s.total).toBe(2)
    const rows = s.next(10)
    expect(rows.map((r) => r.id)).toEqual(['c1', 'c2'])
    expect(rows[0]).toMatchObject({ vip: false, hint: 'hint-c1' })
    expect(s.next(10)).toEqual([])

    // A snapshot opened afterwards sees the changes.
    const later = snapshot('w1')
    expect(later.total).toBe(4)
    const now = later.next(10)
    expect(now.map((r) => r.id)).toEqual(['c0', 'c1', 'c2', 'c3'])
    expect(now[1]).toMatchObject({ vip: true, hint: 'new' })
  })

  it('keeps later chunks to the view it opened with while contacts are written between chunks', async () => {
    for (let i = 1; i <= 4; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i * 10 }))
    }
    const s = snapshot('w1')
    expect(s.next(2).map((r) => r.id)).toEqual(['c1', 'c2'])

    await indexContact(backend, contactRow('w1', 'c2b', { createdAt: 25 }))
    await indexContact(backend, contactRow('w1', 'c5', { createdAt: 50 }))
    await indexContact(backend, contactRow('w1', 'c4', { createdAt: 40, vip: true }))

    const rest = s.next(10)
    expect(rest.map((r) => r.id)).toEqual(['c3', 'c4'])
    expect(rest[1]?.vip).toBe(false)
  })

  it('closes idempotently, before or after reading everything', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { createdAt: 1 }))
    await indexContact(backend, contactRow('w1', 'c2', { createdAt: 2 }))

    const unread = snapshot('w1')
    unread.close()
    unread.close()

    const read = snapshot('w1')
    expect(read.next(1).map((r) => r.id)).toEqual(['c1'])
    read.close()
    expect(() => read.close()).not.toThrow()

    // Closed snapshots leave the store usable: writes and a new snapshot see everything.
    await indexContact(backend, contactRow('w1', 'c3', { createdAt: 3 }))
    expect(idsIn('w1', null, null)).toEqual(['c1', 'c2', 'c3'])
  })

  it('keeps several open snapshots independent of each other', async () => {
    for (let i = 1; i <= 3; i++) {
      await indexContact(backend, contactRow('w1', `c${i}`, { createdAt: i }))
    }
    const one = snapshot('w1')
    await indexContact(backend, contactRow('w1', 'c4', { createdAt: 4 }))
    const two = snapshot('w1')

    expect(one.next(2).map((r) => r.id)).toEqual(['c1', 'c2'])
    expect(two.next(3).map((r) => r.id)).toEqual(['c1', 'c2', 'c3'])
    one.close()
    expect(two.next(3).map((r) => r.id)).toEqual(['c4'])
    expect([one.total, two.total]).toEqual([3, 4])
  })
})
