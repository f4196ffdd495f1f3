import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCodes, isValidId } from '@cardfile/core'
import type { Actor } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import type { HttpRequestHandler } from './http-context'
import type { Backend } from '../backend'
import { errorContext, errorForConsole } from '../sync/logger'
import { signToken } from '../tokens'
import { HttpError, sendError, sendJson } from './http-error'
import { createIngestion } from '../ingestion/ingestion-extension'
import { asSeenWithVip, readVipActive } from '../routing/vip-state'
import type { InboundResult } from '../ingestion/inbound-log'
import { createLocalCoordination } from '../coordination/coordination'
import type { Coordination } from '../coordination/coordination'
import { MAX_BODY_BYTES, readJsonBody } from './read-body'
import { allowMethods, bearerAuth, parseInput, requireRole } from './route-auth'
import type { HttpPrincipal, PrincipalResolver } from './route-auth'
import { contactsQuery, conversationsQuery, devTokenBody, searchParamsObject } from './schemas'

export type { HttpPrincipal } from './route-auth'

/** What the HTTP API needs from the server around it. */
export interface HttpApiDeps {
  /** Changes documents server-side (persisted and relayed like any client's change). */
  readonly host: DocumentHost
  /** Answers list queries and identity look-ups from the index. */
  readonly backend: Backend
  /**
   * Verifies a bearer token; throws (ideally a CardfileError) when it is not acceptable.
   * `docName` is the schema document of the workspace the request is for (`<workspace>/schema`),
   * for hooks that authorise per document.
   */
  authenticate(token: string, docName: string): Promise<HttpPrincipal>
  /** Prometheus text exposition of the server's metrics. */
  readonly metrics: { render(): string }
  /** True while the server can serve (storage open, not shutting down). */
  ready(): boolean
  /**
   * Development mode: `POST /api/dev/token` signs tokens with this secret, for clients on the
   * loopback interface only. Never in production.
   */
  readonly devTokens?: { readonly secret: string }
  /**
   * Failed authentications allowed per remote address and minute before requests from it are
   * answered 429 (default 60). Behind a proxy every client shares one address: raise it there.
   */
  readonly authFailuresPerMinute?: number
  /**
   * The bearer check to use instead of one built from `authenticate` (the server's, shared with
   * every other route and its count of failures).
   */
  readonly principal?: PrincipalResolver
  /** Locks and rate limits shared by the server's instances (default: this process only). */
  readonly coordination?: Coordination
  /** Largest accepted request body in bytes (default 1 MB). */
  readonly maxBodyBytes?: number
  /** Told about unexpected errors (answered as 500 without details). Defaults to console.error. */
  readonly onError?: (error: unknown) => void
}

/** A request handler for non-upgrade requests: true when it answered the request. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

/**
 * The HTTP API: a handler to pass as `httpHandler`, which also carries the ingestion entry point
 * for server-side callers.
 */
export interface HttpApi extends HttpHandler {
  /** Ingests one inbound message as `actor` (a system principal), exactly as the route does. */
  ingest(workspace: string, actor: Actor, body: unknown): Promise<InboundResult>
}

/** True for an address of this machine's loopback interface (IPv4, IPv6 or IPv4-mapped). */
const isLoopback = (address: string | undefined): boolean =>
  address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address))

/**
 * Builds Cardfile's HTTP API: health, readiness, metrics, channel ingestion and index queries.
 * It answers `/healthz`, `/readyz`, `/metrics` and everything under `/api/`, and resolves false
 * for other paths. With `createCardfileServer`, use {@link httpApi}, which takes these parts from
 * the server; `createHttpApi` is for wiring them by hand.
 *
 * Errors are JSON `{ "error": { "code", "message" } }` with core's stable error codes.
 *
 * @example
 * const api = createHttpApi({ host, backend, authenticate, metrics, ready: () => true })
 * http.createServer(async (req, res) => {
 *   if (!(await api(req, res))) res.writeHead(404).end()
 * })
 */
