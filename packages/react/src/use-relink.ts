import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { apiJson } from '@cardfile/core'
import type { ListQuery, CardfileError } from '@cardfile/core'
import { schemaAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'
import { useLiveList } from './use-live-list'
import { asCardfileError } from './as-cardfile-error'

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
  /**
   * Kept for compatibility and ignored: the server pushes every step of a re-link, and when
   * one is queued. While push is unavailable (a server older than live lists, a lost
   * connection) the client polls every `listPollMs` (an option of `createCardfileClient`,
   * default two minutes).
   *
   * @deprecated Progress is pushed; set `listPollMs` on the client for the fallback.
   */
  readonly pollMs?: number
  /**
   * How long `running` stays true after a change of the matching attribute while the server
   * has not queued its re-link yet, in ms (default 30000).
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

const isActive = (job: RelinkJobInfo | null): boolean =>
  job !== null && (job.state === 'queued' || job.state === 'running')

/** The workspace's newest re-links: one is all the hook shows. */
const NEWEST_RELINK: ListQuery = { kind: 'jobs', jobKind: 'relink' }

/**
 * What the hook shows: the newest re-link the server listed, unless the one this hook just
 * started is newer than what the list held when it was fetched.
 */
const newer = (listed: RelinkJobInfo | null, started: RelinkJobInfo | null) =>
  started === null ||
  (listed !== null && (listed.id === started.id || listed.startedAt >= started.startedAt))
    ? listed
    : started

/**
 * The progress and outcome of the workspace's re-link, the job that links contacts across
 * channels again after the matching attribute changed (or when an admin asks). The server
 * pushes each step of it, and the re-link it queues by itself when the matching attribute
 * changes on any client (a live `jobs` list of the client's list store, not polled).
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
  const live = useLiveList<RelinkJobInfo>(NEWEST_RELINK, { pageSize: 1 })
  const [started, setStarted] = useState<RelinkJobInfo | null>(null)
  const [startError, setStartError] = useState<CardfileError | null>(null)
  const job = newer(live.items[0] ?? null, started)
  // After a change of the matching attribute: the newest job id seen before it, until the
  // server's re-link for it shows (or `awaitMs` passed).
  const [awaiting, setAwaiting] = useState<{ readonly before: string | null } | null>(null)
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
    setAwaiting({ before: jobRef.current?.id ?? null })
  }, [loaded, matching])

  const jobId = job?.id ?? null
  useEffect(() => {
    if (awaiting === null) return
    if (jobId !== awaiting.before) {
      setAwaiting(null)
      return
    }
    // The server may queue nothing (the attribute changed back meanwhile): stop saying so.
    const timer = setTimeout(() => setAwaiting(null), awaitMs)
    return () => clearTimeout(timer)
  }, [awaiting, jobId, awaitMs])

  const start = useCallback(async (): Promise<RelinkJobInfo> => {
    try {
      const answer = await apiJson<{ job: RelinkJobInfo }>(client, `/api/${ws}/relink`, {
        method: 'POST',
      })
      setStartError(null)
      setStarted(answer.job)
      return answer.job
    } catch (e) {
      const failure = asCardfileError(e)
      setStartError(failure)
      throw failure
    }
  }, [client, ws])

  const error = startError ?? live.error
  return useMemo(
    () => ({ job, running: isActive(job) || awaiting !== null, error, start, canStart }),
    [job, awaiting, error, start, canStart],
  )
}
