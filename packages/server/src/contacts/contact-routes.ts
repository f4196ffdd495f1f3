import type { ServerResponse } from 'node:http'
import { ContactDoc, ErrorCodes, contactDocName, isValidId } from '@cardfile/core'
import type { Actor, ContactData, Role } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson, statusForCode } from '../http/http-error'
import { readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { within } from '../http/within'
import { contactEtag } from './contact-etag'
import { ValuesRefused, writeContactValues } from './contact-values'

/** The largest `PATCH .../values` body (bytes) and the most attributes one write may set. */
const MAX_PATCH_BYTES = 256 * 1024
const MAX_VALUES_PER_PATCH = 500

/** Integrations read and write contacts with these roles (`system` is the server's own). */
const READERS: readonly Role[] = ['admin', 'agent', 'bot', 'crm']

const valuesBody = z
  .record(
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'attribute ids are 1-64 of A-Z a-z 0-9 _ -'),
    z.unknown(),
  )
  .refine((values) => Object.keys(values).length > 0, 'send at least one attribute id')
  .refine(
    (values) => Object.keys(values).length <= MAX_VALUES_PER_PATCH,
    `at most ${MAX_VALUES_PER_PATCH} values per request`,
  )

/** A contact as the REST API shows it. */
const contactJson = (contact: ContactData, etag: string) => ({
  id: contact.id,
  profile: contact.profile,
  values: contact.custom,
  platform: contact.platform,
  vip: contact.vip,
  etag,
})

const contactIdOf = (value: string | undefined): string => {
  if (value === undefined || !isValidId(value)) {
    throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
  }
  return value
}

const sendContact = (res: ServerResponse, contact: ContactData, etag: string, status = 200) =>
  sendJson(res, status, { contact: contactJson(contact, etag) }, { etag })

/**
 * The contact endpoints for integrations without Yjs:
 * - `GET /api/<ws>/contacts/<id>`: the contact's profile, custom and platform values with their
 *   provenance, and VIP; its entity tag in `ETag` (and in the body);
 * - `PATCH /api/<ws>/contacts/<id>/values` with a JSON object `{ attributeId: value | null }`:
 *   writes the values all or nothing as the token's user and role, with the permission and
 *   validation rules of the websocket; `If-Match` (optional) makes it conditional (412 when the
 *   contact changed since). Answers the contact as it now stands.
 * Admins, agents, bots and the CRM role may call them; what each may write is core's
 * `checkWrite`. `DELETE /api/<ws>/contacts/<id>` is the deletion extension's.
 *
 * @example
 * const routes = contactRoutes()
 */
export function contactRoutes(): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'contacts') return false
    if (rest.length === 1) {
      if (method === 'DELETE') return false
      allowMethods(method, ['GET', 'DELETE'], url.pathname)
      requireRole(await ctx.principal(req, workspace), READERS, 'read contacts')
      const contactId = contactIdOf(rest[0])
      const found = await ctx.host.read(contactDocName(workspace, contactId), (doc) =>
        within(new ContactDoc(doc, contactId), (contact) => ({
          contact: contact.read(),
          etag: contactEtag(doc),
        })),
      )
      if (found.contact.profile === null) {
        throw new HttpError(404, ErrorCodes.NotFound, `No contact ${contactId}`)
      }
      sendContact(res, found.contact, found.etag)
      return true
    }
    if (rest.length === 2 && rest[1] === 'values') {
      allowMethods(method, ['PATCH'], url.pathname)
      const principal = await ctx.principal(req, workspace)
      requireRole(principal, READERS, 'write contact values')
      const contactId = contactIdOf(rest[0])
      const values = parseInput(valuesBody, await readJsonBody(req, MAX_PATCH_BYTES), 'body')
      const actor: Actor = {
        userId: principal.userId,
        role: principal.role,
        ...(principal.name === undefined ? {} : { name: principal.name }),
      }
      const ifMatch = req.headers['if-match']
      try {
        const written = await writeContactValues(ctx.host, workspace, contactId, actor, values, {
          ...(ifMatch === undefined ? {} : { ifMatch }),
        })
        sendContact(res, written.contact, written.etag)
      } catch (error) {
        if (!(error instanceof ValuesRefused)) throw error
        sendJson(res, statusForCode(error.code), {
          error: { code: error.code, message: error.message, field: error.field },
          refusals: error.refusals,
        })
      }
      return true
    }
    return false
  })
}
