import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import {
  CARDFILE_SUBPROTOCOL,
  CardfileError,
  CloseCodes,
  ErrorCodes,
  MessageTypes,
  SchemaDoc,
  capabilities,
  ServerFeatures,
  encodeHello,
  encodePermissionDenied,
  encodePurge,
  parseDocName,
  parseMuxPath,
  schemaDocName,
  tokenFromSubprotocols,
} from '@cardfile/core'
import * as decoding from 'lib0/decoding'
import { WebSocket, WebSocketServer } from 'ws'
import type { RawData } from 'ws'
import { attributeTypeRoutes } from './attributes/attribute-type-routes'
import { createAuthenticator, tokenExpiry } from './auth/authenticate'
import type { AuthOptions, AuthenticatedActor } from './auth/authenticate'
import type { DocumentHost } from './document-host'
import { isCrmExtension } from './crm/crm-extension'
import { createLocalCache } from './coordination/cache'
import type { CrmOptions, CrmService } from './crm/crm-service'
import { createLocalCoordination } from './coordination/coordination'
import type { Coordination } from './coordination/coordination'
import type { HttpContext, HttpRequestHandler } from './http/http-context'
import { bearerAuth } from './http/route-auth'
import { createOriginPolicy, handleCors } from './http/origins'
import type { OriginOptions } from './http/origins'
import { REQUEST_ID_HEADER, requestIdFor } from './http/request-id'
import { contextualLogger, createLogScope } from './logging/log-context'
import { closeFramesSent } from './sync/close-frames'
import { loggableUrl, withoutSecret } from './logging/redact'
import { createServerMetrics } from './metrics'
import type { ServerMetrics } from './metrics'
import { startProcessMetrics } from './process-metrics'
import type { BotHandoffOptions } from './routing/bot-handoff'
import type { RouteHook, ScoringOptions } from './routing/priority'
import { jobListAccess, jobReaders, jobRoutes } from './jobs/job-routes'
import type { LinkingOptions } from './linking/linking-extension'
import type { DeletionOptions } from './deletion/deletion-extension'
import type { Backend } from './backend'
import { startEventPump } from './events/event-consumers'
import type { EventConsumer, EventPump } from './events/event-consumers'
import type { DomainEventType } from './events/domain-event'
import { cardfileExtensions } from './extensions/cardfile-extensions'
import type { WebhooksOptions } from './webhooks/webhooks-extension'
import type { ImportsOptions } from './imports/imports-extension'
import type { ExportsOptions } from './exports/exports-extension'
import type { Extension, ExtensionContext, ExtensionParts } from './extensions/extension'
import { startJobRunner } from './jobs/job-runner'
import type { JobHandler, JobRunner } from './jobs/job-runner'
import type { ContactErasureHook, ErasureBarrier } from './deletion/contact-erasure'
import type { CloseCode, Plan, Role } from '@cardfile/core'
import { Connection } from './sync/connection'
import type { TransportCarrier } from './sync/connection'
import { MuxChannel, MuxConnection } from './sync/mux-connection'
import type { MuxHandlers } from './sync/mux-connection'
import { DocumentRegistry } from './sync/document-registry'
import type { HostedDocument } from './sync/document-registry'
import { ClusterNode } from './cluster/cluster-node'
import { ListHub } from './lists/list-hub'
import { parseListChange } from './lists/list-change'
import { DEFAULT_LIMITS } from './sync/limits'
import type { ServerLimits } from './sync/limits'
import type { CommitEvent } from './sync/live-document'
import { completeLogger, errorContext } from './sync/logger'
import type { ServerLogger } from './sync/logger'

