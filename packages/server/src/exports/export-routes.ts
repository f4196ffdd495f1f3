import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { ErrorCodes, SchemaDoc, capabilities, isValidId, schemaDocName } from '@cardfile/core'
import { z } from 'zod'
import type { BlobStore } from '../blobs/blob-store'
import type { HttpContext, HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { answeringErrors } from '../http/api-routes'
import { readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { within } from '../http/within'
import type { Job, NewJob } from '../jobs/job-store'
import type { JobStore } from '../jobs/job-store'
import { EXPORT_JOB, exportResultOf, exportView } from './export-job'
import type { ExportInput } from './export-job'

/** What the export routes work with. */
export interface ExportRoutesDeps {
  readonly jobs: JobStore
  readonly blobs: BlobStore
  /** Enqueues a job and wakes the job runner. */
  enqueue(job: NewJob): Promise<Job>
}

const MAX_BODY_BYTES = 16 * 1024

/** A time bound: ms since the epoch or an ISO 8601 date or date-time. */
const bound = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date or date-time')
      .transform((s) => Date.parse(s)),
  ])
  .nullable()
  .optional()

const exportBody = z
  .object({
    type: z.literal('contact-attributes', {
      errorMap: () => ({ message: 'type must be "contact-attributes"' }),
    }),
    from: bound,
    to: bound,
  })
  .strict()

/** The export job `id` of `workspace`, or a 404. */
async function exportJob(jobs: JobStore, workspace: string, id: string): Promise<Job> {
  const job = await jobs.get(id)
  if (job === null || job.workspace !== workspace || job.kind !== EXPORT_JOB) {
    throw new HttpError(404, ErrorCodes.NotFound, `No export ${id}`)
  }
  return job
}

/**
 * The export routes (admins only), answered from the jobs table and the blob store, so they
 * work the same after a restart and on any instance:
 * - `POST /api/<workspace>/exports` `{ type: 'contact-attributes', from?, to? }` queues a job
 *   (202 with the job, `status: 'running'`); a plan without exports gets 403
 *   `plan-lacks-feature`.
 * - `GET /api/<workspace>/exports/<id>`: the job with `status`, `rows`, `total`, `progress`.
 * - `GET /api/<workspace>/exports/<id>/download`: the CSV, streamed; 400 while it runs, 410
 *   `deleted` when it has no file (failed, cancelled, removed).
 * Resolves false for requests that are not theirs.
 *
 * @example
 * const routes = exportRoutes({ jobs: backend.jobs, blobs, enqueue })
 * await createCardfileServer({ backend, auth, extensions: [{ name: 'x', start: () => ({ routes }) }] })
 */
export function exportRoutes(deps: ExportRoutesDeps): HttpRequestHandler {
  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
    ctx: HttpContext,
  ): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const [api, workspace, resource, id, sub, ...more] = url.pathname.split('/').slice(1)
    if (api !== 'api' || resource !== 'exports' || workspace === undefined) return false
    if (!isValidId(workspace) || more.length > 0) return false
    if (sub !== undefined && sub !== 'download') return false
    const method = req.method ?? 'GET'
    allowMethods(method, [id === undefined ? 'POST' : 'GET'], url.pathname)
    const principal = await ctx.principal(req, workspace)
    requireRole(principal, ['admin'], 'export')
    if (id === undefined) {
      const body = parseInput(exportBody, await readJsonBody(req, MAX_BODY_BYTES), 'body')
      const from = body.from ?? null
      const to = body.to ?? null
      if (from !== null && to !== null && from >= to) {
        throw new HttpError(400, ErrorCodes.BadRequest, '`from` must be before `to`')
      }
      const settings = await ctx.host.read(schemaDocName(workspace), (doc) =>
        within(new SchemaDoc(doc), (s) => s.settings()),
      )
      if (!capabilities(settings.plan).exports) {
        throw new HttpError(
          403,
          ErrorCodes.PlanLacksFeature,
          `The ${settings.plan} plan does not include exports (advanced and enterprise do)`,
        )
      }
      const input: ExportInput = { type: body.type, from, to, requestedBy: principal.userId }
      // The job id is the export id clients see.
      const job = await deps.enqueue({ id: randomUUID(), kind: EXPORT_JOB, workspace, input })
      sendJson(res, 202, { job: exportView(job) }, { location: `${url.pathname}/${job.id}` })
      return true
    }

    if (!isValidId(id)) throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid export id')
    const job = await exportJob(deps.jobs, workspace, id)
    const view = exportView(job)
    if (sub === undefined) {
      sendJson(res, 200, { job: view })
      return true
    }
    if (view.status === 'running') {
      throw new HttpError(400, ErrorCodes.BadRequest, 'The export is still running')
    }
    const result = exportResultOf(job)
    if (view.status !== 'done' || result === null) {
      throw new HttpError(
        410,
        ErrorCodes.Deleted,
        `The export has no file (${view.status}${view.error === null ? '' : `: ${view.error}`})`,
      )
    }
    // Opened before answering, so a file removed meanwhile is a clean error, not a cut response.
    const blob = await deps.blobs.read(result.blob)
    if (blob === null) throw new HttpError(410, ErrorCodes.Deleted, 'The export file is gone')
    const day = new Date(job.createdAt).toISOString().slice(0, 10)
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-length': blob.bytes,
      'content-disposition': `attachment; filename="contacts-${workspace}-${day}.csv"`,
      'cache-control': 'no-store',
    })
    await pipeline(blob.stream, res).catch(() => res.destroy())
    return true
  }

  return answeringErrors(route, 'cardfile exports http:', 'export request failed')
}
