import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { resetDoc } from '../src/client/reset-doc'

const DISCARD = Symbol('discard')

describe('resetDoc', () => {
  it('leaves nothing of the old content to send, deleted keys included, under a new client id', () => {
    const doc = new Y.Doc()
    const custom = doc.getMap('custom')
    custom.set('plan', 'gold')
    custom.set('secret', 'x')
    custom.delete('secret')
    const before = doc.clientID
    const seen: unknown[] = []
    doc.on('afterTransaction', (tr: Y.Transaction) => seen.push(tr.origin))

    resetDoc(doc, ['custom'], DISCARD)

    expect(seen).toEqual([DISCARD])
    expect(custom.toJSON()).toEqual({})
    expect(doc.clientID).not.toBe(before)
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(new Y.Doc()))
    // What a sync step 2 would send: an empty update, no keys of the old content.
    const update = Y.encodeStateAsUpdate(doc)
    expect(update).toEqual(Y.encodeStateAsUpdate(new Y.Doc()))
  })

  it('takes content from another replica afterwards as a new document would', () => {
    const doc = new Y.Doc()
    doc.getMap('custom').set('plan', 'gold')
    resetDoc(doc, ['custom'], DISCARD)
    const server = new Y.Doc()
    server.getMap('custom').set('note', 'fresh')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server))
    expect(doc.getMap('custom').toJSON()).toEqual({ note: 'fresh' })
    doc.getMap('custom').set('plan', 'silver')
    Y.applyUpdate(server, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(server)))
    expect(server.getMap('custom').toJSON()).toEqual({ note: 'fresh', plan: 'silver' })
  })
})
