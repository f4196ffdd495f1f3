import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type {
  ContactLinkLogEntry,
  ContactLinkRecord,
  LinkAuthor,
  RelinkChunk,
} from '../src/linking/link-store'
import type { Page } from '../src/storage/index-store'
import { backends } from './backends'
import { codeOf, contactDoc, indexContact } from './contract-helpers'
import { contactRow } from './storage-helpers'

const admin: LinkAuthor = { role: 'admin', userId: 'u-admin' }
const agent: LinkAuthor = { role: 'agent', userId: 'u-agent' }

const link = (
  workspace: string,
  a: string,
  b: string,
  over: Partial<Omit<ContactLinkRecord, 'workspace' | 'a' | 'b'>> = {},
): ContactLinkRecord => ({
  workspace,
  a,
  b,
  kind: 'link',
  subject: b,
  by: admin,
  at: 1_000,
  ...over,
})

const byPair = (x: ContactLinkRecord, y: ContactLinkRecord): number =>
  `${x.a}\u0000${x.b}` < `${y.a}\u0000${y.b}` ? -1 : 1

/** What a log entry says, without its store-assigned seq. */
const said = (e: ContactLinkLogEntry): string => `${e.action} ${e.a}-${e.b} ${e.subject} @${e.at}`

/** Reads every page of a contact's link log, checking no page is larger than the limit. */
async function allPages(
  read: (cursor: string | null) => Promise<Page<ContactLinkLogEntry>>,
  limit: number,
): Promise<ContactLinkLogEntry[][]> {
  const pages: ContactLinkLogEntry[][] = []
  let cursor: string | null = null
  do {
    const page: Page<ContactLinkLogEntry> = await read(cursor)
    expect(page.items.length).toBeLessThanOrEqual(limit)
    pages.push([...page.items])
    cursor = page.next
  } while (cursor !== null && pages.length < 100)
  return pages
}

const cursorOf = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')

/** The matching value the tests compute: the lower-cased email, or null without one. */
const emailMatch = (values: Readonly<Record<string, string>>): string | null =>
  values.email === undefined ? null : values.email.toLowerCase()

