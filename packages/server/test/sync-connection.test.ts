import { createMemoryBackend } from '@cardfile/server/memory'
import type { Backend } from '@cardfile/server'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { TestServer } from './sync-helpers'
import {
  SECRET,
  SYSTEM,
  connectRaw,
  connectSynced,
  expectPoll,
  fieldValue,
  loadFromStorage,
  makeToken,
  startSeededServer,
  syncUpdateMessage,
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

describe('token checks', () => {
  it('closes a connection without a token with 4401', async () => {
    const { server } = await start()
    const client = await connectRaw(server, 'demo/contact/c1', null)
    expect(await client.closed).toEqual({ code: 4401, reason: 'unauthorized' })
  })

  it('closes an expired token with 4401 token-expired', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' }, { expiresIn: -60 })
    const client = await connectRaw(server, 'demo/contact/c1', token)
    expect(await client.closed).toEqual({ code: 4401, reason: 'token-expired' })
  })

  it('closes a token with a forged signature with 4401', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'admin' }, { secret: `${SECRET}-forged` })
    const client = await connectRaw(server, 'demo/contact/c1', token)
    expect((await client.closed).code).toBe(4401)
  })

  it('closes a token for another workspace with 4403', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'admin', workspace: 'other' })
    const client = await connectRaw(server, 'demo/contact/c1', token)
    expect(await client.closed).toEqual({ code: 4403, reason: 'wrong-workspace' })
  })

  it('closes a malformed document name with 4400', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'admin' })
    const client = await connectRaw(server, 'demo/nope/c1', token)
    expect((await client.closed).code).toBe(4400)
  })

  it('accepts an authenticate hook instead of JWT', async () => {
    const { server } = await start({
      auth: {
        authenticate: async (token) => {
          if (token !== 'let-me-in') throw new Error('no')
          return { userId: 'hooked', role: 'agent', workspace: 'demo' }
        },
      },
    })
    const client = await connectSynced(server, 'demo/contact/c1', 'let-me-in')
    client.doc.getMap('custom').set('note', fieldValue('hi', { role: 'agent', userId: 'hooked' }))
    await expectPoll(() => client.saved())
    expect(client.refusals).toEqual([])
    const denied = await connectRaw(server, 'demo/contact/c1', 'wrong')
    expect((await denied.closed).code).toBe(4401)
  })
})

describe('durability', () => {
  it('acknowledges an update only after storage committed it, and relays it only then', async () => {
    const memory = createMemoryBackend()
    let release: () => void = () => undefined
    let gate: Promise<void> = Promise.resolve()
    const backend: Backend = {
      ...memory,
      documents: {
        ...memory.documents,
        append: async (name, update, index, events) => {
          await gate
          await memory.documents.append(name, update, index, events)
        },
      },
    }
    const { server } = await start({ backend })
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const writer = await connectSynced(server, 'demo/contact/c1', token)
    const reader = await connectSynced(server, 'demo/contact/c1', token)
    await expectPoll(() => writer.saved())

    gate = new Promise((resolve) => {
      release = resolve
    })
    writer.doc.getMap('custom').set('note', fieldValue('durable', ANA))
    // Give the server every chance to answer early: several round trips of other traffic.
    for (let i = 0; i < 5; i++) {
      const before = writer.types.length
      writer.send(new Uint8Array([3]))
      await expectPoll(() => writer.types.length > before)
    }
    expect(writer.saved()).toBe(false)
    expect(reader.doc.getMap('custom').get('note')).toBeUndefined()
    const stored = new Y.Doc()
    for (const u of await memory.documents.load('demo/contact/c1')) Y.applyUpdate(stored, u)
    expect(stored.getMap('custom').get('note')).toBeUndefined()

    release()
    await expectPoll(() => writer.saved())
    const committed = new Y.Doc()
    for (const u of await memory.documents.load('demo/contact/c1')) Y.applyUpdate(committed, u)
    expect(committed.getMap('custom').get('note')).toMatchObject({ value: 'durable' })
    await expectPoll(() => reader.doc.getMap('custom').get('note') !== undefined)
    await memory.close()
  })

  it('sends extended messages only to clients that opted in', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const stock = await connectSynced(server, 'demo/contact/c1', token, { cardfile: false })
    stock.doc.getMap('custom').set('plan', fieldValue('diamond', ANA))
    await expectPoll(
      () =>
        (stock.doc.getMap('custom').get('plan') as { value?: string } | undefined)?.value ===
        'silver',
    )
    expect(stock.types.filter((type) => type >= 100)).toEqual([])
  })
})

