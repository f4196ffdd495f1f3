import { ContactDoc, ROOT_MAPS, SchemaDoc, parseDocName, validateValue } from '@cardfile/core'
import type { Actor, SchemaView } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ChangeGate } from '../src/sync/change-gate'
import { prng } from './prng'

/*
 * The change gate without sockets, in the style of the core convergence test: a server document
 * behind the gate, honest and hostile replicas, updates delivered in a seeded random order,
 * random disconnects with resync by state vector. After every run all replicas equal the
 * server, and the server holds nothing the policy forbids and no byte an attacker chose.
 */

const SYSTEM: Actor = { userId: 'system', role: 'system' }
/**
 * Every name and value only a hostile replica writes starts with this: long enough that the
 * random client ids in the encoded state never spell it by chance (two letters did, now and
 * then).
 */
const MARK = 'ZQhostileQZ'
const SEEDS = 150
const STEPS = 120

function workspaceSchema(): SchemaView {
  const doc = new Y.Doc()
  const schema = new SchemaDoc(doc)
  schema.createAttribute({
    id: 'plan',
    label: 'Plan',
    type: 'dropdown',
    options: [
      { id: 'gold', label: 'Gold' },
      { id: 'silver', label: 'Silver' },
    ],
  })
  schema.createAttribute({ id: 'note', label: 'Note', type: 'text', maxLength: 10 })
  schema.createAttribute({ id: 'crm_tier', label: 'Tier', type: 'text', crmManaged: true })
  return schema.view()
}

const PROFILE = {
  channel: 'email' as const,
  platformUserId: 'ana@example.com',
  hint: 'an***@example.com',
  createdAt: 1_700_000_000_000,
}

interface Replica {
  readonly doc: Y.Doc
  readonly actor: Actor
  readonly hostile: boolean
  connected: boolean
  /** Updates on their way to the server. */
  toServer: Uint8Array[]
  /** Updates on their way from the server. */
  fromServer: Uint8Array[]
}

const FROM_SERVER = Symbol('from-server')

const rootsJson = (doc: Y.Doc): string =>
  JSON.stringify(
    ROOT_MAPS.contact.map((root) => [
      root,
      Object.fromEntries([...doc.getMap(root).entries()].sort()),
    ]),
  )

