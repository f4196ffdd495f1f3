import {
  CardfileError,
  CloseCodes,
  ErrorCodes,
  MessageTypes,
  ROOT_MAPS,
  SchemaDoc,
  encodeAwarenessMessage,
  encodeDurableAck,
  encodePurge,
  encodeRefusal,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
} from '@cardfile/core'
import { contactDocName } from '@cardfile/core'
import type { Actor, DocName, Refusal, RefusalNotice, SchemaView } from '@cardfile/core'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { ServerMetrics } from '../metrics'
import type { Backend } from '../backend'
import type { Connection } from './connection'
import type { Peer } from './peer'
import type { DocumentFence } from '../storage/document-owners'
import { indexRowFor } from './index-rows'
import { errorContext } from './logger'
import type { ServerLogger } from './logger'
import { ChangeGate } from './change-gate'
import type { GateHost } from './change-gate'
import { screenPresenceUpdate, throttlePresence } from './presence-guard'
import { eventsOfCommit, factsOf } from '../events/derive-events'
import { contactValuesOf, valueChangesOf } from '../history/value-changes'
import type { ContactValues } from '../history/value-changes'
import type { ValueChange } from '../history/value-history'
import type { DocumentFacts } from '../events/derive-events'
import type { DomainEventType, NewDomainEvent } from '../events/domain-event'
import { dropUnintegrable } from './refused-residue'
import { SharedMessage } from './wire-frame'
import { listChangeOfRows } from '../lists/list-change'
import type { ListChange } from '../lists/list-change'
import type { IndexRow } from '../storage/index-store'

/** Transaction origin of loading a document from storage. */
const LOAD_ORIGIN = Symbol('cardfile.load')

/** Transaction origin of a trusted server-side change made through the DocumentHost. */
export interface HostOrigin {
  readonly kind: 'host'
  readonly actor: Actor
}

/** What `onCommit` hears after every storage commit of a document. */
export interface CommitEvent {
  readonly docName: string
  /** The committed update (a client's change merged with its compensation, if any). */
  readonly update: Uint8Array
  /** Who made the change: the connection's actor, the host caller, or null for the server. */
  readonly actor: Actor | null
  /** Changes refused (and undone) in this update. */
  readonly refusals: readonly Refusal[]
}

/** What a document reads of its workspace's schema document (owned here or followed). */
export interface SchemaSource {
  readonly doc: Y.Doc
  view(): SchemaView
  release(): void
}

/** A malformed message: the connection is closed with 4400. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
}

/** What a live document needs from the server around it. */
export interface LiveDocumentDeps {
  readonly backend: Backend
  readonly metrics: ServerMetrics
  readonly logger: ServerLogger
  readonly onCommit?: ((event: CommitEvent) => void) | undefined
  /**
   * The domain event types some consumer reacts to: a commit writes those of its events, in
   * its own transaction. Empty: no facts are kept and no events written.
   */
  readonly eventTypes: ReadonlySet<DomainEventType>
  /** Called after a commit that wrote events. */
  readonly onEvents?: (() => void) | undefined
  /**
   * Called, in commit order, after a commit that may have changed a list clients keep live
   * (absent: no list is kept live, and no index row is remembered between commits).
   */
  readonly onListChange?: ((change: ListChange) => void) | undefined
  /** Called when the last hold is released: the registry decides whether to unload. */
  readonly onIdle: (live: LiveDocument) => void
  /**
   * The contact document a conversation's rules read (resolving needs its required values):
   * the loaded copy, null when the contact was erased, undefined when it is not in memory (the
   * registry then starts loading it, held by the conversation, for the next attempt).
   */
  readonly contactFor?:
    ((live: LiveDocument, docName: string) => Y.Doc | null | undefined) | undefined
}

/**
 * Server clientIDs are drawn from a low range on purpose. When a client's edit is concurrent
 * with a compensation on the same key (it was sent before the client saw the compensation),
 * Yjs lets the higher clientID win. Losing to the client keeps that later edit instead of
 * silently discarding it, and it is checked like any other change anyway.
 */
const serverClientId = (): number => 1 + Math.floor(Math.random() * 0xffffff)