describe('bad input', () => {
  const openPair = async () => {
    const { server } = await start({ limits: { maxFrameBytes: 4096, messagesPerSecond: 50 } })
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const bystander = await connectSynced(server, 'demo/contact/c1', token)
    const attacker = await connectSynced(server, 'demo/contact/c1', token)
    return { server, token, bystander, attacker }
  }

  /** The bystander still edits and syncs through a fresh client, so the server is alive. */
  const expectUndisturbed = async (
    server: Awaited<ReturnType<typeof openPair>>['server'],
    bystander: Awaited<ReturnType<typeof openPair>>['bystander'],
    token: string,
  ) => {
    expect(bystander.closeInfo).toBeNull()
    bystander.doc.getMap('custom').set('note', fieldValue('still ok', ANA))
    await expectPoll(() => bystander.saved())
    const fresh = await connectSynced(server, 'demo/contact/c1', token)
    expect(fresh.doc.getMap('custom').get('note')).toMatchObject({ value: 'still ok' })
    fresh.close()
  }

  it('closes a connection sending garbage with 4400', async () => {
    const { server, token, bystander, attacker } = await openPair()
    attacker.send(new Uint8Array([0, 2, 200, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    expect((await attacker.closed).code).toBe(4400)
    await expectUndisturbed(server, bystander, token)
  })

  it('closes a connection sending a truncated update with 4400', async () => {
    const { server, token, bystander, attacker } = await openPair()
    const scratch = new Y.Doc()
    scratch.getMap('custom').set('note', fieldValue('truncated', ANA))
    const message = syncUpdateMessage(Y.encodeStateAsUpdate(scratch))
    attacker.send(message.slice(0, message.length - 8))
    expect((await attacker.closed).code).toBe(4400)
    await expectUndisturbed(server, bystander, token)
  })

  it('closes a connection sending an unknown message type with 4400', async () => {
    const { server, token, bystander, attacker } = await openPair()
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 57)
    encoding.writeVarString(encoder, 'hello')
    attacker.send(encoding.toUint8Array(encoder))
    expect((await attacker.closed).code).toBe(4400)
    await expectUndisturbed(server, bystander, token)
  })

  it('closes a connection sending a frame over the size limit with 4413', async () => {
    const { server, token, bystander, attacker } = await openPair()
    attacker.send(new Uint8Array(10_000))
    expect((await attacker.closed).code).toBe(4413)
    await expectUndisturbed(server, bystander, token)
  })

  it('closes a flooding connection with 4429', async () => {
    const { server, token, bystander, attacker } = await openPair()
    for (let i = 0; i < 5000; i++) attacker.send(new Uint8Array([3]))
    expect((await attacker.closed).code).toBe(4429)
    await expectUndisturbed(server, bystander, token)
  })

  it('drops an update that references missing structs and tells its sender', async () => {
    const { server, token, bystander, attacker } = await openPair()
    const scratch = new Y.Doc()
    const custom = scratch.getMap('custom')
    custom.set('note', fieldValue('first', ANA))
    const sv = Y.encodeStateVector(scratch)
    custom.set('note', fieldValue('second', ANA))
    // Only the second change: it depends on the first, which the server never got.
    attacker.send(syncUpdateMessage(Y.encodeStateAsUpdate(scratch, sv)))
    const before = attacker.types.length
    attacker.send(new Uint8Array([3]))
    await expectPoll(() => attacker.types.length > before)
    expect(attacker.closeInfo).toBeNull()
    expect(attacker.refusals.map((r) => r.code)).toEqual(['missing-dependency'])
    expect(bystander.doc.getMap('custom').get('note')).toBeUndefined()
    await expectUndisturbed(server, bystander, token)
  })

  it('closes a connection that queues too many messages before authentication', async () => {
    let letIn: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      letIn = resolve
    })
    const { server } = await start({
      limits: { maxPendingBeforeAuth: 8 },
      auth: {
        authenticate: async () => {
          await gate
          return { userId: 'slow', role: 'agent', workspace: 'demo' }
        },
      },
    })
    const client = await connectRaw(server, 'demo/contact/c1', 'any')
    for (let i = 0; i < 20; i++) client.send(new Uint8Array([3]))
    expect(await client.closed).toEqual({ code: 4429, reason: 'too-many-messages-before-auth' })
    letIn()
    const patient = await connectSynced(server, 'demo/contact/c1', 'any')
    expect(patient.closeInfo).toBeNull()
  })
})

