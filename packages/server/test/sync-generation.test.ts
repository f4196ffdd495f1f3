import { join } from 'node:path'
import { createMemoryBackend } from '@cardfile/server/memory'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { tempDir } from './storage-helpers'
import {
  connectRaw,
  connectSynced,
  expectPoll,
  fieldValue,
  makeToken,
  startSeededServer,
  startServer,
  syncUpdateMessage,
} from './sync-helpers'

const ANA = { role: 'agent' as const, userId: 'ana' }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

const start = async (options: Parameters<typeof startSeededServer>[0] = {}) => {
  const t = await startSeededServer(options)
  cleanups.push(() => t.close())
  return t
}

describe('the store generation on the wire', () => {
  it('says the generation in a hello before its sync step 1 to Cardfile clients', async () => {
    const { server, backend } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const client = await connectSynced(server, 'demo/contact/c1', token)
    cleanups.push(() => client.close())
    expect(client.hellos).toEqual([await backend.generation()])
    expect(client.types[0]).toBe(103)
    expect(client.types.indexOf(0)).toBeGreaterThan(0)
  })

  it('sends no hello to a stock y-websocket client, which syncs as before', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const stock = await connectSynced(server, 'demo/contact/c1', token, { cardfile: false })
    cleanups.push(() => stock.close())
    expect(stock.types).not.toContain(103)
    expect(stock.doc.getMap('profile').get('channel')).toBe('email')
  })

  it('closes a client whose cache names another generation with 4409 and applies nothing it sent', async () => {
    const { server, backend } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const stale = await connectRaw(server, 'demo/contact/c9', token, { generation: 'old-store' })
    cleanups.push(() => stale.close())
    // The stale cache's whole state, sent at once as a client replying to sync step 1 would.
    const cached = new Y.Doc()
    cached.getMap('custom').set('note', fieldValue('ghost', ANA))
    stale.send(syncUpdateMessage(Y.encodeStateAsUpdate(cached)))

    const closed = await stale.closed
    expect(closed).toEqual({ code: 4409, reason: 'stale-generation' })
    expect(stale.hellos).toEqual([await backend.generation()])
    expect(stale.types).toEqual([103])
    expect(await backend.documents.load('demo/contact/c9')).toEqual([])
    expect(await server.host.read('demo/contact/c9', (doc) => doc.getMap('custom').size)).toBe(0)
  })

  it('accepts a client whose cache names the current generation', async () => {
    const { server, backend } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const client = await connectSynced(server, 'demo/contact/c1', token, {
      generation: await backend.generation(),
    })
    cleanups.push(() => client.close())
    client.doc.getMap('custom').set('note', fieldValue('kept', ANA))
    await expectPoll(() => client.saved())
    expect(client.closeInfo).toBeNull()
  })

  it('gives each memory store a generation of its own', async () => {
    const a = createMemoryBackend()
    const b = createMemoryBackend()
    expect(await a.generation()).not.toBe(await b.generation())
    expect(await a.generation()).toBe(await a.generation())
  })

  it('keeps the SQLite generation across a restart of the server on the same file', async () => {
    const { dir, cleanup } = tempDir('cardfile-generation-')
    cleanups.push(cleanup)
    const path = join(dir, 'cardfile.db')
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const helloOf = async (): Promise<string | undefined> => {
      const backend = createSqliteBackend({ path })
      const t = await startServer({ backend })
      try {
        const client = await connectSynced(t.server, 'demo/contact/c1', token)
        client.close()
        return client.hellos[0]
      } finally {
        await t.close()
        await backend.close()
      }
    }
    const first = await helloOf()
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(await helloOf()).toBe(first)
  })
})
