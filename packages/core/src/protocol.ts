import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import type * as Y from 'yjs'
import { ErrorCodes, isErrorCode } from './errors'
import type { ErrorCode } from './errors'
import { parseListQuery } from './list-queries'
import type { ListQuery } from './list-queries'

/*
 * The wire protocol, once, for both ends: message types, close codes with their reasons, and
 * the encoders and decoders of every message Cardfile adds to y-websocket's (see PROTOCOL.md).
 */

/**
 * Message types on the wire: the stock y-websocket ones and Cardfile's additions (100+), which
 * only connections that opted in with `cardfile=1` receive. See PROTOCOL.md.
 *
 * @example
 * decoding.readVarUint(decoder) === MessageTypes.Sync
 */
export const MessageTypes = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  DurableAck: 100,
  Refusal: 101,
  Purge: 102,
  Hello: 103,
  /** Client to server: a fresh token for the open connection. */
  TokenRefresh: 104,
  /** Client to server: keep a list query live on this connection. */
  ListSubscribe: 105,
  /** Client to server: stop keeping a list query live. */
  ListUnsubscribe: 106,
  /** Server to client: a commit changed what these subscribed queries return. */
  ListInvalidate: 107,
  /** Server to client: a subscription is active, refused or ended. */
  ListState: 108,
  /** Client to server, on a multiplexed socket's channel 0: open a document on a channel. */
  ChannelOpen: 109,
  /** Both ways, on a multiplexed socket's channel 0: a channel is closed (code and reason). */
  ChannelClose: 110,
} as const

export type MessageType = (typeof MessageTypes)[keyof typeof MessageTypes]

/** The JSON payload of a refusal notice (type 101). */
export interface RefusalNotice {
  readonly doc: string
  /** `<map>:<key>`, for example `custom:plan`. */
  readonly field: string
  readonly map: string
  readonly key: string
  readonly code: ErrorCode
  readonly message: string
}

/** The JSON payload of a purge notice (type 102). */
export interface PurgeNotice {
  readonly doc: string
  readonly reason: string
}

/**
 * What a server may announce in its hello, each as a string of `HelloNotice.features`: a client
 * uses a message type above the stock ones only when the hello named its feature (a server
 * that does not know a message closes the connection with 4400).
 */
export const ServerFeatures = {
  /** Live lists: the server takes list subscriptions (105, 106) and pushes 107 and 108. */
  Lists: 'lists',
  /** One socket for many documents: `/<workspace>/mux` with channel frames (109, 110). */
  Mux: 'mux',
} as const

/** The JSON payload of a hello (type 103): which store the server's documents live in. */
export interface HelloNotice {
  /** The storage's generation id (see `Storage.generation`). */
  readonly generation: string
  /**
   * What the server supports beyond the stock protocol and the types every Cardfile server
   * speaks (100-104), such as `lists` and `mux` (see {@link ServerFeatures}). Absent in hellos
   * of servers older than the field: they support none. Unknown strings are ignored by clients.
   */
  readonly features?: readonly string[]
}

/** The JSON payload of a list subscription (type 105). */
export interface ListSubscribeRequest {
  /** Chosen by the client, unique among its subscriptions on this connection. */
  readonly id: number
  readonly query: ListQuery
}

/**
 * The JSON payload of a list invalidation (type 107): the subscriptions of this connection
 * whose query one commit changed. Sent in commit order; the client refetches them.
 */
export interface ListInvalidation {
  readonly ids: readonly number[]
  /**
   * The changed conversation's index row after the commit, when one of `ids` is a list of
   * conversations (a queue, a conversations query): the client may show it at once, before the
   * refetch that confirms the list.
   */
  readonly row?: unknown
}

/**
 * The JSON payload of a list state notice (type 108). `active`: the subscription is in place
 * and every later commit that changes the list is announced (fetch now). `refused`: it was
 * never set up (`code` says why: forbidden, bad-request, rate-limited). `ended`: it was
 * dropped (`deleted`: the contact it was about was deleted).
 */
