import type { ListChange } from '../lists/list-change'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthenticateHook } from '../auth/authenticate'
import type { Coordination } from '../coordination/coordination'
import type { ContactErasureHook, ErasureBarrier } from '../deletion/contact-erasure'
import type { DocumentHost } from '../document-host'
import type { ServerMetrics } from '../metrics'
import type { PrincipalResolver } from './route-auth'
import type { Backend } from '../backend'
import type { ServerLogger } from '../sync/logger'

/** What an `httpHandler` gets besides the request: the server's parts it may use. */
export interface HttpContext {
  /** Changes and reads documents server-side (persisted and relayed like clients' changes). */
  readonly host: DocumentHost
  readonly backend: Backend
  readonly metrics: ServerMetrics
  /** Verifies a token the way websocket connections are verified. */
  readonly authenticate: AuthenticateHook
  /**
   * Who a request's bearer token belongs to, for the workspace in its path (401/403/429 as
   * HttpError): one check and one count of failed attempts shared by every route.
   */
  readonly principal: PrincipalResolver
  /** False once the server is shutting down. */
  ready(): boolean
  /** Every extension's erasure hook: told after a contact is erased. */
  readonly erasureHooks?: readonly ContactErasureHook[]
  /** Passed before a contact is erased, released after the seal (export snapshots). */
  readonly erasureBarriers?: readonly ErasureBarrier[]
  /** Locks, rate limits and caches shared by the server's instances. */
  readonly coordination?: Coordination
  /** The server's logger: its lines carry the request's id and never a credential. */
  readonly logger?: ServerLogger
  /** Live lists: routes that change what a list returns outside documents announce it here. */
  readonly lists?: { changed(change: ListChange): void }
}

/**
 * Answers a non-upgrade HTTP request; resolves false when it did not handle it (the server then
 * answers 404 with a JSON error).
 */
export type HttpRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HttpContext,
) => boolean | Promise<boolean>
