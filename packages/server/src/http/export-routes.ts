import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { ErrorCodes, isValidId } from '@cardfile/core'
import { z } from 'zod'
import type { ExportService } from '../exports/export-service'
import { HttpError, sendJson } from './http-error'
import { readJsonBody } from './read-body'
import { allowMethods, parseInput, requireRole } from './route-auth'
import type { ApiRoute, PrincipalResolver } from './route-auth'

/** What the export routes need from the HTTP API around them. */
export interface ExportRoutesContext {
  /** Undefined when the storage keeps no export jobs: the routes answer 501. */
  readonly exports: ExportService | undefined
  /** Verifies the bearer token for the workspace (throws HttpError 401/403). */
  readonly principal: PrincipalResolver
  readonly maxBodyBytes: number
}

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

/**
 * The export routes (admins only):
 * - `POST /api/<workspace>/exports` `{ type: 'contact-attributes', from?, to? }` starts a job
 *   (202 with the job); a plan without exports gets 403 `plan-lacks-feature`.
 * - `GET /api/<workspace>/exports/<id>`: the job with `status`, `rows`, `total`, `progress`.
 * - `GET /api/<workspace>/exports/<id>/download`: the CSV file, streamed.
 * Resolves false for requests that are not theirs.
 *
 * @example
 * const exports = exportRoutes({ exports: service, principal, maxBodyBytes })
 * if (await exports(req, res, route)) return true
 */
export function exportRoutes(
  context: ExportRoutesContext,
): (req: IncomingMessage, res: ServerResponse, route: ApiRoute) => Promise<boolean> {
  return async (req, res, { method, workspace, resource, rest, url }) => {
    if (resource !== 'exports' || rest.length > 2) return false
    const [id, sub] = rest
    if (sub !== undefined && sub !== 'download') return false
    allowMethods(method, [id === undefined ? 'POST' : 'GET'], url.pathname)
    const principal = await context.principal(req, workspace)
    requireRole(principal, ['admin'], 'export')
    const service = context.exports
    if (service === undefined) {
      throw new HttpError(501, ErrorCodes.Internal, 'This storage keeps no export jobs')
    }
    if (id === undefined) {
      const body = parseInput(exportBody, await readJsonBody(req, context.maxBodyBytes), 'body')
      const job = await service.start(workspace, principal.userId, body)
      sendJson(res, 202, { job }, { location: `${url.pathname}/${job.id}` })
      return true
    }
    if (!isValidId(id)) throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid export id')
    if (sub === undefined) {
      const job = await service.status(workspace, id)
      if (job === null) throw new HttpError(404, ErrorCodes.NotFound, `No export ${id}`)
      sendJson(res, 200, { job })
      return true
    }
    const { path, job } = await service.file(workspace, id)
    const stream = createReadStream(path)
    // Open before answering, so a file removed meanwhile is a clean error, not a cut response.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve())
      stream.once('error', reject)
    }).catch(() => {
      throw new HttpError(410, ErrorCodes.Deleted, 'The export file is gone')
    })
    const day = new Date(job.createdAt).toISOString().slice(0, 10)
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="contacts-${workspace}-${day}.csv"`,
      'cache-control': 'no-store',
    })
    await pipeline(stream, res).catch(() => res.destroy())
    return true
  }
}
