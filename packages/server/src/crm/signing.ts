import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Bytes of a generated workspace secret (64 hex characters). */
const SECRET_BYTES = 32

/** A secret is hex, at least 16 bytes. */
export const SECRET_PATTERN = /^(?:[0-9a-f]{2}){16,128}$/

/**
 * A new random workspace secret, hex.
 *
 * @example
 * generateSecret() // '9f86d081884c7d65...'
 */
export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('hex')
}

/**
 * The signature header value of `body`: `sha256=` and the hex HMAC-SHA256 of the raw body,
 * keyed with the bytes of the hex secret.
 *
 * @example
 * signBody('{"type":"lookup"}', secret) // 'sha256=5d41...'
 */
export function signBody(body: string | Uint8Array, secretHex: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secretHex, 'hex')).update(body).digest('hex')}`
}

/**
 * Checks a signature header against the raw body in constant time.
 *
 * @example
 * if (!verifySignature(rawBody, req.headers['x-cardfile-signature'], secret)) reply(401)
 */
export function verifySignature(
  body: string | Uint8Array,
  header: string | undefined,
  secretHex: string,
): boolean {
  if (header === undefined) return false
  const expected = Buffer.from(signBody(body, secretHex))
  const given = Buffer.from(header)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/** What admins see of a secret: its last four characters. */
export const secretHint = (secret: string): string => `…${secret.slice(-4)}`
