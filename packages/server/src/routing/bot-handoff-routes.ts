import { ErrorCodes } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import type { JobStore } from '../jobs/job-store'
import { BOT_HANDOFF_JOB, HANDOFF_JOB_STATES, handoffDeliveryOf } from './bot-handoff-job'
import type { BotHandoffDelivery } from './bot-handoff-job'

const listQuery = z
  .object({
    state: z.enum(['pending', 'delivered', 'dead']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict()

/**
 * The bot hand-off outbox, for admins, shaped as the CRM deliveries routes are:
 * - `GET /api/<ws>/bot-handoffs?state=dead&limit`: hand-offs, newest first (`pending`,
 *   `delivered` or `dead`: the dead letter, those that gave up);
 * - `POST /api/<ws>/bot-handoffs/<id>/retry`: queues a dead hand-off again, due now, under the
 *   same id and so the same idempotency key (404 for any other id).
 * Read from the jobs table: the same on every instance and after a restart.
 *
 * @example
 * const routes = botHandoffRoutes(backend.jobs)
 */
export function botHandoffRoutes(jobs: JobStore): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'bot-handoffs') return false
    if (rest.length === 0) {
      allowMethods(method, ['GET'], url.pathname)
      requireRole(await ctx.principal(req, workspace), ['admin'], 'read bot hand-offs')
      const q = parseInput(listQuery, searchParamsObject(url.searchParams), 'query')
      const states =
        q.state === undefined
          ? Object.values(HANDOFF_JOB_STATES).flat()
          : HANDOFF_JOB_STATES[q.state]
      const found = await jobs.list({ workspace, kind: BOT_HANDOFF_JOB, states }, q.limit)
      const items = found.flatMap((job): BotHandoffDelivery[] => {
        const delivery = handoffDeliveryOf(job)
        return delivery === null ? [] : [delivery]
      })
      sendJson(res, 200, { items })
      return true
    }
    if (rest.length === 2 && rest[1] === 'retry') {
      allowMethods(method, ['POST'], url.pathname)
      requireRole(await ctx.principal(req, workspace), ['admin'], 'retry bot hand-offs')
      const id = rest[0] ?? ''
      const job = await jobs.get(id)
      if (job?.workspace !== workspace || job.kind !== BOT_HANDOFF_JOB || !(await jobs.retry(id))) {
        throw new HttpError(404, ErrorCodes.NotFound, 'No dead bot hand-off with that id')
      }
      sendJson(res, 202, { retried: id })
      return true
    }
    throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${url.pathname}`)
  })
}
