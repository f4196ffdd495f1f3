import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { ContactSearchQuery } from '../src/search/contact-search-query'
import type { ContactIndexRow } from '../src/storage/index-store'
import { createPostgresBackend } from '../src/storage/postgres-backend'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { migrate } from '../src/storage/sqlite-schema'
import { backends } from './backends'
import { allPages, codeOf, contactDoc, indexContact } from './contract-helpers'
import { openTestDatabase, postgresUrl } from './postgres-test-db'
import { contactRow, tempDir } from './storage-helpers'

type SearchInput = Omit<ContactSearchQuery, 'limit'> & { readonly limit?: number }

/** The ids a search finds, in order, over every page. */
async function ids(backend: Backend, ws: string, q: SearchInput): Promise<string[]> {
  const limit = q.limit ?? 50
  const pages = await allPages(
    (cursor) => backend.index.searchContacts(ws, { ...q, limit, cursor }),
    limit,
  )
  return pages.flat().map((r) => r.id)
}

const ann = (over: Partial<ContactIndexRow> = {}): ContactIndexRow =>
  contactRow('w1', 'ann', {
    channel: 'email',
    platformUserId: 'ann.lee@example.org',
    values: { email: 'ann.lee@example.org', email_name: 'Ann Lee', plan: 'gold', seats: '12' },
    createdAt: 1_000,
    ...over,
  })

/** A small directory: names, emails, phones, handles and custom values on several channels. */
async function seed(backend: Backend): Promise<void> {
  await indexContact(backend, ann())
  await indexContact(
    backend,
    contactRow('w1', 'bob', {
      channel: 'whatsapp',
      platformUserId: '+44 20 7946 0958',
      values: { phone_number: '+44 20 7946 0958', whatsapp_name: 'Bob Annan', seats: '3' },
      vip: true,
      createdAt: 2_000,
    }),
  )
  await indexContact(
    backend,
    contactRow('w1', 'cleo', {
      channel: 'x',
      platformUserId: 'x-77',
      values: { x_handle: '@cleo_ann', x_display_name: 'Cléo Martin', plan: 'silver' },
      createdAt: 3_000,
    }),
  )
  await indexContact(
    backend,
    contactRow('w1', 'dan', {
      channel: 'sms',
      platformUserId: '+1 (555) 010-7788',
      values: {
        phone_number: '+1 (555) 010-7788',
        note: 'Asked about Annual billing',
        seats: 'many',
      },
      createdAt: 4_000,
    }),
  )
  // Same words in another workspace: never found from w1.
  await indexContact(backend, contactRow('w2', 'ann', { values: { whatsapp_name: 'Ann Lee' } }))
}

