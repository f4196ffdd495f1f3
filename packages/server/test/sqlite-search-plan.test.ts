import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { ChannelId } from '@cardfile/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkSearch } from '../src/search/contact-search-query'
import type { AttributeFilter, ContactSearchQuery } from '../src/search/contact-search-query'
import { searchInMemory } from '../src/search/memory-search'
import { registerSearchFunctions } from '../src/search/sqlite-search'
import { createSqliteSearch } from '../src/search/sqlite-search-plan'
import type { SqliteSearch, SqliteSearchTuning } from '../src/search/sqlite-search-plan'
import type { ContactIndexRow } from '../src/storage/index-store'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { SqliteBackend } from '../src/storage/sqlite-backend'
import { contactDoc, indexContact } from './contract-helpers'
import { contactRow, tempDir } from './storage-helpers'

/** A seeded pseudo-random sequence (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const FIRST = ['Ann', 'Anna', 'Annika', 'Bo', 'Bob', 'Cleo', 'José', 'Zoë', 'Ann Lee']
const LAST = ['Lee', 'Leeds', 'Berg', 'Bergman', 'Annan', 'Åström', 'Gold']
const PLANS = ['gold', 'silver', 'Gold', 'bronze']
const CHANNELS: readonly ChannelId[] = ['whatsapp', 'email', 'x', 'sms']
const NAME_ATTRIBUTE: Record<string, string> = {
  whatsapp: 'whatsapp_name',
  email: 'email_name',
  x: 'x_display_name',
  sms: 'note',
}

/**
 * Contacts whose words, names, exact values, filters and keys collide often: tiers, ties on
 * the sort keys and contacts without a name, in two workspaces.
 */
function contactOf(next: () => number, id: string, version: number): ContactIndexRow {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  const channel = pick(CHANNELS)
  const name = `${pick(FIRST)} ${pick(LAST)}`
  const values: Record<string, string> = {
    plan: pick(PLANS),
    // Whole numbers, mostly; decimals, leading zeros, negatives, minus zero and no number.
    seats:
      next() < 0.8
        ? String(Math.floor(next() * 30))
        : pick(['007', '12.5', '-0', '-3', 'many', '9.5', '0']),
  }
  // sms contacts have no name attribute of their own: some contacts sort unnamed.
  values[NAME_ATTRIBUTE[channel]!] = next() < 0.15 ? pick(PLANS) : name
  if (next() < 0.3) values.note = pick(['gold', 'ann', 'Asked about Annual billing', 'bo'])
  return contactRow(next() < 0.85 ? 'w1' : 'w2', id, {
    channel,
    platformUserId: `${id}@example.org`,
    vip: next() < 0.25,
    values,
    // Few distinct instants: ties that only the id breaks.
    createdAt: 1_000 + Math.floor(next() * 40),
    updatedAt: 2_000 + Math.floor(next() * 40) + version,
  })
}

function queryOf(next: () => number): Omit<ContactSearchQuery, 'limit'> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  const texts = [
    undefined,
    'a',
    'an',
    'ann',
    'ann l',
    'ann lee',
    'anna',
    'b',
    'bo',
    'gold',
    'Zoë',
    'jose',
    'astrom',
    'example',
    'ann annan',
    'c12',
    'nobody',
  ]
  const filters: AttributeFilter[][] = [
    [],
    [{ attributeId: 'plan', op: 'eq', value: 'gold' }],
    [{ attributeId: 'seats', op: 'range', min: '5', max: '20' }],
    [{ attributeId: 'seats', op: 'range', min: '7.5' }],
    [{ attributeId: 'seats', op: 'range', min: '0', max: '9.5' }],
    [{ attributeId: 'note', op: 'contains', value: 'ANN' }],
  ]
  return {
    text: pick(texts),
    channel: next() < 0.3 ? pick(CHANNELS) : undefined,
    vip: next() < 0.3 ? next() < 0.5 : undefined,
    attributes: pick(filters),
    sort: pick(['relevance', 'created', 'updated', 'name'] as const),
  }
}

