import { ErrorCodes, isValidId } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import type { Job } from '../jobs/job-store'
import { asSeenWithVip, readVipActive } from '../routing/vip-state'
import { decodeCursor, newestPage } from '../storage/cursor'
import type { ContactIndexRow, Page } from '../storage/index-store'
import type { LinkStorage } from './link-store'
import { groupHistory } from './group-history'
import { linkGroup, orderedPair } from './link-groups'
import { relinkView } from './relink-job'

/** What the linking endpoints work with. */
export interface LinkingRoutesDeps {
  readonly links: LinkStorage
  /** Re-links the workspace by its current matching attribute; resolves the queued job. */
  relink(workspace: string): Promise<Job>
  /** Largest accepted request body in bytes (default 1 MB). */
  readonly maxBodyBytes?: number
}

const limit = z.coerce.number().int().min(1).max(200).default(50)
const cursor = z.string().min(1).max(512).optional()
const pageQuery = z.object({ limit, cursor }).strict()
const linkBody = z
  .object({
    contactId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    kind: z.enum(['link', 'unlink']),
  })
  .strict()

const STAFF: readonly Role[] = ['admin', 'agent']

const contactIdOf = (value: string | undefined): string => {
  if (value === undefined || !isValidId(value)) {
    throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
  }
  return value
}

/** A newest-first page of group members, after the cursor. */
function pageOfMembers(
  members: readonly ContactIndexRow[],
  size: number,
  after: string | null | undefined,
): Page<ContactIndexRow> {
  const c = decodeCursor(after, 'newest')
  const rest =
    c === null
      ? members
      : members.filter((m) => m.createdAt < c.t || (m.createdAt === c.t && m.id < c.i))
  return newestPage(rest, size, (m) => ({ t: m.createdAt, i: m.id }))
}

/**
 * The linking endpoints (agents and admins unless noted):
 * - `GET  /api/<ws>/contacts/<id>/linked?limit&cursor`: the contact's linked contacts (its group
 *   without itself, newest first) and the manual records that shaped the group;
 * - `GET  /api/<ws>/contacts/<id>/history?limit&cursor`: every conversation of every contact in
 *   the group, newest first;
 * - `POST /api/<ws>/contacts/<id>/links` `{ contactId, kind: 'link' | 'unlink' }`: links the two
 *   contacts by hand, or detaches `contactId` from `<id>`'s group;
 * - `DELETE /api/<ws>/contacts/<id>/links/<other>`: reverts the pair to automatic linking;
 * - `GET  /api/<ws>/contacts/<id>/links/log?limit&cursor`: who linked and unlinked, newest first;
 * - `POST /api/<ws>/relink` (admins): re-links the workspace now; answers the job (202), whose
 *   progress `GET /api/<ws>/jobs/<id>` reports.
 * Resolves false for requests that are not theirs.
 *
 * @example
 * const routes = linkingRoutes({ links: backend.links, relink })
 */
