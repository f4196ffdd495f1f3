import * as Y from 'yjs'

/**
 * The keys of a root map whose current value was written by `update` (an update the document
 * already holds). A committed update says which client clocks it carries; a key's current item
 * with an id in that range was set by it. Keys overwritten again since are reported by the
 * later update instead, so every value is seen once, as it stands.
 *
 * @example
 * writtenKeys(doc, event.update, 'custom') // ['plan']
 */
export function writtenKeys(doc: Y.Doc, update: Uint8Array, mapName: string): string[] {
  const { from, to } = Y.parseUpdateMeta(update)
  const keys: string[] = []
  for (const [key, item] of doc.getMap(mapName)._map) {
    const start = from.get(item.id.client)
    const end = to.get(item.id.client)
    if (start !== undefined && end !== undefined && item.id.clock >= start && item.id.clock < end) {
      keys.push(key)
    }
  }
  return keys
}
