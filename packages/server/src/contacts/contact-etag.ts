import { createHash } from 'node:crypto'
import * as Y from 'yjs'

/**
 * The entity tag of a contact document: a hash of its state vector, which moves with every
 * change anyone makes to the contact (a value, VIP, the profile, a CRM flag), through the
 * websocket or HTTP alike, and stays the same across restarts and compactions.
 *
 * @example
 * res.setHeader('etag', contactEtag(doc)) // '"q1Xr…"'
 */
export function contactEtag(doc: Y.Doc): string {
  const hash = createHash('sha256').update(Y.encodeStateVector(doc)).digest('base64url')
  return `"${hash.slice(0, 27)}"`
}

/**
 * Does an `If-Match` header value match `etag`? `*` matches any contact that exists; a list
 * matches when one of its tags does. Weak tags (`W/"…"`) never match: If-Match compares
 * strongly.
 *
 * @example
 * ifMatches('"a", "b"', '"b"') // true
 */
export function ifMatches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === etag)
}
