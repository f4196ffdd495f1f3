import * as decoding from 'lib0/decoding'
import { CardfileError, ErrorCodes, isErrorCode } from '../errors'
import type { ErrorCode } from '../errors'

/** Cardfile message types above the stock y-websocket ones (see PROTOCOL.md). */
export const MessageTypes = {
  DurableAck: 100,
  Refusal: 101,
  Purge: 102,
  Hello: 103,
  /** Client to server: a fresh token for the open connection. */
  TokenRefresh: 104,
} as const

/** Close codes the client reacts to (see PROTOCOL.md, "Close codes"). */
export const CloseCodes = {
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  StaleGeneration: 4409,
  Deleted: 4410,
  PayloadTooLarge: 4413,
  RateLimited: 4429,
} as const

/** A refusal notice as it arrives: the JSON `Refusal` plus the document and field names. */
export interface RefusalNotice {
  readonly doc: string
  readonly field: string
  readonly map: string
  readonly key: string
  readonly code: ErrorCode
  readonly message: string
}

/** A purge notice: the document was deleted on the server. */
export interface PurgeNotice {
  readonly doc: string
  readonly reason: string
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const str = (value: unknown, fallback: string): string =>
  typeof value === 'string' ? value : fallback

/** Reads the payload of a 100 durable ack: the acknowledged state vector. */
export function readDurableAck(decoder: decoding.Decoder): Uint8Array {
  return decoding.readVarUint8Array(decoder)
}

/**
 * Reads the payload of a 101 refusal. A malformed notice still becomes a refusal (code
 * `internal`) rather than an exception, so a bad message never kills the connection loop.
 */
export function readRefusal(decoder: decoding.Decoder, docName: string): RefusalNotice {
  let parsed: unknown = null
  try {
    parsed = JSON.parse(decoding.readVarString(decoder))
  } catch {
    parsed = null
  }
  if (!isRecord(parsed)) {
    return {
      doc: docName,
      field: '',
      map: '',
      key: '',
      code: ErrorCodes.Internal,
      message: 'The server refused a change (unreadable notice)',
    }
  }
  const map = str(parsed.map, '')
  const key = str(parsed.key, '')
  return {
    doc: str(parsed.doc, docName),
    field: str(parsed.field, map && key ? `${map}:${key}` : ''),
    map,
    key,
    code: isErrorCode(parsed.code) ? parsed.code : ErrorCodes.Internal,
    message: str(parsed.message, 'The server refused a change'),
  }
}

/** Reads the payload of a 102 purge notice. */
export function readPurge(decoder: decoding.Decoder, docName: string): PurgeNotice {
  try {
    const parsed: unknown = JSON.parse(decoding.readVarString(decoder))
    if (isRecord(parsed)) return { doc: str(parsed.doc, docName), reason: str(parsed.reason, '') }
  } catch {
    // fall through: a purge notice we cannot read still purges
  }
  return { doc: docName, reason: '' }
}

/**
 * Reads the payload of a 103 hello: the server's store generation, or null when the notice is
 * unreadable (the client then keeps what it has; the server still refuses a stale cache).
 */
export function readHello(decoder: decoding.Decoder): string | null {
  try {
    const parsed: unknown = JSON.parse(decoding.readVarString(decoder))
    if (isRecord(parsed) && typeof parsed.generation === 'string' && parsed.generation !== '') {
      return parsed.generation
    }
  } catch {
    // fall through: an unreadable hello names no generation
  }
  return null
}

/** The typed error a refusal notice becomes. */
export const refusalError = (notice: RefusalNotice): CardfileError =>
  new CardfileError(notice.code, notice.message, notice.field || undefined)

/** The typed error a permanent close code becomes; null for codes that are not errors. */
export function closeError(code: number, reason: string): CardfileError | null {
  switch (code) {
    case CloseCodes.BadRequest:
      return new CardfileError(ErrorCodes.BadRequest, reason || 'The server refused the request')
    case CloseCodes.Unauthorized:
      return reason === 'token-expired'
        ? new CardfileError(ErrorCodes.TokenExpired, 'The access token expired')
        : new CardfileError(ErrorCodes.Unauthorized, reason || 'The access token was refused')
    case CloseCodes.Forbidden:
      return new CardfileError(ErrorCodes.Forbidden, reason || 'Not allowed to open this document')
    case CloseCodes.Deleted:
      return new CardfileError(ErrorCodes.Deleted, reason || 'The document was deleted')
    case CloseCodes.StaleGeneration:
      return new CardfileError(
        ErrorCodes.CacheDiscarded,
        'The local copy belonged to another store and was dropped',
      )
    case CloseCodes.PayloadTooLarge:
      return new CardfileError(ErrorCodes.PayloadTooLarge, reason || 'A change was too large')
    case CloseCodes.RateLimited:
      return new CardfileError(ErrorCodes.RateLimited, reason || 'Too many changes, slow down')
    default:
      return code >= 4400 && code < 4500
        ? new CardfileError(ErrorCodes.Internal, reason || `Connection closed (${code})`)
        : null
  }
}
