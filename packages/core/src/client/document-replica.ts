import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import { deleteDB } from 'lib0/indexeddb'
import { ROOT_MAPS } from '../document-layout'
import type { DocKind } from '../document-layout'
import { CardfileError, ErrorCodes } from '../errors'
import type { Actor } from '../types'
import { DurabilityTracker } from './durability'
import { Listeners } from './listeners'
import { readPresence } from './presence'
import type { Presence } from './presence'
import { resetDoc } from './reset-doc'
import { sameDocStatus } from './status'
import { encodeTokenRefresh, tokenSubprotocols } from './token-transport'
import type { DocStatus, LoadSource, SyncState } from './status'
import {
  CloseCodes,
  MessageTypes,
  ServerFeatures,
  readDurableAck,
  readHelloNotice,
  readPurge,
  readRefusal,
} from '../protocol'
import { closeError, refusalError } from './wire'
import type * as decoding from 'lib0/decoding'

/** A WebSocket constructor: the browser's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => object

/** What a replica needs from the client that owns it. */
export interface ReplicaContext {
  readonly url: string
  readonly WebSocket: WebSocketConstructor
  readonly indexedDB: boolean
  /** IndexedDB database name for a document. */
  localName(docName: string): string
  /** The current token, fetching one first if needed. */
  token(): Promise<string>
  /** Fetches a fresh token after the server said the current one expired; null when impossible. */
  refreshToken(): Promise<string | null>
  actor(): Actor | null
  online(): boolean
  /** The client's local transaction origin: typed mutations and undo tracking use it. */
  readonly origin: object
  readonly undoCaptureMs: number
  reportError(error: CardfileError, docName: string): void
  statusChanged(): void
  /** Why a document was purged earlier in this client's life, or null if it never was. */
  purgedReason(docName: string): string | null
  /** Remembers that a document was purged, so opening it again cannot bring it back. */
  rememberPurge(docName: string, reason: string): void
  /** The store generation the client last heard of (in a hello or a local copy), or null. */
  knownGeneration(): string | null
  /** Remembers the store generation a hello named. */
  learnGeneration(generation: string): void
}

const COMMITTED_KEY = 'cardfile:committed'
/** Key of the store generation the local copy belongs to, beside the copy in its database. */
const GENERATION_KEY = 'cardfile:generation'
/** Origin of emptying the document after its cache turned out stale; never sent. */
const DISCARD_ORIGIN = Symbol('cardfile.discard')
/** Origin of the local erase that follows a purge notice; never sent (the provider is gone). */
const PURGE_ORIGIN = Symbol('cardfile.purge')
/** Refreshing a token that the server keeps calling expired more often than this is a loop. */
const MAX_TOKEN_RETRIES = 3

const isFieldValueLike = (v: unknown): v is { value: unknown; by: Record<string, unknown> } =>
  typeof v === 'object' &&
  v !== null &&
  'by' in v &&
  typeof (v as { by: unknown }).by === 'object' &&
  (v as { by: unknown }).by !== null

/**
 * One open document: its Y.Doc, its connection (a y-websocket provider speaking the Cardfile
 * extensions), its IndexedDB copy, its status, durability and undo stack. The client keeps one
 * replica per document name and reference-counts it.
 */
/** Hears what a connection says about live lists (the client's list channel). */
export interface ListSink {
  /** A 107 or 108 arrived; `decoder` is positioned after the message type. */
  message(type: number, decoder: decoding.Decoder): void
  /** The connection's hello announced live lists: subscriptions are sent (again). */
  connected(): void
  /**
   * The connection's hello did not announce live lists (a server older than them, which would
   * close the connection on a subscription): nothing is sent, lists are polled.
   */
  unsupported(): void
  /** The socket closed: the server forgot this connection's subscriptions. */
  disconnected(): void
}

export class DocumentReplica {
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  persistence: IndexeddbPersistence | null = null
  readonly undoManager: Y.UndoManager
  /** Bumps on every change a reader may care about (content, status, presence). */
  version = 0
  refs = 0
  /** Pending close after the last release (lets StrictMode's unmount/remount reuse the replica). */
  closeTimer: ReturnType<typeof setTimeout> | null = null

