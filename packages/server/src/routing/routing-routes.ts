import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import { readVipActive } from './vip-state'

const limit = z.coerce.number().int().min(1).max(200).default(50)
const cursor = z.string().min(1).max(512).optional()
const pageQuery = z.object({ limit, cursor }).strict()
const queueQuery = z
  .object({
    team: z.string().min(1).max(64).optional(),
    group: z.enum(['vip']).optional(),
    limit,
    cursor,
  })
  .strict()

/**
 * The routing endpoints (agents and admins):
 * - `GET /api/<ws>/groups/vip?limit&cursor`: the VIP contacts, newest first; while VIP is off
 *   for the workspace or its plan, none, with `enabled` and `vipEnabled` false (the same answer
 *   as `GET /contacts?vip=true`);
 * - `GET /api/<ws>/queue?team&group&limit&cursor`: a team's open conversations by priority,
 *   then oldest first (no team: the unassigned queue); `group=vip`: only those of VIP contacts
 *   (none, with `vipEnabled` false, while VIP is off).
 * Resolves false for requests that are not theirs.
 *
 * @example
 * const routes = routingRoutes()
 */
export function routingRoutes(): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource === 'groups' && rest.length === 1 && rest[0] === 'vip') {
      allowMethods(method, ['GET'], url.pathname)
      requireRole(await ctx.principal(req, workspace), ['admin', 'agent'], 'list contact groups')
      const q = parseInput(pageQuery, searchParamsObject(url.searchParams), 'query')
      const enabled = await readVipActive(ctx.host, workspace)
      if (!enabled) {
        sendJson(res, 200, { items: [], next: null, enabled, vipEnabled: enabled })
        return true
      }
      const page = await ctx.backend.index.listContacts(workspace, {
        vip: true,
        limit: q.limit,
        cursor: q.cursor ?? null,
      })
      sendJson(res, 200, { items: page.items, next: page.next, enabled, vipEnabled: enabled })
      return true
    }
    if (resource === 'queue' && rest.length === 0) {
      allowMethods(method, ['GET'], url.pathname)
      requireRole(await ctx.principal(req, workspace), ['admin', 'agent'], 'read queues')
      const q = parseInput(queueQuery, searchParamsObject(url.searchParams), 'query')
      if (q.group === 'vip' && !(await readVipActive(ctx.host, workspace))) {
        sendJson(res, 200, { items: [], next: null, vipEnabled: false })
        return true
      }
      const page = await ctx.backend.index.listConversations(workspace, {
        ...(q.group === undefined ? {} : { contactGroup: q.group }),
        team: q.team ?? null,
        status: ['new', 'pending'],
        order: 'priority',
        limit: q.limit,
        cursor: q.cursor ?? null,
      })
      sendJson(res, 200, page)
      return true
    }
    return false
  })
}
