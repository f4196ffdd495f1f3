import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCardfileClient } from '@cardfile/core'
import type { CardfileClient, Role } from '@cardfile/core'
import { WebSocket } from 'ws'
import { httpApi } from '../src/http/create-http-api'
import { createCardfileServer } from '../src/server'
import type { CardfileServer, CardfileServerOptions } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { SqliteBackend } from '../src/storage/sqlite-backend'
import { signToken } from '../src/tokens'

/**
 * Harness of the linking and routing tests: a real server on port 0 over a SQLite file in a
 * temp folder, the HTTP API, real SDK clients over `ws`. `close()` tears everything down.
 */

export const SECRET = 'linking-test-secret-long-enough-for-hs256'
export const WS = 'acme'

export interface Harness {
  readonly server: CardfileServer
  readonly backend: SqliteBackend
  readonly url: string
  /** Calls the HTTP API as `role`; answers status and JSON body. */
  api(
    role: Role,
    method: string,
    path: string,
    body?: unknown,
    userId?: string,
  ): Promise<{ status: number; json: Record<string, unknown> }>
  /** Ingests one inbound message as the system. */
  inbound(body: {
    channel: string
    platformUserId: string
    metadata?: Record<string, string>
    text?: string
    id?: string
  }): Promise<{ contactId: string; conversationId: string; createdContact: boolean }>
  /** An SDK client acting as `userId` with `role`. */
  client(role: Role, userId?: string): Promise<CardfileClient>
  close(): Promise<void>
}

export async function startHarness(
  options: Pick<
    CardfileServerOptions,
    'route' | 'botHandoff' | 'scoring' | 'logger' | 'crm' | 'liveLists' | 'multiplex'
  > = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-linking-'))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    logger: { warn: () => undefined },
    httpHandler: httpApi({ onError: () => undefined }),
    ...options,
  })
  const clients: CardfileClient[] = []
  const token = (role: Role, userId = `${role}-1`) =>
    signToken({ secret: SECRET, userId, workspace: WS, role })

  const api: Harness['api'] = async (role, method, path, body, userId) => {
    const response = await fetch(`${server.url}/api/${WS}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(role, userId)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, json: (await response.json()) as Record<string, unknown> }
  }

  return {
    server,
    backend,
    url: server.url,
    api,
    async inbound(body) {
      const { status, json } = await api('system', 'POST', '/inbound', {
        channel: body.channel,
        platformUserId: body.platformUserId,
        metadata: body.metadata ?? {},
        message: { text: body.text ?? 'hello', ...(body.id === undefined ? {} : { id: body.id }) },
      })
      if (status !== 200) throw new Error(`inbound failed: ${status} ${JSON.stringify(json)}`)
      return json as { contactId: string; conversationId: string; createdContact: boolean }
    },
    async client(role, userId = `${role}-1`) {
      const client = createCardfileClient({
        url: server.wsUrl,
        workspace: WS,
        token: await token(role, userId),
        WebSocket,
        indexedDB: false,
        keepAliveMs: 0,
      })
      clients.push(client)
      return client
    },
    async close() {
      for (const c of clients) await c.destroy()
      await server.close()
      await backend.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The ids of a list answer's items. */
export const idsOf = (json: Record<string, unknown>): string[] =>
  (json.items as { id: string }[]).map((i) => i.id)