  private readonly durability: DurabilityTracker
  private readonly changeListeners = new Listeners<[]>()
  private readonly errorListeners = new Listeners<[CardfileError]>()
  private readonly destroyListeners = new Listeners<[]>()
  private source: LoadSource = 'none'
  private localLoaded: boolean
  private purged = false
  private destroyed = false
  private tokenRetries = 0
  /** A save of the committed vector is queued for the end of this burst of updates. */
  private commitSaveQueued = false
  /** A token was given: connections may open. */
  private hasToken = false
  /** Set by the first token: the local copy is open (or opening) and the connection wanted. */
  private started = false
  private lastError: CardfileError | null = null
  /** The last connection was lost (not closed on purpose): until synced again, we retry. */
  private dropped = false
  /** The server refused the token, or none could be fetched: cleared by the next token. */
  private needsToken = false
  /**
   * The store generation the in-memory state and the local copy belong to: read from the local
   * copy, or named by the first hello; null while unknown.
   */
  private generation: string | null = null
  /** The local copy is loaded and its generation read (always true without IndexedDB). */
  private localReady: boolean
  /** A stale cache is being dropped: nothing connects until the fresh local copy is open. */
  private discarding = false
  private statusCache: DocStatus | null = null
  private presenceCache: { version: number; value: readonly Presence[] } | null = null
  private readonly attached = new Map<string, { value: unknown; destroy: () => void }>()
  /** Where list messages and connection changes go (null: nobody subscribes here). */
  private listSink: ListSink | null = null
  /** What the open connection's hello announced; null until it arrives (and once closed). */
  private serverFeatures: readonly string[] | null = null

  constructor(
    readonly name: string,
    readonly kind: DocKind,
    private readonly ctx: ReplicaContext,
  ) {
    this.durability = new DurabilityTracker(this.doc)
    this.provider = new WebsocketProvider(ctx.url, name, this.doc, {
      connect: false,
      params: { cardfile: '1' },
      // The option is typed as the DOM constructor; `ws` in Node is compatible at runtime.
      WebSocketPolyfill: ctx.WebSocket as unknown as typeof WebSocket,
      // Other tabs sync through the server: a BroadcastChannel shortcut would bypass durability.
      disableBc: true,
    })
    this.installMessageHandlers()
    this.undoManager = new Y.UndoManager(
      ROOT_MAPS[kind].map((map) => this.doc.getMap(map)),
      { trackedOrigins: new Set([ctx.origin]), captureTimeout: ctx.undoCaptureMs },
    )
    this.localLoaded = !ctx.indexedDB
    this.localReady = !ctx.indexedDB

    this.doc.on('update', this.onUpdate)
    this.provider.on('status', this.onConnectionChange)
    this.provider.on('sync', this.onSync)
    this.provider.on('closed', this.onClosed)
    this.provider.awareness.on('change', this.onAwareness)
    this.undoManager.on('stack-item-added', this.onProviderChange)
    this.undoManager.on('stack-item-popped', this.onProviderChange)
    const purgedBefore = ctx.purgedReason(name)
    if (purgedBefore !== null) {
      // Purged earlier in this client's life: the local copy is gone (or being deleted) and the
      // server would only purge it again. Opening IndexedDB now could read the copy back before
      // its deletion lands, and a write offline would create it anew: open neither, nor connect.
      this.purged = true
      this.localLoaded = true
      this.lastError = new CardfileError(ErrorCodes.Deleted, purgedBefore || `${name} was deleted`)
      return
    }
    // The local copy is scoped by user, so it opens once the user is known (at once when the
    // options or a fixed token name them; after the first token from `getToken` otherwise).
    if (ctx.actor() !== null) this.openLocal()
    this.setLocalPresence(null)
    void this.start()
  }

  /**
   * Returns the value attached under `key`, creating it on first use. Typed wrappers (SchemaDoc,
   * ContactDoc ...) and borrowed handles live here so every reader shares one cached instance.
   */
  attach<T>(key: string, create: () => T, destroy: (value: T) => void = () => undefined): T {
    const existing = this.attached.get(key)
    if (existing !== undefined) return existing.value as T
    const value = create()
    this.attached.set(key, { value, destroy: () => destroy(value) })
    return value
  }