describe.each(backends)('%s link storage', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })

  afterEach(() => cleanup())

  /** Runs a whole re-link of a workspace in chunks, returning every chunk. */
  async function relinkAll(
    workspace: string,
    limit: number,
    compute: (values: Readonly<Record<string, string>>) => string | null = emailMatch,
  ): Promise<RelinkChunk[]> {
    const chunks: RelinkChunk[] = []
    let after: string | null = null
    do {
      const chunk: RelinkChunk = await backend.links.recomputeMatchValues(
        workspace,
        compute,
        after,
        limit,
      )
      chunks.push(chunk)
      after = chunk.last
    } while (after !== null && chunks.length < 100)
    return chunks
  }

  it("replaces a pair's record on a second putLink and logs both writes", async () => {
    await backend.links.putLink(link('w1', 'c1', 'c2', { at: 10 }))
    const unlink = link('w1', 'c1', 'c2', { kind: 'unlink', subject: 'c1', by: agent, at: 20 })
    await backend.links.putLink(unlink)

    expect(await backend.links.linksOf('w1', ['c1'])).toEqual([unlink])
    expect(await backend.links.linksOf('w1', ['c2'])).toEqual([unlink])

    const log = await backend.links.linkLog('w1', 'c1', { limit: 10 })
    expect(log.next).toBeNull()
    expect(log.items.map(said)).toEqual(['unlink c1-c2 c1 @20', 'link c1-c2 c2 @10'])
    expect(log.items[0]).toMatchObject({ workspace: 'w1', by: agent })
    expect(log.items[1]).toMatchObject({ workspace: 'w1', by: admin })
  })

  it('removes a pair, resolving the removed record and logging a revert by the remover', async () => {
    const record = link('w1', 'c1', 'c2', { subject: 'c2', by: admin, at: 10 })
    await backend.links.putLink(record)

    const removed = await backend.links.removeLink('w1', 'c1', 'c2', agent, 30)

    expect(removed).toEqual(record)
    expect(await backend.links.linksOf('w1', ['c1', 'c2'])).toEqual([])
    const log = await backend.links.linkLog('w1', 'c2', { limit: 10 })
    expect(log.items.map(said)).toEqual(['revert c1-c2 c2 @30', 'link c1-c2 c2 @10'])
    expect(log.items[0]).toMatchObject({ workspace: 'w1', a: 'c1', b: 'c2', by: agent })
  })

  it('resolves null and logs nothing when removing a pair that has no record', async () => {
    await backend.links.putLink(link('w1', 'c1', 'c2'))

    expect(await backend.links.removeLink('w1', 'c1', 'c3', admin, 5)).toBeNull()
    expect(await backend.links.removeLink('w2', 'c1', 'c2', admin, 5)).toBeNull()
    expect(await backend.links.removeLink('w1', 'c1', 'c2', admin, 6)).not.toBeNull()
    expect(await backend.links.removeLink('w1', 'c1', 'c2', admin, 7)).toBeNull()

    const c1 = await backend.links.linkLog('w1', 'c1', { limit: 10 })
    expect(c1.items.map((e) => e.action)).toEqual(['revert', 'link'])
    expect((await backend.links.linkLog('w1', 'c3', { limit: 10 })).items).toEqual([])
    expect((await backend.links.linkLog('w2', 'c1', { limit: 10 })).items).toEqual([])
  })

  it('lists the current records involving any of the contacts, once each, per workspace', async () => {
    const ab = link('w1', 'a', 'b')
    const bc = link('w1', 'b', 'c', { kind: 'unlink', subject: 'c' })
    const de = link('w1', 'd', 'e')
    const elsewhere = link('w2', 'a', 'b')
    for (const r of [ab, bc, de, elsewhere]) await backend.links.putLink(r)

    expect((await backend.links.linksOf('w1', ['b'])).sort(byPair)).toEqual([ab, bc])
    expect((await backend.links.linksOf('w1', ['a', 'b', 'c'])).sort(byPair)).toEqual([ab, bc])
    expect((await backend.links.linksOf('w1', ['a', 'e'])).sort(byPair)).toEqual([ab, de])
    expect(await backend.links.linksOf('w2', ['a', 'b'])).toEqual([elsewhere])
    expect(await backend.links.linksOf('w1', ['nobody'])).toEqual([])
    expect(await backend.links.linksOf('w1', [])).toEqual([])
    expect(await backend.links.linksOf('w3', ['a'])).toEqual([])
  })

  it("pages a contact's link log newest first without repeats or gaps", async () => {
    // c1's own changes, interleaved with changes of other contacts and another workspace.
    await backend.links.putLink(link('w1', 'c1', 'c2', { at: 1 }))
    await backend.links.putLink(link('w1', 'c3', 'c4', { at: 2 }))
    await backend.links.putLink(link('w1', 'c0', 'c1', { at: 3, subject: 'c0' }))
    await backend.links.putLink(link('w2', 'c1', 'c2', { at: 4 }))
    await backend.links.putLink(link('w1', 'c1', 'c2', { at: 5, kind: 'unlink', subject: 'c1' }))
    await backend.links.removeLink('w1', 'c0', 'c1', agent, 6)
    await backend.links.removeLink('w1', 'c3', 'c4', agent, 7)
    await backend.links.putLink(link('w1', 'c1', 'c5', { at: 8, subject: 'c5' }))
    await backend.links.removeLink('w1', 'c1', 'c2', agent, 9)

    const expected = [
      'revert c1-c2 c1 @9',
      'link c1-c5 c5 @8',
      'revert c0-c1 c0 @6',
      'unlink c1-c2 c1 @5',
      'link c0-c1 c0 @3',
      'link c1-c2 c2 @1',
    ]
    const whole = await backend.links.linkLog('w1', 'c1', { limit: 100 })
    expect(whole.items.map(said)).toEqual(expected)
    expect(whole.next).toBeNull()
    const seqs = whole.items.map((e) => e.seq)
    expect([...seqs].sort((x, y) => y - x)).toEqual(seqs)
    expect(new Set(seqs).size).toBe(seqs.length)

    // Six entries in pages of four and two; then of two, where the last page is exactly full.
    const byFour = await allPages(
      (cursor) => backend.links.linkLog('w1', 'c1', { limit: 4, cursor }),
      4,
    )
    expect(byFour.map((p) => p.map(said))).toEqual([expected.slice(0, 4), expected.slice(4)])
    const byTwo = await allPages(
      (cursor) => backend.links.linkLog('w1', 'c1', { limit: 2, cursor }),
      2,
    )
    expect(byTwo.map((p) => p.map(said))).toEqual([
      expected.slice(0, 2),
      expected.slice(2, 4),
      expected.slice(4, 6),
    ])
    expect((await backend.links.linkLog('w1', 'c4', { limit: 10 })).items.map(said)).toEqual([
      'revert c3-c4 c4 @7',
      'link c3-c4 c4 @2',
    ])
  })

  it('keeps log pages stable while new link changes are logged', async () => {
    for (let i = 1; i <= 4; i++) await backend.links.putLink(link('w1', 'c1', `p${i}`, { at: i }))
    const first = await backend.links.linkLog('w1', 'c1', { limit: 2 })
    expect(first.items.map((e) => e.at)).toEqual([4, 3])

    await backend.links.putLink(link('w1', 'c1', 'p5', { at: 5 }))
    const second = await backend.links.linkLog('w1', 'c1', { limit: 2, cursor: first.next })
    expect(second.items.map((e) => e.at)).toEqual([2, 1])
    expect(second.next).toBeNull()
  })

  it('refuses a garbage cursor, a cursor of another order and a bad limit as bad requests', async () => {
    await backend.links.putLink(link('w1', 'c1', 'c2'))

    const log = (query: { limit: number; cursor?: string | null }): Promise<unknown> =>
      backend.links.linkLog('w1', 'c1', query)
    expect(await codeOf(log({ limit: 1, cursor: 'not!json' }))).toBe('bad-request')
    expect(await codeOf(log({ limit: 1, cursor: cursorOf([1, 2]) }))).toBe('bad-request')
    expect(
      await codeOf(log({ limit: 1, cursor: cursorOf({ o: 'priority', p: 1, t: 1, i: '' }) })),
    ).toBe('bad-request')
    expect(await codeOf(log({ limit: 0 }))).toBe('bad-request')
    expect(await codeOf(log({ limit: 1.5 }))).toBe('bad-request')
    expect(await codeOf(log({ limit: 1001 }))).toBe('bad-request')
    expect(
      (await backend.links.linkLog('w1', 'c1', { limit: 1, cursor: null })).items,
    ).toHaveLength(1)
  })

  it('reads contact rows by id, leaving out unknown ids and other workspaces', async () => {
    const ana = contactRow('w1', 'ana', { values: { email: 'Ana@Example.org' }, vip: true })
    const bob = contactRow('w1', 'bob', { matchValue: 'bob@example.org', createdAt: 2_000 })
    await indexContact(backend, ana)
    await indexContact(backend, bob)
    await indexContact(backend, contactRow('w2', 'cyd'))

    const rows = await backend.links.contactsByIds('w1', ['bob', 'ghost', 'ana', 'cyd'])
    expect([...rows].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([ana, bob])
    expect(await backend.links.contactsByIds('w1', [])).toEqual([])
    expect(await backend.links.contactsByIds('w1', ['ghost'])).toEqual([])
    expect(await backend.links.contactsByIds('w3', ['ana'])).toEqual([])
  })

  it('counts the contacts of each workspace', async () => {
    expect(await backend.links.countContacts('w1')).toBe(0)
    for (const id of ['a', 'b', 'c']) await indexContact(backend, contactRow('w1', id))
    await indexContact(backend, contactRow('w1', 'a', { vip: true }))
    await indexContact(backend, contactRow('w2', 'a'))

    expect(await backend.links.countContacts('w1')).toBe(3)
    expect(await backend.links.countContacts('w2')).toBe(1)
    expect(await backend.links.countContacts('w3')).toBe(0)

    await backend.documents.erase([contactDoc('w1', 'b')])
    expect(await backend.links.countContacts('w1')).toBe(2)
  })

  it('refuses a re-link chunk size that is not a positive integer and changes nothing', async () => {
    await indexContact(backend, contactRow('w1', 'a', { values: { email: 'A@x.org' } }))
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(await codeOf(backend.links.recomputeMatchValues('w1', emailMatch, null, limit))).toBe(
        'bad-request',
      )
    }
    const [row] = await backend.links.contactsByIds('w1', ['a'])
    expect(row?.matchValue).toBeNull()
  })

  it('recomputes matching values in id order, chunk by chunk, counting what changed', async () => {
    // Created out of id order; string id order puts b10 before b2.
    const ids = ['b2', 'a', 'c', 'b10', 'd']
    for (const [n, id] of ids.entries()) {
      await indexContact(
        backend,
        contactRow('w1', id, {
          createdAt: 100 - n,
          values: { email: `${id.toUpperCase()}@Example.org`, tag: id },
          // b10 already holds the value the re-link computes: read but not changed.
          matchValue: id === 'b10' ? 'b10@example.org' : `stale-${id}`,
        }),
      )
    }
    const seen: string[][] = []
    const compute = (values: Readonly<Record<string, string>>): string | null => {
      seen.at(-1)?.push(values.tag ?? '?')
      return emailMatch(values)
    }

    const chunks: RelinkChunk[] = []
    let after: string | null = null
    do {
      seen.push([])
      const chunk: RelinkChunk = await backend.links.recomputeMatchValues('w1', compute, after, 2)
      chunks.push(chunk)
      after = chunk.last
    } while (after !== null && chunks.length < 10)

    expect(seen).toEqual([['a', 'b10'], ['b2', 'c'], ['d']])
    expect(chunks).toEqual([
      { processed: 2, changed: 1, last: 'b10' },
      { processed: 2, changed: 2, last: 'c' },
      { processed: 1, changed: 1, last: null },
    ])
    const rows = await backend.links.contactsByIds('w1', ids)
    expect(Object.fromEntries(rows.map((r) => [r.id, r.matchValue]))).toEqual({
      a: 'a@example.org',
      b2: 'b2@example.org',
      b10: 'b10@example.org',
      c: 'c@example.org',
      d: 'd@example.org',
    })
    const byValue = await backend.index.listContacts('w1', {
      matchValue: 'b2@example.org',
      limit: 10,
    })
    expect(byValue.items.map((r) => r.id)).toEqual(['b2'])
  })

  it('changes nothing on a second pass and reads every contact when chunks divide exactly', async () => {
    for (const id of ['c1', 'c2', 'c3', 'c4']) {
      await indexContact(backend, contactRow('w1', id, { values: { email: `${id}@x.org` } }))
    }
    await indexContact(backend, contactRow('w1', 'c5', { matchValue: 'old' }))

    const firstPass = await relinkAll('w1', 10)
    expect(firstPass).toEqual([{ processed: 5, changed: 5, last: null }])
    const secondPass = await relinkAll('w1', 2)
    expect(secondPass.reduce((n, c) => n + c.processed, 0)).toBe(5)
    expect(secondPass.reduce((n, c) => n + c.changed, 0)).toBe(0)
    expect(secondPass.at(-1)?.last).toBeNull()

    const rows = await backend.links.contactsByIds('w1', ['c4', 'c5'])
    expect(Object.fromEntries(rows.map((r) => [r.id, r.matchValue]))).toEqual({
      c4: 'c4@x.org',
      c5: null,
    })

    // Four contacts in chunks of two: the chunk after the last full one is empty and ends.
    await backend.documents.erase([contactDoc('w1', 'c5')])
    const exact = await relinkAll('w1', 2, () => 'same')
    expect(exact.map((c) => c.processed)).toEqual([2, 2, 0])
    expect(exact.map((c) => c.changed)).toEqual([2, 2, 0])
    expect(exact.at(-1)?.last).toBeNull()
  })

  it('recomputes one workspace without reading or changing another', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { values: { email: 'A@x.org' } }))
    await indexContact(
      backend,
      contactRow('w2', 'c1', { values: { email: 'B@x.org' }, matchValue: 'kept' }),
    )
    await indexContact(backend, contactRow('w2', 'c0', { values: { email: 'C@x.org' } }))

    const read: string[] = []
    const chunk = await backend.links.recomputeMatchValues(
      'w1',
      (values) => {
        read.push(values.email ?? '?')
        return emailMatch(values)
      },
      null,
      10,
    )

    expect(chunk).toEqual({ processed: 1, changed: 1, last: null })
    expect(read).toEqual(['A@x.org'])
    expect((await backend.links.contactsByIds('w1', ['c1']))[0]?.matchValue).toBe('a@x.org')
    const w2 = await backend.links.contactsByIds('w2', ['c0', 'c1'])
    expect(Object.fromEntries(w2.map((r) => [r.id, r.matchValue]))).toEqual({
      c0: null,
      c1: 'kept',
    })
    expect(await backend.links.recomputeMatchValues('w3', emailMatch, null, 10)).toEqual({
      processed: 0,
      changed: 0,
      last: null,
    })
  })
})
