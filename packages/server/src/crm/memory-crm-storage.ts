import type {
  CrmConfig,
  CrmDelivery,
  CrmLookupRecord,
  CrmStorage,
  DeliveryState,
  PendingWriteBack,
} from './crm-storage'

const key = (...parts: string[]): string => parts.join('\u0000')

/**
 * The CRM tables of the memory store: same behaviour as SQLite, kept as long as the storage
 * object lives (a server restarted on the same storage finds its outbox again).
 *
 * @example
 * const crm = createMemoryCrmStorage(() => undefined)
 */
export function createMemoryCrmStorage(ensureOpen: () => void): CrmStorage {
  const configs = new Map<string, CrmConfig>()
  const deliveries = new Map<string, CrmDelivery>()
  const pending = new Map<string, PendingWriteBack>()
  const lookups = new Map<string, CrmLookupRecord>()
  const sequences = new Map<string, number>()
  let seq = 0

  const update = (id: string, patch: Partial<CrmDelivery>): void => {
    const row = deliveries.get(id)
    if (row !== undefined) deliveries.set(id, { ...row, ...patch })
  }

  return {
    async getConfig(workspace) {
      ensureOpen()
      return configs.get(workspace) ?? null
    },
    async putConfig(config) {
      ensureOpen()
      configs.set(config.workspace, config)
    },
    async enqueue(input, clear) {
      ensureOpen()
      seq += 1
      const row: CrmDelivery = {
        ...input,
        seq,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: input.createdAt,
        lastError: null,
        updatedAt: input.createdAt,
      }
      deliveries.set(row.id, row)
      for (const attributeId of clear?.attributeIds ?? []) {
        pending.delete(key(input.workspace, clear!.contactId, attributeId))
      }
      return row
    },
    async dueHeads(now, limit) {
      ensureOpen()
      const heads = new Map<string, CrmDelivery>()
      for (const row of deliveries.values()) {
        if (row.state !== 'pending') continue
        const k = key(row.workspace, row.contactId)
        const head = heads.get(k)
        if (head === undefined || row.seq < head.seq) heads.set(k, row)
      }
      return [...heads.values()]
        .filter((row) => row.nextAttemptAt <= now)
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.seq - b.seq)
        .slice(0, limit)
    },
    async nextDueAt() {
      ensureOpen()
      let next: number | null = null
      for (const row of deliveries.values()) {
        if (row.state === 'pending' && (next === null || row.nextAttemptAt < next)) {
          next = row.nextAttemptAt
        }
      }
      return next
    },
    async markDelivered(id, attempts, at) {
      ensureOpen()
      update(id, { state: 'delivered', attempts, updatedAt: at, lastError: null })
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      ensureOpen()
      update(id, { attempts, nextAttemptAt, lastError: error, updatedAt: Date.now() })
    },
    async markDead(id, attempts, error, at) {
      ensureOpen()
      update(id, { state: 'dead', attempts, lastError: error, updatedAt: at })
    },
    async revive(workspace, id, at) {
      ensureOpen()
      const row = deliveries.get(id)
      if (row?.workspace !== workspace || row.state !== 'dead') return false
      update(id, { state: 'pending', attempts: 0, nextAttemptAt: at, updatedAt: at })
      return true
    },
    async getDelivery(workspace, id) {
      ensureOpen()
      const row = deliveries.get(id)
      return row?.workspace === workspace ? row : null
    },
    async listDeliveries(workspace, query) {
      ensureOpen()
      return [...deliveries.values()]
        .filter((r) => r.workspace === workspace)
        .filter((r) => query.state === undefined || r.state === query.state)
        .sort((a, b) => b.seq - a.seq)
        .slice(0, query.limit)
    },
    async countDeliveries(workspace) {
      ensureOpen()
      const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, dead: 0 }
      for (const row of deliveries.values()) if (row.workspace === workspace) counts[row.state] += 1
      return counts
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
      for (const [id, row] of deliveries) {
        if (row.workspace === workspace && row.contactId === contactId) deliveries.delete(id)
      }
      for (const [k, row] of pending) {
        if (row.workspace === workspace && row.contactId === contactId) pending.delete(k)
      }
      lookups.delete(key(workspace, contactId))
      sequences.delete(key(workspace, contactId))
    },
  }
}
