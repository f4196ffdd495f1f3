import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { portOf, serve, tempDir } from './cli-process'
import { connectSynced, fieldValue } from './sync-helpers'

const ANA = { role: 'admin' as const, userId: 'ana' }
const EDITS = 500

describe('cardfile serve, SIGTERM', () => {
  it('acknowledges and stores every change it took in before SIGTERM, closes clients with 1001 and exits 0', async () => {
    const data = join(tempDir(), 'shutdown.db')
    const { child, output, exited } = serve(['--port', '0', '--data', data, '--demo'])
    const port = await portOf(output)
    await expect.poll(() => /ana \(admin\): (\S+)/.exec(output())?.[1]).toBeDefined()
    const token = /ana \(admin\): (\S+)/.exec(output())![1]!
    const client = await connectSynced(
      { wsUrl: `ws://127.0.0.1:${port}` },
      'demo/contact/shutdown',
      token,
    )
    // A burst of edits, each its own update; the signal comes once the first is acknowledged,
    // with the others in flight.
    for (let i = 1; i <= EDITS; i++) {
      client.doc.getMap('custom').set('notes', fieldValue(`edit ${i}`, ANA))
    }
    await expect.poll(() => client.acks.length).toBeGreaterThan(0)
    child.kill('SIGTERM')
    const closed = await client.closed
    const acksAtClose = client.acks.length
    expect(closed.code).toBe(1001)
    expect(await exited).toEqual({ code: 0, signal: null })
    expect(client.refusals).toEqual([])
    expect(acksAtClose).toBeGreaterThan(0)

    // The file holds exactly what the last acknowledgement covers: every change taken in was
    // committed and acknowledged before the close, and none stored went unacknowledged.
    const backend = createSqliteBackend({ path: data })
    try {
      const stored = new Y.Doc()
      for (const update of await backend.documents.load('demo/contact/shutdown')) {
        Y.applyUpdate(stored, update)
      }
      expect(Y.decodeStateVector(Y.encodeStateVector(stored))).toEqual(
        Y.decodeStateVector(client.acks.at(-1)!),
      )
      const sent = Y.decodeStateVector(Y.encodeStateVector(client.doc)).get(client.doc.clientID)
      const kept = Y.decodeStateVector(Y.encodeStateVector(stored)).get(client.doc.clientID)
      expect(kept).toBeGreaterThan(0)
      expect(kept).toBeLessThanOrEqual(sent!)
    } finally {
      await backend.close()
    }
  }, 30_000)
})
