import * as Y from 'yjs'

/**
 * Tracks which local changes the server has committed, from its durable acknowledgements
 * (message 100). The server persists before it relays, so everything that arrived from the
 * server counts as committed too.
 *
 * Pending changes of this session are counted per local transaction (its end clock); changes of
 * earlier sessions (loaded from IndexedDB under older client ids) are counted by comparing state
 * vectors, since their transaction boundaries are gone.
 */
export class DurabilityTracker {
  /** Per Yjs client id, the clock up to which the server's storage holds that client's items. */
  private readonly committed = new Map<number, number>()
  /** End clocks (exclusive) of this session's local transactions, ascending. */
  private localEnds: number[] = []
  /** Local transactions of this session the server has acknowledged as committed. */
  private acked = 0

  constructor(private readonly doc: Y.Doc) {}

  /** Forgets everything: the document was emptied and starts over (a dropped stale cache). */
  reset(): void {
    this.committed.clear()
    this.localEnds = []
    this.acked = 0
  }

  /** Records a local transaction that ended at `endClock` for this doc's client id. */
  recordLocal(endClock: number): void {
    const last = this.localEnds[this.localEnds.length - 1]
    if (last === undefined || endClock > last) this.localEnds.push(endClock)
  }

  /** Merges an acknowledged (or otherwise known committed) state vector. Returns true if it grew. */
  mergeCommitted(stateVector: Map<number, number>): boolean {
    let grew = false
    for (const [client, clock] of stateVector) {
      if (clock > (this.committed.get(client) ?? 0)) {
        this.committed.set(client, clock)
        grew = true
      }
    }
    if (grew) {
      const mine = this.committed.get(this.doc.clientID) ?? 0
      const before = this.localEnds.length
      this.localEnds = this.localEnds.filter((end) => end > mine)
      this.acked += before - this.localEnds.length
    }
    return grew
  }

  /** Merges the state vector of an update that came from the server. */
  mergeRemoteUpdate(update: Uint8Array): boolean {
    return this.mergeCommitted(Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)))
  }

  /** The committed state vector, for saving beside the IndexedDB copy. */
  committedEntries(): [number, number][] {
    return [...this.committed]
  }

  /** How many local transactions of this session the server has acknowledged as committed. */
  acknowledged(): number {
    return this.acked
  }

  /** The number of local changes the server has not acknowledged as committed. */
  pending(): number {
    const me = this.doc.clientID
    const mine = this.committed.get(me) ?? 0
    let count = 0
    for (const end of this.localEnds) if (end > mine) count++
    const local = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    for (const [client, clock] of local) {
      if (client === me) continue
      count += Math.max(0, clock - (this.committed.get(client) ?? 0))
    }
    return count
  }
}
