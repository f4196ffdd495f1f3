import type { Job } from '../jobs/job-store'
import type { JobHandler } from '../jobs/job-runner'
import type { LinkStorage } from './link-store'
import type { ServerLogger } from '../sync/logger'
import { matchValueOf } from './matching'

/** The job kind of a workspace re-link. */
export const RELINK_JOB = 'relink'

/** What a re-link job is asked: link the workspace by this attribute (null: by none). */
export interface RelinkInput {
  readonly attribute: string | null
}

/** Where a re-link has got to: contacts with ids up to `after` are linked the new way. */
export interface RelinkProgress {
  /** The last contact id recomputed (null: none yet). */
  readonly after: string | null
  /** Contacts in the workspace when the job first ran (null: not counted yet). */
  readonly total: number | null
  readonly processed: number
  readonly changed: number
}

/** A re-link of a whole workspace, as `GET /api/<ws>/jobs/<id>` reports it. */
export interface RelinkJob {
  readonly id: string
  readonly kind: 'relink'
  readonly workspace: string
  /** The matching attribute the job links by (null: none, every link by value is dropped). */
  readonly attribute: string | null
  readonly state: Job['state']
  /** Contacts in the workspace when the job started. */
  readonly total: number
  /** Contacts read so far. */
  readonly processed: number
  /**
   * Contacts whose matching value changed. After a crash it may miss the contacts of the one
   * chunk that was written and not yet recorded: the run that resumes finds them changed already.
   */
  readonly changed: number
  /** Runs started: more than one after a restart cut the job off. */
  readonly attempts: number
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly error: string | null
}

const START: RelinkProgress = { after: null, total: null, processed: 0, changed: 0 }

const isProgress = (value: unknown): value is RelinkProgress =>
  typeof value === 'object' &&
  value !== null &&
  'processed' in value &&
  typeof value.processed === 'number'

const inputOf = (job: Job): RelinkInput => {
  const input = job.input as Partial<RelinkInput> | null
  return { attribute: typeof input?.attribute === 'string' ? input.attribute : null }
}

/**
 * A re-link job as the API shows it.
 *
 * @example
 * relinkView(await jobs.get(id)) // { kind: 'relink', state: 'running', processed: 500, total: 1200, ... }
 */
export function relinkView(job: Job): RelinkJob {
  const progress = isProgress(job.progress) ? job.progress : START
  return {
    id: job.id,
    kind: 'relink',
    workspace: job.workspace,
    attribute: inputOf(job).attribute,
    state: job.state,
    total: progress.total ?? 0,
    processed: progress.processed,
    changed: progress.changed,
    attempts: job.attempts,
    startedAt: job.createdAt,
    finishedAt: job.finishedAt,
    error: job.error,
  }
}

/** The lane of a workspace's re-links: one at a time, in the order they were asked for. */
export const relinkLane = (workspace: string): string => `relink:${workspace}`

export interface RelinkJobOptions {
  readonly links: LinkStorage
  /** Contacts per transaction (default 500): short enough that queries answer between chunks. */
  readonly chunkSize?: number
  readonly logger: Pick<ServerLogger, 'info'>
}

/** Lets the event loop serve sockets and queries before the next chunk. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Runs re-link jobs: the contacts' matching values are recomputed from the values held in the
 * index, in id order, one short transaction per chunk, with the job's progress stored after
 * each (so a run cut off by a crash resumes after the last chunk it recorded, and a chunk
 * recomputed twice writes the same values). Between chunks the index keeps answering: a group
 * query meanwhile sees some contacts linked the old way and some the new way, never a broken
 * row. Each chunk writes, in its transaction, the `contact.linked` events (`source: 'match'`)
 * of the pairs it links and unlinks as the index shows them; a pair linked under both
 * attributes whose two contacts fall in different chunks is told unlinked, then linked again,
 * as the index showed it between the chunks. A newer re-link of the workspace cancels this
 * one; its next progress then throws and the run stops.
 *
 * @example
 * startJobRunner({ store, handlers: [relinkJobHandler({ links, logger })], owner, logger })
 */
export function relinkJobHandler(options: RelinkJobOptions): JobHandler {
  const chunkSize = Math.max(1, options.chunkSize ?? 500)
  return {
    kind: RELINK_JOB,
    async run({ job, progress: record }) {
      const { attribute } = inputOf(job)
      let progress = isProgress(job.progress) ? job.progress : START
      if (progress.total === null) {
        progress = { ...progress, total: await options.links.countContacts(job.workspace) }
        await record(progress)
      }
      const compute = (values: Readonly<Record<string, string>>): string | null =>
        matchValueOf(values, attribute)
      do {
        const chunk = await options.links.recomputeMatchValues(
          job.workspace,
          compute,
          progress.after,
          chunkSize,
        )
        progress = {
          ...progress,
          after: chunk.last,
          processed: progress.processed + chunk.processed,
          changed: progress.changed + chunk.changed,
        }
        await record(progress)
        await yieldToEventLoop()
      } while (progress.after !== null)
      options.logger.info('re-link finished', {
        workspace: job.workspace,
        processed: progress.processed,
        changed: progress.changed,
      })
      return { processed: progress.processed, changed: progress.changed }
    },
    view: (job) => relinkView(job),
  }
}