export interface CardfileServerOptions {
  /** Every store the server keeps: `createSqliteBackend` (`@cardfile/server/sqlite`) or `createMemoryBackend` (`/memory`). */
  readonly backend: Backend
  /** Token verification: an HS256 secret, a JWKS URL, or an `authenticate` hook. */
  readonly auth: AuthOptions
  /** Port to listen on; 0 (the default) picks a free one. */
  readonly port?: number
  /** Interface to listen on (default: all). */
  readonly host?: string
  /**
   * Browser origins allowed besides the server's own, for the HTTP API (with CORS preflights)
   * and websocket upgrades. Default: same-origin pages only (and any client that is not a
   * browser page, which sends no Origin).
   */
  readonly origins?: OriginOptions
  /**
   * Locks, rate limits and caches that must be one for every instance serving the same
   * storage. Default: in this process (`createLocalCoordination`), all a single server needs.
   */
  readonly coordination?: Coordination
  /** Handles plain HTTP requests beside the websocket (the HTTP API). */
  readonly httpHandler?: HttpRequestHandler
  /**
   * Failed token checks allowed per remote address and minute, over every HTTP route, before
   * requests from that address are answered 429 (default 60). Counted in `coordination`, so
   * one count for every instance. Behind a proxy every client shares one address: raise it.
   */
  readonly authFailuresPerMinute?: number
  /**
   * Serve many documents over one websocket at `/<workspace>/mux` (default true; see
   * PROTOCOL.md). False: one document per socket only, as servers did before; Cardfile clients
   * notice and open a socket per document.
   */
  readonly multiplex?: boolean
  /** Per-connection bounds; anything left out takes its default from `DEFAULT_LIMITS`. */
  readonly limits?: Partial<ServerLimits>
  /** Called after every storage commit of a document change. */
  readonly onCommit?: (event: CommitEvent) => void
  readonly logger?: Partial<ServerLogger>
  /**
   * Creates a workspace that was never created on this plan the first time anything uses it
   * (single-tenant setups, tests, trials). Default: workspaces exist only once created
   * (`server.host.createWorkspace`, `cardfile workspace create`, `POST /api/<ws>/workspace`),
   * and connections and requests for any other are refused `unknown-workspace`.
   */
  readonly autoCreateWorkspaces?: Plan
  /**
   * Linking and routing: `route` replaces the default priority scoring and VIP team
   * assignment; `botHandoff` (a webhook URL or a function) hears every conversation that starts
   * with the contact's attributes and VIP status; `scoring` weighs the default score.
   */
  readonly route?: RouteHook
  readonly botHandoff?: BotHandoffOptions
  readonly scoring?: ScoringOptions
  /** Re-link jobs (the `linking` extension among the built-in ones). */
  readonly linking?: LinkingOptions
  /**
   * Contact deletion (the `deletion` extension among the built-in ones): an app's own erasure
   * hooks, told after each erasure beside every extension's.
   */
  readonly deletion?: DeletionOptions
  /**
   * The CRM integration (lookups, CRM-managed attributes, write-backs and notifications as
   * jobs, and its routes under `/api/<ws>/crm`): the `crm` extension among the built-in ones
   * when `extensions` is not given. Off unless given; needs a storage with `crm` (SQLite and
   * memory have it).
   */
  readonly crm?: CrmOptions
  /**
   * Contact exports (the `exports` extension among the built-in ones when `extensions` is not
   * given): jobs in the jobs table, files in `backend.blobs`.
   */
  readonly exports?: ExportsOptions
  /**
   * Webhook deliveries (the `webhooks` extension among the built-in ones when `extensions` is
   * not given): retries and timeout. Admins register webhooks under `/api/<ws>/webhooks`.
   */
  readonly webhooks?: WebhooksOptions
  /**
   * Lets the URLs admins give the server to call (webhooks, CRM endpoints) point at loopback,
   * private (10/8, 172.16/12, 192.168/16), link-local (169.254/16, cloud metadata) and
   * unique-local addresses. Default false: such URLs are refused `forbidden-target` when
   * configured, and a call whose host resolves to one fails unsent (a delivery is dead with
   * the reason, a CRM connection test answers `unreachable` with it). For development and
   * local test receivers only. URLs the operator sets (`botHandoff`, `auth.jwksUrl`, the CRM of
   * `serve --demo --crm-url`) are trusted and never screened.
   */
  readonly allowPrivateOutboundTargets?: boolean
  /** The former name of `allowPrivateOutboundTargets`; either turns it on. */
  readonly allowPrivateWebhookTargets?: boolean
  /** Contact imports' limits (the `imports` extension among the built-in ones). */
  readonly imports?: ImportsOptions
  /**
   * Features started in this order (their routes are served in it too, before `httpHandler`)
   * and stopped in reverse: each contributes event consumers, job handlers, routes and an
   * erasure hook. Default: the built-in ones the options turn on (`cardfileExtensions`).
   */
  readonly extensions?: readonly Extension[]
  /** Timing of the event consumers and the job runner (tests shorten the leases). */
  readonly background?: BackgroundOptions
  /**
   * Live lists (default true): the hello announces `lists` and list subscriptions are taken.
   * False speaks the protocol of a server before live lists: the hello announces nothing and a
   * subscription (105, 106) closes the connection with 4400, so clients poll their lists (for
   * testing clients against older servers).
   */
  readonly liveLists?: boolean
  /**
   * How long a document's ownership outlives an instance that stopped renewing it (crashed,
   * paused), in ms: the longest a document waits to be taken over. Used when `coordination`
   * has a bus (several instances). Default 10000.
   */
  readonly ownerLeaseMs?: number
}

/** Timing of the work that runs beside the sync engine: event consumers and jobs. */
export interface BackgroundOptions {
  /** How long a consumer's or a job's lease runs without renewal (default 30 s). */
  readonly leaseMs?: number
  /** How often to look for events and due jobs that nothing announced (default 1 s). */
  readonly pollMs?: number
  /** Jobs this process runs at once (default 4). */
  readonly jobConcurrency?: number
}

/** A running Cardfile server. */
export interface CardfileServer {
  /** The port it listens on. */
  readonly port: number
  /** `http://<host>:<port>`. */
  readonly url: string
  /** `ws://<host>:<port>`, the base URL for providers. */
  readonly wsUrl: string
  /** Server-side document access for the HTTP API and integrations. */
  readonly host: DocumentHost
  readonly metrics: ServerMetrics
  readonly limits: ServerLimits
  readonly httpServer: Server
  /** The CRM integration, when the `crm` option turned it on. */
  readonly crm: CrmService | null
  /** Open websocket connections. */
  connectionCount(): number
  /** Documents currently in memory. */
  loadedDocuments(): number
  /**
   * Resolves once everything committed so far has been handled by the event consumers and no
   * job this process could run is due or running (tests; shutdown does the same).
   */
  idle(): Promise<void>
  /**
   * Stops accepting connections, lets every commit in flight settle (and its durable ack go
   * out), then closes open connections with 1001 (clients reconnect elsewhere or later), and
   * resolves once every one of them finished its close handshake (or was cut off after a grace;
   * or once the close frames are sent, with `awaitCloseHandshakes: false`).
   * The backend stays open: its owner closes it, after this or through `afterLastWrite`. Calls
   * after the first return the first call's promise.
   */
  close(options?: ServerCloseOptions): Promise<void>
}

