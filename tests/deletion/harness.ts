import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { SchemaDoc, schemaDocName } from '@cardfile/core'
import type { Actor, CardfileClient, Role } from '@cardfile/core'
import { createCardfileServer, httpApi, signToken } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import type { SqliteBackend } from '@cardfile/server/sqlite'
import type { CardfileServer, InboundResult } from '@cardfile/server'
import { SECRET, WORKSPACE, connectClient } from '../client/harness'

/**
 * A real server with the HTTP API on a SQLite file, for the deletion and export tests across
 * packages; clients come from the client harness (real sockets, fake-indexeddb).
 */

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export interface ApiServer {
  readonly server: CardfileServer
  readonly backend: SqliteBackend
  /** HTTP base URL. */
  readonly url: string
  /** Websocket URL. */
  readonly wsUrl: string
}

export async function startApiServer(): Promise<ApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-deletion-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    httpHandler: httpApi({ onError: () => undefined }),
  })
  cleanups.push(() => server.close())
  return { server, backend, url: server.url, wsUrl: server.wsUrl }
}

export const httpToken = (role: Role, userId = `${role}-1`, name?: string): Promise<string> =>
  signToken({ secret: SECRET, userId, workspace: WORKSPACE, role, ...(name ? { name } : {}) })

/** Edits the workspace's schema on the server, as the system unless `actor` is given. */
export function editSchema(
  running: ApiServer,
  edit: (schema: SchemaDoc) => void,
  actor: Actor = { userId: 'system', role: 'system' },
): Promise<void> {
  return running.server.host.transact(schemaDocName(WORKSPACE), actor, (doc) => {
    const schema = new SchemaDoc(doc)
    try {
      edit(schema)
    } finally {
      schema.destroy()
    }
  })
}

/** Ingests one message as the channel system; resolves the contact and conversation ids. */
export async function ingest(running: ApiServer, body: unknown): Promise<InboundResult> {
  const response = await fetch(`${running.url}/api/${WORKSPACE}/inbound`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await httpToken('system')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`ingest failed: ${await response.text()}`)
  return (await response.json()) as InboundResult
}

/** Ingests a first message, "hi", from the X user `platformUserId` whose handle is `@handle`. */
export const ingestFromX = (
  running: ApiServer,
  platformUserId: string,
  handle: string,
): Promise<InboundResult> =>
  ingest(running, {
    channel: 'x',
    platformUserId,
    metadata: { x_handle: `@${handle}` },
    message: { text: 'hi' },
  })

/** A client of the test server (the hooks reach its HTTP API through `client.apiEndpoint()`). */
export async function apiClient(
  running: ApiServer,
  userId: string,
  role: Role,
  options: { device?: string; name?: string; listPollMs?: number } = {},
): Promise<CardfileClient> {
  // The token carries the display name: the server records who deleted from the token.
  const { name, ...rest } = options
  const token = await httpToken(role, userId, name ?? userId)
  return connectClient(running.wsUrl, userId, role, { ...rest, token })
}

export { WORKSPACE }
