import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Backend } from '../src/backend'
import type { NewDomainEvent } from '../src/events/domain-event'
import { backends } from './backends'
import type { OpenBackend } from './backends'
import { codeOf } from './contract-helpers'
import {
  contactRow,
  conversationRow,
  rebuild,
  recordUpdates,
  updateSetting,
} from './storage-helpers'

const mapOf = (parts: readonly Uint8Array[]): Record<string, unknown> =>
  rebuild(parts).getMap('m').toJSON()

const changed = (subject: string): NewDomainEvent => ({
  type: 'contact.changed',
  workspace: 'w1',
  subject,
  actor: { userId: 'u1', role: 'agent' },
  data: { custom: ['plan'], platform: [], created: false },
  at: 1_000,
})

describe.each(backends)('%s document store', (_name, open) => {
  let backend: Backend
  let bytesAtRest: OpenBackend['bytesAtRest']
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    ;({ backend, bytesAtRest, cleanup } = await open())
  })
  afterEach(() => cleanup())

  it('closes once however often it is told to', async () => {
    const doc = new Y.Doc()
    const updates = recordUpdates(doc)
    doc.getMap<number>('m').set('k', 1)
    await backend.documents.append('w1/contact/c1', updates[0]!)
    // A process on its way out may close its backend from more than one place.
    await Promise.all([backend.close(), backend.close()])
    await expect(backend.close()).resolves.toBeUndefined()
  })

  it('loads nothing for an unknown document and every append in order for a known one', async () => {
    expect(await backend.documents.load('w1/contact/none')).toEqual([])
    const doc = new Y.Doc()
    const updates = recordUpdates(doc)
    for (let i = 0; i < 30; i++) doc.getMap<number>('m').set(`k${i % 7}`, i)
    // Concurrent appends, as a burst of edits arrives: acknowledged in the order they came.
    await Promise.all(updates.map((u) => backend.documents.append('w1/contact/c1', u)))
    const parts = await backend.documents.load('w1/contact/c1')
    expect(parts).toHaveLength(updates.length)
    expect(parts.map((p) => Buffer.from(p).toString('hex'))).toEqual(
      updates.map((u) => Buffer.from(u).toString('hex')),
    )
    expect(mapOf(parts)).toEqual(doc.getMap('m').toJSON())
  })

  it('writes the index row and the events of an append with it', async () => {
    const before = (await backend.events.read(0, 100)).length
    await backend.documents.append(
      'w1/contact/c1',
      updateSetting('name', 'Ada'),
      contactRow('w1', 'c1', { matchValue: 'ada@example.org' }),
      [changed('c1')],
    )
    expect(await backend.index.findContact('w1', 'whatsapp', 'pu-c1')).toMatchObject({
      id: 'c1',
      matchValue: 'ada@example.org',
    })
    const events = await backend.events.read(0, 100)
    expect(events).toHaveLength(before + 1)
    expect(events.at(-1)).toMatchObject({ type: 'contact.changed', subject: 'c1' })
  })

  it('refuses an index row that is not the document’s, and keeps nothing of that append', async () => {
    const code = await codeOf(
      backend.documents.append('w1/contact/c1', updateSetting('a', '1'), contactRow('w1', 'c2')),
    )
    expect(code).not.toMatch(/^not a CardfileError/)
    expect(await backend.documents.load('w1/contact/c1')).toEqual([])
    expect(await backend.index.findContact('w1', 'whatsapp', 'pu-c2')).toBeNull()
  })

  it('compacts a document into a snapshot that loads first and holds the same state', async () => {
    const doc = new Y.Doc()
    const updates = recordUpdates(doc)
    for (let i = 0; i < 20; i++) doc.getMap<number>('m').set(`k${i}`, i)
    for (const u of updates) await backend.documents.append('w1/contact/c1', u)

    expect(await backend.documents.compact('w1/contact/c1')).toBe(true)
    const parts = await backend.documents.load('w1/contact/c1')
    expect(parts).toHaveLength(1)
    expect(mapOf(parts)).toEqual(doc.getMap('m').toJSON())

    // Appends after the compaction follow the snapshot; compacting again merges them in.
    doc.getMap<number>('m').set('late', 99)
    await backend.documents.append('w1/contact/c1', updates.at(-1)!)
    expect(await backend.documents.load('w1/contact/c1')).toHaveLength(2)
    expect(await backend.documents.compact('w1/contact/c1')).toBe(true)
    expect(mapOf(await backend.documents.load('w1/contact/c1'))).toEqual(doc.getMap('m').toJSON())
    expect(await backend.documents.compact('w1/contact/none')).toBe(false)
  })

  it('drops overwritten values from every stored byte at the next compaction, and loads the same document', async () => {
    const doc = new Y.Doc()
    const updates = recordUpdates(doc)
    const map = doc.getMap<string>('m')
    const text = doc.getText('t')
    map.set('plan', 'overwritten-Quokka-7731')
    text.insert(0, 'kept Deleted-Wombat-4410 kept')
    for (let i = 0; i < 40; i++) map.set('plan', `plan ${i}`)
    text.delete(5, 'Deleted-Wombat-4410 '.length)
    for (const u of updates) await backend.documents.append('w1/contact/c1', u)
    const found = async (marker: string): Promise<boolean> =>
      (await bytesAtRest('w1/contact/c1')).includes(Buffer.from(marker))
    // The scan sees them before: their absence afterwards means something.
    expect(await found('overwritten-Quokka-7731')).toBe(true)
    expect(await found('Deleted-Wombat-4410')).toBe(true)

    expect(await backend.documents.compact('w1/contact/c1')).toBe(true)
    expect(await found('overwritten-Quokka-7731')).toBe(false)
    expect(await found('Deleted-Wombat-4410')).toBe(false)
    expect(await found('plan 38')).toBe(false)
    const parts = await backend.documents.load('w1/contact/c1')
    expect(parts).toHaveLength(1)
    const loaded = rebuild(parts)
    expect(loaded.getMap('m').toJSON()).toEqual({ plan: 'plan 39' })
    expect(loaded.getText('t').toString()).toBe('kept kept')
    expect(Y.encodeStateVector(loaded)).toEqual(Y.encodeStateVector(doc))
    // The snapshot is the document re-encoded (the writer's own Y.Doc collects garbage too).
    expect(parts[0]!.byteLength).toBeLessThanOrEqual(Y.encodeStateAsUpdate(doc).byteLength * 1.1)
  })

  it('lets a client holding the state from before a compaction merge its offline edits and converge', async () => {
    const writer = new Y.Doc()
    const updates = recordUpdates(writer)
    writer.getMap<string>('m').set('plan', 'silver')
    writer.getText('t').insert(0, 'hello wide world')
    for (const u of updates.splice(0)) await backend.documents.append('w1/contact/c1', u)
    // A client syncs, then goes offline still holding what the writer is about to overwrite.
    const offline = rebuild(await backend.documents.load('w1/contact/c1'))
    writer.getMap<string>('m').set('plan', 'gold')
    writer.getText('t').delete(5, ' wide'.length)
    for (const u of updates.splice(0)) await backend.documents.append('w1/contact/c1', u)
    expect(await backend.documents.compact('w1/contact/c1')).toBe(true)

    // Offline edits next to content the snapshot no longer holds, and over the overwritten key.
    offline.getText('t').insert('hello wide'.length, ' (offline)')
    offline.getMap<string>('m').set('plan', 'bronze')
    offline.getMap<string>('m').set('note', 'from offline')

    // Reconnect: the client sends what the store lacks and receives what it lacks.
    const stored = rebuild(await backend.documents.load('w1/contact/c1'))
    await backend.documents.append(
      'w1/contact/c1',
      Y.encodeStateAsUpdate(offline, Y.encodeStateVector(stored)),
    )
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(stored, Y.encodeStateVector(offline)))
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(offline, Y.encodeStateVector(writer)))

    const merged = rebuild(await backend.documents.load('w1/contact/c1'))
    expect(merged.getText('t').toString()).toBe('hello (offline) world')
    expect(merged.getText('t').toString()).toBe(offline.getText('t').toString())
    expect(merged.getMap('m').toJSON()).toEqual(offline.getMap('m').toJSON())
    expect(merged.getMap('m').get('note')).toBe('from offline')
    expect(writer.getMap('m').toJSON()).toEqual(offline.getMap('m').toJSON())
    expect(writer.getText('t').toString()).toBe(offline.getText('t').toString())
    expect(await backend.documents.compact('w1/contact/c1')).toBe(true)
    const again = rebuild(await backend.documents.load('w1/contact/c1'))
    expect(again.getMap('m').toJSON()).toEqual(offline.getMap('m').toJSON())
    expect(again.getText('t').toString()).toBe('hello (offline) world')
  })

  it('erases documents with their index rows, leaves tombstones and refuses later appends', async () => {
    await backend.documents.append('w1/contact/c1', updateSetting('a', '1'), contactRow('w1', 'c1'))
    await backend.documents.append(
      'w1/conversation/v1',
      updateSetting('b', '2'),
      conversationRow('w1', 'v1', 'c1'),
    )
    await backend.documents.append('w1/contact/c2', updateSetting('c', '3'), contactRow('w1', 'c2'))

    await backend.documents.erase(['w1/contact/c1', 'w1/conversation/v1'])
    await backend.documents.sealErasure()

    expect(await backend.documents.isErased('w1/contact/c1')).toBe(true)
    expect(await backend.documents.isErased('w1/conversation/v1')).toBe(true)
    expect(await backend.documents.isErased('w1/contact/c2')).toBe(false)
    expect(await backend.documents.load('w1/contact/c1')).toEqual([])
    expect(await backend.index.findContact('w1', 'whatsapp', 'pu-c1')).toBeNull()
    expect(await backend.index.findOpenConversation('w1', 'c1')).toBeNull()
    expect(await codeOf(backend.documents.append('w1/contact/c1', updateSetting('x', 'y')))).toBe(
      'deleted',
    )
    // Nothing else went with them.
    expect(mapOf(await backend.documents.load('w1/contact/c2'))).toEqual({ c: '3' })
    expect(await backend.index.findContact('w1', 'whatsapp', 'pu-c2')).toMatchObject({ id: 'c2' })
    // Erasing again, or erasing nothing, changes nothing.
    await backend.documents.erase(['w1/contact/c1'])
    await backend.documents.erase([])
    expect(await backend.documents.isErased('w1/contact/c1')).toBe(true)
  })

  it('keeps its generation while open and gives another backend another one', async () => {
    const first = await backend.generation()
    expect(first).toMatch(/\S{8,}/)
    expect(await backend.generation()).toBe(first)
    const other = await open()
    try {
      expect(await other.backend.generation()).not.toBe(first)
    } finally {
      await other.cleanup()
    }
  })
})