function run(seed: number): void {
  const rng = prng(seed)
  const view = workspaceSchema()
  const server = new Y.Doc()
  const seedContact = new ContactDoc(server, 'c1')
  seedContact.setProfile(PROFILE)
  seedContact.setValue('plan', 'silver', SYSTEM, view)
  const gate = new ChangeGate(server, parseDocName('demo/contact/c1')!, {
    gateSchema: () => view,
    gatePolicyError: (error) => {
      throw error
    },
  })
  server.on('afterTransaction', (tr: Y.Transaction) => gate.collect(tr))
  let events: Uint8Array[] = []
  server.on('update', (update: Uint8Array) => events.push(update))

  const replicas: Replica[] = [
    { userId: 'ana', hostile: false },
    { userId: 'ben', hostile: false },
    { userId: 'mallory', hostile: true },
  ].map(({ userId, hostile }) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server), FROM_SERVER)
    const replica: Replica = {
      doc,
      actor: { userId, role: 'agent' },
      hostile,
      connected: true,
      toServer: [],
      fromServer: [],
    }
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== FROM_SERVER && replica.connected) replica.toServer.push(update)
    })
    return replica
  })

  /** The server receives one update from `from` and relays what it committed. */
  const receive = (from: Replica, update: Uint8Array): void => {
    events = []
    const verdict = gate.admit(update, from.actor, from)
    const relay = verdict.cleaned ?? (events.length > 0 ? Y.mergeUpdates(events) : null)
    if (relay === null) return
    for (const r of replicas) {
      // A clean update is exactly what its sender has; a compensated one goes back to it too.
      if (r.connected && (r !== from || verdict.cleaned !== null)) r.fromServer.push(relay)
    }
  }

  const resync = (r: Replica): void => {
    r.toServer.push(Y.encodeStateAsUpdate(r.doc, Y.encodeStateVector(server)))
    r.fromServer.push(Y.encodeStateAsUpdate(server, Y.encodeStateVector(r.doc)))
  }

  const fv = (value: unknown, actor: Actor) => ({
    value,
    by: { role: actor.role, userId: actor.userId, at: Date.now() },
  })

  const honestEdit = (r: Replica): void => {
    const contact = new ContactDoc(r.doc, 'c1')
    try {
      if (rng.chance(0.5)) contact.setValue('plan', rng.pick(['gold', 'silver']), r.actor, view)
      else contact.setValue('note', rng.pick(['hi', 'call back', null]), r.actor, view)
    } catch {
      // The local checks refused it: an honest client sends nothing.
    }
  }

  const hostileEdits: Array<(r: Replica, tag: string) => void> = [
    (r, tag) => r.doc.getMap('custom').set('plan', fv(`${tag}-platinum`, r.actor)),
    (r, tag) => r.doc.getMap('custom').set('crm_tier', fv(`${tag}-gold`, r.actor)),
    (r, tag) => r.doc.getMap('custom').set(`${tag}_key`, fv('x', r.actor)),
    (r, tag) => r.doc.getMap(`${tag}_root`).set('a', 1),
    (r, tag) => r.doc.getMap('custom').set('note', fv(`${tag}-far too long`, r.actor)),
    (r, tag) => r.doc.getMap('profile').set('platformUserId', `${tag}@evil.example`),
    (r, tag) => r.doc.getMap('custom').set('note', fv(`${tag}`, { userId: 'ana', role: 'admin' })),
    (r, tag) => {
      const nested = new Y.Map<string>()
      r.doc.getMap('custom').set(`${tag}_nested`, nested)
      nested.set('x', tag)
    },
    (r, tag) =>
      r.doc.transact(() => {
        const custom = r.doc.getMap('custom')
        for (let i = 0; i < 5; i++) custom.set(`${tag}_gone${i}`, 1)
        for (let i = 0; i < 5; i++) custom.delete(`${tag}_gone${i}`)
      }),
    (r) => r.doc.getMap('custom').delete('plan'),
  ]

  for (let step = 0; step < STEPS; step++) {
    const roll = rng.int(10)
    if (roll < 4) {
      const r = rng.pick(replicas)
      if (r.hostile) rng.pick(hostileEdits)(r, `${MARK}${seed}x${step}`)
      else honestEdit(r)
    } else if (roll < 9) {
      const queues = replicas.flatMap((r) => [
        ...(r.toServer.length > 0 ? [{ r, up: true }] : []),
        ...(r.fromServer.length > 0 ? [{ r, up: false }] : []),
      ])
      if (queues.length === 0) continue
      const { r, up } = rng.pick(queues)
      if (up) receive(r, r.toServer.shift()!)
      else Y.applyUpdate(r.doc, r.fromServer.shift()!, FROM_SERVER)
    } else {
      const r = rng.pick(replicas)
      if (r.connected) {
        r.connected = false
        r.toServer = []
        r.fromServer = []
      } else {
        r.connected = true
        resync(r)
      }
    }
  }

  // Everyone back online; deliver until nothing moves.
  for (const r of replicas) {
    if (!r.connected) {
      r.connected = true
      resync(r)
    }
  }
  for (let round = 0; round < 10_000; round++) {
    const r = replicas.find((x) => x.toServer.length > 0 || x.fromServer.length > 0)
    if (r === undefined) break
    if (r.toServer.length > 0) receive(r, r.toServer.shift()!)
    else Y.applyUpdate(r.doc, r.fromServer.shift()!, FROM_SERVER)
  }
  // A last exchange of state vectors, as a reconnect would do.
  for (const r of replicas) resync(r)
  for (const r of replicas) {
    while (r.toServer.length > 0) receive(r, r.toServer.shift()!)
  }
  for (const r of replicas) {
    while (r.fromServer.length > 0) Y.applyUpdate(r.doc, r.fromServer.shift()!, FROM_SERVER)
  }

  const truth = rootsJson(server)
  for (const r of replicas) expect(rootsJson(r.doc), `seed ${seed}: ${r.actor.userId}`).toBe(truth)

  // Nothing forbidden on the server.
  for (const root of server.share.keys()) {
    expect(ROOT_MAPS.contact as readonly string[], `seed ${seed}: root`).toContain(root)
  }
  expect(server.getMap('profile').toJSON(), `seed ${seed}: profile`).toEqual(PROFILE)
  for (const [key, raw] of server.getMap('custom').entries()) {
    const def = view.definitions.get(key)
    expect(def, `seed ${seed}: custom key ${key}`).toBeDefined()
    const field = raw as { value: unknown; by: { role: string; userId: string } }
    expect(validateValue(def, field.value).ok, `seed ${seed}: ${key}`).toBe(true)
    expect(['system', 'agent']).toContain(field.by.role)
    if (def?.crmManaged === true) expect(field.by.role, `seed ${seed}: ${key}`).not.toBe('agent')
    if (field.by.role === 'agent') expect(['ana', 'ben', 'mallory']).toContain(field.by.userId)
  }
  // No byte the attacker chose, in the state any new client would download.
  const state = Buffer.from(Y.encodeStateAsUpdate(server))
  expect(state.includes(Buffer.from(MARK)), `seed ${seed}: attacker bytes stored`).toBe(false)
}

describe('the change gate, fuzzed with seeds', () => {
  it(`converges every replica and keeps nothing forbidden (${SEEDS} seeds x ${STEPS} steps)`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) run(seed)
  })
})
