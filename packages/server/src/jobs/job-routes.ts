import { ErrorCodes } from '@cardfile/core'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import { z } from 'zod'
import type { JobHandler } from './job-runner'
import type { JobStore } from './job-store'

const listQuery = z
  .object({
    kind: z.string().min(1).max(64),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict()

/**
 * The jobs of a workspace (agents and admins), read from the jobs table, so they answer the
 * same after a restart and on every instance; each as its handler's `view` shows it. Jobs of
 * kinds without a view (deliveries that carry a contact's values) are not shown.
 * - `GET /api/<ws>/jobs/<id>`: one job;
 * - `GET /api/<ws>/jobs?kind=relink&limit=20`: the newest jobs of a kind (a re-link started by
 *   a settings change, say).
 *
 * @example
 * const routes = jobRoutes(backend.jobs, handlers)
 */
export function jobRoutes(store: JobStore, handlers: readonly JobHandler[]): HttpRequestHandler {
  const views = new Map(handlers.flatMap((h) => (h.view === undefined ? [] : [[h.kind, h.view]])))
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'jobs' || rest.length > 1) return false
    allowMethods(method, ['GET'], url.pathname)
    requireRole(await ctx.principal(req, workspace), ['admin', 'agent'], 'read jobs')
    if (rest.length === 0) {
      const q = parseInput(listQuery, searchParamsObject(url.searchParams), 'query')
      const view = views.get(q.kind)
      if (view === undefined) {
        throw new HttpError(400, ErrorCodes.BadRequest, `No job kind "${q.kind}" to list`)
      }
      const jobs = await store.list({ workspace, kind: q.kind }, q.limit)
      sendJson(res, 200, { items: jobs.map((job) => view(job)) })
      return true
    }
    const job = await store.get(rest[0] ?? '')
    const view = job === null ? undefined : views.get(job.kind)
    if (job === null || job.workspace !== workspace || view === undefined) {
      throw new HttpError(404, ErrorCodes.NotFound, 'No such job')
    }
    sendJson(res, 200, { job: view(job) })
    return true
  })
}
