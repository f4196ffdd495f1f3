/**
 * A cache of values loaded on demand, shared by everything in a server that reads them, with
 * explicit invalidation when the value changes. In one process it is a map of promises; across
 * instances an implementation drops the entry on every instance when any one invalidates it.
 *
 * @example
 * const configs = coordination.cache<CrmConfig | null>('crm-config')
 * const config = await configs.get(workspace, () => storage.getConfig(workspace))
 * configs.set(workspace, updated) // after writing it
 */
export interface InvalidatingCache<T> {
  /** The cached value of `key`, loaded with `load` when absent (a failed load is not kept). */
  get(key: string, load: () => Promise<T>): Promise<T>
  /** Replaces the value of `key` (after this instance changed it). */
  set(key: string, value: T): void
  /** Forgets `key`, so the next `get` loads it again. */
  invalidate(key: string): void
}

/** The in-process cache. */
export function createLocalCache<T>(): InvalidatingCache<T> {
  const entries = new Map<string, Promise<T>>()
  return {
    get(key, load) {
      let entry = entries.get(key)
      if (entry === undefined) {
        entry = load()
        entries.set(key, entry)
        entry.catch(() => {
          if (entries.get(key) === entry) entries.delete(key)
        })
      }
      return entry
    },
    set(key, value) {
      entries.set(key, Promise.resolve(value))
    },
    invalidate(key) {
      entries.delete(key)
    },
  }
}
