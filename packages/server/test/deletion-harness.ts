import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContactDoc, SchemaDoc, contactDocName, schemaDocName } from '@cardfile/core'
import type { Actor, CreateAttributeInput, Plan, Role } from '@cardfile/core'
import { afterEach } from 'vitest'
import type { BlobStore } from '../src/blobs/blob-store'
import { createFsBlobStore } from '../src/blobs/fs-blob-store'
import type { ContactErasureHook } from '../src/deletion/contact-erasure'
import type { ExportsOptions } from '../src/exports/exports-extension'
import { httpApi } from '../src/http/create-http-api'
import type { InboundResult } from '../src/ingestion/inbound-log'
import { within } from '../src/http/within'
import { createCardfileServer } from '../src/server'
import type { CardfileServer } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { SqliteBackend } from '../src/storage/sqlite-backend'
import { signToken } from '../src/tokens'

export { slowDisk } from './slow-disk'

/**
 * A real server for the deletion and export tests: SQLite file, attachment and export folders
 * in a temp dir, the HTTP API, and every log line (server, backend, HTTP errors) captured.
 */

export const SECRET = 'deletion-test-secret-long-enough-for-hs256'
export const WORKSPACE = 'acme'
export const ADMIN: Actor = { userId: 'ana', role: 'admin', name: 'Ana Admin' }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export interface PrivacyServer {
  readonly server: CardfileServer
  readonly backend: SqliteBackend
  readonly url: string
  readonly dir: string
  readonly dbPath: string
  readonly attachmentsDir: string
  readonly exportsDir: string
  /** Every log call, as text. */
  readonly logs: string[]
  /** Closes the server and storage (idempotent), so files can be read at rest. */
  stop(): Promise<void>
}

export async function startPrivacyServer(
  options: {
    plan?: Plan
    onContactErased?: ContactErasureHook
    exports?: ExportsOptions
    /** Wraps the export folder's blob store (a slow disk). */
    blobs?: (folder: BlobStore) => BlobStore
  } = {},
): Promise<PrivacyServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-privacy-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const logs: string[] = []
  const capture =
    (level: string) =>
    (message: string, context?: Record<string, unknown>): void => {
      logs.push(`${level} ${message} ${JSON.stringify(context ?? {})}`)
    }
  const logger = {
    debug: capture('debug'),
    info: capture('info'),
    warn: capture('warn'),
    error: capture('error'),
  }
  const dbPath = join(dir, 'cardfile.db')
  const attachmentsDir = join(dir, 'files')
  const exportsDir = join(dir, 'exports')
  const folder = createFsBlobStore(exportsDir)
  const blobs = options.blobs === undefined ? folder : options.blobs(folder)
  const backend = createSqliteBackend({ path: dbPath, attachmentsDir, logger, blobs })
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    logger,
    ...(options.exports === undefined ? {} : { exports: options.exports }),
    ...(options.onContactErased === undefined
      ? {}
      : { deletion: { onContactErased: options.onContactErased } }),
    httpHandler: httpApi({
      onError: (error) => logs.push(`http ${String(error)} ${(error as Error).stack ?? ''}`),
    }),
  })
  let stopped: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await server.close()
      await backend.close()
    })()
    return stopped
  }
  cleanups.push(stop)
  const running: PrivacyServer = {
    server,
    backend,
    url: server.url,
    dir,
    dbPath,
    attachmentsDir,
    exportsDir,
    logs,
    stop,
  }
  if (options.plan !== undefined)
    await updateSchema(running, (s) => s.updateSettings({ plan: options.plan }))
  return running
}

export const tokenFor = (role: Role, userId = `${role}-1`, name?: string): Promise<string> =>
  signToken({ secret: SECRET, userId, workspace: WORKSPACE, role, ...(name ? { name } : {}) })

export interface ApiAnswer {
  readonly status: number
  readonly json: Record<string, unknown>
  readonly text: string
  readonly headers: Headers
}

/** Calls the HTTP API. */
export async function api(
  running: PrivacyServer,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const response = await fetch(`${running.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  let json: Record<string, unknown> = {}
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    json = JSON.parse(text) as Record<string, unknown>
  }
  return { status: response.status, json, text, headers: response.headers }
}

/** Ingests one inbound message as the channel system. */
export async function ingest(running: PrivacyServer, body: unknown): Promise<InboundResult> {
  const answer = await api(
    running,
    'POST',
    `/api/${WORKSPACE}/inbound`,
    await tokenFor('system'),
    body,
  )
  if (answer.status !== 200) throw new Error(`ingest failed: ${answer.text}`)
  return answer.json as unknown as InboundResult
}

/** Changes the workspace schema as the server (trusted). */
export async function updateSchema<T>(
  running: PrivacyServer,
  change: (schema: SchemaDoc) => T,
): Promise<T> {
  return running.server.host.transact(schemaDocName(WORKSPACE), ADMIN, (doc) =>
    within(new SchemaDoc(doc), change),
  )
}

/** Creates a custom attribute; resolves its id. */
export async function createAttribute(
  running: PrivacyServer,
  input: CreateAttributeInput,
): Promise<string> {
  return updateSchema(running, (s) => s.createAttribute(input).id)
}

/** Sets custom values on a contact as the admin. */
export async function setValues(
  running: PrivacyServer,
  contactId: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  const view = await running.server.host.read(schemaDocName(WORKSPACE), (doc) =>
    within(new SchemaDoc(doc), (s) => s.view()),
  )
  await running.server.host.transact(contactDocName(WORKSPACE, contactId), ADMIN, (doc) =>
    within(new ContactDoc(doc, contactId), (contact) => {
      for (const [id, value] of Object.entries(values)) contact.setValue(id, value, ADMIN, view)
    }),
  )
}