describe.each(backends)('%s contact search', (_name, factory) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await factory())
  })

  afterEach(() => cleanup())

  it('finds contacts by name prefix, email, phone, handle and any attribute value, in their workspace only', async () => {
    await seed(backend)

    expect(await ids(backend, 'w1', { text: 'ann lee' })).toEqual(['ann'])
    expect(await ids(backend, 'w1', { text: 'ann.lee@example.org' })).toEqual(['ann'])
    expect(await ids(backend, 'w1', { text: 'Cleo' })).toEqual(['cleo'])
    expect(await ids(backend, 'w1', { text: '@cleo_ann' })).toEqual(['cleo'])
    // Whole words, the last one begun: "ann" is no word of Bob Annan's.
    expect(await ids(backend, 'w1', { text: 'ann bob' })).toEqual([])
    expect(await ids(backend, 'w1', { text: 'bob ann' })).toEqual(['bob'])
    expect(await ids(backend, 'w1', { text: '442079460958' })).toEqual(['bob'])
    expect(await ids(backend, 'w1', { text: '+44 20 7946 0958' })).toEqual(['bob'])
    expect(await ids(backend, 'w1', { text: '5550107788' })).toEqual(['dan'])
    expect(await ids(backend, 'w1', { text: 'annual billing' })).toEqual(['dan'])
    expect(await ids(backend, 'w1', { text: 'silver' })).toEqual(['cleo'])
    expect(await ids(backend, 'w1', { text: 'nobody' })).toEqual([])
    expect(await ids(backend, 'w2', { text: 'ann' })).toEqual(['ann'])
  })

  it('ranks an exact value first, then a name starting with the text, then other matches newest first', async () => {
    await seed(backend)
    // 'ann' is a whole value nowhere; Ann Lee's name starts with it; Bob Annan, Cleo's handle
    // and Dan's note contain a word starting with it.
    expect(await ids(backend, 'w1', { text: 'ann' })).toEqual(['ann', 'dan', 'cleo', 'bob'])
    // A full email is an exact value of Ann only; 'bob annan' is Bob's whole name.
    expect(await ids(backend, 'w1', { text: 'Bob Annan' })).toEqual(['bob'])
    await indexContact(
      backend,
      contactRow('w1', 'eve', {
        channel: 'email',
        platformUserId: 'eve@example.org',
        values: { email_name: 'Gold Star', note: 'gold' },
        createdAt: 500,
      }),
    )
    // Eve's note is exactly "gold" (tier 2) though older; Ann's plan is "gold" too (tier 2),
    // newer, so first; no name starts with gold except Eve's.
    expect(await ids(backend, 'w1', { text: 'gold' })).toEqual(['ann', 'eve'])
  })

  it('filters by channel, VIP and attribute equals, contains and range', async () => {
    await seed(backend)

    expect(await ids(backend, 'w1', { channel: 'whatsapp' })).toEqual(['bob'])
    expect(await ids(backend, 'w1', { text: 'ann', vip: true })).toEqual(['bob'])
    expect(await ids(backend, 'w1', { text: 'ann', vip: false })).toEqual(['ann', 'dan', 'cleo'])
    const eq = { attributeId: 'plan', op: 'eq', value: 'gold' } as const
    expect(await ids(backend, 'w1', { attributes: [eq] })).toEqual(['ann'])
    expect(
      await ids(backend, 'w1', { attributes: [{ attributeId: 'plan', op: 'eq', value: 'GOLD' }] }),
    ).toEqual([])
    expect(
      await ids(backend, 'w1', {
        attributes: [{ attributeId: 'note', op: 'contains', value: 'ANNUAL B' }],
      }),
    ).toEqual(['dan'])
    // Numeric range: '12' and '3' are numbers, 'many' is not and never matches.
    expect(
      await ids(backend, 'w1', {
        attributes: [{ attributeId: 'seats', op: 'range', min: '4', max: '100' }],
      }),
    ).toEqual(['ann'])
    expect(
      await ids(backend, 'w1', { attributes: [{ attributeId: 'seats', op: 'range', max: '3' }] }),
    ).toEqual(['bob'])
    // Text range (code point order), as ISO dates compare.
    expect(
      await ids(backend, 'w1', {
        sort: 'name',
        attributes: [{ attributeId: 'plan', op: 'range', min: 'a', max: 'h' }],
      }),
    ).toEqual(['ann'])
    expect(
      await ids(backend, 'w1', {
        text: 'ann',
        channel: 'x',
        attributes: [{ attributeId: 'plan', op: 'contains', value: 'ILV' }],
      }),
    ).toEqual(['cleo'])
  })

  it('sorts by name (contacts without one last), by last update and by creation', async () => {
    await seed(backend)
    await indexContact(backend, { ...ann(), updatedAt: 9_000 })

    expect(await ids(backend, 'w1', { sort: 'name' })).toEqual(['ann', 'bob', 'cleo', 'dan'])
    expect(await ids(backend, 'w1', { sort: 'name', limit: 1 })).toEqual([
      'ann',
      'bob',
      'cleo',
      'dan',
    ])
    expect((await ids(backend, 'w1', { sort: 'updated' }))[0]).toBe('ann')
    expect(await ids(backend, 'w1', { sort: 'created' })).toEqual(['dan', 'cleo', 'bob', 'ann'])
    // Without a text there is nothing to rank: relevance is newest first.
    expect(await ids(backend, 'w1', {})).toEqual(['dan', 'cleo', 'bob', 'ann'])
  })

  it('pages through every match once while other contacts change and new ones arrive', async () => {
    const rows = Array.from({ length: 30 }, (_, i) =>
      contactRow('w1', `p${String(i).padStart(2, '0')}`, {
        platformUserId: `pu-${i}`,
        values: { whatsapp_name: `Pat ${i % 3 === 0 ? 'Smith' : `Jones ${i}`}` },
        // Ties on createdAt: the id breaks them.
        createdAt: 1_000 + (i % 7),
      }),
    )
    for (const row of rows) await indexContact(backend, row)

    for (const sort of ['relevance', 'created', 'name'] as const) {
      const seen: string[] = []
      let cursor: string | null = null
      let round = 0
      do {
        const page = await backend.index.searchContacts('w1', {
          text: 'pat',
          sort,
          limit: 4,
          cursor,
        })
        seen.push(...page.items.map((r) => r.id))
        cursor = page.next
        // Between pages: contacts already listed and not yet listed change (not their
        // words), and a new matching contact arrives.
        round += 1
        await indexContact(backend, { ...rows[(round * 7) % 30]!, updatedAt: 5_000 + round })
        await indexContact(
          backend,
          contactRow('w1', `new-${sort}-${round}`, {
            platformUserId: `new-${sort}-${round}`,
            values: { whatsapp_name: 'Pat New' },
            createdAt: 900,
          }),
        )
      } while (cursor !== null && round < 50)

      const original = seen.filter((id) => id.startsWith('p'))
      expect(new Set(seen).size).toBe(seen.length)
      expect(original.sort()).toEqual(rows.map((r) => r.id).sort())
    }
  })

  it('finds an erased contact no more', async () => {
    await seed(backend)
    await backend.documents.erase([contactDoc('w1', 'ann')])
    await backend.documents.sealErasure()

    expect(await ids(backend, 'w1', { text: 'ann' })).toEqual(['dan', 'cleo', 'bob'])
    expect(await ids(backend, 'w1', { text: 'ann.lee@example.org' })).toEqual([])
    expect(await ids(backend, 'w1', { text: 'gold' })).toEqual([])
    expect(await ids(backend, 'w2', { text: 'ann lee' })).toEqual(['ann'])
  })

  it('finds a contact by its new values after an update, and not by its old ones', async () => {
    await seed(backend)
    await indexContact(backend, ann({ values: { email_name: 'Ann Smith', plan: 'bronze' } }))

    expect(await ids(backend, 'w1', { text: 'smith' })).toEqual(['ann'])
    expect(await ids(backend, 'w1', { text: 'bronze' })).toEqual(['ann'])
    expect(await ids(backend, 'w1', { text: 'gold' })).toEqual([])
  })

  it('reads query syntax of any engine as plain words and never fails on it', async () => {
    await seed(backend)
    const hostile = [
      '"',
      'ann"',
      '"ann" OR "bob"',
      'NEAR(ann lee)',
      'ann*',
      '*',
      'words:ann',
      '{words}: ann',
      '^ann',
      '-ann',
      "ann' & 'bob",
      'ann:* | bob:*',
      '!ann',
      '\\',
      '()',
      "'); DROP TABLE contacts; --",
      '%_',
      '💥 ann',
      'ann AND lee',
    ]
    for (const text of hostile) {
      const page = await backend.index.searchContacts('w1', { text, limit: 10 })
      expect(Array.isArray(page.items), text).toBe(true)
    }
    // Operators are words: "OR" is a word no contact has, so nothing matches.
    expect(await ids(backend, 'w1', { text: '"ann" OR "bob"' })).toEqual([])
    expect(await ids(backend, 'w1', { text: 'ann"' })).toEqual(['ann', 'dan', 'cleo', 'bob'])
    expect(await ids(backend, 'w1', { text: 'words:ann' })).toEqual([])
    expect(await ids(backend, 'w1', { text: '*' })).toEqual([])
    expect(await ids(backend, 'w1', { text: "'); DROP TABLE contacts; --" })).toEqual([])
    expect(await ids(backend, 'w1', { sort: 'created' })).toHaveLength(4)
    // A filter value is compared, never interpreted.
    expect(
      await ids(backend, 'w1', {
        attributes: [{ attributeId: 'plan', op: 'contains', value: '%' }],
      }),
    ).toEqual([])
  })

  it('refuses malformed searches with bad-request', async () => {
    await seed(backend)
    const search = (q: Partial<ContactSearchQuery>): Promise<unknown> =>
      backend.index.searchContacts('w1', { limit: 10, ...q })
    const page = await backend.index.searchContacts('w1', { limit: 1, sort: 'name' })

    expect(await codeOf(search({ text: 'a'.repeat(201) }))).toBe('bad-request')
    expect(await codeOf(search({ limit: 0 }))).toBe('bad-request')
    expect(await codeOf(search({ cursor: 'garbage' }))).toBe('bad-request')
    expect(await codeOf(search({ cursor: page.next, sort: 'created' }))).toBe('bad-request')
    expect(await codeOf(search({ channel: 'fax' as never }))).toBe('bad-request')
    expect(
      await codeOf(search({ attributes: [{ attributeId: 'a"b', op: 'eq', value: 'x' }] })),
    ).toBe('bad-request')
    expect(await codeOf(search({ attributes: [{ attributeId: 'a', op: 'range' }] }))).toBe(
      'bad-request',
    )
    expect(
      await codeOf(
        search({
          attributes: Array.from({ length: 11 }, () => ({
            attributeId: 'a',
            op: 'eq' as const,
            value: 'x',
          })),
        }),
      ),
    ).toBe('bad-request')
  })
})

