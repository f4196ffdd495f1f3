import { compareNewest } from '../storage/index-rules'
import type { ContactIndexRow } from '../storage/storage'
import type { ExportJob, ExportStore } from './export-store'

/**
 * Export jobs in memory, for the memory store. A snapshot copies the matching rows when it
 * opens (the memory store holds little data, and a copy is trivially consistent).
 *
 * @example
 * const exports = createMemoryExportStore(() => contacts.values())
 */
export function createMemoryExportStore(contacts: () => Iterable<ContactIndexRow>): ExportStore {
  const jobs = new Map<string, ExportJob>()
  const key = (workspace: string, id: string): string => `${workspace}\u0000${id}`
  return {
    defaultDir: null,

    async save(job) {
      jobs.set(key(job.workspace, job.id), job)
    },

    async get(workspace, id) {
      return jobs.get(key(workspace, id)) ?? null
    },

    async list(workspace) {
      return [...jobs.values()]
        .filter((j) => j.workspace === workspace)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
    },

    async running() {
      return [...jobs.values()].filter((j) => j.status === 'running')
    },

    openContactSnapshot(workspace, range) {
      // Oldest first, as the SQLite snapshot reads.
      const rows = [...contacts()]
        .filter((r) => r.workspace === workspace)
        .filter((r) => range.from === null || r.createdAt >= range.from)
        .filter((r) => range.to === null || r.createdAt < range.to)
        .sort((a, b) => compareNewest(b, a))
      let at = 0
      return {
        total: rows.length,
        next(max) {
          const chunk = rows.slice(at, at + max)
          at += chunk.length
          return chunk
        },
        close() {
          at = rows.length
        },
      }
    },
  }
}
