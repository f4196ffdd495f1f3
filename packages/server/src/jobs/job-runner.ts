import type { Role } from '@cardfile/core'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import type { Job, JobState, JobStore } from './job-store'

/** Thrown by `JobContext.progress` once the job is no longer this worker's. */
export class JobLostError extends Error {
  override readonly name = 'JobLostError'
  readonly code = 'job-lost'
}

/** What a job handler gets for one run. */
export interface JobContext {
  /** The job as claimed: `progress` is where an earlier, interrupted run got to. */
  readonly job: Job
  /**
   * Stores progress and renews the lease. Rejects with {@link JobLostError} when the job was
   * cancelled or taken by another worker: the handler must stop without further effects.
   */
  progress(progress: unknown): Promise<void>
  /** Aborted when the job is lost or the runner stops. */
  readonly signal: AbortSignal
}

/**
 * Runs the jobs of one kind. A run cut off by a crash runs again from the job's last stored
 * progress, so `run` resumes from `job.progress` and makes its effects idempotent.
 */
export interface JobHandler {
  readonly kind: string
  /** Resolves the job's result (JSON). */
  run(context: JobContext): Promise<unknown>
  /**
   * The delay before the next attempt after a failed one (`attempts` includes it), or null to
   * fail the job for good. Default: 3 attempts, 1 s then 5 s.
   */
  retryAfter?(attempts: number, error: unknown): number | null
  /**
   * The job as `GET /api/<ws>/jobs/<id>` shows it (ids and counts, never a contact's values);
   * jobs of a kind without a view are not shown there.
   */
  view?(job: Job): unknown
  /**
   * Who may read the view (and follow the job live); default admins and agents. A job only
   * admins may start (an import) is only theirs to read.
   */
  readonly readers?: readonly Role[]
}

export interface JobRunnerOptions {
  readonly store: JobStore
  readonly handlers: readonly JobHandler[]
  /** Who holds the leases: unique per process run. */
  readonly owner: string
  readonly logger: Pick<ServerLogger, 'info' | 'warn' | 'error'>
  /** How long a lease runs without a heartbeat (default 30 s): the wait after a crash. */
  readonly leaseMs?: number
  /** How often to look for due jobs nobody announced (default 1 s). */
  readonly pollMs?: number
  /** Jobs run at once by this process (default 4). */
  readonly concurrency?: number
  /**
   * Told after a job was taken, stored progress, finished or failed, with its state then, and
   * when a worker found it lost (cancelled or taken over; its state is not known then): live
   * job views.
   */
  readonly onChange?: (job: Job, state?: JobState) => void
}

/** Runs jobs from the store with the registered handlers. */
export interface JobRunner {
  /** A job was just enqueued: look now. */
  poke(): void
  /** Resolves once nothing this runner could take is due and none of its runs is going on. */
  settled(): Promise<void>
  /** Stops taking jobs, aborts the running ones and waits for them to return. */
  stop(): Promise<void>
}

const defaultRetry = (attempts: number): number | null =>
  attempts >= 3 ? null : attempts === 1 ? 1000 : 5000

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

/**
 * Starts taking and running jobs.
 *
 * @example
 * const runner = startJobRunner({ store: backend.jobs, handlers: [relinkHandler], owner, logger })
 * await backend.jobs.enqueue({ kind: 'relink', workspace: 'demo', input: { attribute: 'email' } })
 * runner.poke()
 */
