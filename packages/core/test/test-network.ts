import * as Y from 'yjs'

/*
 * A deterministic in-memory network in the style of yjs's tests/testHelper.js (TestConnector):
 * every replica sends its updates to every connected peer through a FIFO queue per ordered
 * pair; delivery picks a random non-empty queue, so updates arrive in a random interleaving.
 * Disconnecting drops what was in flight to and from the replica; reconnecting resyncs with
 * every connected peer by state vector (sync step 1 and 2 of y-protocols, done at once).
 */

/** mulberry32: a tiny seeded PRNG, good enough to shuffle test scenarios reproducibly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Seeded random choices. */
export class Prng {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  bool(probability = 0.5): boolean {
    return this.next() < probability
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(0, items.length - 1)]!
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }
}

const FROM_NETWORK = Symbol('test-network')

/** One replica: a Y.Doc per document name, online or not. */
export interface NetworkReplica {
  readonly index: number
  readonly docs: readonly Y.Doc[]
  online: boolean
}

interface Packet {
  readonly doc: number
  readonly update: Uint8Array
}

export class TestNetwork {
  readonly replicas: NetworkReplica[]
  private readonly queues = new Map<string, Packet[]>()

  /** `replicas` replicas, each holding `docs` documents (all initialised from `init`). */
  constructor(
    private readonly prng: Prng,
    replicas: number,
    docs: number,
    init?: (doc: number, ydoc: Y.Doc) => void,
  ) {
    const initial = Array.from({ length: docs }, (_, d) => {
      const doc = new Y.Doc()
      init?.(d, doc)
      return Y.encodeStateAsUpdate(doc)
    })
    this.replicas = Array.from({ length: replicas }, (_, index) => {
      const replica: NetworkReplica = {
        index,
        online: true,
        docs: initial.map((state, d) => {
          const doc = new Y.Doc()
          Y.applyUpdate(doc, state, FROM_NETWORK)
          doc.on('update', (update: Uint8Array, origin: unknown) => {
            if (origin === FROM_NETWORK || !replica.online) return
            for (const peer of this.replicas) {
              if (peer !== replica && peer.online) this.send(replica, peer, { doc: d, update })
            }
          })
          return doc
        }),
      }
      return replica
    })
  }

  private queue(from: NetworkReplica, to: NetworkReplica): Packet[] {
    const key = `${from.index}>${to.index}`
    let queue = this.queues.get(key)
    if (!queue) this.queues.set(key, (queue = []))
    return queue
  }

  private send(from: NetworkReplica, to: NetworkReplica, packet: Packet): void {
    this.queue(from, to).push(packet)
  }

  /** Delivers the oldest packet of a random non-empty queue; false when nothing is in flight. */
  deliverOne(): boolean {
    const pending = [...this.queues.entries()].filter(([, q]) => q.length > 0)
    if (pending.length === 0) return false
    const [key, queue] = this.prng.pick(pending)
    const to = this.replicas[Number(key.split('>')[1])]!
    const packet = queue.shift()!
    Y.applyUpdate(to.docs[packet.doc]!, packet.update, FROM_NETWORK)
    return true
  }

  /** Delivers up to `n` packets. */
  deliver(n: number): void {
    for (let i = 0; i < n && this.deliverOne(); i++);
  }

  /** Takes a replica offline, dropping whatever was in flight to or from it. */
  disconnect(replica: NetworkReplica): void {
    replica.online = false
    for (const peer of this.replicas) {
      this.queue(replica, peer).length = 0
      this.queue(peer, replica).length = 0
    }
  }

  /** Brings a replica back: both sides send what the other's state vector lacks. */
  reconnect(replica: NetworkReplica): void {
    if (replica.online) return
    replica.online = true
    for (const peer of this.replicas) {
      if (peer === replica || !peer.online) continue
      replica.docs.forEach((doc, d) => {
        const peerDoc = peer.docs[d]!
        this.send(replica, peer, {
          doc: d,
          update: Y.encodeStateAsUpdate(doc, Y.encodeStateVector(peerDoc)),
        })
        this.send(peer, replica, {
          doc: d,
          update: Y.encodeStateAsUpdate(peerDoc, Y.encodeStateVector(doc)),
        })
      })
    }
  }

  /** Reconnects everyone and delivers until nothing is in flight. */
  flush(): void {
    for (const replica of this.replicas) this.reconnect(replica)
    while (this.deliverOne());
  }
}