  /** Listens to every change of content, status or presence. */
  subscribe(listener: () => void): () => void {
    return this.changeListeners.add(listener)
  }

  /** Listens to errors about this document (refusals, closes, purge). */
  onError(listener: (error: CardfileError) => void): () => void {
    return this.errorListeners.add(listener)
  }

  /** Calls `listener` once, when the replica is destroyed (closed for good). */
  onDestroy(listener: () => void): () => void {
    return this.destroyListeners.add(listener)
  }

  isDestroyed(): boolean {
    return this.destroyed
  }

  /** The most recent error about this document, or null. */
  error(): CardfileError | null {
    return this.lastError
  }

  status(): DocStatus {
    const pending = this.purged ? 0 : this.durability.pending()
    const next: DocStatus = {
      status: this.syncState(),
      source: this.source,
      pending,
      saved: pending === 0,
      localLoaded: this.localLoaded,
      purged: this.purged,
      needsToken: this.needsToken,
    }
    if (this.statusCache !== null && sameDocStatus(this.statusCache, next)) return this.statusCache
    this.statusCache = next
    return next
  }

  /** Local transactions of this session the server acknowledged (for inspection). */
  acknowledged(): number {
    return this.durability.acknowledged()
  }

  isPurged(): boolean {
    return this.purged
  }

  /** Runs `fn` as one transaction with the client's local origin (tracked by undo). */
  transact<T>(fn: () => T): T {
    if (this.purged) {
      throw new CardfileError(ErrorCodes.Deleted, `${this.name} was deleted`, undefined)
    }
    let result: T | undefined
    this.doc.transact(() => {
      result = fn()
    }, this.ctx.origin)
    return result as T
  }

  /** Forgets the last error (after a write that went through). */
  clearError(): void {
    if (this.lastError === null) return
    this.lastError = null
    this.changed()
  }

  /** Reports a local (pre-write) error to this document's listeners. */
  report(error: CardfileError): void {
    this.fail(error)
  }

  undo(): boolean {
    return this.popStack('undo')
  }

  redo(): boolean {
    return this.popStack('redo')
  }

  canUndo(): boolean {
    return this.undoManager.undoStack.length > 0
  }

  canRedo(): boolean {
    return this.undoManager.redoStack.length > 0
  }

  /** Other users' presence on this document (this replica excluded), stable between changes. */
  presence(): readonly Presence[] {
    if (this.presenceCache?.version === this.version) return this.presenceCache.value
    const value: Presence[] = []
    const self = this.provider.awareness.clientID
    for (const [clientId, state] of this.provider.awareness.getStates()) {
      // The awareness id, not the doc's: dropping a stale cache gives the doc a new one.
      if (clientId === self) continue
      const p = readPresence(clientId, state)
      if (p !== null) value.push(p)
    }
    value.sort((a, b) => a.userId.localeCompare(b.userId) || a.clientId - b.clientId)
    this.presenceCache = { version: this.version, value }
    return value
  }

  /** Sets which field the local user is editing (null when none). */
  setEditing(field: string | null): void {
    this.setLocalPresence(field)
  }

  /** Re-publishes the local presence (for example after the actor became known). */
  refreshPresence(): void {
    const state = this.provider.awareness.getLocalState()
    const editing = typeof state?.editing === 'string' ? state.editing : null
    this.setLocalPresence(editing)
  }

  connect(): void {
    this.maybeConnect()
  }

  disconnect(): void {
    this.dropped = false
    this.provider.disconnect()
    this.changed()
  }

