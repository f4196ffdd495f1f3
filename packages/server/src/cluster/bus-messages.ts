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

/** How one field goes on the wire. */
interface FieldCodec<T> {
  write(encoder: encoding.Encoder, value: T): void
  read(decoder: decoding.Decoder): T
}

const text: FieldCodec<string> = {
  write: encoding.writeVarString,
  read: decoding.readVarString,
}
const uint: FieldCodec<number> = { write: encoding.writeVarUint, read: decoding.readVarUint }
const flag: FieldCodec<boolean> = {
  write: (encoder, value) => encoding.writeVarUint(encoder, value ? 1 : 0),
  read: (decoder) => decoding.readVarUint(decoder) === 1,
}
const binary: FieldCodec<Uint8Array> = {
  write: encoding.writeVarUint8Array,
  read: decoding.readVarUint8Array,
}
/** An actor as JSON, the empty string for none. */
const actor: FieldCodec<AuthenticatedActor | null> = {
  write: (encoder, value) =>
    encoding.writeVarString(encoder, value === null ? '' : JSON.stringify(value)),
  read: (decoder) => {
    const json = decoding.readVarString(decoder)
    return json === '' ? null : (JSON.parse(json) as AuthenticatedActor)
  },
}

type BusKind = BusMessage['kind']
/** The fields of a kind of message after the header every message has (kind, from, doc). */
type BodyOf<K extends BusKind> = Omit<Extract<BusMessage, { kind: K }>, 'kind' | 'from' | 'doc'>
type Layout<B> = { readonly [F in keyof B]-?: FieldCodec<B[F]> }

/**
 * Each kind's fields in the order they go on the wire (the order of the keys), so the encoder
 * and the decoder read one layout and cannot drift apart. The types make every field of every
 * kind appear with the codec of its type.
 */
const LAYOUTS: { readonly [K in BusKind]: Layout<BodyOf<K>> } = {
  [BusKinds.Follow]: {},
  [BusKinds.FollowAck]: { owned: flag },
  [BusKinds.Unfollow]: {},
  [BusKinds.Forward]: { connection: text, seq: uint, actor, extended: flag, update: binary },
  [BusKinds.Awareness]: { update: binary },
  [BusKinds.ConnectionGone]: { connection: text },
  [BusKinds.HostChange]: { request: uint, actor, update: binary },
  [BusKinds.HostDone]: { request: uint, error: text },
  [BusKinds.Relay]: { message: binary },
  [BusKinds.Direct]: { connection: text, seq: uint, message: binary },
  [BusKinds.Purge]: { reason: text },
  [BusKinds.Close]: { connection: text, code: uint, reason: text },
  [BusKinds.ListChange]: { change: text },
}

/** A kind's fields in wire order; undefined for a kind this version does not know. */
const fieldsOf = (kind: number): readonly (readonly [string, FieldCodec<unknown>])[] | undefined =>
  Object.hasOwn(LAYOUTS, kind)
    ? Object.entries(LAYOUTS[kind as BusKind] as Record<string, FieldCodec<unknown>>)
    : undefined

/** Encodes one bus message. */
export function encodeBusMessage(message: BusMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, message.kind)
  encoding.writeVarString(encoder, message.from)
  encoding.writeVarString(encoder, message.doc)
  const fields = message as unknown as Readonly<Record<string, unknown>>
  for (const [name, codec] of fieldsOf(message.kind) ?? []) codec.write(encoder, fields[name])
  return encoding.toUint8Array(encoder)
}

/** Decodes one bus message; throws on bytes that are not one. */
export function decodeBusMessage(bytes: Uint8Array): BusMessage {
  const decoder = decoding.createDecoder(bytes)
  const kind = decoding.readVarUint(decoder)
  const from = decoding.readVarString(decoder)
  const doc = decoding.readVarString(decoder)
  const fields = fieldsOf(kind)
  if (fields === undefined) throw new Error(`unknown bus message kind ${kind}`)
  const message: Record<string, unknown> = { kind, from, doc }
  for (const [name, codec] of fields) message[name] = codec.read(decoder)
  return message as unknown as BusMessage
}
