import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectionEvent, ConnectionStatus } from '@cardfile/core'
import { createCardfileServer } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { CardfileServer, Backend } from '@cardfile/server'
import { SECRET, connectClient, startServer, token } from './harness'

/** Servers this file starts itself (to stop and restart one on the same port). */
const servers: CardfileServer[] = []
afterEach(async () => {
  while (servers.length > 0) await servers.pop()?.close()
})

async function serve(backend: Backend, port = 0): Promise<CardfileServer> {
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port,
    host: '127.0.0.1',
  })
  servers.push(server)
  return server
}

const portOf = (url: string): number => Number(new URL(url).port)

describe('client.connectionStatus()', () => {
  it('says idle, never synced, while no document is open', async () => {
    const { url } = await startServer()
    const client = await connectClient(url, 'bo', 'agent')
    expect(client.connectionStatus()).toBe('idle')
    const contact = client.contact('c1')
    await expect.poll(() => client.connectionStatus()).toBe('synced')
    contact.release()
    await expect.poll(() => client.connectionStatus()).toBe('idle')
  })

  it('says connecting while the first token is on its way, then syncing and synced', async () => {
    const { url } = await startServer()
    let give: (t: string) => void = () => undefined
    const client = await connectClient(url, 'bo', 'agent', {
      getToken: () => new Promise<string>((resolve) => (give = resolve)),
    })
    const seen: ConnectionStatus[] = []
    client.subscribe(() => seen.push(client.connectionStatus()))
    const contact = client.contact('c1')
    expect(client.connectionStatus()).toBe('connecting')
    give(await token('bo', 'agent'))
    await expect.poll(() => client.connectionStatus()).toBe('synced')
    expect(seen).toContain('syncing')
    expect(seen.indexOf('syncing')).toBeLessThan(seen.lastIndexOf('synced'))
    contact.release()
  })

  it('says offline after disconnect() and synced again after connect()', async () => {
    const { url } = await startServer()
    const client = await connectClient(url, 'bo', 'agent')
    const contact = client.contact('c1')
    await expect.poll(() => client.connectionStatus()).toBe('synced')
    client.disconnect()
    expect(client.connectionStatus()).toBe('offline')
    client.connect()
    await expect.poll(() => client.connectionStatus()).toBe('synced')
    contact.release()
  })

  it('says reconnecting when the server goes away, and tells listeners lost then restored', async () => {
    const backend = createMemoryBackend()
    const first = await serve(backend)
    const client = await connectClient(first.wsUrl, 'bo', 'agent')
    const events: ConnectionEvent[] = []
    client.onConnectionEvent((event) => events.push(event))
    const contact = client.contact('c1')
    await expect.poll(() => client.connectionStatus()).toBe('synced')
    const seen: ConnectionStatus[] = []
    client.subscribe(() => seen.push(client.connectionStatus()))
    await first.close()
    await expect.poll(() => client.connectionStatus()).toBe('reconnecting')
    expect(events).toEqual(['lost'])
    // a retry after a drop is not a first attempt
    expect(seen).not.toContain('connecting')
    await serve(backend, portOf(first.wsUrl))
    await expect.poll(() => client.connectionStatus(), { timeout: 15_000 }).toBe('synced')
    expect(events).toEqual(['lost', 'restored'])
    contact.release()
  })

  it('says needs-token when the server refuses the token, and recovers with a new one', async () => {
    const { url } = await startServer()
    const good = await token('bo', 'agent')
    // Signed with another secret: well-formed, names the user, refused by the server.
    const { SignJWT } = await import('jose')
    const now = Math.floor(Date.now() / 1000)
    const forged = await new SignJWT({ workspace: 'demo', role: 'agent', name: 'bo' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('bo')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode('not-the-secret'))
    const tokens = [forged, good]
    const client = await connectClient(url, 'bo', 'agent', {
      getToken: () => tokens.shift() ?? good,
    })
    const events: ConnectionEvent[] = []
    client.onConnectionEvent((event) => events.push(event))
    const contact = client.contact('c1')
    await expect.poll(() => client.connectionStatus()).toBe('needs-token')
    expect(events).toEqual(['needs-token'])
    expect(contact.status().needsToken).toBe(true)
    expect(contact.error()?.code).toBe('unauthorized')
    await client.refreshToken()
    await expect.poll(() => client.connectionStatus()).toBe('synced')
    expect(contact.status().needsToken).toBe(false)
    contact.release()
  })

  it('says needs-token when getToken fails', async () => {
    const { url } = await startServer()
    const client = await connectClient(url, 'bo', 'agent', {
      getToken: () => Promise.reject(new Error('signed out')),
    })
    const contact = client.contact('c1')
    await expect.poll(() => client.connectionStatus()).toBe('needs-token')
    contact.release()
  })
})
