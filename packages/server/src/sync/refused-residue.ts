import * as Y from 'yjs'

/** Where a refused change wrote: a key of a root map, or a whole root (`key` null). */
export interface RefusedPlace {
  readonly map: string
  readonly key: string | null
}

/** A root type as `doc.share` holds it. */
type RootType = Y.Doc['share'] extends Map<string, infer T> ? T : never

/** True when `item` was created after `before` (by the transaction being judged). */
const createdSince = (item: Y.Item, before: ReadonlyMap<number, number>): boolean =>
  item.id.clock >= (before.get(item.id.client) ?? 0)

/** Every item of a key's history, newest first (a map keeps one chain per key). */
function keyChain(type: RootType, key: string): Y.Item[] {
  const chain: Y.Item[] = []
  for (let item = type._map.get(key) ?? null; item !== null; item = item.left) chain.push(item)
  return chain
}

/** Every item directly in `type`: its keys' chains and its sequence part. */
function allItems(type: RootType): Y.Item[] {
  const items: Y.Item[] = []
  for (const key of type._map.keys()) items.push(...keyChain(type, key))
  for (let item = type._start; item !== null; item = item.right) items.push(item)
  return items
}

/** Replaces deleted items by GC structs (Yjs' own collection of content whose parent is gone). */
function collect(store: Y.Doc['store'], items: readonly Y.Item[], clients: Set<number>): void {
  for (const item of items) {
    item.gc(store, true)
    clients.add(item.id.client)
  }
}

/** Joins neighbouring GC structs of `client` into one, so a run of purged items costs one. */
function mergeCollected(store: Y.Doc['store'], client: number): void {
  const structs = store.clients.get(client)
  if (structs === undefined) return
  let write = 0
  for (let read = 0; read < structs.length; read += 1) {
    const struct = structs[read] as Y.Item | Y.GC
    const last = write > 0 ? structs[write - 1] : undefined
    if (
      last instanceof Y.GC &&
      struct instanceof Y.GC &&
      last.id.clock + last.length === struct.id.clock
    ) {
      last.length += struct.length
      continue
    }
    structs[write] = struct
    write += 1
  }
  structs.length = write
}

/**
 * Removes from `doc` everything a refused, compensated transaction created under a name the
 * schema does not bound: roots the layout lacks, sequence content in root maps, and keys that
 * did not exist before the transaction (`before` is its state before) and that `admissible`
 * rejects. Compensation already deleted their values; Yjs would still keep each deleted item,
 * and with it the name the sender chose, in memory, in storage and in every sync. Here those
 * items become GC structs (an id range and nothing else, as Yjs does when a parent is gone):
 * other replicas learn only that the sender's clocks were used, and the sender deletes its own
 * copies through the delete set.
 *
 * Admissible keys (ones the schema defines) keep their deleted item: a replica that retries a
 * refused write to such a key refers to that item, and a GC struct would swallow the retry.
 * Keys and roots that existed before keep their history too, since compensation refers to it.
 *
 * Returns the number of items purged.
 *
 * @example
 * compensate(tr)
 * purgeRefusedCreations(doc, tr.beforeState, [{ map: 'custom', key: 'junk' }], allowedRoots,
 *   (map, key) => schemaDefines(map, key))
 */
export function purgeRefusedCreations(
  doc: Y.Doc,
  before: ReadonlyMap<number, number>,
  places: readonly RefusedPlace[],
  allowedRoots: readonly string[],
  admissible: (map: string, key: string) => boolean,
): number {
  const store = doc.store
  const clients = new Set<number>()
  let purged = 0
  const purgeable = (items: readonly Y.Item[]): boolean =>
    items.length > 0 && items.every((item) => item.deleted && createdSince(item, before))
  for (const place of places) {
    const type = doc.share.get(place.map)
    if (type === undefined) continue
    if (!allowedRoots.includes(place.map)) {
      // A root the layout lacks: it goes whole once everything in it is this change's.
      const items = allItems(type)
      if (items.length > 0 && !purgeable(items)) continue
      collect(store, items, clients)
      purged += items.length
      doc.share.delete(place.map)
      continue
    }
    if (place.key === null || place.key === '') {
      // Sequence content in a root map, which holds keyed values only.
      const items: Y.Item[] = []
      for (let item = type._start; item !== null; item = item.right) items.push(item)
      if (!purgeable(items)) continue
      collect(store, items, clients)
      purged += items.length
      type._start = null
      type._length = 0
      continue
    }
    if (admissible(place.map, place.key)) continue
    const chain = keyChain(type, place.key)
    if (!purgeable(chain)) continue
    collect(store, chain, clients)
    purged += chain.length
    type._map.delete(place.key)
  }
  for (const client of clients) mergeCollected(store, client)
  return purged
}

/**
 * Drops what Yjs holds back because it cannot be integrated: structs after a gap in a client's
 * clock, structs referring to structs the document lacks, deletions of unknown structs. Honest
 * clients only send what builds on what the server sent them, so such state only comes from a
 * forged or foreign update; Yjs would keep it in memory and append it to every sync reply,
 * where it grows without bound. Returns true when something was dropped.
 *
 * @example
 * Y.applyUpdate(doc, update, conn)
 * if (dropUnintegrable(doc)) refuse(conn, 'missing-dependency')
 */
export function dropUnintegrable(doc: Y.Doc): boolean {
  const store = doc.store
  if (store.pendingStructs === null && store.pendingDs === null) return false
  store.pendingStructs = null
  store.pendingDs = null
  return true
}
