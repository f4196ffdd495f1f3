import * as encoding from 'lib0/encoding'
import type * as Y from 'yjs'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'

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
  TokenRefresh: 104,
} as const

export type MessageType = (typeof MessageTypes)[keyof typeof MessageTypes]

/** The JSON payload of a refusal notice (type 101). */
export interface RefusalNotice {
  readonly doc: string
  /** `<map>:<key>`, for example `custom:plan`. */
  readonly field: string
  readonly map: string
  readonly key: string
  readonly code: string
  readonly message: string
}

/** The JSON payload of a purge notice (type 102). */
export interface PurgeNotice {
  readonly doc: string
  readonly reason: string
}

/** The JSON payload of a hello (type 103): which store the server's documents live in. */
export interface HelloNotice {
  /** The storage's generation id (see `Storage.generation`). */
  readonly generation: string
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
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Awareness)
  encoding.writeVarUint8Array(encoder, awarenessUpdate)
  return encoding.toUint8Array(encoder)
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
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.DurableAck)
  encoding.writeVarUint8Array(encoder, committedStateVector)
  return encoding.toUint8Array(encoder)
}

/** A refusal notice (type 101). */
export function encodeRefusal(notice: RefusalNotice): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Refusal)
  encoding.writeVarString(encoder, JSON.stringify(notice))
  return encoding.toUint8Array(encoder)
}

/** A purge notice (type 102). */
export function encodePurge(notice: PurgeNotice): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Purge)
  encoding.writeVarString(encoder, JSON.stringify(notice))
  return encoding.toUint8Array(encoder)
}

/**
 * A hello (type 103), the first message of every Cardfile connection, sent before the
 * server's sync step 1 so a client can drop a cache from another store before syncing.
 */
export function encodeHello(notice: HelloNotice): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.Hello)
  encoding.writeVarString(encoder, JSON.stringify(notice))
  return encoding.toUint8Array(encoder)
}
