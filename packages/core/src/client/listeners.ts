/** A minimal listener set: `add` returns the function that removes the listener. */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>()

  add(listener: (...args: A) => void): () => void {
    this.set.add(listener)
    return () => {
      this.set.delete(listener)
    }
  }

  emit(...args: A): void {
    for (const listener of [...this.set]) {
      try {
        listener(...args)
      } catch (error) {
        // one failing listener must not starve the others (or break the sync loop)
        console.error(error)
      }
    }
  }

  get size(): number {
    return this.set.size
  }

  clear(): void {
    this.set.clear()
  }
}