export function startJobRunner(options: JobRunnerOptions): JobRunner {
  const { store, owner, logger } = options
  const leaseMs = options.leaseMs ?? 30_000
  const pollMs = options.pollMs ?? 1000
  const concurrency = Math.max(1, options.concurrency ?? 4)
  const handlers = new Map(options.handlers.map((h) => [h.kind, h]))
  const kinds = [...handlers.keys()]
  const runs = new Set<{ readonly done: Promise<void>; readonly abort: AbortController }>()
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  let looking: Promise<void> | null = null
  let again = false

  const schedule = (ms: number): void => {
    if (stopped) return
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      look()
    }, ms)
    timer.unref()
  }

  const changed = (job: Job, state?: JobState): void => {
    try {
      options.onChange?.(job, state)
    } catch (error) {
      logger.error('a job change listener threw', errorContext(error))
    }
  }

  const runOne = async (job: Job, handler: JobHandler, abort: AbortController): Promise<void> => {
    let lost = false
    const renew = setInterval(
      () => {
        void store.heartbeat(job.id, owner, leaseMs).then(
          (held) => {
            if (!held && !lost) {
              lost = true
              abort.abort()
              // Cancelled, most likely: its followers learn it now rather than never.
              changed(job)
            }
          },
          () => undefined,
        )
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    )
    renew.unref()
    const context: JobContext = {
      job,
      signal: abort.signal,
      async progress(progress) {
        if (lost || abort.signal.aborted)
          throw new JobLostError(`job ${job.id} is not running here`)
        if (!(await store.heartbeat(job.id, owner, leaseMs, progress))) {
          if (!lost) changed(job)
          lost = true
          abort.abort()
          throw new JobLostError(`job ${job.id} was cancelled or taken over`)
        }
        changed(job, 'running')
      },
    }
    try {
      const result = await handler.run(context)
      if (!lost && !(await store.complete(job.id, owner, result))) lost = true
      if (!lost) changed(job, 'done')
    } catch (error) {
      if (lost || error instanceof JobLostError) return
      // Stopping: the lease runs out and the next process resumes the job.
      if (stopped) return
      const retryIn = (handler.retryAfter ?? defaultRetry)(job.attempts, error)
      const retryAt = retryIn === null ? null : Date.now() + retryIn
      logger[retryAt === null ? 'error' : 'warn'](
        retryAt === null ? 'job failed' : 'job failed; it will be retried',
        { job: job.id, kind: job.kind, attempts: job.attempts, ...errorContext(error) },
      )
      await store.fail(job.id, owner, messageOf(error), retryAt).catch(() => undefined)
      changed(job, retryAt === null ? 'failed' : 'queued')
      if (retryIn !== null) schedule(retryIn)
    } finally {
      clearInterval(renew)
    }
  }

  /** Takes due jobs while there is room; then sleeps until the next one is due. */
  const lookNow = async (): Promise<void> => {
    while (!stopped && runs.size < concurrency) {
      let job: Job | null
      try {
        job = await store.claim(kinds, owner, leaseMs)
      } catch (error) {
        logger.error('taking a job failed', errorContext(error))
        schedule(pollMs)
        return
      }
      if (job === null || stopped) break
      changed(job, 'running')
      const handler = handlers.get(job.kind)!
      const abort = new AbortController()
      const run = { abort, done: Promise.resolve() }
      const taken = job
      run.done = runOne(taken, handler, abort).finally(() => {
        runs.delete(run)
        look()
      })
      runs.add(run)
    }
    if (stopped) return
    const due = await store.nextDueAt(kinds).catch(() => null)
    schedule(due === null ? pollMs : Math.min(pollMs, Math.max(0, due - Date.now())))
  }

  function look(): void {
    if (stopped || kinds.length === 0) return
    if (looking !== null) {
      again = true
      return
    }
    looking = lookNow().finally(() => {
      looking = null
      if (again) {
        again = false
        look()
      }
    })
  }

  // The first look on the next turn: its claim is a write transaction that whoever starts the
  // runner (a server about to report that it listens) need not wait for.
  schedule(0)

  return {
    poke: look,
    async settled() {
      for (;;) {
        while (looking !== null || runs.size > 0) {
          await Promise.all([looking, ...[...runs].map((r) => r.done)])
        }
        const due = await store.nextDueAt(kinds)
        if (stopped || due === null || due > Date.now()) return
        look()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },
    async stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      for (const run of runs) run.abort.abort()
      await looking
      await Promise.all([...runs].map((r) => r.done))
    },
  }
}
