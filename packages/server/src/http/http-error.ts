import type { ServerResponse } from 'node:http'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { ErrorCode } from '@cardfile/core'

/**
 * An error the HTTP API answers with: a stable core error code, a message safe to show, and the
 * HTTP status. Anything else thrown inside a route becomes a 500 `internal` without details, so
 * no stack trace, SQL or file path ever leaks to a caller.
 */
export class HttpError extends CardfileError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    /** Extra response headers (`retry-after`, `www-authenticate`, `allow`, `connection`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message)
  }
}

/** The HTTP status that fits a core error code when it was thrown without one. */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCodes.Unauthorized:
    case ErrorCodes.TokenExpired:
      return 401
    case ErrorCodes.Forbidden:
    case ErrorCodes.WrongWorkspace:
    case ErrorCodes.PlanLacksFeature:
    case ErrorCodes.VipDisabled:
    case ErrorCodes.CrmManagedLocked:
    case ErrorCodes.ProvenanceMismatch:
      return 403
    case ErrorCodes.NotFound:
    case ErrorCodes.UnknownWorkspace:
      return 404
    case ErrorCodes.WorkspaceExists:
      return 409
    case ErrorCodes.Deleted:
      return 410
    case ErrorCodes.PreconditionFailed:
      return 412
    case ErrorCodes.PayloadTooLarge:
      return 413
    case ErrorCodes.RateLimited:
      return 429
    case ErrorCodes.Timeout:
    case ErrorCodes.Unavailable:
    case ErrorCodes.Fenced:
      return 503
    case ErrorCodes.Internal:
      return 500
    default:
      // Every remaining code is about the request's content (validation of values/definitions).
      return 400
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string }
}

/** Writes a JSON answer (unless the response already started). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

/**
 * Answers with the JSON error body for `error`. Cardfile errors keep their code and message;
 * anything unexpected (including `internal` errors, whose messages are for operators) is reported
 * through `onUnexpected` and answered as a bare 500. An HttpError's own headers (`retry-after`,
 * `www-authenticate`, `allow`) go with it.
 */
export function sendError(
  res: ServerResponse,
  error: unknown,
  onUnexpected: (error: unknown) => void,
  headers: Readonly<Record<string, string>> = {},
): void {
  let status: number
  let body: ErrorBody
  if (error instanceof HttpError) {
    status = error.status
    body = { error: errorFields(error) }
  } else if (error instanceof CardfileError && error.code !== ErrorCodes.Internal) {
    status = statusForCode(error.code)
    body = { error: errorFields(error) }
  } else {
    onUnexpected(error)
    status = 500
    body = { error: { code: ErrorCodes.Internal, message: 'Internal server error' } }
  }
  sendJson(
    res,
    status,
    body,
    error instanceof HttpError ? { ...error.headers, ...headers } : headers,
  )
}

function errorFields(error: CardfileError): ErrorBody['error'] {
  return error.field === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, field: error.field }
}
