import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { AuthenticatedActor } from '../auth/authenticate'

/**
 * What instances say to each other about a document. A *follower* is an instance with clients on
 * a document another instance *owns*; it forwards those clients' changes and presence to the
 * owner, which decides, commits and relays the result back.
 */
export const BusKinds = {
  /** Follower → owner: keep relaying this document to me (sent again as a heartbeat). */
  Follow: 1,
  /** Owner → follower: the answer to Follow or Forward; `owned` false means "not mine". */
  FollowAck: 2,
  /** Follower → owner: stop relaying. */
  Unfollow: 3,
  /** Follower → owner: a client's update, numbered per connection. */
  Forward: 4,
  /** Follower → owner: presence of the follower's clients. */
  Awareness: 5,
  /** Follower → owner: a forwarding connection closed. */
  ConnectionGone: 6,
  /** Follower → owner: a trusted server-side change made on the follower. */
  HostChange: 7,
  /** Owner → follower: the host change committed (or failed with `error`). */
  HostDone: 8,
  /** Owner → follower: a message for every client of the document (committed update, presence). */
  Relay: 9,
  /** Owner → follower: a message for one forwarding connection (ack up to `seq`, refusal). */
  Direct: 10,
  /** Anyone → everyone: the document was erased. */
  Purge: 11,
  /** Owner → follower: close one forwarding connection with `code`. */
  Close: 12,
  /** Anyone → everyone: a committed change of lists clients keep live (`doc`: the workspace). */
  ListChange: 13,
} as const

export type BusMessage =
  | { readonly kind: 1; readonly from: string; readonly doc: string }
  | { readonly kind: 2; readonly from: string; readonly doc: string; readonly owned: boolean }
  | { readonly kind: 3; readonly from: string; readonly doc: string }
  | {
      readonly kind: 4
      readonly from: string
      readonly doc: string
      readonly connection: string
      readonly seq: number
      readonly actor: AuthenticatedActor | null
      readonly extended: boolean
      readonly update: Uint8Array
    }
  | { readonly kind: 5; readonly from: string; readonly doc: string; readonly update: Uint8Array }
  | { readonly kind: 6; readonly from: string; readonly doc: string; readonly connection: string }
  | {
      readonly kind: 7
      readonly from: string
      readonly doc: string
      readonly request: number
      readonly actor: AuthenticatedActor | null
      readonly update: Uint8Array
    }
  | {
      readonly kind: 8
      readonly from: string
      readonly doc: string
      readonly request: number
      /** Empty when it committed; otherwise `code\nmessage` of the error. */
      readonly error: string
    }
  | { readonly kind: 9; readonly from: string; readonly doc: string; readonly message: Uint8Array }
  | {
      readonly kind: 10
      readonly from: string
      readonly doc: string
      readonly connection: string
      readonly seq: number
      readonly message: Uint8Array
    }
  | { readonly kind: 11; readonly from: string; readonly doc: string; readonly reason: string }
  | {
      readonly kind: 12
      readonly from: string
      readonly doc: string
      readonly connection: string
      readonly code: number
      readonly reason: string
    }
  | { readonly kind: 13; readonly from: string; readonly doc: string; readonly change: string }

const writeActor = (encoder: encoding.Encoder, actor: AuthenticatedActor | null): void => {
  encoding.writeVarString(encoder, actor === null ? '' : JSON.stringify(actor))
}

const readActor = (decoder: decoding.Decoder): AuthenticatedActor | null => {
  const text = decoding.readVarString(decoder)
  return text === '' ? null : (JSON.parse(text) as AuthenticatedActor)
}

