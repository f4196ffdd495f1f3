import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { IndexStore } from '../storage/index-store'
import type { Job, NewJob } from '../jobs/job-store'
import type { JobHandler } from '../jobs/job-runner'
import type { Router } from './router'

/** The job kind that routes again the open conversations of a workspace's VIP contacts. */
export const VIP_RESCORE_JOB = 'vip-rescore'

/** Where a re-score has got to: the page of VIP contacts to read next, and counts so far. */
interface RescoreProgress {
  readonly cursor: string | null
  readonly contacts: number
  readonly conversations: number
}

/** What the job was queued for (the switch as the event saw it; the run reads it afresh). */
interface RescoreInput {
  readonly active: boolean
}

/**
 * The re-score queued by the event `seq` (VIP switched on or off): one job per event, whatever
 * replays it, and one lane per workspace so the re-scores of quick on/off/on switches run in
 * order and the last one leaves the state of the last switch.
 *
 * @example
 * await context.enqueue(vipRescoreJob('demo', 42, false))
 */
export const vipRescoreJob = (workspace: string, seq: number, active: boolean): NewJob => ({
  kind: VIP_RESCORE_JOB,
  workspace,
  key: `${workspace}/event/${seq}`,
  lane: `vip/${workspace}`,
  input: { active } satisfies RescoreInput,
})

const PAGE = 100

const isDeleted = (error: unknown): boolean =>
  error instanceof CardfileError && error.code === ErrorCodes.Deleted

const progressOf = (job: Job): RescoreProgress => {
  const p = job.progress as Partial<RescoreProgress> | null
  return {
    cursor: typeof p?.cursor === 'string' ? p.cursor : null,
    contacts: typeof p?.contacts === 'number' ? p.contacts : 0,
    conversations: typeof p?.conversations === 'number' ? p.conversations : 0,
  }
}

export interface VipRescoreJobOptions {
  readonly router: Router
  readonly index: Pick<IndexStore, 'listContacts'>
}

/**
 * Runs VIP re-scores: walks the contacts flagged VIP a page at a time and routes each one's open
 * conversations again with VIP's current standing (boost and VIP team when VIP is on, neither
 * when it is off). Progress is stored after every page, so a run cut off by a crash resumes on
 * another process where it stopped; routing a conversation twice writes nothing the second time.
 *
 * @example
 * startJobRunner({ store, handlers: [vipRescoreJobHandler({ router, index })], owner, logger })
 */
export function vipRescoreJobHandler(options: VipRescoreJobOptions): JobHandler {
  const { router, index } = options
  return {
    kind: VIP_RESCORE_JOB,
    async run({ job, progress, signal }) {
      let state = progressOf(job)
      do {
        const page = await index.listContacts(job.workspace, {
          vip: true,
          limit: PAGE,
          cursor: state.cursor,
        })
        let conversations = 0
        for (const contact of page.items) {
          // Stopping or lost: the next run resumes from the last stored page.
          signal.throwIfAborted()
          try {
            conversations += await router.rescore(job.workspace, contact.id)
          } catch (error) {
            // Erased since it was listed: nothing of it is left to route.
            if (!isDeleted(error)) throw error
          }
        }
        state = {
          cursor: page.next,
          contacts: state.contacts + page.items.length,
          conversations: state.conversations + conversations,
        }
        await progress(state)
      } while (state.cursor !== null)
      return { contacts: state.contacts, conversations: state.conversations }
    },
    view: (job: Job) => {
      const { contacts, conversations } = progressOf(job)
      return {
        id: job.id,
        kind: VIP_RESCORE_JOB,
        workspace: job.workspace,
        active: (job.input as RescoreInput).active,
        state: job.state,
        attempts: job.attempts,
        contacts,
        conversations,
        result: job.result,
        error: job.error,
        startedAt: job.createdAt,
        finishedAt: job.finishedAt,
      }
    },
  }
}
