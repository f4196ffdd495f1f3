import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createWalCheckpointer } from '../src/storage/wal-checkpointer'
import { tempDir } from './storage-helpers'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c()
})

/** A WAL database and a commit that adds about 16 pages to the log. */
function database(): { db: Database.Database; commit: () => void; mainFileSize: () => number } {
  const { dir, cleanup } = tempDir('cardfile-wal-')
  const path = join(dir, 'cardfile.db')
  const db = new Database(path)
  cleanups.push(cleanup, () => db.close())
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)')
  const insert = db.prepare('INSERT INTO t (data) VALUES (?)')
  const commit = db.transaction(() => {
    for (let i = 0; i < 16; i++) insert.run(Buffer.alloc(3000, i))
  })
  return { db, commit: () => commit.immediate(), mainFileSize: () => statSync(path).size }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('WAL checkpoints between commits', () => {
  it('leaves the commits themselves without a checkpoint, however long the log grows', () => {
    const { db, commit, mainFileSize } = database()
    const before = mainFileSize()
    createWalCheckpointer(db, { everyCommits: 1_000, idleMs: 60_000 }).stop()
    // Past SQLite's own 1,000-page threshold, which would have copied the log into the file.
    for (let i = 0; i < 100; i++) commit()
    expect(mainFileSize()).toBe(before)
  })

  it('checkpoints on the next turn once enough commits have been answered', async () => {
    const { db, commit, mainFileSize } = database()
    const before = mainFileSize()
    const checkpoints = createWalCheckpointer(db, { everyCommits: 3, idleMs: 60_000 })
    for (let i = 0; i < 3; i++) {
      commit()
      checkpoints.committed()
    }
    // Not inside the commit that reached the count: after it was answered.
    expect(mainFileSize()).toBe(before)
    await nextTurn()
    expect(mainFileSize()).toBeGreaterThan(before + 40 * 4096)
    checkpoints.stop()
  })

  it('checkpoints a while after the last commit when few follow it', async () => {
    const { db, commit, mainFileSize } = database()
    const before = mainFileSize()
    const checkpoints = createWalCheckpointer(db, { everyCommits: 1_000, idleMs: 30 })
    commit()
    checkpoints.committed()
    await nextTurn()
    expect(mainFileSize()).toBe(before)
    await expect.poll(mainFileSize, { timeout: 2_000 }).toBeGreaterThan(before + 10 * 4096)
    checkpoints.stop()
  })
})