/** Encodes one bus message. */
export function encodeBusMessage(message: BusMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, message.kind)
  encoding.writeVarString(encoder, message.from)
  encoding.writeVarString(encoder, message.doc)
  switch (message.kind) {
    case BusKinds.FollowAck:
      encoding.writeVarUint(encoder, message.owned ? 1 : 0)
      break
    case BusKinds.Forward:
      encoding.writeVarString(encoder, message.connection)
      encoding.writeVarUint(encoder, message.seq)
      writeActor(encoder, message.actor)
      encoding.writeVarUint(encoder, message.extended ? 1 : 0)
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case BusKinds.Awareness:
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case BusKinds.ConnectionGone:
      encoding.writeVarString(encoder, message.connection)
      break
    case BusKinds.HostChange:
      encoding.writeVarUint(encoder, message.request)
      writeActor(encoder, message.actor)
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case BusKinds.HostDone:
      encoding.writeVarUint(encoder, message.request)
      encoding.writeVarString(encoder, message.error)
      break
    case BusKinds.Relay:
      encoding.writeVarUint8Array(encoder, message.message)
      break
    case BusKinds.Direct:
      encoding.writeVarString(encoder, message.connection)
      encoding.writeVarUint(encoder, message.seq)
      encoding.writeVarUint8Array(encoder, message.message)
      break
    case BusKinds.Purge:
      encoding.writeVarString(encoder, message.reason)
      break
    case BusKinds.Close:
      encoding.writeVarString(encoder, message.connection)
      encoding.writeVarUint(encoder, message.code)
      encoding.writeVarString(encoder, message.reason)
      break
    case BusKinds.ListChange:
      encoding.writeVarString(encoder, message.change)
      break
    default:
      break
  }
  return encoding.toUint8Array(encoder)
}

/** Decodes one bus message; throws on bytes that are not one. */
export function decodeBusMessage(bytes: Uint8Array): BusMessage {
  const decoder = decoding.createDecoder(bytes)
  const kind = decoding.readVarUint(decoder)
  const from = decoding.readVarString(decoder)
  const doc = decoding.readVarString(decoder)
  switch (kind) {
    case BusKinds.Follow:
    case BusKinds.Unfollow:
      return { kind, from, doc }
    case BusKinds.FollowAck:
      return { kind, from, doc, owned: decoding.readVarUint(decoder) === 1 }
    case BusKinds.Forward:
      return {
        kind,
        from,
        doc,
        connection: decoding.readVarString(decoder),
        seq: decoding.readVarUint(decoder),
        actor: readActor(decoder),
        extended: decoding.readVarUint(decoder) === 1,
        update: decoding.readVarUint8Array(decoder),
      }
    case BusKinds.Awareness:
      return { kind, from, doc, update: decoding.readVarUint8Array(decoder) }
    case BusKinds.ConnectionGone:
      return { kind, from, doc, connection: decoding.readVarString(decoder) }
    case BusKinds.HostChange:
      return {
        kind,
        from,
        doc,
        request: decoding.readVarUint(decoder),
        actor: readActor(decoder),
        update: decoding.readVarUint8Array(decoder),
      }
    case BusKinds.HostDone:
      return {
        kind,
        from,
        doc,
        request: decoding.readVarUint(decoder),
        error: decoding.readVarString(decoder),
      }
    case BusKinds.Relay:
      return { kind, from, doc, message: decoding.readVarUint8Array(decoder) }
    case BusKinds.Direct:
      return {
        kind,
        from,
        doc,
        connection: decoding.readVarString(decoder),
        seq: decoding.readVarUint(decoder),
        message: decoding.readVarUint8Array(decoder),
      }
    case BusKinds.Purge:
      return { kind, from, doc, reason: decoding.readVarString(decoder) }
    case BusKinds.Close:
      return {
        kind,
        from,
        doc,
        connection: decoding.readVarString(decoder),
        code: decoding.readVarUint(decoder),
        reason: decoding.readVarString(decoder),
      }
    case BusKinds.ListChange:
      return { kind, from, doc, change: decoding.readVarString(decoder) }
    default:
      throw new Error(`unknown bus message kind ${kind}`)
  }
}
