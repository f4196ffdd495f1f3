import type { IncomingMessage, ServerResponse } from 'node:http'
import { isValidId } from '@cardfile/core'
import type { Actor } from '@cardfile/core'
import { createLocalCache } from '../coordination/cache'
import type { Coordination } from '../coordination/coordination'
import { createKeyedLock } from '../coordination/keyed-lock'
import type { DocumentHost } from '../document-host'
import type { Extension } from '../extensions/extension'
import type { HttpContext } from '../http/http-context'
import { sendError, sendJson } from '../http/http-error'
import { MAX_BODY_BYTES, readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { inboundBody } from './inbound-body'
import type { Backend } from '../backend'
import { errorContext, errorForConsole } from '../sync/logger'
import { ingestInbound, storageDirectory } from './inbound'
import type { InboundContext } from './inbound'
import type { InboundResult } from './inbound-log'

/** Channel ingestion for server-side callers: exactly what `POST /api/<ws>/inbound` does. */
export interface Ingestion {
  /** Validates `body` (an inbound message) and ingests it as the system `actor`. */
  ingest(workspace: string, actor: Actor, body: unknown): Promise<InboundResult>
}

/**
 * Ingestion over the server's parts: the index finds contacts, the storage's inbound log
 * answers retried messages, and the coordination lock serialises each channel identity.
 *
 * @example
 * const ingestion = createIngestion({ host: server.host, backend, coordination })
 * await ingestion.ingest('demo', systemActor, { channel: 'x', platformUserId: '42', metadata: {}, message: { text: 'Hi' } })
 */
export function createIngestion(deps: {
  readonly host: DocumentHost
  readonly backend: Backend
  readonly coordination?: Coordination
}): Ingestion {
  const context: InboundContext = {
    host: deps.host,
    directory: storageDirectory(deps.backend),
    lock: deps.coordination?.locks ?? createKeyedLock(),
    seeded: deps.coordination?.cache<true>('seeded-workspaces') ?? createLocalCache<true>(),
    log: deps.backend.inbound,
  }
  return {
    ingest(workspace, actor, body) {
      return ingestInbound(context, workspace, actor, parseInput(inboundBody, body, 'body'))
    },
  }
}

/**
 * Channel ingestion as an extension: `POST /api/<workspace>/inbound` for system principals
 * (one inbound message finds or creates its contact and lands in its open conversation), and
 * the erasure of a contact's entries in the inbound log.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [ingestionExtension()] })
 */
export function ingestionExtension(): Extension {
  return {
    name: 'ingestion',
    start({ host, backend, coordination }) {
      const ingestion = createIngestion({ host, backend, coordination })
      const routes = async (
        req: IncomingMessage,
        res: ServerResponse,
        ctx: HttpContext,
      ): Promise<boolean> => {
        const url = new URL(req.url ?? '/', 'http://localhost')
        const [api, workspace, resource, ...more] = url.pathname.split('/').slice(1)
        if (api !== 'api' || resource !== 'inbound' || more.length > 0) return false
        if (workspace === undefined || !isValidId(workspace)) return false
        try {
          allowMethods(req.method ?? 'GET', ['POST'], url.pathname)
          const who = await ctx.principal(req, workspace)
          requireRole(who, ['system'], 'ingest channel messages')
          const body = await readJsonBody(req, MAX_BODY_BYTES)
          const actor: Actor =
            who.name === undefined
              ? { userId: who.userId, role: who.role }
              : { userId: who.userId, role: who.role, name: who.name }
          sendJson(res, 200, await ingestion.ingest(workspace, actor, body))
        } catch (error) {
          sendError(res, error, (e: unknown) =>
            ctx.logger === undefined
              ? console.error('cardfile ingestion:', errorForConsole(e))
              : ctx.logger.error('ingestion failed', errorContext(e)),
          )
        }
        return true
      }
      return {
        routes,
        onContactErased: ({ workspace, contactId }) =>
          backend.inbound.forgetContact(workspace, contactId),
      }
    },
  }
}
