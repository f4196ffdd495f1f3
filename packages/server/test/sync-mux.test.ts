import { CardfileError, ErrorCodes, encodeFrame } from '@cardfile/core'
import type { AuthenticatedActor } from '@cardfile/server'
import { afterEach, describe, expect, it } from 'vitest'
import { channelSynced, connectMux } from './mux-helpers'
import type { TestServer } from './sync-helpers'
import { prng } from './prng'
import {
  SYSTEM,
  connectSynced,
  expectPoll,
  fieldValue,
  loadFromStorage,
  makeToken,
  startSeededServer,
  startServer,
} from './sync-helpers'

const ANA = { role: 'agent' as const, userId: 'ana' }

let t: TestServer | null = null
afterEach(async () => {
  await t?.close()
  t = null
})

const start = async (options: Parameters<typeof startSeededServer>[0] = {}) => {
  t = await startSeededServer(options)
  return t
}

const INBOX = [
  'demo/schema',
  'demo/contact/c1',
  'demo/contact/c2',
  'demo/contact/c3',
  'demo/conversation/v1',
  'demo/conversation/v2',
]

describe('one socket for many documents', () => {
  it('announces mux in the hello and costs one connection for six documents', async () => {
    const { server } = await start()
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const channels = INBOX.map((doc) => mux.open(doc))
    for (const channel of channels) await channelSynced(channel)
    expect(mux.features).toContain('mux')
    expect(server.connectionCount()).toBe(1)
    expect(server.metrics.connections.get()).toBe(1)
    expect(server.metrics.channels.get()).toBe(6)
    expect(server.loadedDocuments()).toBeGreaterThanOrEqual(6)
    // Every channel heard its document's own hello and an ack of the server's state.
    for (const channel of channels) {
      expect(channel.hellos).toHaveLength(1)
      expect(channel.acks.length).toBeGreaterThan(0)
    }
  })

  it('syncs, acknowledges and refuses edits of two documents on one socket', async () => {
    const { server, backend } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const mux = await connectMux(server, 'demo', token)
    const c1 = mux.open('demo/contact/c1')
    const c2 = mux.open('demo/contact/c2')
    await channelSynced(c1)
    await channelSynced(c2)
    const watcher = await connectSynced(server, 'demo/contact/c1', token)

    c1.doc.getMap('custom').set('plan', fieldValue('gold', ANA))
    c2.doc.getMap('custom').set('plan', fieldValue('platinum', ANA))
    await expectPoll(() => c1.saved() && c2.saved() && c2.refusals.length === 1)
    expect(c2.refusals[0]).toMatchObject({ doc: 'demo/contact/c2', code: 'not-an-option' })
    expect(c1.refusals).toEqual([])
    // Each document's edit landed in its own document only, in storage and at other clients.
    const stored1 = await loadFromStorage(backend, 'demo/contact/c1')
    const stored2 = await loadFromStorage(backend, 'demo/contact/c2')
    expect(stored1.getMap('custom').get('plan')).toMatchObject({ value: 'gold' })
    expect(stored2.getMap('custom').get('plan')).toBeUndefined()
    await expectPoll(
      () =>
        (watcher.doc.getMap('custom').get('plan') as { value?: unknown } | undefined)?.value ===
        'gold',
    )
    // A change made elsewhere reaches the channel.
    await server.host.transact('demo/contact/c2', SYSTEM, (doc) =>
      doc.getMap('custom').set('note', fieldValue('hi', SYSTEM)),
    )
    await expectPoll(() => c2.doc.getMap('custom').has('note'))
    expect(c1.doc.getMap('custom').has('note')).toBe(false)
    watcher.close()
  })

  it('refuses a forbidden document on its channel only, with the per-document code', async () => {
    // An app's own authorization: a hook that refuses one document, as it would refuse a
    // per-document socket.
    const authenticate = (token: string, docName: string): Promise<AuthenticatedActor> => {
      if (docName === 'demo/contact/secret') {
        return Promise.reject(new CardfileError(ErrorCodes.Forbidden, 'not for you'))
      }
      return Promise.resolve({ userId: token, role: 'agent', workspace: 'demo' })
    }
    const { server } = await start({ auth: { authenticate } })
    const mux = await connectMux(server, 'demo', 'ana')
    const open = mux.open('demo/contact/c1')
    const secret = mux.open('demo/contact/secret')
    const other = mux.open('other/contact/c1')
    const bad = mux.open('not a document')
    expect(await secret.closed).toEqual({ code: 4403, reason: 'forbidden' })
    expect(await other.closed).toEqual({ code: 4403, reason: 'wrong-workspace' })
    expect(await bad.closed).toEqual({ code: 4400, reason: 'bad-document-name' })
    await channelSynced(open)
    open.doc.getMap('custom').set('note', fieldValue('still', { role: 'agent', userId: 'ana' }))
    await expectPoll(() => open.saved())
    expect(mux.closeInfo).toBeNull()
    expect(server.connectionCount()).toBe(1)
  })

  it('closes a stale cache and an unknown workspace on their channels only', async () => {
    const { server } = await start()
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const fresh = mux.open('demo/contact/c1')
    const stale = mux.open('demo/contact/c2', { generation: 'another-store' })
    expect(await stale.closed).toEqual({ code: 4409, reason: 'stale-generation' })
    // The hello before the close names the server's generation, as on a per-document socket.
    expect(stale.hellos).toHaveLength(1)
    await channelSynced(fresh)

    const strict = await startServer({ autoCreateWorkspaces: undefined })
    try {
      const ghost = await connectMux(
        strict.server,
        'ghost',
        await makeToken({ user: 'ana', role: 'agent', workspace: 'ghost' }),
      )
      const schema = ghost.open('ghost/schema')
      expect(await schema.closed).toEqual({ code: 4404, reason: 'unknown-workspace' })
      expect(ghost.closeInfo).toBeNull()
      ghost.close()
    } finally {
      await strict.close()
    }
  })

  it('purges an erased contact on its channel only', async () => {
    const { server } = await start()
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const c1 = mux.open('demo/contact/c1')
    const c2 = mux.open('demo/contact/c2')
    await channelSynced(c1)
    await channelSynced(c2)
    await server.host.erase(['demo/contact/c1'])
    expect(await c1.closed).toEqual({ code: 4410, reason: 'deleted' })
    expect(c1.purges).toEqual([{ doc: 'demo/contact/c1', reason: 'erased' }])
    c2.doc.getMap('custom').set('note', fieldValue('alive', ANA))
    await expectPoll(() => c2.saved())
    // Reopening the erased contact on the same socket is refused again, on a new channel.
    const late = mux.open('demo/contact/c1')
    expect((await late.closed).code).toBe(4410)
    expect(mux.closeInfo).toBeNull()
  })

  it('closes the channel the client closes, and the document lets go of it', async () => {
    const { server } = await start()
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const c1 = mux.open('demo/contact/c1')
    const c2 = mux.open('demo/contact/c2')
    await channelSynced(c1)
    await channelSynced(c2)
    c1.close()
    // Nothing holds c1 any more: it unloads, while c2 stays.
    await expectPoll(() => server.loadedDocuments() === 2, 10_000)
    expect(server.metrics.channels.get()).toBe(1)
    c2.doc.getMap('custom').set('note', fieldValue('on', ANA))
    await expectPoll(() => c2.saved())
  })

  it('closes the socket with 4400 bad-mux-frame on a malformed frame, and keeps serving', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const cases: Uint8Array[] = [
      // A channel id that never ends.
      new Uint8Array([0x80, 0x80]),
      // A channel id with no message.
      new Uint8Array([0x00]),
      // An unknown socket message.
      encodeFrame(0, new Uint8Array([77])),
      // A frame for a channel that was never opened.
      encodeFrame(9, new Uint8Array([0, 0])),
      // An open whose payload is cut short.
      encodeFrame(0, new Uint8Array([109, 1, 40])),
    ]
    for (const bytes of cases) {
      const mux = await connectMux(server, 'demo', token)
      const c1 = mux.open('demo/contact/c1')
      await channelSynced(c1)
      mux.sendRaw(bytes)
      expect(await mux.closed).toEqual({ code: 4400, reason: 'bad-mux-frame' })
      expect(c1.closeInfo?.code).toBe(4400)
    }
    // A channel id reused on the same socket is a violation too.
    const mux = await connectMux(server, 'demo', token)
    await channelSynced(mux.open('demo/contact/c1'))
    mux.sendRaw(encodeFrame(0, new Uint8Array([109, 1, 0, 0])))
    expect(await mux.closed).toEqual({ code: 4400, reason: 'bad-mux-frame' })
    // The server is still up.
    const after = await connectMux(server, 'demo', token)
    await channelSynced(after.open('demo/contact/c1'))
    await expectPoll(() => server.connectionCount() === 1)
  })

  it('survives seeded random frames: each closes its channel or its socket, never the server', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const bytes = (rng: ReturnType<typeof prng>, n: number) =>
      Uint8Array.from({ length: n }, () => rng.int(256))
    for (let seed = 1; seed <= 30; seed++) {
      const rng = prng(seed)
      const mux = await connectMux(server, 'demo', token)
      const c1 = mux.open('demo/contact/c1')
      await channelSynced(c1)
      const garbage = rng.pick([
        () => bytes(rng, rng.int(12)),
        // A socket message of a Cardfile type with a random payload.
        () => encodeFrame(0, Uint8Array.from([100 + rng.int(12), ...bytes(rng, rng.int(10))])),
        // A random message on the open document's channel.
        () => encodeFrame(c1.id, bytes(rng, 1 + rng.int(12))),
      ])()
      mux.sendRaw(garbage)
      // A document opened after the garbage syncs on this socket unless the garbage closed it.
      const probe = mux.open('demo/contact/c2')
      await expectPoll(() => probe.synced || probe.closeInfo !== null)
      if (mux.closeInfo !== null) expect(mux.closeInfo.code).toBe(4400)
      if (c1.closeInfo !== null) expect(c1.closeInfo.code).toBe(4400)
      mux.close()
    }
    const after = await connectMux(server, 'demo', token)
    await channelSynced(after.open('demo/contact/c1'))
  })

  it('refuses the socket with the per-document codes for a bad token', async () => {
    const { server } = await start()
    const expired = await makeToken({ user: 'ana', role: 'agent' }, { expiresIn: -60 })
    expect(await (await connectMux(server, 'demo', expired)).closed).toEqual({
      code: 4401,
      reason: 'token-expired',
    })
    const elsewhere = await makeToken({ user: 'ana', role: 'agent', workspace: 'other' })
    expect(await (await connectMux(server, 'demo', elsewhere)).closed).toEqual({
      code: 4403,
      reason: 'wrong-workspace',
    })
  })

  it('refuses channels beyond maxChannelsPerSocket and keeps the others', async () => {
    const { server } = await start({ limits: { maxChannelsPerSocket: 2 } })
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const a = mux.open('demo/contact/c1')
    const b = mux.open('demo/contact/c2')
    const c = mux.open('demo/contact/c3')
    expect(await c.closed).toEqual({ code: 4429, reason: 'too-many-channels' })
    await channelSynced(a)
    await channelSynced(b)
  })

  it('gives the socket the message rate of its documents together, and closes a flood', async () => {
    const { server } = await start({ limits: { messagesPerSecond: 10 } })
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const burst = async (documents: number) => {
      const mux = await connectMux(server, 'demo', token)
      const channels = Array.from({ length: documents }, (_, i) => mux.open(`demo/contact/c${i}`))
      for (const channel of channels) await channelSynced(channel)
      // The same burst of awareness queries: over the budget of one document's socket, within
      // that of four.
      for (let i = 0; i < 60; i++) mux.sendRaw(encodeFrame(channels[0]!.id, new Uint8Array([3])))
      return mux
    }
    const one = await burst(1)
    expect(await one.closed).toEqual({ code: 4429, reason: 'rate-limited' })
    const four = await burst(4)
    const c0 = four.open('demo/contact/c9')
    await channelSynced(c0)
    expect(four.closeInfo).toBeNull()
  })

  it('closes the whole socket as a slow consumer when its buffer is over the bound', async () => {
    const { server } = await start({ limits: { maxBufferedBytes: 4096 } })
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const c1 = mux.open('demo/contact/c1')
    const c2 = mux.open('demo/contact/c2')
    await channelSynced(c1)
    await channelSynced(c2)
    // One change bigger than the whole bound, for one document: the socket cannot take it.
    await server.host.transact('demo/contact/c1', SYSTEM, (doc) =>
      doc.getMap('profile').set('hint', 'x'.repeat(8192)),
    )
    expect(await mux.closed).toEqual({ code: 1013, reason: 'slow-consumer' })
    expect(c2.closeInfo).toEqual({ code: 1013, reason: 'slow-consumer' })
  })

  it('closes every channel when the server shuts down, after acknowledging', async () => {
    const { server } = await start()
    const mux = await connectMux(server, 'demo', await makeToken({ user: 'ana', role: 'agent' }))
    const c1 = mux.open('demo/contact/c1')
    const c2 = mux.open('demo/contact/c2')
    await channelSynced(c1)
    await channelSynced(c2)
    c1.doc.getMap('custom').set('note', fieldValue('bye', ANA))
    await expectPoll(() => c1.saved())
    await server.close()
    expect((await c1.closed).code).toBe(1001)
    expect((await c2.closed).code).toBe(1001)
  })
})
