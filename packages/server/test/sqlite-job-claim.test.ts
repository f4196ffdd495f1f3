import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { SqliteBackend } from '../src/storage/sqlite-backend'

describe('SQLite job claims', () => {
  let dir = ''
  let backend: SqliteBackend | null = null
  afterEach(async () => {
    await backend?.close()
    backend = null
    rmSync(dir, { recursive: true, force: true })
  })

  it('a look that finds nothing due does not wait for another connection writing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardfile-job-claim-'))
    const path = join(dir, 'cardfile.sqlite')
    backend = createSqliteBackend({ path, busyTimeoutMs: 50 })
    const writer = new Database(path)
    writer.pragma('busy_timeout = 50')
    try {
      // Another connection (the commit thread, a second process) holds the write lock.
      writer.prepare('BEGIN IMMEDIATE').run()
      await expect(backend.jobs.claim(['export'], 'w1', 1000)).resolves.toBeNull()
      writer.prepare('COMMIT').run()
      // Something due: the claim takes the lock and the job.
      const job = await backend.jobs.enqueue({ kind: 'export', workspace: 'ws', input: null })
      await expect(backend.jobs.claim(['export'], 'w1', 1000)).resolves.toMatchObject({
        id: job.id,
        state: 'running',
      })
    } finally {
      writer.close()
    }
  })
})
