import type { IncomingMessage } from 'node:http'
import { CardfileError, ErrorCodes, schemaDocName } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import type { z } from 'zod'
import { HttpError } from './http-error'
import { createRateLimiter } from '../coordination/rate-limiter'
import type { RateLimiter } from '../coordination/rate-limiter'
import { describeZodError } from './schemas'

/**
 * What every API route does before its own work: who is asking (bearer token, verified for the
 * workspace in the path), whether their role may, whether the method fits, whether the input
 * parses. One copy here, so no route family answers a token or a role differently from another.
 */

/** Who a bearer token belongs to, as the server's `authenticate` reports it. */
export interface HttpPrincipal {
  readonly userId: string
  readonly role: Role
  readonly name?: string
  readonly workspace: string
}

/** Verifies a token for a document (the workspace's schema document for HTTP requests). */
export type TokenVerifier = (token: string, docName: string) => Promise<HttpPrincipal>

/** What a route asks of the workspace besides the token. */
export interface PrincipalOptions {
  /**
   * The route serves workspaces that may not exist yet (creating one): skip the check that
   * answers 404 `unknown-workspace` for a workspace never created.
   */
  readonly mayBeUnknown?: boolean
}

/**
 * Resolves the principal of a request for the workspace in its path, or throws an HttpError
 * (the server's also throws `unknown-workspace` for a workspace never created).
 */
export type PrincipalResolver = (
  req: IncomingMessage,
  workspace: string,
  options?: PrincipalOptions,
) => Promise<HttpPrincipal>

export interface BearerAuthOptions {
  readonly authenticate: TokenVerifier
  /**
   * Failed authentications allowed per remote address and minute before requests from it are
   * answered 429 (default 60).
   */
  readonly authFailuresPerMinute?: number
  /**
   * Where failed authentications are counted (one count for every instance of a cluster);
   * default: in this process, with `authFailuresPerMinute`.
   */
  readonly failures?: RateLimiter
}

const BEARER = { 'www-authenticate': 'Bearer' }

/**
 * Makes the bearer-token check of the API routes: 401 without a token or with one that does not
 * verify (counted per remote address: past the limit, 429 without verifying), 401
 * `token-expired`, 403 when the token (or the `authenticate` hook) refuses this workspace.
 *
 * @example
 * const principal = bearerAuth({ authenticate })
 * const who = await principal(req, 'acme') // throws HttpError 401/403/429
 */
export function bearerAuth(options: BearerAuthOptions): PrincipalResolver {
  const failures =
    options.failures ??
    createRateLimiter({ limit: options.authFailuresPerMinute ?? 60, windowMs: 60_000 })
  return async (req, workspace) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    if (match?.[1] === undefined) {
      throw new HttpError(
        401,
        ErrorCodes.Unauthorized,
        'Send a token: Authorization: Bearer <token>',
        BEARER,
      )
    }
    const address = req.socket.remoteAddress ?? 'unknown'
    const wait = await failures.retryAfter(address)
    if (wait > 0) {
      throw new HttpError(
        429,
        ErrorCodes.RateLimited,
        `Too many failed authentications; retry in ${wait} s`,
        { 'retry-after': String(wait) },
      )
    }
    let principal: HttpPrincipal
    try {
      principal = await options.authenticate(match[1], schemaDocName(workspace))
    } catch (error) {
      if (error instanceof CardfileError && error.code === ErrorCodes.TokenExpired) {
        throw new HttpError(401, ErrorCodes.TokenExpired, 'The token has expired', BEARER)
      }
      // An authenticate hook may refuse a valid identity for this workspace.
      if (
        error instanceof CardfileError &&
        (error.code === ErrorCodes.WrongWorkspace || error.code === ErrorCodes.Forbidden)
      ) {
        throw new HttpError(403, error.code, error.message)
      }
      // Whatever the verifier said (bad signature, malformed, unknown key), the caller only
      // learns that the token was not accepted. Only these count as guesses: an expired or
      // refused token was genuine once.
      await failures.hit(address)
      throw new HttpError(401, ErrorCodes.Unauthorized, 'The token is not valid', BEARER)
    }
    if (principal.workspace !== workspace) {
      throw new HttpError(
        403,
        ErrorCodes.WrongWorkspace,
        `The token is for workspace "${principal.workspace}", not "${workspace}"`,
      )
    }
    return principal
  }
}

/**
 * Throws 403 `forbidden` unless the principal's role is one of `roles`.
 *
 * @example
 * requireRole(principal, ['admin'], 'delete contacts')
 */
export function requireRole(principal: HttpPrincipal, roles: readonly Role[], what: string): void {
  if (!roles.includes(principal.role)) {
    throw new HttpError(
      403,
      ErrorCodes.Forbidden,
      `Role ${principal.role} may not ${what} (allowed: ${roles.join(', ')})`,
    )
  }
}

/**
 * Throws 405 (with `allow`) unless `method` is one of `methods`.
 *
 * @example
 * allowMethods(req.method ?? 'GET', ['GET', 'HEAD'], url.pathname)
 */
export function allowMethods(method: string, methods: readonly string[], path: string): void {
  if (!methods.includes(method)) {
    throw new HttpError(405, ErrorCodes.BadRequest, `Use ${methods.join(' or ')} on ${path}`, {
      allow: methods.join(', '),
    })
  }
}

/**
 * Parses `input` with a zod schema; throws 400 `bad-request` naming what was wrong.
 *
 * @example
 * const query = parseInput(pageQuery, searchParamsObject(url.searchParams), 'query')
 */
export function parseInput<S extends z.ZodTypeAny>(
  schema: S,
  input: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new HttpError(
      400,
      ErrorCodes.BadRequest,
      `Invalid ${where}: ${describeZodError(result.error)}`,
    )
  }
  return result.data as z.output<S>
}

/** A request split into the parts the API routes on: `/api/<workspace>/<resource>/<rest...>`. */
export interface ApiRoute {
  readonly method: string
  readonly workspace: string
  readonly resource: string
  readonly rest: readonly string[]
  readonly url: URL
}
