import type { Job } from '../jobs/job-store'

/** The job kind of contact exports in the jobs table. */
export const EXPORT_JOB = 'export'

/** The export types there are. */
export type ExportType = 'contact-attributes'

/** Where an export stands. `removed`: its file held a contact that was deleted since. */
export type ExportJobStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'removed'

/** What an export job is asked to do (its job's input). Bounds are on contact creation time. */
export interface ExportInput {
  readonly type: ExportType
  /** Contacts created at or after this time (ms since epoch), or null for no lower bound. */
  readonly from: number | null
  /** Contacts created before this time, or null for no upper bound. */
  readonly to: number | null
  /** User id of the admin who started it. */
  readonly requestedBy: string
}

/** Where a run has got to (its job's progress): rows written of the snapshot's total. */
export interface ExportProgress {
  readonly rows: number
  readonly total: number
}

/** What a finished export produced (its job's result). */
export interface ExportResult {
  /** Key of the CSV in the blob store. */
  readonly blob: string
  readonly rows: number
  /** Size of the CSV; null for an export moved from an `export_jobs` table (migration 7). */
  readonly bytes: number | null
  /** Why the file was removed (a contact it held was deleted), or null while it is there. */
  readonly removed: string | null
}

/**
 * An export as the HTTP API shows it, made from its job: status, rows written, the snapshot's
 * total once it is open and progress from 0 to 1. It holds no personal data; its file does.
 */
export interface ExportJob {
  readonly workspace: string
  readonly id: string
  readonly type: ExportType
  readonly from: number | null
  readonly to: number | null
  readonly status: ExportJobStatus
  /** Rows written so far. */
  readonly rows: number
  /** Rows in the snapshot, once it is open. */
  readonly total: number | null
  /** Why the job failed, was cancelled or removed. */
  readonly error: string | null
  readonly requestedBy: string
  readonly createdAt: number
  readonly finishedAt: number | null
  readonly progress: number
}

/** The reason an erasure gives for what it cancels or removes. */
export const ERASED_CANCEL = 'a contact in this export was deleted; start the export again'
export const ERASED_REMOVE = 'a contact in this export was deleted; start a new export'

const FAILED = 'the export failed; see the server log'

/**
 * The blob key of an export's CSV. The same name as the files of exports moved from an
 * `export_jobs` table (migration 7), so the filesystem store finds those too.
 */
export const exportBlobKey = (workspace: string, id: string): string => `${workspace}-${id}.csv`

/** True when an export of `input` may hold a contact created at `createdAt` (null: unknown). */
export const coversContact = (input: ExportInput, createdAt: number | null): boolean =>
  createdAt === null ||
  ((input.from === null || createdAt >= input.from) && (input.to === null || createdAt < input.to))

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null

/** The input of an export job, checked (jobs are JSON from the jobs table). */
export function exportInputOf(job: Job): ExportInput {
  const input = isRecord(job.input) ? job.input : {}
  const bound = (v: unknown): number | null => (typeof v === 'number' ? v : null)
  return {
    type: 'contact-attributes',
    from: bound(input.from),
    to: bound(input.to),
    requestedBy: typeof input.requestedBy === 'string' ? input.requestedBy : '',
  }
}

/** The progress of an export job, or null before its snapshot opened. */
export function exportProgressOf(job: Job): ExportProgress | null {
  const p = job.progress
  return isRecord(p) && typeof p.rows === 'number' && typeof p.total === 'number'
    ? { rows: p.rows, total: p.total }
    : null
}

/** The result of a done export job, or null. */
export function exportResultOf(job: Job): ExportResult | null {
  const r = job.result
  if (job.state !== 'done' || !isRecord(r) || typeof r.blob !== 'string') return null
  return {
    blob: r.blob,
    rows: typeof r.rows === 'number' ? r.rows : 0,
    bytes: typeof r.bytes === 'number' ? r.bytes : null,
    removed: typeof r.removed === 'string' ? r.removed : null,
  }
}

/**
 * The API's view of an export job. A queued job shows as running: it was accepted and will
 * run (after a restart, one cut off by a crash is taken over and starts again).
 *
 * @example
 * exportView(await jobs.get(id)) // { status: 'running', rows: 1200, total: 5000, progress: 0.24, ... }
 */
export function exportView(job: Job): ExportJob {
  const input = exportInputOf(job)
  const progress = exportProgressOf(job)
  const result = exportResultOf(job)
  let status: ExportJobStatus
  let error: string | null = null
  switch (job.state) {
    case 'queued':
    case 'running':
      status = 'running'
      break
    case 'done':
      status = result?.removed == null ? 'done' : 'removed'
      error = result?.removed ?? null
      break
    case 'cancelled':
      status = 'cancelled'
      error = job.error
      break
    case 'failed':
      // The stored error is the thrown one, for operators (it may name a path): not shown.
      status = 'failed'
      error = FAILED
      break
  }
  const rows = result?.rows ?? progress?.rows ?? 0
  const total = progress?.total ?? result?.rows ?? null
  return {
    workspace: job.workspace,
    id: job.id,
    type: input.type,
    from: input.from,
    to: input.to,
    status,
    rows,
    total,
    error,
    requestedBy: input.requestedBy,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    progress:
      status === 'done' || status === 'removed'
        ? 1
        : total === null || total === 0
          ? 0
          : Math.min(1, rows / total),
  }
}
