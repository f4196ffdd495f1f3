import type { CrmConfig, CrmLookupRecord, CrmStorage, PendingWriteBack } from './crm-storage'

const key = (...parts: string[]): string => parts.join('\u0000')

/**
 * The CRM tables of the memory store: same behaviour as SQLite, kept as long as the storage
 * object lives (a server restarted on the same storage finds its pending write-backs again).
 *
 * @example
 * const crm = createMemoryCrmStorage(() => undefined)
 */
export function createMemoryCrmStorage(ensureOpen: () => void): CrmStorage {
  const configs = new Map<string, CrmConfig>()
  const pending = new Map<string, PendingWriteBack>()
  const lookups = new Map<string, CrmLookupRecord>()
  const sequences = new Map<string, number>()

  return {
    async getConfig(workspace) {
      ensureOpen()
      return configs.get(workspace) ?? null
    },
    async putConfig(config) {
      ensureOpen()
      configs.set(config.workspace, config)
    },
    async nextSequence(workspace, contactId) {
      ensureOpen()
      const k = key(workspace, contactId)
      const next = (sequences.get(k) ?? 0) + 1
      sequences.set(k, next)
      return next
    },
    async putPending(rows) {
      ensureOpen()
      for (const row of rows) pending.set(key(row.workspace, row.contactId, row.attributeId), row)
    },
    async listPending(workspace, contactId) {
      ensureOpen()
      return [...pending.values()]
        .filter((r) => r.workspace === workspace && r.contactId === contactId)
        .sort((a, b) => (a.attributeId < b.attributeId ? -1 : 1))
    },
    async clearPending(workspace, contactId, attributeIds) {
      ensureOpen()
      for (const id of attributeIds) pending.delete(key(workspace, contactId, id))
    },
    async putLookup(record) {
      ensureOpen()
      lookups.set(key(record.workspace, record.contactId), record)
    },
    async getLookup(workspace, contactId) {
      ensureOpen()
      return lookups.get(key(workspace, contactId)) ?? null
    },
    async forgetContact(workspace, contactId) {
      ensureOpen()
      for (const [k, row] of pending) {
        if (row.workspace === workspace && row.contactId === contactId) pending.delete(k)
      }
      lookups.delete(key(workspace, contactId))
      sequences.delete(key(workspace, contactId))
    },
  }
}
