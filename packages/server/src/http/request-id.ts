import { randomUUID } from 'node:crypto'

/** The header that carries a request's id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id'

/**
 * An incoming id is kept only when it is short and made of characters that cannot forge a log
 * line or a header (a proxy's UUID or trace id passes; quotes, spaces, newlines do not).
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

/**
 * The id of a request: the caller's `x-request-id` when it is sane, else a fresh UUID, so one id
 * follows a request from the proxy through every log line the server writes about it.
 *
 * @example
 * const id = requestIdFor(req.headers['x-request-id'])
 * res.setHeader('x-request-id', id)
 */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}
