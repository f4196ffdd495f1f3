import Database from 'better-sqlite3'
import type { ContactSnapshot, ExportJob, ExportJobStatus, ExportStore } from './export-store'
import { toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactSqlRow } from '../storage/contact-sql-row'

interface JobSqlRow {
  workspace: string
  id: string
  type: string
  range_from: number | null
  range_to: number | null
  status: string
  rows: number
  total: number | null
  file: string | null
  error: string | null
  requested_by: string
  created_at: number
  finished_at: number | null
}

const toJob = (r: JobSqlRow): ExportJob => ({
  workspace: r.workspace,
  id: r.id,
  type: 'contact-attributes',
  from: r.range_from,
  to: r.range_to,
  status: r.status as ExportJobStatus,
  rows: r.rows,
  total: r.total,
  file: r.file,
  error: r.error,
  requestedBy: r.requested_by,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
})

/**
 * Export jobs on the SQLite store's connection (table `export_jobs`, migration 3), and contact
 * snapshots on a separate read-only connection to the same file.
 *
 * @example
 * const exports = createSqliteExportStore(db, './cardfile.db')
 * const snapshot = exports.openContactSnapshot('demo', { from: null, to: null })
 */
export function createSqliteExportStore(db: Database.Database, path: string): ExportStore {
  const upsert = db.prepare<[JobSqlRow]>(
    `INSERT INTO export_jobs (workspace, id, type, range_from, range_to, status, rows, total, file,
       error, requested_by, created_at, finished_at)
     VALUES (@workspace, @id, @type, @range_from, @range_to, @status, @rows, @total, @file,
       @error, @requested_by, @created_at, @finished_at)
     ON CONFLICT (workspace, id) DO UPDATE SET status = excluded.status, rows = excluded.rows,
       total = excluded.total, file = excluded.file, error = excluded.error,
       finished_at = excluded.finished_at`,
  )
  const getOne = db.prepare<[string, string], JobSqlRow>(
    'SELECT * FROM export_jobs WHERE workspace = ? AND id = ?',
  )
  const listAll = db.prepare<[string], JobSqlRow>(
    'SELECT * FROM export_jobs WHERE workspace = ? ORDER BY created_at DESC, id DESC',
  )
  const listRunning = db.prepare<[], JobSqlRow>(
    "SELECT * FROM export_jobs WHERE status = 'running'",
  )
  const inMemory = path === ':memory:' || path === ''

  return {
    defaultDir: inMemory ? null : `${path}-exports`,

    async save(job) {
      upsert.run({
        workspace: job.workspace,
        id: job.id,
        type: job.type,
        range_from: job.from,
        range_to: job.to,
        status: job.status,
        rows: job.rows,
        total: job.total,
        file: job.file,
        error: job.error,
        requested_by: job.requestedBy,
        created_at: job.createdAt,
        finished_at: job.finishedAt,
      })
    },

    async get(workspace, id) {
      const row = getOne.get(workspace, id)
      return row === undefined ? null : toJob(row)
    },

    async list(workspace) {
      return listAll.all(workspace).map(toJob)
    },

    async running() {
      return listRunning.all().map(toJob)
    },

    openContactSnapshot(workspace, range) {
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
    return {
      total,
      next(max) {
        if (done) return []
        const rows =
          last === null
            ? first.all(bind({ limit: max }))
            : after.all(bind({ limit: max, t: last.t, i: last.i }))
        const tail = rows.at(-1)
        if (tail === undefined || rows.length < max) done = true
        if (tail !== undefined) last = { t: tail.created_at, i: tail.id }
        return rows.map(toContactIndexRow)
      },
      close() {
        if (!reader.open) return
        if (reader.inTransaction) reader.exec('COMMIT')
        reader.close()
      },
    }
  } catch (error) {
    reader.close()
    throw error
  }
}
