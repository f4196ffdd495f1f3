import { compareNewest } from '../storage/index-rules'
import type { ContactIndexRow } from '../storage/index-store'
import { checkChunkSize, snapshotClosed } from './export-store'
import type { ExportStore } from './export-store'

/**
 * Contact snapshots of the memory store: a snapshot copies the matching rows when it opens
 * (the memory store holds little data, and a copy is trivially consistent).
 *
 * @example
 * const exports = createMemoryExportStore(() => contacts.values())
 * const snapshot = await exports.openContactSnapshot('demo', { from: null, to: null })
 */
export function createMemoryExportStore(contacts: () => Iterable<ContactIndexRow>): ExportStore {
  return {
    async openContactSnapshot(workspace, range) {
      // Oldest first, as the SQLite snapshot reads.
      const rows = [...contacts()]
        .filter((r) => r.workspace === workspace)
        .filter((r) => range.from === null || r.createdAt >= range.from)
        .filter((r) => range.to === null || r.createdAt < range.to)
        .sort((a, b) => compareNewest(b, a))
      let at = 0
      let closed = false
      return {
        total: rows.length,
        async next(max) {
          checkChunkSize(max)
          if (closed) throw snapshotClosed()
          const chunk = rows.slice(at, at + max)
          at += chunk.length
          return chunk
        },
        async close() {
          closed = true
        },
      }
    },
  }
}