export function linkingRoutes(deps: LinkingRoutesDeps): HttpRequestHandler {
  const { links } = deps
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    const staff = async (what: string) => {
      const principal = await ctx.principal(req, workspace)
      requireRole(principal, STAFF, what)
      return principal
    }
    const path = url.pathname
    const query = () => searchParamsObject(url.searchParams)

    if (resource === 'contacts' && rest.length >= 2) {
      const contactId = contactIdOf(rest[0])
      const sub = rest[1]
      if (sub === 'linked' && rest.length === 2) {
        allowMethods(method, ['GET'], path)
        await staff('read linked contacts')
        const q = parseInput(pageQuery, query(), 'query')
        const group = await linkGroup(ctx.backend.index, links, workspace, contactId)
        const vip = await readVipActive(ctx.host, workspace)
        const others = group.members
          .filter((m) => m.id !== contactId)
          .map((m) => asSeenWithVip(m, vip))
        sendJson(res, 200, {
          contact: asSeenWithVip(group.contact, vip),
          ...pageOfMembers(others, q.limit, q.cursor),
          size: group.members.length,
          truncated: group.truncated,
          records: group.records,
        })
        return true
      }
      if (sub === 'history' && rest.length === 2) {
        allowMethods(method, ['GET'], path)
        await staff('read conversation history')
        const q = parseInput(pageQuery, query(), 'query')
        const group = await linkGroup(ctx.backend.index, links, workspace, contactId)
        const page = await groupHistory(
          ctx.backend.index,
          workspace,
          group.members.map((m) => m.id),
          q.limit,
          q.cursor ?? null,
        )
        sendJson(res, 200, {
          items: page.items,
          next: page.next,
          contacts: group.members.map((m) => m.id),
          truncated: group.truncated,
        })
        return true
      }
      if (sub === 'links' && rest.length === 2) {
        allowMethods(method, ['POST'], path)
        const principal = await staff('link contacts')
        const body = parseInput(linkBody, await readJsonBody(req, deps.maxBodyBytes), 'body')
        if (body.contactId === contactId) {
          throw new HttpError(400, ErrorCodes.BadRequest, 'A contact cannot be linked to itself')
        }
        const found = await links.contactsByIds(workspace, [contactId, body.contactId])
        if (found.length < 2) {
          throw new HttpError(404, ErrorCodes.NotFound, 'Both contacts must exist')
        }
        const [a, b] = orderedPair(contactId, body.contactId)
        const record = {
          workspace,
          a,
          b,
          kind: body.kind,
          // An unlink detaches the contact named in the body from the one in the path.
          subject: body.contactId,
          by: { role: principal.role, userId: principal.userId },
          at: Date.now(),
        }
        await links.putLink(record)
        ctx.lists?.changed({ type: 'links', workspace, contactIds: [a, b] })
        // For the parts of the server that react to links (webhooks); ids only.
        await ctx.backend.events.publish([
          {
            type: 'contact.linked',
            workspace,
            subject: contactId,
            actor: record.by,
            data: { other: body.contactId, kind: body.kind },
            at: record.at,
          },
        ])
        sendJson(res, 200, { record })
        return true
      }
      if (sub === 'links' && rest.length === 3 && rest[2] === 'log') {
        allowMethods(method, ['GET'], path)
        await staff('read the link record')
        const q = parseInput(pageQuery, query(), 'query')
        const page = await links.linkLog(workspace, contactId, {
          limit: q.limit,
          cursor: q.cursor ?? null,
        })
        sendJson(res, 200, page)
        return true
      }
      if (sub === 'links' && rest.length === 3) {
        allowMethods(method, ['DELETE'], path)
        const principal = await staff('revert links')
        const other = contactIdOf(rest[2])
        const [a, b] = orderedPair(contactId, other)
        const by = { role: principal.role, userId: principal.userId }
        const at = Date.now()
        const removed = await links.removeLink(workspace, a, b, by, at)
        if (removed === null) {
          throw new HttpError(
            404,
            ErrorCodes.NotFound,
            'No manual link or unlink between these contacts',
          )
        }
        ctx.lists?.changed({ type: 'links', workspace, contactIds: [a, b] })
        // A revert can link or unlink the pair (the matching values decide again), so webhooks
        // that hear links hear it too, about the contact of the path as for a link.
        await ctx.backend.events.publish([
          {
            type: 'contact.linked',
            workspace,
            subject: contactId,
            actor: by,
            data: { other, kind: 'revert', reverted: removed.kind },
            at,
          },
        ])
        sendJson(res, 200, { removed })
        return true
      }
      return false
    }

    if (resource === 'relink' && rest.length === 0) {
      allowMethods(method, ['POST'], path)
      const principal = await ctx.principal(req, workspace)
      requireRole(principal, ['admin'], 're-link the workspace')
      sendJson(res, 202, { job: relinkView(await deps.relink(workspace)) })
      return true
    }

    return false
  })
}
