import 'fake-indexeddb/auto'
import { TextEncoder as NodeTextEncoder } from 'node:util'
import { SignJWT } from 'jose'
import { afterEach, expect } from 'vitest'
import WebSocket from 'ws'
import { createCardfileClient } from '@cardfile/core'
import type { CardfileClient, CardfileClientOptions, Role } from '@cardfile/core'
import { createCardfileServer } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { CardfileServer } from '@cardfile/server'

/**
 * Test harness: a real Cardfile server on a free port, real `ws` sockets, IndexedDB from
 * fake-indexeddb. Everything started here is torn down after each test.
 */
// Under jsdom the global Uint8Array is jsdom's, while TextEncoder's bytes come from Node's realm,
// so jose's `key instanceof Uint8Array` fails (in the test signer and in the in-process server's
// verifier). Re-wrap the bytes in the global Uint8Array; under plain Node this changes nothing.
class SameRealmTextEncoder extends NodeTextEncoder {
  override encode(input?: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(super.encode(input))
  }
}
globalThis.TextEncoder = SameRealmTextEncoder

const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

export const SECRET = 'cardfile-test-secret'
export const WORKSPACE = 'demo'

/** Every socket a test client opened, to prove none is left open. */
export const sockets = new Set<WebSocket>()

/** `ws`, counting its instances. */
export class CountingWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols)
    sockets.add(this)
  }
}

/** Sockets not closed yet (connecting, open or closing). */
export const openSockets = (): number =>
  [...sockets].filter((s) => s.readyState !== WebSocket.CLOSED).length

export interface TestServer {
  readonly server: CardfileServer
  readonly url: string
}

/** Starts a server with a fresh in-memory store, on `port` when given (a free one otherwise). */
export async function startServer(options: { port?: number } = {}): Promise<TestServer> {
  const backend = createMemoryBackend()
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: options.port ?? 0,
  })
  cleanups.push(async () => {
    await server.close()
    await backend.close()
  })
  return { server, url: server.wsUrl }
}

/** Signs a token the test server accepts. */
export async function token(
  userId: string,
  role: Role,
  options: { expiresInSeconds?: number; name?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ workspace: WORKSPACE, role, name: options.name ?? userId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
    .sign(new TextEncoder().encode(SECRET))
}

let devices = 0

/**
 * A client as one device would run it. `device` names its IndexedDB (two clients with the same
 * device share a local copy, as two page loads in one browser do).
 */
export async function connectClient(
  url: string,
  userId: string,
  role: Role,
  options: Partial<CardfileClientOptions> & { device?: string } = {},
): Promise<CardfileClient> {
  const { device, ...rest } = options
  const client = createCardfileClient({
    url,
    workspace: WORKSPACE,
    token: rest.getToken === undefined ? await token(userId, role) : undefined,
    WebSocket: CountingWebSocket,
    localPrefix: device ?? `device-${++devices}`,
    keepAliveMs: 20,
    undoCaptureMs: 0,
    ...rest,
  })
  cleanups.push(() => client.destroy())
  return client
}

/** An admin creates a Plan dropdown (Free and Pro, then `extra` options) and returns its id. */
export async function createPlan(
  admin: CardfileClient,
  extra: ReadonlyArray<{ readonly id: string; readonly label: string }> = [],
): Promise<string> {
  const schema = admin.schema()
  await schema.whenSynced()
  const plan = schema.schema.createAttribute({
    label: 'Plan',
    type: 'dropdown',
    options: [{ id: 'free', label: 'Free' }, { id: 'pro', label: 'Pro' }, ...extra],
  })
  await expect.poll(() => schema.status().saved).toBe(true)
  schema.release()
  return plan.id
}
