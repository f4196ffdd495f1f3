import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { Backend } from '../src/backend'
import { tempDir } from './storage-helpers'
import type { TestServer } from './sync-helpers'
import {
  connectSynced,
  expectPoll,
  fieldValue,
  loadFromStorage,
  makeToken,
  seedDemo,
  startServer,
} from './sync-helpers'

const ANA = { role: 'agent' as const, userId: 'ana' }
const DOC = 'demo/contact/c1'

let servers: TestServer[] = []
let backend: Backend | null = null
let cleanup: (() => void) | null = null
afterEach(async () => {
  for (const s of servers) await s.close()
  await backend?.close()
  cleanup?.()
  servers = []
  backend = null
  cleanup = null
})

const valueOf = (doc: Y.Doc, key: string): unknown =>
  (doc.getMap('custom').get(key) as { value: unknown } | undefined)?.value

describe('compaction with garbage collection, over real sockets', () => {
  it('drops an overwritten value from the document and a refused one from the files, and lets a client that was offline across it converge', async () => {
    const temp = tempDir('cardfile-compaction-')
    cleanup = temp.cleanup
    backend = createSqliteBackend({ path: join(temp.dir, 'cardfile.db'), compactDelayMs: 60_000 })
    const first = await startServer({ backend })
    servers.push(first)
    await seedDemo(first.server)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const writer = await connectSynced(first.server, DOC, token)
    const offline = await connectSynced(first.server, DOC, token)

    writer.doc.getMap('custom').set('note', fieldValue('Zebra-991', ANA))
    // A refused value: compensated by the server, it must not stay at rest either.
    writer.doc.getMap('custom').set('plan', fieldValue('platinum', ANA))
    await expectPoll(() => writer.refusals.length > 0 && writer.saved())
    await expectPoll(
      () =>
        valueOf(offline.doc, 'note') === 'Zebra-991' && valueOf(offline.doc, 'plan') === 'silver',
    )
    // The offline client keeps its replica, overwritten value included, and edits it.
    offline.close()
    await offline.closed
    for (let i = 0; i < 20; i++) writer.doc.getMap('custom').set('note', fieldValue(`n${i}`, ANA))
    writer.doc.getMap('custom').set('note', fieldValue('current', ANA))
    await expectPoll(() => writer.saved())
    offline.doc.getMap('custom').set('plan', fieldValue('gold', ANA))

    const files = (): Buffer =>
      Buffer.concat(
        readdirSync(temp.dir)
          .filter((name) => name.startsWith('cardfile.db'))
          .map((name) => readFileSync(join(temp.dir, name))),
      )
    // The document's own rows: the value history keeps overwritten values on purpose (who
    // changed what, until the contact is erased), so the files as a whole still hold them there.
    const documentRows = (): Buffer => {
      const db = new Database(join(temp.dir, 'cardfile.db'), { readonly: true })
      try {
        const rows = db
          .prepare<[string, string], { data: Buffer }>(
            'SELECT data FROM updates WHERE doc = ? UNION ALL SELECT data FROM snapshots WHERE doc = ?',
          )
          .all(DOC, DOC)
        return Buffer.concat(rows.map((row) => row.data))
      } finally {
        db.close()
      }
    }
    expect(documentRows().includes(Buffer.from('Zebra-991'))).toBe(true)
    expect(await backend.documents.compact(DOC)).toBe(true)
    expect(documentRows().includes(Buffer.from('Zebra-991'))).toBe(false)
    // A refused value never entered the history: compaction leaves it in no file at all.
    expect(files().includes(Buffer.from('platinum'))).toBe(false)

    // A new server instance loads the document from the compacted snapshot only.
    writer.close()
    await first.close()
    servers = []
    const second = await startServer({ backend })
    servers.push(second)
    const back = await connectSynced(second.server, DOC, token, { doc: offline.doc })
    const watcher = await connectSynced(second.server, DOC, token)
    await expectPoll(() => valueOf(watcher.doc, 'plan') === 'gold' && back.saved())
    expect(back.refusals).toEqual([])
    expect(valueOf(back.doc, 'note')).toBe('current')
    expect(back.doc.getMap('custom').toJSON()).toEqual(watcher.doc.getMap('custom').toJSON())
    const stored = await loadFromStorage(backend, DOC)
    expect(stored.getMap('custom').toJSON()).toEqual(back.doc.getMap('custom').toJSON())
    back.close()
    watcher.close()
  })

  it('compacts a contact once its last client leaves, so an overwritten value leaves its rows', async () => {
    const temp = tempDir('cardfile-unload-')
    cleanup = temp.cleanup
    const path = join(temp.dir, 'cardfile.db')
    // Neither the delay of the over-limit path nor the quiet period: only the unload compacts.
    backend = createSqliteBackend({ path, compactDelayMs: 3_600_000, compactIdleMs: 3_600_000 })
    const started = await startServer({ backend })
    servers.push(started)
    await seedDemo(started.server)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const writer = await connectSynced(started.server, DOC, token)
    writer.doc.getMap('custom').set('note', fieldValue('Kiwi-3141', ANA))
    for (let i = 0; i < 5; i++) writer.doc.getMap('custom').set('note', fieldValue(`n${i}`, ANA))
    await expectPoll(() => writer.saved())
    const rows = (): { updates: number; bytes: Buffer } => {
      const db = new Database(path, { readonly: true })
      try {
        const parts = db
          .prepare<[string, string], { data: Buffer; kind: string }>(
            `SELECT data, 'update' AS kind FROM updates WHERE doc = ?
             UNION ALL SELECT data, 'snapshot' AS kind FROM snapshots WHERE doc = ?`,
          )
          .all(DOC, DOC)
        return {
          updates: parts.filter((p) => p.kind === 'update').length,
          bytes: Buffer.concat(parts.map((p) => p.data)),
        }
      } finally {
        db.close()
      }
    }
    expect(rows().bytes.includes(Buffer.from('Kiwi-3141'))).toBe(true)
    expect(rows().updates).toBeGreaterThan(0)

    writer.close()
    await writer.closed
    await expectPoll(() => rows().updates === 0)
    expect(rows().bytes.includes(Buffer.from('Kiwi-3141'))).toBe(false)
    const stored = await loadFromStorage(backend, DOC)
    expect(valueOf(stored, 'note')).toBe('n4')
  })
})