  /**
   * Uses a new token from the next connection on. The first token also starts the replica (its
   * local copy and its connection): it may come from a later fetch than the one this replica
   * asked for, when that one failed.
   */
  setToken(token: string): void {
    // In the subprotocol header, never the URL: URLs end up in consoles and access logs.
    this.provider.protocols = tokenSubprotocols(token)
    const ws = this.provider.ws
    if (this.hasToken && this.provider.wsconnected && ws !== null) {
      // The open connection takes the new token at once instead of being closed at the old
      // one's expiry: no reconnect of every document when tokens are refreshed.
      ws.send(encodeTokenRefresh(token))
    }
    this.hasToken = true
    if (this.needsToken) {
      this.needsToken = false
      // The refused token stopped the connection for good; this one may be accepted.
      if (this.started) this.maybeConnect()
      this.changed()
    }
    if (this.started || this.destroyed || this.purged) return
    this.started = true
    if (this.lastError?.code === ErrorCodes.Unauthorized) this.lastError = null
    this.openLocal()
    this.refreshPresence()
    this.maybeConnect()
    this.changed()
  }

  /** Closes the connection and the local copy; resolves once IndexedDB is closed. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    if (this.closeTimer !== null) clearTimeout(this.closeTimer)
    this.provider.awareness.setLocalState(null)
    this.provider.destroy()
    this.undoManager.destroy()
    for (const { destroy } of this.attached.values()) destroy()
    this.attached.clear()
    const closing = this.persistence?.destroy()
    this.doc.destroy()
    this.changeListeners.clear()
    this.errorListeners.clear()
    this.destroyListeners.emit()
    this.destroyListeners.clear()
    await closing
  }

  private async start(): Promise<void> {
    let token: string
    try {
      token = await this.ctx.token()
    } catch (error) {
      this.needsToken = true
      this.fail(
        error instanceof CardfileError
          ? error
          : new CardfileError(ErrorCodes.Unauthorized, 'Could not get an access token'),
      )
      return
    }
    if (this.destroyed) return
    this.setToken(token)
  }

  /**
   * Connects when online with a token, once the local copy is loaded and its generation known:
   * the first connection must already say which store the copy came from, or a server with
   * another store could not refuse it before its content arrives.
   */
  private maybeConnect(): void {
    if (this.purged || this.destroyed || this.discarding || !this.localReady) return
    if (!this.ctx.online() || !this.hasToken) return
    this.provider.connect()
  }

  private openLocal(): void {
    if (!this.ctx.indexedDB || this.persistence !== null || this.destroyed || this.purged) return
    this.persistence = new IndexeddbPersistence(this.ctx.localName(this.name), this.doc)
    this.persistence.on('synced', this.onLocalLoaded)
  }

  private syncState(): SyncState {
    const p = this.provider
    if (this.purged || this.destroyed) return 'offline'
    if (!p.shouldConnect) {
      // Online but not connected yet because the first token or the local copy is still on its
      // way: that is the first attempt, not an outage.
      const waiting = !this.hasToken || !this.localReady || this.discarding
      return waiting && this.ctx.online() && !this.needsToken ? 'connecting' : 'offline'
    }
    if (p.synced) return 'synced'
    if (p.wsconnected) return 'syncing'
    // Before the first attempt (waiting for a token) or during it: connecting. Retrying after a
    // failure or a drop: offline, so a UI does not flicker "connecting" during backoff.
    return p.wsUnsuccessfulReconnects === 0 && !this.dropped ? 'connecting' : 'offline'
  }

  private installMessageHandlers(): void {
    const handlers = this.provider.messageHandlers
    handlers[MessageTypes.DurableAck] = (_encoder, decoder) => {
      const sv = Y.decodeStateVector(readDurableAck(decoder))
      if (this.durability.mergeCommitted(sv)) {
        this.saveCommitted()
        this.changed()
      }
    }
    handlers[MessageTypes.Refusal] = (_encoder, decoder) => {
      this.fail(refusalError(readRefusal(decoder, this.name)))
    }
    handlers[MessageTypes.Hello] = (_encoder, decoder) => {
      const { generation, features } = readHelloNotice(decoder)
      if (generation !== null) {
        this.ctx.learnGeneration(generation)
        if (this.generation === null) {
          this.setGeneration(generation)
          this.saveGeneration()
        } else if (this.generation !== generation) {
          // The socket closes for the discard: no list is subscribed on it.
          void this.discard(generation)
          return
        }
      }
      this.serverFeatures = features
      this.tellListSink()
    }
    handlers[MessageTypes.ListInvalidate] = (_encoder, decoder) => {
      this.listSink?.message(MessageTypes.ListInvalidate, decoder)
    }
    handlers[MessageTypes.ListState] = (_encoder, decoder) => {
      this.listSink?.message(MessageTypes.ListState, decoder)
    }
    handlers[MessageTypes.Purge] = (_encoder, decoder) => {
      const notice = readPurge(decoder, this.name)
      this.purge(notice.reason)
    }
  }

