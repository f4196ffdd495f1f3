import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CardfileError } from '@cardfile/core'
import { attachmentDir } from '../src/storage/attachments'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { SCHEMA_VERSION } from '../src/storage/sqlite-schema'
import type { SqliteBackend, SqliteBackendOptions } from '../src/storage/sqlite-backend'
import {
  contactRow,
  conversationRow,
  rebuild,
  recordUpdates,
  tempDir,
  updateSetting,
} from './storage-helpers'

const cleanups: (() => void | Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A fresh database path in its own temp directory, removed after the test. */
function freshPath(): { dir: string; path: string } {
  const { dir, cleanup } = tempDir('cardfile-storage-')
  cleanups.push(cleanup)
  return { dir, path: join(dir, 'cardfile.db') }
}

/** Opens a store that is closed after the test (closing twice is fine). */
function open(options: SqliteBackendOptions): SqliteBackend {
  const backend = createSqliteBackend(options)
  cleanups.push(() => backend.close())
  return backend
}

/**
 * Appends until a commit ran on the commit thread (it opens its connection in the background:
 * loading its modules from the sources takes seconds on a loaded machine).
 */
async function untilOffThread(backend: SqliteBackend): Promise<void> {
  let warm = 0
  await expect
    .poll(
      async () => {
        await backend.documents.append('w1/contact/warm', updateSetting('warm', String(warm++)))
        return backend.stats().offThreadCommits
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0)
}

/** The root map `m` of the document rebuilt from `parts`, as JSON. */
const mapOf = (parts: readonly Uint8Array[]): Record<string, unknown> =>
  rebuild(parts).getMap('m').toJSON()

const silent = { warn: () => {}, error: () => {} }

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  const error: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  )
  return error instanceof CardfileError ? error.code : `not a CardfileError: ${String(error)}`
}

/** Raw bytes of the database and its WAL and shared-memory files, as they are on disk now. */
function filesOnDisk(path: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) files.set(path + suffix, readFileSync(path + suffix))
  }
  return files
}

/** Names of the files (db, -wal, -shm) whose bytes contain `text` in UTF-8. */
const filesContaining = (files: Map<string, Buffer>, text: string): string[] =>
  [...files].filter(([, bytes]) => bytes.includes(Buffer.from(text, 'utf8'))).map(([f]) => f)

