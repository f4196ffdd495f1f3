import {
  CardfileError,
  CloseCodes,
  ErrorCodes,
  MessageTypes,
  SchemaDoc,
  encodeAwarenessMessage,
  encodeDurableAck,
  encodePurge,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
} from '@cardfile/core'
import type { Actor, DocName, SchemaView } from '@cardfile/core'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { AuthenticatedActor } from '../auth/authenticate'
import type { ServerMetrics } from '../metrics'
import { SharedMessage } from '../sync/wire-frame'
import type { Connection } from '../sync/connection'
import type { LiveDocument } from '../sync/live-document'
import { ProtocolError } from '../sync/live-document'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import type { Peer } from '../sync/peer'
import { screenPresenceUpdate, throttlePresence } from '../sync/presence-guard'
import { BusKinds } from './bus-messages'
import type { BusMessage } from './bus-messages'

/** Transaction and awareness origin of what the owner relayed (committed state). */
const FROM_OWNER = Symbol('cardfile.owner')

/** Presence of the follower's own clients crosses to the owner at most this often. */
const PRESENCE_TO_OWNER_MS = 50

/** A host change waits this long for the owner's commit before it fails with `unavailable`. */
const HOST_CHANGE_TIMEOUT_MS = 30_000

const NO_AWARENESS_STATES = new Uint8Array([0])

/** What a follower needs from the instance around it. */
export interface ReplicaDeps {
  readonly instanceId: string
  /** Sends an encoded bus message to another instance. */
  readonly send: (to: string, message: BusMessage) => void
  /** Every update storage holds for the document (the committed state). */
  readonly load: () => Promise<Uint8Array[]>
  readonly metrics: ServerMetrics
  readonly logger: ServerLogger
  /** Called when the last hold is released: the registry decides whether to unload. */
  readonly onIdle: (replica: ReplicaDocument) => void
  /** The owner said it is not the owner, or stopped answering: find out who owns it now. */
  readonly onOwnerLost: (replica: ReplicaDocument) => void
}

/** A connection's changes sent to the owner and not yet acknowledged, by number. */
interface Forwarding {
  readonly conn: Connection
  seq: number
  readonly unacked: Map<number, Uint8Array>
  /** The connection closed: forget it once everything it sent is acknowledged. */
  gone: boolean
}

interface HostRequest {
  readonly actor: Actor
  readonly update: Uint8Array
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
  readonly timer: ReturnType<typeof setTimeout>
}

/**
 * A document on an instance that does not own it, for the clients connected here: it holds
 * the committed state (loaded from storage, then every commit the owner relays), answers sync
 * from it, and forwards the clients' changes and presence to the owner, which decides. A change
 * is acknowledged to its client when the owner's ack comes back, that is after the owner's
 * commit; until then it is kept and sent again to whichever instance owns the document next.
 *
 * When this instance takes the document over, the replica hands its connections to the new
 * {@link LiveDocument} and delegates to it from then on.
 */
export class ReplicaDocument {
  readonly connections = new Set<Connection>()
  holds = 0
  erased = false
  failed = false
  destroyed = false
  /** The instance that owns the document, as far as this one knows (null: being found out). */
  owner: string | null = null
  /** When the owner last answered (performance.now()). */
  heardAt = performance.now()
  /** The live document this instance made when it took the document over. */
  promoted: LiveDocument | null = null
  readonly schema = null
  /**
   * The replica's holders hold the promoted document through one hold of the replica's own,
   * taken only while it has holders: a replica promoted while it was still being loaded has
   * none yet, and its loader holds the promoted document itself.
   */
  private holdsPromoted = false

  private readonly replica: Y.Doc
  private readonly forwards = new Map<string, Forwarding>()
  private readonly hostRequests = new Map<number, HostRequest>()
  private hostSeq = 0
  private awarenessState: awarenessProtocol.Awareness | null = null
  private readonly presenceOwners = new Map<number, Connection>()
  /** Ids of this instance's clients whose presence changed since it last went to the owner. */
  private readonly presenceChanged = new Set<number>()
  private presenceTimer: ReturnType<typeof setTimeout> | null = null
  private schemaReader: SchemaDoc | null = null
  /** Waiting for the owner's first answer to Follow (then storage is read to catch up). */
  private following: { resolve: () => void; reject: (e: unknown) => void } | null = null
  private drained: Array<() => void> = []
  private purged = false

