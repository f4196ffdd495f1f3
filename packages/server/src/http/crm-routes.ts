import type { IncomingMessage, ServerResponse } from 'node:http'
import { CardfileError, ErrorCodes, capabilities, isValidId } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { z } from 'zod'
import { readSchemaView } from '../crm/crm-service'
import type { CrmService } from '../crm/crm-service'
import type { HttpContext } from '../server'
import { HttpError, sendError, sendJson } from './http-error'
import { readJsonBody } from './read-body'

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

const parse = <S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> => {
  const result = schema.safeParse(input)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue === undefined ? '' : `${issue.path.join('.') || 'body'}: ${issue.message}`
    throw new HttpError(400, ErrorCodes.BadRequest, `Invalid request (${where})`)
  }
  return result.data as z.output<S>
}

/**
 * The CRM routes, answered before the rest of the HTTP API:
 *
 * - `GET|PUT /api/<ws>/crm/config` (admins): the connection; the secret shows as its last 4
 * - `POST /api/<ws>/crm/secret` (admins): rotate (generated, returned once) or set `{ secret }`
 * - `GET /api/<ws>/crm/deliveries?state=dead` and `POST .../deliveries/<id>/retry` (admins)
 * - `GET /api/<ws>/crm/metrics` (admins)
 * - `POST /api/<ws>/contacts/<id>/lookup` and `GET /api/<ws>/contacts/<id>/crm` (agents, admins)
 *
 * Every route needs a plan with the CRM (`plan-lacks-feature` otherwise).
 *
 * @example
 * const handled = await crmRoutes(crm)(req, res, ctx) // false: not a CRM route
 */
export function crmRoutes(
  crm: CrmService,
): (req: IncomingMessage, res: ServerResponse, ctx: HttpContext) => Promise<boolean> {
  const principal = async (
    req: IncomingMessage,
    ctx: HttpContext,
    workspace: string,
    roles: readonly Role[],
  ): Promise<void> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    if (match?.[1] === undefined) {
      throw new HttpError(
        401,
        ErrorCodes.Unauthorized,
        'Send a token: Authorization: Bearer <token>',
      )
    }
    let who: { readonly role: Role; readonly workspace: string }
    try {
      who = await ctx.authenticate(match[1], `${workspace}/schema`)
    } catch (error) {
      if (error instanceof CardfileError && error.code === ErrorCodes.TokenExpired) {
        throw new HttpError(401, ErrorCodes.TokenExpired, 'The token has expired')
      }
      throw new HttpError(401, ErrorCodes.Unauthorized, 'The token is not valid')
    }
    if (who.workspace !== workspace) {
      throw new HttpError(403, ErrorCodes.WrongWorkspace, `The token is not for "${workspace}"`)
    }
    if (!roles.includes(who.role)) {
      throw new HttpError(403, ErrorCodes.Forbidden, `Role ${who.role} may not do this`)
    }
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
    const methodNotAllowed = (allowed: string): never => {
      throw new HttpError(405, ErrorCodes.BadRequest, `Use ${allowed}`, { allow: allowed })
    }

    if (resource === 'contacts' && id !== undefined && extra === undefined) {
      if (action !== 'lookup' && action !== 'crm') return false
      if (!isValidId(id)) throw new HttpError(400, ErrorCodes.BadRequest, 'Invalid contact id')
      await principal(req, ctx, workspace, ['admin', 'agent'])
      if (action === 'lookup') {
        if (method !== 'POST') methodNotAllowed('POST')
        sendJson(res, 200, await crm.lookup(workspace, id, 'agent'))
      } else {
        if (method !== 'GET') methodNotAllowed('GET')
        sendJson(res, 200, await crm.status(workspace, id))
      }
      return true
    }
    if (resource !== 'crm') return false
    await principal(req, ctx, workspace, ['admin'])
    if (id === 'config' && action === undefined) {
      if (method === 'GET') {
        sendJson(res, 200, await crm.getConfig(workspace))
      } else if (method === 'PUT' || method === 'PATCH') {
        const body = parse(configBody, await readJsonBody(req, MAX_BODY))
        sendJson(res, 200, await crm.updateConfig(workspace, body))
      } else methodNotAllowed('GET, PUT')
      return true
    }
    if (id === 'secret' && action === undefined) {
      if (method !== 'POST') methodNotAllowed('POST')
      const hasBody =
        (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding']
      const body = hasBody ? parse(secretBody, await readJsonBody(req, MAX_BODY)) : {}
      sendJson(res, 200, await crm.rotateSecret(workspace, body.secret))
      return true
    }
    if (id === 'metrics' && action === undefined) {
      if (method !== 'GET') methodNotAllowed('GET')
      sendJson(res, 200, await crm.metrics(workspace))
      return true
    }
    if (id === 'deliveries') {
      if (action === undefined) {
        if (method !== 'GET') methodNotAllowed('GET')
        const query = parse(deliveriesQuery, Object.fromEntries(requestUrl.searchParams))
        const items = await crm.deliveries(workspace, {
          limit: query.limit,
          ...(query.state === undefined ? {} : { state: query.state }),
        })
        sendJson(res, 200, { items })
        return true
      }
      if (extra === 'retry' && parts.length === 6) {
        if (method !== 'POST') methodNotAllowed('POST')
        if (!(await crm.retry(workspace, action))) {
          throw new HttpError(404, ErrorCodes.NotFound, 'No dead delivery with that id')
        }
        sendJson(res, 202, { retried: action })
        return true
      }
    }
    throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${requestUrl.pathname}`)
  }

  return async (req, res, ctx) => {
    try {
      return await route(req, res, ctx)
    } catch (error) {
      sendError(res, error, (e) => console.error('cardfile crm http:', e))
      return true
    }
  }
}
