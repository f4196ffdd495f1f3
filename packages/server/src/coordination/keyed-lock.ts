/**
 * Runs async tasks one at a time per key. The inbound route uses it so that two messages from
 * one new channel identity arriving together create one contact, not two.
 *
 * @example
 * const lock = createKeyedLock()
 * await lock.run('demo/x/42', () => ingest(message))
 */
export interface KeyedLock {
  run<T>(key: string, task: () => Promise<T>): Promise<T>
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>()
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve()
      const result = previous.then(task, task)
      // Settled either way, so one failed task never blocks the next.
      const tail = result.then(
        () => undefined,
        () => undefined,
      )
      tails.set(key, tail)
      void tail.then(() => {
        // Forget the key once nothing else queued behind this task, so the map stays small.
        if (tails.get(key) === tail) tails.delete(key)
      })
      return result
    },
  }
}
