import { join } from 'node:path'
import type { Backend } from '../src/backend'
import { createMemoryBackend } from '../src/storage/memory-backend'
import { createPostgresBackend } from '../src/storage/postgres-backend'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { dropSchema, freshSchema, postgresUrl } from './postgres-test-db'
import { tempDir } from './storage-helpers'

/** A fresh backend and what removes it (the backend's files or schema too). */
export interface OpenBackend {
  readonly backend: Backend
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
      return { backend, cleanup: () => backend.close() }
    },
  ],
  [
    'SQLite',
    async () => {
      const { dir, cleanup } = tempDir('cardfile-contract-')
      const backend = createSqliteBackend({ path: join(dir, 'cardfile.db'), logger: silent })
      return {
        backend,
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
        cleanup: async () => {
          await backend.close()
          await dropSchema(schema)
        },
      }
    },
  ],
]

const silent = { warn: () => undefined, error: () => undefined }
