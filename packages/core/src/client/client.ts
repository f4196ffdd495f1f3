import { ContactDoc } from '../contact-doc'
import { ConversationDoc } from '../conversation-doc'
import {
  contactDocName,
  conversationDocName,
  parseDocName,
  schemaDocName,
} from '../document-layout'
import type { DocKind } from '../document-layout'
import { CardfileError, ErrorCodes } from '../errors'
import { SchemaDoc } from '../schema-doc'
import type { Actor, Role } from '../types'
import { DocumentReplica } from './document-replica'
import type { ReplicaContext, WebSocketConstructor } from './document-replica'
import type { ContactHandle, ConversationHandle, DocHandle, SchemaHandle } from './handles'
import { apiJson, httpUrlOf } from './http-api'
import { ReplicaListChannel } from './list-channel'
import { MuxTransport } from './mux-transport'
import { ListStore } from './list-store'
import type { VisibilitySource } from './list-store'
import type { ApiEndpoint } from './http-api'
import { Listeners } from './listeners'
import { isLoaded, loadFailure } from './load'
import { RECENT_ERRORS } from './inspection'
import type { ClientInspection, RecentError } from './inspection'
import { aggregateConnection, aggregateStatus, connectionEvent } from './status'
import type { ClientStatus, ConnectionEvent, ConnectionStatus } from './status'
import { decodeTokenClaims, refreshDelay } from './token'
import type { TokenClaims } from './token'

/** Options of {@link createCardfileClient}. */
export interface CardfileClientOptions {
  /** The server's websocket URL, for example `wss://cardfile.example.com`. */
  readonly url: string
  /** The workspace every document of this client belongs to. */
  readonly workspace: string
  /** A fixed access token (JWT). Give `getToken` instead to refresh tokens before they expire. */
  readonly token?: string
  /** Fetches an access token; called at start, before expiry and when the server says expired. */
  readonly getToken?: () => string | Promise<string>
  /** WebSocket constructor; defaults to the global one (pass `ws` in Node). */
  readonly WebSocket?: WebSocketConstructor
  /**
   * Carry every document over one websocket when the server supports it (default true); a
   * server that does not is detected on the first connection, and documents then use one
   * socket each. False: always one socket per document.
   */
  readonly multiplex?: boolean
  /** Keep a copy of every document in IndexedDB (default: when `indexedDB` exists). */
  readonly indexedDB?: boolean
  /** Prefix of the IndexedDB database names (default `cardfile`). */
  readonly localPrefix?: string
  /** Who the client acts as; by default read from the token's `sub`, `name` and `role`. */
  readonly userId?: string
  readonly name?: string
  readonly role?: Role
  /** Ask before a browser tab with unsaved changes closes (default false). */
  readonly onBeforeUnload?: boolean
  /** How long a released document stays open for a quick re-open, in ms (default 200). */
  readonly keepAliveMs?: number
  /** Changes of one user within this many ms form one undo step (default 500). */
  readonly undoCaptureMs?: number
  /** Connect at once (default true); otherwise call `client.connect()`. */
  readonly connect?: boolean
  /**
   * How often a shown list is fetched again while the server cannot push its changes (a lost
   * connection, a server without live lists), in ms (default 120000; 0: never). With push,
   * lists are fetched only when they change.
   */
  readonly listPollMs?: number
  /** Page visibility for the list store (default: the document's `visibilityState`). */
  readonly visibility?: VisibilitySource
}

/** Something to call with an error and the document it is about. */
export type ErrorListener = (error: CardfileError, docName: string) => void

/** A shared request (see `sharedRequest`) whose outcome can be read synchronously. */
export interface SharedRequest<T> {
  readonly promise: Promise<T>
  readonly status: 'pending' | 'fulfilled' | 'rejected'
  /** The result, once fulfilled. */
  readonly value: T | undefined
  /** The reason, once rejected. */
  readonly error: unknown
}

/** Something to call when a connection is lost, restored, or its token refused. */
export type ConnectionListener = (event: ConnectionEvent) => void

/**
 * Local-first access to a Cardfile workspace: opens documents by name (reference-counted),
 * keeps each in IndexedDB, syncs it with the server and reports status, durability, refusals,
 * presence and undo. Framework-free; `@cardfile/react` builds its hooks on it.
 */
