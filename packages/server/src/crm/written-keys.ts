import * as Y from 'yjs'

/**
 * The client clocks an update carries (`Y.parseUpdateMeta`): parsed once, it serves every
 * {@link writtenKeys} call about that update (parsing decodes all of its content).
 */
export type UpdateClocks = ReturnType<typeof Y.parseUpdateMeta>

/**
 * The keys of a root map whose current value was written by `update` (an update the document
 * already holds). A committed update says which client clocks it carries; a key's current item
 * with an id in that range was set by it. Keys overwritten again since are reported by the
 * later update instead, so every value is seen once, as it stands.
 *
 * @example
 * writtenKeys(doc, event.update, 'custom') // ['plan']
 * const clocks = Y.parseUpdateMeta(event.update)
 * writtenKeys(doc, clocks, 'platform') // []
 */
export function writtenKeys(
  doc: Y.Doc,
  update: Uint8Array | UpdateClocks,
  mapName: string,
): string[] {
  const { from, to } = update instanceof Uint8Array ? Y.parseUpdateMeta(update) : update
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
