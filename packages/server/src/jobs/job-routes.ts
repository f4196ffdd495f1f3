import { ErrorCodes } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import { z } from 'zod'
import type { JobHandler } from './job-runner'
import type { JobStore } from './job-store'
import type { JobListQuery, ListRefusal } from '../lists/list-hub'

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
  const readers = jobReaders(handlers)
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'jobs' || rest.length > 1) return false
    allowMethods(method, ['GET'], url.pathname)
    const principal = await ctx.principal(req, workspace)
    requireRole(principal, ['admin', 'agent'], 'read jobs')
    if (rest.length === 0) {
      const q = parseInput(listQuery, searchParamsObject(url.searchParams), 'query')
      const view = views.get(q.kind)
      if (view === undefined) {
        throw new HttpError(400, ErrorCodes.BadRequest, `No job kind "${q.kind}" to list`)
      }
      requireRole(principal, readers.get(q.kind) ?? [], `read ${q.kind} jobs`)
      const jobs = await store.list({ workspace, kind: q.kind }, q.limit)
      sendJson(res, 200, { items: jobs.map((job) => view(job)) })
      return true
    }
    const job = await store.get(rest[0] ?? '')
    const view = job === null ? undefined : views.get(job.kind)
    // A job the role may not read answers as one that does not exist.
    if (
      job === null ||
      job.workspace !== workspace ||
      view === undefined ||
      !(readers.get(job.kind) ?? []).includes(principal.role)
    ) {
      throw new HttpError(404, ErrorCodes.NotFound, 'No such job')
    }
    sendJson(res, 200, { job: view(job) })
    return true
  })
}

/**
 * Who may read the jobs of each kind that has a view (`JobHandler.readers`, default admins and
 * agents); kinds without a view are shown to no one.
 *
 * @example
 * jobReaders(handlers).get('contact-import') // ['admin']
 */
export function jobReaders(handlers: readonly JobHandler[]): ReadonlyMap<string, readonly Role[]> {
  return new Map(
    handlers.flatMap((h) =>
      h.view === undefined ? [] : [[h.kind, h.readers ?? DEFAULT_READERS] as const],
    ),
  )
}

const DEFAULT_READERS: readonly Role[] = ['admin', 'agent']

/**
 * The access check of live job lists, the same as the routes': a `job` the role may not read
 * (of another workspace, of a kind without a view or not the role's to read, or none at all)
 * is refused `not-found`; a kind's `jobs` the role may not read, `forbidden`.
 *
 * @example
 * const access = jobListAccess(backend.jobs, () => jobReaders(handlers))
 * await access('demo', 'agent', { kind: 'job', jobId }) // null: it may follow it
 */
export function jobListAccess(
  store: Pick<JobStore, 'get'>,
  readers: () => ReadonlyMap<string, readonly Role[]>,
): (workspace: string, role: Role, query: JobListQuery) => Promise<ListRefusal | null> {
  return async (workspace, role, query) => {
    if (query.kind === 'jobs') {
      const roles = readers().get(query.jobKind)
      if (roles === undefined) {
        return { code: ErrorCodes.BadRequest, message: `No job kind "${query.jobKind}" to list` }
      }
      return roles.includes(role)
        ? null
        : { code: ErrorCodes.Forbidden, message: `Role ${role} may not read ${query.jobKind} jobs` }
    }
    const job = await store.get(query.jobId)
    const roles = job === null ? undefined : readers().get(job.kind)
    return job !== null && job.workspace === workspace && roles?.includes(role) === true
      ? null
      : { code: ErrorCodes.NotFound, message: 'No such job' }
  }
}
