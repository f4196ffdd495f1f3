import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCodes, SchemaDoc, capabilities, isValidId, schemaDocName } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { z } from 'zod'
import type { DocumentHost } from '../document-host'
import { groupHistory } from '../linking/group-history'
import { linkGroup, linkStorageOf, orderedPair } from '../linking/link-groups'
import { crossChannelOf } from '../routing/cross-channel'
import { decodeCursor, newestPage } from '../storage/cursor'
import type { ContactIndexRow, Page, Storage } from '../storage/storage'
import { HttpError, sendJson } from './http-error'
import { readJsonBody } from './read-body'
import { allowMethods, parseInput, requireRole } from './route-auth'
import type { ApiRoute, PrincipalResolver } from './route-auth'
import { searchParamsObject } from './schemas'
import { within } from './within'

/** What the linking and routing endpoints need from the HTTP API around them. */
export interface LinkingRoutesContext {
  readonly host: DocumentHost
  readonly storage: Storage
  /** Verifies the bearer token for the workspace (throws HttpError 401/403). */
  readonly principal: PrincipalResolver
  readonly maxBodyBytes?: number
}

const limit = z.coerce.number().int().min(1).max(200).default(50)
const cursor = z.string().min(1).max(512).optional()
const pageQuery = z.object({ limit, cursor }).strict()
const queueQuery = z.object({ team: z.string().min(1).max(64).optional(), limit, cursor }).strict()
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
 * The cross-channel endpoints (agents and admins unless noted):
 * - `GET  /api/<ws>/contacts/<id>/linked?limit&cursor`: the contact's linked contacts (its group
 *   without itself, newest first) and the manual records that shaped the group;
 * - `GET  /api/<ws>/contacts/<id>/history?limit&cursor`: every conversation of every contact in
 *   the group, newest first;
 * - `POST /api/<ws>/contacts/<id>/links` `{ contactId, kind: 'link' | 'unlink' }`: links the two
 *   contacts by hand, or detaches `contactId` from `<id>`'s group;
 * - `DELETE /api/<ws>/contacts/<id>/links/<other>`: reverts the pair to automatic linking;
 * - `GET  /api/<ws>/contacts/<id>/links/log?limit&cursor`: who linked and unlinked, newest first;
 * - `POST /api/<ws>/relink` (admins): re-links the workspace now; answers the job;
 * - `GET  /api/<ws>/jobs/<id>`: a re-link job's progress;
 * - `GET  /api/<ws>/groups/vip?limit&cursor`: the VIP contacts, newest first (none while VIP is off);
 * - `GET  /api/<ws>/queue?team&limit&cursor`: a team's open conversations by priority, then
 *   oldest first (no team: the unassigned queue).
 * Resolves false for requests that are not theirs.
 *
 * @example
 * const linking = linkingRoutes({ host, storage, principal })
 * if (await linking(req, res, route)) return true
 */
