import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCodes, isValidId } from '@cardfile/core'
import { z } from 'zod'
import type { ContactErasureHook, ErasureBarrier } from '../deletion/contact-erasure'
import { deleteContact } from '../deletion/delete-contact'
import type { DeletionLog } from '../deletion/deletion-log'
import type { DocumentHost } from '../document-host'
import type { Storage } from '../storage/storage'
import { HttpError, sendJson } from './http-error'
import { allowMethods, parseInput, requireRole } from './route-auth'
import type { ApiRoute, PrincipalResolver } from './route-auth'
import { searchParamsObject } from './schemas'

export type { ApiRoute } from './route-auth'

/** What the deletion routes need from the HTTP API around them. */
export interface DeletionRoutesContext {
  readonly host: DocumentHost
  readonly storage: Storage
  /** Verifies the bearer token for the workspace (throws HttpError 401/403). */
  readonly principal: PrincipalResolver
  /** Passed before each erasure, released after its seal (the exports extension's). */
  readonly barriers?: readonly ErasureBarrier[] | undefined
  readonly hooks?: readonly ContactErasureHook[] | undefined
  readonly onError?: ((error: unknown) => void) | undefined
}

const deletedContactsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict()

const logOf = (storage: Storage): DeletionLog => {
  if (storage.deletionLog === undefined) {
    throw new HttpError(501, ErrorCodes.Internal, 'This storage keeps no deleted-contacts log')
  }
  return storage.deletionLog
}

/**
 * The deletion routes: `DELETE /api/<workspace>/contacts/<id>` erases a contact (admins) and
 * answers its audit record; `GET /api/<workspace>/deleted-contacts?limit&cursor` lists the audit
 * log newest first (admins). The log is append-only: no route changes or removes a record.
 * Resolves false for requests that are not theirs.
 *
 * @example
 * const deletion = deletionRoutes({ host, storage, principal })
 * if (await deletion(req, res, route)) return true
 */
export function deletionRoutes(
  context: DeletionRoutesContext,
): (req: IncomingMessage, res: ServerResponse, route: ApiRoute) => Promise<boolean> {
  return async (req, res, { method, workspace, resource, rest, url }) => {
    if (resource === 'contacts' && rest.length === 1) {
      const contactId = rest[0]!
      allowMethods(method, ['DELETE'], url.pathname)
      const principal = await context.principal(req, workspace)
      requireRole(principal, ['admin'], 'delete contacts')
      if (!isValidId(contactId)) {
        throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
      }
      const record = await deleteContact(
        {
          host: context.host,
          storage: context.storage,
          log: logOf(context.storage),
          barriers: context.barriers,
          hooks: context.hooks,
          onError: context.onError,
        },
        workspace,
        contactId,
        { userId: principal.userId, name: principal.name },
      )
      sendJson(res, 200, { deleted: record })
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
      const principal = await context.principal(req, workspace)
      requireRole(principal, ['admin'], 'read the deleted-contacts log')
      const query = parseInput(deletedContactsQuery, searchParamsObject(url.searchParams), 'query')
      const page = await logOf(context.storage).list(workspace, {
        limit: query.limit,
        cursor: query.cursor ?? null,
      })
      sendJson(res, 200, { items: page.items, next: page.next })
      return true
    }
    return false
  }
}
