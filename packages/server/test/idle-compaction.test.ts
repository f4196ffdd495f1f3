import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createPostgresBackend } from '../src/storage/postgres-backend'
import { openPgDatabase } from '../src/storage/postgres-database'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { dropSchema, freshSchema, postgresUrl } from './postgres-test-db'
import { rebuild, recordUpdates, tempDir } from './storage-helpers'

const silent = { warn: () => undefined, error: () => undefined }
const DOC = 'w1/contact/c1'
const MARKER = 'overwritten-Numbat-5521'
/** Long enough that no document of a test goes quiet by itself. */
const NEVER = 3_600_000

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A handful of updates (far fewer than the compaction limit): a value, then its overwrites. */
function edits(): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  const updates = recordUpdates(doc)
  const map = doc.getMap<string>('m')
  map.set('plan', MARKER)
  for (let i = 0; i < 5; i++) map.set('plan', `plan ${i}`)
  return { doc, updates }
}

function sqliteFiles(): { path: string; bytes: () => Buffer } {
  const { dir, cleanup } = tempDir('cardfile-idle-')
  cleanups.push(cleanup)
  return {
    path: join(dir, 'cardfile.db'),
    bytes: () =>
      Buffer.concat(
        readdirSync(dir)
          .filter((name) => name.startsWith('cardfile.db'))
          .map((name) => readFileSync(join(dir, name))),
      ),
  }
}

describe('compaction of documents at rest', () => {
  it('compacts a SQLite document once it has been quiet, and the overwritten value leaves the file', async () => {
    const files = sqliteFiles()
    const backend = createSqliteBackend({
      path: files.path,
      logger: silent,
      compactDelayMs: 0,
      compactIdleMs: 300,
    })
    cleanups.push(() => backend.close())
    const { doc, updates } = edits()
    // The scan finds the marker in the file before a compaction (see the next test), so its
    // absence here means something.
    await Promise.all(updates.map((u) => backend.documents.append(DOC, u)))
    await expect
      .poll(() => files.bytes().includes(Buffer.from(MARKER)), { timeout: 10_000 })
      .toBe(false)
    const parts = await backend.documents.load(DOC)
    expect(parts).toHaveLength(1)
    expect(rebuild(parts).getMap('m').toJSON()).toEqual({ plan: 'plan 4' })
    expect(parts[0]!.byteLength).toBeLessThanOrEqual(Y.encodeStateAsUpdate(doc).byteLength * 1.1)
  })

  it('keeps the updates of a SQLite document until it has been quiet', async () => {
    const files = sqliteFiles()
    const backend = createSqliteBackend({ path: files.path, logger: silent, compactIdleMs: NEVER })
    cleanups.push(() => backend.close())
    const { updates } = edits()
    for (const u of updates) await backend.documents.append(DOC, u)
    expect(await backend.documents.load(DOC)).toHaveLength(updates.length)
    expect(backend.stats().compactions).toBe(0)
    expect(files.bytes().includes(Buffer.from(MARKER))).toBe(true)
  })

  it('compacts what a previous process left uncompacted soon after a SQLite file opens', async () => {
    const files = sqliteFiles()
    const first = createSqliteBackend({ path: files.path, logger: silent, compactIdleMs: NEVER })
    const { updates } = edits()
    for (const u of updates) await first.documents.append(DOC, u)
    await first.close()
    expect(files.bytes().includes(Buffer.from(MARKER))).toBe(true)

    const second = createSqliteBackend({
      path: files.path,
      logger: silent,
      compactDelayMs: 0,
      compactIdleMs: NEVER,
    })
    cleanups.push(() => second.close())
    await expect
      .poll(() => files.bytes().includes(Buffer.from(MARKER)), { timeout: 10_000 })
      .toBe(false)
    const parts = await second.documents.load(DOC)
    expect(parts).toHaveLength(1)
    expect(rebuild(parts).getMap('m').toJSON()).toEqual({ plan: 'plan 4' })
  })

  it('compacts a PostgreSQL document once it has been quiet', async () => {
    const schema = freshSchema()
    const backend = await createPostgresBackend({
      url: postgresUrl(),
      schema,
      maxConnections: 2,
      logger: silent,
      compactDelayMs: 0,
      compactIdleMs: 300,
    })
    cleanups.push(() => dropSchema(schema))
    cleanups.push(() => backend.close())
    const stored = async (): Promise<Buffer> => {
      const db = await openPgDatabase({ url: postgresUrl(), schema })
      try {
        const rows = await db.rows<{ data: Buffer }>(
          'SELECT data FROM updates UNION ALL SELECT data FROM snapshots',
        )
        return Buffer.concat(rows.map((r) => r.data))
      } finally {
        await db.close()
      }
    }
    const { updates } = edits()
    await Promise.all(updates.map((u) => backend.documents.append(DOC, u)))

    await expect
      .poll(async () => (await stored()).includes(Buffer.from(MARKER)), { timeout: 10_000 })
      .toBe(false)
    const parts = await backend.documents.load(DOC)
    expect(parts).toHaveLength(1)
    expect(rebuild(parts).getMap('m').toJSON()).toEqual({ plan: 'plan 4' })
  })
})
