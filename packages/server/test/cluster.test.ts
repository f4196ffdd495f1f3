import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startCluster } from './cluster-harness'
import { channelSynced, connectMux } from './mux-helpers'
import type { ClusterInstance, TestCluster } from './cluster-harness'
import type { CardfileServer } from '@cardfile/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import type { RawClient } from './sync-helpers'
import {
  SYSTEM,
  connectRaw,
  connectSynced,
  editSchema,
  expectPoll,
  fieldValue,
  loadFromStorage,
  makeToken,
  seedDemo,
} from './sync-helpers'

const ANA = { role: 'agent' as const, userId: 'ana' }
const BEN = { role: 'agent' as const, userId: 'ben' }
const DOC = 'demo/contact/c1'

/** The client's own changes are acknowledged (others' arrive as relays, without an ack of their own). */
const ownSaved = (client: RawClient): boolean => {
  const ack = client.acks.at(-1)
  if (ack === undefined) return false
  const own = client.doc.clientID
  const local = Y.decodeStateVector(Y.encodeStateVector(client.doc)).get(own) ?? 0
  return (Y.decodeStateVector(ack).get(own) ?? 0) >= local
}

const valueOf = (doc: Y.Doc, map: string, key: string): unknown =>
  (doc.getMap(map).get(key) as { value?: unknown } | undefined)?.value

