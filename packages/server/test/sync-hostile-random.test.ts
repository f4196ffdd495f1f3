import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { RawClient, TestServer } from './sync-helpers'
import {
  connectSynced,
  expectPoll,
  fieldValue,
  makeToken,
  startSeededServer,
  syncUpdateMessage,
} from './sync-helpers'
import { prng } from './prng'

const DOC = 'demo/contact/c1'
/** Every byte an attacker chooses starts with this; none may ever be stored or served. */
const MARK = 'ZQXH'
const SEEDS = 12
const STEPS = 30

let t: TestServer | null = null
afterEach(async () => {
  await t?.close()
  t = null
})

function awarenessMessage(id: number, clock: number, state: unknown): Uint8Array {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, id)
  encoding.writeVarUint(update, clock)
  encoding.writeVarString(update, JSON.stringify(state))
  const message = encoding.createEncoder()
  encoding.writeVarUint(message, 1)
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update))
  return encoding.toUint8Array(message)
}

/** Waits until the server has handled everything `client` sent (a query round trip). */
async function roundTrip(client: RawClient): Promise<void> {
  if (client.closeInfo !== null) return
  const before = client.types.length
  client.send(new Uint8Array([3]))
  await expectPoll(() => client.types.length > before || client.closeInfo !== null)
}

const holds = (bytes: Uint8Array, text: string): boolean =>
  Buffer.from(bytes).includes(Buffer.from(text))

const customJson = (doc: Y.Doc): string =>
  JSON.stringify(Object.fromEntries([...doc.getMap('custom').entries()].sort()))

