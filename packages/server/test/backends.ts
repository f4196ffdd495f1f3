import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Backend } from '../src/backend'
import { createMemoryBackend } from '../src/storage/memory-backend'
import { createPostgresBackend } from '../src/storage/postgres-backend'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { openPgDatabase } from '../src/storage/postgres-database'
import type { PgDatabase } from '../src/storage/postgres-database'
import { migrate } from '../src/storage/sqlite-schema'
import { dropSchema, freshSchema, openTestDatabase, postgresUrl } from './postgres-test-db'
import { tempDir } from './storage-helpers'

/** A fresh backend and what removes it (the backend's files or schema too). */
export interface OpenBackend {
  readonly backend: Backend
  /**
   * Every stored byte that could hold a document, to search for what must be gone: SQLite's
   * files (main, WAL and shared memory), PostgreSQL's document rows, memory's parts of `doc`.
   */
  bytesAtRest(doc: string): Promise<Buffer>
  cleanup(): Promise<void>
}

/**
 * Every backend engine, for the stores' contract suites: `describe.each(backends)` runs a suite
 * once per engine, each test on a fresh, empty backend. SQLite opens a file in a temporary
 * folder, as a server does (an export snapshot needs a second connection to it); PostgreSQL a
 * schema of its own in this run's test database.
 */
export const backends: [string, () => Promise<OpenBackend>][] = [
  [
    'memory',
    async () => {
      const backend = createMemoryBackend()
      return {
        backend,
        bytesAtRest: async (doc) => Buffer.concat(await backend.documents.load(doc)),
        cleanup: () => backend.close(),
      }
    },
  ],
  [
    'SQLite',
    async () => {
      const { dir, cleanup } = tempDir('cardfile-contract-')
      const backend = createSqliteBackend({ path: join(dir, 'cardfile.db'), logger: silent })
      return {
        backend,
        bytesAtRest: async () =>
          Buffer.concat(
            readdirSync(dir)
              .filter((name) => name.startsWith('cardfile.db'))
              .map((name) => readFileSync(join(dir, name))),
          ),
        cleanup: async () => {
          await backend.close()
          cleanup()
        },
      }
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = freshSchema()
      const backend = await createPostgresBackend({
        url: postgresUrl(),
        schema,
        maxConnections: 4,
        logger: silent,
      })
      return {
        backend,
        bytesAtRest: async () => {
          const db = await openPgDatabase({ url: postgresUrl(), schema })
          try {
            const rows = await db.rows<{ data: Buffer }>(
              'SELECT data FROM updates UNION ALL SELECT data FROM snapshots',
            )
            return Buffer.concat(rows.map((r) => r.data))
          } finally {
            await db.close()
          }
        },
        cleanup: async () => {
          await backend.close()
          await dropSchema(schema)
        },
      }
    },
  ],
]

const silent = { warn: () => undefined, error: () => undefined }

/** One store of a contract suite, fresh and empty, with what closes it. */
export interface OpenStore<Store> {
  readonly store: Store
  close(): unknown
}

/**
 * One store on every engine, for a store's own contract suite (`describe.each`): memory,
 * SQLite in memory (migrated) and PostgreSQL on a schema of its own in this run's database.
 *
 * @example
 * describe.each(storeEngines({ memory: () => createMemoryJobStore(now), ... }))('%s', ...)
 */
export function storeEngines<Store>(make: {
  readonly memory: () => Store
  readonly sqlite: (db: Database.Database) => Store
  readonly postgres: (db: PgDatabase) => Store
}): [string, () => Promise<OpenStore<Store>>][] {
  return [
    ['memory', async () => ({ store: make.memory(), close: () => undefined })],
    [
      'SQLite',
      async () => {
        const db = new Database(':memory:')
        migrate(db)
        return { store: make.sqlite(db), close: () => db.close() }
      },
    ],
    [
      'PostgreSQL',
      async () => {
        const { db, cleanup } = await openTestDatabase()
        return { store: make.postgres(db), close: cleanup }
      },
    ],
  ]
}