  private readonly onUpdate = (
    update: Uint8Array,
    origin: unknown,
    _doc: Y.Doc,
    tr: Y.Transaction,
  ): void => {
    if (origin === this.provider) {
      // What came from the server is committed there: remembered beside the local copy, or a
      // reload would count a document that was only read as all unsaved.
      if (this.durability.mergeRemoteUpdate(update)) this.scheduleSaveCommitted()
    } else if (tr.local && origin !== PURGE_ORIGIN) {
      const end = tr.afterState.get(this.doc.clientID) ?? 0
      if (end > (tr.beforeState.get(this.doc.clientID) ?? 0)) this.durability.recordLocal(end)
    }
    this.changed()
  }

  private readonly onProviderChange = (): void => {
    this.changed()
  }

  private readonly onConnectionChange = (event: { status: string }): void => {
    // A connection that closes while still wanted was dropped: what follows is a retry.
    if (event.status === 'disconnected' && this.provider.shouldConnect) this.dropped = true
    // Lists wait for the hello, which says whether the server takes subscriptions at all.
    if (event.status === 'disconnected') {
      this.serverFeatures = null
      this.listSink?.disconnected()
    }
    this.changed()
  }

  /**
   * Routes this connection's list messages to `sink` (null: nobody listens); a sink set once
   * the open socket's hello arrived hears at once whether the server pushes lists.
   */
  setListSink(sink: ListSink | null): void {
    this.listSink = sink
    this.tellListSink()
  }

  /** Tells the list sink what the open connection's hello said of live lists. */
  private tellListSink(): void {
    const sink = this.listSink
    if (sink === null || this.serverFeatures === null || !this.provider.wsconnected) return
    if (this.serverFeatures.includes(ServerFeatures.Lists)) sink.connected()
    else sink.unsupported()
  }

  /** Sends a Cardfile message on the open socket; false when it is not open. */
  sendMessage(message: Uint8Array): boolean {
    const ws = this.provider.ws
    if (ws === null || !this.provider.wsconnected) return false
    ws.send(message)
    return true
  }

  private readonly onSync = (synced: boolean): void => {
    // Losing sync while still wanting the connection (the socket closed under us) is a drop.
    if (!synced && this.provider.shouldConnect) this.dropped = true
    if (synced) {
      this.dropped = false
      this.source = 'server'
      this.tokenRetries = 0
      this.needsToken = false
    }
    this.changed()
  }

  private readonly onAwareness = (): void => {
    this.changed()
  }

  private readonly onLocalLoaded = (): void => {
    this.localLoaded = true
    // y-indexeddb says "synced" even for an empty database: only content counts as local data.
    if (this.source === 'none' && this.doc.store.clients.size > 0) this.source = 'local'
    void this.loadCommitted()
    if (this.persistence !== null) void this.readGeneration(this.persistence)
    this.changed()
  }

  private readonly onClosed = (event: { code: number; reason: string }): void => {
    if (event.code === CloseCodes.StaleGeneration.code) {
      // The hello before this close normally started the discard (and closed the socket first,
      // so this is not heard). Without a readable hello, drop the cache all the same.
      void this.discard(null)
      return
    }
    if (event.code === CloseCodes.Deleted.code) {
      this.purge(event.reason)
      return
    }
    if (event.code === CloseCodes.Unauthorized.code && event.reason === 'token-expired') {
      void this.reconnectWithFreshToken()
      return
    }
    const error = closeError(event.code, event.reason)
    // A refused token is refused again on every retry: say so instead of "reconnecting".
    if (event.code === CloseCodes.Unauthorized.code) this.needsToken = true
    if (error !== null) this.fail(error)
    this.changed()
  }