/** Every page of a search on SQLite, compared page by page with the in-memory reference. */
function comparePages(
  search: SqliteSearch,
  rows: Iterable<ContactIndexRow>,
  ws: string,
  q: Omit<ContactSearchQuery, 'limit'>,
  limit: number,
): number {
  const all = [...rows]
  let cursor: string | null = null
  let pages = 0
  do {
    const checked = checkSearch({ ...q, limit, cursor })
    const got = search(ws, checked)
    const want = searchInMemory(all, ws, checked)
    expect(
      { ids: got.items.map((r) => r.id), next: got.next },
      JSON.stringify({ ...q, limit, page: pages }),
    ).toEqual({ ids: want.items.map((r) => r.id), next: want.next })
    expect(got.items).toEqual(want.items)
    cursor = got.next
    pages += 1
  } while (cursor !== null && pages < 500)
  return pages
}

/** The plans to compare: the default, each way of reading, walking, and walking that gives up. */
const TUNINGS: [string, SqliteSearchTuning][] = [
  ['reading the few candidates', {}],
  ['reading the contacts of a channel or VIP flag', { few: 0 }],
  ['walking the order', { few: 0, partition: 0 }],
  [
    'walking the order, giving up and looking at first words',
    { few: 0, partition: 0, walkBudget: 3, readByName: 0 },
  ],
  [
    'walking the order, giving up and reading every match',
    { few: 0, partition: 0, walkBudget: 3, readByName: 0, firstWords: 0 },
  ],
]

describe('SQLite search plans', () => {
  let backend: SqliteBackend
  let reader: Database.Database
  let cleanup: () => void
  const current = new Map<string, ContactIndexRow>()

  beforeAll(async () => {
    const t = tempDir('cardfile-search-plan-')
    cleanup = t.cleanup
    const path = join(t.dir, 'cardfile.db')
    backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
    const next = random(7)
    for (let i = 0; i < 200; i += 1) {
      const row = contactOf(next, `c${i}`, 0)
      current.set(`${row.workspace}/${row.id}`, row)
      await indexContact(backend, row)
    }
    reader = new Database(path, { readonly: true })
    registerSearchFunctions(reader)
  })

  afterAll(async () => {
    reader.close()
    await backend.close()
    cleanup()
  })

  it.each(TUNINGS)(
    'finds the same pages as the reference when %s',
    (_name, tuning) => {
      const search = createSqliteSearch(reader, tuning)
      const next = random(11)
      let pages = 0
      for (let q = 0; q < 60; q += 1) {
        const query = queryOf(next)
        pages += comparePages(
          search,
          current.values(),
          q % 5 === 0 ? 'w2' : 'w1',
          query,
          3 + Math.floor(next() * 8),
        )
      }
      // The control: the queries do page through results, not just empty answers.
      expect(pages).toBeGreaterThan(100)
    },
    120_000,
  )

  it('stays in step with updated and erased contacts on every plan', async () => {
    const next = random(23)
    const ids = [...current.keys()]
    for (let i = 0; i < 60; i += 1) {
      const key = ids[Math.floor(next() * ids.length)]!
      const old = current.get(key)
      if (old === undefined) continue
      if (i % 3 === 0) {
        await backend.documents.erase([contactDoc(old.workspace, old.id)])
        current.delete(key)
      } else {
        const row = { ...contactOf(next, old.id, i + 1), workspace: old.workspace }
        current.set(key, row)
        await indexContact(backend, row)
      }
    }
    await backend.documents.sealErasure()
    for (const [, tuning] of TUNINGS) {
      const search = createSqliteSearch(reader, tuning)
      const queries = random(31)
      for (let q = 0; q < 30; q += 1) {
        comparePages(search, current.values(), 'w1', queryOf(queries), 8)
      }
    }
  }, 120_000)
})
