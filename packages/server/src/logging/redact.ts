/**
 * Keeps credentials out of log lines. Stock y-websocket clients can only carry their token in
 * the URL (`?token=<JWT>`), and HTTP clients send `Authorization: Bearer <JWT>`; either may end
 * up in an error's text or a logged URL, and logs are kept, shipped and read far more widely
 * than tokens should be.
 */

/** What a removed secret reads as in a log line. */
export const REDACTED = '[redacted]'

/** Query parameters that carry credentials. */
const SECRET_PARAMS = new Set(['token', 'access_token', 'auth', 'authorization', 'jwt'])

const SECRET_PARAM_PATTERN = /([?&;](?:access_token|token|auth|authorization|jwt)=)[^&#\s"'<>]*/gi
const BEARER_PATTERN = /\b(Bearer|Basic)\s+[^\s"',;]+/gi
/** A JWS compact serialisation: every JWT header starts with `{"`, base64url `eyJ`. */
const JWT_PATTERN = /\beyJ[\w-]*\.[\w-]*\.[\w-]*/g

/**
 * Replaces tokens in free text: `token=` query parameters, `Bearer`/`Basic` credentials and
 * anything shaped like a JWT.
 *
 * @example
 * scrubSecrets('GET /demo/schema?token=eyJhbGciOi...') // 'GET /demo/schema?token=[redacted]'
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(SECRET_PARAM_PATTERN, `$1${REDACTED}`)
    .replace(BEARER_PATTERN, `$1 ${REDACTED}`)
    .replace(JWT_PATTERN, REDACTED)
}

/**
 * A request URL as it may be logged: the path, and query parameter names with their values
 * replaced. Credentials are the reason, but any query value may quote a person (a search), so
 * none is kept. A URL that does not parse is logged as a placeholder rather than raw.
 *
 * @example
 * loggableUrl('/demo/schema?token=eyJ...&cardfile=1') // '/demo/schema?token=[redacted]&cardfile=1'
 */
export function loggableUrl(raw: string | undefined): string {
  let url: URL
  try {
    url = new URL(raw ?? '/', 'http://localhost')
  } catch {
    return '[unparsable url]'
  }
  const names = [...url.searchParams.keys()]
  if (names.length === 0) return scrubSecrets(url.pathname)
  const query = names
    .map((name) => {
      // Flags without credentials or personal data are kept, so the line stays useful.
      const value = url.searchParams.get(name) ?? ''
      const keep = !SECRET_PARAMS.has(name.toLowerCase()) && /^(?:0|1|true|false)$/.test(value)
      return `${encodeURIComponent(name)}=${keep ? value : REDACTED}`
    })
    .join('&')
  return `${scrubSecrets(url.pathname)}?${query}`
}

/**
 * Removes one known secret from an error's text, besides the patterns of {@link scrubSecrets}:
 * a custom `authenticate` hook may quote the opaque token it refused.
 *
 * @example
 * logger.warn('authenticate failed', withoutSecret(errorContext(error), token))
 */
export function withoutSecret<T extends Record<string, unknown>>(context: T, secret: string): T {
  if (secret.length === 0) return context
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(context)) {
    out[key] = typeof value === 'string' ? value.split(secret).join(REDACTED) : value
  }
  return out as T
}

const MAX_DEPTH = 4

/**
 * A log context with every string scrubbed by {@link scrubSecrets}, nested objects and arrays
 * included (to a small depth; deeper values are dropped rather than risked). Errors become their
 * scrubbed text.
 *
 * @example
 * base.info(scrubSecrets(message), scrubContext(context))
 */
export function scrubContext(context: Record<string, unknown>): Record<string, unknown> {
  return scrubValue(context, 0) as Record<string, unknown>
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubSecrets(value)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[too deep]'
  if (value instanceof Error) return scrubSecrets(String(value))
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1))
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] = /^(?:authorization|cookie|token|secret|password)$/i.test(key)
      ? REDACTED
      : scrubValue(item, depth + 1)
  }
  return out
}