const noop = (): void => undefined

/** Every struct may be garbage-collected (Yjs' default, one function for every document). */
const collectAll = (): boolean => true

/** The tail of a document with no commits yet (shared: an idle document needs none of its own). */
const SETTLED: Promise<void> = Promise.resolve()

/** The events of a commit that announces nothing (shared, never written to). */
const NO_EVENTS: NewDomainEvent[] = []

/** Longest name or message a refusal notice echoes (a refused name may be megabytes long). */
const NOTICE_TEXT_MAX = 256

const clip = (text: string): string =>
  text.length <= NOTICE_TEXT_MAX ? text : `${text.slice(0, NOTICE_TEXT_MAX)}…`

/** An awareness update naming no clients: the answer to a query while nobody is present. */
const NO_AWARENESS_STATES = new Uint8Array([0])

/** What an Awareness 'update' event reports. */
interface AwarenessChanges {
  readonly added: readonly number[]
  readonly updated: readonly number[]
  readonly removed: readonly number[]
}

/**
 * The live document of each Y.Doc, for the Y.Doc listeners shared by all documents (closures
 * made per document would cost each loaded document a few hundred bytes).
 */
const liveOfDoc = new WeakMap<Y.Doc, LiveDocument>()

/**
 * Yjs registers listeners for its whenLoaded / whenSynced promises in every Y.Doc. They serve
 * providers on the client side; the server never awaits them, and each document would keep two
 * listener sets, four closures and two promises for nothing.
 */
const PROVIDER_EVENTS = ['load', 'sync'] as const

/** Presence of a document, created when its first awareness message arrives. */
interface DocumentPresence {
  readonly awareness: awarenessProtocol.Awareness
  readonly listener: (changes: AwarenessChanges) => void
  /** Client ids whose state changed since the last flush. */
  readonly changed: Set<number>
  /** The connection that speaks for each client id (see `screenPresenceUpdate`). */
  readonly owners: Map<number, Connection>
}

/**
 * A document loaded in memory with its connections, awareness and commit pipeline. Every
 * client update goes through {@link applyClientUpdate}: apply, check every changed key with
 * core's `authorizeChanges`, compensate refused ones in a server transaction, then persist the
 * result and, only after the commit, relay it and acknowledge it.
 */
export class LiveDocument implements GateHost {
  readonly doc: Y.Doc
  /** Client connections and, on an owner, the instances that follow the document. */
  readonly connections = new Set<Peer>()
  /** Connections, host operations and dependent documents currently using this one. */
  holds = 0
  /** Counts the changes made to the document in memory (a change that changed nothing adds none). */
  changesSeen = 0
  /** Erased: no more commits; connected clients are purged. */
  erased = false
  /** A commit failed: memory is ahead of backend, so the document must be reloaded. */
  failed = false
  destroyed = false

  private buffer: Uint8Array[] = []
  /** Judges every client update (apply, check, compensate); made by the first one. */
  private gate: ChangeGate | null = null
  private tail: Promise<void> = SETTLED
  private pendingCommits = 0
  /**
   * The state vector storage holds while changes are uncommitted (set by the first change after
   * an idle spell, advanced by every commit); null when nothing is in flight, because backend
   * then holds exactly what memory holds and it is computed when asked for, instead of kept for
   * every idle document.
   */
  private committedStateVector: Uint8Array | null = null
  private readonly outbox: Uint8Array[] = []
  /**
   * The one connection that sent every update in the outbox and already holds all of it (a
   * clean change, nothing compensated): it is not sent its own changes back. Null when no single connection qualifies.
   */
  private outboxSender: Peer | null = null
  /** Set while commit relays wait for the end of the microtasks of a storage commit. */
  private relayScheduled = false
  /**
   * The connection whose clean updates the buffer holds, waiting to be committed as one at the
   * end of the socket callback that delivered them (null: the buffer holds no batch).
   */
  private batchFrom: Peer | null = null
  private batchScheduled = false
  private readonly direct: Array<readonly [Peer, Uint8Array]> = []
  /** Awareness and its pending changes, created by the first awareness message. */
  private presence: DocumentPresence | null = null
  private flushScheduled: ReturnType<typeof setImmediate> | null = null
  /** One reader per schema document (it caches its snapshot until the schema changes). */
  private schemaReader: SchemaDoc | null = null
  /** What the committed state says that events derive from (null: no event is wanted). */
  private facts: DocumentFacts | null = null
  /** A contact's committed values, which its value history derives from (null: no contact). */
  private values: ContactValues | null = null
  /** The index row as of the last commit handed to storage, for the list change of the next. */
  private listRow: IndexRow | undefined = undefined
  /**
   * A conversation's contact document, held while the conversation is loaded so that its rules
   * can read the contact's values at once (set by the registry; released when this unloads).
   */
  heldContact: { readonly name: string; readonly doc: Y.Doc; release(): void } | null = null
  /** A contact this conversation found erased (nothing is required of it). */
  goneContact: string | null = null

