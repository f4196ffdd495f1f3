import Database from 'better-sqlite3'
import { checkChunkSize, snapshotClosed } from './export-store'
import type { ContactSnapshot, ExportStore } from './export-store'
import { toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactSqlRow } from '../storage/contact-sql-row'

/**
 * Contact snapshots on a separate read-only connection to the store's file (export jobs live in
 * the jobs table).
 *
 * @example
 * const exports = createSqliteExportStore('./cardfile.db')
 * const snapshot = await exports.openContactSnapshot('demo', { from: null, to: null })
 */
export function createSqliteExportStore(path: string): ExportStore {
  const inMemory = path === ':memory:' || path === ''
  return {
    async openContactSnapshot(workspace, range) {
      if (inMemory) {
        throw new Error('contact snapshots need a database file, not an in-memory database')
      }
      return openSnapshot(path, workspace, range)
    },
  }
}

/**
 * Opens a read-only connection, begins a read transaction and pins its WAL snapshot with the
 * first read (the count), then pages through the contacts by (created_at, id) inside it. Keyset
 * pages rather than one long-lived iterator: each `next` is a short statement, and the
 * transaction (not the statement) is what keeps the view consistent.
 */
function openSnapshot(
  path: string,
  workspace: string,
  range: { readonly from: number | null; readonly to: number | null },
): ContactSnapshot {
  const reader = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const where = ['workspace = @workspace']
    if (range.from !== null) where.push('created_at >= @from')
    if (range.to !== null) where.push('created_at < @to')
    const filter = where.join(' AND ')
    const params = { workspace, from: range.from, to: range.to }
    const bind = (extra: Record<string, unknown>) => ({
      ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== null)),
      ...extra,
    })
    const count = reader.prepare<[Record<string, unknown>], { n: number }>(
      `SELECT count(*) AS n FROM contacts WHERE ${filter}`,
    )
    const first = reader.prepare<[Record<string, unknown>], ContactSqlRow>(
      `SELECT * FROM contacts WHERE ${filter} ORDER BY created_at, id LIMIT @limit`,
    )
    const after = reader.prepare<[Record<string, unknown>], ContactSqlRow>(
      `SELECT * FROM contacts WHERE ${filter}
         AND (created_at > @t OR (created_at = @t AND id > @i))
       ORDER BY created_at, id LIMIT @limit`,
    )
    reader.exec('BEGIN')
    const total = count.get(bind({}))!.n
    let last: { t: number; i: string } | null = null
    let done = false
    const close = (): void => {
      if (!reader.open) return
      try {
        if (reader.inTransaction) reader.exec('COMMIT')
      } catch {
        // Ending a read-only transaction loses nothing; closing the connection ends it anyway.
      }
      reader.close()
    }
    return {
      total,
      async next(max) {
        checkChunkSize(max)
        if (!reader.open) throw snapshotClosed()
        if (done) return []
        try {
          const rows =
            last === null
              ? first.all(bind({ limit: max }))
              : after.all(bind({ limit: max, t: last.t, i: last.i }))
          const tail = rows.at(-1)
          if (tail === undefined || rows.length < max) done = true
          if (tail !== undefined) last = { t: tail.created_at, i: tail.id }
          return rows.map(toContactIndexRow)
        } catch (error) {
          // A failed read leaves nothing worth keeping open (and an open reader blocks
          // checkpoints); later reads reject as closed.
          close()
          throw error
        }
      },
      async close() {
        close()
      },
    }
  } catch (error) {
    reader.close()
    throw error
  }
}
