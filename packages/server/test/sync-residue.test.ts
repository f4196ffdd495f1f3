import { readFileSync, readdirSync } from 'node:fs'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import type { SqliteBackend } from '@cardfile/server/sqlite'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { tempDir } from './storage-helpers'
import type { RawClient, TestServer } from './sync-helpers'
import {
  connectSynced,
  expectPoll,
  fieldValue,
  makeToken,
  startSeededServer,
  syncUpdateMessage,
} from './sync-helpers'

const ANA = { role: 'agent' as const, userId: 'ana' }
const DOC = 'demo/contact/c1'

let t: TestServer | null = null
let backend: SqliteBackend | null = null
let cleanup: (() => void) | null = null
let dir = ''
afterEach(async () => {
  await t?.close()
  await backend?.close()
  cleanup?.()
  t = null
  backend = null
  cleanup = null
})

/** A server on a SQLite file, seeded; its files can be read byte for byte. */
async function start(): Promise<TestServer> {
  const temp = tempDir('cardfile-residue-')
  dir = temp.dir
  cleanup = temp.cleanup
  backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  t = await startSeededServer({ backend })
  return t
}

/** Every byte the database holds, main file and WAL included. */
const filesBytes = (): Buffer =>
  Buffer.concat(
    readdirSync(dir)
      .filter((name) => name.startsWith('cardfile.db'))
      .map((name) => readFileSync(join(dir, name))),
  )

/** What storage holds for the document, as one update. */
const stored = async (server: TestServer): Promise<Uint8Array> =>
  Y.mergeUpdates(await server.backend.documents.load(DOC))

const contains = (bytes: Uint8Array, marker: string): boolean =>
  Buffer.from(bytes).includes(Buffer.from(marker))

/** Waits until the server answered everything `client` sent (a query round trip). */
async function roundTrip(client: RawClient): Promise<void> {
  const before = client.types.length
  client.send(new Uint8Array([3]))
  await expectPoll(() => client.types.length > before)
}

async function agentPair(server: TestServer) {
  const token = await makeToken({ user: 'ana', role: 'agent' })
  const attacker = await connectSynced(server.server, DOC, token)
  const bystander = await connectSynced(server.server, DOC, token)
  return { token, attacker, bystander }
}

/** A fresh client's full sync of the document: what anyone opening it now would download. */
async function freshSync(server: TestServer, token: string): Promise<Uint8Array> {
  const fresh = await connectSynced(server.server, DOC, token)
  const state = Y.encodeStateAsUpdate(fresh.doc)
  fresh.close()
  return state
}