export interface CardfileClient {
  readonly workspace: string
  /** Who the client acts as, or null until a token says so. */
  actor(): Actor | null
  /** Opens a document by name (`<workspace>/schema`, `<workspace>/contact/<id>` ...). */
  open(name: string): DocHandle
  /** Opens the workspace schema. */
  schema(): SchemaHandle
  /** Opens a contact (and the schema it is read against). */
  contact(id: string): ContactHandle
  /** Opens a conversation. */
  conversation(id: string): ConversationHandle
  /** A borrowed handle on a document that is already open, or null; never opens anything. */
  peek(name: string): DocHandle | null
  peekSchema(): SchemaHandle | null
  peekContact(id: string): ContactHandle | null
  /**
   * Opens a document and resolves once it has something to show (the device's copy or the
   * server's state; a contact with its schema). Rejects with a CardfileError when it cannot
   * load on its own (deleted, token refused, forbidden). While it loads every call returns the
   * same promise, so Suspense can throw it; the document is then held open for a few seconds,
   * so the component that suspended finds it loaded when it renders again.
   *
   * @example
   * await client.preload('demo/contact/c1')
   * const contact = client.peekContact('c1') // open and loaded
   */
  preload(name: string): Promise<void>
  /**
   * Runs `load` once for `key` and shares it: every call while it is pending, and for a few
   * seconds after it settled, returns the same request, whose outcome can be read without
   * awaiting. This is what Suspense needs: throw `promise` while pending, read `value` on the
   * next render. The list hooks' `suspense` option uses it for their first page.
   *
   * @example
   * const first = client.sharedRequest('/groups/vip', () => apiJson(client, url))
   * if (first.status === 'pending') throw first.promise
   */
  sharedRequest<T>(key: string, load: () => Promise<T>): SharedRequest<T>
  /** Names of the open documents. */
  openDocuments(): string[]
  /**
   * A read-only report of the client: open documents with their load source, pending and
   * acknowledged changes, handles, presence and last error; recent errors; live lists; whether
   * documents share one socket (`transport`). For
   * devtools and debugging: it builds a fresh copy on every call.
   *
   * @example
   * console.table(client.inspect().documents.map((d) => ({ name: d.name, ...d.status })))
   */
  inspect(): ClientInspection
  /**
   * Records that a live list of the HTTP API (`path` under `/api/<workspace>`) is on screen,
   * so `inspect()` can report it; returns the function that forgets it. The list hooks call
   * it; apps rarely need to.
   *
   * @example
   * const forget = client.trackList('/groups/vip')
   * // ... when the list leaves the screen:
   * forget()
   */
  trackList(path: string): () => void
  /** The worst connection state over open documents and the sum of their pending changes. */
  status(): ClientStatus
  /**
   * The connection as a status line should show it: `idle` when nothing is open (never
   * `synced`), `needs-token` when the server refused the token, `reconnecting` after a drop.
   * A string, so it can be compared and used as a snapshot as is.
   *
   * @example
   * client.subscribe(() => {
   *   if (client.connectionStatus() === 'needs-token') showSignIn()
   * })
   */
  connectionStatus(): ConnectionStatus
  /**
   * Listens to connection events: `lost` (a live connection dropped), `restored` (synced again
   * after a loss) and `needs-token` (the token was refused). Returns the unsubscribe function.
   *
   * @example
   * client.onConnectionEvent((event) => {
   *   if (event === 'lost') toast('Connection lost: your edits are kept on this device')
   *   if (event === 'needs-token') void client.refreshToken()
   * })
   */
  onConnectionEvent(listener: ConnectionListener): () => void
  /** Listens to client-level changes: overall status, actor, documents opened or closed. */
  subscribe(listener: () => void): () => void
  /** Listens to every error of every document (refusals, closes, purges). */
  onError(listener: ErrorListener): () => void
  /** Goes online: connects every open document (and those opened later). */
  connect(): void
  /** Goes offline: disconnects every document; edits keep being made and stored locally. */
  disconnect(): void
  /** Fetches a fresh token now (with `getToken`); the next connections use it. */
  refreshToken(): Promise<string | null>
  /**
   * The server's HTTP API beside the websocket (same host, `http(s):`) and the current token,
   * for `apiFetch` and the hooks built on it (deletion, audit log, exports, lists).
   */
  apiEndpoint(): ApiEndpoint
  /**
   * The client's store of server lists (queues, groups, histories, job progress): one cache
   * per query shared by every observer, kept live by the server's push over the schema
   * document's connection, polled only while push is unavailable (`listPollMs`). The list
   * hooks of `@cardfile/react` read it.
   *
   * @example
   * const lists = client.lists()
   * const stop = lists.observe({ kind: 'vip' }, 50, () => console.log(lists.state({ kind: 'vip' }, 50)))
   */
  lists(): ListStore
  /** Closes every document and socket; resolves once local copies are flushed and closed. */
  destroy(): Promise<void>
}