describe('SQLite storage', () => {
  it('rebuilds a document from load equal to the original', async () => {
    const { path } = freshPath()
    const backend = open({ path })
    const original = new Y.Doc()
    const updates = recordUpdates(original)
    original.getMap('profile').set('channel', 'whatsapp')
    original.getText('notes').insert(0, 'hello world')
    original.getText('notes').delete(0, 6)
    original.getArray<number>('list').push([1, 2, 3])
    original.getMap('profile').set('channel', 'email')

    for (const update of updates) await backend.documents.append('w1/contact/c1', update)

    const copy = rebuild(await backend.documents.load('w1/contact/c1'))
    expect(copy.getMap('profile').toJSON()).toEqual({ channel: 'email' })
    expect(copy.getText('notes').toString()).toBe('world')
    expect(copy.getArray('list').toJSON()).toEqual([1, 2, 3])
    expect(copy.toJSON()).toEqual(original.toJSON())
    expect(Y.encodeStateVector(copy)).toEqual(Y.encodeStateVector(original))
    expect(await backend.documents.load('w1/contact/unknown')).toEqual([])
  })

  it('commits many concurrent appends in fewer transactions, all present after reopen', async () => {
    const { path } = freshPath()
    const backend = open({ path })
    const doc = new Y.Doc()
    const updates = recordUpdates(doc)
    for (let i = 0; i < 300; i++) doc.getMap<number>('m').set(`k${i}`, i)

    await Promise.all(updates.map((u) => backend.documents.append('w1/contact/c1', u)))

    const stats = backend.stats()
    expect(stats.appends).toBe(300)
    expect(stats.commits).toBeLessThan(300)
    expect(stats.pendingAppends).toBe(0)
    await backend.close()

    const reopened = open({ path })
    const copy = rebuild(await reopened.documents.load('w1/contact/c1'))
    expect(copy.getMap('m').size).toBe(300)
    expect(copy.toJSON()).toEqual(doc.toJSON())
  })

  it('groups appends from several event-loop turns when groupCommitMs is set', async () => {
    const { path } = freshPath()
    const backend = open({ path, groupCommitMs: 200 })
    const first = backend.documents.append('w1/contact/c1', updateSetting('a', '1'))
    await new Promise((resolve) => setImmediate(resolve))
    const second = backend.documents.append('w1/contact/c2', updateSetting('b', '2'))
    expect(backend.stats().pendingAppends).toBe(2)

    await Promise.all([first, second])
    expect(backend.stats().commits).toBe(1)
  })

  it('splits a burst larger than maxGroupSize into several transactions', async () => {
    const { path } = freshPath()
    const backend = open({ path, maxGroupSize: 10 })
    const appends = Array.from({ length: 35 }, (_, i) =>
      backend.documents.append(`w1/contact/c${i}`, updateSetting('i', String(i))),
    )
    await Promise.all(appends)
    expect(backend.stats()).toMatchObject({ commits: 4, appends: 35, pendingAppends: 0 })
  })

  it('makes an acknowledged append readable by a new connection before any close', async () => {
    const { path } = freshPath()
    const backend = open({ path })
    await backend.documents.append('w1/contact/c1', updateSetting('name', 'Grace'))

    // A second connection sees only what is committed to the file. (A second store may not open
    // the file while this one holds it: a raw reader stands in for another process.)
    const other = new Database(path, { readonly: true })
    cleanups.push(() => {
      other.close()
    })
    const rows = other
      .prepare<[string], { data: Uint8Array }>('SELECT data FROM updates WHERE doc = ?')
      .all('w1/contact/c1')
    const copy = rebuild(rows.map((row) => row.data))
    expect(copy.getMap('m').get('name')).toBe('Grace')
  })

  it('rejects every append of a group whose transaction fails and keeps none of them', async () => {
    const { path } = freshPath()
    const backend = open({ path, busyTimeoutMs: 20, logger: silent })
    await backend.documents.append('w1/contact/c1', updateSetting('before', 'yes'))

    // Another connection holds the write lock, so the group's transaction cannot begin.
    const blocker = new Database(path)
    cleanups.push(() => {
      blocker.close()
    })
    blocker.exec('BEGIN IMMEDIATE')
    const results = await Promise.allSettled([
      backend.documents.append('w1/contact/c1', updateSetting('lost', '1')),
      backend.documents.append('w1/contact/c2', updateSetting('lost', '2'), contactRow('w1', 'c2')),
    ])
    blocker.exec('ROLLBACK')

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    for (const r of results) {
      expect(await codeOf(Promise.reject((r as PromiseRejectedResult).reason))).toBe('internal')
    }
    await backend.documents.append('w1/contact/c1', updateSetting('after', 'yes'))
    await backend.close()

    const reopened = open({ path })
    const copy = rebuild(await reopened.documents.load('w1/contact/c1'))
    expect(copy.getMap('m').toJSON()).toEqual({ before: 'yes', after: 'yes' })
    expect(await reopened.documents.load('w1/contact/c2')).toEqual([])
    expect(await reopened.index.findContact('w1', 'whatsapp', 'pu-c2')).toBeNull()
  })

  it('starts its commit thread with the first document write, not when it opens', async () => {
    const { path } = freshPath()
    const logged: string[] = []
    const backend = open({ path, logger: { ...silent, debug: (message) => logged.push(message) } })
    // Long enough for a thread spawned at open to load and say so.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await backend.documents.load('w1/contact/c1')).toEqual([])
    expect(logged).toEqual([])
    await untilOffThread(backend)
    expect(logged).toEqual(['storage commit thread ready'])
  })

  it('commits on a thread of its own: a commit waiting for the file leaves the event loop free and is acknowledged once done', async () => {
    const { path } = freshPath()
    const backend = open({ path, busyTimeoutMs: 10_000 })
    await untilOffThread(backend)

    // Another connection holds the write lock: the commit waits for it (busy_timeout).
    const blocker = new Database(path)
    cleanups.push(() => {
      blocker.close()
    })
    blocker.exec('BEGIN IMMEDIATE')
    let acknowledged = false
    const append = backend.documents
      .append('w1/contact/c1', updateSetting('late', 'yes'))
      .then(() => (acknowledged = true))
    let turns = 0
    const ticker = setInterval(() => turns++, 5)
    cleanups.push(() => clearInterval(ticker))
    // Timers keep firing and reads are served while the commit waits, unacknowledged.
    await expect.poll(() => turns).toBeGreaterThan(20)
    expect(backend.stats().pendingAppends).toBe(0)
    expect(mapOf(await backend.documents.load('w1/contact/c1'))).not.toHaveProperty('late')
    expect(acknowledged).toBe(false)

    blocker.exec('COMMIT')
    await append
    expect(mapOf(await backend.documents.load('w1/contact/c1'))).toMatchObject({ late: 'yes' })
  })

  it('refuses an append whose document was erased by another connection before its group committed, and commits the rest of the group', async () => {
    const { path } = freshPath()
    const backend = open({ path, busyTimeoutMs: 10_000 })
    await untilOffThread(backend)
    const blocker = new Database(path)
    cleanups.push(() => {
      blocker.close()
    })
    // The erasure holds the write lock while the group is handed to the commit thread.
    blocker.exec('BEGIN IMMEDIATE')
    blocker
      .prepare('INSERT INTO tombstones (doc, erased_at) VALUES (?, ?)')
      .run('w1/contact/gone', Date.now())
    const results = Promise.allSettled([
      backend.documents.append('w1/contact/gone', updateSetting('late', 'x')),
      backend.documents.append('w1/contact/kept', updateSetting('late', 'y')),
    ])
    await expect.poll(() => backend.stats().pendingAppends).toBe(0)
    blocker.exec('COMMIT')
    const [gone, kept] = await results
    expect(gone.status).toBe('rejected')
    expect(await codeOf(Promise.reject((gone as PromiseRejectedResult).reason))).toBe('deleted')
    expect(kept.status).toBe('fulfilled')
    expect(await backend.documents.load('w1/contact/gone')).toEqual([])
    expect(mapOf(await backend.documents.load('w1/contact/kept'))).toEqual({ late: 'y' })
  })

  it('commits on the main connection and closes cleanly when closed in the turn it opened, before its commit thread started', async () => {
    const { path } = freshPath()
    const backend = open({ path })
    const appended = backend.documents.append('w1/contact/c1', updateSetting('early', 'yes'))
    const closed = backend.close()
    await appended
    await closed
    expect(backend.stats().offThreadCommits).toBe(0)
    const reopened = open({ path })
    expect(mapOf(await reopened.documents.load('w1/contact/c1'))).toEqual({ early: 'yes' })
    // The next store on the file starts its thread once the opening turn is over.
    await untilOffThread(reopened)
  })

  it('commits pending appends on close', async () => {
    const { path } = freshPath()
    const backend = open({ path, groupCommitMs: 60_000 })
    const pending = backend.documents.append('w1/contact/c1', updateSetting('late', 'yes'))
    await backend.close()
    await pending

    const reopened = open({ path })
    expect(
      rebuild(await reopened.documents.load('w1/contact/c1'))
        .getMap('m')
        .get('late'),
    ).toBe('yes')
    expect(await codeOf(backend.documents.append('w1/contact/c1', updateSetting('x', 'y')))).toBe(
      'internal',
    )
  })

  it('records the schema version in its migrations table', async () => {
    const { path } = freshPath()
    await open({ path }).close()
    const raw = new Database(path, { readonly: true })
    const versions = raw.prepare('SELECT version FROM schema_migrations').all()
    const pragmas = { journal: raw.pragma('journal_mode', { simple: true }) }
    raw.close()
    // Every migration up to the one this code writes, each once.
    expect(versions).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })))
    expect(pragmas.journal).toBe('wal')
  })

  it('keeps the generation made with the file across reopens, and a new file gets another', async () => {
    const { path } = freshPath()
    const created = open({ path })
    const first = await created.generation()
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    await created.close()
    expect(await open({ path }).generation()).toBe(first)
    expect(await open({ path: freshPath().path }).generation()).not.toBe(first)
  })

  it('gives a restored database a new generation when asked, and keeps its data', async () => {
    const { path } = freshPath()
    const original = open({ path })
    const first = await original.generation()
    await original.documents.append('w1/contact/c1', updateSetting('name', 'Grace'))
    await original.close()
    const restored = open({ path, newGeneration: true })
    expect(await restored.generation()).not.toBe(first)
    expect(
      rebuild(await restored.documents.load('w1/contact/c1'))
        .getMap('m')
        .get('name'),
    ).toBe('Grace')
    const renewed = await restored.generation()
    await restored.close()
    expect(await open({ path }).generation()).toBe(renewed)
  })

  describe('compaction', () => {
    it('merges a document over compactAfter into its snapshot in the background', async () => {
      const { path } = freshPath()
      const backend = open({ path, compactAfter: 10, compactDelayMs: 5 })
      const doc = new Y.Doc()
      const updates = recordUpdates(doc)
      for (let i = 0; i < 25; i++) doc.getMap<number>('m').set(`k${i}`, i)

      for (const update of updates) await backend.documents.append('w1/contact/c1', update)

      await expect.poll(() => backend.stats().compactions).toBeGreaterThanOrEqual(1)
      // On a loaded machine a compaction can run before the last appends land; those go over
      // the limit again and the next background compaction takes them: wait for it.
      await expect
        .poll(async () => (await backend.documents.load('w1/contact/c1')).length)
        .toBeLessThanOrEqual(11)
      expect(mapOf(await backend.documents.load('w1/contact/c1'))).toEqual(doc.getMap('m').toJSON())

      // Past the limit once more after its compaction: compacted again.
      const compacted = backend.stats().compactions
      const more = recordUpdates(doc)
      for (let i = 0; i < 15; i++) doc.getMap<number>('m').set(`again${i}`, i)
      for (const update of more) await backend.documents.append('w1/contact/c1', update)
      await expect.poll(() => backend.stats().compactions).toBeGreaterThan(compacted)
      await expect
        .poll(async () => (await backend.documents.load('w1/contact/c1')).length)
        .toBeLessThanOrEqual(11)
      expect(mapOf(await backend.documents.load('w1/contact/c1'))).toEqual(doc.getMap('m').toJSON())
    })

    it('keeps updates committed while a compaction is merging', async () => {
      const { path } = freshPath()
      const backend = open({ path })
      const doc = new Y.Doc()
      const updates = recordUpdates(doc)
      for (let i = 0; i < 40; i++) doc.getMap<number>('m').set(`k${i}`, i)
      for (const update of updates.slice(0, 20))
        await backend.documents.append('w1/contact/c1', update)

      // Queue the racing appends first: their group commit lands between the compaction's
      // read and its write, so only the seq bound protects them.
      const racing = updates.slice(20).map((u) => backend.documents.append('w1/contact/c1', u))
      const compacted = backend.documents.compact('w1/contact/c1')
      await Promise.all([...racing, compacted])

      expect(await compacted).toBe(true)
      const parts = await backend.documents.load('w1/contact/c1')
      expect(parts).toHaveLength(1 + 20)
      expect(mapOf(parts)).toEqual(doc.getMap('m').toJSON())

      await backend.close()
      const reopened = open({ path })
      expect(mapOf(await reopened.documents.load('w1/contact/c1'))).toEqual(
        doc.getMap('m').toJSON(),
      )
    })

    it('never brings back a document erased while it was being compacted', async () => {
      const { path } = freshPath()
      const backend = open({ path })
      await backend.documents.append('w1/contact/c1', updateSetting('a', '1'))
      const compacted = backend.documents.compact('w1/contact/c1')
      await backend.documents.erase(['w1/contact/c1'])

      expect(await compacted).toBe(false)
      expect(await backend.documents.load('w1/contact/c1')).toEqual([])
    })
  })

  describe('erase', () => {
    const email = 'ada.secret-address@example.org'
    const name = 'Ada Quillfeather-Lovelace'
    const hint = '@ad***zq-hint-9431'
    const kept = 'kept-contact-marker-5521'

    it('leaves no readable copy in the database, its WAL or its shared memory', async () => {
      const { dir, path } = freshPath()
      const attachments = join(dir, 'files')
      const backend = open({ path, attachmentsDir: attachments, compactAfter: 1_000 })
      const contact = 'w1/contact/c1'
      const conversation = 'w1/conversation/v1'

      const doc = new Y.Doc()
      const updates = recordUpdates(doc)
      doc.getMap('custom').set('email', email)
      doc.getMap('custom').set('name', name)
      doc.getMap('custom').set('note', `${name} <${email}>`)
      const row = contactRow('w1', 'c1', { hint, matchValue: email })
      for (const update of updates) await backend.documents.append(contact, update, row)
      // Part of the document lives in a snapshot, part in updates.
      expect(await backend.documents.compact(contact)).toBe(true)
      doc.getMap('custom').set('phone', `${name} again`)
      await backend.documents.append(contact, updates.at(-1)!, row)
      await backend.documents.append(
        conversation,
        updateSetting('message', `hello from ${name}`),
        conversationRow('w1', 'v1', 'c1'),
      )
      await backend.documents.append(
        'w1/contact/c2',
        updateSetting('name', kept),
        contactRow('w1', 'c2'),
      )
      const folder = attachmentDir(attachments, conversation)
      mkdirSync(folder, { recursive: true })
      writeFileSync(join(folder, 'passport.txt'), email)

      // The scan can see the strings before the erase, so it would see them after.
      const before = filesOnDisk(path)
      for (const text of [email, name, hint]) expect(filesContaining(before, text)).not.toEqual([])

      await backend.documents.erase([contact, conversation])
      await backend.documents.sealErasure()

      const after = filesOnDisk(path)
      expect(after.size).toBeGreaterThanOrEqual(2)
      for (const text of [email, name, hint]) expect(filesContaining(after, text)).toEqual([])
      expect(filesContaining(after, kept)).not.toEqual([])
      expect(existsSync(folder)).toBe(false)

      expect(await codeOf(backend.documents.append(contact, updateSetting('a', 'b')))).toBe(
        'deleted',
      )
      await backend.close()
      const reopened = open({ path })
      expect(await reopened.documents.isErased(contact)).toBe(true)
      expect(await reopened.documents.load(contact)).toEqual([])
      expect(await codeOf(reopened.documents.append(conversation, updateSetting('a', 'b')))).toBe(
        'deleted',
      )
      expect(
        rebuild(await reopened.documents.load('w1/contact/c2'))
          .getMap('m')
          .get('name'),
      ).toBe(kept)
    })

    it('refuses appends still queued for a document when it is erased', async () => {
      const { path } = freshPath()
      const backend = open({ path, groupCommitMs: 60_000 })
      const queued = backend.documents.append('w1/contact/c1', updateSetting('name', name))
      const other = backend.documents.append('w1/contact/c2', updateSetting('name', kept))

      await backend.documents.erase(['w1/contact/c1'])
      expect(await codeOf(queued)).toBe('deleted')
      await backend.close()
      await other

      const files = filesOnDisk(path)
      expect(filesContaining(files, name)).toEqual([])
      expect(filesContaining(files, kept)).not.toEqual([])
    })
  })
})

