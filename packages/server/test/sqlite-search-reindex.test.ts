import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { SqliteBackendOptions } from '../src/storage/sqlite-backend'
import { contactDoc, indexContact } from './contract-helpers'
import { contactRow, tempDir } from './storage-helpers'

const quiet = { warn: () => {}, error: () => {} }
/** Longer than any test: only a search, a compaction or the close re-indexes. */
const NEVER = 600_000

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function open(options: Partial<SqliteBackendOptions> = {}): {
  backend: Backend
  path: string
  reopen: (more?: Partial<SqliteBackendOptions>) => Backend
} {
  const { dir, cleanup } = tempDir('cardfile-reindex-')
  cleanups.push(cleanup)
  const path = join(dir, 'cardfile.db')
  const reopen = (more: Partial<SqliteBackendOptions> = {}): Backend => {
    const backend = createSqliteBackend({ path, logger: quiet, ...options, ...more })
    cleanups.push(() => backend.close())
    return backend
  }
  return { backend: reopen(), path, reopen }
}

/** Reads the file with a connection of its own. */
function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true })
  try {
    return read(db)
  } finally {
    db.close()
  }
}

/** True when either full-text index holds `word` in its pages. */
const indexHolds = (path: string, word: string): boolean =>
  inspect(path, (db) =>
    (
      db
        .prepare(
          `SELECT block FROM contact_search_data WHERE block IS NOT NULL
           UNION ALL SELECT block FROM contact_search_keys_data WHERE block IS NOT NULL`,
        )
        .all() as { block: Buffer }[]
    ).some((b) => b.block.includes(word)),
  )

const staleRows = (path: string): number =>
  inspect(path, (db) => {
    const row = db.prepare('SELECT count(*) AS n FROM contact_search_stale').get() as { n: number }
    return row.n
  })

const fileHolds = (path: string, word: string): boolean =>
  ['', '-wal'].some((s) => existsSync(path + s) && readFileSync(path + s).includes(word))

const named = (name: string) =>
  contactRow('w1', 'c1', { values: { email_name: name, plan: 'gold' }, createdAt: 1_000 })

async function found(backend: Backend, text: string): Promise<string[]> {
  return (await backend.index.searchContacts('w1', { text, limit: 10 })).items.map((r) => r.id)
}

describe('SQLite search re-indexing after edits', () => {
  it('finds an edited contact by its new words and not by its old ones once the edit is acknowledged', async () => {
    const { backend, path } = open({ searchReindexMs: NEVER })
    await indexContact(backend, named('Ann Lee'))
    await indexContact(backend, contactRow('w1', 'c2', { values: { email_name: 'Bob Lee' } }))
    await indexContact(backend, named('Ann Quokka'))
    // The edit's commit left the index behind its row: the search catches it up first.
    expect(staleRows(path)).toBe(1)
    expect(await found(backend, 'quokka')).toEqual(['c1'])
    expect(await found(backend, 'lee')).toEqual(['c2'])
    expect(staleRows(path)).toBe(0)
    // Edited back to what the index held: still right, and nothing is left stale.
    await indexContact(backend, named('Ann Lee'))
    expect((await found(backend, 'lee')).sort()).toEqual(['c1', 'c2'])
    expect(await found(backend, 'quokka')).toEqual([])
    expect(staleRows(path)).toBe(0)
  })

  it('takes an overwritten word out of the index soon after the edit, with no search asking', async () => {
    const { backend, path } = open({ searchReindexMs: 200 })
    await indexContact(backend, named('Ann Wombatique'))
    await indexContact(backend, named('Ann Other'))
    // The control: the old word is still in the index's pages right after the edit.
    expect(indexHolds(path, 'wombatique')).toBe(true)
    await expect.poll(() => indexHolds(path, 'wombatique'), { timeout: 5_000 }).toBe(false)
    expect(staleRows(path)).toBe(0)
  })

  it('takes overwritten words out of the index when the contact is compacted', async () => {
    const { backend, path } = open({ searchReindexMs: NEVER })
    await indexContact(backend, named('Ann Wombatique'))
    await indexContact(backend, named('Ann Other'))
    expect(indexHolds(path, 'wombatique')).toBe(true)
    expect(await backend.documents.compact(contactDoc('w1', 'c1'))).toBe(true)
    expect(indexHolds(path, 'wombatique')).toBe(false)
    expect(fileHolds(path, 'wombatique')).toBe(false)
  })

  it('leaves no word of an erased contact in the index, the stale ones included', async () => {
    const { backend, path } = open({ searchReindexMs: NEVER })
    await indexContact(backend, named('Ann Wombatique'))
    await indexContact(backend, named('Ann Zanzibarian'))
    // The index holds the first name, the row the second.
    expect(staleRows(path)).toBe(1)
    await backend.documents.erase([contactDoc('w1', 'c1')])
    await backend.documents.sealErasure()
    expect(staleRows(path)).toBe(0)
    for (const word of ['wombatique', 'zanzibarian']) {
      expect(indexHolds(path, word)).toBe(false)
      expect(fileHolds(path, word)).toBe(false)
    }
    expect(await found(backend, 'ann')).toEqual([])
  })

  it('re-indexes at close, and when the file opens again what a killed process left stale', async () => {
    const { backend, path, reopen } = open({ searchReindexMs: NEVER })
    await indexContact(backend, named('Ann Wombatique'))
    await indexContact(backend, named('Ann Other'))
    await backend.close()
    expect(staleRows(path)).toBe(0)
    expect(indexHolds(path, 'wombatique')).toBe(false)

    // A process killed between an edit and its re-index: the row ahead of the index.
    const db = new Database(path)
    db.prepare(
      "UPDATE contact_search_rows SET words = 'ann numbatical' WHERE workspace = 'w1' AND id = 'c1'",
    ).run()
    db.close()
    expect(staleRows(path)).toBe(1)
    const again = reopen()
    expect(staleRows(path)).toBe(0)
    expect(await found(again, 'numbatical')).toEqual(['c1'])
    expect(await found(again, 'other')).toEqual([])
  })
})
