import { CardfileError, ErrorCodes, isErrorCode } from '../errors'

/**
 * Access to the server's HTTP API beside the websocket (deletion, audit log, exports, lists),
 * at the client's {@link ApiEndpoint}: the websocket's host over `http(s):`, with its token.
 */
export interface ApiEndpoint {
  /** The server's HTTP base URL, for example `https://cardfile.example.com`. */
  readonly url: string
  /** The bearer token for a request (the same JWT the websocket uses). */
  token(): string | Promise<string>
}

/** What the HTTP helpers need of a client: where its HTTP API is and its token. */
export interface ApiClient {
  apiEndpoint(): ApiEndpoint
}

/**
 * The HTTP URL that serves the same host as a websocket URL (`ws:` to `http:`, `wss:` to
 * `https:`), without a trailing slash.
 *
 * @example
 * httpUrlOf('wss://cardfile.example.com/') // 'https://cardfile.example.com'
 */
export const httpUrlOf = (wsUrl: string): string =>
  wsUrl.replace(/^ws(s?):/i, 'http$1:').replace(/\/+$/, '')

/**
 * Calls the HTTP API with the client's token: `path` is relative to the server
 * (`/api/<workspace>/...`). Resolves the response whatever its status.
 *
 * @example
 * const res = await apiFetch(client, `/api/${client.workspace}/deleted-contacts?limit=20`)
 */
export async function apiFetch(
  client: ApiClient,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const endpoint = client.apiEndpoint()
  const token = await endpoint.token()
  const headers = new Headers(init.headers)
  headers.set('authorization', `Bearer ${token}`)
  if (typeof init.body === 'string' && !headers.has('content-type')) {
    headers.set('content-type', 'application/json')
  }
  return fetch(`${endpoint.url.replace(/\/+$/, '')}${path}`, { ...init, headers })
}

/**
 * Calls the HTTP API and reads the JSON answer; a non-2xx answer rejects with the server's
 * `CardfileError` (its stable code and message).
 *
 * @example
 * const { items } = await apiJson<{ items: unknown[] }>(client, `/api/demo/deleted-contacts`)
 */
export async function apiJson<T>(
  client: ApiClient,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const res = await apiFetch(client, path, init)
  const text = await res.text()
  let body: unknown = null
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {
    body = null
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
    const code = isErrorCode(error?.code) ? error.code : ErrorCodes.Internal
    const message = typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`
    throw new CardfileError(code, message)
  }
  return body as T
}