describe('lifecycle', () => {
  it('relays awareness and removes a client state when its connection drops', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const a = await connectSynced(server, 'demo/contact/c1', token)
    const b = await connectSynced(server, 'demo/contact/c1', token)
    const { Awareness, encodeAwarenessUpdate, applyAwarenessUpdate } =
      await import('y-protocols/awareness')
    const aAwareness = new Awareness(a.doc)
    aAwareness.setLocalState({ user: 'ana' })
    const bAwareness = new Awareness(b.doc)
    b.ws.on('message', (data: Buffer) => {
      if (data[0] !== 1) return
      const decoderBytes = new Uint8Array(data)
      // type byte 1, then a varUint8Array: skip the type and the length prefix via lib0
      void import('lib0/decoding').then((decoding) => {
        const decoder = decoding.createDecoder(decoderBytes)
        decoding.readVarUint(decoder)
        applyAwarenessUpdate(bAwareness, decoding.readVarUint8Array(decoder), 'server')
      })
    })
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint8Array(encoder, encodeAwarenessUpdate(aAwareness, [a.doc.clientID]))
    a.send(encoding.toUint8Array(encoder))
    await expectPoll(() => bAwareness.getStates().get(a.doc.clientID)?.user === 'ana')
    a.close()
    await expectPoll(() => !bAwareness.getStates().has(a.doc.clientID))
    aAwareness.destroy()
    bAwareness.destroy()
  })

  it('purges connected clients on erase, and refuses late clients with 4410', async () => {
    const { server, backend } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const client = await connectSynced(server, 'demo/contact/c1', token)
    await server.host.erase(['demo/contact/c1'])
    expect((await client.closed).code).toBe(4410)
    expect(client.purges).toEqual([{ doc: 'demo/contact/c1', reason: 'erased' }])
    expect(await backend.documents.isErased('demo/contact/c1')).toBe(true)

    const late = await connectRaw(server, 'demo/contact/c1', token)
    late.doc.getMap('custom').set('note', fieldValue('zombie', ANA))
    expect((await late.closed).code).toBe(4410)
    expect(late.purges).toHaveLength(1)
    expect(await backend.documents.load('demo/contact/c1')).toEqual([])
    await expect(
      server.host.transact('demo/contact/c1', SYSTEM, (doc) => doc.getMap('custom').set('x', 1)),
    ).rejects.toMatchObject({ code: 'deleted' })
  })

  it('unloads documents when their last client leaves (200 documents, no growth)', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const gc = (globalThis as { gc?: () => void }).gc
    const round = async (offset: number) => {
      const clients = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          connectSynced(server, `demo/contact/leak${offset + i}`, token),
        ),
      )
      for (const c of clients) c.doc.getMap('custom').set('note', fieldValue('x', ANA))
      await expectPoll(() => clients.every((c) => c.saved()))
      expect(server.loadedDocuments()).toBe(101)
      for (const c of clients) c.close()
      await expectPoll(() => server.loadedDocuments() === 0 && server.connectionCount() === 0)
    }
    await round(0)
    gc?.()
    const heapAfterFirst = process.memoryUsage().heapUsed
    await round(100)
    await round(0)
    gc?.()
    expect(server.loadedDocuments()).toBe(0)
    expect(server.metrics.documentsLoaded.get()).toBe(0)
    if (gc !== undefined) {
      expect(process.memoryUsage().heapUsed).toBeLessThan(heapAfterFirst + 20 * 1024 * 1024)
    }
  })

  it('renders Prometheus metrics', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const client = await connectSynced(server, 'demo/contact/c1', token)
    client.doc.getMap('custom').set('plan', fieldValue('diamond', ANA))
    await expectPoll(() => client.refusals.length === 1)
    const text = server.metrics.render()
    expect(text).toContain('cardfile_connections 1')
    expect(text).toContain('cardfile_refusals_total{code="not-an-option"} 1')
    expect(text).toMatch(/cardfile_commit_latency_seconds_count [1-9]/)
    expect(text).toContain('cardfile_documents_loaded 2')
  })
})

/**
 * A server with a writer whose first change is saved and whose second was just sent, not
 * waited for (taken in, then stored and acknowledged, or not, by when the close comes), and a
 * client on another document that reads nothing until resumed: a close frame to it goes
 * unanswered.
 */
