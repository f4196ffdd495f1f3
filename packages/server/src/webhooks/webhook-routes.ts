import { randomUUID } from 'node:crypto'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import { z } from 'zod'
import { generateSecret, secretHint } from '../crm/signing'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { searchParamsObject } from '../http/schemas'
import { DELIVERY_JOB_STATES, WEBHOOK_DELIVERY, webhookDeliveryOf } from './webhook-delivery'
import type { WebhookDelivery } from './webhook-delivery'
import { WEBHOOK_EVENTS } from './webhook-store'
import type { Webhook, WebhookEvent } from './webhook-store'
import { checkOutboundTarget, checkResolvedTarget } from '../http/outbound-target'

/** The most webhooks one workspace may register. */
export const MAX_WEBHOOKS = 20
const MAX_BODY = 16 * 1024

const HTTP_URL = /^https?:\/\/[^\s]+$/i
const createBody = z
  .object({
    url: z
      .string()
      .max(2048)
      .refine((url) => {
        try {
          return HTTP_URL.test(url) && new URL(url).host !== ''
        } catch {
          return false
        }
      }, 'an http or https URL'),
    events: z
      .array(z.enum(WEBHOOK_EVENTS as [WebhookEvent, ...WebhookEvent[]]))
      .min(1)
      .max(WEBHOOK_EVENTS.length),
  })
  .strict()
const deliveriesQuery = z
  .object({
    state: z.enum(['pending', 'delivered', 'dead']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict()

/** A webhook as admins see it: the secret as its last four characters. */
const webhookView = (w: Webhook) => ({
  id: w.id,
  url: w.url,
  events: w.events,
  secretHint: secretHint(w.secret),
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
})

/** What the webhook endpoints are told by the server's configuration. */
export interface WebhookRoutesOptions {
  /** Accepts URLs of loopback and private addresses (development, tests). */
  readonly allowPrivateTargets?: boolean
}

/**
 * The webhook endpoints (admins only):
 * - `POST /api/<ws>/webhooks` `{ url, events }`: registers one; answers it with its secret,
 *   shown this once (201); a URL with credentials, or whose host is or resolves to a loopback,
 *   private or link-local address, is refused `forbidden-target` (400);
 * - `GET /api/<ws>/webhooks`: the workspace's webhooks (secrets as hints);
 * - `DELETE /api/<ws>/webhooks/<id>`: deletes one (its queued deliveries are dropped unsent);
 * - `POST /api/<ws>/webhooks/<id>/secret`: rotates the secret; answers the new one, once;
 * - `GET /api/<ws>/webhooks/deliveries?state=dead&limit`: deliveries, newest first (the dead
 *   letter with `state=dead`);
 * - `POST /api/<ws>/webhooks/deliveries/<id>/retry`: sends a dead delivery again (202).
 *
 * @example
 * const routes = webhookRoutes()
 */
export function webhookRoutes(options: WebhookRoutesOptions = {}): HttpRequestHandler {
  const allowPrivate = options.allowPrivateTargets ?? false
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'webhooks') return false
    const store = ctx.backend.webhooks
    const admin = async (what: string) =>
      requireRole(await ctx.principal(req, workspace), ['admin'], what)

    if (rest.length === 0) {
      allowMethods(method, ['GET', 'POST'], url.pathname)
      await admin('manage webhooks')
      if (method === 'GET') {
        sendJson(res, 200, { items: (await store.list(workspace)).map(webhookView) })
        return true
      }
      const body = parseInput(createBody, await readJsonBody(req, MAX_BODY), 'body')
      try {
        const what = 'A webhook URL'
        const target = checkOutboundTarget(body.url, allowPrivate, what)
        await checkResolvedTarget(target, allowPrivate, what)
      } catch (error) {
        if (error instanceof CardfileError) {
          throw new HttpError(400, error.code, error.message)
        }
        throw error
      }
      if ((await store.list(workspace)).length >= MAX_WEBHOOKS) {
        throw new HttpError(
          409,
          ErrorCodes.BadRequest,
          `A workspace has at most ${MAX_WEBHOOKS} webhooks: delete one first`,
        )
      }
      const now = Date.now()
      const webhook: Webhook = {
        id: randomUUID(),
        workspace,
        url: body.url,
        events: [...new Set(body.events)],
        secret: generateSecret(),
        createdAt: now,
        updatedAt: now,
      }
      await store.create(webhook)
      sendJson(res, 201, { webhook: webhookView(webhook), secret: webhook.secret })
      return true
    }
    if (rest[0] === 'deliveries') {
      if (rest.length === 1) {
        allowMethods(method, ['GET'], url.pathname)
        await admin('read webhook deliveries')
        const q = parseInput(deliveriesQuery, searchParamsObject(url.searchParams), 'query')
        const jobs = await ctx.backend.jobs.list(
          {
            workspace,
            kind: WEBHOOK_DELIVERY,
            ...(q.state === undefined ? {} : { states: DELIVERY_JOB_STATES[q.state] }),
          },
          q.limit,
        )
        const items = jobs.flatMap((job) => {
          const delivery = webhookDeliveryOf(job)
          return delivery === null ? [] : [delivery]
        })
        sendJson(res, 200, { items: items satisfies WebhookDelivery[] })
        return true
      }
      if (rest.length === 3 && rest[2] === 'retry') {
        allowMethods(method, ['POST'], url.pathname)
        await admin('retry webhook deliveries')
        const job = await ctx.backend.jobs.get(rest[1] ?? '')
        if (
          job === null ||
          job.workspace !== workspace ||
          job.kind !== WEBHOOK_DELIVERY ||
          !(await ctx.backend.jobs.retry(job.id))
        ) {
          throw new HttpError(404, ErrorCodes.NotFound, 'No dead delivery with that id')
        }
        sendJson(res, 202, { retried: job.id })
        return true
      }
      throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${url.pathname}`)
    }
    const id = rest[0] ?? ''
    if (rest.length === 1) {
      allowMethods(method, ['DELETE'], url.pathname)
      await admin('delete webhooks')
      if (!(await store.remove(workspace, id))) {
        throw new HttpError(404, ErrorCodes.NotFound, 'No webhook with that id')
      }
      sendJson(res, 200, { deleted: id })
      return true
    }
    if (rest.length === 2 && rest[1] === 'secret') {
      allowMethods(method, ['POST'], url.pathname)
      await admin('rotate webhook secrets')
      const secret = generateSecret()
      const now = Date.now()
      if (!(await store.setSecret(workspace, id, secret, now))) {
        throw new HttpError(404, ErrorCodes.NotFound, 'No webhook with that id')
      }
      const webhook = await store.get(workspace, id)
      sendJson(res, 200, { webhook: webhook === null ? null : webhookView(webhook), secret })
      return true
    }
    throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${url.pathname}`)
  })
}
