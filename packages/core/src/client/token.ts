import { ROLES } from '../types'
import type { Role } from '../types'

/** The claims of a Cardfile access token the client reads (it never verifies them: the server does). */
export interface TokenClaims {
  readonly userId: string
  readonly name?: string
  readonly workspace?: string
  readonly role?: Role
  /** Expiry in ms since epoch, when the token has one. */
  readonly expiresAt?: number
}

const base64UrlDecode = (segment: string): string => {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/')
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4)
  const binary = atob(padded)
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

/**
 * Reads the claims of a JWT without verifying it; null when it is not a readable JWT.
 *
 * @example
 * decodeTokenClaims(token)?.role // 'agent'
 */
export function decodeTokenClaims(token: string): TokenClaims | null {
  const payload = token.split('.')[1]
  if (payload === undefined) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(base64UrlDecode(payload))
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const claims = parsed as Record<string, unknown>
  if (typeof claims.sub !== 'string') return null
  const role = ROLES.find((r) => r === claims.role)
  return {
    userId: claims.sub,
    ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
    ...(typeof claims.workspace === 'string' ? { workspace: claims.workspace } : {}),
    ...(role !== undefined ? { role } : {}),
    ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}),
  }
}

/**
 * How long to wait before fetching a fresh token: expiry minus a tenth of the lifetime (between
 * 5 s and 60 s), so long tokens do not refresh absurdly early and short ones still refresh ahead.
 */
export function refreshDelay(expiresAt: number, now: number, issuedAt = now): number {
  const lifetime = Math.max(0, expiresAt - issuedAt)
  // ...but never more than half the lifetime, or a short-lived token would refresh in a loop.
  const margin = Math.min(60_000, Math.max(5_000, lifetime / 10), lifetime / 2)
  // setTimeout overflows above 2^31-1 ms
  return Math.min(Math.max(0, expiresAt - margin - now), 2_147_483_647)
}
