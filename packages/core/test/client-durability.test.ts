import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DurabilityTracker } from '../src/client/durability'

const localEdit = (doc: Y.Doc, tracker: DurabilityTracker, key: string, value: string) => {
  const before = Y.getState(doc.store, doc.clientID)
  doc.transact(() => doc.getMap('custom').set(key, value))
  const after = Y.getState(doc.store, doc.clientID)
  if (after > before) tracker.recordLocal(after)
}

const stateVector = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc))

describe('durability tracking', () => {
  it('counts local transactions until an ack covers them', () => {
    const doc = new Y.Doc()
    const tracker = new DurabilityTracker(doc)
    localEdit(doc, tracker, 'a', '1')
    localEdit(doc, tracker, 'b', '2')
    expect(tracker.pending()).toBe(2)
    const afterFirst = new Map([[doc.clientID, 1]])
    tracker.mergeCommitted(afterFirst)
    expect(tracker.pending()).toBe(1)
    tracker.mergeCommitted(stateVector(doc))
    expect(tracker.pending()).toBe(0)
  })

  it('never lets an older ack shrink what is known committed', () => {
    const doc = new Y.Doc()
    const tracker = new DurabilityTracker(doc)
    localEdit(doc, tracker, 'a', '1')
    tracker.mergeCommitted(stateVector(doc))
    expect(tracker.mergeCommitted(new Map([[doc.clientID, 0]]))).toBe(false)
    expect(tracker.pending()).toBe(0)
  })

  it('counts changes of an earlier session by comparing state vectors', () => {
    const earlier = new Y.Doc()
    earlier.getMap('custom').set('a', '1')
    earlier.getMap('custom').set('b', '2')
    const reloaded = new Y.Doc()
    Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(earlier))
    const tracker = new DurabilityTracker(reloaded)
    expect(tracker.pending()).toBe(2)
    tracker.mergeCommitted(new Map([[earlier.clientID, 1]]))
    expect(tracker.pending()).toBe(1)
  })

  it('treats what arrived from the server as committed', () => {
    const remote = new Y.Doc()
    remote.getMap('custom').set('a', '1')
    const update = Y.encodeStateAsUpdate(remote)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    const tracker = new DurabilityTracker(doc)
    expect(tracker.pending()).toBe(1)
    tracker.mergeRemoteUpdate(update)
    expect(tracker.pending()).toBe(0)
  })
})