/** What {@link CardfileServer.close} does besides stopping the server. */
export interface ServerCloseOptions {
  /**
   * Called once the server will write nothing more to its storage (every commit landed and
   * acknowledged; consumers, jobs, extensions and cluster membership stopped; HTTP connections
   * closed) while the last clients may still be finishing their close handshake; `close`
   * resolves after both, and rejects if this does. A process that exits once the server
   * stopped passes its backend's `close` here, so that the storage closes (a last checkpoint
   * of the file included) during the handshake rather than after it.
   *
   * @example
   * await server.close({ afterLastWrite: () => backend.close() })
   */
  readonly afterLastWrite?: () => Promise<void>
  /**
   * Whether `close` waits for every client's close handshake (the default, true), or only until
   * each close frame, after every acknowledgement, is handed to the operating system: for a
   * process that exits once the server stopped, where waiting for the clients' answers only
   * delays the exit (the kernel sends what was handed to it when the process ends).
   *
   * @example
   * await server.close({ afterLastWrite: () => backend.close(), awaitCloseHandshakes: false })
   */
  readonly awaitCloseHandshakes?: boolean
}

/**
 * A websocket that reports an oversized frame with Cardfile's permanent 4413 instead of ws's
 * 1009, so a stock provider does not reconnect and resend the same oversized update forever.
 * (ws refuses the frame from its header, before buffering it, and then calls `close(1009)`.)
 */
class BoundedWebSocket extends WebSocket implements TransportCarrier {
  /** The connection this socket carries, so one shared listener of each kind serves all. */
  connection: Connection | null = null
  /** The TCP socket under this websocket, which connections write prebuilt frames to. */
  transport: Duplex | null = null

  override close(code?: number, data?: string | Buffer): void {
    if (code === 1009) {
      super.close(CloseCodes.PayloadTooLarge.code, CloseCodes.PayloadTooLarge.reason)
      return
    }
    super.close(code, data)
  }
}

const toBytes = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data
}

const closeForError = (error: unknown): CloseCode => {
  if (error instanceof CardfileError) {
    switch (error.code) {
      case ErrorCodes.TokenExpired:
        return { code: CloseCodes.Unauthorized.code, reason: ErrorCodes.TokenExpired }
      case ErrorCodes.Unauthorized:
        return CloseCodes.Unauthorized
      case ErrorCodes.WrongWorkspace:
        return { code: CloseCodes.Forbidden.code, reason: ErrorCodes.WrongWorkspace }
      case ErrorCodes.Forbidden:
        return CloseCodes.Forbidden
      case ErrorCodes.BadRequest:
        return CloseCodes.BadRequest
      case ErrorCodes.Deleted:
        return CloseCodes.Deleted
      case ErrorCodes.UnknownWorkspace:
        return CloseCodes.UnknownWorkspace
      default:
        break
    }
  }
  return CloseCodes.Internal
}

/**
 * Error listener of an upgrading socket. A shared function rather than a closure: a closure
 * made in the upgrade handler would share its scope with the callback that captures the
 * request, and the listener outlives the upgrade, so every connection would keep its
 * IncomingMessage (and all its headers) for life.
 */
function destroyOnError(this: Duplex): void {
  this.destroy()
}

/**
 * Starts a Cardfile server: y-websocket compatible sync with authentication, authorization by
 * compensation, durable acknowledgements, and an optional HTTP handler beside it.
 *
 * @example
 * const backend = createSqliteBackend({ path: './cardfile.db' })
 * const server = await createCardfileServer({ backend, auth: { secret: process.env.SECRET! } })
 * new WebsocketProvider(server.wsUrl, 'demo/contact/c1', doc, { params: { token } })
 * // later
 * await server.close()
 * await backend.close()
 */