  constructor(
    readonly name: string,
    readonly parsed: DocName,
    /** The workspace's schema document (null when this one is the schema). */
    readonly schema: SchemaSource | null,
    updates: readonly Uint8Array[],
    private readonly deps: LiveDocumentDeps,
    /** The ownership every append is made under (several instances); none for the only one. */
    readonly fence?: DocumentFence,
  ) {
    // The document's name as its guid: a random one would be one more string per document.
    this.doc = new Y.Doc({ gc: true, gcFilter: collectAll, guid: name })
    this.doc.clientID = serverClientId()
    // Root maps exist before any client update arrives, so a root a client names is either one
    // of these Y.Maps or an unknown root (which the change collector refuses).
    for (const root of ROOT_MAPS[parsed.kind]) this.doc.getMap(root)
    if (updates.length > 0) {
      this.doc.transact(() => {
        for (const update of updates) Y.applyUpdate(this.doc, update)
      }, LOAD_ORIGIN)
      // Stored before unintegrable updates were dropped on arrival: not kept, not served.
      dropUnintegrable(this.doc)
    }
    for (const event of PROVIDER_EVENTS) this.doc._observers.delete(event)
    if (deps.eventTypes.size > 0) this.facts = factsOf(parsed, this.doc)
    if (parsed.kind === 'contact') this.values = contactValuesOf(this.doc)
    if (deps.onListChange !== undefined && parsed.kind !== 'schema') {
      this.listRow = indexRowFor(name, this.doc, schema?.doc ?? null)
    }
    liveOfDoc.set(this.doc, this)
    this.doc.on('afterTransaction', LiveDocument.onAfterTransaction)
    this.doc.on('update', LiveDocument.onUpdate)
  }

  /**
   * The document's awareness, created on first use: most documents are opened by clients that
   * never send presence, and an Awareness costs a timer, three maps and listeners.
   */
  get awareness(): awarenessProtocol.Awareness {
    return this.presenceState().awareness
  }

  private presenceState(): DocumentPresence {
    if (this.presence !== null) return this.presence
    const awareness = new awarenessProtocol.Awareness(this.doc)
    // The server is not a participant: it only relays the clients' states.
    awareness.setLocalState(null)
    const listener = (changes: AwarenessChanges): void => this.onAwarenessUpdate(changes)
    awareness.on('update', listener)
    this.presence = { awareness, listener, changed: new Set(), owners: new Map() }
    return this.presence
  }

  /** The state vector of what storage holds. */
  private committedVector(): Uint8Array {
    return this.committedStateVector ?? Y.encodeStateVector(this.doc)
  }

  /** Definitions and settings of this schema document, cached until it changes. */
  view(): SchemaView {
    this.schemaReader ??= new SchemaDoc(this.doc)
    return this.schemaReader.view()
  }

  hold(): void {
    this.holds += 1
  }

  release(): void {
    this.holds -= 1
    if (this.holds <= 0) this.deps.onIdle(this)
  }

  /** Resolves when every commit handed to storage so far has settled. */
  settled(): Promise<void> {
    this.commitPending()
    return this.tail
  }

  /** True while commits are in flight. */
  get busy(): boolean {
    return this.pendingCommits > 0 || this.batchFrom !== null
  }

