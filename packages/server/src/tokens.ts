import { CardfileError, ErrorCodes, ROLES, isValidId } from '@cardfile/core'
import type { Role } from '@cardfile/core'

/** What a development token says about its bearer (the claims the server's verifier reads). */
export interface SignTokenOptions {
  /** The HS256 shared secret the server verifies with. */
  readonly secret: string
  readonly userId: string
  readonly name?: string
  readonly workspace: string
  readonly role: Role
  /**
   * Lifetime: a jose time span such as `'12h'`, `'30m'`, `'7d'`, or a number of seconds.
   * Defaults to `'12h'`.
   */
  readonly expiresIn?: string | number
}

/** The default lifetime of a development token. */
export const DEFAULT_TOKEN_LIFETIME = '12h'

/** Lifetimes jose understands: a number and a unit (seconds to years). */
const TIME_SPAN =
  /^\d+(\.\d+)?\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/i

/**
 * Signs an HS256 JWT with the claims Cardfile's verifier reads: `sub` (user id), `name`,
 * `workspace`, `role`, `iat` and `exp`. Meant for development and for service integrations that
 * share the server's secret; production user tokens usually come from the host app's own auth.
 *
 * @example
 * const token = await signToken({ secret, userId: 'ana', name: 'Ana', workspace: 'demo', role: 'admin' })
 * new WebsocketProvider(url, 'demo/schema', doc, { params: { token } })
 */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const { secret, userId, name, workspace, role } = options
  const expiresIn = options.expiresIn ?? DEFAULT_TOKEN_LIFETIME
  if (secret.length === 0) throw new CardfileError(ErrorCodes.BadRequest, 'The secret is empty')
  if (!isValidId(userId)) {
    throw new CardfileError(ErrorCodes.BadRequest, `Invalid user id "${userId}"`)
  }
  if (!isValidId(workspace)) {
    throw new CardfileError(ErrorCodes.BadRequest, `Invalid workspace "${workspace}"`)
  }
  if (!ROLES.includes(role)) {
    throw new CardfileError(ErrorCodes.BadRequest, `Unknown role "${String(role)}"`)
  }
  // Loaded here rather than with the package: a server that never signs need not load it.
  // Before the clock is read: a lifetime given as a span counts from jose's own clock.
  const { SignJWT } = await import('jose')
  const now = Math.floor(Date.now() / 1000)
  let exp: number | string
  if (typeof expiresIn === 'number') {
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new CardfileError(
        ErrorCodes.BadRequest,
        'expiresIn must be a positive number of seconds',
      )
    }
    exp = now + Math.floor(expiresIn)
  } else {
    if (!TIME_SPAN.test(expiresIn.trim())) {
      throw new CardfileError(
        ErrorCodes.BadRequest,
        `Invalid lifetime "${expiresIn}" (use for example 30m, 12h or 7d)`,
      )
    }
    exp = expiresIn.trim()
  }
  const claims: Record<string, string> = { workspace, role }
  if (name !== undefined) claims.name = name
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret))
}