describe('one writer per database file', () => {
  it('refuses a second store on a file in use, and takes over the lock of a process that is gone', async () => {
    const { dir, cleanup } = tempDir('cardfile-lock-')
    const path = join(dir, 'cardfile.db')
    try {
      const first = createSqliteBackend({ path })
      expect(() => createSqliteBackend({ path })).toThrow(/in use by another Cardfile server/)
      await first.close()
      // A killed server leaves its lock file behind, naming a process that no longer runs.
      writeFileSync(`${path}.lock`, '999999999\n')
      const next = createSqliteBackend({ path })
      await next.documents.append('w1/contact/c1', updateSetting('name', 'Grace'))
      await next.close()
      expect(existsSync(`${path}.lock`)).toBe(false)
    } finally {
      cleanup()
    }
  })

  it('starts over with an empty database when asked to reset', async () => {
    const { dir, cleanup } = tempDir('cardfile-reset-')
    const path = join(dir, 'cardfile.db')
    try {
      const first = createSqliteBackend({ path })
      await first.documents.append('w1/contact/c1', updateSetting('name', 'Grace'))
      await first.close()
      const reset = createSqliteBackend({ path, reset: true })
      expect(await reset.documents.load('w1/contact/c1')).toEqual([])
      await reset.close()
    } finally {
      cleanup()
    }
  })
})
