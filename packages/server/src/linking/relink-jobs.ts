import { randomUUID } from 'node:crypto'
import type { LinkStorage } from '../storage/storage'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { matchValueOf } from './matching'

/** A re-link of a whole workspace, as `GET /api/<ws>/jobs/<id>` reports it. */
export interface RelinkJob {
  readonly id: string
  readonly kind: 'relink'
  readonly workspace: string
  /** The matching attribute the job links by (null: none, every link by value is dropped). */
  readonly attribute: string | null
  readonly state: 'running' | 'done' | 'failed' | 'cancelled'
  /** Contacts in the workspace when the job started. */
  readonly total: number
  /** Contacts read so far. */
  readonly processed: number
  /** Contacts whose matching value changed. */
  readonly changed: number
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly error: string | null
}

export interface RelinkJobsOptions {
  /** Contacts per transaction (default 500): short enough that queries answer between chunks. */
  readonly chunkSize?: number
  readonly logger?: Pick<ServerLogger, 'info' | 'error'>
  /** Finished jobs kept for progress look-ups (default 50). */
  readonly keepFinished?: number
}

/** Lets the event loop serve sockets and queries before the next chunk. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Runs workspace re-links in the background: the contacts' matching values are recomputed from
 * the values held in the index, in id order, one short transaction per chunk, yielding to the
 * event loop between chunks so that the index keeps answering (a group query meanwhile sees
 * some contacts linked the old way and some the new way, never a broken row). A new job for a
 * workspace cancels the one running there: only the newest attribute matters.
 *
 * @example
 * const jobs = new RelinkJobs(storage.links!)
 * const job = jobs.start('demo', 'email')
 * await jobs.wait(job.id)
 * jobs.get(job.id) // { state: 'done', processed: 1200, changed: 800, ... }
 */
export class RelinkJobs {
  private readonly jobs = new Map<string, RelinkJob>()
  private readonly running = new Map<string, { id: string; done: Promise<void> }>()
  private readonly cancelled = new Set<string>()
  private readonly chunkSize: number
  private stopped = false

  constructor(
    private readonly links: LinkStorage,
    private readonly options: RelinkJobsOptions = {},
  ) {
    this.chunkSize = Math.max(1, options.chunkSize ?? 500)
  }

  /** Starts re-linking `workspace` by `attribute`; returns the job at once. */
  start(workspace: string, attribute: string | null): RelinkJob {
    const previous = this.running.get(workspace)
    if (previous !== undefined) this.cancelled.add(previous.id)
    const job: RelinkJob = {
      id: randomUUID(),
      kind: 'relink',
      workspace,
      attribute,
      state: 'running',
      total: 0,
      processed: 0,
      changed: 0,
      startedAt: Date.now(),
      finishedAt: null,
      error: null,
    }
    this.jobs.set(job.id, job)
    // Chained after the cancelled job, so two jobs never write the same workspace at once.
    const done = (previous?.done ?? Promise.resolve()).then(() => this.run(job.id))
    this.running.set(workspace, { id: job.id, done })
    void done.finally(() => {
      if (this.running.get(workspace)?.id === job.id) this.running.delete(workspace)
      this.prune()
    })
    return job
  }

  /** A job by id (running or recently finished). */
  get(id: string): RelinkJob | undefined {
    return this.jobs.get(id)
  }

  /** Resolves when the job has finished (whatever its outcome). */
  async wait(id: string): Promise<RelinkJob | undefined> {
    for (const entry of this.running.values()) if (entry.id === id) await entry.done
    return this.jobs.get(id)
  }

  /** Cancels every job and resolves once none is writing (before storage closes). */
  async stop(): Promise<void> {
    this.stopped = true
    for (const entry of this.running.values()) this.cancelled.add(entry.id)
    await Promise.allSettled([...this.running.values()].map((e) => e.done))
  }

  private update(id: string, patch: Partial<RelinkJob>): RelinkJob {
    const job = { ...this.jobs.get(id)!, ...patch }
    this.jobs.set(id, job)
    return job
  }

  private async run(id: string): Promise<void> {
    let job = this.jobs.get(id)!
    const finish = (state: RelinkJob['state'], error: string | null = null): void => {
      job = this.update(id, { state, error, finishedAt: Date.now() })
      this.cancelled.delete(id)
    }
    try {
      job = this.update(id, { total: await this.links.countContacts(job.workspace) })
      const compute = (values: Readonly<Record<string, string>>): string | null =>
        matchValueOf(values, job.attribute)
      let after: string | null = null
      do {
        if (this.stopped || this.cancelled.has(id)) {
          finish('cancelled')
          return
        }
        const chunk = await this.links.recomputeMatchValues(
          job.workspace,
          compute,
          after,
          this.chunkSize,
        )
        job = this.update(id, {
          processed: job.processed + chunk.processed,
          changed: job.changed + chunk.changed,
        })
        after = chunk.last
        await yieldToEventLoop()
      } while (after !== null)
      finish('done')
      this.options.logger?.info('re-link finished', {
        workspace: job.workspace,
        processed: job.processed,
        changed: job.changed,
      })
    } catch (error) {
      finish('failed', String(error))
      this.options.logger?.error('re-link failed', {
        workspace: job.workspace,
        ...errorContext(error),
      })
    }
  }

  private prune(): void {
    const keep = this.options.keepFinished ?? 50
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running')
    for (const j of finished.slice(0, Math.max(0, finished.length - keep))) this.jobs.delete(j.id)
  }
}
