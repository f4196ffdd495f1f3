import { useCallback } from 'react'
import { apiJson } from '@cardfile/core'
import type { CardfileError, ErrorCode } from '@cardfile/core'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'
import { useFollowedJob } from './followed-job'
import { schemaAccess } from './access'

/** One refused row of an import: its record number (the header is 1) and why, per column. */
export interface ImportRowRefusal {
  readonly row: number
  readonly errors: readonly {
    readonly column: string
    readonly code: ErrorCode
    readonly message: string
  }[]
}

/** An import job as the server reports it (`GET /api/<ws>/jobs/<id>`). */
export interface ImportJobInfo {
  readonly id: string
  readonly state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled'
  /** Why the import imported nothing (a file that is not CSV, an unknown column). */
  readonly error: string | null
  readonly phase: 'checking' | 'importing' | 'done'
  /** Data rows in the file, once checked. */
  readonly total: number | null
  readonly rows: number
  readonly created: number
  readonly updated: number
  readonly unchanged: number
  readonly refused: number
  /** The first 1000 refused rows. */
  readonly refusals: readonly ImportRowRefusal[]
  readonly createdAt: number
  readonly finishedAt: number | null
}

/** Options of {@link useImport}. */
export interface UseImportOptions {
  /**
   * Kept for compatibility and ignored: the server pushes every step of the import's progress.
   * While push is unavailable (a server older than live lists, a lost connection) the client
   * polls it every `listPollMs` (an option of `createCardfileClient`, default two minutes).
   *
   * @deprecated Progress is pushed; set `listPollMs` on the client for the fallback.
   */
  readonly pollMs?: number
}

/** What {@link useImport} returns. */
export interface ImportResult {
  /** Uploads a CSV (a File, Blob or text) and starts importing it. */
  start(file: Blob | string): Promise<ImportJobInfo>
  /** The import started last, with its latest progress and row report; null before `start`. */
  readonly job: ImportJobInfo | null
  readonly error: CardfileError | null
  /** The import is queued or running. */
  readonly running: boolean
  /** Share of the rows handled, 0 to 1 (0 while the file is being checked). */
  readonly progress: number
  /** Admins only; the server enforces it as well. */
  readonly canImport: boolean
}

const isRunning = (job: ImportJobInfo | null): boolean =>
  job?.state === 'queued' || job?.state === 'running'

/**
 * Uploads a CSV of contacts (`channel`, `platformUserId` and one column per attribute alias) to
 * `POST /api/<ws>/imports` and follows the import job until it ends: progress, counts, and the
 * rows the server refused with their reasons. Progress is pushed by the server (a live `job`
 * list of the client's list store), not polled.
 *
 * @example
 * function ImportBox() {
 *   const { start, job, running, progress, canImport } = useImport()
 *   if (!canImport) return null
 *   return (
 *     <>
 *       <input type="file" accept=".csv" disabled={running} onChange={(e) => e.target.files?.[0] && start(e.target.files[0])} />
 *       {job && <p>{Math.round(progress * 100)} % · {job.created} created · {job.refused} refused</p>}
 *     </>
 *   )
 * }
 */
export function useImport(_options: UseImportOptions = {}): ImportResult {
  const client = useCardfileClient()
  const canImport = useDocumentSelector(
    schemaAccess(client.workspace),
    (_schema, c) => c.actor()?.role === 'admin',
  )
  const { job, error, start: follow } = useFollowedJob<ImportJobInfo>('job', isRunning)
  const workspace = encodeURIComponent(client.workspace)
  const running = isRunning(job)

  const start = useCallback(
    (file: Blob | string) =>
      follow(() =>
        apiJson<{ job: ImportJobInfo }>(client, `/api/${workspace}/imports`, {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: file,
        }),
      ),
    [client, workspace, follow],
  )

  const progress =
    job === null
      ? 0
      : job.state === 'done'
        ? 1
        : job.total === null || job.total === 0
          ? 0
          : Math.min(1, job.rows / job.total)
  return { start, job, error, running, progress, canImport }
}
