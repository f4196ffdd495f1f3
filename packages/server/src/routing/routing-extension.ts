import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { EventConsumer } from '../events/event-consumers'
import type { Extension } from '../extensions/extension'
import {
  BOT_HANDOFF_JOB,
  botHandoffJob,
  botHandoffJobHandler,
  botHandoffLane,
} from './bot-handoff-job'
import type { BotHandoffOptions } from './bot-handoff'
import type { RouteHook, ScoringOptions } from './priority'
import { createRouter } from './router'
import { botHandoffRoutes } from './bot-handoff-routes'
import { routingRoutes } from './routing-routes'
import { vipRescoreJob, vipRescoreJobHandler } from './vip-rescore-job'

/** The consumer's name: where its cursor is stored. Never rename it. */
export const ROUTING_CONSUMER = 'routing'

export interface RoutingOptions {
  /** Replaces the default priority scoring and VIP team assignment. */
  readonly route?: RouteHook
  /** Weights of the default scoring. */
  readonly scoring?: ScoringOptions
  /** Told about every conversation that starts, as a job (webhook or function). */
  readonly botHandoff?: BotHandoffOptions
}

const isDeleted = (error: unknown): boolean =>
  error instanceof CardfileError && error.code === ErrorCodes.Deleted

/**
 * Routing as an extension: the `routing` consumer routes a conversation when it starts (VIP
 * team, priority score, or the app's `route` hook) and queues its bot hand-off job,
 * re-routes a contact's open conversations when its VIP flag changes, and queues a re-score of
 * every VIP contact's open conversations when VIP is switched on or off for the workspace (or
 * its plan gains or loses VIP); plus the VIP group and queue routes. Routing an event twice writes nothing the second time, and the hand-off job is
 * queued once per conversation, so a replayed event after a crash changes nothing.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [routingExtension({ botHandoff: { url } })] })
 */
export function routingExtension(options: RoutingOptions = {}): Extension {
  return {
    name: 'routing',
    start(context) {
      const { host, backend, logger } = context
      const router = createRouter({
        host,
        index: backend.index,
        logger,
        ...(options.route === undefined ? {} : { route: options.route }),
        ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
      })
      const handoff = options.botHandoff
      const queueRoutes = routingRoutes()
      const outboxRoutes = botHandoffRoutes(backend.jobs)
      const consumer: EventConsumer = {
        name: ROUTING_CONSUMER,
        types: ['conversation.started', 'contact.vip-changed', 'workspace.vip-changed'],
        async handle(event) {
          try {
            if (event.type === 'workspace.vip-changed') {
              // A whole workspace's VIP contacts: a durable job, resumed after a crash.
              await context.enqueue(vipRescoreJob(event.workspace, event.seq, event.data.active))
            } else if (event.type === 'contact.vip-changed') {
              await router.rescore(event.workspace, event.subject)
            } else if (event.type === 'conversation.started') {
              const { contactId } = event.data
              const ctx = await router.context(event.workspace, contactId)
              const open = await router.route('new', event.workspace, event.subject, ctx)
              if (open && handoff !== undefined) {
                await context.enqueue(botHandoffJob(event.workspace, event.subject, contactId))
              }
            }
          } catch (error) {
            // Erased since: there is nothing left to route.
            if (!isDeleted(error)) throw error
          }
        },
      }
      return {
        consumers: [consumer],
        jobs: [
          vipRescoreJobHandler({ router, index: backend.index }),
          ...(handoff === undefined
            ? []
            : [botHandoffJobHandler({ host, router, handoff, logger })]),
        ],
        routes: async (req, res, ctx) =>
          (await queueRoutes(req, res, ctx)) || (await outboxRoutes(req, res, ctx)),
        onContactErased: async ({ workspace, contactId }) => {
          await backend.jobs.remove({
            workspace,
            kind: BOT_HANDOFF_JOB,
            lane: botHandoffLane(workspace, contactId),
          })
        },
      }
    },
  }
}
