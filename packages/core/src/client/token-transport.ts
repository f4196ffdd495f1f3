import * as encoding from 'lib0/encoding'
import { MessageTypes } from '../protocol'

/**
 * The websocket subprotocol a Cardfile client asks for and the server selects. The token rides
 * beside it in a second offered subprotocol, so it never appears in a URL (which browsers,
 * proxies and servers write to consoles and access logs).
 */
export const CARDFILE_SUBPROTOCOL = 'cardfile'

/** Prefix of the offered subprotocol that carries the token, base64url-encoded. */
const TOKEN_PROTOCOL_PREFIX = 'cardfile.auth.'

/** Subprotocol names allow token characters only; base64url of the UTF-8 bytes always fits. */
function toBase64Url(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(encoded: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return null
  try {
    const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

/**
 * The subprotocols a client offers to authenticate with `token`.
 *
 * @example
 * new WebSocket(url, tokenSubprotocols(token)) // the server selects 'cardfile'
 */
export function tokenSubprotocols(token: string): string[] {
  return [CARDFILE_SUBPROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${toBase64Url(token)}`]
}

/**
 * The token a `Sec-WebSocket-Protocol` request header carries, or null when it carries none
 * (or a malformed one).
 *
 * @example
 * tokenFromSubprotocols(req.headers['sec-websocket-protocol']) // 'eyJhbGciOi...'
 */
export function tokenFromSubprotocols(header: string | undefined): string | null {
  if (header === undefined) return null
  for (const offered of header.split(',')) {
    const name = offered.trim()
    if (name.startsWith(TOKEN_PROTOCOL_PREFIX)) {
      return fromBase64Url(name.slice(TOKEN_PROTOCOL_PREFIX.length))
    }
  }
  return null
}

/**
 * A token refresh message (Cardfile type 104, client to server): a fresh token for the open
 * connection, so a token nearing its expiry is replaced without reconnecting.
 *
 * @example
 * ws.send(encodeTokenRefresh(freshToken))
 */
export function encodeTokenRefresh(token: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.TokenRefresh)
  encoding.writeVarString(encoder, token)
  return encoding.toUint8Array(encoder)
}
