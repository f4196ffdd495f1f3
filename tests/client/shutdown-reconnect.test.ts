import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { SchemaDoc } from '@cardfile/core'
import { createCardfileServer } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { CardfileServer, Backend } from '@cardfile/server'
import { SECRET, connectClient, createPlan, token } from './harness'

/**
 * A server stopped with `close()` (what SIGTERM does in `cardfile serve`) and started again on
 * the same port over the same backend: clients must treat the 1001 as transient and come back.
 */

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

/** A memory backend whose appends can be held, so a commit can be caught in flight. */
function gatedStorage(): { backend: Backend; hold(): void; release(): void; held(): number } {
  const backend = createMemoryBackend()
  const append = backend.documents.append.bind(backend.documents)
  let gate: Promise<void> | null = null
  let open: () => void = () => undefined
  let waiting = 0
  Object.assign(backend.documents, {
    append: async (...args: Parameters<Backend['documents']['append']>) => {
      if (gate !== null) {
        waiting++
        await gate
        waiting--
      }
      return append(...args)
    },
  })
  return {
    backend,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve))
    },
    release: () => {
      gate = null
      open()
    },
    held: () => waiting,
  }
}

async function serve(backend: Backend, port = 0): Promise<CardfileServer> {
  return createCardfileServer({
    backend,
    auth: { secret: SECRET },
    port,
    host: '127.0.0.1',
    autoCreateWorkspaces: 'advanced',
  })
}

describe('a server restart', () => {
  it('flushes in-flight commits, closes with 1001, and both clients reconnect to the new server', async () => {
    const gated = gatedStorage()
    cleanups.push(() => gated.backend.close())
    let server = await serve(gated.backend)
    cleanups.push(() => server.close())
    const port = server.port

    const admin = await connectClient(server.wsUrl, 'ana', 'admin')
    const plan = await createPlan(admin)
    const contact = admin.contact('c1')
    await contact.whenSynced()

    const stockDoc = new Y.Doc()
    const stock = new WebsocketProvider(server.wsUrl, 'demo/schema', stockDoc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token: await token('bo', 'admin') },
    })
    cleanups.push(() => stock.destroy())
    const stockCloses: number[] = []
    stock.on('connection-close', (event: CloseEvent | null) => {
      if (event !== null) stockCloses.push(event.code)
    })
    await expect.poll(() => stock.synced).toBe(true)

    // A change the server has received but not yet committed when the shutdown starts.
    gated.hold()
    contact.setValue(plan, 'pro')
    await expect.poll(() => gated.held()).toBeGreaterThan(0)
    expect(contact.status().saved).toBe(false)
    const closing = server.close()
    // Sockets stay open while the commit is in flight, so its ack can still reach the client.
    await expect.poll(() => server.connectionCount()).toBeGreaterThan(0)
    gated.release()
    await closing
    // Acknowledged before the close: no server is there to acknowledge it now.
    await expect.poll(() => contact.status().pending).toBe(0)
    await expect.poll(() => stockCloses).toContain(1001)
    await expect.poll(() => contact.status().status).not.toBe('synced')
    expect(contact.error()).toBeNull()

    server = await serve(gated.backend, port)
    await expect.poll(() => stock.wsconnected, { timeout: 10_000 }).toBe(true)
    await expect.poll(() => stock.synced, { timeout: 10_000 }).toBe(true)
    await expect.poll(() => contact.status().status, { timeout: 10_000 }).toBe('synced')

    // Both work against the new server: the value committed before the restart is there, a new
    // one is acknowledged, and a stock edit reaches the Cardfile client.
    expect(contact.read().custom[plan]?.value).toBe('pro')
    contact.setValue(plan, 'free')
    await expect.poll(() => contact.status().saved).toBe(true)
    const tier = new SchemaDoc(stockDoc).createAttribute({ label: 'Tier', type: 'text' })
    const schema = admin.schema()
    await expect.poll(() => schema.schema.definition(tier.id)?.label).toBe('Tier')
    schema.release()
  })
})
