import * as Y from 'yjs'

/**
 * A document's stored parts (snapshot first, then updates in order) as one update holding its
 * current state only: the parts are applied to a Y.Doc that collects garbage, so the content of
 * every deleted item (an overwritten value, a compensated refusal) is dropped, and the result is
 * re-encoded. A plain merge of the updates would keep all of it, readable at rest.
 *
 * Garbage collection keeps the ids of deleted items (as deleted placeholders of the same length),
 * so a client still holding the deleted content syncs with the snapshot as with any replica: its
 * state vector covers those ids, and its new edits find their neighbours. Updates that cannot be
 * integrated yet (a missing dependency) are kept as they are, as a merge would.
 *
 * @example
 * const snapshot = collectedSnapshot([previousSnapshot, ...updatesSinceThen])
 * // load(doc) now yields [snapshot]: the same document, without what was overwritten
 */
export function collectedSnapshot(parts: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true })
  try {
    // One transaction: deletions are collected once, at its end, whatever part they came in.
    doc.transact(() => {
      for (const part of parts) Y.applyUpdate(doc, part)
    })
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}
