import type * as Y from 'yjs'

/**
 * Watches some root maps of a document: drops a cached read and calls listeners once after
 * each transaction that touched any of them. Shared by ContactDoc and ConversationDoc.
 */
export class TrackedMaps<Snapshot> {
  private snapshot: { value: Snapshot } | null = null
  private readonly listeners = new Set<() => void>()
  private readonly maps: ReadonlySet<unknown>

  constructor(
    private readonly doc: Y.Doc,
    maps: readonly Y.Map<unknown>[],
    private readonly compute: () => Snapshot,
  ) {
    this.maps = new Set(maps)
    doc.on('afterTransaction', this.onTransaction)
  }

  private readonly onTransaction = (transaction: Y.Transaction): void => {
    if (![...transaction.changed.keys()].some((type) => this.maps.has(type))) return
    // Invalidate before notifying, so listeners read the new state.
    this.snapshot = null
    for (const listener of [...this.listeners]) listener()
  }

  /** The cached read, computed once per change. */
  get(): Snapshot {
    // Inside an open transaction the cache may predate writes made in it (it is dropped only
    // when the transaction ends): read through without caching until then.
    if (this.doc._transaction !== null) return this.compute()
    if (!this.snapshot) this.snapshot = { value: this.compute() }
    return this.snapshot.value
  }

  observe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  destroy(): void {
    this.doc.off('afterTransaction', this.onTransaction)
    this.listeners.clear()
    this.snapshot = null
  }
}
