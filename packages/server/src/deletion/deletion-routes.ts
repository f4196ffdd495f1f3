import { ErrorCodes, isValidId } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import { errorContext } from '../sync/logger'
import type { ContactErasureHook } from './contact-erasure'
import { deleteContact } from './delete-contact'
import { deleteLinkedContacts } from './delete-linked'

const deleteQuery = z.object({ linked: z.enum(['true', 'false']).optional() }).strict()

const deletedContactsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict()

/**
 * The deletion routes: `DELETE /api/<workspace>/contacts/<id>` erases a contact (admins) and
 * answers its audit record (`?linked=true`: with every contact linked to it across channels,
 * one audit record each, `{ deleted, linked }`); `GET /api/<workspace>/deleted-contacts?limit&cursor` lists the audit
 * log newest first (admins). The log is append-only: no route changes or removes a record.
 * An erasure passes the server's erasure barriers and runs every extension's erasure hook, then
 * `hooks`. Resolves false for requests that are not theirs.
 *
 * @example
 * const routes = deletionRoutes([async ({ workspace, contactId }) => outbox.dropFor(workspace, contactId)])
 */
export function deletionRoutes(hooks: readonly ContactErasureHook[] = []): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource === 'contacts' && rest.length === 1) {
      const contactId = rest[0]!
      allowMethods(method, ['DELETE'], url.pathname)
      const principal = await ctx.principal(req, workspace)
      requireRole(principal, ['admin'], 'delete contacts')
      if (!isValidId(contactId)) {
        throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
      }
      const query = parseInput(deleteQuery, searchParamsObject(url.searchParams), 'query')
      const context = {
        host: ctx.host,
        backend: ctx.backend,
        log: ctx.backend.deletionLog,
        barriers: ctx.erasureBarriers ?? [],
        hooks: [...(ctx.erasureHooks ?? []), ...hooks],
        onError: (error: unknown) =>
          ctx.logger?.error('contact erasure hook failed', errorContext(error)),
      }
      const admin = { userId: principal.userId, name: principal.name }
      const answer =
        query.linked === 'true'
          ? await deleteLinkedContacts(context, workspace, contactId, admin)
          : { deleted: await deleteContact(context, workspace, contactId, admin), linked: [] }
      sendJson(res, 200, answer)
      return true
    }
    if (resource === 'deleted-contacts' && rest.length === 0) {
      if (method !== 'GET') {
        throw new HttpError(
          405,
          ErrorCodes.BadRequest,
          'The deleted-contacts log is append-only: use GET to read it',
        )
      }
      const principal = await ctx.principal(req, workspace)
      requireRole(principal, ['admin'], 'read the deleted-contacts log')
      const query = parseInput(deletedContactsQuery, searchParamsObject(url.searchParams), 'query')
      const page = await ctx.backend.deletionLog.list(workspace, {
        limit: query.limit,
        cursor: query.cursor ?? null,
      })
      sendJson(res, 200, { items: page.items, next: page.next })
      return true
    }
    return false
  })
}