async function writingBesideASilentClient() {
  const { server, backend } = await start()
  const token = await makeToken({ user: 'ana', role: 'agent' })
  const writer = await connectSynced(server, 'demo/contact/c1', token)
  const silent = await connectSynced(server, 'demo/contact/c2', token)
  silent.ws.pause()
  writer.doc.getMap('custom').set('note', fieldValue('first', ANA))
  await expectPoll(() => writer.saved())
  writer.doc.getMap('custom').set('note', fieldValue('second', ANA))
  return { server, backend, writer, silent }
}

describe('shutdown', () => {
  it('closes clients with 1001 and waits for commits in flight', async () => {
    const server = (await start()).server
    const backend = t?.backend
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const client = await connectSynced(server, 'demo/contact/c1', token)
    client.doc.getMap('custom').set('note', fieldValue('last', ANA))
    await expectPoll(() => client.saved())
    await server.close()
    expect((await client.closed).code).toBe(1001)
    expect(server.loadedDocuments()).toBe(0)
    const stored = new Y.Doc()
    for (const u of (await backend?.documents.load('demo/contact/c1')) ?? [])
      Y.applyUpdate(stored, u)
    expect(stored.getMap('custom').get('note')).toMatchObject({ value: 'last' })
  })
  it('closes the storage through afterLastWrite once every change taken in is acknowledged, while a client that has not answered the close is still connected', async () => {
    const { server, backend, writer } = await writingBesideASilentClient()
    let stored: Map<number, number> | null = null
    let connectedAtStorageClose = 0
    const started = performance.now()
    let storageClosedAfter = 0
    await server.close({
      afterLastWrite: async () => {
        connectedAtStorageClose = server.connectionCount()
        const doc = await loadFromStorage(backend, 'demo/contact/c1')
        stored = Y.decodeStateVector(Y.encodeStateVector(doc))
        await backend.close()
        storageClosedAfter = performance.now() - started
      },
    })
    const closedAfter = performance.now() - started
    // The storage closed at once, with the silent client still connected; close itself waited
    // for that client's handshake until the grace ran out.
    expect(connectedAtStorageClose).toBeGreaterThanOrEqual(1)
    expect(storageClosedAfter).toBeLessThan(1000)
    expect(closedAfter).toBeGreaterThan(2000)
    expect((await writer.closed).code).toBe(1001)
    // What the storage held when it closed is what the last acknowledgement covers.
    expect(stored).toEqual(Y.decodeStateVector(writer.acks.at(-1)!))
  }, 15_000)

  it('with awaitCloseHandshakes false, resolves once the close frames are sent after every acknowledgement, without waiting for a client to answer', async () => {
    const { server, backend, writer, silent } = await writingBesideASilentClient()
    let stored: Map<number, number> | null = null
    const started = performance.now()
    await server.close({
      afterLastWrite: async () => {
        const doc = await loadFromStorage(backend, 'demo/contact/c1')
        stored = Y.decodeStateVector(Y.encodeStateVector(doc))
        await backend.close()
      },
      awaitCloseHandshakes: false,
    })
    // Resolved long before the close grace (3 s) would have cut the silent client off, with its
    // socket still open: it had not even read the close frame, which it then gets.
    expect(performance.now() - started).toBeLessThan(1000)
    expect(server.connectionCount()).toBeGreaterThanOrEqual(1)
    expect(silent.closeInfo).toBeNull()
    silent.ws.resume()
    expect((await silent.closed).code).toBe(1001)
    expect((await writer.closed).code).toBe(1001)
    // Every change taken in was stored and acknowledged before the close frame.
    expect(stored).toEqual(Y.decodeStateVector(writer.acks.at(-1)!))
  })

  it('rejects close when afterLastWrite fails, after the connections closed', async () => {
    const { server } = await start()
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const client = await connectSynced(server, 'demo/contact/c1', token)
    const failure = await server
      .close({ afterLastWrite: () => Promise.reject(new Error('disk gone')) })
      .then(
        () => null,
        (error: unknown) => error,
      )
    expect(failure).toMatchObject({ message: 'disk gone' })
    expect((await client.closed).code).toBe(1001)
    // Closing again answers the same failure; the storage is left to its owner.
    await expect(server.close()).rejects.toThrow('disk gone')
    await t?.backend.close()
    t = null
  })
})
