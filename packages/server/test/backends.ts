import { join } from 'node:path'
import type { Backend } from '../src/backend'
import { createMemoryBackend } from '../src/storage/memory-backend'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { tempDir } from './storage-helpers'

/** A fresh backend and what removes it (the backend's files too). */
export interface OpenBackend {
  readonly backend: Backend
  cleanup(): Promise<void>
}

/**
 * Every backend engine, for the stores' contract suites: `describe.each(backends)` runs a suite
 * once per engine, each test on a fresh, empty backend. SQLite opens a file in a temporary
 * folder, as a server does (an export snapshot needs a second connection to it).
 */
export const backends: [string, () => OpenBackend][] = [
  [
    'memory',
    () => {
      const backend = createMemoryBackend()
      return { backend, cleanup: () => backend.close() }
    },
  ],
  [
    'SQLite',
    () => {
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
]

const silent = { warn: () => undefined, error: () => undefined }
