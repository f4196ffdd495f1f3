import { ContactDoc, ConversationDoc, SchemaDoc } from '@cardfile/core'
import type { Actor, Role } from '@cardfile/core'
import { createCardfileServer } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { PurgeNotice, RefusalNotice } from '@cardfile/core'
import type { CardfileServer, CardfileServerOptions, Backend } from '@cardfile/server'
import { SignJWT } from 'jose'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebSocket } from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

export const SECRET = 'test-secret-that-is-long-enough-for-hs256'
export const SYSTEM: Actor = { userId: 'system', role: 'system' }

/** Signs a token; `expiresIn` in seconds (negative for an expired one). */
export async function makeToken(
  claims: { user: string; role: Role; workspace?: string; name?: string },
  options: { secret?: string; expiresIn?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    workspace: claims.workspace ?? 'demo',
    role: claims.role,
    name: claims.name ?? claims.user,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.user)
    .setIssuedAt(now - 120)
    .setExpirationTime(now + (options.expiresIn ?? 3600))
    .sign(new TextEncoder().encode(options.secret ?? SECRET))
}

export interface TestServer {
  readonly server: CardfileServer
  readonly backend: Backend
  close(): Promise<void>
}

/** Starts a server on a free port with memory storage (unless one is given). */
export async function startServer(
  options: Partial<CardfileServerOptions> = {},
): Promise<TestServer> {
  const backend = options.backend ?? createMemoryBackend()
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    auth: { secret: SECRET },
    logger: { warn: () => undefined },
    ...options,
    backend,
  })
  return {
    server,
    backend,
    close: async () => {
      await server.close()
      if (options.backend === undefined) await backend.close()
    },
  }
}

/** A hand-written client: raw ws + y-protocols, its own Y.Doc, no SDK checks at all. */
export interface RawClient {
  readonly ws: WebSocket
  readonly doc: Y.Doc
  readonly refusals: RefusalNotice[]
  readonly acks: Uint8Array[]
  readonly purges: PurgeNotice[]
  /** Generations named by the server's hellos (type 103). */
  readonly hellos: string[]
  /** Features announced by the server's hellos (none for a hello without the field). */
  readonly features: (readonly string[])[]
  readonly types: number[]
  synced: boolean
  closeInfo: { code: number; reason: string } | null
  readonly closed: Promise<{ code: number; reason: string }>
  send(bytes: Uint8Array): void
  /** True when the latest ack covers everything in this client's doc. */
  saved(): boolean
  close(): void
}

const REMOTE = Symbol('remote')

export function syncUpdateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  syncProtocol.writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** Connects a raw client; resolves once the socket is open. */
export async function connectRaw(
  server: Pick<CardfileServer, 'wsUrl'>,
  docName: string,
  token: string | null,
  options: { cardfile?: boolean; path?: string; generation?: string; doc?: Y.Doc } = {},
): Promise<RawClient> {
  const params = new URLSearchParams()
  if (token !== null) params.set('token', token)
  if (options.cardfile ?? true) params.set('cardfile', '1')
  if (options.generation !== undefined) params.set('generation', options.generation)
  const ws = new WebSocket(`${server.wsUrl}/${options.path ?? docName}?${params.toString()}`)
  ws.binaryType = 'nodebuffer'
  // A given doc: a client reconnecting with the state it kept (and edited) while offline.
  const doc = options.doc ?? new Y.Doc()
  let resolveClosed: (info: { code: number; reason: string }) => void = () => undefined
  const client: RawClient = {
    ws,
    doc,
    refusals: [],
    acks: [],
    purges: [],
    hellos: [],
    features: [],
    types: [],
    synced: false,
    closeInfo: null,
    closed: new Promise((resolve) => {
      resolveClosed = resolve
    }),
    send: (bytes) => {
      if (ws.readyState === ws.OPEN) ws.send(bytes)
    },
    saved: () => {
      const ack = client.acks.at(-1)
      if (ack === undefined) return false
      const acked = Y.decodeStateVector(ack)
      for (const [clientId, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
        if ((acked.get(clientId) ?? 0) < clock) return false
      }
      return true
    },
    close: () => ws.close(),
  }
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) client.send(syncUpdateMessage(update))
  })
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    const type = decoding.readVarUint(decoder)
    client.types.push(type)
    switch (type) {
      case 0: {
        const encoder = encoding.createEncoder()
        encoding.writeVarUint(encoder, 0)
        const syncType = syncProtocol.readSyncMessage(decoder, encoder, doc, REMOTE)
        if (syncType === 1) client.synced = true
        if (encoding.length(encoder) > 1) client.send(encoding.toUint8Array(encoder))
        break
      }
      case 100:
        client.acks.push(decoding.readVarUint8Array(decoder))
        break
      case 101:
        client.refusals.push(JSON.parse(decoding.readVarString(decoder)) as RefusalNotice)
        break
      case 102:
        client.purges.push(JSON.parse(decoding.readVarString(decoder)) as PurgeNotice)
        break
      case 103: {
        const hello = JSON.parse(decoding.readVarString(decoder)) as {
          generation: string
          features?: string[]
        }
        client.hellos.push(hello.generation)
        client.features.push(hello.features ?? [])
        break
      }
      default:
        break
    }
  })
  ws.on('close', (code, reason) => {
    client.closeInfo = { code, reason: reason.toString() }
    resolveClosed(client.closeInfo)
  })
  ws.on('error', () => undefined)
  await new Promise<void>((resolve) => {
    ws.once('open', () => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 0)
      syncProtocol.writeSyncStep1(encoder, doc)
      ws.send(encoding.toUint8Array(encoder))
      resolve()
    })
    ws.once('close', () => resolve())
  })
  return client
}