export interface ListStateNotice {
  readonly id: number
  readonly state: 'active' | 'refused' | 'ended'
  readonly code?: ErrorCode
  readonly message?: string
}

/** A message of `type` whose payload is `bytes` as a varUint8Array. */
function bytesMessage(type: number, bytes: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, bytes)
  return encoding.toUint8Array(encoder)
}

/** A Cardfile notice of `type`: its payload is `notice` as JSON in a varString. */
function jsonMessage(type: number, notice: object): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarString(encoder, JSON.stringify(notice))
  return encoding.toUint8Array(encoder)
}

/** A sync update message (type 0, y-protocols `messageYjsUpdate`). */
export function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Sync)
  syncProtocol.writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** The server's sync step 1: asks the client for what the server lacks. */
export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Sync)
  syncProtocol.writeSyncStep1(encoder, doc)
  return encoding.toUint8Array(encoder)
}

/** The server's sync step 2: what the client lacks, given its state vector. */
export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Sync)
  syncProtocol.writeSyncStep2(encoder, doc, stateVector)
  return encoding.toUint8Array(encoder)
}

/** An awareness message (type 1) around an encoded awareness update. */
export function encodeAwarenessMessage(awarenessUpdate: Uint8Array): Uint8Array {
  return bytesMessage(MessageTypes.Awareness, awarenessUpdate)
}

/** A y-protocols auth message (type 2) saying permission was denied, for stock clients' logs. */
export function encodePermissionDenied(reason: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Auth)
  authProtocol.writePermissionDenied(encoder, reason)
  return encoding.toUint8Array(encoder)
}

/** A durable acknowledgement (type 100) carrying the committed state vector. */
export function encodeDurableAck(committedStateVector: Uint8Array): Uint8Array {
  return bytesMessage(MessageTypes.DurableAck, committedStateVector)
}

/** A refusal notice (type 101). */
export function encodeRefusal(notice: RefusalNotice): Uint8Array {
  return jsonMessage(MessageTypes.Refusal, notice)
}

/** A purge notice (type 102). */
export function encodePurge(notice: PurgeNotice): Uint8Array {
  return jsonMessage(MessageTypes.Purge, notice)
}

/**
 * A hello (type 103), the first message of every Cardfile connection, sent before the
 * server's sync step 1 so a client can drop a cache from another store before syncing.
 */
export function encodeHello(notice: HelloNotice): Uint8Array {
  return jsonMessage(MessageTypes.Hello, notice)
}

/** A list subscription (type 105), client to server. */
export function encodeListSubscribe(request: ListSubscribeRequest): Uint8Array {
  return jsonMessage(MessageTypes.ListSubscribe, request)
}

/** The end of a list subscription (type 106), client to server. */
export function encodeListUnsubscribe(id: number): Uint8Array {
  return jsonMessage(MessageTypes.ListUnsubscribe, { id })
}

/** A list invalidation (type 107), server to client. */
export function encodeListInvalidate(invalidation: ListInvalidation): Uint8Array {
  return jsonMessage(MessageTypes.ListInvalidate, invalidation)
}

/** A list state notice (type 108), server to client. */
export function encodeListState(notice: ListStateNotice): Uint8Array {
  return jsonMessage(MessageTypes.ListState, notice)
}

/**
 * Websocket close codes the server uses, as documented in PROTOCOL.md. 4400-4499 are permanent
 * (a stock y-websocket provider stops reconnecting), 1013 and 4500+ are transient.
 *
 * @example
 * ws.close(CloseCodes.Unauthorized.code, CloseCodes.Unauthorized.reason)
 */