describe('SQLite contact search index', () => {
  it('leaves no word of an erased contact in the file, its full-text index included', async () => {
    const { dir, cleanup } = tempDir('cardfile-search-erase-')
    const path = join(dir, 'cardfile.db')
    const backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
    try {
      const secret = 'zebedeequixotic'
      await indexContact(
        backend,
        contactRow('w1', 'c1', { values: { whatsapp_name: `Ann ${secret}` } }),
      )
      await indexContact(
        backend,
        contactRow('w1', 'c2', { values: { whatsapp_name: 'Bob Other' } }),
      )
      const fileHas = (): boolean =>
        ['', '-wal'].some(
          (suffix) =>
            existsSync(path + suffix) && readFileSync(path + suffix).includes(secret.slice(0, 12)),
        )
      const ftsHas = (): boolean => {
        const db = new Database(path, { readonly: true })
        try {
          // The words' index and the whole-value keys' index.
          const blobs = db
            .prepare(
              `SELECT block FROM contact_search_data WHERE block IS NOT NULL
               UNION ALL SELECT block FROM contact_search_keys_data WHERE block IS NOT NULL`,
            )
            .all() as {
            block: Buffer
          }[]
          return blobs.some((b) => b.block.includes(secret.slice(0, 12)))
        } finally {
          db.close()
        }
      }
      // The control: the word is there, in the index's own pages, before the erasure.
      expect(ftsHas()).toBe(true)

      await backend.documents.erase([contactDoc('w1', 'c1')])
      await backend.documents.sealErasure()

      expect(ftsHas()).toBe(false)
      expect(fileHas()).toBe(false)
      expect(
        (await backend.index.searchContacts('w1', { text: 'bob', limit: 5 })).items.map(
          (r) => r.id,
        ),
      ).toEqual(['c2'])
    } finally {
      await backend.close()
      cleanup()
    }
  })

  it('indexes contacts written before search existed when the store opens', async () => {
    const { dir, cleanup } = tempDir('cardfile-search-backfill-')
    const path = join(dir, 'cardfile.db')
    const old = new Database(path)
    migrate(old, 10)
    old
      .prepare(
        `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
           values_json, created_at, updated_at) VALUES ('w1', 'c1', 'email', 'u1', 'h', 0, NULL, ?, 1, 1)`,
      )
      .run(JSON.stringify({ email: 'old.timer@example.org', email_name: 'Old Timer' }))
    old.close()
    const backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
    try {
      const page = await backend.index.searchContacts('w1', { text: 'old tim', limit: 5 })
      expect(page.items.map((r) => r.id)).toEqual(['c1'])
      const byName = await backend.index.searchContacts('w1', { sort: 'name', limit: 5 })
      expect(byName.items.map((r) => r.id)).toEqual(['c1'])
    } finally {
      await backend.close()
      cleanup()
    }
  })
})