describe('the server against hostile updates mixed with honest edits', () => {
  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))(
    'stores no refused byte, stays small and openable, and converges (seed %i)',
    async (seed) => {
      const rng = prng(seed)
      t = await startSeededServer()
      const server = t.server
      const agent = { role: 'agent' as const, userId: 'ana' }
      const anaToken = await makeToken({ user: 'ana', role: 'agent' })
      const malloryToken = await makeToken({ user: 'mallory', role: 'agent' })
      const honest = [
        await connectSynced(server, DOC, anaToken),
        await connectSynced(server, DOC, anaToken),
      ]
      let attacker = await connectSynced(server, DOC, malloryToken)
      const seen = new Awareness(honest[1]!.doc)
      seen.setLocalState(null)
      honest[1]!.ws.on('message', (data: Buffer) => {
        const decoder = decoding.createDecoder(new Uint8Array(data))
        if (decoding.readVarUint(decoder) !== 1) return
        applyAwarenessUpdate(seen, decoding.readVarUint8Array(decoder), 'server')
      })
      const anaPresenceId = honest[0]!.doc.clientID
      honest[0]!.send(awarenessMessage(anaPresenceId, 1, { editing: null }))

      const stored = async (): Promise<Uint8Array> =>
        Y.mergeUpdates(await t!.backend.documents.load(DOC))
      const baseline = (await stored()).byteLength
      let honestEdits = 0
      let clock = 10

      const hostile: Array<(tag: string) => void> = [
        // A key of an attribute nobody defined.
        (tag) => attacker.doc.getMap('custom').set(`${tag}_key`, fieldValue('x', agent)),
        // A root the layout lacks.
        (tag) => attacker.doc.getMap(`${tag}_root`).set('a', 1),
        // A key name far past any the layout allows.
        (tag) =>
          attacker.doc.getMap('custom').set(`${tag}${'L'.repeat(2000)}`, fieldValue('x', agent)),
        // A forbidden value for a defined attribute.
        (tag) => attacker.doc.getMap('custom').set('plan', fieldValue(`${tag}-platinum`, agent)),
        // A nested type under a new key.
        (tag) => {
          const nested = new Y.Map<string>()
          attacker.doc.getMap('custom').set(`${tag}_nested`, nested)
          nested.set('inner', tag)
        },
        // Junk keys written and deleted in one update.
        (tag) =>
          attacker.doc.transact(() => {
            const custom = attacker.doc.getMap('custom')
            for (let i = 0; i < 20; i++) custom.set(`${tag}_gone${i}`, 1)
            for (let i = 0; i < 20; i++) custom.delete(`${tag}_gone${i}`)
          }),
        // Structs whose first struct is never sent.
        (tag) => {
          const scratch = new Y.Doc()
          scratch.getMap('custom').set('note', fieldValue('first', agent))
          const sv = Y.encodeStateVector(scratch)
          scratch.getMap('custom').set('note', fieldValue(`${tag}-orphan`, agent))
          attacker.send(syncUpdateMessage(Y.encodeStateAsUpdate(scratch, sv)))
        },
        // Deletions of structs of a client the document has never seen.
        () => {
          const scratch = new Y.Doc()
          for (let i = 0; i < 50; i++) scratch.getMap('custom').set(`k${i % 5}`, i)
          const deletes = Y.diffUpdate(Y.encodeStateAsUpdate(scratch), Y.encodeStateVector(scratch))
          attacker.send(syncUpdateMessage(deletes))
        },
        // Presence for the honest agent's client id: an overwrite, then a removal.
        (tag) => {
          clock += 2
          attacker.send(awarenessMessage(anaPresenceId, clock, { editing: tag, name: tag }))
          attacker.send(awarenessMessage(anaPresenceId, clock + 1, null))
        },
        // Presence under an id of its own that names someone else.
        (tag) =>
          attacker.send(
            awarenessMessage(424242, clock++, { userId: 'ana', name: `${tag}-Ana`, role: 'admin' }),
          ),
      ]

      for (let step = 0; step < STEPS; step++) {
        const tag = `${MARK}${seed}s${step}`
        if (rng.int(3) === 0) {
          const writer = rng.pick(honest)
          const value = rng.pick(['gold', 'silver'])
          writer.doc.transact(() => {
            writer.doc.getMap('custom').set('plan', fieldValue(value, agent))
            writer.doc.getMap('custom').set('note', fieldValue(`n${step}`, agent))
          })
          honestEdits += 1
        } else {
          rng.pick(hostile)(tag)
        }
        if (attacker.closeInfo !== null) attacker = await connectSynced(server, DOC, malloryToken)
        await roundTrip(attacker)
        for (const client of honest) await roundTrip(client)

        const bytes = await stored()
        expect(holds(bytes, MARK), `seed ${seed} step ${step}: refused bytes stored`).toBe(false)
        expect(bytes.byteLength).toBeLessThan(baseline + 200 * honestEdits + 160 * (step + 1))
        // Anyone opening the document now gets it promptly, and nothing refused with it.
        const fresh = await connectSynced(server, DOC, anaToken)
        const sync = Y.encodeStateAsUpdate(fresh.doc)
        fresh.close()
        expect(holds(sync, MARK), `seed ${seed} step ${step}: refused bytes served`).toBe(false)
        expect(sync.byteLength).toBeLessThan(baseline + 200 * honestEdits + 160 * (step + 1))
        // Honest replicas converge with the server's copy.
        const truth = await server.host.read(DOC, (doc) => customJson(doc))
        await expectPoll(() => honest.every((c) => customJson(c.doc) === truth))
        for (const c of honest) expect(c.closeInfo).toBeNull()
        // Ana's presence is still Ana's, whatever the attacker sent for her id.
        await expectPoll(() => seen.getStates().has(anaPresenceId))
        expect(seen.getStates().get(anaPresenceId)).toMatchObject({
          userId: 'ana',
          editing: null,
        })
        for (const state of seen.getStates().values()) {
          expect(JSON.stringify(state)).not.toContain(`"userId":"ana","name":"${MARK}`)
          if ((state as { name?: string }).name?.startsWith(MARK) === true) {
            expect(state).toMatchObject({ userId: 'mallory' })
          }
        }
      }
    },
    30_000,
  )
})