/** Connects and waits until the client has the server's state. */
export async function connectSynced(
  server: Pick<CardfileServer, 'wsUrl'>,
  docName: string,
  token: string,
  options: { cardfile?: boolean; generation?: string; doc?: Y.Doc } = {},
): Promise<RawClient> {
  const client = await connectRaw(server, docName, token, options)
  await expectPoll(() => client.synced || client.closeInfo !== null)
  if (client.closeInfo !== null) {
    throw new Error(`closed ${client.closeInfo.code} ${client.closeInfo.reason}`)
  }
  return client
}

/** Polls until `check` is true (no fixed sleeps). */
export async function expectPoll(check: () => boolean, timeout = 5000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeout) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * {@link startServer} with the demo workspace seeded ({@link seedDemo}); closes the server
 * again if seeding fails, so a failing test leaves nothing running.
 */
export async function startSeededServer(
  options: Partial<CardfileServerOptions> = {},
): Promise<TestServer> {
  const t = await startServer(options)
  try {
    await seedDemo(t.server)
  } catch (error) {
    await t.close()
    throw error
  }
  return t
}

/**
 * Sets up workspace `demo`: a dropdown `plan` (gold, silver), a text `note` (max 10), a
 * CRM-managed text `crm_tier`, matching on email, and contact `c1` with an email profile.
 */
export async function seedDemo(server: CardfileServer): Promise<void> {
  await editSchema(server, 'demo', (s) => {
    s.createAttribute({
      id: 'plan',
      label: 'Plan',
      type: 'dropdown',
      options: [
        { id: 'gold', label: 'Gold' },
        { id: 'silver', label: 'Silver' },
      ],
    })
    s.createAttribute({ id: 'note', label: 'Note', type: 'text', maxLength: 10 })
    s.createAttribute({ id: 'crm_tier', label: 'Tier', type: 'text', crmManaged: true })
    s.updateSettings({ matchingAttribute: 'email' })
  })
  const view = await server.host.read('demo/schema', (doc) => new SchemaDoc(doc).view())
  await server.host.transact('demo/contact/c1', SYSTEM, (doc) => {
    const contact = new ContactDoc(doc, 'c1')
    contact.setProfile({
      channel: 'email',
      platformUserId: 'ana@example.com',
      hint: 'an***@example.com',
      createdAt: 1_700_000_000_000,
    })
    contact.setPlatformValue('email', 'ana@example.com', SYSTEM, view)
    contact.setValue('plan', 'silver', SYSTEM, view)
  })
}

/** Edits a workspace schema with SchemaDoc through the host, as one transaction. */
export async function editSchema(
  server: CardfileServer,
  workspace: string,
  change: (schema: SchemaDoc) => unknown,
): Promise<void> {
  await server.host.transact(`${workspace}/schema`, SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    try {
      change(schema)
    } finally {
      schema.destroy()
    }
  })
}

/**
 * Starts email conversation `v1` of contact `c1` in `workspace` through the host, as `actor`
 * (status new, no team, priority 0): what a first inbound message creates.
 */
export async function startConversationV1(
  server: CardfileServer,
  workspace: string,
  actor: Actor = SYSTEM,
): Promise<void> {
  await server.host.transact(`${workspace}/conversation/v1`, actor, (doc) => {
    const conversation = new ConversationDoc(doc, 'v1')
    try {
      conversation.init({
        contactId: 'c1',
        channel: 'email',
        status: 'new',
        team: null,
        priority: 0,
        createdAt: Date.now(),
      })
    } finally {
      conversation.destroy()
    }
  })
}

/** A FieldValue as written by `actor` now. */
export const fieldValue = <T>(value: T, actor: { role: Role; userId: string }) => ({
  value,
  by: { role: actor.role, userId: actor.userId, at: Date.now() },
})

/** Rebuilds a document from what storage holds. */
export async function loadFromStorage(backend: Backend, docName: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  for (const update of await backend.documents.load(docName)) Y.applyUpdate(doc, update)
  return doc
}