  constructor(
    readonly name: string,
    readonly parsed: DocName,
    private readonly deps: ReplicaDeps,
  ) {
    this.replica = new Y.Doc({ gc: true, guid: name })
  }

  /** The document's committed state (the taken-over live document's, once promoted). */
  get doc(): Y.Doc {
    return this.promoted?.doc ?? this.replica
  }

  /** True while changes of this instance's clients wait for the owner's ack. */
  get busy(): boolean {
    return this.unackedCount() > 0
  }

  view(): SchemaView {
    if (this.promoted !== null) return this.promoted.view()
    this.schemaReader ??= new SchemaDoc(this.replica)
    return this.schemaReader.view()
  }

  hold(): void {
    this.holds += 1
    this.holdPromoted()
  }

  private holdPromoted(): void {
    if (this.promoted === null || this.holdsPromoted || this.destroyed) return
    this.promoted.hold()
    this.holdsPromoted = true
  }

  release(): void {
    this.holds -= 1
    if (this.holds <= 0) this.deps.onIdle(this)
  }

  /**
   * Follows `owner`: resolves once the owner answered and the replica caught up with storage
   * (a commit made before the owner heard of us is in storage; every later one is relayed).
   * Everything still unacknowledged is sent to the new owner.
   */
  follow(owner: string): Promise<void> {
    this.owner = owner
    this.following?.reject(new CardfileError(ErrorCodes.Unavailable, 'owner changed'))
    const followed = new Promise<void>((resolve, reject) => {
      this.following = { resolve, reject }
    })
    followed.catch(() => undefined)
    this.deps.send(owner, { kind: BusKinds.Follow, from: this.deps.instanceId, doc: this.name })
    return followed.then(async () => {
      await this.catchUp()
      this.replay()
    })
  }

  /**
   * Reads storage again (after the bus may have lost relayed commits) and sends the clients
   * here whatever they missed: later relays build on it.
   */
  async catchUp(): Promise<void> {
    const updates = await this.deps.load()
    if (this.destroyed || this.promoted !== null) return
    const before = Y.encodeStateVector(this.replica)
    this.replica.transact(() => {
      for (const update of updates) Y.applyUpdate(this.replica, update)
    }, FROM_OWNER)
    const missed = Y.encodeStateAsUpdate(this.replica, before)
    // An update of no structs and an empty delete set is two zero bytes.
    if (missed.byteLength > 2) this.broadcast(encodeSyncUpdate(missed))
  }

  /** Sends the Follow heartbeat (the owner forgets followers it stops hearing from). */
  heartbeat(): void {
    if (this.owner === null || this.promoted !== null) return
    this.deps.send(this.owner, {
      kind: BusKinds.Follow,
      from: this.deps.instanceId,
      doc: this.name,
    })
  }

