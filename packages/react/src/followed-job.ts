import { useCallback, useEffect, useRef, useState } from 'react'
import type { CardfileError } from '@cardfile/core'
import { asCardfileError } from './as-cardfile-error'
import { useLiveList } from './use-live-list'

/** The live list kinds that push one job's progress, by the job's id. */
type JobListKind = 'export' | 'job'

/** What {@link useFollowedJob} gives the hook that starts jobs. */
export interface FollowedJob<J> {
  /** The job started last, with the latest progress the server pushed; null before `start`. */
  readonly job: J | null
  readonly error: CardfileError | null
  /** `job` as of the last render, for callbacks that must not change with every step of it. */
  readonly jobRef: { readonly current: J | null }
  /**
   * Sends the request that starts a job and follows the job it answers with. A failure is kept
   * in `error` and thrown again, so callers can await it or render it.
   */
  start(request: () => Promise<{ readonly job: J }>): Promise<J>
}

/**
 * Holds the job an export or import hook started, and follows it while `isRunning` says so:
 * the server pushes each step of its progress and its end on the live list `kind`. A pushed
 * job replaces the one held only if it is the same job, since a newer `start` may have
 * replaced it while the push was on its way.
 */
export function useFollowedJob<J extends { readonly id: string }>(
  kind: JobListKind,
  isRunning: (job: J) => boolean,
): FollowedJob<J> {
  const [job, setJob] = useState<J | null>(null)
  const [error, setError] = useState<CardfileError | null>(null)
  const jobRef = useRef(job)
  jobRef.current = job

  const jobId = job?.id ?? null
  const running = job !== null && isRunning(job)
  const live = useLiveList<never, { job: J }>(jobId !== null && running ? { kind, jobId } : null)
  const liveJob = live.answer?.job ?? null
  useEffect(() => {
    if (liveJob !== null && liveJob.id === jobRef.current?.id) setJob(liveJob)
  }, [liveJob])
  const liveError = live.error
  useEffect(() => {
    if (liveError !== null) setError(liveError)
  }, [liveError])

  const start = useCallback(async (request: () => Promise<{ readonly job: J }>): Promise<J> => {
    try {
      const answer = await request()
      setError(null)
      setJob(answer.job)
      return answer.job
    } catch (e) {
      // The message keeps the error's class name ("TypeError: ..."), so that a request that
      // never reached the server says what kind of failure stopped it.
      const failure = asCardfileError(e, String)
      setError(failure)
      throw failure
    }
  }, [])

  return { job, error, jobRef, start }
}
