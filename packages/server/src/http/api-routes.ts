import type { IncomingMessage, ServerResponse } from 'node:http'
import { isValidId } from '@cardfile/core'
import { errorContext, errorForConsole } from '../sync/logger'
import type { HttpContext, HttpRequestHandler } from './http-context'
import { sendError } from './http-error'
import type { ApiRoute } from './route-auth'

/** Serves one family of `/api/<workspace>/<resource>/...` routes; false: not one of them. */
export type ApiRouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  route: ApiRoute,
  ctx: HttpContext,
) => Promise<boolean>

/**
 * Makes an extension's routes from a handler of parsed API paths: requests outside
 * `/api/<valid workspace>/<resource>` are left to others, and whatever the handler throws is
 * answered as JSON (HttpError and CardfileError with their status, anything else 500 through
 * the server's logger, without details).
 *
 * @example
 * const routes = apiRoutes(async (req, res, { method, workspace, resource }, ctx) => {
 *   if (resource !== 'ping') return false
 *   sendJson(res, 200, { workspace })
 *   return true
 * })
 */
export function apiRoutes(handler: ApiRouteHandler): HttpRequestHandler {
  return async (req, res, ctx) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      return false
    }
    const [api, workspace, resource, ...rest] = url.pathname.split('/').slice(1)
    if (api !== 'api' || workspace === undefined || resource === undefined) return false
    if (!isValidId(workspace)) return false
    try {
      return await handler(
        req,
        res,
        { method: req.method ?? 'GET', workspace, resource, rest, url },
        ctx,
      )
    } catch (error) {
      sendError(res, error, (unexpected) =>
        ctx.logger?.error('http request failed', errorContext(unexpected)),
      )
      return true
    }
  }
}

/**
 * Answers whatever `route` throws as JSON (HttpError and CardfileError with their status,
 * anything else 500 without details) and logs the unexpected: through the server's logger as
 * `logMessage`, or on the console after `consoleLabel` when the server was given none, so a
 * failing route is never silent.
 *
 * @example
 * const routes = answeringErrors(route, 'cardfile exports http:', 'export request failed')
 */
export function answeringErrors(
  route: (req: IncomingMessage, res: ServerResponse, ctx: HttpContext) => Promise<boolean>,
  consoleLabel: string,
  logMessage: string,
): (req: IncomingMessage, res: ServerResponse, ctx: HttpContext) => Promise<boolean> {
  return async (req, res, ctx) => {
    try {
      return await route(req, res, ctx)
    } catch (error) {
      sendError(res, error, (e) =>
        ctx.logger === undefined
          ? console.error(consoleLabel, errorForConsole(e))
          : ctx.logger.error(logMessage, errorContext(e)),
      )
      return true
    }
  }
}