  /** Handles what the owner sent about this document. */
  onOwnerMessage(message: BusMessage): void {
    if (this.destroyed || this.promoted !== null || message.from !== this.owner) return
    this.heardAt = performance.now()
    switch (message.kind) {
      case BusKinds.FollowAck: {
        if (!message.owned) {
          this.owner = null
          const following = this.following
          this.following = null
          // Whoever waits for the handshake looks for the owner again; otherwise we do.
          if (following !== null) {
            following.reject(new CardfileError(ErrorCodes.Unavailable, 'not the owner'))
          } else {
            this.deps.onOwnerLost(this)
          }
          return
        }
        const following = this.following
        this.following = null
        following?.resolve()
        return
      }
      case BusKinds.Relay:
        this.onRelay(message.message)
        return
      case BusKinds.Direct: {
        const forwarding = this.forwards.get(message.connection)
        if (forwarding === undefined) return
        if (message.seq > 0) {
          for (const seq of forwarding.unacked.keys()) {
            if (seq <= message.seq) forwarding.unacked.delete(seq)
          }
          this.settleIfDrained(forwarding)
        }
        forwarding.conn.sendExtended(message.message)
        return
      }
      case BusKinds.Close:
        this.forwards.get(message.connection)?.conn.close({
          code: message.code,
          reason: message.reason,
        })
        return
      case BusKinds.HostDone: {
        const request = this.hostRequests.get(message.request)
        if (request === undefined) return
        this.hostRequests.delete(message.request)
        clearTimeout(request.timer)
        if (message.error === '') {
          // Committed as sent (host changes are trusted): the replica holds it from now on.
          Y.applyUpdate(this.replica, request.update, FROM_OWNER)
          request.resolve()
        } else {
          const [code, ...text] = message.error.split('\n')
          request.reject(new CardfileError(code as never, text.join('\n')))
        }
        this.notifyIfDrained()
        return
      }
      default:
        return
    }
  }

  private onRelay(message: Uint8Array): void {
    const decoder = decoding.createDecoder(message)
    const type = decoding.readVarUint(decoder)
    if (type === MessageTypes.Sync) {
      decoding.readVarUint(decoder)
      Y.applyUpdate(this.replica, decoding.readVarUint8Array(decoder), FROM_OWNER)
      this.broadcast(message)
      return
    }
    if (type === MessageTypes.Awareness) {
      awarenessProtocol.applyAwarenessUpdate(
        this.awareness(),
        decoding.readVarUint8Array(decoder),
        FROM_OWNER,
      )
      this.broadcast(message)
      return
    }
    // The owner's purge notice: every instance hears of the erasure and purges by itself.
    if (type === MessageTypes.Purge) return
    for (const conn of this.connections) conn.sendExtended(message)
  }

