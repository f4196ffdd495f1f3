import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness'
import type { RawClient, TestServer } from './sync-helpers'
import { connectSynced, expectPoll, makeToken, startSeededServer } from './sync-helpers'

const DOC = 'demo/contact/c1'

let t: TestServer | null = null
afterEach(async () => {
  await t?.close()
  t = null
})

/** An awareness message (type 1) with hand-written entries: any client id, clock and state. */
function presenceMessage(
  entries: ReadonlyArray<{ id: number; clock: number; state: unknown }>,
): Uint8Array {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(update, entry.id)
    encoding.writeVarUint(update, entry.clock)
    encoding.writeVarString(update, JSON.stringify(entry.state))
  }
  const message = encoding.createEncoder()
  encoding.writeVarUint(message, 1)
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update))
  return encoding.toUint8Array(message)
}

/** What a client sees of everyone's presence, kept up to date from the server's messages. */
function watchPresence(client: RawClient): Awareness {
  const awareness = new Awareness(client.doc)
  awareness.setLocalState(null)
  client.ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    if (decoding.readVarUint(decoder) !== 1) return
    applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'server')
  })
  return awareness
}

async function start() {
  t = await startSeededServer()
  const connect = async (user: string, role: 'agent' | 'admin', name?: string) =>
    connectSynced(
      t!.server,
      DOC,
      await makeToken({ user, role, ...(name === undefined ? {} : { name }) }),
    )
  const ana = await connect('ana', 'admin', 'Ana Lima')
  const mallory = await connect('mallory', 'agent', 'Mallory')
  const observer = await connect('olga', 'agent')
  return { connect, ana, mallory, observer, seen: watchPresence(observer) }
}

/** Waits until the server has handled everything `client` sent (a query round trip). */
async function roundTrip(client: RawClient): Promise<void> {
  const before = client.types.length
  client.send(new Uint8Array([3]))
  await expectPoll(() => client.types.length > before)
}

describe('presence means the token that published it', () => {
  it('stamps the identity from the token over a state that names someone else', async () => {
    const { mallory, seen } = await start()
    mallory.send(
      presenceMessage([
        { id: 7001, clock: 1, state: { userId: 'ana', name: 'Ana Lima', role: 'admin' } },
      ]),
    )
    await expectPoll(() => seen.getStates().has(7001))
    expect(seen.getStates().get(7001)).toMatchObject({
      userId: 'mallory',
      name: 'Mallory',
      role: 'agent',
    })
  })

  it("stamps a stock editor's user object as well", async () => {
    const { mallory, seen } = await start()
    mallory.send(
      presenceMessage([{ id: 7002, clock: 1, state: { user: { name: 'Ana', color: '#f00' } } }]),
    )
    await expectPoll(() => seen.getStates().has(7002))
    expect(seen.getStates().get(7002)).toMatchObject({
      user: { id: 'mallory', name: 'Mallory', color: '#f00' },
    })
  })

  it("refuses to overwrite or remove another user's entry by its client id", async () => {
    const { ana, mallory, seen } = await start()
    ana.send(presenceMessage([{ id: 8001, clock: 1, state: { editing: 'custom:plan' } }]))
    await expectPoll(() => seen.getStates().has(8001))
    mallory.send(presenceMessage([{ id: 8001, clock: 5, state: { editing: 'custom:note' } }]))
    mallory.send(presenceMessage([{ id: 8001, clock: 9, state: null }]))
    await roundTrip(mallory)
    await roundTrip(ana)
    expect(seen.getStates().get(8001)).toMatchObject({ userId: 'ana', editing: 'custom:plan' })
    // Ana's own updates still go through.
    ana.send(presenceMessage([{ id: 8001, clock: 2, state: { editing: null } }]))
    await expectPoll(() => (seen.getStates().get(8001) as { editing?: unknown }).editing === null)
    ana.send(presenceMessage([{ id: 8001, clock: 3, state: null }]))
    await expectPoll(() => !seen.getStates().has(8001))
  })

  it('lets a new connection of the same user take over its client id', async () => {
    const { connect, ana, seen } = await start()
    ana.send(presenceMessage([{ id: 9001, clock: 1, state: { editing: null } }]))
    await expectPoll(() => seen.getStates().has(9001))
    const again = await connect('ana', 'admin', 'Ana Lima')
    again.send(presenceMessage([{ id: 9001, clock: 2, state: { editing: 'custom:plan' } }]))
    await expectPoll(
      () => (seen.getStates().get(9001) as { editing?: unknown }).editing === 'custom:plan',
    )
    // The stale socket dropping no longer takes the id with it.
    ana.close()
    await ana.closed
    await roundTrip(again)
    expect(seen.getStates().has(9001)).toBe(true)
  })

  it('keeps at most four client ids per connection and drops non-object states', async () => {
    const { mallory, seen } = await start()
    const entries = Array.from({ length: 50 }, (_, i) => ({ id: 100 + i, clock: 1, state: {} }))
    mallory.send(presenceMessage([{ id: 99, clock: 1, state: 'i am a string' }, ...entries]))
    await expectPoll(() => seen.getStates().size > 0)
    await roundTrip(mallory)
    expect([...seen.getStates().keys()].sort()).toEqual([100, 101, 102, 103])
  })

  it("removes a dropped connection's presence and frees its ids for others", async () => {
    const { connect, mallory, seen } = await start()
    mallory.send(presenceMessage([{ id: 5001, clock: 1, state: {} }]))
    await expectPoll(() => seen.getStates().has(5001))
    mallory.close()
    await expectPoll(() => !seen.getStates().has(5001))
    const other = await connect('zoe', 'agent')
    other.send(presenceMessage([{ id: 5001, clock: 2, state: {} }]))
    await expectPoll(() => (seen.getStates().get(5001) as { userId?: string })?.userId === 'zoe')
  })
})