describe('several instances on one PostgreSQL and Redis', () => {
  let cluster: TestCluster
  beforeEach(async () => {
    cluster = await startCluster(3)
    await seedDemo(cluster.instances[0]!.server)
  })
  afterEach(async () => {
    await cluster.close()
  })

  it('clients on different instances edit one contact and converge, each acked after the commit', async () => {
    const [a, b, c] = servers(cluster)
    await editSchema(b, 'demo', (s) =>
      s.createAttribute({ id: 'city', label: 'City', type: 'text' }),
    )
    const tokenAna = await makeToken({ user: 'ana', role: 'agent' })
    const tokenBen = await makeToken({ user: 'ben', role: 'agent' })
    const clients = [
      await connectSynced(a, DOC, tokenAna),
      await connectSynced(b, DOC, tokenBen),
      await connectSynced(c, DOC, tokenBen),
    ]
    clients[0]!.doc.getMap('custom').set('note', fieldValue('from a', ANA))
    clients[1]!.doc.getMap('custom').set('plan', fieldValue('gold', BEN))
    clients[2]!.doc.getMap('custom').set('city', fieldValue('t', BEN))
    await expectPoll(() =>
      clients.every(
        (client) =>
          valueOf(client.doc, 'custom', 'note') === 'from a' &&
          valueOf(client.doc, 'custom', 'plan') === 'gold' &&
          valueOf(client.doc, 'custom', 'city') === 't',
      ),
    )
    await expectPoll(() => clients.every((client) => ownSaved(client)))
    const stored = await loadFromStorage(cluster.instances[0]!.backend, DOC)
    expect(valueOf(stored, 'custom', 'note')).toBe('from a')
    expect(valueOf(stored, 'custom', 'plan')).toBe('gold')
    for (const client of clients) client.close()
  })

  it('a client on an instance that does not own the document gets refusals like one on the owner', async () => {
    const [a, b] = servers(cluster)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const onOwner = await connectSynced(a, DOC, token)
    const elsewhere = await connectSynced(b, DOC, token)
    elsewhere.doc.getMap('platform').set('email', fieldValue('evil@example.com', ANA))
    await expectPoll(() => elsewhere.refusals.length > 0)
    expect(elsewhere.refusals).toHaveLength(1)
    expect(elsewhere.refusals[0]).toMatchObject({
      map: 'platform',
      key: 'email',
      code: 'forbidden',
    })
    await expectPoll(() => valueOf(elsewhere.doc, 'platform', 'email') === 'ana@example.com')
    await expectPoll(() => ownSaved(elsewhere))
    const stored = await loadFromStorage(cluster.instances[2]!.backend, DOC)
    expect(JSON.stringify(stored.toJSON())).not.toContain('evil@example.com')
    expect(JSON.stringify(onOwner.doc.toJSON())).not.toContain('evil@example.com')
    onOwner.close()
    elsewhere.close()
  })

  it('a multiplexed socket on a following instance syncs, is refused and purged per document', async () => {
    const [a, b] = servers(cluster)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const onOwner = await connectSynced(a, DOC, token)
    const mux = await connectMux(b, 'demo', token)
    const contact = mux.open(DOC)
    const other = mux.open('demo/contact/c2')
    await channelSynced(contact)
    await channelSynced(other)
    contact.doc.getMap('custom').set('note', fieldValue('via mux', ANA))
    other.doc.getMap('platform').set('email', fieldValue('evil@example.com', ANA))
    await expectPoll(() => valueOf(onOwner.doc, 'custom', 'note') === 'via mux')
    await expectPoll(() => contact.saved() && other.refusals.length === 1)
    expect(other.refusals[0]).toMatchObject({ doc: 'demo/contact/c2', code: 'forbidden' })
    await a.host.erase([DOC])
    expect((await contact.closed).code).toBe(4410)
    expect(contact.purges).toHaveLength(1)
    expect(other.closeInfo).toBeNull()
    expect(b.connectionCount()).toBe(1)
    onOwner.close()
    mux.close()
  })

  it('a host change made on a following instance commits through the owner', async () => {
    const [a, b] = servers(cluster)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const onOwner = await connectSynced(a, DOC, token)
    await b.host.transact(DOC, SYSTEM, (doc) =>
      doc.getMap('custom').set('note', fieldValue('host', SYSTEM)),
    )
    await expectPoll(() => valueOf(onOwner.doc, 'custom', 'note') === 'host')
    onOwner.close()
  })

  it('a change on an instance that takes a document over while the last owner lets it go commits', async () => {
    const [a, b] = servers(cluster)
    // The owner unloads an idle document and gives its lease back while the next instance is
    // asking to follow it: that instance takes it over in the middle of its own load.
    for (let i = 0; i < 30; i++) {
      const name = `demo/contact/handover${i}`
      await a.host.transact(name, SYSTEM, (doc) =>
        doc.getMap('custom').set('note', fieldValue('on a', SYSTEM)),
      )
      await b.host.transact(name, SYSTEM, (doc) =>
        doc.getMap('custom').set('plan', fieldValue('gold', SYSTEM)),
      )
      const stored = await loadFromStorage(cluster.instances[2]!.backend, name)
      expect(valueOf(stored, 'custom', 'note')).toBe('on a')
      expect(valueOf(stored, 'custom', 'plan')).toBe('gold')
    }
  })

  it('when the owner stops, a following instance takes the document over and its client keeps its socket', async () => {
    const [owner, follower] = cluster.instances as [ClusterInstance, ClusterInstance]
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const first = await connectSynced(owner.server, DOC, token)
    const kept = await connectSynced(follower.server, DOC, token)
    await owner.close()
    kept.doc.getMap('custom').set('note', fieldValue('after', ANA))
    await expectPoll(() => ownSaved(kept), 10_000)
    expect(kept.closeInfo).toBeNull()
    const stored = await loadFromStorage(cluster.instances[2]!.backend, DOC)
    expect(valueOf(stored, 'custom', 'note')).toBe('after')
    first.close()
    kept.close()
  })

  it('an erasure on one instance purges the document from clients on every instance', async () => {
    const [a, b, c] = servers(cluster)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const onOwner = await connectSynced(a, DOC, token)
    const elsewhere = await connectSynced(b, DOC, token)
    await c.host.erase([DOC])
    for (const client of [onOwner, elsewhere]) {
      expect((await client.closed).code).toBe(4410)
      expect(client.purges).toMatchObject([{ doc: DOC, reason: 'erased' }])
    }
    for (const server of [a, b, c]) {
      const again = await connectRaw(server, DOC, token)
      expect((await again.closed).code).toBe(4410)
    }
    expect(await cluster.instances[0]!.backend.documents.isErased(DOC)).toBe(true)
  })

  it('presence crosses instances, stamped with the sender and removed when it leaves', async () => {
    const [a, b, c] = servers(cluster)
    const onOwner = await connectSynced(a, DOC, await makeToken({ user: 'ana', role: 'agent' }))
    const elsewhere = await connectSynced(b, DOC, await makeToken({ user: 'ben', role: 'agent' }))
    const third = await connectSynced(c, DOC, await makeToken({ user: 'cy', role: 'agent' }))
    const states: Map<number, Record<string, unknown>>[] = []
    for (const client of [onOwner, elsewhere, third]) {
      const awareness = new Awareness(client.doc)
      awareness.setLocalState(null)
      client.ws.on('message', (data: Buffer) => {
        const decoder = decoding.createDecoder(new Uint8Array(data))
        if (decoding.readVarUint(decoder) !== 1) return
        applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'server')
      })
      states.push(awareness.getStates() as Map<number, Record<string, unknown>>)
    }
    const sendPresence = (client: RawClient, state: Record<string, unknown>) => {
      const awareness = new Awareness(client.doc)
      awareness.setLocalState(state)
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 1)
      encoding.writeVarUint8Array(encoder, encodeAwarenessUpdate(awareness, [client.doc.clientID]))
      client.send(encoding.toUint8Array(encoder))
      awareness.destroy()
    }
    // Ben claims to be someone else: the state is stamped with his token's identity.
    sendPresence(elsewhere, { userId: 'mallory', name: 'Mallory', viewing: DOC })
    sendPresence(onOwner, { userId: 'ana', viewing: DOC })
    const benOn = (seen: Map<number, Record<string, unknown>>) =>
      seen.get(elsewhere.doc.clientID)?.userId === 'ben'
    const anaOn = (seen: Map<number, Record<string, unknown>>) =>
      seen.get(onOwner.doc.clientID)?.userId === 'ana'
    await expectPoll(
      () => benOn(states[0]!) && benOn(states[2]!) && anaOn(states[1]!) && anaOn(states[2]!),
    )
    elsewhere.close()
    await expectPoll(
      () => !states[0]!.has(elsewhere.doc.clientID) && !states[2]!.has(elsewhere.doc.clientID),
    )
    onOwner.close()
    third.close()
  })
})

const servers = (cluster: TestCluster): [CardfileServer, CardfileServer, CardfileServer] =>
  cluster.instances.map((instance) => instance.server) as [
    CardfileServer,
    CardfileServer,
    CardfileServer,
  ]