export function linkingRoutes(
  context: LinkingRoutesContext,
): (req: IncomingMessage, res: ServerResponse, route: ApiRoute) => Promise<boolean> {
  const { storage, host } = context
  const staff = async (req: IncomingMessage, workspace: string, what: string) => {
    const principal = await context.principal(req, workspace)
    requireRole(principal, STAFF, what)
    return principal
  }

  return async (req, res, { method, workspace, resource, rest, url }) => {
    const path = url.pathname
    const query = () => searchParamsObject(url.searchParams)

    if (resource === 'contacts' && rest.length >= 2) {
      const contactId = contactIdOf(rest[0])
      const sub = rest[1]
      if (sub === 'linked' && rest.length === 2) {
        allowMethods(method, ['GET'], path)
        await staff(req, workspace, 'read linked contacts')
        const q = parseInput(pageQuery, query(), 'query')
        const group = await linkGroup(storage, workspace, contactId)
        const others = group.members.filter((m) => m.id !== contactId)
        sendJson(res, 200, {
          contact: group.contact,
          ...pageOfMembers(others, q.limit, q.cursor),
          size: group.members.length,
          truncated: group.truncated,
          records: group.records,
        })
        return true
      }
      if (sub === 'history' && rest.length === 2) {
        allowMethods(method, ['GET'], path)
        await staff(req, workspace, 'read conversation history')
        const q = parseInput(pageQuery, query(), 'query')
        const group = await linkGroup(storage, workspace, contactId)
        const page = await groupHistory(
          storage,
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
        const principal = await staff(req, workspace, 'link contacts')
        const body = parseInput(linkBody, await readJsonBody(req, context.maxBodyBytes), 'body')
        if (body.contactId === contactId) {
          throw new HttpError(400, ErrorCodes.BadRequest, 'A contact cannot be linked to itself')
        }
        const links = linkStorageOf(storage)
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
        sendJson(res, 200, { record })
        return true
      }
      if (sub === 'links' && rest.length === 3 && rest[2] === 'log') {
        allowMethods(method, ['GET'], path)
        await staff(req, workspace, 'read the link record')
        const q = parseInput(pageQuery, query(), 'query')
        const page = await linkStorageOf(storage).linkLog(workspace, contactId, {
          limit: q.limit,
          cursor: q.cursor ?? null,
        })
        sendJson(res, 200, page)
        return true
      }
      if (sub === 'links' && rest.length === 3) {
        allowMethods(method, ['DELETE'], path)
        const principal = await staff(req, workspace, 'revert links')
        const other = contactIdOf(rest[2])
        const [a, b] = orderedPair(contactId, other)
        const removed = await linkStorageOf(storage).removeLink(
          workspace,
          a,
          b,
          { role: principal.role, userId: principal.userId },
          Date.now(),
        )
        if (removed === null) {
          throw new HttpError(
            404,
            ErrorCodes.NotFound,
            'No manual link or unlink between these contacts',
          )
        }
        sendJson(res, 200, { removed })
        return true
      }
      return false
    }

    if (resource === 'relink' && rest.length === 0) {
      allowMethods(method, ['POST'], path)
      const principal = await context.principal(req, workspace)
      requireRole(principal, ['admin'], 're-link the workspace')
      const job = await crossChannelOf(storage, host).relink(workspace)
      sendJson(res, 202, { job })
      return true
    }

    if (resource === 'jobs' && rest.length === 1) {
      allowMethods(method, ['GET'], path)
      await staff(req, workspace, 'read jobs')
      const job = crossChannelOf(storage, host).jobs?.get(rest[0] ?? '')
      if (job?.workspace !== workspace) {
        throw new HttpError(
          404,
          ErrorCodes.NotFound,
          'No such job (finished jobs are kept a while)',
        )
      }
      sendJson(res, 200, { job })
      return true
    }

    if (resource === 'groups' && rest.length === 1 && rest[0] === 'vip') {
      allowMethods(method, ['GET'], path)
      await staff(req, workspace, 'list contact groups')
      const q = parseInput(pageQuery, query(), 'query')
      const settings = await host.read(schemaDocName(workspace), (doc) =>
        within(new SchemaDoc(doc), (s) => s.settings()),
      )
      const enabled = settings.vipEnabled && capabilities(settings.plan).vip
      if (!enabled) {
        sendJson(res, 200, { items: [], next: null, enabled })
        return true
      }
      const page = await storage.listContacts(workspace, {
        vip: true,
        limit: q.limit,
        cursor: q.cursor ?? null,
      })
      sendJson(res, 200, { items: page.items, next: page.next, enabled })
      return true
    }

    if (resource === 'queue' && rest.length === 0) {
      allowMethods(method, ['GET'], path)
      await staff(req, workspace, 'read queues')
      const q = parseInput(queueQuery, query(), 'query')
      const page = await storage.listConversations(workspace, {
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
  }
}
