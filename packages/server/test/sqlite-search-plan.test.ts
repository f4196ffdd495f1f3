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
    'walking the order, giving up and reading the matches under a first word',
    { few: 0, partition: 0, walkBudget: 3, readByName: 25 },
  ],
  [
    'walking the order, giving up and reading every match',
    { few: 0, partition: 0, walkBudget: 3, readByName: 0, firstWords: 0 },
  ],
]

/**
 * Contacts whose words begun by a short text gather under a few names: many names start with
 * it (their own tier, left out of the others), and the other matches live in one city that
 * goes with two late first names, in runs of last names, VIP or not, on two plans.
 */
function gatheredContacts(): ContactIndexRow[] {
  const firsts = ['Amir', 'Anna', 'Anton', 'Bea', 'Carl', 'Mona', 'Zed']
  const lasts = ['Aho', 'Berg', 'Lund', 'Nyberg', 'Stone']
  const rows: ContactIndexRow[] = []
  let i = 0
  for (const first of firsts) {
    for (const last of lasts) {
      for (let k = 0; k < 6; k += 1) {
        i += 1
        const late = first === 'Mona' || first === 'Zed'
        const values: Record<string, string> = {
          whatsapp_name: k === 5 && first === 'Carl' ? first : `${first} ${last}`,
          city: late && last !== 'Berg' ? 'Antwerp' : 'Oslo',
          plan: k % 2 === 0 ? 'gold' : 'silver',
        }
        rows.push(
          contactRow('w1', `g${i}`, {
            values,
            vip: k % 3 === 0,
            createdAt: 1_000 + (i % 7),
            updatedAt: 2_000 + (i % 5),
          }),
        )
      }
    }
  }
  // Without a name, and matching: they come last by name.
  for (let k = 0; k < 4; k += 1) {
    i += 1
    rows.push(contactRow('w1', `g${i}`, { channel: 'sms', values: { city: 'Antwerp' } }))
  }
  return rows
}

/** A SQLite file holding `rows` in its index, and a read-only connection for the searches. */
interface IndexedFile {
  readonly backend: SqliteBackend
  readonly reader: Database.Database
  close(): Promise<void>
}

async function indexedFile(prefix: string, rows: Iterable<ContactIndexRow>): Promise<IndexedFile> {
  const t = tempDir(prefix)
  const path = join(t.dir, 'cardfile.db')
  const backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
  for (const row of rows) await indexContact(backend, row)
  const reader = new Database(path, { readonly: true })
  registerSearchFunctions(reader)
  return {
    backend,
    reader,
    async close() {
      reader.close()
      await backend.close()
      t.cleanup()
    },
  }
}

describe('SQLite search plans where matches gather under some names', () => {
  let file: IndexedFile
  let reader: Database.Database
  const rows = gatheredContacts()

  beforeAll(async () => {
    file = await indexedFile('cardfile-search-gathered-', rows)
    reader = file.reader
  })

  afterAll(() => file.close())

  it.each(TUNINGS)(
    'pages a short prefix by name and by relevance, alone and with filters, as the reference does when %s',
    (_name, tuning) => {
      const search = createSqliteSearch(reader, tuning)
      const filters: Omit<ContactSearchQuery, 'limit' | 'text'>[] = [
        {},
        { vip: true },
        { attributes: [{ attributeId: 'plan', op: 'eq', value: 'gold' }] },
        { vip: false, attributes: [{ attributeId: 'city', op: 'eq', value: 'Antwerp' }] },
      ]
      let pages = 0
      for (const text of ['a', 'an', 'ant', 'anna', 'anna a', 'carl', 'mo']) {
        for (const filter of filters) {
          for (const sort of ['name', 'relevance'] as const) {
            for (const limit of [3, 8]) {
              pages += comparePages(search, rows, 'w1', { ...filter, text, sort }, limit)
            }
          }
        }
      }
      expect(pages).toBeGreaterThan(150)
    },
    120_000,
  )
})

describe('SQLite search plans', () => {
  let file: IndexedFile
  let backend: SqliteBackend
  let reader: Database.Database
  const current = new Map<string, ContactIndexRow>()

  beforeAll(async () => {
    const next = random(7)
    for (let i = 0; i < 200; i += 1) {
      const row = contactOf(next, `c${i}`, 0)
      current.set(`${row.workspace}/${row.id}`, row)
    }
    file = await indexedFile('cardfile-search-plan-', current.values())
    ;({ backend, reader } = file)
  })

  afterAll(() => file.close())

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
    // The plans below read the file directly: a search through the backend first brings the
    // full-text indexes up to the edits, as it does before every search it runs.
    await backend.index.searchContacts('w1', { limit: 1 })
    for (const [, tuning] of TUNINGS) {
      const search = createSqliteSearch(reader, tuning)
      const queries = random(31)
      for (let q = 0; q < 30; q += 1) {
        comparePages(search, current.values(), 'w1', queryOf(queries), 8)
      }
    }
  }, 120_000)
})