/**
 * Creates a Cardfile client.
 *
 * @example
 * const client = createCardfileClient({
 *   url: 'wss://cardfile.example.com',
 *   workspace: 'demo',
 *   getToken: () => fetch('/api/cardfile-token').then((r) => r.text()),
 * })
 * const contact = client.contact('c1')
 * contact.subscribe(() => render(contact.read()))
 * contact.setValue('plan', 'gold')
 * contact.release()
 */
export function createCardfileClient(options: CardfileClientOptions): CardfileClient {
  return new Client(options)
}

/** How long `preload` holds a loaded document open for the render that waited for it. */
const PRELOAD_HOLD_MS = 5000

class Client implements CardfileClient {
  readonly workspace: string
  private readonly replicas = new Map<string, DocumentReplica>()
  private readonly listeners = new Listeners<[]>()
  private readonly errorListeners = new Listeners<[CardfileError, string]>()
  private readonly connectionListeners = new Listeners<[ConnectionEvent]>()
  private readonly destroyListeners = new Listeners<[]>()
  /** Timers that end the holds of `preload` and `sharedRequest`. */
  private readonly holds = new Set<ReturnType<typeof setTimeout>>()
  /** The connection status the listeners last heard, and whether a loss is unresolved. */
  private lastConnection: ConnectionStatus = 'idle'
  private connectionLost = false
  private readonly ctx: ReplicaContext
  /** The shared socket of every document (null when `multiplex` is false). */
  private readonly transport: MuxTransport | null
  private readonly keepAliveMs: number
  private online: boolean
  private currentToken: string | null = null
  private claims: TokenClaims | null = null
  private tokenRequest: Promise<string> | null = null
  private refreshTimer: ReturnType<typeof setTimeout> | null = null
  private actorCache: Actor | null = null
  private statusCache: ClientStatus | null = null
  private destroyed = false
  private listStore: ListStore | null = null
  private readonly beforeUnload: ((event: BeforeUnloadEvent) => void) | null = null
  /** The store generation the server named last (see PROTOCOL.md, "103 hello"). */
  private generation: string | null = null
  /** The latest errors, newest first. */
  private recentErrors: RecentError[] = []
  /** Live lists on screen, by path, with their subscriber counts. */
  private readonly trackedLists = new Map<string, number>()
  /** Requests under way or just settled, by key (see `sharedRequest`). */
  private readonly requests = new Map<string, SharedRequest<unknown>>()
  /** Loads under way or just settled, by document name (see `preload`). */
  private readonly preloads = new Map<string, Promise<void>>()
  /** Documents purged during this client's life, with the reason the server gave. */
  private readonly purged = new Map<string, string>()