export async function createCardfileServer(
  options: CardfileServerOptions,
): Promise<CardfileServer> {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits }
  // The store's generation never changes, so one hello serves every connection.
  const generation = await options.backend.generation()
  const liveLists = options.liveLists ?? true
  const multiplex = options.multiplex ?? true
  const hello = encodeHello({
    generation,
    features: [
      ...(liveLists ? [ServerFeatures.Lists] : []),
      ...(multiplex ? [ServerFeatures.Mux] : []),
    ],
  })
  const logScope = createLogScope()
  const logger = contextualLogger(completeLogger(options.logger), logScope)
  const processMetrics = startProcessMetrics()
  const metrics = createServerMetrics({ collectors: [processMetrics] })
  // Connection ids: unique within this process run, short enough to cost an idle socket little.
  const connectionIdPrefix = randomBytes(3).toString('hex')
  let connectionSeq = 0
  const authenticate = createAuthenticator(options.auth)
  const originPolicy = createOriginPolicy(options.origins)
  const coordination = options.coordination ?? createLocalCoordination()
  // Leases taken by this process run name it, so another process can tell they are not its own.
  const instanceId = `${connectionIdPrefix}${randomBytes(5).toString('hex')}`
  // Filled by the extensions' consumers before the first document loads.
  const eventTypes = new Set<DomainEventType>()
  let pump: EventPump | null = null
  let runner: JobRunner | null = null
  const cluster =
    coordination.bus === undefined
      ? undefined
      : new ClusterNode({
          instanceId,
          bus: coordination.bus,
          owners: options.backend.owners,
          logger,
          ...(options.ownerLeaseMs === undefined ? {} : { leaseMs: options.ownerLeaseMs }),
        })
  // Live lists: a change is published by the instance that committed it and, with several
  // instances, delivered by each when the bus hands it back (so every instance in one order).
  // Known once the extensions started; no subscription is taken before the server listens.
  let jobKindReaders: ReadonlyMap<string, readonly Role[]> = new Map()
  const lists = new ListHub({
    logger,
    // Jobs are followed by whom their routes show them to.
    jobAccess: jobListAccess(options.backend.jobs, () => jobKindReaders),
    // The plan check of the CRM and export routes, read from the schema as they read it.
    planAllows: (workspace, feature) =>
      registry.read(schemaDocName(workspace), (doc) => {
        const schema = new SchemaDoc(doc)
        try {
          return capabilities(schema.settings().plan)[feature]
        } finally {
          schema.destroy()
        }
      }),
    bus:
      cluster === undefined
        ? undefined
        : {
            publish: (change) =>
              cluster.publishListChange(change.workspace, JSON.stringify(change)),
          },
  })
  cluster?.listenToLists({
    onListChange(workspace, json) {
      const change = parseListChange(workspace, json)
      if (change === null) logger.warn('an unreadable list change was dropped', {})
      else lists.deliver(change)
    },
    onListResync: () => lists.invalidateAll(),
  })
  const registry: DocumentRegistry = new DocumentRegistry({
    cluster,
    backend: options.backend,
    metrics,
    logger,
    ...(options.onCommit === undefined ? {} : { onCommit: options.onCommit }),
    autoCreateWorkspaces: options.autoCreateWorkspaces,
    eventTypes,
    onEvents: () => pump?.poke(),
    onListChange: (change) => lists.changed(change),
  })
  const extensionContext: ExtensionContext = {
    host: registry,
    backend: options.backend,
    coordination,
    logger,
    metrics,
    instanceId,
    async enqueue(job) {
      const queued = await options.backend.jobs.enqueue(job)
      // Lists of a kind's newest jobs show it at once; announced before a worker can take it,
      // so its steps follow in order.
      lists.changed({
        type: 'job',
        workspace: queued.workspace,
        jobId: queued.id,
        kind: queued.kind,
        state: queued.state,
      })
      runner?.poke()
      return queued
    },
    jobChanged(job, state) {
      lists.changed({ type: 'job', workspace: job.workspace, jobId: job.id, kind: job.kind, state })
    },
  }
  // Before anything loads a document: documents are claimed and followed over the bus.
  await cluster?.start(registry)
  const extensions = options.extensions ?? cardfileExtensions(options)
  const started: { readonly extension: Extension; readonly parts: ExtensionParts }[] = []
  try {
    for (const extension of extensions) {
      started.push({ extension, parts: await extension.start(extensionContext) })
    }
  } catch (error) {
    for (const { parts } of started.reverse()) await parts.stop?.().catch(() => undefined)
    throw error
  }
  const crm: CrmService | null = extensions.find(isCrmExtension)?.service ?? null
  const consumers: EventConsumer[] = started.flatMap(({ parts }) => parts.consumers ?? [])
  const jobHandlers: JobHandler[] = started.flatMap(({ parts }) => parts.jobs ?? [])
  jobKindReaders = jobReaders(jobHandlers)
  const extensionRoutes: HttpRequestHandler[] = [
    ...started.flatMap(({ parts }) => (parts.routes === undefined ? [] : [parts.routes])),
    // Any job with a view, whichever extension runs it.
    jobRoutes(options.backend.jobs, jobHandlers),
    attributeTypeRoutes(),
  ]
  const extensionErasureHooks: ContactErasureHook[] = started.flatMap(({ parts }) =>
    parts.onContactErased === undefined ? [] : [parts.onContactErased],
  )
  const erasureBarriers: ErasureBarrier[] = started.flatMap(({ parts }) =>
    parts.beforeContactErased === undefined ? [] : [parts.beforeContactErased],
  )
  for (const consumer of consumers) for (const type of consumer.types) eventTypes.add(type)
  const background = options.background ?? {}
  const leases = {
    owner: instanceId,
    logger,
    ...(background.leaseMs === undefined ? {} : { leaseMs: background.leaseMs }),
    ...(background.pollMs === undefined ? {} : { pollMs: background.pollMs }),
  }
  const connections = new Set<Connection>()
  const attached = new WeakMap<Connection, HostedDocument>()
  let closing = false

  const bearer = bearerAuth({
    authenticate,
    failures: coordination.rateLimiter('http-auth-failures', {
      limit: options.authFailuresPerMinute ?? 60,
      windowMs: 60_000,
    }),
  })
  const knownWorkspaces = createLocalCache<true>()
  const httpContext: HttpContext = {
    host: registry,
    backend: options.backend,
    metrics,
    authenticate,
    // One bearer check and one failure count for every route, whichever extension serves it.
    principal: async (req, workspace, principalOptions) => {
      const principal = await bearer(req, workspace)
      if (principalOptions?.mayBeUnknown !== true) {
        // A workspace is never removed once created, so a per-process yes is exact.
        await knownWorkspaces.get(workspace, () =>
          registry.read(schemaDocName(workspace), () => true as const),
        )
      }
      return principal
    },
    ready: () => !closing && options.backend.available() && (coordination.available?.() ?? true),
    erasureHooks: [
      ...extensionErasureHooks,
      ({ workspace, contactId }) => lists.changed({ type: 'erased', workspace, contactId }),
    ],
    lists,
    erasureBarriers,
    coordination,
    logger,
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    // Off: frames are also built by the server and written to the TCP socket beside ws (see
    // TransportCarrier), which is only safe while ws never holds a frame back to compress it.
    perMessageDeflate: false,
    WebSocket: BoundedWebSocket,
    // A Cardfile client offers 'cardfile' and its token as a second subprotocol; only the
    // first is ever selected, so the token is not echoed back.
    handleProtocols: (protocols: Set<string>) =>
      protocols.has(CARDFILE_SUBPROTOCOL) ? CARDFILE_SUBPROTOCOL : false,
    // The server keeps its own set of connections; ws' would cost a set entry and a close
    // listener closure per connection.
    clientTracking: false,
  })

  const handleMessage = (conn: Connection, live: HostedDocument, message: Uint8Array): void => {
    if (message[0] === MessageTypes.TokenRefresh) {
      // A channel's token is its socket's: a refresh sent on one renews the socket.
      renewToken(conn instanceof MuxChannel ? conn.socket : conn, message)
      return
    }
    if (liveLists && conn.extended && ListHub.handles(message)) {
      try {
        lists.receive(conn, message)
      } catch (error) {
        logger.debug('malformed list message, closing the connection', {
          connectionId: conn.id,
          ...errorContext(error),
        })
        conn.close(CloseCodes.BadRequest)
      }
      return
    }
    try {
      // Its log lines name the connection themselves: a log scope per message would cost every
      // message an allocation and every promise made meanwhile a reference to it.
      live.receive(conn, message)
    } catch (error) {
      logger.debug('malformed message, closing the connection', {
        connectionId: conn.id,
        doc: conn.docName,
        ...errorContext(error),
      })
      conn.close(CloseCodes.BadRequest)
    }
  }

  const onMessage = (conn: Connection, data: RawData): void => {
    // Once shutting down, nothing new is taken in: what is in flight is flushed and acked, and
    // the client sends anything else again after it reconnects.
    if (conn.closed || closing) return
    conn.alive = true
    const message = toBytes(data)
    metrics.bytesReceived.inc(message.byteLength)
    if (!conn.admit()) return
    if (conn instanceof MuxConnection) {
      if (conn.ready) conn.receive(message)
      else conn.queue(message)
      return
    }
    const live = attached.get(conn)
    if (live === undefined) {
      conn.queue(message)
      return
    }
    handleMessage(conn, live, message)
  }

  /** A connection's use of its document ends: the socket closed, or its channel did. */
  const detach = (conn: Connection): void => {
    attached.get(conn)?.removeConnection(conn)
    lists.drop(conn)
    attached.delete(conn)
  }

  // Channels of multiplexed sockets go through the same admission, messages and detachment as
  // per-document sockets: to the document, a channel is a Connection like any other.
  const muxHandlers: MuxHandlers = {
    opened(channel: MuxChannel, cacheGeneration: string | null) {
      if (closing) {
        channel.close(CloseCodes.GoingAway)
        return
      }
      const parsed = parseDocName(channel.docName)
      if (parsed === null) {
        channel.close({ code: CloseCodes.BadRequest.code, reason: 'bad-document-name' })
        return
      }
      admit(channel, parsed.workspace, channel.socket.token, cacheGeneration).catch(
        (error: unknown) => {
          logger.error('admitting a channel failed', {
            doc: channel.docName,
            ...errorContext(error),
          })
          channel.close(CloseCodes.Internal)
        },
      )
    },
    message(channel: MuxChannel, message: Uint8Array) {
      const live = attached.get(channel)
      if (live === undefined) channel.queue(message)
      else handleMessage(channel, live, message)
    },
    closed: detach,
    socketMessage: (conn: MuxConnection, message: Uint8Array) => renewToken(conn, message),
  }

  const refuse = (conn: Connection, code: CloseCode): void => {
    if (code.code === CloseCodes.Unauthorized.code || code.code === CloseCodes.Forbidden.code) {
      conn.send(encodePermissionDenied(code.reason))
    }
    if (code.code === CloseCodes.Deleted.code) {
      conn.sendExtended(encodePurge({ doc: conn.docName, reason: 'erased' }))
    }
    conn.close(code)
  }

  /**
   * Takes a fresh token on an open connection (message 104): the same user, workspace and role
   * keep the connection with the new expiry; a refused token closes it as a refused connection
   * would be; another identity reconnects (1013) to be admitted afresh.
   */
  const renewToken = (conn: Connection, message: Uint8Array): void => {
    let token: string
    try {
      const decoder = decoding.createDecoder(message)
      decoding.readVarUint(decoder)
      token = decoding.readVarString(decoder)
    } catch {
      conn.close(CloseCodes.BadRequest)
      return
    }
    authenticate(token, conn.docName).then(
      (actor) => {
        const current = conn.actor
        if (conn.closed || current === null) return
        if (
          actor.userId !== current.userId ||
          actor.workspace !== current.workspace ||
          actor.role !== current.role
        ) {
          conn.close({ code: CloseCodes.TryAgainLater.code, reason: 'identity-changed' })
          return
        }
        conn.expireAt(tokenExpiry(token))
        if (conn instanceof MuxConnection) conn.token = token
      },
      (error: unknown) => {
        if (conn.closed) return
        refuse(
          conn,
          error instanceof CardfileError ? closeForError(error) : CloseCodes.Unauthorized,
        )
      },
    )
  }

  /**
   * Authenticates a multiplexed socket for its workspace (against the workspace's schema
   * document, which every client of it opens), then says hello and handles what it queued.
   * Each document it opens is admitted on its own, as a per-document socket is.
   */
  const admitMux = async (conn: MuxConnection, workspace: string, token: string): Promise<void> => {
    let actor: AuthenticatedActor
    try {
      actor = await authenticate(token, conn.docName)
    } catch (error) {
      if (!(error instanceof CardfileError)) {
        logger.warn('authenticate failed unexpectedly', {
          connectionId: conn.id,
          ...withoutSecret(errorContext(error), token),
        })
      }
      refuse(conn, error instanceof CardfileError ? closeForError(error) : CloseCodes.Unauthorized)
      return
    }
    if (conn.closed) return
    if (actor.workspace !== workspace) {
      refuse(conn, { code: CloseCodes.Forbidden.code, reason: ErrorCodes.WrongWorkspace })
      return
    }
    conn.actor = actor
    conn.token = token
    conn.expireAt(tokenExpiry(token))
    conn.ready = true
    conn.send(hello)
    for (const message of conn.takeQueued()) {
      if (conn.closed) break
      conn.receive(message)
    }
  }

  /** Authenticates, loads the document and attaches the connection; then drains its queue. */
  const admit = async (
    conn: Connection,
    workspace: string,
    token: string,
    /** The generation the client's cache belongs to (`generation=`), or null when not given. */
    cacheGeneration: string | null,
  ): Promise<void> => {
    let actor: AuthenticatedActor
    try {
      actor = await authenticate(token, conn.docName)
    } catch (error) {
      if (!(error instanceof CardfileError)) {
        // A custom hook's error may quote the token it refused.
        logger.warn('authenticate failed unexpectedly', {
          connectionId: conn.id,
          ...withoutSecret(errorContext(error), token),
        })
      }
      const code = error instanceof CardfileError ? closeForError(error) : CloseCodes.Unauthorized
      refuse(conn, code)
      return
    }
    if (conn.closed) return
    if (actor.workspace !== workspace) {
      refuse(conn, { code: CloseCodes.Forbidden.code, reason: ErrorCodes.WrongWorkspace })
      return
    }
    if (cacheGeneration !== null && cacheGeneration !== generation) {
      // The cache was filled from another store (a deleted, replaced or restored database):
      // whatever the client would send next could bring back what this store never had or
      // dropped. Close before the document is even loaded, so none of it is applied.
      conn.sendExtended(hello)
      conn.close(CloseCodes.StaleGeneration)
      return
    }
    conn.actor = actor
    conn.expireAt(tokenExpiry(token))
    let live: HostedDocument
    try {
      live = await registry.acquire(conn.docName)
    } catch (error) {
      const code = closeForError(error)
      if (code.code === CloseCodes.Internal.code) {
        logger.error('loading a document failed', {
          connectionId: conn.id,
          doc: conn.docName,
          ...errorContext(error),
        })
      }
      refuse(conn, code)
      return
    }
    if (conn.closed || closing) {
      live.release()
      if (!conn.closed) conn.close(CloseCodes.GoingAway)
      return
    }
    if (live.erased) {
      live.release()
      refuse(conn, CloseCodes.Deleted)
      return
    }
    attached.set(conn, live)
    // Before the server's sync step 1: a client whose cache is from another store must be able
    // to drop it before it answers with its own state.
    conn.sendExtended(hello)
    live.addConnection(conn)
    for (const message of conn.takeQueued()) {
      if (conn.closed) break
      handleMessage(conn, live, message)
    }
  }

  // One listener of each kind for every socket, which finds its connection on the socket:
  // closures made per connection would cost every idle connection a few hundred bytes.
  const connectionOf = (ws: WebSocket): Connection | null =>
    ws instanceof BoundedWebSocket ? ws.connection : null
  function onSocketMessage(this: WebSocket, data: RawData): void {
    const conn = connectionOf(this)
    if (conn !== null) onMessage(conn, data)
  }
  function onSocketPong(this: WebSocket): void {
    const conn = connectionOf(this)
    if (conn !== null) conn.alive = true
  }
  function onSocketError(this: WebSocket, error: Error): void {
    const conn = connectionOf(this)
    logger.debug('websocket error', {
      connectionId: conn?.id,
      doc: conn?.docName,
      ...errorContext(error),
    })
  }
  function onSocketClose(this: WebSocket, code: number): void {
    const conn = connectionOf(this)
    if (conn === null) return
    // The code only: a peer's close reason is free text.
    logger.debug('websocket closed', { connectionId: conn.id, doc: conn.docName, code })
    conn.markClosed()
    connections.delete(conn)
    metrics.connections.set(connections.size)
    detach(conn)
  }

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    if (!(ws instanceof BoundedWebSocket)) throw new Error('unexpected websocket class')
    const url = new URL(req.url ?? '/', 'http://localhost')
    let docName = ''
    try {
      docName = decodeURIComponent(url.pathname.slice(1))
    } catch {
      docName = ''
    }
    const muxWorkspace = multiplex ? parseMuxPath(docName) : null
    const conn =
      muxWorkspace === null
        ? new Connection(ws, docName, url.searchParams.get('cardfile') === '1', limits, metrics)
        : new MuxConnection(ws, schemaDocName(muxWorkspace), limits, metrics, muxHandlers)
    connections.add(conn)
    metrics.connections.set(connections.size)
    metrics.connectionsTotal.inc()
    conn.id = `${connectionIdPrefix}-${(++connectionSeq).toString(36)}`
    logger.debug('websocket opened', { connectionId: conn.id, url: loggableUrl(req.url) })
    ws.connection = conn
    ws.on('message', onSocketMessage)
    ws.on('pong', onSocketPong)
    ws.on('error', onSocketError)
    ws.on('close', onSocketClose)
    const parsed = parseDocName(conn.docName)
    if (parsed === null) {
      conn.close({ code: CloseCodes.BadRequest.code, reason: 'bad-document-name' })
      return
    }
    // The subprotocol header first (Cardfile clients); `?token=` for stock y-websocket clients.
    const token =
      tokenFromSubprotocols(req.headers['sec-websocket-protocol']) ??
      url.searchParams.get('token') ??
      ''
    const socket = req.socket
    const authTimer = setTimeout(() => {
      const admitted = conn instanceof MuxConnection ? conn.ready : attached.has(conn)
      if (!admitted) conn.close({ code: CloseCodes.TryAgainLater.code, reason: 'auth-timeout' })
    }, limits.authTimeoutMs)
    authTimer.unref()
    if (conn instanceof MuxConnection) {
      admitMux(conn, parsed.workspace, token)
        .catch((error: unknown) => {
          logger.error('admitting a connection failed', { doc: docName, ...errorContext(error) })
          conn.close(CloseCodes.Internal)
        })
        .finally(() => {
          clearTimeout(authTimer)
          unauthenticated.delete(socket)
        })
      return
    }
    // Not inside a log scope: a scope would stay referenced by whatever admitting creates for
    // the connection's life; admit's own lines name the connection.
    admit(conn, parsed.workspace, token, url.searchParams.get('generation'))
      .catch((error: unknown) => {
        logger.error('admitting a connection failed', { doc: docName, ...errorContext(error) })
        conn.close(CloseCodes.Internal)
      })
      .finally(() => {
        clearTimeout(authTimer)
        // Admitted, or refused and closing: either way no longer a socket waiting to prove itself.
        unauthenticated.delete(socket)
      })
  })

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = requestIdFor(req.headers[REQUEST_ID_HEADER])
    res.setHeader(REQUEST_ID_HEADER, requestId)
    // Every answer here is JSON, metrics text or a file with its own type: never sniff one.
    res.setHeader('x-content-type-options', 'nosniff')
    logScope.run({ requestId }, () => handleRequest(req, res, requestId))
  }

  const handleRequest = (req: IncomingMessage, res: ServerResponse, requestId: string): void => {
    const started = performance.now()
    res.once('finish', () => {
      // Probes and scrapes would drown the log at info.
      const path = req.url?.split('?')[0] ?? '/'
      const probe = path === '/healthz' || path === '/readyz' || path === '/metrics'
      logger[probe ? 'debug' : 'info']('http request', {
        requestId,
        method: req.method,
        url: loggableUrl(req.url),
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      })
    })
    if (handleCors(req, res, originPolicy)) return
    const notFound = (): void => {
      if (res.headersSent) return
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: ErrorCodes.NotFound, message: 'Not found' } }))
    }
    const handler = options.httpHandler
    if (handler === undefined && extensionRoutes.length === 0) {
      notFound()
      return
    }
    Promise.resolve()
      .then(async () => {
        for (const routes of extensionRoutes) if (await routes(req, res, httpContext)) return true
        return handler !== undefined && (await handler(req, res, httpContext))
      })
      .then(
        (handled) => {
          if (!handled) notFound()
        },
        (error: unknown) => {
          logger.error('httpHandler threw', errorContext(error))
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json' })
            res.end(
              JSON.stringify({ error: { code: ErrorCodes.Internal, message: 'Internal error' } }),
            )
          } else res.destroy()
        },
      )
  }

  const httpServer = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      // How often Node looks for sockets past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    onRequest,
  )
  // Sockets that have sent no whole request yet, or upgraded and not yet authenticated.
  const unauthenticated = new Set<Socket>()
  function forgetSocket(this: Socket): void {
    unauthenticated.delete(this)
  }
  httpServer.on('connection', (socket: Socket) => {
    if (unauthenticated.size >= limits.maxUnauthenticatedSockets) {
      metrics.socketsRefused.inc()
      socket.destroy()
      return
    }
    unauthenticated.add(socket)
    // One listener for every socket (a closure per socket would stay for its whole life).
    socket.once('close', forgetSocket)
  })
  httpServer.on('request', (req: IncomingMessage) => unauthenticated.delete(req.socket))
  // Dead peers that never closed: each socket must answer a ping before the next one.
  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        conn.ws.terminate()
        continue
      }
      conn.alive = false
      if (conn.open) conn.ws.ping()
    }
  }, limits.heartbeatMs)
  heartbeat.unref()
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError)
    if (closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n')
      return
    }
    // A page on a foreign origin must not open documents with a token it got hold of.
    if (!originPolicy.allows(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (ws instanceof BoundedWebSocket) ws.transport = socket
      // ws listens for socket errors from here on.
      socket.off('error', destroyOnError)
      wss.emit('connection', ws, req)
    })
  })
  httpServer.on('clientError', (_error, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port ?? 0, options.host, () => {
      httpServer.off('error', reject)
      resolve()
    })
  })
  // Consumers and jobs start once the server listens. The consumers' first claims are awaited
  // before the server is handed out: a consumer seen for the first time starts after the newest
  // event, and must not start after a change its caller commits at once.
  pump = startEventPump({ store: options.backend.events, consumers, ...leases })
  runner = startJobRunner({
    onChange: (job, state) =>
      lists.changed({
        type: 'job',
        workspace: job.workspace,
        jobId: job.id,
        kind: job.kind,
        ...(state === undefined ? {} : { state }),
      }),
    store: options.backend.jobs,
    handlers: jobHandlers,
    ...leases,
    ...(background.jobConcurrency === undefined ? {} : { concurrency: background.jobConcurrency }),
  })
  await pump.started()
  const address = httpServer.address() as AddressInfo
  const displayHost =
    options.host === undefined || options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host.includes(':')
        ? `[${options.host}]`
        : options.host

  /** The seq of the newest event (reads forward from the last one seen). */
  let head = 0
  const eventHead = async (): Promise<number> => {
    for (;;) {
      const last = (await options.backend.events.read(head, 1000)).at(-1)
      if (last === undefined) return head
      head = last.seq
    }
  }
  const idle = async (): Promise<void> => {
    // A consumer's effect may commit (and announce) more, and a job may enqueue another: go
    // round until a round announced nothing new.
    for (;;) {
      const before = await eventHead()
      await registry.settled()
      await pump?.settled()
      await runner?.settled()
      await registry.settled()
      if ((await eventHead()) === before) return
    }
  }

  let closed: Promise<void> | null = null
  const close = (closeOptions?: ServerCloseOptions): Promise<void> => {
    closed ??= (async () => {
      closing = true
      clearInterval(heartbeat)
      logger.info('shutting down', { connections: connections.size })
      const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()))
      // Commits in flight land first, with sockets still open, so their durable acks reach the
      // clients; then 1001, which clients treat as transient: they reconnect when we are back.
      await registry.settled()
      // Documents relay and ack on the next tick after a commit: let that run before closing.
      await new Promise<void>((resolve) => setImmediate(resolve))
      const sockets: WebSocket[] = []
      for (const conn of connections) {
        sockets.push(conn.ws)
        conn.close({ code: CloseCodes.GoingAway.code, reason: 'shutting-down' })
      }
      // Consumers and jobs stop after their current step; what is left is resumed by the next
      // process from the cursors and leases in storage.
      await Promise.all([pump?.stop(), runner?.stop()])
      for (const { parts } of [...started].reverse()) await parts.stop?.()
      // Closing sockets detach their connections, which may unload documents; wait for that.
      await registry.settled()
      registry.destroyAll()
      await cluster?.stop()
      wss.close()
      // HTTP requests still running are cut off here, before the storage may close under them.
      httpServer.closeAllConnections()
      processMetrics.stop()
      // Nothing writes from here on: the storage may close while the handshakes finish.
      const storageClosed = Promise.resolve().then(() => closeOptions?.afterLastWrite?.())
      const clientsDone =
        closeOptions?.awaitCloseHandshakes === false ? closeFramesSent(sockets) : stopped
      const [storage] = await Promise.allSettled([storageClosed, clientsDone])
      if (storage.status === 'rejected') throw storage.reason
      logger.info('stopped')
    })()
    return closed
  }

  return {
    port: address.port,
    url: `http://${displayHost}:${address.port}`,
    wsUrl: `ws://${displayHost}:${address.port}`,
    host: registry,
    metrics,
    limits,
    httpServer,
    crm,
    connectionCount: () => connections.size,
    loadedDocuments: () => registry.size,
    idle,
    close,
  }
}