export const CloseCodes = {
  /** The server is shutting down. */
  GoingAway: { code: 1001, reason: 'going-away' },
  /** Shutting down or overloaded (for example a consumer too slow to keep up): reconnect later. */
  TryAgainLater: { code: 1013, reason: 'try-again-later' },
  BadRequest: { code: 4400, reason: 'bad-request' },
  Unauthorized: { code: 4401, reason: 'unauthorized' },
  Forbidden: { code: 4403, reason: 'forbidden' },
  /** The document's workspace was never created (permanent until an operator creates it). */
  UnknownWorkspace: { code: 4404, reason: 'unknown-workspace' },
  /**
   * The client's cache comes from another store than the server's (its `generation` parameter
   * names another generation): nothing it sent is applied; it drops the cache and reconnects.
   */
  StaleGeneration: { code: 4409, reason: 'stale-generation' },
  Deleted: { code: 4410, reason: 'deleted' },
  PayloadTooLarge: { code: 4413, reason: 'payload-too-large' },
  RateLimited: { code: 4429, reason: 'rate-limited' },
  Internal: { code: 4500, reason: 'internal' },
} as const

export type CloseCodeName = keyof typeof CloseCodes

/** One close code with its default reason. */
export interface CloseCode {
  readonly code: number
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
  return readHelloNotice(decoder).generation
}

/**
 * Reads the whole payload of a 103 hello: the store generation (null when unreadable) and the
 * features the server announced (none for a hello without them, an unreadable one included;
 * strings only, duplicates dropped).
 *
 * @example
 * const { generation, features } = readHelloNotice(decoder)
 * const push = features.includes(ServerFeatures.Lists)
 */
export function readHelloNotice(decoder: decoding.Decoder): {
  readonly generation: string | null
  readonly features: readonly string[]
} {
  let parsed: unknown = null
  try {
    parsed = JSON.parse(decoding.readVarString(decoder))
  } catch {
    // fall through: an unreadable hello names no generation and no feature
  }
  if (!isRecord(parsed)) return { generation: null, features: [] }
  const generation =
    typeof parsed.generation === 'string' && parsed.generation !== '' ? parsed.generation : null
  const features = Array.isArray(parsed.features)
    ? [...new Set(parsed.features.filter((f): f is string => typeof f === 'string'))]
    : []
  return { generation, features }
}

const readJson = (decoder: decoding.Decoder): unknown => {
  try {
    return JSON.parse(decoding.readVarString(decoder))
  } catch {
    return null
  }
}

const isSubscriptionId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/**
 * Reads the payload of a 105 list subscription: `query` is null when it is not a list query
 * the protocol knows (the server refuses it by id), and the whole request null when it has no
 * usable id.
 */
export function readListSubscribe(
  decoder: decoding.Decoder,
): { readonly id: number; readonly query: ListQuery | null } | null {
  const parsed = readJson(decoder)
  if (!isRecord(parsed) || !isSubscriptionId(parsed.id)) return null
  return { id: parsed.id, query: parseListQuery(parsed.query) }
}

/** Reads the payload of a 106 list unsubscription: its id, or null when unreadable. */
export function readListUnsubscribe(decoder: decoding.Decoder): number | null {
  const parsed = readJson(decoder)
  return isRecord(parsed) && isSubscriptionId(parsed.id) ? parsed.id : null
}

/** Reads the ids of a 107 list invalidation (ids that are not numbers are dropped). */
export function readListInvalidate(decoder: decoding.Decoder): number[] {
  return readListInvalidation(decoder).ids
}

/** Reads a 107 list invalidation: its ids and the row it carries (null when none). */
export function readListInvalidation(decoder: decoding.Decoder): {
  readonly ids: number[]
  readonly row: unknown
} {
  const parsed = readJson(decoder)
  if (!isRecord(parsed) || !Array.isArray(parsed.ids)) return { ids: [], row: null }
  return { ids: parsed.ids.filter(isSubscriptionId), row: isRecord(parsed.row) ? parsed.row : null }
}

/** Reads the payload of a 108 list state notice, or null when unreadable. */
export function readListState(decoder: decoding.Decoder): ListStateNotice | null {
  const parsed = readJson(decoder)
  if (!isRecord(parsed) || !isSubscriptionId(parsed.id)) return null
  const state = parsed.state
  if (state !== 'active' && state !== 'refused' && state !== 'ended') return null
  return {
    id: parsed.id,
    state,
    ...(isErrorCode(parsed.code) ? { code: parsed.code } : {}),
    ...(typeof parsed.message === 'string' ? { message: parsed.message } : {}),
  }
}
