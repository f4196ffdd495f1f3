import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { contactDoc, indexContact } from './contract-helpers'
import { contactRow, tempDir } from './storage-helpers'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/**
 * Another connection to the file, on a thread of its own, that fills the WAL and then, when
 * told, checkpoints it (a long checkpoint: thousands of pages), as the commit thread does
 * between its commits. Resolves once that checkpoint has begun.
 */
async function checkpointingElsewhere(path: string): Promise<void> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(
    `const Database = require(${JSON.stringify(driver)})
     const { parentPort } = require('node:worker_threads')
     const db = new Database(${JSON.stringify(path)})
     db.pragma('busy_timeout = 5000')
     db.pragma('wal_autocheckpoint = 0')
     db.exec('CREATE TABLE IF NOT EXISTS ballast (data BLOB)')
     const add = db.prepare('INSERT INTO ballast (data) VALUES (?)')
     db.transaction(() => { for (let i = 0; i < 15000; i++) add.run(Buffer.alloc(4000, i % 251)) }).immediate()
     parentPort.postMessage('checkpointing')
     db.pragma('wal_checkpoint(PASSIVE)')
     db.close()`,
    { eval: true },
  )
  cleanups.push(() => new Promise((resolve) => worker.once('exit', resolve)))
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
}

describe('SQLite erasure seal', () => {
  it('seals an erasure while another connection is checkpointing the same file', async () => {
    const { dir, cleanup } = tempDir('cardfile-seal-')
    cleanups.push(cleanup)
    const path = join(dir, 'cardfile.db')
    const backend = createSqliteBackend({ path, logger: { warn: () => {}, error: () => {} } })
    cleanups.push(() => backend.close())
    await indexContact(backend, contactRow('w1', 'c1', { values: { note: 'Wombatique' } }))
    await checkpointingElsewhere(path)
    await backend.documents.erase([contactDoc('w1', 'c1')])
    // SQLite answers a checkpoint that finds another one running with busy at once.
    await expect(backend.documents.sealErasure()).resolves.toBeUndefined()
    expect(
      (await backend.index.searchContacts('w1', { text: 'wombatique', limit: 5 })).items,
    ).toEqual([])
  })
})
