import { CardfileError, ErrorCodes, contactDocName, isValidId } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import { MAX_HISTORY_PAGE } from './history-rows'

const historyQuery = z
  .object({
    attribute: z
      .string()
      .refine(isValidId, { message: 'attribute must be an attribute id' })
      .optional(),
    limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE).default(50),
    cursor: z.string().min(1).max(32).optional(),
  })
  .strict()

/**
 * `GET /api/<ws>/contacts/<id>/history/values?attribute&limit&cursor`: the contact's value
 * changes (custom and platform values, the VIP flag), newest first, each with who made it
 * (user and role, or the CRM, a bot, the system), when, and the value before and after. For
 * those who read contacts (admins, agents) and the system; 404 `not-found` for an unknown
 * contact, 410 `deleted` for an erased one.
 *
 * @example
 * // GET on /api/acme/contacts/c1/history/values?attribute=plan&limit=20
 * // { items: [{ id, attributeId: 'plan', previous: 'free', value: 'pro', by: { role: 'agent', userId: 'ana' }, at }], next }
 */
export function historyRoutes(): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'contacts' || rest.length !== 3 || rest[1] !== 'history') return false
    if (rest[2] !== 'values') return false
    allowMethods(method, ['GET'], url.pathname)
    const principal = await ctx.principal(req, workspace)
    requireRole(principal, ['admin', 'agent', 'system'], 'read the history of values')
    const contactId = rest[0]!
    if (!isValidId(contactId)) throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
    const query = parseInput(historyQuery, searchParamsObject(url.searchParams), 'query')
    if (await ctx.backend.documents.isErased(contactDocName(workspace, contactId))) {
      throw new CardfileError(ErrorCodes.Deleted, `Contact ${contactId} was deleted`)
    }
    if ((await ctx.backend.links.contactsByIds(workspace, [contactId])).length === 0) {
      throw new CardfileError(ErrorCodes.NotFound, `No contact ${contactId}`)
    }
    const page = await ctx.backend.valueHistory.list(workspace, contactId, {
      attributeId: query.attribute ?? null,
      limit: query.limit,
      cursor: query.cursor ?? null,
    })
    sendJson(res, 200, {
      items: page.items.map(({ workspace: _w, contactId: _c, ...entry }) => entry),
      next: page.next,
    })
    return true
  })
}