export function createHttpApi(deps: HttpApiDeps): HttpApi {
  const maxBody = deps.maxBodyBytes ?? MAX_BODY_BYTES
  const onError =
    deps.onError ?? ((error: unknown) => console.error('cardfile http:', errorForConsole(error)))
  const coordination = deps.coordination ?? createLocalCoordination()
  const principal =
    deps.principal ??
    bearerAuth({
      authenticate: (token, docName) => deps.authenticate(token, docName),
      failures: coordination.rateLimiter('http-auth-failures', {
        limit: deps.authFailuresPerMinute ?? 60,
        windowMs: 60_000,
      }),
    })
  // The route is the ingestion extension's; this is the same ingestion for server-side callers.
  const ingestion = createIngestion({
    host: deps.host,
    backend: deps.backend,
    coordination,
  })
  const ingest = (workspace: string, actor: Actor, body: unknown): Promise<InboundResult> =>
    ingestion.ingest(workspace, actor, body)

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET'
    const path = url.pathname
    const allow = (methods: readonly string[]): void => allowMethods(method, methods, path)

    if (path === '/healthz') {
      allow(['GET', 'HEAD'])
      sendJson(res, 200, { status: 'ok' })
      return true
    }
    if (path === '/readyz') {
      allow(['GET', 'HEAD'])
      if (deps.ready()) sendJson(res, 200, { status: 'ready' })
      else sendJson(res, 503, { error: { code: ErrorCodes.Internal, message: 'Not ready' } })
      return true
    }
    if (path === '/metrics') {
      allow(['GET', 'HEAD'])
      const text = deps.metrics.render()
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      })
      res.end(method === 'HEAD' ? undefined : text)
      return true
    }
    if (path !== '/api' && !path.startsWith('/api/')) return false

    const segments = path.split('/').slice(2)
    if (segments.length === 2 && segments[0] === 'dev' && segments[1] === 'token') {
      if (deps.devTokens === undefined) {
        throw new HttpError(
          404,
          ErrorCodes.NotFound,
          'Development tokens are off (start with --demo)',
        )
      }
      allow(['POST'])
      // It signs any role, admin included: only for a browser or script on this machine, even
      // when the demo listens on other interfaces.
      if (!isLoopback(req.socket.remoteAddress)) {
        throw new HttpError(
          403,
          ErrorCodes.Forbidden,
          'Development tokens are signed for clients on the server machine only',
        )
      }
      const input = parseInput(devTokenBody, await readJsonBody(req, maxBody), 'body')
      const token = await signToken({ secret: deps.devTokens.secret, ...input })
      sendJson(res, 200, { token })
      return true
    }

    const [workspace, resource, ...rest] = segments
    if (workspace === undefined || resource === undefined || rest.length > 0) {
      throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${path}`)
    }
    if (!isValidId(workspace)) {
      throw new HttpError(400, ErrorCodes.BadRequest, `Invalid workspace "${workspace}"`)
    }
    switch (resource) {
      case 'contacts': {
        allow(['GET'])
        const who = await principal(req, workspace)
        requireRole(who, ['admin', 'agent'], 'list contacts')
        const query = parseInput(contactsQuery, searchParamsObject(url.searchParams), 'query')
        // While VIP is off nobody is VIP: the VIP filter finds none (as the VIP group answers)
        // and rows read as not VIP, their stored flags kept for when it is back on.
        const vipEnabled = await readVipActive(deps.host, workspace)
        if (query.vip === 'true' && !vipEnabled) {
          sendJson(res, 200, { items: [], next: null, vipEnabled })
          return true
        }
        const page = await deps.backend.index.listContacts(workspace, {
          limit: query.limit,
          cursor: query.cursor ?? null,
          ...(query.vip === undefined || !vipEnabled ? {} : { vip: query.vip === 'true' }),
        })
        const items = page.items.map((row) => asSeenWithVip(row, vipEnabled))
        sendJson(res, 200, { items, next: page.next, vipEnabled })
        return true
      }
      case 'conversations': {
        allow(['GET'])
        const who = await principal(req, workspace)
        requireRole(who, ['admin', 'agent'], 'list conversations')
        const query = parseInput(
          conversationsQuery,
          searchParamsObject(url.searchParams, ['contactId']),
          'query',
        )
        // The VIP group is empty while VIP is off, as `GET /groups/vip` answers.
        if (query.group === 'vip' && !(await readVipActive(deps.host, workspace))) {
          sendJson(res, 200, { items: [], next: null, vipEnabled: false })
          return true
        }
        const page = await deps.backend.index.listConversations(workspace, {
          ...(query.group === undefined ? {} : { contactGroup: query.group }),
          // A contact's history reads newest first; a queue by priority.
          order: query.order ?? (query.contactId === undefined ? 'priority' : 'newest'),
          limit: query.limit,
          cursor: query.cursor ?? null,
          ...(query.unassigned === 'true'
            ? { team: null }
            : query.team === undefined || query.team === ''
              ? {}
              : { team: query.team }),
          ...(query.status === undefined ? {} : { status: query.status }),
          ...(query.contactId === undefined ? {} : { contactIds: query.contactId }),
        })
        sendJson(res, 200, { items: page.items, next: page.next })
        return true
      }
      default:
        throw new HttpError(404, ErrorCodes.NotFound, `No route ${method} ${path}`)
    }
  }

  const handler: HttpHandler = async (req, res) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      sendError(res, new HttpError(400, ErrorCodes.BadRequest, 'Malformed URL'), onError)
      return true
    }
    try {
      return await route(req, res, url)
    } catch (error) {
      sendError(res, error, onError)
      return true
    }
  }

  return Object.assign(handler, { ingest })
}

/** Options of {@link httpApi}: everything else comes from the server. */
export type HttpApiOptions = Pick<HttpApiDeps, 'devTokens' | 'maxBodyBytes' | 'onError'>

/**
 * The HTTP API as an `httpHandler` for `createCardfileServer`, built on the first request from the
 * server's own parts (document host, backend, token verification, metrics, readiness).
 *
 * @example
 * const server = await createCardfileServer({
 *   backend,
 *   auth: { secret },
 *   httpHandler: httpApi({ devTokens: dev ? { secret } : undefined }),
 * })
 */
export function httpApi(options: HttpApiOptions = {}): HttpRequestHandler {
  let api: HttpApi | null = null
  return (req, res, ctx) => {
    const logger = ctx.logger
    api ??= createHttpApi({
      host: ctx.host,
      backend: ctx.backend,
      authenticate: ctx.authenticate,
      metrics: ctx.metrics,
      ready: ctx.ready,
      principal: ctx.principal,
      ...(ctx.coordination === undefined ? {} : { coordination: ctx.coordination }),
      // Through the server's logger, so the line carries the request id and is scrubbed.
      ...(logger === undefined
        ? {}
        : {
            onError: (error: unknown) => logger.error('http request failed', errorContext(error)),
          }),
      ...options,
    })
    return api(req, res)
  }
}