describe('SQLite contact search upgrade', () => {
  it('derives the search data of a file indexed by the previous schema again when it opens', async () => {
    const { dir, cleanup } = tempDir('cardfile-search-upgrade-')
    const path = join(dir, 'cardfile.db')
    const old = new Database(path)
    migrate(old, 13)
    // A contact as the previous schema indexed it: keys and name on its row, words alone.
    old
      .prepare(
        `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
           values_json, created_at, updated_at, search_keys, sort_name)
         VALUES ('w1', 'c1', 'email', 'u1', 'h', 1, NULL, ?, 1, 1, ' u1 oldtimer ', 'old timer')`,
      )
      .run(JSON.stringify({ email_name: 'Old Timer', seats: '12' }))
    old
      .prepare(`INSERT INTO contact_search_rows (workspace, id, words) VALUES ('w1', 'c1', ?)`)
      .run('u1 old timer 12')
    old.close()
    const backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
    try {
      const find = async (q: Omit<ContactSearchQuery, 'limit'>): Promise<string[]> =>
        (await backend.index.searchContacts('w1', { ...q, limit: 5 })).items.map((r) => r.id)
      expect(await find({ text: 'old tim' })).toEqual(['c1'])
      expect(await find({ text: 'Old Timer' })).toEqual(['c1'])
      // Filters and names read through the new markers.
      expect(await find({ vip: true, channel: 'email', sort: 'name' })).toEqual(['c1'])
      expect(
        await find({ attributes: [{ attributeId: 'seats', op: 'range', min: '10', max: '20' }] }),
      ).toEqual(['c1'])
      expect(await find({ text: 'ol', sort: 'name' })).toEqual(['c1'])
      expect(await find({ vip: false })).toEqual([])
    } finally {
      await backend.close()
      cleanup()
    }
  })
})

describe('PostgreSQL contact search index', () => {
  it('indexes contacts written before search existed when the store opens', async () => {
    const { db, schema, cleanup } = await openTestDatabase()
    try {
      // A row as the index held it before search: no words, keys or name yet.
      await db.run(
        `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
           values_json, created_at, updated_at) VALUES ('w1', 'c1', 'email', 'u1', 'h', 0, NULL, $1, 1, 1)`,
        [JSON.stringify({ email: 'old.timer@example.org', email_name: 'Old Timer' })],
      )
      const backend = await createPostgresBackend({
        url: postgresUrl(),
        schema,
        maxConnections: 2,
        logger: { warn: () => {}, error: () => {} },
      })
      try {
        const page = await backend.index.searchContacts('w1', { text: 'old tim', limit: 5 })
        expect(page.items.map((r) => r.id)).toEqual(['c1'])
        const byName = await backend.index.searchContacts('w1', { sort: 'name', limit: 5 })
        expect(byName.next).toBeNull()
        expect(byName.items.map((r) => r.id)).toEqual(['c1'])
      } finally {
        await backend.close()
      }
    } finally {
      await cleanup()
    }
  })
})