  /**
   * Attaches an authenticated connection (taking over the hold its caller acquired): sends the
   * server's sync step 1 and the current awareness states, as the y-websocket server does.
   */
  addConnection(conn: Connection): void {
    // Many connections to one document share its name instead of each keeping a copy.
    conn.docName = this.name
    this.connections.add(conn)
    conn.send(encodeSyncStep1(this.doc))
    const awareness = this.presence?.awareness
    const states = awareness?.getStates()
    if (awareness !== undefined && states !== undefined && states.size > 0) {
      conn.send(
        encodeAwarenessMessage(
          awarenessProtocol.encodeAwarenessUpdate(awareness, [...states.keys()]),
        ),
      )
    }
  }

  /**
   * Attaches a connection that was attached to another copy of this document (the follower
   * this instance had before it took the document over): sync starts afresh, so the client
   * sends whatever the new owner lacks.
   */
  adoptConnection(conn: Connection): void {
    this.hold()
    this.addConnection(conn)
  }

  /** Attaches a peer that is not a client connection (a following instance), holding the document. */
  attachPeer(peer: Peer): void {
    if (this.connections.has(peer)) return
    this.hold()
    this.connections.add(peer)
    const awareness = this.presence?.awareness
    const states = awareness?.getStates()
    if (awareness !== undefined && states !== undefined && states.size > 0) {
      peer.send(
        encodeAwarenessMessage(
          awarenessProtocol.encodeAwarenessUpdate(awareness, [...states.keys()]),
        ),
      )
    }
  }

  /** Detaches a peer attached with {@link attachPeer}. */
  detachPeer(peer: Peer): void {
    if (this.connections.delete(peer)) this.release()
  }

  /** Applies presence a following instance relayed for its own clients (already screened there). */
  applyPeerAwareness(peer: Peer, update: Uint8Array): void {
    if (this.destroyed) return
    this.deps.metrics.awarenessUpdates.inc()
    awarenessProtocol.applyAwarenessUpdate(this.presenceState().awareness, update, peer)
  }

  /** Removes presence a following instance relayed (it stopped following). */
  removePeerPresence(peer: Peer, ids: readonly number[]): void {
    if (this.destroyed || this.presence === null || ids.length === 0) return
    awarenessProtocol.removeAwarenessStates(this.presence.awareness, [...ids], peer)
  }

  /**
   * Gives the document up: this instance no longer owns it (its lease ran out or was taken).
   * Its clients reconnect and are served by whichever instance owns it now.
   */
  revoke(error: unknown): void {
    this.fail(error)
  }

  /** Detaches a connection: its awareness states are removed and its hold released. */
  removeConnection(conn: Connection): void {
    if (!this.connections.delete(conn)) return
    const ids = conn.presence?.ids
    if (ids !== undefined && ids.size > 0 && this.presence !== null && !this.destroyed) {
      const owners = this.presence.owners
      for (const id of ids) if (owners.get(id) === conn) owners.delete(id)
      awarenessProtocol.removeAwarenessStates(this.presence.awareness, [...ids], null)
    }
    this.release()
  }

