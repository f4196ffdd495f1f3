import { historyCursor, historyPage } from './history-rows'
import type { ValueChange, ValueHistoryEntry, ValueHistoryStore } from './value-history'

/** The memory history, with the insert the memory document store calls inside its append. */
export interface MemoryValueHistory extends ValueHistoryStore {
  /** Keeps changes (called by the document store with the update that holds them). */
  insertNow(changes: readonly ValueChange[]): void
}

/**
 * Value history in memory, for tests and development.
 *
 * @example
 * const history = createMemoryValueHistory()
 * history.insertNow([change])
 * await history.list('demo', 'c1', { attributeId: 'plan', limit: 20, cursor: null })
 */
export function createMemoryValueHistory(): MemoryValueHistory {
  // Per contact, oldest first (ids grow): the list reads it backwards.
  const byContact = new Map<string, ValueHistoryEntry[]>()
  let lastId = 0
  const keyOf = (workspace: string, contactId: string) => `${workspace}\u0000${contactId}`
  return {
    insertNow(changes) {
      for (const change of changes) {
        const key = keyOf(change.workspace, change.contactId)
        const entries = byContact.get(key) ?? []
        entries.push({ ...change, id: (lastId += 1) })
        byContact.set(key, entries)
      }
    },

    async list(workspace, contactId, query) {
      const before = historyCursor(query.cursor, query.limit)
      const entries = byContact.get(keyOf(workspace, contactId)) ?? []
      const found: ValueHistoryEntry[] = []
      for (let i = entries.length - 1; i >= 0 && found.length <= query.limit; i -= 1) {
        const entry = entries[i]!
        if (before !== null && entry.id >= before) continue
        if (query.attributeId !== null && entry.attributeId !== query.attributeId) continue
        found.push(entry)
      }
      return historyPage(found, query.limit)
    },

    async eraseContact(workspace, contactId) {
      byContact.delete(keyOf(workspace, contactId))
    },
  }
}
