import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { CardfileError, ErrorCodes, apiJson } from '@cardfile/core'
import { schemaAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'

/** A re-link of the workspace's contacts by its matching attribute, as the server reports it. */
export interface RelinkJobInfo {
  readonly id: string
  /** The matching attribute it links by (null: none, links by value are dropped). */
  readonly attribute: string | null
  /** `cancelled`: a newer re-link took its place. */
  readonly state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled'
  /** Contacts in the workspace when it started (0 until counted). */
  readonly total: number
  /** Contacts recomputed so far. */
  readonly processed: number
  /** Contacts whose matching value changed. */
  readonly changed: number
  readonly attempts: number
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly error: string | null
}

/** Options of {@link useRelink}. */
export interface UseRelinkOptions {
  /** How often a queued or running job is read, in ms (default 500). */
  readonly pollMs?: number
  /**
   * How long to wait for the server to queue the re-link a change of the matching attribute
   * causes, in ms (default 30000).
   */
  readonly awaitMs?: number
}

/** What {@link useRelink} returns. */
export interface RelinkResult {
  /**
   * The workspace's latest re-link with its progress, or null when none ran. Followed while
   * it is queued or running, and picked up when the matching attribute changes (on any
   * client: the server re-links by itself then).
   */
  readonly job: RelinkJobInfo | null
  /** The job is queued or running, or one is expected after a matching-attribute change. */
  readonly running: boolean
  readonly error: CardfileError | null
  /** Re-links the workspace now (admins); resolves the queued job. */
  start(): Promise<RelinkJobInfo>
  /** Admins may start a re-link; everyone may follow one. */
  readonly canStart: boolean
}

const asCardfileError = (error: unknown): CardfileError =>
  error instanceof CardfileError
    ? error
    : new CardfileError(ErrorCodes.Internal, error instanceof Error ? error.message : String(error))

const isActive = (job: RelinkJobInfo | null): boolean =>
  job !== null && (job.state === 'queued' || job.state === 'running')

/**
 * The progress and outcome of the workspace's re-link, the job that links contacts across
 * channels again after the matching attribute changed (or when an admin asks).
 *
 * @example
 * function RelinkProgress() {
 *   const { job, running, start, canStart } = useRelink()
 *   return (
 *     <p>
 *       {job && `${job.processed} of ${job.total} contacts · ${job.state}`}
 *       {canStart && <button disabled={running} onClick={() => void start()}>Re-link now</button>}
 *     </p>
 *   )
 * }
 */
export function useRelink(options: UseRelinkOptions = {}): RelinkResult {
  const client = useCardfileClient()
  const pollMs = options.pollMs ?? 500
  const awaitMs = options.awaitMs ?? 30_000
  const { matching, canStart, loaded } = useDocumentSelector(
    schemaAccess(client.workspace),
    (schema, c) => ({
      matching: schema?.schema.settings().matchingAttribute ?? null,
      loaded: schema !== null,
      canStart: c.actor()?.role === 'admin',
    }),
  )
  const ws = encodeURIComponent(client.workspace)
  const [job, setJob] = useState<RelinkJobInfo | null>(null)
  const [error, setError] = useState<CardfileError | null>(null)
  // After a change of the matching attribute: the newest job id seen before it, and until when
  // to look for the job the server queues for it.
  const [awaiting, setAwaiting] = useState<{
    readonly before: string | null
    until: number
  } | null>(null)
  const jobRef = useRef(job)
  jobRef.current = job
  const seenMatching = useRef<{ value: string | null } | null>(null)

  useEffect(() => {
    if (!loaded) return
    if (seenMatching.current === null) {
      seenMatching.current = { value: matching }
      return
    }
    if (seenMatching.current.value === matching) return
    seenMatching.current = { value: matching }
    setAwaiting({ before: jobRef.current?.id ?? null, until: Date.now() + awaitMs })
  }, [loaded, matching, awaitMs])

  const jobId = job?.id ?? null
  const active = isActive(job)
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | null = null
    const read = async (): Promise<void> => {
      try {
        // A job being followed is read by id; otherwise the newest one is asked for.
        const next =
          active && jobId !== null && awaiting === null
            ? (await apiJson<{ job: RelinkJobInfo }>(client, `/api/${ws}/jobs/${jobId}`)).job
            : ((
                await apiJson<{ items: RelinkJobInfo[] }>(
                  client,
                  `/api/${ws}/jobs?kind=relink&limit=1`,
                )
              ).items[0] ?? null)
        if (stopped) return
        setError(null)
        setJob(next)
        if (awaiting !== null && next !== null && next.id !== awaiting.before) setAwaiting(null)
        else if (awaiting !== null && Date.now() > awaiting.until) setAwaiting(null)
        else if (isActive(next) || awaiting !== null) timer = setTimeout(() => void read(), pollMs)
      } catch (e) {
        if (stopped) return
        setError(asCardfileError(e))
        timer = setTimeout(() => void read(), pollMs * 4)
      }
    }
    void read()
    return () => {
      stopped = true
      if (timer !== null) clearTimeout(timer)
    }
  }, [client, ws, jobId, active, awaiting, pollMs])

  const start = useCallback(async (): Promise<RelinkJobInfo> => {
    try {
      const answer = await apiJson<{ job: RelinkJobInfo }>(client, `/api/${ws}/relink`, {
        method: 'POST',
      })
      setError(null)
      setJob(answer.job)
      return answer.job
    } catch (e) {
      const failure = asCardfileError(e)
      setError(failure)
      throw failure
    }
  }, [client, ws])

  return useMemo(
    () => ({ job, running: isActive(job) || awaiting !== null, error, start, canStart }),
    [job, awaiting, error, start, canStart],
  )
}
