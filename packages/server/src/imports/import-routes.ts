import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { ErrorCodes } from '@cardfile/core'
import type { BlobStore } from '../blobs/blob-store'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, requireRole } from '../http/route-auth'
import type { Job, NewJob } from '../jobs/job-store'
import { CONTACT_IMPORT, importView } from './import-job'
import type { ImportInput } from './import-job'

// After a refused body the rest of it is not read: close the connection.
const CLOSE = { connection: 'close' }

/** What the import route works with. */
export interface ImportRoutesDeps {
  readonly blobs: BlobStore
  enqueue(job: NewJob): Promise<Job>
  /** The largest accepted upload in bytes. */
  readonly maxBytes: number
}

/** The request body, counted as it streams in: over `limit`, the upload stops with 413. */
async function* capped(req: IncomingMessage, limit: number): AsyncGenerator<Uint8Array> {
  let size = 0
  for await (const chunk of req) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > limit) {
      throw new HttpError(413, ErrorCodes.PayloadTooLarge, `The file is over ${limit} bytes`, CLOSE)
    }
    yield buffer
  }
}

/**
 * The import route (admins and the system): `POST /api/<ws>/imports` with a CSV body (`text/csv`) streams the
 * file to the blob store (never whole in memory, at most `maxBytes`) and queues an import job;
 * answers 202 with the job, whose progress and row report `GET /api/<ws>/jobs/<id>` shows.
 * Imports of a workspace run one at a time, in the order they were uploaded.
 *
 * @example
 * const routes = importRoutes({ blobs: backend.blobs, enqueue, maxBytes: 64 * 1024 * 1024 })
 */
export function importRoutes(deps: ImportRoutesDeps): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'imports' || rest.length > 0) return false
    allowMethods(method, ['POST'], url.pathname)
    const principal = await ctx.principal(req, workspace)
    // The system may import too: platform columns (name, email, phone...) are the system's to
    // write, as on the websocket, so an operator's migration imports them with a system token.
    requireRole(principal, ['admin', 'system'], 'import contacts')
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (type !== 'text/csv' && type !== 'application/csv') {
      throw new HttpError(415, ErrorCodes.BadRequest, 'Send the file as text/csv')
    }
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > deps.maxBytes) {
      throw new HttpError(
        413,
        ErrorCodes.PayloadTooLarge,
        `The file is over ${deps.maxBytes} bytes`,
        CLOSE,
      )
    }
    const id = randomUUID()
    const blobKey = `imports/${workspace}/${id}.csv`
    const bytes = await deps.blobs.write(blobKey, capped(req, deps.maxBytes))
    if (bytes === 0) {
      await deps.blobs.delete(blobKey)
      throw new HttpError(400, ErrorCodes.BadRequest, 'The file is empty')
    }
    const input: ImportInput = {
      blobKey,
      bytes,
      actor: {
        userId: principal.userId,
        role: principal.role,
        ...(principal.name === undefined ? {} : { name: principal.name }),
      },
    }
    const job = await deps.enqueue({
      id,
      kind: CONTACT_IMPORT,
      workspace,
      lane: `import/${workspace}`,
      input,
    })
    sendJson(res, 202, { job: importView(job) }, { location: `/api/${workspace}/jobs/${job.id}` })
    return true
  })
}