  private async reconnectWithFreshToken(): Promise<void> {
    this.tokenRetries++
    const token = this.tokenRetries <= MAX_TOKEN_RETRIES ? await this.ctx.refreshToken() : null
    if (this.destroyed || this.purged) return
    if (token === null) {
      this.needsToken = true
      this.fail(new CardfileError(ErrorCodes.TokenExpired, 'The access token expired'))
      this.changed()
      return
    }
    this.setToken(token)
    this.maybeConnect()
    this.changed()
  }

  private purge(reason: string): void {
    if (this.purged) return
    this.purged = true
    this.ctx.rememberPurge(this.name, reason)
    this.provider.disconnect()
    this.provider.awareness.setLocalState(null)
    void this.persistence?.clearData()
    this.undoManager.clear()
    // Drop the content from memory too; nothing is sent or stored any more.
    this.doc.transact(() => {
      for (const map of ROOT_MAPS[this.kind]) this.doc.getMap(map).clear()
    }, PURGE_ORIGIN)
    this.fail(new CardfileError(ErrorCodes.Deleted, reason || `${this.name} was deleted`))
    this.changed()
  }

  private fail(error: CardfileError): void {
    this.lastError = error
    this.errorListeners.emit(error)
    this.ctx.reportError(error, this.name)
    this.changed()
  }

  private changed(): void {
    if (this.destroyed) return
    this.version++
    this.changeListeners.emit()
    this.ctx.statusChanged()
  }

  private setLocalPresence(editing: string | null): void {
    if (this.purged || this.destroyed) return
    const actor = this.ctx.actor()
    if (actor === null) return
    this.provider.awareness.setLocalState({
      userId: actor.userId,
      name: actor.name ?? actor.userId,
      role: actor.role,
      viewing: this.name,
      editing,
    })
  }

  private popStack(kind: 'undo' | 'redo'): boolean {
    const um = this.undoManager
    if ((kind === 'undo' ? um.undoStack : um.redoStack).length === 0 || this.purged) return false
    let done = false
    const flag = kind === 'undo' ? 'undoing' : 'redoing'
    // Undo restores earlier values, whose provenance may name another user; the server refuses
    // a value stamped with someone else's name. So the restored values are re-stamped with the
    // local actor inside the same transaction. The outer transaction carries the undo manager's
    // origin and its undoing/redoing flag, so it lands on the opposite stack as Yjs intends.
    this.doc.transact((tr) => {
      done = (kind === 'undo' ? um.undo() : um.redo()) !== null
      if (done) this.restamp(tr)
      um[flag] = true
    }, um)
    um[flag] = false
    return done
  }

  private restamp(tr: Y.Transaction): void {
    const actor = this.ctx.actor()
    if (actor === null || this.kind !== 'contact') return
    const now = Date.now()
    for (const mapName of ['custom', 'flags'] as const) {
      const map = this.doc.getMap(mapName)
      const keys = [...tr.changed].find(([type]) => (type as unknown) === map)?.[1]
      if (keys === undefined) continue
      for (const key of keys) {
        if (key === null) continue
        const value: unknown = map.get(key)
        if (!isFieldValueLike(value)) continue
        if (value.by.userId === actor.userId && value.by.role === actor.role) continue
        map.set(key, {
          value: value.value,
          by: { role: actor.role, userId: actor.userId, at: now },
        })
      }
    }
  }

  /** Reads the generation the local copy belongs to; then the replica may connect. */
  private async readGeneration(persistence: IndexeddbPersistence): Promise<void> {
    let stamp: unknown = null
    try {
      stamp = await persistence.get(GENERATION_KEY)
    } catch {
      stamp = null
    }
    if (this.destroyed || persistence !== this.persistence) return
    if (typeof stamp === 'string' && stamp !== '') {
      this.setGeneration(stamp)
      // After a reload offline, the first copy read tells documents created meanwhile.
      if (this.ctx.knownGeneration() === null) this.ctx.learnGeneration(stamp)
    } else if (this.generation === null) {
      // A copy without a stamp is new (or older than stamps): whatever is written into it
      // before its first hello, offline for instance, belongs to the store the client knows of.
      const known = this.ctx.knownGeneration()
      if (known !== null) this.setGeneration(known)
    }
    this.saveGeneration()
    this.localReady = true
    this.maybeConnect()
    this.changed()
  }