  /**
   * Handles one message from an attached connection. Throws (ProtocolError or a decoding
   * error) for malformed input; the caller closes that connection with 4400.
   */
  receive(conn: Connection, message: Uint8Array): void {
    const decoder = decoding.createDecoder(message)
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case MessageTypes.Sync:
        this.receiveSync(conn, decoder)
        return
      case MessageTypes.Awareness:
        this.receiveAwareness(conn, decoding.readVarUint8Array(decoder))
        return
      case MessageTypes.QueryAwareness: {
        const awareness = this.presence?.awareness
        if (awareness === undefined) {
          conn.send(encodeAwarenessMessage(NO_AWARENESS_STATES))
          return
        }
        const ids = [...awareness.getStates().keys()]
        conn.send(encodeAwarenessMessage(awarenessProtocol.encodeAwarenessUpdate(awareness, ids)))
        return
      }
      case MessageTypes.Auth:
        // Clients have nothing to say with auth messages; the token is in the URL.
        return
      default:
        throw new ProtocolError(`unknown message type ${type}`)
    }
  }

  private receiveSync(conn: Connection, decoder: decoding.Decoder): void {
    const syncType = decoding.readVarUint(decoder)
    switch (syncType) {
      case 0: {
        // What the reply carries must be durable first: a batch waiting in the buffer goes now.
        this.commitPending()
        const stateVector = decoding.readVarUint8Array(decoder)
        // Decode now so a malformed state vector fails here, not in the deferred reply.
        Y.decodeStateVector(stateVector)
        const reply = (): void => {
          if (!conn.open || this.destroyed || this.failed) return
          conn.send(encodeSyncStep2(this.doc, stateVector))
          conn.sendExtended(encodeDurableAck(this.committedVector()))
        }
        // Answer after the commits in flight, so what the client receives is already durable.
        if (this.pendingCommits === 0) reply()
        else void this.tail.then(reply)
        return
      }
      case 1:
      case 2:
        this.applyClientUpdate(conn, decoding.readVarUint8Array(decoder))
        return
      default:
        throw new ProtocolError(`unknown sync message type ${syncType}`)
    }
  }

  private receiveAwareness(conn: Connection, update: Uint8Array): void {
    throttlePresence(
      conn,
      update,
      (admitted) => {
        if (this.destroyed) return
        this.deps.metrics.awarenessUpdates.inc()
        const presence = this.presenceState()
        // Only ids the connection owns, each stamped with the identity its token proves.
        const screened = screenPresenceUpdate(admitted, conn, this.name, presence.owners)
        if (screened !== null)
          awarenessProtocol.applyAwarenessUpdate(presence.awareness, screened, conn)
      },
      this.deps.logger,
    )
  }

  /**
   * Applies a client's update with the connection as origin, refuses what the sender may not
   * write by compensating it, and hands the result to storage. Throws after the check when the
   * update was malformed (whatever Yjs integrated before the error is checked all the same).
   */
  applyClientUpdate(conn: Peer, update: Uint8Array): void {
    if (this.erased || this.failed || this.destroyed) return
    // A batch continues only with more updates of the same connection (one actor per commit).
    if (this.batchFrom !== conn) this.commitPending()
    const batched = this.buffer.length
    this.gate ??= new ChangeGate(this.doc, this.parsed, this)
    const verdict = this.gate.admit(update, conn.actor, conn)
    this.deps.metrics.updatesReceived.inc()
    if (verdict.failure !== null) {
      // The changes could not be read, so they cannot be checked: fail closed.
      this.fail(verdict.failure)
      return
    }
    if (verdict.cleaned !== null) {
      // The batch before this update is committed first, as it was; the update's own events
      // (and its compensation's) are replaced by the cleaned change.
      this.buffer = this.buffer.slice(0, batched)
      this.commitPending()
      for (const r of verdict.refusals) this.deps.metrics.refusals.inc(1, { code: r.code })
      this.commit(verdict.cleaned, conn, conn.actor, verdict.refusals, [conn])
    } else {
      // Committed as one with the connection's other updates delivered by the same socket
      // callback (a burst arrives in one read): one storage append, index row and ack for all.
      this.batchFrom = conn
      this.scheduleBatchCommit()
    }
    if (verdict.malformed !== null) throw verdict.malformed
  }

  /** Runs a trusted change as one transaction; resolves after its commit. */
  async transactAsHost<T>(actor: Actor, change: (doc: Y.Doc) => T): Promise<T> {
    if (this.erased) throw new CardfileError(ErrorCodes.Deleted, `${this.name} was deleted`)
    if (this.failed || this.destroyed) {
      throw new CardfileError(ErrorCodes.Unavailable, `${this.name} is unavailable, try again`)
    }
    this.commitPending()
    const origin: HostOrigin = { kind: 'host', actor }
    let result: T | undefined
    let thrown: { error: unknown } | null = null
    this.doc.transact(() => {
      try {
        result = change(this.doc)
      } catch (error) {
        thrown = { error }
      }
    }, origin)
    // Whatever the change wrote before throwing is in memory, so it is committed too.
    const committed = this.commitBufferedFor(actor)
    if (committed !== null) await committed
    if (thrown !== null) throw (thrown as { error: unknown }).error
    return result as T
  }

  private static readonly onAfterTransaction = (tr: Y.Transaction, doc: Y.Doc): void => {
    liveOfDoc.get(doc)?.gate?.collect(tr)
  }

  private static readonly onUpdate = (
    update: Uint8Array,
    _origin: unknown,
    doc: Y.Doc,
    tr: Y.Transaction,
  ): void => {
    liveOfDoc.get(doc)?.bufferUpdate(update, tr)
  }

  /** Buffers an update for the next commit. */
  private bufferUpdate(update: Uint8Array, tr: Y.Transaction): void {
    this.changesSeen += 1
    // The first change after an idle spell: storage holds the state from before it.
    this.committedStateVector ??= Y.encodeStateVector(tr.beforeState)
    this.buffer.push(update)
  }

  /** The workspace's schema as it stands (this document's own when it is the schema). */
  gateSchema(): SchemaView {
    return this.schema === null ? this.view() : this.schema.view()
  }
  /** A contact's custom values for the rules of this conversation (see `contactFor`). */
  gateContactValues(contactId: string): ((attributeId: string) => unknown) | null | undefined {
    const contact = this.deps.contactFor?.(this, contactDocName(this.parsed.workspace, contactId))
    if (contact === null || contact === undefined) return contact
    const custom = contact.getMap('custom')
    return (attributeId) => custom.get(attributeId)
  }
  /** The change policy threw: logged by code, the change was refused whole. */
  gatePolicyError(error: unknown): void {
    this.deps.logger.error('authorizeChanges threw', errorContext(error))
  }

  /** Commits what the buffer holds: a connection's batch of clean updates, or stray changes. */
  private commitPending(): void {
    const from = this.batchFrom
    this.batchFrom = null
    // A clean batch is exactly what its sender wrote, so it is not sent back to it.
    this.commitBuffered(from, from !== null)
  }

  /** Commits the batch once the socket callback that delivered its updates has returned. */
  private scheduleBatchCommit(): void {
    if (this.batchScheduled) return
    this.batchScheduled = true
    process.nextTick(() => {
      this.batchScheduled = false
      if (!this.destroyed) this.commitPending()
    })
  }

  /** Commits whatever 'update' events buffered (a trusted or clean change). */
  private commitBuffered(conn: Peer | null, senderHoldsIt = false): Promise<void> | null {
    if (this.buffer.length === 0) return null
    const parts = this.buffer
    this.buffer = []
    const update = parts.length === 1 ? (parts[0] as Uint8Array) : Y.mergeUpdates(parts)
    const contributors = conn === null ? [] : [conn]
    return this.commit(update, conn, conn?.actor ?? null, [], contributors, senderHoldsIt)
  }

  private commitBufferedFor(actor: Actor): Promise<void> | null {
    if (this.buffer.length === 0) return null
    const parts = this.buffer
    this.buffer = []
    const update = parts.length === 1 ? (parts[0] as Uint8Array) : Y.mergeUpdates(parts)
    return this.commit(update, null, actor, [], [])
  }

  /**
   * Hands `update` to storage (with the index row derived from the document as it is now) and,
   * once committed, relays it, sends refusal notices and durable acks. Commits settle in order.
   */
  private commit(
    update: Uint8Array,
    sender: Peer | null,
    actor: Actor | null,
    refusals: readonly Refusal[],
    contributors: readonly Peer[],
    /** The sender holds exactly this update already, so it need not get it back. */
    senderHoldsIt = false,
  ): Promise<void> {
    if (this.erased || this.failed) {
      const refused = Promise.reject(new CardfileError(ErrorCodes.Deleted, `${this.name} is gone`))
      refused.catch(noop)
      return refused
    }
    const stateVector = Y.encodeStateVector(this.doc)
    const index = indexRowFor(this.name, this.doc, this.schema?.doc ?? null)
    const events = this.eventsOf(update, actor, refusals)
    const history = this.valueChangesOf(actor)
    const listChange = this.listChangeOf(index)
    const started = performance.now()
    let appended: Promise<void>
    try {
      appended = this.deps.backend.documents.append(
        this.name,
        update,
        index,
        events,
        this.fence,
        history,
      )
    } catch (error) {
      appended = Promise.reject(error)
    }
    for (const c of contributors) c.noteCommit?.()
    this.pendingCommits += 1
    const done = this.tail
      .then(() => appended)
      .then(
        () => {
          const metrics = this.deps.metrics
          metrics.commitLatency.observe((performance.now() - started) / 1000)
          metrics.updatesCommitted.inc()
          this.committedStateVector = stateVector
          const first = this.outbox.length === 0
          this.outbox.push(update)
          const holder = senderHoldsIt ? sender : null
          this.outboxSender = first || this.outboxSender === holder ? holder : null
          if (sender !== null && refusals.length > 0) {
            for (const refusal of refusals) {
              const map = clip(refusal.map)
              const key = clip(refusal.key)
              const notice: RefusalNotice = {
                doc: this.name,
                field: `${map}:${key}`,
                map,
                key,
                code: refusal.code,
                message: clip(refusal.message),
              }
              if (sender.extended) this.direct.push([sender, encodeRefusal(notice)])
            }
          }
          const extended = contributors.filter((c) => c.extended)
          if (extended.length > 0) {
            const ack = encodeDurableAck(stateVector)
            for (const c of extended) this.direct.push([c, ack])
          }
          this.scheduleRelay()
          if (events.length > 0) this.deps.onEvents?.()
          if (listChange !== null) this.deps.onListChange?.(listChange)
          try {
            this.deps.onCommit?.({ docName: this.name, update, actor, refusals })
          } catch (error) {
            this.deps.logger.error('onCommit threw', errorContext(error))
          }
        },
        (error: unknown) => {
          this.deps.metrics.commitFailures.inc()
          this.fail(error)
          throw error
        },
      )
    this.tail = done.then(noop, noop).finally(() => {
      this.pendingCommits -= 1
      // Nothing in flight: storage holds what memory holds, so the vector need not be kept.
      if (this.pendingCommits === 0 && this.buffer.length === 0 && !this.failed) {
        this.committedStateVector = null
        // Nothing left to wait for: an idle document keeps no promise chain of its own.
        this.tail = SETTLED
      }
      if (this.holds <= 0) this.deps.onIdle(this)
    })
    return done
  }

  /**
   * The list change of a commit whose index row is `index`, from the row of the commit before
   * (moved on here, in the order commits are handed to storage, like the facts).
   */
  private listChangeOf(index: IndexRow | undefined): ListChange | null {
    if (this.deps.onListChange === undefined) return null
    if (this.parsed.kind === 'schema') return { type: 'schema', workspace: this.parsed.workspace }
    const before = this.listRow
    this.listRow = index
    return listChangeOfRows(before, index)
  }

  /**
   * The wanted events of a commit of `update` (which the document holds now), from the facts
   * of the commit before. Commits are handed to storage in order, so the facts move on here:
   * a commit that fails fails the document, which is reloaded with facts from storage.
   */
  private eventsOf(
    update: Uint8Array,
    actor: Actor | null,
    refusals: readonly Refusal[],
  ): NewDomainEvent[] {
    if (this.facts === null) return NO_EVENTS
    const derived = eventsOfCommit(
      this.parsed,
      this.doc,
      this.facts,
      update,
      actor,
      refusals,
      Date.now(),
    )
    this.facts = derived.facts
    const wanted = this.deps.eventTypes
    return derived.events.every((e) => wanted.has(e.type))
      ? derived.events
      : derived.events.filter((e) => wanted.has(e.type))
  }

  /**
   * The value changes of a commit (which the document holds now), from the values of the commit
   * before; like the facts, they move on here, and a failed commit reloads them from storage.
   */
  private valueChangesOf(actor: Actor | null): ValueChange[] | undefined {
    if (this.values === null || this.parsed.kind !== 'contact') return undefined
    const { values, changes } = valueChangesOf(
      this.parsed.workspace,
      this.parsed.id,
      this.values,
      this.doc,
      actor,
      Date.now(),
    )
    this.values = values
    return changes.length === 0 ? undefined : changes
  }

  /**
   * Backend failed (or a change could not be checked): memory is no longer what backend
   * holds. Clients are closed with a transient code so they reconnect to a reloaded copy and
   * send their changes again; nothing acknowledged is lost.
   */
  private fail(error: unknown): void {
    if (this.failed) return
    this.failed = true
    this.deps.logger.error('document failed, closing its connections', {
      doc: this.name,
      ...errorContext(error),
    })
    for (const conn of this.connections) {
      conn.close({ code: CloseCodes.TryAgainLater.code, reason: 'storage-unavailable' })
    }
  }

  private onAwarenessUpdate(changes: AwarenessChanges): void {
    // Which connection owns which id is settled by screenPresenceUpdate before applying.
    const { changed, owners } = this.presenceState()
    for (const id of changes.added) changed.add(id)
    for (const id of changes.updated) changed.add(id)
    for (const id of changes.removed) {
      // Removed by its owner, by its connection dropping, or timed out: nobody owns it now.
      owners.get(id)?.presence?.ids.delete(id)
      owners.delete(id)
      changed.add(id)
    }
    if (changed.size > 0) this.scheduleFlush()
  }

  /**
   * Batches presence relays per event-loop turn: each broadcast is encoded once and sent to
   * all.
   */
  private scheduleFlush(): void {
    this.flushScheduled ??= setImmediate(() => {
      this.flushScheduled = null
      this.flush()
    })
  }

  /**
   * Relays committed updates as soon as the commit that settled them has finished settling.
   * Backend settles a whole group commit at once, and a process.nextTick queued from a promise
   * callback runs only after every promise callback queued meanwhile: so every commit of the
   * group is in the outbox (one merged broadcast per document per group), and no event-loop
   * turn passes between the commit and the relay.
   */
  private scheduleRelay(): void {
    if (this.relayScheduled) return
    this.relayScheduled = true
    process.nextTick(() => {
      this.relayScheduled = false
      this.flush()
    })
  }

  private flush(): void {
    if (this.destroyed) return
    if (this.outbox.length > 0) {
      const updates = this.outbox.splice(0)
      const skip = this.outboxSender
      this.outboxSender = null
      const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates)
      this.broadcast(encodeSyncUpdate(merged), skip)
    }
    const presence = this.presence
    if (presence !== null && presence.changed.size > 0) {
      const ids = [...presence.changed]
      presence.changed.clear()
      const message = encodeAwarenessMessage(
        awarenessProtocol.encodeAwarenessUpdate(presence.awareness, ids),
      )
      this.broadcast(message, null)
    }
    if (this.direct.length > 0) {
      for (const [conn, message] of this.direct.splice(0)) conn.send(message)
    }
  }

  /** Sends one encoded message to every connection but `skip`, counting the bytes once. */
  private broadcast(message: Uint8Array, skip: Peer | null): void {
    // One Buffer view for all: ws would otherwise wrap the bytes anew for every socket; and one
    // websocket frame for all, written whole to each socket.
    const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength)
    const shared = new SharedMessage(bytes)
    let sent = 0
    for (const conn of this.connections) {
      if (conn === skip) continue
      if (conn.sendShared === undefined ? conn.sendUncounted(bytes) : conn.sendShared(shared)) {
        sent += 1
      }
    }
    if (sent > 0) this.deps.metrics.bytesSent.inc(bytes.byteLength * sent)
  }

  /** Tells connected clients the document was deleted and closes them with 4410. */
  purge(reason: string): void {
    this.erased = true
    const notice = encodePurge({ doc: this.name, reason })
    for (const conn of this.connections) {
      conn.sendExtended(notice)
      conn.close(CloseCodes.Deleted)
    }
  }

  /** Frees the document. Only the registry calls this, once nothing holds it. */
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled)
    this.flushScheduled = null
    this.schemaReader?.destroy()
    this.schemaReader = null
    if (this.presence !== null) {
      this.presence.awareness.off('update', this.presence.listener)
      this.presence.awareness.destroy()
      this.presence = null
    }
    this.doc.off('afterTransaction', LiveDocument.onAfterTransaction)
    this.doc.off('update', LiveDocument.onUpdate)
    liveOfDoc.delete(this.doc)
    this.doc.destroy()
    this.connections.clear()
    this.buffer = []
  }
}
