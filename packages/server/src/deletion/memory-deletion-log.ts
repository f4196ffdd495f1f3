import { checkLimit, decodeCursor, newestPage } from '../storage/cursor'
import type { DeletionLog, DeletionRecord } from './deletion-log'
import { duplicateRecord } from './duplicate-record'

/** Newest first: deletedAt descending, then id descending. */
const newestFirst = (a: DeletionRecord, b: DeletionRecord): number =>
  b.deletedAt - a.deletedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/**
 * The deleted-contacts log in memory, for the memory store. `eraseLinks` removes the contact's
 * manual links where the store keeps them.
 *
 * @example
 * const log = createMemoryDeletionLog()
 */
export function createMemoryDeletionLog(
  eraseLinks: (workspace: string, contactId: string) => Promise<void> = async () => undefined,
): DeletionLog {
  const records: DeletionRecord[] = []
  return {
    async append(record) {
      if (records.some((r) => r.workspace === record.workspace && r.id === record.id)) {
        throw duplicateRecord(record)
      }
      // Frozen copies: nothing outside can change a record once written.
      records.push(Object.freeze({ ...record, deletedBy: Object.freeze({ ...record.deletedBy }) }))
    },

    async list(workspace, query) {
      const limit = checkLimit(query.limit)
      const after = decodeCursor(query.cursor, 'newest')
      const rows = records
        .filter((r) => r.workspace === workspace)
        .filter(
          (r) =>
            after === null || r.deletedAt < after.t || (r.deletedAt === after.t && r.id < after.i),
        )
        .sort(newestFirst)
      return newestPage(rows, limit, (r) => ({ t: r.deletedAt, i: r.id }))
    },

    eraseContactRows: eraseLinks,
  }
}
