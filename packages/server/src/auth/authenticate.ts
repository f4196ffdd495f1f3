import { CardfileError, ErrorCodes, ROLES, isValidId } from '@cardfile/core'
import type { Actor, Role } from '@cardfile/core'
import type * as Jose from 'jose'
import type { JWTVerifyGetKey } from 'jose'

/** An authenticated actor and the workspace its token is for. */
export type AuthenticatedActor = Actor & { readonly workspace: string }

/**
 * Replaces JWT verification: resolves the actor behind `token` for `docName`, or throws a
 * `CardfileError` (`unauthorized`, `token-expired`, `wrong-workspace`, `forbidden`).
 */
export type AuthenticateHook = (token: string, docName: string) => Promise<AuthenticatedActor>

/** How the server verifies tokens: an HS256 secret, a JWKS URL, or an `authenticate` hook. */
export type AuthOptions =
  | { readonly secret: string; readonly jwksUrl?: undefined }
  | { readonly jwksUrl: string; readonly secret?: undefined }
  | { readonly authenticate: AuthenticateHook }

/** Most distinct actors {@link internActor} remembers before it starts over. */
const INTERNED_ACTORS_MAX = 10_000

const internedActors = new Map<string, AuthenticatedActor>()

/**
 * One frozen object per distinct actor. Every connection keeps its actor for life, and the
 * strings a verified token decodes to are fresh copies each time, so a user with ten tabs open
 * would otherwise hold ten copies of the same four strings. Only the claims are kept, never the
 * token or the rest of its payload.
 */
function internActor(actor: AuthenticatedActor): AuthenticatedActor {
  const key = JSON.stringify([actor.userId, actor.workspace, actor.role, actor.name ?? null])
  const known = internedActors.get(key)
  if (known !== undefined) return known
  if (internedActors.size >= INTERNED_ACTORS_MAX) internedActors.clear()
  const frozen = Object.freeze(actor)
  internedActors.set(key, frozen)
  return frozen
}

const ACCEPTED_ALGORITHMS = ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA']

/**
 * Builds the token verifier for `auth`: JWT claims `sub` (user id), `name`, `workspace`, `role`
 * and `exp`, verified with `jose` against the secret (HS256) or the JWKS URL.
 *
 * @example
 * const authenticate = createAuthenticator({ secret: process.env.CARDFILE_SECRET! })
 * const actor = await authenticate(token, 'demo/contact/c1') // { userId, role, name, workspace }
 */
export function createAuthenticator(auth: AuthOptions): AuthenticateHook {
  if ('authenticate' in auth) return auth.authenticate
  let keyOf: (jose: typeof Jose) => Uint8Array | JWTVerifyGetKey
  let algorithms: string[]
  if (auth.secret !== undefined) {
    if (auth.secret.length === 0) {
      throw new CardfileError(ErrorCodes.BadRequest, 'auth.secret must not be empty')
    }
    const secret = new TextEncoder().encode(auth.secret)
    keyOf = () => secret
    algorithms = ['HS256']
  } else if (auth.jwksUrl !== undefined) {
    const url = new URL(auth.jwksUrl)
    let keySet: JWTVerifyGetKey | null = null
    keyOf = (jose) => (keySet ??= jose.createRemoteJWKSet(url))
    algorithms = ACCEPTED_ALGORITHMS.filter((a) => a !== 'HS256')
  } else {
    throw new CardfileError(ErrorCodes.BadRequest, 'auth needs a secret, a jwksUrl or a hook')
  }
  // Loaded by the first token to verify, not by a server starting up: it is dozens of modules.
  let loading: Promise<typeof Jose> | null = null
  return async (token) => {
    if (token.length === 0) throw new CardfileError(ErrorCodes.Unauthorized, 'missing token')
    const jose = await (loading ??= import('jose'))
    const key = keyOf(jose)
    let payload
    try {
      const verified =
        typeof key === 'function'
          ? await jose.jwtVerify(token, key, { algorithms, requiredClaims: ['exp', 'sub'] })
          : await jose.jwtVerify(token, key, { algorithms, requiredClaims: ['exp', 'sub'] })
      payload = verified.payload
    } catch (error) {
      if (error instanceof jose.errors.JWTExpired) {
        throw new CardfileError(ErrorCodes.TokenExpired, 'the token has expired')
      }
      const why = error instanceof Error ? error.message : 'invalid token'
      throw new CardfileError(ErrorCodes.Unauthorized, `invalid token: ${why}`)
    }
    const { sub, name, workspace, role } = payload
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) {
      throw new CardfileError(ErrorCodes.Unauthorized, 'the token has no valid sub claim')
    }
    if (typeof workspace !== 'string' || !isValidId(workspace)) {
      throw new CardfileError(ErrorCodes.Unauthorized, 'the token has no valid workspace claim')
    }
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new CardfileError(ErrorCodes.Unauthorized, 'the token has no valid role claim')
    }
    return internActor({
      userId: sub,
      role: role as Role,
      workspace,
      ...(typeof name === 'string' ? { name } : {}),
    })
  }
}

/**
 * When a verified token expires, in ms since epoch, or null when unknown (hooks, or a token
 * that is not a JWT). Used to close connections whose token runs out.
 */
export function tokenExpiry(token: string): number | null {
  const [, payload] = token.split('.')
  if (payload === undefined) return null
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    if (typeof claims !== 'object' || claims === null || !('exp' in claims)) return null
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null
  } catch {
    return null
  }
}