  constructor(private readonly options: CardfileClientOptions) {
    this.workspace = options.workspace
    this.keepAliveMs = options.keepAliveMs ?? 200
    this.online = options.connect ?? true
    const WS = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined)
    if (WS === undefined) {
      throw new CardfileError(
        ErrorCodes.BadRequest,
        'No WebSocket available: pass the `WebSocket` option (for example `ws` in Node)',
      )
    }
    if (options.token === undefined && options.getToken === undefined) {
      throw new CardfileError(ErrorCodes.Unauthorized, 'Give a `token` or a `getToken` function')
    }
    const prefix = options.localPrefix ?? 'cardfile'
    this.transport =
      options.multiplex === false ? null : new MuxTransport(options.url, options.workspace, WS)
    this.ctx = {
      url: options.url,
      // Every document's provider opens its "socket" through the transport: a channel on the
      // client's one socket, or a socket of its own when the server cannot multiplex.
      WebSocket: this.transport?.WebSocket ?? WS,
      indexedDB: options.indexedDB ?? typeof indexedDB !== 'undefined',
      // Scoped by user: another user's unsaved edits must never be sent under this user's token.
      localName: (docName) => `${prefix}:${this.actor()?.userId ?? '-'}:${docName}`,
      token: () => this.token(),
      refreshToken: () => this.refreshToken(),
      actor: () => this.actor(),
      online: () => this.online,
      origin: this,
      undoCaptureMs: options.undoCaptureMs ?? 500,
      reportError: (error, docName) => {
        this.recentErrors = [{ docName, error, at: Date.now() }, ...this.recentErrors].slice(
          0,
          RECENT_ERRORS,
        )
        this.errorListeners.emit(error, docName)
      },
      statusChanged: () => this.changed(),
      purgedReason: (docName) => this.purged.get(docName) ?? null,
      rememberPurge: (docName, reason) => {
        this.purged.set(docName, reason)
      },
      knownGeneration: () => this.generation,
      learnGeneration: (generation) => {
        this.generation = generation
      },
    }
    if (options.token !== undefined) this.useToken(options.token)
    else void this.token().catch(() => undefined)
    if (options.onBeforeUnload && typeof window !== 'undefined') {
      this.beforeUnload = (event) => {
        if (this.status().pending === 0) return
        event.preventDefault()
        // Older browsers show the prompt only when returnValue is set.
        event.returnValue = ''
      }
      window.addEventListener('beforeunload', this.beforeUnload)
    }
  }

  actor(): Actor | null {
    const claims = this.claims
    const userId = this.options.userId ?? claims?.userId
    const role = this.options.role ?? claims?.role
    if (userId === undefined || role === undefined) return null
    const name = this.options.name ?? claims?.name
    const a = this.actorCache
    if (a !== null && a.userId === userId && a.role === role && a.name === name) return a
    this.actorCache = Object.freeze({ userId, role, ...(name !== undefined ? { name } : {}) })
    return this.actorCache
  }

  open(name: string): DocHandle {
    return this.acquire(name, this.kindOf(name))
  }

  schema(): SchemaHandle {
    const replica = this.acquireReplica(schemaDocName(this.workspace), 'schema')
    return this.schemaHandle(replica, false)
  }

  contact(id: string): ContactHandle {
    const name = contactDocName(this.workspace, id)
    this.kindOf(name)
    const schema = this.schema()
    const replica = this.acquireReplica(name, 'contact')
    return this.contactHandle(replica, id, schema, false)
  }

  conversation(id: string): ConversationHandle {
    const name = conversationDocName(this.workspace, id)
    this.kindOf(name)
    const replica = this.acquireReplica(name, 'conversation')
    return this.conversationHandle(replica, id, false)
  }

  peek(name: string): DocHandle | null {
    const replica = this.replicas.get(name)
    if (replica === undefined) return null
    return replica.attach('borrowed', () => this.baseHandle(replica, true))
  }

  peekSchema(): SchemaHandle | null {
    const replica = this.replicas.get(schemaDocName(this.workspace))
    if (replica === undefined) return null
    return replica.attach('borrowed-schema', () => this.schemaHandle(replica, true))
  }

  peekContact(id: string): ContactHandle | null {
    const replica = this.replicas.get(contactDocName(this.workspace, id))
    const schema = this.peekSchema()
    if (replica === undefined || schema === null) return null
    return replica.attach('borrowed-contact', () => this.contactHandle(replica, id, schema, true))
  }

  preload(name: string): Promise<void> {
    const existing = this.preloads.get(name)
    if (existing !== undefined) return existing
    const handle = this.open(name)
    const promise = new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        const failure = loadFailure(handle)
        if (failure !== null) reject(failure)
        else if (isLoaded(handle)) resolve()
        else return false
        return true
      }
      if (check()) return
      const offDestroy = this.onClientDestroyed(() => {
        off()
        reject(new CardfileError(ErrorCodes.BadRequest, 'The client is destroyed'))
      })
      const off = this.subscribe(() => {
        if (!check()) return
        off()
        offDestroy()
      })
    })
    this.preloads.set(name, promise)
    const settle = (): void => {
      if (this.destroyed) return
      // Held open long enough for a suspended render to retry and subscribe on its own.
      const timer = setTimeout(() => {
        this.holds.delete(timer)
        if (this.preloads.get(name) === promise) this.preloads.delete(name)
        handle.release()
      }, PRELOAD_HOLD_MS)
      this.holds.add(timer)
    }
    promise.then(settle, settle)
    return promise
  }

  sharedRequest<T>(key: string, load: () => Promise<T>): SharedRequest<T> {
    const existing = this.requests.get(key)
    if (existing !== undefined) return existing as SharedRequest<T>
    const promise = Promise.resolve().then(load)
    const request: { -readonly [K in keyof SharedRequest<T>]: SharedRequest<T>[K] } = {
      promise,
      status: 'pending',
      value: undefined,
      error: undefined,
    }
    const forget = (): void => {
      if (this.destroyed) return
      // Kept a little while, so the render that waited reads the outcome, then dropped: the
      // next mount fetches afresh.
      const timer = setTimeout(() => {
        this.holds.delete(timer)
        if (this.requests.get(key) === request) this.requests.delete(key)
      }, PRELOAD_HOLD_MS)
      this.holds.add(timer)
    }
    promise.then(
      (value) => {
        request.status = 'fulfilled'
        request.value = value
        forget()
      },
      (error: unknown) => {
        request.status = 'rejected'
        request.error = error
        forget()
      },
    )
    this.requests.set(key, request)
    return request
  }

  openDocuments(): string[] {
    return [...this.replicas.keys()]
  }

  inspect(): ClientInspection {
    return {
      workspace: this.workspace,
      actor: this.actor(),
      connection: this.connectionStatus(),
      transport: this.transport?.mode() ?? 'per-document',
      documents: [...this.replicas.values()].map((r) => ({
        name: r.name,
        kind: r.kind,
        status: r.status(),
        acknowledged: r.acknowledged(),
        handles: r.refs,
        presence: r.presence(),
        error: r.error(),
      })),
      recentErrors: [...this.recentErrors],
      lists: [...this.trackedLists].map(([path, subscribers]) => ({ path, subscribers })),
    }
  }

  trackList(path: string): () => void {
    this.trackedLists.set(path, (this.trackedLists.get(path) ?? 0) + 1)
    this.changed()
    let tracked = true
    return () => {
      if (!tracked) return
      tracked = false
      const left = (this.trackedLists.get(path) ?? 1) - 1
      if (left > 0) this.trackedLists.set(path, left)
      else this.trackedLists.delete(path)
      this.changed()
    }
  }

  status(): ClientStatus {
    const next = aggregateStatus(
      [...this.replicas.values()].map((r) => r.status()),
      this.online,
    )
    const prev = this.statusCache
    if (
      prev !== null &&
      prev.status === next.status &&
      prev.pending === next.pending &&
      prev.documents === next.documents
    ) {
      return prev
    }
    this.statusCache = next
    return next
  }

  connectionStatus(): ConnectionStatus {
    return aggregateConnection(
      [...this.replicas.values()].map((r) => r.status()),
      this.online,
    )
  }

  onConnectionEvent(listener: ConnectionListener): () => void {
    return this.connectionListeners.add(listener)
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.add(listener)
  }

  onError(listener: ErrorListener): () => void {
    return this.errorListeners.add(listener)
  }

  connect(): void {
    this.online = true
    for (const replica of this.replicas.values()) replica.connect()
    this.changed()
  }

  disconnect(): void {
    this.online = false
    for (const replica of this.replicas.values()) replica.disconnect()
    this.changed()
  }

  async refreshToken(): Promise<string | null> {
    if (this.options.getToken === undefined || this.destroyed) return null
    try {
      return await this.fetchToken()
    } catch {
      return null
    }
  }

  lists(): ListStore {
    if (this.listStore !== null) return this.listStore
    const channel = new ReplicaListChannel(
      () => this.acquireReplica(schemaDocName(this.workspace), 'schema'),
      (replica) => this.release(replica),
    )
    this.listStore = new ListStore({
      workspace: this.workspace,
      fetch: (path) => apiJson(this, path),
      channel,
      ...(this.options.listPollMs === undefined ? {} : { pollMs: this.options.listPollMs }),
      ...(this.options.visibility === undefined ? {} : { visibility: this.options.visibility }),
    })
    return this.listStore
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    this.listStore?.destroy()
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer)
    for (const timer of this.holds) clearTimeout(timer)
    this.holds.clear()
    this.preloads.clear()
    this.requests.clear()
    this.destroyListeners.emit()
    this.destroyListeners.clear()
    if (this.beforeUnload !== null) window.removeEventListener('beforeunload', this.beforeUnload)
    const replicas = [...this.replicas.values()]
    this.replicas.clear()
    await Promise.all(replicas.map((r) => r.destroy()))
    this.changed()
    this.listeners.clear()
    this.errorListeners.clear()
    this.connectionListeners.clear()
  }

  apiEndpoint(): ApiEndpoint {
    return { url: httpUrlOf(this.options.url), token: () => this.token() }
  }

  private onClientDestroyed(listener: () => void): () => void {
    return this.destroyListeners.add(listener)
  }

  // --- tokens -------------------------------------------------------------------------------

  private token(): Promise<string> {
    if (this.currentToken !== null) return Promise.resolve(this.currentToken)
    return this.fetchToken()
  }

  private fetchToken(): Promise<string> {
    const getToken = this.options.getToken
    if (getToken === undefined) {
      return Promise.reject(new CardfileError(ErrorCodes.Unauthorized, 'No token'))
    }
    // One request at a time: every document waiting for a token shares it.
    this.tokenRequest ??= Promise.resolve()
      .then(getToken)
      .then((token) => {
        this.useToken(token)
        return token
      })
      .finally(() => {
        this.tokenRequest = null
      })
    return this.tokenRequest
  }

  private useToken(token: string): void {
    if (this.destroyed) return
    this.currentToken = token
    this.claims = decodeTokenClaims(token)
    for (const replica of this.replicas.values()) {
      replica.setToken(token)
      replica.refreshPresence()
    }
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer)
    this.refreshTimer = null
    const expiresAt = this.claims?.expiresAt
    if (this.options.getToken !== undefined && expiresAt !== undefined) {
      this.refreshTimer = setTimeout(
        () => {
          this.refreshTimer = null
          void this.refreshToken()
        },
        refreshDelay(expiresAt, Date.now()),
      )
    }
    this.changed()
  }

  // --- replicas -----------------------------------------------------------------------------

  private kindOf(name: string): DocKind {
    const parsed = parseDocName(name)
    if (parsed === null) {
      throw new CardfileError(ErrorCodes.BadRequest, `"${name}" is not a Cardfile document name`)
    }
    if (parsed.workspace !== this.workspace) {
      throw new CardfileError(
        ErrorCodes.WrongWorkspace,
        `"${name}" is not in workspace "${this.workspace}"`,
      )
    }
    return parsed.kind
  }

  private acquire(name: string, kind: DocKind): DocHandle {
    if (kind === 'schema') return this.schema()
    const parsed = parseDocName(name)
    if (parsed !== null && parsed.kind === 'contact') return this.contact(parsed.id)
    if (parsed !== null && parsed.kind === 'conversation') return this.conversation(parsed.id)
    return this.baseHandle(this.acquireReplica(name, kind), false)
  }

  private acquireReplica(name: string, kind: DocKind): DocumentReplica {
    if (this.destroyed) throw new CardfileError(ErrorCodes.BadRequest, 'The client is destroyed')
    let replica = this.replicas.get(name)
    if (replica === undefined) {
      replica = new DocumentReplica(name, kind, this.ctx)
      this.replicas.set(name, replica)
      this.changed()
    }
    if (replica.closeTimer !== null) {
      clearTimeout(replica.closeTimer)
      replica.closeTimer = null
    }
    replica.refs++
    return replica
  }

  private release(replica: DocumentReplica): void {
    replica.refs--
    if (replica.refs > 0 || this.replicas.get(replica.name) !== replica) return
    replica.closeTimer = setTimeout(() => {
      replica.closeTimer = null
      if (replica.refs > 0 || this.replicas.get(replica.name) !== replica) return
      this.replicas.delete(replica.name)
      void replica.destroy()
      this.changed()
    }, this.keepAliveMs)
  }

  private changed(): void {
    if (!this.destroyed) {
      const next = this.connectionStatus()
      const event = connectionEvent(this.lastConnection, next, this.connectionLost)
      this.lastConnection = next
      if (event === 'lost') this.connectionLost = true
      if (event === 'restored' || next === 'offline') this.connectionLost = false
      if (event !== null) this.connectionListeners.emit(event)
    }
    this.listeners.emit()
  }

  // --- handles ------------------------------------------------------------------------------

  private baseHandle(replica: DocumentReplica, borrowed: boolean): DocHandle {
    let released = false
    return {
      name: replica.name,
      kind: replica.kind,
      doc: replica.doc,
      status: () => replica.status(),
      error: () => replica.error(),
      version: () => replica.version,
      subscribe: (listener) => replica.subscribe(listener),
      onError: (listener) => replica.onError(listener),
      transact: (fn) => replica.transact(fn),
      undo: () => replica.undo(),
      redo: () => replica.redo(),
      canUndo: () => replica.canUndo(),
      canRedo: () => replica.canRedo(),
      presence: () => replica.presence(),
      setEditing: (field) => replica.setEditing(field),
      whenSynced: () => whenSynced(replica),
      release: () => {
        if (borrowed || released) return
        released = true
        this.release(replica)
      },
    }
  }

  private schemaHandle(replica: DocumentReplica, borrowed: boolean): SchemaHandle {
    const schema = replica.attach(
      'schema',
      () => new SchemaDoc(replica.doc, { origin: this }),
      (s) => s.destroy(),
    )
    return { ...this.baseHandle(replica, borrowed), kind: 'schema', schema }
  }

  private contactHandle(
    replica: DocumentReplica,
    contactId: string,
    schemaHandle: SchemaHandle,
    borrowed: boolean,
  ): ContactHandle {
    const contact = replica.attach(
      'contact',
      () => new ContactDoc(replica.doc, contactId, { origin: this }),
      (c) => c.destroy(),
    )
    const base = this.baseHandle(replica, borrowed)
    const write = (fn: (actor: Actor) => void): void => {
      const actor = this.actor()
      try {
        if (actor === null) {
          throw new CardfileError(ErrorCodes.Unauthorized, 'Not signed in yet (no token)')
        }
        replica.transact(() => fn(actor))
        replica.clearError()
      } catch (error) {
        if (error instanceof CardfileError) replica.report(error)
        throw error
      }
    }
    return {
      ...base,
      kind: 'contact',
      contactId,
      contact,
      schemaHandle,
      read: () => contact.read(),
      setValue: (attributeId, value) =>
        write((actor) => contact.setValue(attributeId, value, actor, schemaHandle.schema.view())),
      setVip: (vip) => write((actor) => contact.setVip(vip, actor, schemaHandle.schema.view())),
      release: () => {
        base.release()
        schemaHandle.release()
      },
    }
  }

  private conversationHandle(
    replica: DocumentReplica,
    conversationId: string,
    borrowed: boolean,
  ): ConversationHandle {
    const conversation = replica.attach(
      'conversation',
      () => new ConversationDoc(replica.doc, conversationId, { origin: this }),
      (c) => c.destroy(),
    )
    return {
      ...this.baseHandle(replica, borrowed),
      kind: 'conversation',
      conversationId,
      conversation,
    }
  }
}

function whenSynced(replica: DocumentReplica): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = (): CardfileError =>
      new CardfileError(ErrorCodes.BadRequest, `${replica.name} was closed before it synced`)
    if (replica.isDestroyed()) {
      reject(closed())
      return
    }
    const check = (): boolean => {
      const s = replica.status()
      if (s.status === 'synced') {
        resolve()
        return true
      }
      if (s.purged) {
        reject(replica.error() ?? new CardfileError(ErrorCodes.Deleted, 'Deleted'))
        return true
      }
      return false
    }
    if (check()) return
    // Closed before syncing (released, or the client destroyed): settle instead of hanging.
    const offDestroy = replica.onDestroy(() => {
      off()
      reject(closed())
    })
    const off = replica.subscribe(() => {
      if (!check()) return
      off()
      offDestroy()
    })
  })
}