  private setGeneration(generation: string | null): void {
    this.generation = generation
    // Every later connection names the store the local state came from, so that a server with
    // another store refuses it (close 4409) before applying anything it sends.
    const params = Object.fromEntries(
      Object.entries(this.provider.params).filter(([key]) => key !== 'generation'),
    )
    this.provider.params = generation === null ? params : { ...params, generation }
  }

  private saveGeneration(): void {
    if (this.persistence === null || this.generation === null || this.purged) return
    if (this.destroyed) return
    void this.persistence.set(GENERATION_KEY, this.generation).catch(() => undefined)
  }

  /**
   * Drops a local copy that belongs to another store generation: the server's database was
   * recreated, or this is another server. None of it may reach the server, pending edits
   * included, so the connection goes first; then the copy in IndexedDB, the in-memory state
   * and the undo history; then the document is opened afresh and synced from the server.
   */
  private async discard(generation: string | null): Promise<void> {
    if (this.discarding || this.destroyed || this.purged) return
    this.discarding = true
    this.provider.disconnect()
    const local = this.persistence
    this.persistence = null
    local?.off('synced', this.onLocalLoaded)
    // Detaches its update listener at once, so emptying the doc below is not stored.
    const closing = local?.destroy()
    this.undoManager.clear()
    resetDoc(this.doc, ROOT_MAPS[this.kind], DISCARD_ORIGIN)
    // y-websocket announces presence under the doc's client id: move the local state to the
    // new one (nothing is connected, so the old id's removal goes nowhere).
    const awareness = this.provider.awareness
    const presence = awareness.getLocalState()
    awareness.setLocalState(null)
    awareness.clientID = this.doc.clientID
    awareness.setLocalState(presence)
    this.durability.reset()
    this.source = 'none'
    this.localLoaded = !this.ctx.indexedDB
    this.localReady = !this.ctx.indexedDB
    this.setGeneration(generation)
    this.fail(
      new CardfileError(
        ErrorCodes.CacheDiscarded,
        `The local copy of ${this.name} came from another server database; it was dropped and is loaded afresh`,
      ),
    )
    try {
      await closing
      if (local !== undefined && local !== null) await deleteDB(local.name)
    } catch {
      // A copy that cannot be deleted is still never read again: the fresh one replaces it.
    }
    this.discarding = false
    if (this.destroyed || this.purged) return
    this.openLocal()
    this.maybeConnect()
    this.changed()
  }

  /** Saves the committed vector once for a burst of remote updates. */
  private scheduleSaveCommitted(): void {
    if (this.commitSaveQueued) return
    this.commitSaveQueued = true
    queueMicrotask(() => {
      this.commitSaveQueued = false
      this.saveCommitted()
    })
  }

  private saveCommitted(): void {
    if (this.persistence === null || this.purged || this.destroyed) return
    void this.persistence
      .set(COMMITTED_KEY, JSON.stringify(this.durability.committedEntries()))
      .catch(() => undefined)
  }

  private async loadCommitted(): Promise<void> {
    if (this.persistence === null) return
    try {
      const raw: unknown = await this.persistence.get(COMMITTED_KEY)
      if (typeof raw !== 'string' || this.destroyed) return
      const entries: unknown = JSON.parse(raw)
      if (!Array.isArray(entries)) return
      const sv = new Map<number, number>()
      for (const entry of entries) {
        if (Array.isArray(entry) && typeof entry[0] === 'number' && typeof entry[1] === 'number') {
          sv.set(entry[0], entry[1])
        }
      }
      if (this.durability.mergeCommitted(sv)) this.changed()
    } catch {
      // a missing or unreadable record only means we cannot tell what was saved before
    }
  }
}