  private broadcast(message: Uint8Array): void {
    const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength)
    // One websocket frame for every socket (see SharedMessage).
    const shared = new SharedMessage(bytes)
    let sent = 0
    for (const conn of this.connections) if (conn.sendShared(shared)) sent += 1
    if (sent > 0) this.deps.metrics.bytesSent.inc(bytes.byteLength * sent)
  }

  addConnection(conn: Connection): void {
    if (this.promoted !== null) {
      this.promoted.adoptConnection(conn)
      this.release()
      return
    }
    conn.docName = this.name
    this.connections.add(conn)
    conn.send(encodeSyncStep1(this.replica))
    const states = this.awarenessState?.getStates()
    if (this.awarenessState !== null && states !== undefined && states.size > 0) {
      conn.send(
        encodeAwarenessMessage(
          awarenessProtocol.encodeAwarenessUpdate(this.awarenessState, [...states.keys()]),
        ),
      )
    }
  }

  removeConnection(conn: Connection): void {
    if (!this.connections.delete(conn)) {
      this.promoted?.removeConnection(conn)
      return
    }
    const ids = conn.presence?.ids
    if (ids !== undefined && ids.size > 0 && this.awarenessState !== null) {
      for (const id of ids) if (this.presenceOwners.get(id) === conn) this.presenceOwners.delete(id)
      awarenessProtocol.removeAwarenessStates(this.awarenessState, [...ids], null)
    }
    const forwarding = this.forwards.get(conn.id)
    if (forwarding !== undefined) {
      forwarding.gone = true
      this.settleIfDrained(forwarding)
    }
    this.release()
  }

  /** Handles one message from an attached connection (as {@link LiveDocument.receive}). */
  receive(conn: Connection, message: Uint8Array): void {
    if (this.promoted !== null) {
      this.promoted.receive(conn, message)
      return
    }
    const decoder = decoding.createDecoder(message)
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case MessageTypes.Sync: {
        const syncType = decoding.readVarUint(decoder)
        if (syncType === 0) {
          const stateVector = decoding.readVarUint8Array(decoder)
          Y.decodeStateVector(stateVector)
          // The replica holds committed state only, so all of it is durable.
          conn.send(encodeSyncStep2(this.replica, stateVector))
          conn.sendExtended(encodeDurableAck(Y.encodeStateVector(this.replica)))
          return
        }
        if (syncType !== 1 && syncType !== 2) {
          throw new ProtocolError(`unknown sync message type ${syncType}`)
        }
        this.forward(conn, decoding.readVarUint8Array(decoder))
        return
      }
      case MessageTypes.Awareness: {
        const update = decoding.readVarUint8Array(decoder)
        throttlePresence(
          conn,
          update,
          (admitted) => this.applyPresence(conn, admitted),
          this.deps.logger,
        )
        return
      }
      case MessageTypes.QueryAwareness: {
        const awareness = this.awarenessState
        conn.send(
          encodeAwarenessMessage(
            awareness === null
              ? NO_AWARENESS_STATES
              : awarenessProtocol.encodeAwarenessUpdate(awareness, [
                  ...awareness.getStates().keys(),
                ]),
          ),
        )
        return
      }
      case MessageTypes.Auth:
        return
      default:
        throw new ProtocolError(`unknown message type ${type}`)
    }
  }

  private forward(conn: Connection, update: Uint8Array): void {
    if (this.erased || this.destroyed) return
    let forwarding = this.forwards.get(conn.id)
    if (forwarding === undefined) {
      forwarding = { conn, seq: 0, unacked: new Map(), gone: false }
      this.forwards.set(conn.id, forwarding)
    }
    forwarding.seq += 1
    forwarding.unacked.set(forwarding.seq, update)
    this.deps.metrics.updatesReceived.inc()
    if (this.owner !== null && this.following === null) {
      this.sendForward(forwarding, forwarding.seq, update)
    }
  }

  private sendForward(forwarding: Forwarding, seq: number, update: Uint8Array): void {
    if (this.owner === null) return
    this.deps.send(this.owner, {
      kind: BusKinds.Forward,
      from: this.deps.instanceId,
      doc: this.name,
      connection: forwarding.conn.id,
      seq,
      actor: forwarding.conn.actor,
      extended: forwarding.conn.extended,
      update,
    })
  }

  /** Sends every unacknowledged change and host change again, oldest first (Yjs updates are idempotent). */
  private replay(): void {
    if (this.owner === null) return
    for (const forwarding of this.forwards.values()) {
      for (const [seq, update] of forwarding.unacked) this.sendForward(forwarding, seq, update)
    }
    for (const [request, pending] of this.hostRequests) this.sendHostChange(request, pending)
    this.flushPresence(true)
  }

  private unackedCount(): number {
    let count = this.hostRequests.size
    for (const forwarding of this.forwards.values()) count += forwarding.unacked.size
    return count
  }

  private settleIfDrained(forwarding: Forwarding): void {
    if (forwarding.unacked.size > 0) return
    if (forwarding.gone) {
      this.forwards.delete(forwarding.conn.id)
      if (this.owner !== null) {
        this.deps.send(this.owner, {
          kind: BusKinds.ConnectionGone,
          from: this.deps.instanceId,
          doc: this.name,
          connection: forwarding.conn.id,
        })
      }
    }
    this.notifyIfDrained()
  }

  private notifyIfDrained(): void {
    if (this.drained.length === 0 || this.unackedCount() > 0) return
    for (const resolve of this.drained.splice(0)) resolve()
  }

  /** Resolves when every forwarded change was acknowledged (or after `timeoutMs`). */
  settled(timeoutMs = 5000): Promise<void> {
    if (this.promoted !== null) return this.promoted.settled()
    if (this.unackedCount() === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      timer.unref()
      this.drained.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  private awareness(): awarenessProtocol.Awareness {
    if (this.awarenessState !== null) return this.awarenessState
    const awareness = new awarenessProtocol.Awareness(this.replica)
    awareness.setLocalState(null)
    awareness.on(
      'update',
      (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
        if (origin === FROM_OWNER) return
        // A change of this instance's clients: relayed here now, to the owner shortly.
        const ids = [...changes.added, ...changes.updated, ...changes.removed]
        for (const id of ids) this.presenceChanged.add(id)
        for (const id of changes.removed) this.presenceOwners.delete(id)
        if (ids.length > 0) {
          this.broadcast(
            encodeAwarenessMessage(awarenessProtocol.encodeAwarenessUpdate(awareness, ids)),
          )
          this.presenceTimer ??= setTimeout(() => this.flushPresence(false), PRESENCE_TO_OWNER_MS)
        }
      },
    )
    this.awarenessState = awareness
    return awareness
  }

  private applyPresence(conn: Connection, update: Uint8Array): void {
    if (this.destroyed || this.promoted !== null) return
    this.deps.metrics.awarenessUpdates.inc()
    const screened = screenPresenceUpdate(update, conn, this.name, this.presenceOwners)
    if (screened !== null) awarenessProtocol.applyAwarenessUpdate(this.awareness(), screened, conn)
  }

  /** Sends the presence of this instance's clients that changed (all of it, to a new owner). */
  private flushPresence(all: boolean): void {
    if (this.presenceTimer !== null) clearTimeout(this.presenceTimer)
    this.presenceTimer = null
    const awareness = this.awarenessState
    if (awareness === null || this.owner === null) return
    const ids = all ? [...this.presenceOwners.keys()] : [...this.presenceChanged]
    this.presenceChanged.clear()
    if (ids.length === 0) return
    this.deps.send(this.owner, {
      kind: BusKinds.Awareness,
      from: this.deps.instanceId,
      doc: this.name,
      update: awarenessProtocol.encodeAwarenessUpdate(awareness, ids),
    })
  }

  /**
   * Makes a trusted change: it is written on a copy of the committed state and the resulting
   * update is committed by the owner; resolves after that commit.
   */
  async transactAsHost<T>(actor: Actor, change: (doc: Y.Doc) => T): Promise<T> {
    if (this.promoted !== null) return this.promoted.transactAsHost(actor, change)
    if (this.erased) throw new CardfileError(ErrorCodes.Deleted, `${this.name} was deleted`)
    const scratch = new Y.Doc({ gc: true, guid: this.name })
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.replica))
    const parts: Uint8Array[] = []
    scratch.on('update', (update: Uint8Array) => parts.push(update))
    let result: T | undefined
    let thrown: { error: unknown } | null = null
    scratch.transact(() => {
      try {
        result = change(scratch)
      } catch (error) {
        thrown = { error }
      }
    })
    scratch.destroy()
    if (parts.length > 0) {
      const update = parts.length === 1 ? (parts[0] as Uint8Array) : Y.mergeUpdates(parts)
      await this.requestHostChange(actor, update)
    }
    if (thrown !== null) throw (thrown as { error: unknown }).error
    return result as T
  }

  private requestHostChange(actor: Actor, update: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.hostSeq += 1
      const request = this.hostSeq
      const timer = setTimeout(() => {
        this.hostRequests.delete(request)
        reject(new CardfileError(ErrorCodes.Unavailable, `${this.name}: its owner did not answer`))
        this.notifyIfDrained()
      }, HOST_CHANGE_TIMEOUT_MS)
      timer.unref()
      const pending: HostRequest = { actor, update, resolve, reject, timer }
      this.hostRequests.set(request, pending)
      if (this.following === null) this.sendHostChange(request, pending)
    })
  }

  private sendHostChange(request: number, pending: HostRequest): void {
    if (this.owner === null) return
    this.deps.send(this.owner, {
      kind: BusKinds.HostChange,
      from: this.deps.instanceId,
      doc: this.name,
      request,
      actor: pending.actor as AuthenticatedActor,
      update: pending.update,
    })
  }

  /**
   * This instance took the document over: `live` (loaded from storage) gets the connections,
   * and everything not yet acknowledged is applied to it as its senders' changes, checked as
   * any change is.
   */
  promote(live: LiveDocument): void {
    if (this.destroyed) return
    this.promoted = live
    this.following?.reject(new CardfileError(ErrorCodes.Unavailable, 'taken over here'))
    this.following = null
    // The replica's own holders (dependents, host operations) now hold the live document.
    if (this.holds > 0) this.holdPromoted()
    const awareness = this.awarenessState
    if (awareness !== null && awareness.getStates().size > 0) {
      live.applyPeerAwareness(
        NO_PEER,
        awarenessProtocol.encodeAwarenessUpdate(awareness, [...this.presenceOwners.keys()]),
      )
    }
    // What storage holds beyond what the clients here were relayed (commits lost on the way).
    const missed = Y.encodeStateAsUpdate(live.doc, Y.encodeStateVector(this.replica))
    if (missed.byteLength > 2) this.broadcast(encodeSyncUpdate(missed))
    for (const conn of this.connections) {
      live.adoptConnection(conn)
      this.holds -= 1
    }
    for (const forwarding of this.forwards.values()) {
      const sender = forwarding.gone ? detachedPeer(forwarding.conn.actor) : forwarding.conn
      for (const update of forwarding.unacked.values()) {
        try {
          live.applyClientUpdate(sender, update)
        } catch (error) {
          this.deps.logger.debug('a replayed update was malformed', errorContext(error))
        }
      }
    }
    this.forwards.clear()
    for (const pending of this.hostRequests.values()) {
      clearTimeout(pending.timer)
      live
        .transactAsHost(pending.actor, (doc) => Y.applyUpdate(doc, pending.update))
        .then(pending.resolve, pending.reject)
    }
    this.hostRequests.clear()
    this.connections.clear()
    this.notifyIfDrained()
    this.releaseReplica()
    if (this.holds <= 0) this.deps.onIdle(this)
  }

  /** Tells connected clients the document was deleted and closes them with 4410. */
  purge(reason: string): void {
    if (this.purged) return
    this.purged = true
    this.erased = true
    if (this.promoted !== null) {
      this.promoted.purge(reason)
      return
    }
    const notice = encodePurge({ doc: this.name, reason })
    for (const conn of this.connections) {
      conn.sendExtended(notice)
      conn.close(CloseCodes.Deleted)
    }
    for (const pending of this.hostRequests.values()) {
      clearTimeout(pending.timer)
      pending.reject(new CardfileError(ErrorCodes.Deleted, `${this.name} was deleted`))
    }
    this.hostRequests.clear()
    this.forwards.clear()
    this.notifyIfDrained()
  }

  /** Stops following and frees the replica. Only the registry calls this. */
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    if (this.promoted !== null) {
      if (this.holdsPromoted) this.promoted.release()
      this.holdsPromoted = false
      return
    }
    // The presence of clients that just left goes to the owner before we stop following.
    this.flushPresence(false)
    if (this.owner !== null) {
      this.deps.send(this.owner, {
        kind: BusKinds.Unfollow,
        from: this.deps.instanceId,
        doc: this.name,
      })
    }
    this.following?.reject(new CardfileError(ErrorCodes.Unavailable, `${this.name} was unloaded`))
    this.following = null
    this.releaseReplica()
    for (const pending of this.hostRequests.values()) {
      clearTimeout(pending.timer)
      pending.reject(new CardfileError(ErrorCodes.Unavailable, `${this.name} was unloaded`))
    }
    this.hostRequests.clear()
    this.connections.clear()
  }

  private releaseReplica(): void {
    if (this.presenceTimer !== null) clearTimeout(this.presenceTimer)
    this.presenceTimer = null
    this.awarenessState?.destroy()
    this.awarenessState = null
    this.schemaReader?.destroy()
    this.schemaReader = null
    this.replica.destroy()
  }
}

/** A peer that hears nothing: the sender of a replayed change whose connection is gone. */
const detachedPeer = (actor: AuthenticatedActor | null): Peer => ({
  actor,
  extended: false,
  send: () => false,
  sendUncounted: () => false,
  sendExtended: () => undefined,
  close: () => undefined,
})

const NO_PEER: Peer = detachedPeer(null)
