import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { sqliteSearchWarmup } from '../src/search/sqlite-search-warmup'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { migrate } from '../src/storage/sqlite-schema'
import { indexContact } from './contract-helpers'
import { contactRow, tempDir } from './storage-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs a read-ahead to its end; the number of slices it read. */
function runToEnd(step: () => boolean): number {
  let slices = 0
  while (step()) {
    slices += 1
    if (slices > 100_000) throw new Error('the read-ahead does not end')
  }
  return slices
}

describe('SQLite search read-ahead', () => {
  it('reads every block of the words index and the name index a slice at a time, then ends', async () => {
    const { dir, cleanup } = tempDir('cardfile-search-warmup-')
    cleanups.push(cleanup)
    const path = join(dir, 'cardfile.db')
    const backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
    cleanups.push(() => backend.close())
    for (let i = 0; i < 400; i += 1) {
      await indexContact(
        backend,
        contactRow('w1', `c${i}`, {
          // Every fifth without a name: the name index holds them too, and the read-ahead
          // passes over them.
          values: i % 5 === 0 ? { note: `n${i}` } : { whatsapp_name: `Name${i % 37} Last${i}` },
        }),
      )
    }
    const db = new Database(path, { readonly: true })
    cleanups.push(() => {
      db.close()
    })
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n
    const wordBlocks = count('SELECT count(*) AS n FROM contact_search_data')
    const named = count('SELECT count(*) AS n FROM contacts WHERE sort_name IS NOT NULL')
    expect(named).toBe(320)

    // A block per slice, and forty index entries: each block of the words a slice of its own,
    // then the entries of the name index and of the search rows' index forty by forty.
    const slices = runToEnd(sqliteSearchWarmup(db, 1))
    expect(slices).toBeGreaterThanOrEqual(wordBlocks + Math.floor(named / 41))
    expect(slices).toBeLessThanOrEqual(wordBlocks + Math.ceil(named / 40) + 400 / 40)
    // Large slices: the same ground in a few steps.
    expect(runToEnd(sqliteSearchWarmup(db))).toBeLessThanOrEqual(4)
  })

  it('has nothing to read in a file from before search existed', () => {
    const { dir, cleanup } = tempDir('cardfile-search-warmup-old-')
    cleanups.push(cleanup)
    const db = new Database(join(dir, 'old.db'))
    cleanups.push(() => {
      db.close()
    })
    migrate(db, 12)
    expect(runToEnd(sqliteSearchWarmup(db))).toBe(0)
  })

  it('leaves a backend that reads ahead at open committing and closing as one that does not', async () => {
    const { dir, cleanup } = tempDir('cardfile-search-warmup-open-')
    cleanups.push(cleanup)
    const path = join(dir, 'cardfile.db')
    for (const warmSearchIndex of [true, false, true]) {
      const backend = createSqliteBackend({ path, warmSearchIndex })
      for (let i = 0; i < 50; i += 1) {
        await indexContact(backend, contactRow('w1', `c${i}`, { values: { whatsapp_name: 'Ann' } }))
      }
      const page = await backend.index.searchContacts('w1', { text: 'an', limit: 5 })
      expect(page.items).toHaveLength(5)
      await backend.close()
    }
  })
})
