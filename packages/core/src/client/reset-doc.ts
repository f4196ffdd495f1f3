import { uint32 } from 'lib0/random'
import type * as Y from 'yjs'

/**
 * Empties `doc` in place, as if it had just been created: no content, no history, a new client
 * id. Handles, typed readers and the provider keep pointing at the same Y.Doc, so a replica can
 * drop a stale cache without every holder having to reopen the document.
 *
 * Clearing the maps alone would not do: deleted items stay in the struct store (map keys
 * included), and the next sync step 2 would send them to the server. So the store is replaced
 * too. That touches Yjs internals (`store`, `_map`, `_start`, `_length`), which is why it lives
 * here alone; `origin` marks the clearing transaction so listeners can tell it from an edit.
 * Call it only while nothing can send or store the doc's updates (provider and local copy
 * detached): the clearing transaction itself is an update.
 *
 * @example
 * replica.provider.disconnect()
 * resetDoc(doc, ['profile', 'custom'], DISCARD_ORIGIN)
 */
export function resetDoc(doc: Y.Doc, rootMaps: readonly string[], origin: unknown): void {
  // A real transaction first: typed readers drop their caches and observers hear the change.
  doc.transact(() => {
    for (const name of rootMaps) doc.getMap(name).clear()
  }, origin)
  const Store = doc.store.constructor as new () => typeof doc.store
  doc.store = new Store()
  for (const type of doc.share.values()) {
    type._map.clear()
    type._start = null
    type._length = 0
    type._searchMarker = type._searchMarker === null ? null : []
  }
  // Clocks restart at zero in the new store: a fresh id keeps them from colliding with items
  // of the old one that anybody may have seen.
  doc.clientID = uint32()
}