describe('a refused change leaves nothing of its own behind', () => {
  it('keeps no byte of a 300 KB key name in backend, in the files or in a fresh sync', async () => {
    const server = await start()
    const { token, attacker, bystander } = await agentPair(server)
    const sizeBefore = (await stored(server)).byteLength
    const name = `huge${'K'.repeat(300_000)}`
    attacker.doc.getMap('custom').set(name, fieldValue('x', ANA))
    await expectPoll(() => attacker.refusals.length > 0)
    await roundTrip(attacker)
    await server.server.host.read(DOC, () => undefined)
    const marker = `huge${'K'.repeat(64)}`
    expect(contains(await stored(server), marker)).toBe(false)
    expect((await stored(server)).byteLength - sizeBefore).toBeLessThan(64)
    expect(contains(await freshSync(server, token), marker)).toBe(false)
    expect(filesBytes().includes(Buffer.from(marker))).toBe(false)
    // The sender's own copy loses the key too: it converges with everyone else.
    await expectPoll(() => !attacker.doc.getMap('custom').has(name))
    expect(bystander.doc.getMap('custom').has(name)).toBe(false)
  })

  it('keeps no byte of a 300 KB root name', async () => {
    const server = await start()
    const { token, attacker } = await agentPair(server)
    const sizeBefore = (await stored(server)).byteLength
    const root = `root${'R'.repeat(300_000)}`
    attacker.doc.getMap(root).set('a', 1)
    await expectPoll(() => attacker.refusals.some((r) => r.code === 'unknown-field'))
    await roundTrip(attacker)
    const marker = `root${'R'.repeat(64)}`
    expect(contains(await stored(server), marker)).toBe(false)
    expect((await stored(server)).byteLength - sizeBefore).toBeLessThan(64)
    expect(contains(await freshSync(server, token), marker)).toBe(false)
    expect(filesBytes().includes(Buffer.from(marker))).toBe(false)
  })

  it('stores a bounded few bytes for 10,000 refused keys of attributes nobody defined', async () => {
    const server = await start()
    const { token, attacker, bystander } = await agentPair(server)
    const sizeBefore = (await stored(server)).byteLength
    attacker.doc.transact(() => {
      const custom = attacker.doc.getMap('custom')
      for (let i = 0; i < 10_000; i++) custom.set(`junk_${i}`, fieldValue('x', ANA))
    })
    await expectPoll(() => attacker.refusals.length >= 10_000)
    await roundTrip(attacker)
    expect(contains(await stored(server), 'junk_')).toBe(false)
    expect((await stored(server)).byteLength - sizeBefore).toBeLessThan(64)
    expect(contains(await freshSync(server, token), 'junk_')).toBe(false)
    await expectPoll(
      () => attacker.doc.getMap('custom').size === bystander.doc.getMap('custom').size,
    )
  })

  it('keeps nothing of junk keys created and deleted in one update', async () => {
    const server = await start()
    const { attacker } = await agentPair(server)
    const sizeBefore = (await stored(server)).byteLength
    attacker.doc.transact(() => {
      const custom = attacker.doc.getMap('custom')
      for (let i = 0; i < 1000; i++) custom.set(`gone_${i}`, fieldValue('x', ANA))
    })
    // Sent as one update: the keys and their deletion together.
    const scratch = new Y.Doc()
    const sv = Y.encodeStateVector(attacker.doc)
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(attacker.doc))
    const custom = scratch.getMap('custom')
    scratch.transact(() => {
      for (let i = 0; i < 1000; i++) custom.set(`also_${i}`, fieldValue('x', ANA))
      for (let i = 0; i < 1000; i++) custom.delete(`also_${i}`)
    })
    attacker.send(syncUpdateMessage(Y.encodeStateAsUpdate(scratch, sv)))
    await roundTrip(attacker)
    const bytes = await stored(server)
    expect(contains(bytes, 'gone_')).toBe(false)
    expect(contains(bytes, 'also_')).toBe(false)
    expect(bytes.byteLength - sizeBefore).toBeLessThan(64)
  })

  it('restores an overwritten value and keeps accepting the sender afterwards', async () => {
    const server = await start()
    const { attacker, bystander } = await agentPair(server)
    const custom = attacker.doc.getMap('custom')
    custom.set('plan', fieldValue('platinum', ANA))
    custom.set('unknown_attr', fieldValue('x', ANA))
    await expectPoll(() => attacker.refusals.length >= 2)
    await expectPoll(
      () => (custom.get('plan') as { value: string } | undefined)?.value === 'silver',
    )
    // The same replica goes on with an allowed edit: its clocks still line up with the server's.
    custom.set('note', fieldValue('hello', ANA))
    await expectPoll(
      () =>
        (bystander.doc.getMap('custom').get('note') as { value: string } | undefined)?.value ===
        'hello',
    )
    await expectPoll(() => attacker.saved())
    expect(bystander.doc.getMap('custom').has('unknown_attr')).toBe(false)
  })

  it('lets a replica retry a refused value of a defined attribute', async () => {
    const server = await start()
    const { attacker: agent, bystander } = await agentPair(server)
    const custom = agent.doc.getMap('custom')
    custom.set('note', fieldValue('far too long for ten', ANA))
    await expectPoll(() => agent.refusals.some((r) => r.code === 'too-long'))
    await expectPoll(() => !custom.has('note'))
    custom.set('note', fieldValue('short', ANA))
    await expectPoll(
      () =>
        (bystander.doc.getMap('custom').get('note') as { value: string } | undefined)?.value ===
        'short',
    )
    const reloaded = new Y.Doc()
    Y.applyUpdate(reloaded, await stored(server))
    expect((reloaded.getMap('custom').get('note') as { value: string }).value).toBe('short')
  })
})

describe('updates that can never be integrated', () => {
  /** An update from an invented client whose first struct is never sent. */
  function orphanUpdate(size: number): Uint8Array {
    const scratch = new Y.Doc()
    const custom = scratch.getMap('custom')
    custom.set('note', fieldValue('first', ANA))
    const sv = Y.encodeStateVector(scratch)
    custom.set('note', fieldValue(`o${'P'.repeat(size)}`, ANA))
    return Y.encodeStateAsUpdate(scratch, sv)
  }

  /** A delete set naming clocks of a client the document has never seen, and no structs. */
  function foreignDeletes(ranges: number): Uint8Array {
    const scratch = new Y.Doc()
    const map = scratch.getMap('custom')
    for (let i = 0; i < ranges; i++) {
      map.set(`k${i}`, i)
      map.set(`k${i}`, i + 1)
    }
    return Y.diffUpdate(Y.encodeStateAsUpdate(scratch), Y.encodeStateVector(scratch))
  }

  it('drops them, tells the sender, and keeps the document small and openable', async () => {
    const server = await start()
    const { token, attacker, bystander } = await agentPair(server)
    const sizeBefore = (await stored(server)).byteLength
    for (let i = 0; i < 20; i++) attacker.send(syncUpdateMessage(orphanUpdate(200_000)))
    for (let i = 0; i < 20; i++) attacker.send(syncUpdateMessage(foreignDeletes(500)))
    await expectPoll(() => attacker.refusals.some((r) => r.code === 'missing-dependency'))
    await roundTrip(attacker)
    const marker = `o${'P'.repeat(64)}`
    expect(contains(await stored(server), marker)).toBe(false)
    expect((await stored(server)).byteLength - sizeBefore).toBeLessThan(64)
    const sync = await freshSync(server, token)
    expect(contains(sync, marker)).toBe(false)
    expect(sync.byteLength).toBeLessThan(sizeBefore + 200)
    expect(bystander.closeInfo).toBeNull()
    expect(attacker.closeInfo).toBeNull()
    // The attacker's connection goes on working for allowed edits.
    attacker.doc.getMap('custom').set('note', fieldValue('ok', ANA))
    await expectPoll(() => bystander.doc.getMap('custom').has('note'))
  })
})
