import { useCallback } from 'react'
import { CardfileError, ErrorCodes, apiFetch, apiJson, isErrorCode } from '@cardfile/core'
import { useCardfileClient } from './context'
import { useAdminWithFeature } from './admin-feature'
import { useFollowedJob } from './followed-job'

/** Where an export job stands. `removed`: its file held a contact deleted since. */
export type ExportStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'removed'

/** An export job as the server reports it. */
export interface ExportJobInfo {
  readonly id: string
  readonly type: 'contact-attributes'
  readonly status: ExportStatus
  readonly rows: number
  readonly total: number | null
  /** From 0 to 1. */
  readonly progress: number
  readonly from: number | null
  readonly to: number | null
  readonly error: string | null
  readonly createdAt: number
  readonly finishedAt: number | null
}

/** A time bound: a Date, ms since the epoch, or an ISO 8601 string. */
export type TimeBound = Date | number | string

/** Options of {@link useExport}. */
export interface UseExportOptions {
  /**
   * Kept for compatibility and ignored: the server pushes every step of the job's progress.
   *
   * @deprecated Progress is pushed; set `listPollMs` on the client for the fallback.
   */
  readonly pollMs?: number
}

/** What {@link useExport} returns. */
export interface ExportResult {
  /** Starts a contact-attributes export of contacts created in [from, to). */
  start(range?: { readonly from?: TimeBound; readonly to?: TimeBound }): Promise<ExportJobInfo>
  /** The job started last, with its latest progress; null before `start`. */
  readonly job: ExportJobInfo | null
  readonly error: CardfileError | null
  /** The job is running. */
  readonly running: boolean
  /** Fetches the finished CSV. */
  download(): Promise<Blob>
  /** Admins on a plan with exports; the server enforces it as well. */
  readonly canExport: boolean
}

const toMs = (bound: TimeBound | undefined): number | undefined => {
  if (bound === undefined) return undefined
  if (bound instanceof Date) return bound.getTime()
  return typeof bound === 'number' ? bound : Date.parse(bound)
}

/**
 * Starts a contact-attributes export and follows its progress until it is done; then
 * `download()` fetches the CSV (one row per contact, attributes in the admin's order).
 *
 * @example
 * function ExportButton() {
 *   const { start, job, running, download, canExport } = useExport()
 *   if (!canExport) return null
 *   if (job?.status === 'done') return <button onClick={() => download().then(save)}>Download</button>
 *   return (
 *     <button disabled={running} onClick={() => start({ from: '2024-01-01' })}>
 *       {running ? `${Math.round((job?.progress ?? 0) * 100)} %` : 'Export contacts'}
 *     </button>
 *   )
 * }
 */
export function useExport(_options: UseExportOptions = {}): ExportResult {
  const client = useCardfileClient()
  const canExport = useAdminWithFeature('exports')
  const {
    job,
    error,
    jobRef,
    start: follow,
  } = useFollowedJob<ExportJobInfo>('export', (j) => j.status === 'running')
  const base = `/api/${encodeURIComponent(client.workspace)}/exports`

  const start = useCallback(
    (range: { readonly from?: TimeBound; readonly to?: TimeBound } = {}) =>
      follow(() => {
        const from = toMs(range.from)
        const to = toMs(range.to)
        return apiJson<{ job: ExportJobInfo }>(client, base, {
          method: 'POST',
          body: JSON.stringify({
            type: 'contact-attributes',
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
          }),
        })
      }),
    [client, base, follow],
  )

  const download = useCallback(async (): Promise<Blob> => {
    const current = jobRef.current
    if (current === null || current.status !== 'done') {
      throw new CardfileError(ErrorCodes.BadRequest, 'No finished export to download')
    }
    const res = await apiFetch(client, `${base}/${encodeURIComponent(current.id)}/download`)
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as {
        error?: { code?: unknown; message?: unknown }
      } | null
      const code = isErrorCode(body?.error?.code) ? body.error.code : ErrorCodes.Internal
      const message =
        typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status}`
      throw new CardfileError(code, message)
    }
    return res.blob()
  }, [client, base])

  return { start, job, error, running: job?.status === 'running', download, canExport }
}
