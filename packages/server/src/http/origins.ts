import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCodes } from '@cardfile/core'

/** Which browser origins may call the HTTP API and open websockets. */
export interface OriginOptions {
  /**
   * Origins allowed besides the server's own, exactly as browsers send them
   * (`https://inbox.example.com`, `http://localhost:5173`), or `'*'` for any.
   */
  readonly origins?: readonly string[]
  /** Also allow any `http(s)://localhost`, `127.0.0.1` or `[::1]` origin, whatever its port. */
  readonly loopback?: boolean
}

/** Decides whether a request's `Origin` may use the server. */
export interface OriginPolicy {
  /** True for requests without an Origin (not from a browser page), same-origin ones, and listed ones. */
  allows(req: IncomingMessage): boolean
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Methods a cross-origin page may use (the API uses all of them). */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE'
/** Request headers a cross-origin page may send. */
const ALLOWED_HEADERS = 'authorization, content-type, if-match, if-none-match, x-request-id'
/** Response headers a cross-origin page may read. */
const EXPOSED_HEADERS = 'etag, retry-after, content-disposition, x-request-id'
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600'

/**
 * Builds the origin policy of a server: same-origin requests and requests without an `Origin`
 * header always pass; others only when listed (or loopback, when asked for).
 *
 * @example
 * const policy = createOriginPolicy({ origins: ['https://inbox.example.com'] })
 * policy.allows(req) // false for a page on https://evil.example
 */
export function createOriginPolicy(options: OriginOptions = {}): OriginPolicy {
  const listed = new Set(options.origins ?? [])
  const any = listed.has('*')
  return {
    allows(req) {
      const origin = req.headers.origin
      if (origin === undefined) return true
      if (any || listed.has(origin)) return true
      let url: URL
      try {
        url = new URL(origin)
      } catch {
        return false
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
      if (url.host === req.headers.host) return true
      return options.loopback === true && LOOPBACK_HOSTS.has(url.hostname)
    },
  }
}

/**
 * Answers CORS for one HTTP request: adds the headers that let an allowed origin read the
 * answer, and answers a preflight itself (204 when allowed, 403 otherwise). Returns true when
 * the request was a preflight and is finished.
 *
 * @example
 * if (handleCors(req, res, policy)) return
 */
export function handleCors(
  req: IncomingMessage,
  res: ServerResponse,
  policy: OriginPolicy,
): boolean {
  const origin = req.headers.origin
  const preflight =
    req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined
  if (origin === undefined) return false
  const allowed = policy.allows(req)
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin)
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS)
  }
  res.setHeader('vary', 'Origin')
  if (!preflight) return false
  if (!allowed) {
    res.writeHead(403, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        error: { code: ErrorCodes.Forbidden, message: `Origin ${origin} is not allowed` },
      }),
    )
    return true
  }
  res.writeHead(204, {
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': PREFLIGHT_MAX_AGE,
  })
  res.end()
  return true
}
