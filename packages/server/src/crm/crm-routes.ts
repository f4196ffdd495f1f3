import type { IncomingMessage, ServerResponse } from 'node:http'
import { ContactDoc, ErrorCodes, capabilities, contactDocName, isValidId } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { z } from 'zod'
import { readSchemaView } from './crm-service'
import type { CrmService } from './crm-service'
import { CRM_DELIVERY } from './delivery-job'
import type { HttpContext } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { answeringErrors } from '../http/api-routes'
import { readJsonBody } from '../http/read-body'
import { within } from '../http/within'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'

const MAX_BODY = 64 * 1024

const url = z.string().max(2048)
const configBody = z
  .object({
    enabled: z.boolean().optional(),
    lookupUrl: url.nullable().optional(),
    writeBackUrl: url.nullable().optional(),
    notificationUrl: url.nullable().optional(),
  })
  .strict()
const secretBody = z.object({ secret: z.string().max(512).optional() }).strict()
const deliveriesQuery = z.object({
  state: z.enum(['pending', 'delivered', 'dead']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})

/**
 * The CRM routes, answered before the rest of the HTTP API:
 *
 * - `GET|PUT /api/<ws>/crm/config` (admins): the connection; the secret shows as its last 4
 * - `POST /api/<ws>/crm/secret` (admins): rotate (generated, returned once) or set `{ secret }`
 * - `POST /api/<ws>/crm/test` (admins): a signed test lookup; answers what it found
 * - `GET /api/<ws>/crm/deliveries?state=dead` and `POST .../deliveries/<id>/retry` (admins)
 * - `GET /api/<ws>/crm/metrics` (admins)
 * - `POST /api/<ws>/contacts/<id>/lookup` and `GET /api/<ws>/contacts/<id>/crm` (agents, admins);
 *   the latter also answers `connection: { configured, enabled }`, all agents may know of it
 *
 * Every route needs a plan with the CRM (`plan-lacks-feature` otherwise).
 *
 * @example
 * const handled = await crmRoutes(crm)(req, res, ctx) // false: not a CRM route
 */
export function crmRoutes(
  crm: CrmService,
): (req: IncomingMessage, res: ServerResponse, ctx: HttpContext) => Promise<boolean> {
  const authorize = async (
    req: IncomingMessage,
    ctx: HttpContext,
    workspace: string,
    roles: readonly Role[],
    what: string,
  ): Promise<void> => {
    requireRole(await ctx.principal(req, workspace), roles, what)
    const { settings } = await readSchemaView(ctx.host, workspace)
    if (!capabilities(settings.plan).crm) {
      throw new HttpError(403, ErrorCodes.PlanLacksFeature, 'The plan has no CRM integration')
    }
  }

  const route = async (req: IncomingMessage, res: ServerResponse, ctx: HttpContext) => {
    const requestUrl = new URL(req.url ?? '/', 'http://localhost')
    const parts = requestUrl.pathname.split('/').slice(1)
    if (parts[0] !== 'api') return false
    const [, workspace, resource, id, action, extra] = parts
    if (workspace === undefined || !isValidId(workspace)) return false
    const method = req.method ?? 'GET'
    const allow = (methods: readonly string[]): void =>
      allowMethods(method, methods, requestUrl.pathname)

    if (resource === 'contacts' && id !== undefined && extra === undefined) {
      if (action !== 'lookup' && action !== 'crm') return false
      if (!isValidId(id)) throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
      await authorize(req, ctx, workspace, ['admin', 'agent'], `use ${action} on contacts`)
      if (action === 'lookup') {
        allow(['POST'])
        // A lookup writes the CRM's answer into the contact: for an unknown id it would make a
        // contact out of nothing (and let anyone send the CRM made-up ids).
        const exists = await ctx.host.read(contactDocName(workspace, id), (doc) =>
          within(new ContactDoc(doc, id), (contact) => contact.read().profile !== null),
        )
        if (!exists) throw new HttpError(404, ErrorCodes.NotFound, `No contact ${id}`)
        sendJson(res, 200, await crm.lookup(workspace, id, 'agent'))
      } else {
        allow(['GET'])
        sendJson(res, 200, await crm.status(workspace, id))
      }
      return true
    }
    if (resource !== 'crm') return false
    await authorize(req, ctx, workspace, ['admin'], 'manage the CRM integration')
    if (id === 'config' && action === undefined) {
      if (method === 'GET') {
        sendJson(res, 200, await crm.getConfig(workspace))
      } else if (method === 'PUT' || method === 'PATCH') {
        const body = parseInput(configBody, await readJsonBody(req, MAX_BODY), 'body')
        sendJson(res, 200, await crm.updateConfig(workspace, body))
        ctx.lists?.changed({ type: 'crm', workspace })
      } else allow(['GET', 'PUT', 'PATCH'])
      return true
    }
    if (id === 'secret' && action === undefined) {
      allow(['POST'])
      const hasBody =
        (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding']
      const body = hasBody ? parseInput(secretBody, await readJsonBody(req, MAX_BODY), 'body') : {}
      sendJson(res, 200, await crm.rotateSecret(workspace, body.secret))
      return true
    }
    if (id === 'test' && action === undefined) {
      allow(['POST'])
      sendJson(res, 200, await crm.testConnection(workspace))
      return true
    }
    if (id === 'metrics' && action === undefined) {
      allow(['GET'])
      sendJson(res, 200, await crm.metrics(workspace))
      return true
    }
    if (id === 'deliveries') {
      if (action === undefined) {
        allow(['GET'])
        const query = parseInput(
          deliveriesQuery,
          Object.fromEntries(requestUrl.searchParams),
          'query',
        )
        const items = await crm.deliveries(workspace, {
          limit: query.limit,
          ...(query.state === undefined ? {} : { state: query.state }),
        })
        sendJson(res, 200, { items })
        return true
      }
      if (extra === 'retry' && parts.length === 6) {
        allow(['POST'])
        if (!(await crm.retry(workspace, action))) {
          throw new HttpError(404, ErrorCodes.NotFound, 'No dead delivery with that id')
        }
        // It left the dead letter: other admins' lists show it without waiting for a worker.
        ctx.lists?.changed({
          type: 'job',
          workspace,
          jobId: action,
          kind: CRM_DELIVERY,
          state: 'queued',
          from: 'failed',
        })
        sendJson(res, 202, { retried: action })
        return true
      }
    }
    throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${requestUrl.pathname}`)
  }

  return answeringErrors(route, 'cardfile crm http:', 'crm request failed')
}
